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
  if (nodeInfo.preferNoScheduleTaints.length === 0) return 0;
  const relevant = tolerations.filter((t) => !t.effect || t.effect === 'PreferNoSchedule');
  return countIntolerable(relevant, nodeInfo);
}

function countIntolerable(relevantTolerations: readonly V1Toleration[], nodeInfo: NodeInfo): number {
  let count = 0;
  for (const taint of nodeInfo.preferNoScheduleTaints) {
    if (!relevantTolerations.some((toleration) => toleratesTaint(toleration, taint))) count++;
  }
  return count;
}

/** ((capacity - requested) * MaxNodeScore) / capacity, 0 when the node has none of it or is over-requested. */
function leastRequestedPart(requested: number, capacity: number): number {
  if (capacity === 0 || requested > capacity) return 0;
  return Math.trunc(((capacity - requested) * MAX_NODE_SCORE) / capacity);
}

/** LeastAllocated over cpu and memory (weight 1 each), using non-zero requests. */
export function leastAllocatedScore(info: PodSchedulingInfo, nodeInfo: NodeInfo): number {
  const cpu = leastRequestedPart(nodeInfo.nonZeroRequested.milliCPU + info.nonZeroRequests.milliCPU, nodeInfo.allocatable.milliCPU);
  const memory = leastRequestedPart(nodeInfo.nonZeroRequested.memory + info.nonZeroRequests.memory, nodeInfo.allocatable.memory);
  return Math.trunc((cpu + memory) / 2);
}

/** BalancedAllocation (1.32): 1 - standard deviation of cpu/memory fractions, using actual requests. */
export function balancedAllocationScore(info: PodSchedulingInfo, nodeInfo: NodeInfo): number {
  const cpuAllocatable = nodeInfo.allocatable.milliCPU;
  const memoryAllocatable = nodeInfo.allocatable.memory;
  // With one resource (or none) to compare the standard deviation is 0.
  if (cpuAllocatable === 0 || memoryAllocatable === 0) return MAX_NODE_SCORE;
  const cpuFraction = Math.min(1, (nodeInfo.requested.milliCPU + info.requests.milliCPU) / cpuAllocatable);
  const memoryFraction = Math.min(1, (nodeInfo.requested.memory + info.requests.memory) / memoryAllocatable);
  const std = Math.abs((cpuFraction - memoryFraction) / 2);
  return Math.trunc((1 - std) * MAX_NODE_SCORE);
}

/** Weighted total per node, in the order given. */
export function scoreNodes(info: PodSchedulingInfo, nodes: readonly NodeInfo[]): number[] {
  const count = nodes.length;
  const taintCounts = new Array<number>(count);
  let anyTaint = false;
  for (let i = 0; i < count; i++) {
    const taints = nodes[i].preferNoScheduleTaints.length === 0 ? 0 : countIntolerable(info.preferNoScheduleTolerations, nodes[i]);
    taintCounts[i] = taints;
    if (taints > 0) anyTaint = true;
  }
  // Reverse-normalised: with no intolerable taint anywhere every node gets MaxNodeScore.
  const taintScores = anyTaint ? defaultNormalizeScore(taintCounts, true) : undefined;
  const terms = info.preferredAffinityTerms;
  const affinityScores = terms.length === 0
    ? undefined
    : defaultNormalizeScore(nodes.map((n) => (n.node ? preferredAffinityScore(terms, n.node) : 0)), false);
  const totals = new Array<number>(count);
  for (let i = 0; i < count; i++) {
    const nodeInfo = nodes[i];
    totals[i] = (taintScores ? taintScores[i] : MAX_NODE_SCORE) * SCORE_WEIGHTS.TaintToleration
      + (affinityScores ? affinityScores[i] : 0) * SCORE_WEIGHTS.NodeAffinity
      + leastAllocatedScore(info, nodeInfo) * SCORE_WEIGHTS.NodeResourcesFit
      + balancedAllocationScore(info, nodeInfo) * SCORE_WEIGHTS.NodeResourcesBalancedAllocation;
  }
  return totals;
}
