// The default Filter plugins in kube-scheduler's order, each returning the same reason strings and
// status codes as upstream (pkg/scheduler/framework/plugins/*). Filtering stops at the first failure.
import type { V1PreferredSchedulingTerm, V1Pod, V1Taint, V1Toleration } from '@kubernetes/client-node';
import { toleratesTaint } from '../api/tolerations.ts';
import type { NodeInfo } from './node-info.ts';
import { podRequiredAffinityMatches } from './node-selector.ts';
import { hostPortsConflict, podHostPorts, podRequests, type HostPort, type ResourceVector } from './pod-resources.ts';

/** Unschedulable: preemption might help. UnschedulableAndUnresolvable: it cannot. */
export type FailureCode = 'Unschedulable' | 'UnschedulableAndUnresolvable';

export interface FilterFailure {
  plugin: string;
  code: FailureCode;
  reasons: string[];
}

/** What the filters need from the pod, computed once per scheduling cycle (PreFilter state). */
export interface PodSchedulingInfo {
  pod: V1Pod;
  requests: ResourceVector;
  nonZeroRequests: ResourceVector;
  hostPorts: HostPort[];
  tolerations: V1Toleration[];
  priority: number;
  /** Any non-zero request at all; without one NodeResourcesFit checks only the pod count. */
  hasRequests: boolean;
  /** nodeSelector or required node affinity present; without either NodeAffinity passes every node. */
  hasRequiredAffinity: boolean;
  /** Tolerations that count for the PreferNoSchedule score (empty or PreferNoSchedule effect). */
  preferNoScheduleTolerations: V1Toleration[];
  preferredAffinityTerms: V1PreferredSchedulingTerm[];
  /** Whether the pod tolerates node.kubernetes.io/unschedulable:NoSchedule. */
  toleratesUnschedulable: boolean;
}

const UNSCHEDULABLE_TAINT: V1Taint = { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' };

function anyNonZero(requests: ResourceVector): boolean {
  if (requests.milliCPU !== 0 || requests.memory !== 0 || requests.ephemeralStorage !== 0) return true;
  for (const value of requests.scalar.values()) if (value !== 0) return true;
  return false;
}

export function podSchedulingInfo(pod: V1Pod): PodSchedulingInfo {
  const requests = podRequests(pod);
  const tolerations = pod.spec?.tolerations ?? [];
  const nodeSelector = pod.spec?.nodeSelector;
  const nodeAffinity = pod.spec?.affinity?.nodeAffinity;
  return {
    pod,
    requests,
    nonZeroRequests: podRequests(pod, true),
    hostPorts: podHostPorts(pod),
    tolerations,
    priority: pod.spec?.priority ?? 0,
    hasRequests: anyNonZero(requests),
    hasRequiredAffinity: (nodeSelector !== undefined && Object.keys(nodeSelector).length > 0)
      || nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution !== undefined,
    preferNoScheduleTolerations: tolerations.filter((t) => !t.effect || t.effect === 'PreferNoSchedule'),
    preferredAffinityTerms: nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [],
    toleratesUnschedulable: taintTolerated(tolerations, UNSCHEDULABLE_TAINT),
  };
}

export const REASON_UNSCHEDULABLE = "node(s) were unschedulable";
export const REASON_NODE_NAME = "node(s) didn't match the requested node name";
export const REASON_NODE_AFFINITY = "node(s) didn't match Pod's node affinity/selector";
export const REASON_NODE_PORTS = "node(s) didn't have free ports for the requested pod ports";
export const REASON_NODE_NOT_FOUND = 'node(s) not found';

/** v1.Toleration.ToleratesTaint, shared with the controllers (api/tolerations.ts). */
export { toleratesTaint };


export function taintTolerated(tolerations: readonly V1Toleration[], taint: V1Taint): boolean {
  return tolerations.some((toleration) => toleratesTaint(toleration, taint));
}

function nodeUnschedulable(info: PodSchedulingInfo, nodeInfo: NodeInfo): FilterFailure | undefined {
  if (!nodeInfo.unschedulable || info.toleratesUnschedulable) return undefined;
  return { plugin: 'NodeUnschedulable', code: 'UnschedulableAndUnresolvable', reasons: [REASON_UNSCHEDULABLE] };
}

function nodeName(info: PodSchedulingInfo, nodeInfo: NodeInfo): FilterFailure | undefined {
  const wanted = info.pod.spec?.nodeName;
  if (!wanted || wanted === nodeInfo.name) return undefined;
  return { plugin: 'NodeName', code: 'UnschedulableAndUnresolvable', reasons: [REASON_NODE_NAME] };
}

function taintToleration(info: PodSchedulingInfo, nodeInfo: NodeInfo): FilterFailure | undefined {
  for (const taint of nodeInfo.filterTaints) {
    if (taintTolerated(info.tolerations, taint)) continue;
    return {
      plugin: 'TaintToleration',
      code: 'UnschedulableAndUnresolvable',
      reasons: [`node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`],
    };
  }
  return undefined;
}

function nodeAffinity(info: PodSchedulingInfo, nodeInfo: NodeInfo): FilterFailure | undefined {
  if (!info.hasRequiredAffinity || !nodeInfo.node || podRequiredAffinityMatches(info.pod, nodeInfo.node)) return undefined;
  return { plugin: 'NodeAffinity', code: 'UnschedulableAndUnresolvable', reasons: [REASON_NODE_AFFINITY] };
}

function nodePorts(info: PodSchedulingInfo, nodeInfo: NodeInfo): FilterFailure | undefined {
  if (info.hostPorts.length === 0 || !hostPortsConflict(nodeInfo.usedPorts, info.hostPorts)) return undefined;
  return { plugin: 'NodePorts', code: 'Unschedulable', reasons: [REASON_NODE_PORTS] };
}

/** NodeResourcesFit as of 1.32: every shortage is Unschedulable (preemption may free room). */
export function insufficientResources(requests: ResourceVector, nodeInfo: NodeInfo, hasRequests = anyNonZero(requests)): string[] {
  const tooManyPods = nodeInfo.pods.size + 1 > nodeInfo.allowedPodNumber;
  const allocatable = nodeInfo.allocatable;
  const used = nodeInfo.requested;
  // The common case, a pod that fits, allocates nothing.
  if (!tooManyPods && (!hasRequests || (requests.scalar.size === 0
    && allocatable.milliCPU >= requests.milliCPU + used.milliCPU
    && allocatable.memory >= requests.memory + used.memory
    && allocatable.ephemeralStorage >= requests.ephemeralStorage + used.ephemeralStorage))) return [];
  const reasons: string[] = [];
  if (tooManyPods) reasons.push('Too many pods');
  if (!hasRequests) return reasons;
  if (allocatable.milliCPU < requests.milliCPU + used.milliCPU) reasons.push('Insufficient cpu');
  if (allocatable.memory < requests.memory + used.memory) reasons.push('Insufficient memory');
  if (allocatable.ephemeralStorage < requests.ephemeralStorage + used.ephemeralStorage) {
    reasons.push('Insufficient ephemeral-storage');
  }
  for (const [name, value] of requests.scalar) {
    if (value === 0) continue;
    if ((allocatable.scalar.get(name) ?? 0) < value + (used.scalar.get(name) ?? 0)) reasons.push(`Insufficient ${name}`);
  }
  return reasons;
}

function nodeResourcesFit(info: PodSchedulingInfo, nodeInfo: NodeInfo): FilterFailure | undefined {
  const reasons = insufficientResources(info.requests, nodeInfo, info.hasRequests);
  if (reasons.length === 0) return undefined;
  return { plugin: 'NodeResourcesFit', code: 'Unschedulable', reasons };
}

type FilterPlugin = (info: PodSchedulingInfo, nodeInfo: NodeInfo) => FilterFailure | undefined;

export const DEFAULT_FILTERS: ReadonlyArray<readonly [string, FilterPlugin]> = [
  ['NodeUnschedulable', nodeUnschedulable],
  ['NodeName', nodeName],
  ['TaintToleration', taintToleration],
  ['NodeAffinity', nodeAffinity],
  ['NodePorts', nodePorts],
  ['NodeResourcesFit', nodeResourcesFit],
];

/**
 * Runs the filters in order and returns the first failure. The Ready condition is deliberately not
 * consulted: since TaintNodesByCondition (1.17) kube-scheduler relies on the node lifecycle controller's
 * not-ready/unreachable taints, which TaintToleration rejects.
 */
export function runFilters(info: PodSchedulingInfo, nodeInfo: NodeInfo): FilterFailure | undefined {
  if (!nodeInfo.node) {
    return { plugin: 'Framework', code: 'UnschedulableAndUnresolvable', reasons: [REASON_NODE_NOT_FOUND] };
  }
  for (let i = 0; i < DEFAULT_FILTERS.length; i++) {
    const failure = DEFAULT_FILTERS[i][1](info, nodeInfo);
    if (failure) return failure;
  }
  return undefined;
}
