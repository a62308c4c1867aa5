// The Node object a simulated kubelet registers and the status it reports, shaped as a 1.32 kubelet's
// (pkg/kubelet/nodestatus/setters.go): labels, capacity/allocatable, addresses, nodeInfo, conditions.
import { createHash } from 'node:crypto';
import type { V1Node, V1NodeCondition, V1NodeStatus } from '@kubernetes/client-node';
import type { NodeImage } from './images.ts';
import { parseQuantity } from './quantity.ts';

export const KUBELET_VERSION = 'v1.32.3';
export const CONTAINER_RUNTIME_VERSION = 'containerd://1.7.24';
export const SIMULATED_OS_IMAGE = 'kubefacade simulated node';

export interface SimulatedNodeSpec {
  name: string;
  /** 1-based position; derives addresses and pod CIDR. */
  index: number;
  internalIp: string;
  podCidr: string;
  /** The node's IPv6 pod CIDR in a dual-stack cluster (podCIDRs' second entry). */
  podCidrV6?: string;
  kubeletPort: number;
  cpu: string;
  memory: string;
  pods: number;
  /** --node-labels: added to the kubelet's own labels at registration. */
  extraLabels?: Record<string, string>;
  /** --register-with-taints: the node is created with these taints. */
  taints?: RegistrationTaint[];
}

/** spec.podCIDRs: the IPv4 CIDR, then the IPv6 one in a dual-stack cluster. */
export function podCidrsOf(spec: SimulatedNodeSpec): string[] {
  return spec.podCidrV6 ? [spec.podCidr, spec.podCidrV6] : [spec.podCidr];
}

export interface RegistrationTaint {
  key: string;
  value?: string;
  effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
}

/**
 * Parses the kubelet's --register-with-taints form, `key=value:Effect` or `key:Effect`, comma-separated.
 * Throws on anything else so a typo does not silently register an untainted node.
 */
export function parseRegistrationTaints(value: string): RegistrationTaint[] {
  return value.split(',').map((item) => item.trim()).filter(Boolean).map((item) => {
    const match = /^([^=:]+)(?:=([^:]*))?:(NoSchedule|PreferNoSchedule|NoExecute)$/.exec(item);
    if (!match) throw new Error(`invalid taint "${item}" (use key=value:Effect or key:Effect)`);
    const taint: RegistrationTaint = { key: match[1], effect: match[3] as RegistrationTaint['effect'] };
    if (match[2] !== undefined && match[2] !== '') taint.value = match[2];
    return taint;
  });
}

/** Parses --node-labels, `key=value` pairs, comma-separated. */
export function parseNodeLabels(value: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const item of value.split(',').map((entry) => entry.trim()).filter(Boolean)) {
    const equals = item.indexOf('=');
    if (equals <= 0) throw new Error(`invalid label "${item}" (use key=value)`);
    labels[item.slice(0, equals)] = item.slice(equals + 1);
  }
  return labels;
}

/** Hard eviction threshold the kubelet subtracts from allocatable memory by default (memory.available<100Mi). */
const EVICTION_HARD_MEMORY_BYTES = 100 * 2 ** 20;
const EPHEMERAL_STORAGE_BYTES = 100 * 2 ** 30;
/** nodefs.available<10%: allocatable ephemeral storage is 90% of capacity. */
const EPHEMERAL_ALLOCATABLE_FRACTION = 0.9;

function idFor(kind: string, name: string, length = 32): string {
  return createHash('sha256').update(`kubefacade-${kind}:${name}`).digest('hex').slice(0, length);
}

function uuidFor(kind: string, name: string): string {
  const hex = idFor(kind, name);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

export function nodeLabels(name: string): Record<string, string> {
  return {
    'beta.kubernetes.io/arch': 'amd64',
    'beta.kubernetes.io/os': 'linux',
    'kubernetes.io/arch': 'amd64',
    'kubernetes.io/hostname': name,
    'kubernetes.io/os': 'linux',
  };
}

export function nodeCapacity(spec: SimulatedNodeSpec): Record<string, string> {
  const memoryBytes = parseQuantity(spec.memory);
  return {
    cpu: spec.cpu,
    'ephemeral-storage': `${EPHEMERAL_STORAGE_BYTES / 1024}Ki`,
    'hugepages-1Gi': '0',
    'hugepages-2Mi': '0',
    memory: `${Math.floor(memoryBytes / 1024)}Ki`,
    pods: String(spec.pods),
  };
}

export function nodeAllocatable(spec: SimulatedNodeSpec): Record<string, string> {
  const memoryBytes = parseQuantity(spec.memory);
  return {
    cpu: spec.cpu,
    'ephemeral-storage': String(Math.floor(EPHEMERAL_STORAGE_BYTES * EPHEMERAL_ALLOCATABLE_FRACTION)),
    'hugepages-1Gi': '0',
    'hugepages-2Mi': '0',
    memory: `${Math.floor(Math.max(0, memoryBytes - EVICTION_HARD_MEMORY_BYTES) / 1024)}Ki`,
    pods: String(spec.pods),
  };
}

/** The conditions a healthy kubelet posts, in the kubelet's order. */
export function healthyConditionTexts(): { type: string; status: string; reason: string; message: string }[] {
  return [
    { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory', message: 'kubelet has sufficient memory available' },
    { type: 'DiskPressure', status: 'False', reason: 'KubeletHasNoDiskPressure', message: 'kubelet has no disk pressure' },
    { type: 'PIDPressure', status: 'False', reason: 'KubeletHasSufficientPID', message: 'kubelet has sufficient PID available' },
    { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' },
  ];
}

type ConditionLike = Omit<V1NodeCondition, 'lastHeartbeatTime' | 'lastTransitionTime'> & {
  lastHeartbeatTime?: Date | string;
  lastTransitionTime?: Date | string;
};

function isoTime(value: Date | string | undefined): string | undefined {
  if (value === undefined || value === null) return undefined;
  return typeof value === 'string' ? value : value.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** RFC 3339 with second precision, as metav1.Time serialises. */
export function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * The kubelet's conditions with heartbeat `now`; a condition keeps its lastTransitionTime while its status is unchanged
 * from what the API server holds, as setters.go does.
 */
export function composeNodeConditions(current: ConditionLike[] | undefined, nowMs: number): V1NodeCondition[] {
  const now = rfc3339(nowMs);
  const byType = new Map((current ?? []).map((condition) => [condition.type, condition]));
  const ours = healthyConditionTexts().map((text) => {
    const previous = byType.get(text.type);
    const unchanged = previous !== undefined && previous.status === text.status && previous.lastTransitionTime !== undefined;
    return {
      ...text,
      lastHeartbeatTime: now,
      lastTransitionTime: unchanged ? isoTime(previous.lastTransitionTime) : now,
    } as unknown as V1NodeCondition;
  });
  const ownTypes = new Set(ours.map((condition) => condition.type));
  const others = (current ?? []).filter((condition) => !ownTypes.has(condition.type)) as unknown as V1NodeCondition[];
  return [...ours, ...others];
}

/** True when the node as stored differs from what this kubelet would post in a way that matters (not heartbeats). */
export function conditionsNeedUpdate(current: ConditionLike[] | undefined): boolean {
  const byType = new Map((current ?? []).map((condition) => [condition.type, condition]));
  return healthyConditionTexts().some((text) => {
    const stored = byType.get(text.type);
    return !stored || stored.status !== text.status || stored.reason !== text.reason || stored.message !== text.message;
  });
}

export interface NodeStatusInput {
  spec: SimulatedNodeSpec;
  currentConditions?: ConditionLike[];
  images: NodeImage[];
  nowMs: number;
}

export function composeNodeStatus(input: NodeStatusInput): V1NodeStatus {
  const { spec } = input;
  return {
    addresses: [
      { type: 'InternalIP', address: spec.internalIp },
      { type: 'Hostname', address: spec.name },
    ],
    allocatable: nodeAllocatable(spec),
    capacity: nodeCapacity(spec),
    conditions: composeNodeConditions(input.currentConditions, input.nowMs),
    daemonEndpoints: { kubeletEndpoint: { Port: spec.kubeletPort } },
    images: input.images.map((image) => ({ names: image.names, sizeBytes: image.sizeBytes })),
    nodeInfo: {
      architecture: 'amd64',
      bootID: uuidFor('boot', `${spec.name}:${process.pid}`),
      containerRuntimeVersion: CONTAINER_RUNTIME_VERSION,
      kernelVersion: '6.1.0-kubefacade',
      kubeProxyVersion: KUBELET_VERSION,
      kubeletVersion: KUBELET_VERSION,
      machineID: idFor('machine', spec.name),
      operatingSystem: 'linux',
      osImage: SIMULATED_OS_IMAGE,
      systemUUID: uuidFor('system', spec.name),
    },
  };
}

/** The object POSTed at registration (status included, as the kubelet's initialNode carries it). */
export function composeNodeForRegistration(spec: SimulatedNodeSpec, nowMs: number): V1Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: spec.name,
      labels: { ...spec.extraLabels, ...nodeLabels(spec.name) },
      annotations: {
        'node.alpha.kubernetes.io/ttl': '0',
        'volumes.kubernetes.io/controller-managed-attach-detach': 'true',
        'kubefacade.io/simulated': 'true',
      },
    },
    spec: { podCIDR: spec.podCidr, podCIDRs: podCidrsOf(spec), ...(spec.taints?.length ? { taints: spec.taints.map((taint) => ({ ...taint })) } : {}) },
    status: composeNodeStatus({ spec, images: [], nowMs }),
  };
}
