// The taint eviction controller's decisions (pkg/controller/tainteviction), as pure functions: which of a
// node's taints count (NoExecute only), which tolerations match them (v1helper.GetMatchingTolerations: the
// first toleration that tolerates each taint), how long the pod may stay (the smallest tolerationSeconds
// among those, forever when none has one, at once when a taint is not tolerated or a toleration has
// tolerationSeconds <= 0), and what that means for an eviction already scheduled.

export type { Taint, Toleration } from '../../api/tolerations.ts';
export { toleratesTaint } from '../../api/tolerations.ts';
import { toleratesTaint, type Taint, type Toleration } from '../../api/tolerations.ts';

/** getNoExecuteTaints. */
export function noExecuteTaints(taints: readonly Taint[]): Taint[] {
  return taints.filter((taint) => taint.effect === 'NoExecute');
}

/** GetMatchingTolerations: undefined when some taint is not tolerated, else the first match per taint. */
export function matchingTolerations(taints: readonly Taint[], tolerations: readonly Toleration[]): Toleration[] | undefined {
  const used: Toleration[] = [];
  for (const taint of taints) {
    const match = tolerations.find((toleration) => toleratesTaint(toleration, taint));
    if (!match) return undefined;
    used.push(match);
  }
  return used;
}

/**
 * getMinTolerationTime in milliseconds: 0 for no tolerations or any tolerationSeconds <= 0, Infinity when
 * none of them limits the time, else the smallest tolerationSeconds.
 */
export function minTolerationMs(tolerations: readonly Toleration[]): number {
  if (tolerations.length === 0) return 0;
  let min = Infinity;
  for (const toleration of tolerations) {
    const seconds = toleration.tolerationSeconds;
    if (typeof seconds !== 'number' || Number.isNaN(seconds)) continue;
    if (seconds <= 0) return 0;
    min = Math.min(min, seconds);
  }
  return min === Infinity ? Infinity : min * 1000;
}

/** An eviction in the timed queue: when it was first scheduled and when it fires. */
export interface ScheduledEviction {
  createdAtMs: number;
  fireAtMs: number;
}

export type EvictionDecision =
  /** No deadline any more (no NoExecute taint, or tolerated forever): cancel a scheduled eviction. */
  | { kind: 'cancel' }
  /** A taint is not tolerated: cancel what is scheduled and delete at once. */
  | { kind: 'evict-now' }
  /** Schedule (replacing what is scheduled) an eviction at fireAtMs, counted from createdAtMs. */
  | { kind: 'schedule'; createdAtMs: number; fireAtMs: number }
  /** An eviction scheduled earlier stands. */
  | { kind: 'keep' };

/**
 * processPodOnNode: what to do with a pod whose node has `taints` (its NoExecute taints) at `nowMs`.
 * As upstream, an eviction already scheduled is kept when it started earlier (its deadline counts from
 * when the taint first applied to the pod, not from this update).
 */
export function decideEviction(taints: readonly Taint[], tolerations: readonly Toleration[], nowMs: number,
  scheduled: ScheduledEviction | undefined): EvictionDecision {
  if (taints.length === 0) return { kind: 'cancel' };
  const used = matchingTolerations(taints, tolerations);
  if (!used) return { kind: 'evict-now' };
  const minMs = minTolerationMs(used);
  if (minMs === Infinity) return { kind: 'cancel' };
  const fireAtMs = nowMs + minMs;
  if (scheduled && scheduled.createdAtMs + minMs < fireAtMs) return { kind: 'keep' };
  return { kind: 'schedule', createdAtMs: nowMs, fireAtMs };
}

/** The pod's tolerations that can match a NoExecute taint (effect NoExecute or empty): all the controller keeps. */
export function noExecuteTolerations(tolerations: readonly Toleration[]): Toleration[] {
  return tolerations.filter((toleration) => !toleration.effect || toleration.effect === 'NoExecute');
}
