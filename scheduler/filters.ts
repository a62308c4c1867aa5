// The default Filter plugins in kube-scheduler's order, each returning the same reason strings and
// status codes as upstream (pkg/scheduler/framework/plugins/*). Filtering stops at the first failure.
import type { V1Pod, V1Taint, V1Toleration } from '@kubernetes/client-node';
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
}

export function podSchedulingInfo(pod: V1Pod): PodSchedulingInfo {
  return {
    pod,
    requests: podRequests(pod),
    nonZeroRequests: podRequests(pod, true),
    hostPorts: podHostPorts(pod),
    tolerations: pod.spec?.tolerations ?? [],
    priority: pod.spec?.priority ?? 0,
  };
}

export const REASON_UNSCHEDULABLE = "node(s) were unschedulable";
export const REASON_NODE_NAME = "node(s) didn't match the requested node name";
export const REASON_NODE_AFFINITY = "node(s) didn't match Pod's node affinity/selector";
export const REASON_NODE_PORTS = "node(s) didn't have free ports for the requested pod ports";
export const REASON_NODE_NOT_FOUND = 'node(s) not found';

/** v1.Toleration.ToleratesTaint. */
export function toleratesTaint(toleration: V1Toleration, taint: V1Taint): boolean {
  if (toleration.effect && toleration.effect !== taint.effect) return false;
  if (toleration.key && toleration.key !== taint.key) return false;
  switch (toleration.operator ?? '') {
    case '':
    case 'Equal':
      return (toleration.value ?? '') === (taint.value ?? '');
    case 'Exists':
      return true;
    default:
      return false;
  }
}

export function taintTolerated(tolerations: readonly V1Toleration[], taint: V1Taint): boolean {
  return tolerations.some((toleration) => toleratesTaint(toleration, taint));
}

function nodeUnschedulable(info: PodSchedulingInfo, nodeInfo: NodeInfo): FilterFailure | undefined {
  if (!nodeInfo.node?.spec?.unschedulable) return undefined;
  const taint: V1Taint = { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' };
  if (taintTolerated(info.tolerations, taint)) return undefined;
  return { plugin: 'NodeUnschedulable', code: 'UnschedulableAndUnresolvable', reasons: [REASON_UNSCHEDULABLE] };
}

function nodeName(info: PodSchedulingInfo, nodeInfo: NodeInfo): FilterFailure | undefined {
  const wanted = info.pod.spec?.nodeName;
  if (!wanted || wanted === nodeInfo.name) return undefined;
  return { plugin: 'NodeName', code: 'UnschedulableAndUnresolvable', reasons: [REASON_NODE_NAME] };
}

function taintToleration(info: PodSchedulingInfo, nodeInfo: NodeInfo): FilterFailure | undefined {
  for (const taint of nodeInfo.node?.spec?.taints ?? []) {
    if (taint.effect !== 'NoSchedule' && taint.effect !== 'NoExecute') continue;
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
  if (!nodeInfo.node || podRequiredAffinityMatches(info.pod, nodeInfo.node)) return undefined;
  return { plugin: 'NodeAffinity', code: 'UnschedulableAndUnresolvable', reasons: [REASON_NODE_AFFINITY] };
}

function nodePorts(info: PodSchedulingInfo, nodeInfo: NodeInfo): FilterFailure | undefined {
  if (info.hostPorts.length === 0 || !hostPortsConflict(nodeInfo.usedPorts, info.hostPorts)) return undefined;
  return { plugin: 'NodePorts', code: 'Unschedulable', reasons: [REASON_NODE_PORTS] };
}

/** NodeResourcesFit as of 1.32: every shortage is Unschedulable (preemption may free room). */
export function insufficientResources(requests: ResourceVector, nodeInfo: NodeInfo): string[] {
  const reasons: string[] = [];
  if (nodeInfo.pods.size + 1 > nodeInfo.allowedPodNumber) reasons.push('Too many pods');
  const anyRequest = requests.milliCPU !== 0 || requests.memory !== 0 || requests.ephemeralStorage !== 0
    || [...requests.scalar.values()].some((value) => value !== 0);
  if (!anyRequest) return reasons;
  const allocatable = nodeInfo.allocatable;
  const used = nodeInfo.requested;
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
  const reasons = insufficientResources(info.requests, nodeInfo);
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
  for (const [, filter] of DEFAULT_FILTERS) {
    const failure = filter(info, nodeInfo);
    if (failure) return failure;
  }
  return undefined;
}
