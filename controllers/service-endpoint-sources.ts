// What the endpoints and EndpointSlice controllers read: Services and the pods their selectors pick,
// from two lean informers, kept as small records (a pod's labels, IP, readiness, node and named ports,
// not the whole object). Every change is turned into the keys (`namespace/name`) of the services it
// concerns, handed to the subscribed controllers' work queues.

import type { KubernetesObject } from '@kubernetes/client-node';
import type { JsonApiClient } from '../clients/json-api-client.ts';
import { startLeanInformer, type LeanInformer } from '../clients/lean-informer.ts';

export interface ServicePort { name: string; port: number; protocol: string; targetPort: number | string; appProtocol?: string }

export interface ServiceRecord {
  namespace: string;
  name: string;
  uid: string;
  labels: Record<string, string>;
  /** undefined: no selector (endpoints managed by someone else). */
  selector?: Record<string, string>;
  headless: boolean;
  type: string;
  publishNotReadyAddresses: boolean;
  ports: ServicePort[];
  /**
   * The address families its endpoints carry (getAddressTypesForService): spec.ipFamilies, or for a service without
   * them the family of its cluster IP, else IPv4. The first is the Endpoints object's family.
   */
  ipFamilies: ('IPv4' | 'IPv6')[];
}

export interface PodRecord {
  namespace: string;
  name: string;
  uid: string;
  labels: Record<string, string>;
  /** status.podIPs[0] (or podIP). */
  ip: string;
  /** The first address of each family in status.podIPs (both in a dual-stack cluster), as getEndpointAddresses picks them. */
  addressOf: Partial<Record<'IPv4' | 'IPv6', string>>;
  nodeName: string;
  ready: boolean;
  terminating: boolean;
  terminal: boolean;
  hostname: string;
  subdomain: string;
  /** Container port name → number and protocol. */
  namedPorts: Record<string, { port: number; protocol: string }>;
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (v && typeof v === 'object' && !Array.isArray(v) ? v as Json : {});
const arr = (v: unknown): Json[] => (Array.isArray(v) ? v.map(obj) : []);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const strMap = (v: unknown): Record<string, string> => Object.fromEntries(Object.entries(obj(v)).filter(([, x]) => typeof x === 'string')) as Record<string, string>;

function serviceFamilies(spec: Json): ('IPv4' | 'IPv6')[] {
  const families = (Array.isArray(spec.ipFamilies) ? spec.ipFamilies : []).filter((f): f is 'IPv4' | 'IPv6' => f === 'IPv4' || f === 'IPv6');
  if (families.length > 0) return families;
  const clusterIP = str(spec.clusterIP);
  return clusterIP && clusterIP !== 'None' && clusterIP.includes(':') ? ['IPv6'] : ['IPv4'];
}

function addressesByFamily(status: Json): PodRecord['addressOf'] {
  const ips = arr(status.podIPs).map((entry) => str(entry.ip)).filter(Boolean);
  if (ips.length === 0 && str(status.podIP)) ips.push(str(status.podIP));
  const out: PodRecord['addressOf'] = {};
  for (const ip of ips) out[ip.includes(':') ? 'IPv6' : 'IPv4'] ??= ip;
  return out;
}

function serviceRecord(service: KubernetesObject): ServiceRecord {
  const spec = obj((service as Json).spec);
  return {
    ipFamilies: serviceFamilies(spec),
    namespace: service.metadata?.namespace ?? '', name: service.metadata?.name ?? '', uid: service.metadata?.uid ?? '',
    labels: { ...(service.metadata?.labels ?? {}) },
    selector: spec.selector === undefined || spec.selector === null ? undefined : strMap(spec.selector),
    headless: spec.clusterIP === 'None', type: str(spec.type) || 'ClusterIP',
    publishNotReadyAddresses: spec.publishNotReadyAddresses === true,
    ports: arr(spec.ports).map((p) => ({
      name: str(p.name), port: typeof p.port === 'number' ? p.port : 0, protocol: str(p.protocol) || 'TCP',
      targetPort: typeof p.targetPort === 'number' || typeof p.targetPort === 'string' ? p.targetPort : (typeof p.port === 'number' ? p.port : 0),
      ...(typeof p.appProtocol === 'string' ? { appProtocol: p.appProtocol } : {}),
    })),
  };
}

function podRecord(pod: KubernetesObject): PodRecord {
  const spec = obj((pod as Json).spec);
  const status = obj((pod as Json).status);
  const namedPorts: PodRecord['namedPorts'] = {};
  for (const container of arr(spec.containers)) {
    for (const port of arr(container.ports)) {
      if (typeof port.name === 'string' && port.name && typeof port.containerPort === 'number') {
        namedPorts[port.name] ??= { port: port.containerPort, protocol: str(port.protocol) || 'TCP' };
      }
    }
  }
  const phase = str(status.phase);
  return {
    namespace: pod.metadata?.namespace ?? '', name: pod.metadata?.name ?? '', uid: pod.metadata?.uid ?? '',
    labels: { ...(pod.metadata?.labels ?? {}) },
    ip: str(arr(status.podIPs)[0]?.ip) || str(status.podIP),
    addressOf: addressesByFamily(status),
    nodeName: str(spec.nodeName),
    ready: arr(status.conditions).some((c) => c.type === 'Ready' && c.status === 'True'),
    terminating: Boolean(pod.metadata?.deletionTimestamp),
    terminal: phase === 'Succeeded' || phase === 'Failed',
    hostname: str(spec.hostname), subdomain: str(spec.subdomain), namedPorts,
  };
}

export function selectorMatches(selector: Record<string, string>, labels: Record<string, string>): boolean {
  for (const [key, value] of Object.entries(selector)) if (labels[key] !== value) return false;
  return true;
}

/** Whether a pod that an endpoint would name: it has an IP and is not finished (ShouldPodBeInEndpoints). */
export function podInEndpoints(pod: PodRecord, publishNotReady: boolean): boolean {
  if (!pod.ip || pod.terminal) return false;
  return publishNotReady || !pod.terminating;
}

/** The container port a service port resolves to for one pod (FindPort); undefined when it names no port of the pod. */
export function resolvePort(pod: PodRecord, port: ServicePort): number | undefined {
  if (typeof port.targetPort === 'number') return port.targetPort;
  const named = pod.namedPorts[port.targetPort];
  if (named && named.protocol === port.protocol) return named.port;
  const asNumber = Number(port.targetPort);
  return Number.isInteger(asNumber) && asNumber > 0 ? asNumber : undefined;
}

export class ServiceEndpointSources {
  private readonly services = new Map<string, ServiceRecord>();
  /** namespace → pod name → record. */
  private readonly pods = new Map<string, Map<string, PodRecord>>();
  private readonly subscribers: ((serviceKey: string) => void)[] = [];
  private informers: LeanInformer[] = [];

  constructor(private readonly client: JsonApiClient, private readonly logger: { info(m: string): void; warn(m: string): void }) {}

  subscribe(onServiceChanged: (serviceKey: string) => void): void {
    this.subscribers.push(onServiceChanged);
  }

  start(): Promise<void> {
    const log = { info: (m: string) => this.logger.info(m), error: (m: string) => this.logger.warn(m) };
    this.informers = [
      startLeanInformer<KubernetesObject>(this.client, '/api/v1/services', undefined, {
        add: (s) => this.serviceChanged(s, false), update: (s) => this.serviceChanged(s, false), delete: (s) => this.serviceChanged(s, true),
      }, log),
      startLeanInformer<KubernetesObject>(this.client, '/api/v1/pods', undefined, {
        add: (p) => this.podChanged(p, false), update: (p) => this.podChanged(p, false), delete: (p) => this.podChanged(p, true),
      }, log),
    ];
    return Promise.all(this.informers.map((i) => i.synced)).then(() => undefined);
  }

  async stop(): Promise<void> {
    await Promise.all(this.informers.map((i) => i.stop()));
  }

  service(key: string): ServiceRecord | undefined {
    return this.services.get(key);
  }

  /** Pods of the service's namespace its selector picks, sorted by name. */
  podsFor(service: ServiceRecord): PodRecord[] {
    if (!service.selector) return [];
    const out: PodRecord[] = [];
    for (const pod of this.pods.get(service.namespace)?.values() ?? []) if (selectorMatches(service.selector, pod.labels)) out.push(pod);
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  private notify(key: string): void {
    for (const subscriber of this.subscribers) subscriber(key);
  }

  private serviceChanged(service: KubernetesObject, deleted: boolean): void {
    const key = `${service.metadata?.namespace}/${service.metadata?.name}`;
    if (deleted) this.services.delete(key);
    else this.services.set(key, serviceRecord(service));
    this.notify(key);
  }

  private podChanged(pod: KubernetesObject, deleted: boolean): void {
    const namespace = pod.metadata?.namespace ?? '';
    const name = pod.metadata?.name ?? '';
    let inNamespace = this.pods.get(namespace);
    const before = inNamespace?.get(name);
    const after = deleted ? undefined : podRecord(pod);
    if (after) {
      if (!inNamespace) this.pods.set(namespace, inNamespace = new Map());
      inNamespace.set(name, after);
    } else {
      inNamespace?.delete(name);
    }
    if (before && after && JSON.stringify(before) === JSON.stringify(after)) return;
    for (const [key, service] of this.services) {
      if (service.namespace !== namespace || !service.selector) continue;
      if ((before && selectorMatches(service.selector, before.labels)) || (after && selectorMatches(service.selector, after.labels))) this.notify(key);
    }
  }
}
