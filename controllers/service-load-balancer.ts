// A simulated cloud load balancer for Services of type LoadBalancer, as kind's cloud provider or MetalLB
// provide: each such service gets an address from the --load-balancer-ip-pool range in
// status.loadBalancer.ingress (ipMode VIP), kept while it is a LoadBalancer and given back when it is not
// (or is deleted). The addresses in use are learnt again from the services' status at start.

import type { KubernetesObject } from '@kubernetes/client-node';
import { loadKubeConfig } from '../clients/keep-alive-kubeconfig.ts';
import { ApiStatusError, JsonApiClient } from '../clients/json-api-client.ts';
import { startLeanInformer, type LeanInformer } from '../clients/lean-informer.ts';
import { componentUserAgent } from '../clients/user-agent.ts';
import { SyncQueue } from './framework/sync-queue.ts';
import { ipv4ToNumber, numberToIPv4 } from '../api/registry/service-ranges.ts';
import type { ControllerLogger } from './node-lifecycle.ts';

interface Service extends KubernetesObject {
  spec?: { type?: string; loadBalancerClass?: string };
  status?: { loadBalancer?: { ingress?: { ip?: string }[] } };
}

/** `10.250.0.0/24` or `10.250.0.10-10.250.0.20`: the addresses handed out, in order. */
export function parseAddressPool(pool: string): { first: number; last: number } {
  const range = /^(\d+\.\d+\.\d+\.\d+)-(\d+\.\d+\.\d+\.\d+)$/.exec(pool);
  if (range) {
    const first = ipv4ToNumber(range[1]);
    const last = ipv4ToNumber(range[2]);
    if (last >= first) return { first, last };
  }
  const cidr = /^(\d+\.\d+\.\d+\.\d+)\/(\d+)$/.exec(pool);
  if (cidr && Number(cidr[2]) >= 8 && Number(cidr[2]) <= 30) {
    const size = 2 ** (32 - Number(cidr[2]));
    const network = ipv4ToNumber(cidr[1]) - (ipv4ToNumber(cidr[1]) % size);
    return { first: network + 1, last: network + size - 2 };
  }
  throw new Error(`--load-balancer-ip-pool: ${pool} is neither an IPv4 CIDR (/8 to /30) nor a range a.b.c.d-e.f.g.h`);
}

export interface LoadBalancerControllerOptions {
  kubeconfigPath: string;
  pool: string;
  logger?: ControllerLogger;
}

export async function runLoadBalancerController(options: LoadBalancerControllerOptions): Promise<{ idle(): Promise<void>; stop(): Promise<void> }> {
  const logger = options.logger ?? { info: console.error, warn: console.error };
  const { first, last } = parseAddressPool(options.pool);
  const client = new JsonApiClient(loadKubeConfig(options.kubeconfigPath), componentUserAgent('cloud-controller-manager'));
  const services = new Map<string, Service>();
  /** address → service key. */
  const holders = new Map<number, string>();

  const sync = async (key: string): Promise<void> => {
    const service = services.get(key);
    const held = [...holders].find(([, holder]) => holder === key)?.[0];
    const wanted = service?.spec?.type === 'LoadBalancer' && !service.spec.loadBalancerClass;
    if (!wanted) {
      if (held !== undefined) {
        holders.delete(held);
        // Room in the pool: services still pending may have it.
        for (const [other, pending] of services) {
          if (pending.spec?.type === 'LoadBalancer' && (pending.status?.loadBalancer?.ingress ?? []).length === 0) queue.add(other);
        }
      }
      if (service && (service.status?.loadBalancer?.ingress ?? []).length > 0) {
        await writeStatus(service, []);
      }
      return;
    }
    let address = held;
    if (address === undefined) {
      for (let candidate = first; candidate <= last; candidate++) if (!holders.has(candidate)) { address = candidate; break; }
      if (address === undefined) {
        logger.warn(`service-lb-controller: ${key}: the load balancer pool ${options.pool} is exhausted`);
        return;
      }
      holders.set(address, key);
    }
    const ip = numberToIPv4(address);
    const current = service!.status?.loadBalancer?.ingress ?? [];
    if (current.length === 1 && current[0].ip === ip) return;
    await writeStatus(service!, [{ ip, ipMode: 'VIP' }]);
  };

  const writeStatus = async (service: Service, ingress: { ip: string; ipMode: string }[]) => {
    const path = `/api/v1/namespaces/${service.metadata?.namespace}/services/${service.metadata?.name}/status`;
    try {
      await client.request('PATCH', path, { status: { loadBalancer: { ingress: ingress.length > 0 ? ingress : null } } }, 'application/merge-patch+json');
    } catch (err) {
      if (!(err instanceof ApiStatusError && err.code === 404)) throw err;
    }
  };

  const queue = new SyncQueue(sync, { onError: (key, err) => logger.warn(`service-lb-controller: ${key}: ${err instanceof Error ? err.message : String(err)}`) });
  const keyOf = (s: Service) => `${s.metadata?.namespace}/${s.metadata?.name}`;
  const changed = (s: Service) => {
    const key = keyOf(s);
    services.set(key, s);
    // Addresses already in a status are the service's (learnt again after a restart).
    for (const entry of s.status?.loadBalancer?.ingress ?? []) {
      const at = entry.ip ? ipv4ToNumber(entry.ip) : NaN;
      if (at >= first && at <= last && !holders.has(at) && s.spec?.type === 'LoadBalancer') holders.set(at, key);
    }
    queue.add(key);
  };
  const informer: LeanInformer = startLeanInformer<Service>(client, '/api/v1/services', undefined, {
    add: changed, update: changed,
    delete: (s) => { services.delete(keyOf(s)); queue.add(keyOf(s)); },
  }, { info: (m) => logger.info(m), error: (m) => logger.warn(m) });
  await informer.synced;
  return {
    idle: () => queue.idle(),
    async stop() {
      queue.stop();
      await informer.stop();
      client.close();
    },
  };
}
