// FailedScheduling messages exactly as framework.FitError.Error() and DefaultPreemption's PostFilter
// build them: "0/N nodes are available: <count reason, ...>. preemption: 0/N nodes are available: ...".
import type { FilterFailure, PodSchedulingInfo } from './filters.ts';
import { runFilters } from './filters.ts';
import type { NodeInfo } from './node-info.ts';

export const PREEMPTION_NOT_HELPFUL = 'Preemption is not helpful for scheduling';
export const NO_PREEMPTION_VICTIMS = 'No preemption victims found for incoming pod';
export const PREEMPTION_POLICY_NEVER = 'not eligible due to preemptionPolicy=Never.';
export const NO_NODES_AVAILABLE = 'no nodes available to schedule pods';

/** Counts each reason over the nodes, formats "<count> <reason>", plain string sort, joined ", ". */
export function formatReasonHistogram(reasonsPerNode: Iterable<readonly string[]>): string {
  const counts = new Map<string, number>();
  for (const reasons of reasonsPerNode) for (const reason of reasons) counts.set(reason, (counts.get(reason) ?? 0) + 1);
  const parts = [...counts].map(([reason, count]) => `${count} ${reason}`);
  // Go's sort.Strings orders by bytes; JS default sort orders by UTF-16 units, identical for these ASCII strings.
  parts.sort();
  return parts.join(', ');
}

export function fitErrorMessage(numAllNodes: number, reasonsPerNode: Iterable<readonly string[]>, postFilterMessage = ''): string {
  let message = `0/${numAllNodes} nodes are available:`;
  const histogram = formatReasonHistogram(reasonsPerNode);
  if (histogram) message += ` ${histogram}.`;
  if (postFilterMessage) message += ` ${postFilterMessage}`;
  return message;
}

/**
 * DefaultPreemption's dry run, reduced to its message: nodes that failed with UnschedulableAndUnresolvable
 * are "not helpful"; the others are checked with every lower-priority pod removed. Returns the per-node
 * preemption reasons and the names of nodes where evicting victims would make the pod fit.
 */
export function preemptionOutcome(
  info: PodSchedulingInfo,
  nodeStatuses: ReadonlyMap<string, FilterFailure>,
  nodesByName: ReadonlyMap<string, NodeInfo>,
): { reasonsPerNode: string[][]; nodesWithVictims: string[] } {
  const reasonsPerNode: string[][] = [];
  const nodesWithVictims: string[] = [];
  for (const [name, failure] of nodeStatuses) {
    if (failure.code === 'UnschedulableAndUnresolvable') {
      reasonsPerNode.push([PREEMPTION_NOT_HELPFUL]);
      continue;
    }
    const nodeInfo = nodesByName.get(name);
    const victims = nodeInfo ? [...nodeInfo.pods].filter(([, entry]) => entry.priority < info.priority).map(([key]) => key) : [];
    if (!nodeInfo || victims.length === 0) {
      reasonsPerNode.push([NO_PREEMPTION_VICTIMS]);
      continue;
    }
    const stillFailing = runFilters(info, nodeInfo.withoutPods(victims));
    if (stillFailing) {
      reasonsPerNode.push(stillFailing.reasons);
    } else {
      nodesWithVictims.push(name);
      reasonsPerNode.push([NO_PREEMPTION_VICTIMS]);
    }
  }
  return { reasonsPerNode, nodesWithVictims };
}

/** The full FailedScheduling message for a pod that passed no node's filters. */
export function failedSchedulingMessage(
  info: PodSchedulingInfo,
  numAllNodes: number,
  nodeStatuses: ReadonlyMap<string, FilterFailure>,
  nodesByName: ReadonlyMap<string, NodeInfo>,
): string {
  const filterReasons = [...nodeStatuses.values()].map((failure) => failure.reasons);
  let postFilter: string;
  if (info.pod.spec?.preemptionPolicy === 'Never') {
    postFilter = `preemption: ${PREEMPTION_POLICY_NEVER}`;
  } else {
    const { reasonsPerNode } = preemptionOutcome(info, nodeStatuses, nodesByName);
    postFilter = `preemption: ${fitErrorMessage(numAllNodes, reasonsPerNode)}`;
  }
  return fitErrorMessage(numAllNodes, filterReasons, postFilter);
}
