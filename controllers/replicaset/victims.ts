// Which pods a shrinking ReplicaSet deletes first (getPodsToDelete with ActivePodsWithRanks,
// pkg/controller/controller_utils.go): unscheduled before scheduled, Pending before Unknown before
// Running, not ready before ready, lower pod-deletion-cost first, pods doubled up on a node with
// other pods of the same owners first, ready for less time first, more restarts first, newer first.

import type { PodView } from '../framework/object-views.ts';

const PHASE_RANK: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };
const DELETION_COST = 'controller.kubernetes.io/pod-deletion-cost';

function deletionCost(pod: PodView): number {
  const value = Number(pod.metadata.annotations?.[DELETION_COST] ?? 0);
  return Number.isFinite(value) ? value : 0;
}

function time(value: string | undefined): number {
  const at = value ? Date.parse(value) : NaN;
  return Number.isNaN(at) ? 0 : at;
}

/** Pods of `filtered` ordered most-deletable first; `related` are the pods of this owner and its siblings. */
export function rankPodsForDeletion(filtered: PodView[], related: PodView[]): PodView[] {
  const onNode = new Map<string, number>();
  for (const pod of related) {
    if (pod.nodeName && pod.phase !== 'Succeeded' && pod.phase !== 'Failed' && !pod.metadata.deletionTimestamp) {
      onNode.set(pod.nodeName, (onNode.get(pod.nodeName) ?? 0) + 1);
    }
  }
  const rank = (pod: PodView): number => (pod.nodeName ? onNode.get(pod.nodeName) ?? 0 : 0);
  return [...filtered].sort((a, b) => {
    // 1. Unassigned < assigned.
    if (!a.nodeName !== !b.nodeName) return a.nodeName ? 1 : -1;
    // 2. Pending < Unknown < Running.
    const phase = (PHASE_RANK[a.phase] ?? 1) - (PHASE_RANK[b.phase] ?? 1);
    if (phase !== 0) return phase;
    // 3. Not ready < ready.
    if (a.ready !== b.ready) return a.ready ? 1 : -1;
    // 4. Lower deletion cost first.
    const cost = deletionCost(a) - deletionCost(b);
    if (cost !== 0) return cost;
    // 5. More co-located related pods first.
    const colocated = rank(b) - rank(a);
    if (colocated !== 0) return colocated;
    // 6. Ready for less time first.
    if (a.ready && b.ready) {
      const since = time(b.readySince) - time(a.readySince);
      if (since !== 0) return since;
    }
    // 7. More restarts first.
    const restarts = b.restartCount - a.restartCount;
    if (restarts !== 0) return restarts;
    // 8. Newer first.
    return time(b.metadata.creationTimestamp) - time(a.metadata.creationTimestamp);
  });
}
