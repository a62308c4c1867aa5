// The resource quota controller (pkg/controller/resourcequota): every ResourceQuota's status gets
// `hard` = spec.hard and `used` recomputed from the objects of its namespace (pkg/quota evaluators in
// api/quota/usage.ts) — when the quota changes, when counted objects are deleted or change (the
// replenishment controller's part), and on a periodic full resync (--resource-quota-sync-period, 5 m).

import type { KubernetesObject } from '@kubernetes/client-node';
import { loadKubeConfig } from '../clients/keep-alive-kubeconfig.ts';
import { ApiStatusError, JsonApiClient } from '../clients/json-api-client.ts';
import { startLeanInformer, type LeanInformer } from '../clients/lean-informer.ts';
import { componentUserAgent } from '../clients/user-agent.ts';
import { SyncQueue } from './framework/sync-queue.ts';
import type { KubeObject } from '../api/object.ts';
import { quotaScopesMatch } from '../api/quota/scopes.ts';
import { formatQuantity, usageOf, type Usage } from '../api/quota/usage.ts';
import type { ControllerLogger, RunningController } from './node-lifecycle.ts';

interface Quota extends KubernetesObject { spec?: { hard?: Record<string, string> }; status?: { hard?: Record<string, string>; used?: Record<string, string> } }

export interface ResourceQuotaControllerOptions {
  kubeconfigPath: string;
  /** --resource-quota-sync-period (5 m). */
  syncPeriodMs?: number;
  logger?: ControllerLogger;
}

export interface RunningResourceQuotaController extends RunningController {
  idle(): Promise<void>;
}

/** The collection a quota key is computed from: `{ path segment, group/version }`. */
function sourceOf(key: string): { resource: string; group: string; apiPath: string } | undefined {
  if (key === 'pods' || key === 'cpu' || key === 'memory' || key === 'ephemeral-storage' || key.startsWith('requests.') || key.startsWith('limits.')) {
    return { resource: 'pods', group: '', apiPath: '/api/v1' };
  }
  if (key.startsWith('services.')) return { resource: 'services', group: '', apiPath: '/api/v1' };
  const counted = key.startsWith('count/') ? key.slice('count/'.length) : key;
  const dot = counted.indexOf('.');
  if (dot === -1) return { resource: counted, group: '', apiPath: '/api/v1' };
  const group = counted.slice(dot + 1);
  return { resource: counted.slice(0, dot), group, apiPath: `/apis/${group}/v1` };
}

/** Built-in collections whose deletions replenish quota (those kube-controller-manager serves quota for here). */
const REPLENISHED = new Set([
  ...['pods', 'services', 'configmaps', 'secrets', 'replicationcontrollers', 'resourcequotas', 'persistentvolumeclaims', 'podtemplates', 'serviceaccounts']
    .map((r) => `/api/v1/${r}`),
  ...['replicasets', 'deployments', 'statefulsets', 'daemonsets', 'controllerrevisions'].map((r) => `/apis/apps/v1/${r}`),
  ...['jobs', 'cronjobs'].map((r) => `/apis/batch/v1/${r}`),
]);

export async function runResourceQuotaController(options: ResourceQuotaControllerOptions): Promise<RunningResourceQuotaController> {
  const logger = options.logger ?? { info: console.error, warn: console.error };
  const client = new JsonApiClient(loadKubeConfig(options.kubeconfigPath), componentUserAgent('kube-controller-manager'));
  /** namespace → quota names. */
  const quotas = new Map<string, Set<string>>();
  /** `namespace/name` → the latest quota the informer delivered. */
  const latest = new Map<string, Quota>();

  const sync = async (key: string): Promise<void> => {
    const [namespace, name] = key.split('/');
    // The informer's copy, as upstream's lister (the controller's role may list and watch, not get).
    const quota = latest.get(key);
    if (!quota) return;
    const hard = quota.spec?.hard ?? {};
    const sources = new Map<string, { resource: string; group: string; apiPath: string }>();
    for (const resourceKey of Object.keys(hard)) {
      const source = sourceOf(resourceKey);
      if (source) sources.set(`${source.apiPath}/${source.resource}`, source);
    }
    const totals: Usage = {};
    for (const source of sources.values()) {
      let items: KubeObject[] = [];
      try {
        items = (await client.request<{ items?: KubeObject[] }>('GET', `${source.apiPath}/namespaces/${namespace}/${source.resource}`)).items ?? [];
      } catch (err) {
        if (!(err instanceof ApiStatusError && err.code === 404)) throw err;
      }
      for (const item of items) {
        if (!quotaScopesMatch(quota as KubeObject, source.resource, item, source.group)) continue;
        for (const [k, v] of Object.entries(usageOf(source.resource, item, source.group))) totals[k] = (totals[k] ?? 0) + v;
      }
    }
    const used: Record<string, string> = {};
    for (const resourceKey of Object.keys(hard)) used[resourceKey] = formatQuantity(resourceKey, totals[resourceKey] ?? 0);
    if (JSON.stringify(quota.status?.hard ?? {}) === JSON.stringify(hard) && JSON.stringify(quota.status?.used ?? {}) === JSON.stringify(used)) return;
    await client.request('PUT', `/api/v1/namespaces/${namespace}/resourcequotas/${name}/status`, { ...quota, status: { hard, used } });
  };

  const queue = new SyncQueue(sync, { workers: 5, onError: (key, err) => logger.warn(`resourcequota-controller: ${key}: ${err instanceof Error ? err.message : String(err)}`) });
  const enqueueNamespace = (namespace: string | undefined) => {
    for (const name of quotas.get(namespace ?? '') ?? []) queue.add(`${namespace}/${name}`);
  };
  const log = { info: (m: string) => logger.info(m), error: (m: string) => logger.warn(m) };
  const quotaChanged = (quota: Quota) => {
    const namespace = quota.metadata?.namespace ?? '';
    const name = quota.metadata?.name ?? '';
    latest.set(`${namespace}/${name}`, quota);
    watchCounted(quota);
    let names = quotas.get(namespace);
    if (!names) quotas.set(namespace, names = new Set());
    names.add(name);
    queue.add(`${namespace}/${name}`);
  };
  // Replenishment: deleted objects give their namespace's quotas room back (creations are charged by admission),
  // and so do pods reaching a terminal phase; the periodic resync catches the rest. One informer per collection a
  // quota counts, started when the first quota naming it appears (upstream watches every evaluated resource).
  const replenish = (resource: string) => ({
    add: () => undefined,
    update: (o: KubernetesObject & { status?: { phase?: string } }) => {
      if (resource === '/api/v1/pods' && (o.status?.phase === 'Succeeded' || o.status?.phase === 'Failed')) enqueueNamespace(o.metadata?.namespace);
    },
    delete: (o: KubernetesObject) => enqueueNamespace(o.metadata?.namespace),
  });
  const replenishing = new Map<string, LeanInformer>();
  const watchCounted = (quota: Quota) => {
    for (const resourceKey of Object.keys(quota.spec?.hard ?? {})) {
      const source = sourceOf(resourceKey);
      const path = source && `${source.apiPath}/${source.resource}`;
      if (!path || !REPLENISHED.has(path) || replenishing.has(path)) continue;
      replenishing.set(path, startLeanInformer<KubernetesObject>(client, path, undefined, replenish(path), log));
    }
  };
  const informers: LeanInformer[] = [
    startLeanInformer<Quota>(client, '/api/v1/resourcequotas', undefined, {
      add: quotaChanged,
      // The controller's own status writes come back as updates: only spec changes need a recount.
      update: (quota) => {
        latest.set(`${quota.metadata?.namespace}/${quota.metadata?.name}`, quota);
        if (JSON.stringify(quota.spec?.hard ?? {}) !== JSON.stringify(quota.status?.hard ?? {})) quotaChanged(quota);
      },
      delete: (quota) => {
        quotas.get(quota.metadata?.namespace ?? '')?.delete(quota.metadata?.name ?? '');
        latest.delete(`${quota.metadata?.namespace}/${quota.metadata?.name}`);
      },
    }, log),
  ];
  const resync = setInterval(() => {
    for (const [namespace, names] of quotas) for (const name of names) queue.add(`${namespace}/${name}`);
  }, options.syncPeriodMs ?? 300_000);
  resync.unref();
  await Promise.all(informers.map((i) => i.synced));

  return {
    idle: () => queue.idle(),
    async stop() {
      clearInterval(resync);
      queue.stop();
      await Promise.all([...informers, ...replenishing.values()].map((i) => i.stop()));
      client.close();
    },
  };
}
