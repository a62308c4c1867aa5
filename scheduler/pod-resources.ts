// What a pod asks of a node: resource requests (as kube-scheduler's NodeResourcesFit computes them with
// k8s.io/component-helpers resource.PodRequests) and the host ports it binds.
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { quantityMilliValue, quantityValue } from './quantity.ts';

export interface ResourceVector {
  milliCPU: number;
  memory: number;
  ephemeralStorage: number;
  /** Extended and other scalar resources (e.g. `nvidia.com/gpu`, `hugepages-2Mi`), in whole units. */
  scalar: Map<string, number>;
}

export function emptyResources(): ResourceVector {
  return { milliCPU: 0, memory: 0, ephemeralStorage: 0, scalar: new Map() };
}

export function cloneResources(r: ResourceVector): ResourceVector {
  return { milliCPU: r.milliCPU, memory: r.memory, ephemeralStorage: r.ephemeralStorage, scalar: new Map(r.scalar) };
}

export function addResources(target: ResourceVector, delta: ResourceVector, sign = 1): void {
  target.milliCPU += sign * delta.milliCPU;
  target.memory += sign * delta.memory;
  target.ephemeralStorage += sign * delta.ephemeralStorage;
  for (const [name, value] of delta.scalar) target.scalar.set(name, (target.scalar.get(name) ?? 0) + sign * value);
}

function maxResources(target: ResourceVector, other: ResourceVector): void {
  target.milliCPU = Math.max(target.milliCPU, other.milliCPU);
  target.memory = Math.max(target.memory, other.memory);
  target.ephemeralStorage = Math.max(target.ephemeralStorage, other.ephemeralStorage);
  for (const [name, value] of other.scalar) target.scalar.set(name, Math.max(target.scalar.get(name) ?? 0, value));
}

/** Converts a ResourceList (requests, overhead or node allocatable) into numbers. */
export function resourceListToVector(list: Record<string, string> | undefined): ResourceVector {
  const result = emptyResources();
  for (const [name, quantity] of Object.entries(list ?? {})) {
    if (name === 'cpu') result.milliCPU = quantityMilliValue(String(quantity));
    else if (name === 'memory') result.memory = quantityValue(String(quantity));
    else if (name === 'ephemeral-storage') result.ephemeralStorage = quantityValue(String(quantity));
    else if (name !== 'pods') result.scalar.set(name, quantityValue(String(quantity)));
  }
  return result;
}

/** Scoring defaults for containers with no request (pkg/scheduler/util: DefaultMilliCPURequest/DefaultMemoryRequest). */
export const DEFAULT_MILLI_CPU_REQUEST = 100;
export const DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024;

function containerRequests(container: V1Container, nonZero: boolean): ResourceVector {
  // The API server defaults a missing request to the limit; do the same so a server that skips
  // defaulting is still accounted for the way a real cluster would account it.
  const requests: Record<string, string> = { ...(container.resources?.limits ?? {}), ...(container.resources?.requests ?? {}) };
  const vector = resourceListToVector(requests);
  if (nonZero) {
    if (!('cpu' in requests)) vector.milliCPU = DEFAULT_MILLI_CPU_REQUEST;
    if (!('memory' in requests)) vector.memory = DEFAULT_MEMORY_REQUEST;
  }
  return vector;
}

/**
 * Pod requests: sum of app containers, restartable (sidecar) init containers added to it, each
 * classic init container compared as a max against what runs alongside it, then overhead.
 * `nonZero` substitutes the scoring defaults for missing cpu/memory requests.
 */
export function podRequests(pod: V1Pod, nonZero = false): ResourceVector {
  const total = emptyResources();
  for (const container of pod.spec?.containers ?? []) addResources(total, containerRequests(container, nonZero));
  const restartableInit = emptyResources();
  const initMax = emptyResources();
  for (const container of pod.spec?.initContainers ?? []) {
    const own = containerRequests(container, nonZero);
    if (container.restartPolicy === 'Always') {
      addResources(total, own);
      addResources(restartableInit, own);
      maxResources(initMax, restartableInit);
    } else {
      const alongside = cloneResources(own);
      addResources(alongside, restartableInit);
      maxResources(initMax, alongside);
    }
  }
  maxResources(total, initMax);
  const overhead = pod.spec?.overhead as Record<string, string> | undefined;
  if (overhead) addResources(total, resourceListToVector(overhead));
  return total;
}

export interface HostPort {
  hostIP: string;
  protocol: string;
  port: number;
}

/** Host ports the pod binds: app containers only, as NodePorts in 1.32 reads them; hostPort 0 binds nothing. */
export function podHostPorts(pod: V1Pod): HostPort[] {
  const ports: HostPort[] = [];
  for (const container of pod.spec?.containers ?? []) {
    for (const port of container.ports ?? []) {
      if (!port.hostPort || port.hostPort <= 0) continue;
      ports.push({ hostIP: port.hostIP || '0.0.0.0', protocol: port.protocol || 'TCP', port: port.hostPort });
    }
  }
  return ports;
}

/** HostPortInfo.CheckConflict: same protocol and port, and the same IP or either side on 0.0.0.0. */
export function hostPortsConflict(used: readonly HostPort[], wanted: readonly HostPort[]): boolean {
  for (const want of wanted) {
    for (const have of used) {
      if (have.port !== want.port || have.protocol !== want.protocol) continue;
      if (have.hostIP === want.hostIP || have.hostIP === '0.0.0.0' || want.hostIP === '0.0.0.0') return true;
    }
  }
  return false;
}

export function quantityOrZero(text: string | undefined): number {
  return text === undefined ? 0 : quantityValue(String(text));
}
