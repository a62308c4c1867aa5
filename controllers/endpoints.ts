// The endpoints controller (pkg/controller/endpoint): for every Service with a selector, an Endpoints
// object of the same name listing the selected pods' addresses, ready ones under `addresses` and the
// others under `notReadyAddresses`, with the service's ports resolved per pod (named target ports
// looked up in the pod's containers), subsets repacked by port set. Deleted with its service.

import { ApiStatusError, type JsonApiClient } from '../clients/json-api-client.ts';
import { SyncQueue } from './framework/sync-queue.ts';
import { podInEndpoints, resolvePort, type PodRecord, type ServiceEndpointSources, type ServiceRecord } from './service-endpoint-sources.ts';

type Json = Record<string, unknown>;
const HEADLESS_LABEL = 'service.kubernetes.io/headless';

function address(pod: PodRecord, service: ServiceRecord, ip: string): Json {
  const out: Json = { ip };
  if (pod.hostname && pod.subdomain === service.name) out.hostname = pod.hostname;
  if (pod.nodeName) out.nodeName = pod.nodeName;
  out.targetRef = { kind: 'Pod', namespace: pod.namespace, name: pod.name, uid: pod.uid };
  return out;
}

/** The desired subsets: one per distinct port set, addresses sorted by IP (RepackSubsets). */
export function desiredSubsets(service: ServiceRecord, pods: PodRecord[]): Json[] {
  const groups = new Map<string, { ports: Json[]; ready: Json[]; notReady: Json[] }>();
  for (const pod of pods) {
    if (!podInEndpoints(pod, service.publishNotReadyAddresses)) continue;
    // podToEndpointAddressForService: the pod's address of the service's primary family; a pod without one is left out.
    const ip = pod.addressOf[service.ipFamilies[0]];
    if (!ip) continue;
    const ports: Json[] = [];
    for (const port of service.ports) {
      // A service port naming no port of this pod is left out for this pod only (upstream logs "Failed to find
      // port for service" and goes on with the next port), so pods serving different ports land in different subsets.
      const number = resolvePort(pod, port);
      if (number === undefined) continue;
      ports.push({ ...(port.name ? { name: port.name } : {}), port: number, protocol: port.protocol, ...(port.appProtocol ? { appProtocol: port.appProtocol } : {}) });
    }
    // No port at all: the pod is in no subset, except for a headless service without ports.
    if (ports.length === 0 && !(service.headless && service.ports.length === 0)) continue;
    const key = JSON.stringify(ports);
    let group = groups.get(key);
    if (!group) groups.set(key, group = { ports, ready: [], notReady: [] });
    const ready = service.publishNotReadyAddresses || (pod.ready && !pod.terminating);
    (ready ? group.ready : group.notReady).push(address(pod, service, ip));
  }
  const byIp = (a: Json, b: Json) => (String(a.ip) < String(b.ip) ? -1 : String(a.ip) > String(b.ip) ? 1 : 0);
  return [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, group]) => ({
    ...(group.ready.length ? { addresses: group.ready.sort(byIp) } : {}),
    ...(group.notReady.length ? { notReadyAddresses: group.notReady.sort(byIp) } : {}),
    ...(group.ports.length ? { ports: group.ports } : {}),
  }));
}

function desiredLabels(service: ServiceRecord): Record<string, string> {
  const labels = { ...service.labels };
  if (service.headless) labels[HEADLESS_LABEL] = '';
  return labels;
}

export class EndpointsController {
  private readonly queue: SyncQueue;

  constructor(private readonly client: JsonApiClient, private readonly sources: ServiceEndpointSources, logger: { warn(m: string): void }, workers = 5) {
    this.queue = new SyncQueue((key) => this.sync(key), { workers, onError: (key, err) => logger.warn(`endpoint-controller: ${key}: ${err instanceof Error ? err.message : String(err)}`) });
    sources.subscribe((key) => this.queue.add(key));
  }

  idle(): Promise<void> {
    return this.queue.idle();
  }

  stop(): void {
    this.queue.stop();
  }

  private async sync(key: string): Promise<void> {
    const [namespace, name] = key.split('/');
    const path = `/api/v1/namespaces/${namespace}/endpoints`;
    const service = this.sources.service(key);
    if (!service) {
      try {
        await this.client.request('DELETE', `${path}/${name}`);
      } catch (err) {
        if (!(err instanceof ApiStatusError && err.code === 404)) throw err;
      }
      return;
    }
    // Services without a selector have their endpoints written by someone else.
    if (!service.selector) return;
    const subsets = desiredSubsets(service, this.sources.podsFor(service));
    const labels = desiredLabels(service);
    let current: Json | undefined;
    try {
      current = await this.client.request<Json>('GET', `${path}/${name}`);
    } catch (err) {
      if (!(err instanceof ApiStatusError && err.code === 404)) throw err;
    }
    // `subsets` is omitempty in the Go type: an Endpoints without addresses has none.
    const content = subsets.length > 0 ? { subsets } : {};
    if (!current) {
      await this.client.request('POST', path, { apiVersion: 'v1', kind: 'Endpoints', metadata: { name, namespace, labels }, ...content });
      return;
    }
    const metadata = (current.metadata ?? {}) as Json;
    if (JSON.stringify(current.subsets ?? []) === JSON.stringify(subsets) && JSON.stringify(metadata.labels ?? {}) === JSON.stringify(labels)) return;
    const { subsets: _old, ...rest } = current;
    void _old;
    await this.client.request('PUT', `${path}/${name}`, { ...rest, metadata: { ...metadata, labels }, ...content });
  }
}
