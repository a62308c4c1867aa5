// The rollout strategies and scaling of pkg/controller/deployment (rolling.go, recreate.go, sync.go):
// RollingUpdate surges the new ReplicaSet within maxSurge and scales old ones down within
// maxUnavailable (unhealthy old replicas first); Recreate scales old ReplicaSets to zero and waits
// for their pods to be gone before scaling up the new one; a resize mid-rollout is spread over the
// ReplicaSets proportionally; old ReplicaSets beyond revisionHistoryLimit are deleted.

import type { PodView, WorkloadObject } from '../framework/object-views.ts';
import {
  activeReplicaSets, byCreation, desiredReplicasAnnotation, isRollingUpdate, maxSurge, maxUnavailable, proportion,
  revisionOf, specReplicas, statusInt, sumSpecReplicas, sumStatus,
} from './util.ts';

export interface RolloutOps {
  /** Scales `rs` to `size` (and refreshes its replica annotations); true when it changed. */
  scale(rs: WorkloadObject, size: number, d: WorkloadObject): Promise<boolean>;
  podsOf(rs: WorkloadObject): PodView[];
  deleteReplicaSet(rs: WorkloadObject): Promise<void>;
}

/** NewRSNewReplicas: how far the new ReplicaSet may grow now. */
export function newRSNewReplicas(d: WorkloadObject, allRSs: WorkloadObject[], newRS: WorkloadObject | undefined): number {
  if (!isRollingUpdate(d)) return specReplicas(d);
  const newReplicas = newRS ? specReplicas(newRS) : 0;
  const current = sumSpecReplicas(allRSs);
  const maxTotal = specReplicas(d) + maxSurge(d);
  if (current >= maxTotal) return newReplicas;
  return newReplicas + Math.min(maxTotal - current, specReplicas(d) - newReplicas);
}

async function reconcileNewReplicaSet(ops: RolloutOps, allRSs: WorkloadObject[], newRS: WorkloadObject, d: WorkloadObject): Promise<boolean> {
  if (specReplicas(newRS) === specReplicas(d)) return false;
  if (specReplicas(newRS) > specReplicas(d)) return ops.scale(newRS, specReplicas(d), d);
  return ops.scale(newRS, newRSNewReplicas(d, allRSs, newRS), d);
}

async function cleanupUnhealthyReplicas(ops: RolloutOps, oldRSs: WorkloadObject[], d: WorkloadObject, maxCleanup: number): Promise<number> {
  let scaledDown = 0;
  for (const rs of [...oldRSs].sort(byCreation)) {
    if (scaledDown >= maxCleanup) break;
    const replicas = specReplicas(rs);
    const available = statusInt(rs, 'availableReplicas');
    if (replicas === 0 || available === replicas) continue;
    const count = Math.min(maxCleanup - scaledDown, replicas - available);
    if (count <= 0) continue;
    await ops.scale(rs, replicas - count, d);
    scaledDown += count;
  }
  return scaledDown;
}

async function scaleDownOldForRollingUpdate(ops: RolloutOps, allRSs: WorkloadObject[], oldRSs: WorkloadObject[], d: WorkloadObject): Promise<number> {
  const minAvailable = specReplicas(d) - maxUnavailable(d);
  const available = sumStatus(allRSs, 'availableReplicas');
  if (available <= minAvailable) return 0;
  const target = available - minAvailable;
  let scaledDown = 0;
  for (const rs of [...oldRSs].sort(byCreation)) {
    if (scaledDown >= target) break;
    if (specReplicas(rs) === 0) continue;
    const count = Math.min(specReplicas(rs), target - scaledDown);
    await ops.scale(rs, specReplicas(rs) - count, d);
    scaledDown += count;
  }
  return scaledDown;
}

async function reconcileOldReplicaSets(ops: RolloutOps, allRSs: WorkloadObject[], oldRSs: WorkloadObject[], newRS: WorkloadObject, d: WorkloadObject): Promise<boolean> {
  if (sumSpecReplicas(oldRSs) === 0) return false;
  const minAvailable = specReplicas(d) - maxUnavailable(d);
  const newUnavailable = specReplicas(newRS) - statusInt(newRS, 'availableReplicas');
  const maxScaledDown = sumSpecReplicas(allRSs) - minAvailable - newUnavailable;
  if (maxScaledDown <= 0) return false;
  const cleaned = await cleanupUnhealthyReplicas(ops, oldRSs, d, maxScaledDown);
  const scaled = await scaleDownOldForRollingUpdate(ops, [...oldRSs, newRS], oldRSs, d);
  return cleaned + scaled > 0;
}

/** rolloutRolling's middle: true when something was scaled (status is synced either way by the caller). */
export async function rollingStep(ops: RolloutOps, newRS: WorkloadObject, oldRSs: WorkloadObject[], d: WorkloadObject): Promise<boolean> {
  const allRSs = [...oldRSs, newRS];
  if (await reconcileNewReplicaSet(ops, allRSs, newRS, d)) return true;
  return reconcileOldReplicaSets(ops, allRSs, activeReplicaSets(oldRSs), newRS, d);
}

/** recreate.go's scale-down half: true when old ReplicaSets were scaled down. */
export async function scaleDownOldForRecreate(ops: RolloutOps, oldRSs: WorkloadObject[], d: WorkloadObject): Promise<boolean> {
  let scaled = false;
  for (const rs of activeReplicaSets(oldRSs)) {
    if (await ops.scale(rs, 0, d)) scaled = true;
  }
  return scaled;
}

/** oldPodsRunning: any pod of an old ReplicaSet (or a stale one of the new) still not finished. */
export function oldPodsRunning(ops: RolloutOps, newRS: WorkloadObject | undefined, oldRSs: WorkloadObject[]): boolean {
  if (sumStatus(oldRSs, 'replicas') > 0) return true;
  return oldRSs.some((rs) => ops.podsOf(rs).some((pod) => pod.phase !== 'Failed' && pod.phase !== 'Succeeded'));
}

/** FindActiveOrLatest. */
function activeOrLatest(newRS: WorkloadObject | undefined, oldRSs: WorkloadObject[]): WorkloadObject | undefined {
  if (!newRS && oldRSs.length === 0) return undefined;
  const sorted = [...oldRSs].sort(byCreation).reverse();
  const active = activeReplicaSets([...sorted, newRS]);
  if (active.length === 0) return newRS ?? sorted[0];
  return active.length === 1 ? active[0] : undefined;
}

/** IsSaturated. */
function saturated(d: WorkloadObject, rs: WorkloadObject | undefined): boolean {
  if (!rs) return false;
  return specReplicas(rs) === specReplicas(d) && desiredReplicasAnnotation(rs) === specReplicas(d)
    && statusInt(rs, 'availableReplicas') === specReplicas(d);
}

/** sync.go scale(): a Deployment resized (or paused) — not a rollout step. */
export async function scaleDeployment(ops: RolloutOps, d: WorkloadObject, newRS: WorkloadObject | undefined, oldRSs: WorkloadObject[]): Promise<void> {
  const only = activeOrLatest(newRS, oldRSs);
  if (only) {
    if (specReplicas(only) !== specReplicas(d)) await ops.scale(only, specReplicas(d), d);
    return;
  }
  if (saturated(d, newRS)) {
    for (const rs of activeReplicaSets(oldRSs)) await ops.scale(rs, 0, d);
    return;
  }
  if (!isRollingUpdate(d)) return;
  const allRSs = activeReplicaSets([...oldRSs, newRS]);
  const allowed = specReplicas(d) > 0 ? specReplicas(d) + maxSurge(d) : 0;
  const toAdd = allowed - sumSpecReplicas(allRSs);
  // Newest first when growing, oldest first when shrinking; larger before smaller.
  allRSs.sort((a, b) => (specReplicas(b) - specReplicas(a)) || (toAdd > 0 ? byCreation(b, a) : byCreation(a, b)));
  const sizes = new Map<WorkloadObject, number>();
  let added = 0;
  for (const rs of allRSs) {
    if (toAdd !== 0) {
      const share = proportion(rs, d, toAdd, added);
      sizes.set(rs, specReplicas(rs) + share);
      added += share;
    } else {
      sizes.set(rs, specReplicas(rs));
    }
  }
  for (let i = 0; i < allRSs.length; i++) {
    const rs = allRSs[i];
    let size = sizes.get(rs)!;
    if (i === 0 && toAdd !== 0) size = Math.max(0, size + toAdd - added);
    await ops.scale(rs, size, d);
  }
}

/** isScalingEvent: an active ReplicaSet was sized for a different replica count than the Deployment's. */
export function isScalingEvent(d: WorkloadObject, newRS: WorkloadObject | undefined, oldRSs: WorkloadObject[]): boolean {
  return activeReplicaSets([...oldRSs, newRS]).some((rs) => {
    const desired = desiredReplicasAnnotation(rs);
    return desired !== undefined && desired !== specReplicas(d);
  });
}

/** cleanupDeployment: delete the oldest idle ReplicaSets beyond revisionHistoryLimit. */
export async function cleanupOldReplicaSets(ops: RolloutOps, oldRSs: WorkloadObject[], d: WorkloadObject): Promise<void> {
  const limit = d.spec?.revisionHistoryLimit;
  if (typeof limit !== 'number') return;
  const cleanable = oldRSs.filter((rs) => !rs.metadata.deletionTimestamp).sort((a, b) => revisionOf(a) - revisionOf(b) || byCreation(a, b));
  const excess = cleanable.length - limit;
  for (let i = 0; i < excess; i++) {
    const rs = cleanable[i];
    if (statusInt(rs, 'replicas') !== 0 || specReplicas(rs) !== 0) continue;
    if ((rs.metadata.generation ?? 0) > statusInt(rs, 'observedGeneration')) continue;
    await ops.deleteReplicaSet(rs);
  }
}
