// Storage operation latency (etcd_request_duration_seconds{operation,type}, as kube-apiserver's storage layer reports
// it whatever the backend) around any Storage. Every other method and property passes through untouched, so the
// watch cache's extensions (index hints on watch and list) keep working.
import type { Storage } from '../../storage/interface.ts';
import type { ApiServerMetrics } from './api-server-metrics.ts';

const TIMED: Record<string, string> = {
  get: 'get', list: 'listWithCount', create: 'create', guaranteedUpdate: 'update', delete: 'delete', count: 'count',
};

/** `/registry/pods/ns/name` → `pods`; `/registry/leases/…` → `leases`. */
function resourceOfKey(key: unknown): string {
  if (typeof key !== 'string') return '';
  const parts = key.split('/');
  return parts[1] === 'registry' ? parts[2] ?? '' : parts[1] ?? '';
}

export function instrumentStorage(storage: Storage, metrics: ApiServerMetrics): Storage {
  return new Proxy(storage, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function') return value;
      const operation = typeof property === 'string' ? TIMED[property] : undefined;
      if (!operation) return (value as (...args: unknown[]) => unknown).bind(target);
      return async (...args: unknown[]) => {
        const end = metrics.storageDuration.startTimer({ operation, type: resourceOfKey(args[0]) });
        try {
          return await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        } finally {
          end();
        }
      };
    },
  });
}
