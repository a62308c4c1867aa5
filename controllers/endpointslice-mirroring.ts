// The EndpointSlice mirroring controller (pkg/controller/endpointslicemirroring): for a Service without a
// selector whose Endpoints someone else writes, EndpointSlices mirroring those Endpoints, so that consumers of
// slices see custom endpoints too. Slices are named `<endpoints>-xxxxx`, labelled with the Endpoints' labels plus
// kubernetes.io/service-name and endpointslice.kubernetes.io/managed-by=endpointslicemirroring-controller.k8s.io,
// annotated with its annotations (but the last-change trigger time and kubectl's last-applied configuration),
// and owned by the Endpoints. Addresses become ready endpoints, notReadyAddresses not-ready ones; one set of slices
// per address type and port list, at most 100 endpoints each, at most 1000 addresses mirrored per subset. Nothing
// is mirrored for Endpoints labelled endpointslice.kubernetes.io/skip-mirror=true (the `kubernetes` service's) or
// carrying a leader-election annotation; the slices go when the Endpoints, the Service or the mirroring does.

import type { KubernetesObject } from '@kubernetes/client-node';
import { isIP } from 'node:net';
import { ApiStatusError, type JsonApiClient } from '../clients/json-api-client.ts';
import { startLeanInformer, type LeanInformer } from '../clients/lean-informer.ts';
import { SyncQueue } from './framework/sync-queue.ts';
import { MANAGED_BY_LABEL, SERVICE_NAME_LABEL } from './endpointslices.ts';
import type { ServiceEndpointSources } from './service-endpoint-sources.ts';

type Json = Record<string, unknown>;
export const MIRRORING_CONTROLLER = 'endpointslicemirroring-controller.k8s.io';
const SKIP_MIRROR_LABEL = 'endpointslice.kubernetes.io/skip-mirror';
const LEADER_ANNOTATION = 'control-plane.alpha.kubernetes.io/leader';
const NOT_MIRRORED_ANNOTATIONS = new Set(['endpoints.kubernetes.io/last-change-trigger-time', 'kubectl.kubernetes.io/last-applied-configuration']);
/** --mirroring-max-endpoints-per-subset and the slice size of the mirroring reconciler. */
export const MAX_ENDPOINTS_PER_SUBSET = 1000;
export const MAX_ENDPOINTS_PER_MIRRORED_SLICE = 100;
const SLICES = (namespace: string) => `/apis/discovery.k8s.io/v1/namespaces/${namespace}/endpointslices`;

interface EndpointsObject extends KubernetesObject { subsets?: Json[] }
interface Slice extends Json { metadata: Json & { name: string }; addressType?: string; endpoints?: Json[]; ports?: Json[] }

const arr = (v: unknown): Json[] => (Array.isArray(v) ? v.filter((x): x is Json => Boolean(x) && typeof x === 'object') : []);

/** shouldMirror: Endpoints that are not skipped and are not a leader-election lock. */
export function shouldMirror(endpoints: KubernetesObject): boolean {
  return endpoints.metadata?.labels?.[SKIP_MIRROR_LABEL] !== 'true' && endpoints.metadata?.annotations?.[LEADER_ANNOTATION] === undefined;
}

function endpointOf(address: Json, ready: boolean): Json {
  const out: Json = { addresses: [address.ip], conditions: { ready } };
  if (typeof address.hostname === 'string' && address.hostname) out.hostname = address.hostname;
  if (typeof address.nodeName === 'string' && address.nodeName) out.nodeName = address.nodeName;
  if (address.targetRef && typeof address.targetRef === 'object') out.targetRef = address.targetRef;
  return out;
}

/** The desired mirrored endpoints, by address type and port list (`IPv4 [ports…]`), deduplicated. */
export function mirroredEndpointSets(subsets: Json[], maxPerSubset = MAX_ENDPOINTS_PER_SUBSET): Map<string, { addressType: string; ports: Json[]; endpoints: Json[] }> {
  const sets = new Map<string, { addressType: string; ports: Json[]; endpoints: Map<string, Json> }>();
  for (const subset of subsets) {
    const ports = arr(subset.ports).map((p) => ({
      ...(typeof p.name === 'string' ? { name: p.name } : { name: '' }), port: p.port, protocol: typeof p.protocol === 'string' ? p.protocol : 'TCP',
      ...(typeof p.appProtocol === 'string' ? { appProtocol: p.appProtocol } : {}),
    }));
    let mirrored = 0;
    const addresses = [...arr(subset.addresses).map((a) => [a, true] as const), ...arr(subset.notReadyAddresses).map((a) => [a, false] as const)];
    for (const [address, ready] of addresses) {
      if (mirrored >= maxPerSubset) break;
      const family = typeof address.ip === 'string' ? isIP(address.ip) : 0;
      // An address that is not an IP cannot be an endpoint of either type (upstream skips it).
      if (family === 0) continue;
      const addressType = family === 4 ? 'IPv4' : 'IPv6';
      const key = `${addressType} ${JSON.stringify(ports)}`;
      let set = sets.get(key);
      if (!set) sets.set(key, set = { addressType, ports, endpoints: new Map() });
      const endpoint = endpointOf(address, ready);
      set.endpoints.set(JSON.stringify(endpoint), endpoint);
      mirrored++;
    }
  }
  return new Map([...sets].map(([key, set]) => [key, { addressType: set.addressType, ports: set.ports, endpoints: [...set.endpoints.values()] }]));
}

function sliceKey(slice: Slice): string {
  return `${slice.addressType ?? ''} ${JSON.stringify(slice.ports ?? [])}`;
}

export class EndpointSliceMirroringController {
  private readonly queue: SyncQueue;
  /**
   * Keys of the Endpoints that exist. Their contents are read when a service without a selector needs them: most
   * Endpoints are the endpoints controller's, for services with a selector, and are never mirrored.
   */
  private readonly endpoints = new Set<string>();
  /** Mirrored slices by the key of their service, and each slice's service key, from the slice watch. */
  private readonly mirroredSlices = new Map<string, Set<string>>();
  private readonly sliceOwners = new Map<string, string>();
  private informers: LeanInformer[] = [];

  constructor(
    private readonly client: JsonApiClient, private readonly sources: ServiceEndpointSources, private readonly logger: { info(m: string): void; warn(m: string): void },
    workers = 5, private readonly maxEndpointsPerSlice = MAX_ENDPOINTS_PER_MIRRORED_SLICE,
  ) {
    this.queue = new SyncQueue((key) => this.sync(key), { workers, onError: (key, err) => logger.warn(`endpointslice-mirroring-controller: ${key}: ${err instanceof Error ? err.message : String(err)}`) });
    // A service that gains or loses its selector starts or ends the mirroring of its Endpoints.
    sources.subscribe((key) => { if (this.endpoints.has(key)) this.queue.add(key); });
  }

  start(): Promise<void> {
    const log = { info: (m: string) => this.logger.info(m), error: (m: string) => this.logger.warn(m) };
    const keyOf = (o: KubernetesObject) => `${o.metadata?.namespace}/${o.metadata?.name}`;
    this.informers = [
      startLeanInformer<EndpointsObject>(this.client, '/api/v1/endpoints', undefined, {
        add: (e) => { this.endpoints.add(keyOf(e)); this.queue.add(keyOf(e)); },
        update: (e) => { this.endpoints.add(keyOf(e)); this.queue.add(keyOf(e)); },
        delete: (e) => { this.endpoints.delete(keyOf(e)); this.queue.add(keyOf(e)); },
      }, log),
      // A mirrored slice changed or deleted by someone else is put back.
      startLeanInformer<KubernetesObject>(this.client, '/apis/discovery.k8s.io/v1/endpointslices', undefined, {
        add: (s) => this.sliceChanged(s, false),
        update: (s) => this.sliceChanged(s, false),
        delete: (s) => this.sliceChanged(s, true),
      }, log),
    ];
    return Promise.all(this.informers.map((i) => i.synced)).then(() => undefined);
  }

  idle(): Promise<void> {
    return this.queue.idle();
  }

  async stop(): Promise<void> {
    this.queue.stop();
    await Promise.all(this.informers.map((i) => i.stop()));
  }

  private sliceChanged(slice: KubernetesObject, deleted: boolean): void {
    const sliceKey = `${slice.metadata?.namespace}/${slice.metadata?.name}`;
    const labels = slice.metadata?.labels;
    const mirrored = labels?.[MANAGED_BY_LABEL] === MIRRORING_CONTROLLER && Boolean(labels[SERVICE_NAME_LABEL]);
    // A tombstone after a relist carries no labels: the slice is found by its name.
    const before = this.sliceOwners.get(sliceKey);
    const owner = mirrored ? `${slice.metadata?.namespace}/${labels![SERVICE_NAME_LABEL]}` : undefined;
    if (before && (deleted || before !== owner)) {
      const names = this.mirroredSlices.get(before);
      names?.delete(sliceKey);
      if (names?.size === 0) this.mirroredSlices.delete(before);
      this.sliceOwners.delete(sliceKey);
    }
    if (owner && !deleted) {
      this.sliceOwners.set(sliceKey, owner);
      let names = this.mirroredSlices.get(owner);
      if (!names) this.mirroredSlices.set(owner, names = new Set());
      names.add(sliceKey);
    }
    // Any event of a mirrored slice re-syncs its service: a slice changed or deleted by someone else is put back as
    // the Endpoints say, one that outlived its Endpoints goes (a no-op when all agrees).
    const key = owner ?? before;
    if (key) this.queue.add(key);
  }

  private async sync(key: string): Promise<void> {
    const [namespace, name] = key.split('/');
    const service = this.sources.service(key);
    const candidate = this.endpoints.has(key) && service !== undefined && service.selector === undefined;
    // Most Endpoints belong to services with a selector: with no mirrored slice known, there is nothing to read.
    if (!candidate && !this.mirroredSlices.has(key)) return;
    const endpoints = candidate ? await this.readEndpoints(namespace, name) : undefined;
    const mirror = endpoints !== undefined && shouldMirror(endpoints);
    const selector = encodeURIComponent(`${SERVICE_NAME_LABEL}=${name},${MANAGED_BY_LABEL}=${MIRRORING_CONTROLLER}`);
    const existing = (await this.client.request<{ items?: Slice[] }>('GET', `${SLICES(namespace)}?labelSelector=${selector}`)).items ?? [];
    if (!mirror || !endpoints) {
      await Promise.all(existing.map((slice) => this.remove(namespace, slice.metadata.name)));
      return;
    }
    const labels: Record<string, string> = { ...(endpoints.metadata?.labels ?? {}), [SERVICE_NAME_LABEL]: name, [MANAGED_BY_LABEL]: MIRRORING_CONTROLLER };
    const annotations: Record<string, string> = {};
    for (const [k, v] of Object.entries(endpoints.metadata?.annotations ?? {})) if (!NOT_MIRRORED_ANNOTATIONS.has(k)) annotations[k] = v;
    const owner = [{ apiVersion: 'v1', kind: 'Endpoints', name, uid: endpoints.metadata?.uid ?? '', controller: true, blockOwnerDeletion: true }];

    // Desired slices: each set's endpoints in chunks, filled into the existing slices of that set first.
    const desired: { addressType: string; ports: Json[]; endpoints: Json[] }[] = [];
    for (const set of mirroredEndpointSets(endpoints.subsets ?? []).values()) {
      for (let i = 0; i < set.endpoints.length; i += this.maxEndpointsPerSlice) {
        desired.push({ addressType: set.addressType, ports: set.ports, endpoints: set.endpoints.slice(i, i + this.maxEndpointsPerSlice) });
      }
    }
    const unused = [...existing];
    const updates: { slice: Slice; content: (typeof desired)[number] }[] = [];
    const creates: (typeof desired)[number][] = [];
    for (const content of desired) {
      const key = `${content.addressType} ${JSON.stringify(content.ports)}`;
      const index = unused.findIndex((slice) => sliceKey(slice) === key);
      if (index === -1) creates.push(content);
      else updates.push({ slice: unused.splice(index, 1)[0], content });
    }
    // As upstream's reconciler finalizes: a slice that would be deleted while another is created is updated instead.
    while (creates.length > 0 && unused.length > 0) updates.push({ slice: unused.shift()!, content: creates.shift()! });

    const writes: Promise<unknown>[] = [];
    for (const { slice, content } of updates) {
      const metadata = { ...slice.metadata, labels, annotations, ownerReferences: owner };
      const next = { ...slice, metadata, addressType: content.addressType, ports: content.ports, endpoints: content.endpoints };
      const unchanged = JSON.stringify([slice.addressType, slice.ports ?? [], slice.endpoints ?? [], slice.metadata.labels ?? {}, slice.metadata.annotations ?? {}, slice.metadata.ownerReferences ?? []])
        === JSON.stringify([next.addressType, next.ports, next.endpoints, labels, annotations, owner]);
      if (unchanged) continue;
      // The address type of a slice is immutable: a slice of the other type is replaced.
      if (slice.addressType !== content.addressType) {
        writes.push(this.remove(namespace, slice.metadata.name).then(() => this.create(namespace, name, labels, annotations, owner, content)));
      } else {
        writes.push(this.client.request('PUT', `${SLICES(namespace)}/${slice.metadata.name}`, next));
      }
    }
    for (const content of creates) writes.push(this.create(namespace, name, labels, annotations, owner, content));
    for (const slice of unused) writes.push(this.remove(namespace, slice.metadata.name));
    await Promise.all(writes);
  }

  private async readEndpoints(namespace: string, name: string): Promise<EndpointsObject | undefined> {
    try {
      return await this.client.request<EndpointsObject>('GET', `/api/v1/namespaces/${namespace}/endpoints/${name}`);
    } catch (err) {
      if (err instanceof ApiStatusError && err.code === 404) return undefined;
      throw err;
    }
  }

  private create(namespace: string, name: string, labels: Record<string, string>, annotations: Record<string, string>, owner: Json[], content: { addressType: string; ports: Json[]; endpoints: Json[] }): Promise<unknown> {
    return this.client.request('POST', SLICES(namespace), {
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
      metadata: { generateName: `${name}-`, namespace, labels, ...(Object.keys(annotations).length ? { annotations } : {}), ownerReferences: owner },
      addressType: content.addressType, ports: content.ports, endpoints: content.endpoints,
    });
  }

  private async remove(namespace: string, name: string): Promise<void> {
    try {
      await this.client.request('DELETE', `${SLICES(namespace)}/${name}`);
    } catch (err) {
      if (!(err instanceof ApiStatusError && err.code === 404)) throw err;
    }
  }
}
