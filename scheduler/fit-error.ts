// FailedScheduling messages exactly as framework.FitError.Error() and DefaultPreemption's PostFilter
// build them: "0/N nodes are available: <count reason, ...>. preemption: 0/N nodes are available: ...".

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
