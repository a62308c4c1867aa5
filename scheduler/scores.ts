// The default Score plugins with upstream weights and normalisation (MaxNodeScore = 100):
// TaintToleration(3), NodeAffinity(2), NodeResourcesFit LeastAllocated(1), NodeResourcesBalancedAllocation(1).
import type { V1Toleration } from '@kubernetes/client-node';
import type { PodSchedulingInfo } from './filters.ts';
import { toleratesTaint } from './filters.ts';
import type { NodeInfo } from './node-info.ts';
import { preferredAffinityScore } from './node-selector.ts';

export const MAX_NODE_SCORE = 100;

export const SCORE_WEIGHTS = {
  TaintToleration: 3,
  NodeAffinity: 2,
  NodeResourcesFit: 1,
  NodeResourcesBalancedAllocation: 1,
} as const;

/** helper.DefaultNormalizeScore: scale to [0, max] by the highest score (integer division), optionally reversed. */
export function defaultNormalizeScore(scores: number[], reverse: boolean, maxPriority = MAX_NODE_SCORE): number[] {
  const highest = Math.max(0, ...scores);
  if (highest === 0) return scores.map(() => (reverse ? maxPriority : 0));
  return scores.map((score) => {
    const scaled = Math.trunc((maxPriority * score) / highest);
    return reverse ? maxPriority - scaled : scaled;
  });
}

/** Count of PreferNoSchedule taints the pod does not tolerate (only tolerations with empty or PreferNoSchedule effect count). */
export function intolerablePreferNoScheduleTaints(tolerations: readonly V1Toleration[], nodeInfo: NodeInfo): number {
  const relevant = tolerations.filter((t) => !t.effect || t.effect === 'PreferNoSchedule');
  let count = 0;
  for (const taint of nodeInfo.node?.spec?.taints ?? []) {
    if (taint.effect !== 'PreferNoSchedule') continue;
    if (!relevant.some((toleration) => toleratesTaint(toleration, taint))) count++;
  }
  return count;
}

/** LeastAllocated over cpu and memory (weight 1 each), using non-zero requests. */
export function leastAllocatedScore(info: PodSchedulingInfo, nodeInfo: NodeInfo): number {
  const resources: Array<[number, number]> = [
    [nodeInfo.nonZeroRequested.milliCPU + info.nonZeroRequests.milliCPU, nodeInfo.allocatable.milliCPU],
    [nodeInfo.nonZeroRequested.memory + info.nonZeroRequests.memory, nodeInfo.allocatable.memory],
  ];
  let sum = 0;
  for (const [requested, capacity] of resources) {
    if (capacity === 0 || requested > capacity) continue;
    sum += Math.trunc(((capacity - requested) * MAX_NODE_SCORE) / capacity);
  }
  return Math.trunc(sum / resources.length);
}

/** BalancedAllocation (1.32): 1 - standard deviation of cpu/memory fractions, using actual requests. */
export function balancedAllocationScore(info: PodSchedulingInfo, nodeInfo: NodeInfo): number {
  const pairs: Array<[number, number]> = [
    [nodeInfo.requested.milliCPU + info.requests.milliCPU, nodeInfo.allocatable.milliCPU],
    [nodeInfo.requested.memory + info.requests.memory, nodeInfo.allocatable.memory],
  ];
  const fractions: number[] = [];
  for (const [requested, allocatable] of pairs) {
    if (allocatable === 0) continue;
    fractions.push(Math.min(1, requested / allocatable));
  }
  let std = 0;
  if (fractions.length === 2) std = Math.abs((fractions[0] - fractions[1]) / 2);
  return Math.trunc((1 - std) * MAX_NODE_SCORE);
}

/** Weighted total per node, in the order given. */
export function scoreNodes(info: PodSchedulingInfo, nodes: readonly NodeInfo[]): number[] {
  const preferredTerms = info.pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
  const taintScores = defaultNormalizeScore(nodes.map((n) => intolerablePreferNoScheduleTaints(info.tolerations, n)), true);
  const affinityScores = preferredTerms.length === 0
    ? nodes.map(() => 0)
    : defaultNormalizeScore(nodes.map((n) => (n.node ? preferredAffinityScore(preferredTerms, n.node) : 0)), false);
  return nodes.map((nodeInfo, i) => taintScores[i] * SCORE_WEIGHTS.TaintToleration
    + affinityScores[i] * SCORE_WEIGHTS.NodeAffinity
    + leastAllocatedScore(info, nodeInfo) * SCORE_WEIGHTS.NodeResourcesFit
    + balancedAllocationScore(info, nodeInfo) * SCORE_WEIGHTS.NodeResourcesBalancedAllocation);
}
