// The EndpointSlice controller (pkg/controller/endpointslice): for every Service with a selector,
// EndpointSlices of each address type the service has (its ipFamilies: IPv4, IPv6 or both, each pod's address of
// that family) named `<service>-xxxxx`, labelled kubernetes.io/service-name and
// endpointslice.kubernetes.io/managed-by, owned by the service, holding at most 100 endpoints each
// (--max-endpoints-per-slice). Each selected pod with an IP is one endpoint with upstream's conditions
// (ready: Ready and not terminating, serving: Ready, terminating) and its node and target reference.
// Pods whose named target ports resolve differently go to different slices. As upstream's reconciler,
// endpoints stay in the slice that already holds them; new ones fill free room first; empty slices go.

import { ApiStatusError, type JsonApiClient } from '../clients/json-api-client.ts';
import { SyncQueue } from './framework/sync-queue.ts';
import { podInEndpoints, resolvePort, type PodRecord, type ServiceEndpointSources, type ServiceRecord } from './service-endpoint-sources.ts';

type Json = Record<string, unknown>;
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
export const MANAGED_BY = 'endpointslice-controller.k8s.io';
export const MAX_ENDPOINTS_PER_SLICE = 100;
const HEADLESS_LABEL = 'service.kubernetes.io/headless';
const SLICES = (namespace: string) => `/apis/discovery.k8s.io/v1/namespaces/${namespace}/endpointslices`;

interface Slice extends Json { metadata: Json & { name: string }; addressType?: string; endpoints?: Json[]; ports?: Json[] }

function endpointOf(pod: PodRecord, service: ServiceRecord, ip: string): Json {
  const ready = service.publishNotReadyAddresses || (pod.ready && !pod.terminating);
  const out: Json = {
    addresses: [ip],
    conditions: { ready, serving: pod.ready || service.publishNotReadyAddresses, terminating: pod.terminating },
  };
  if (pod.hostname && pod.subdomain === service.name) out.hostname = pod.hostname;
  if (pod.nodeName) out.nodeName = pod.nodeName;
  out.targetRef = { kind: 'Pod', namespace: pod.namespace, name: pod.name, uid: pod.uid };
  return out;
}

/** A slice's key: its address type and port list. */
function sliceKey(addressType: string, ports: Json[]): string {
  return `${addressType} ${JSON.stringify(ports)}`;
}

/**
 * Desired endpoints grouped by address type and resolved ports (a slice's address type and port list), keyed by pod
 * uid: one group per family of the service, each pod with its address of that family (getEndpointAddresses).
 */
export function desiredEndpointSets(service: ServiceRecord, pods: PodRecord[]): Map<string, { addressType: string; ports: Json[]; endpoints: Map<string, Json> }> {
  const sets = new Map<string, { addressType: string; ports: Json[]; endpoints: Map<string, Json> }>();
  for (const addressType of service.ipFamilies) for (const pod of pods) {
    if (!podInEndpoints(pod, service.publishNotReadyAddresses)) continue;
    const ip = pod.addressOf[addressType];
    if (!ip) continue;
    const ports: Json[] = [];
    for (const port of service.ports) {
      // getEndpointPorts: a port the pod does not serve is skipped for that pod (the pod stays, with the ports it has).
      const number = resolvePort(pod, port);
      if (number === undefined) continue;
      ports.push({ name: port.name, port: number, protocol: port.protocol, ...(port.appProtocol ? { appProtocol: port.appProtocol } : {}) });
    }
    const key = sliceKey(addressType, ports);
    let set = sets.get(key);
    if (!set) sets.set(key, set = { addressType, ports, endpoints: new Map() });
    set.endpoints.set(pod.uid, endpointOf(pod, service, ip));
  }
  return sets;
}

function uidOf(endpoint: Json): string {
  const ref = endpoint.targetRef as Json | undefined;
  return typeof ref?.uid === 'string' ? ref.uid : '';
}

function sliceLabels(service: ServiceRecord): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const [key, value] of Object.entries(service.labels)) if (key !== SERVICE_NAME_LABEL && key !== MANAGED_BY_LABEL) labels[key] = value;
  if (service.headless) labels[HEADLESS_LABEL] = '';
  labels[SERVICE_NAME_LABEL] = service.name;
  labels[MANAGED_BY_LABEL] = MANAGED_BY;
  return labels;
}

export class EndpointSliceController {
  private readonly queue: SyncQueue;

  constructor(
    private readonly client: JsonApiClient, private readonly sources: ServiceEndpointSources, logger: { warn(m: string): void },
    workers = 5, private readonly maxEndpointsPerSlice = MAX_ENDPOINTS_PER_SLICE,
  ) {
    this.queue = new SyncQueue((key) => this.sync(key), { workers, onError: (key, err) => logger.warn(`endpointslice-controller: ${key}: ${err instanceof Error ? err.message : String(err)}`) });
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
    const service = this.sources.service(key);
    const selector = encodeURIComponent(`${SERVICE_NAME_LABEL}=${name},${MANAGED_BY_LABEL}=${MANAGED_BY}`);
    const existing = (await this.client.request<{ items?: Slice[] }>('GET', `${SLICES(namespace)}?labelSelector=${selector}`)).items ?? [];
    if (!service || !service.selector) {
      // Upstream leaves this to the garbage collector through the owner reference; done here directly.
      for (const slice of existing) await this.remove(namespace, slice.metadata.name);
      return;
    }
    const desired = desiredEndpointSets(service, this.sources.podsFor(service));
    // No endpoints at all: one placeholder slice without ports stands for the service, as upstream keeps.
    const placeholder = desired.size === 0;
    // Its address type is the service's primary family.
    const placeholderType = service.ipFamilies[0];
    if (placeholder) desired.set(sliceKey(placeholderType, []), { addressType: placeholderType, ports: [], endpoints: new Map() });
    const labels = sliceLabels(service);
    const owner = [{ apiVersion: 'v1', kind: 'Service', name: service.name, uid: service.uid, controller: true, blockOwnerDeletion: true }];
    const keep: Slice[] = [];
    const writes: Promise<unknown>[] = [];
    // Slices whose ports no longer exist go; the others keep the endpoints they hold that are still wanted.
    for (const slice of existing) {
      // Slices of an address type the service no longer has go too.
      const set = desired.get(sliceKey(slice.addressType ?? 'IPv4', slice.ports ?? []));
      if (!set) { writes.push(this.remove(namespace, slice.metadata.name)); continue; }
      const endpoints: Json[] = [];
      for (const endpoint of slice.endpoints ?? []) {
        const wanted = set.endpoints.get(uidOf(endpoint));
        if (wanted && endpoints.length < this.maxEndpointsPerSlice) { endpoints.push(wanted); set.endpoints.delete(uidOf(endpoint)); }
      }
      keep.push({ ...slice, endpoints });
    }
    // New endpoints fill the kept slices of their port set first, then new slices.
    const changed = new Set<Slice>();
    for (const [portsKey, set] of desired) {
      const remaining = [...set.endpoints.values()];
      for (const slice of keep) {
        if (remaining.length === 0) break;
        if (sliceKey(slice.addressType ?? 'IPv4', slice.ports ?? []) !== portsKey) continue;
        const room = this.maxEndpointsPerSlice - (slice.endpoints?.length ?? 0);
        if (room > 0) { slice.endpoints = [...(slice.endpoints ?? []), ...remaining.splice(0, room)]; changed.add(slice); }
      }
      while (remaining.length > 0) {
        const endpoints = remaining.splice(0, this.maxEndpointsPerSlice);
        writes.push(this.client.request('POST', SLICES(namespace), {
          apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
          metadata: { generateName: `${service.name}-`, namespace, labels, ownerReferences: owner },
          addressType: set.addressType, endpoints, ports: set.ports,
        }));
      }
    }
    if (placeholder && keep.length === 0) {
      writes.push(this.client.request('POST', SLICES(namespace), {
        apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
        metadata: { generateName: `${service.name}-`, namespace, labels, ownerReferences: owner },
        addressType: placeholderType, endpoints: [], ports: [],
      }));
    }
    const original = new Map(existing.map((s) => [s.metadata.name, s]));
    for (const slice of keep) {
      const before = original.get(slice.metadata.name)!;
      if ((slice.endpoints ?? []).length === 0 && keep.length > 1) { writes.push(this.remove(namespace, slice.metadata.name)); continue; }
      const sameContent = JSON.stringify(before.endpoints ?? []) === JSON.stringify(slice.endpoints ?? [])
        && JSON.stringify((before.metadata.labels as Json | undefined) ?? {}) === JSON.stringify(labels);
      if (sameContent && !changed.has(slice)) continue;
      writes.push(this.client.request('PUT', `${SLICES(namespace)}/${slice.metadata.name}`, { ...slice, metadata: { ...slice.metadata, labels } }));
    }
    await Promise.all(writes);
  }

  private async remove(namespace: string, name: string): Promise<void> {
    try {
      await this.client.request('DELETE', `${SLICES(namespace)}/${name}`);
    } catch (err) {
      if (!(err instanceof ApiStatusError && err.code === 404)) throw err;
    }
  }
}
