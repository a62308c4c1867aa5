// The node lifecycle controller's decisions (pkg/controller/nodelifecycle), as pure functions: when a node counts as
// silent, how its conditions turn Unknown, and which taints its Ready condition calls for.

/** The conditions a kubelet owns; the controller marks each Unknown when the kubelet goes silent. */
export const KUBELET_CONDITION_TYPES = ['MemoryPressure', 'DiskPressure', 'PIDPressure', 'Ready'] as const;

export const UNREACHABLE_TAINT_KEY = 'node.kubernetes.io/unreachable';
export const NOT_READY_TAINT_KEY = 'node.kubernetes.io/not-ready';

export interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastHeartbeatTime?: string;
  lastTransitionTime?: string;
}

export interface Taint {
  key: string;
  value?: string;
  effect: string;
  timeAdded?: string;
}

export interface HealthObservation {
  /** Local time the controller last saw a sign of life (a new lease renewTime or Ready heartbeat). */
  probeMs: number;
  leaseRenewTime?: string;
  readyHeartbeat?: string;
}

/** Like the controller's nodeHealthData: a first sighting starts the grace period, any change restarts it. */
export function observeNode(previous: HealthObservation | undefined, leaseRenewTime: string | undefined,
  readyHeartbeat: string | undefined, nowMs: number): HealthObservation {
  if (!previous || previous.leaseRenewTime !== leaseRenewTime || previous.readyHeartbeat !== readyHeartbeat) {
    return { probeMs: nowMs, leaseRenewTime, readyHeartbeat };
  }
  return previous;
}

export function isSilent(observation: HealthObservation, nowMs: number, gracePeriodMs: number): boolean {
  return nowMs - observation.probeMs > gracePeriodMs;
}

function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Every kubelet condition set to Unknown (reason NodeStatusUnknown, "Kubelet stopped posting node status."), or
 * added as Unknown with NodeStatusNeverUpdated when the kubelet never posted it. Other conditions stay as they are.
 * Returns undefined when nothing changes.
 */
export function markConditionsUnknown(conditions: Condition[] | undefined, nowMs: number): Condition[] | undefined {
  const now = rfc3339(nowMs);
  const result = [...(conditions ?? [])];
  let changed = false;
  for (const type of KUBELET_CONDITION_TYPES) {
    const index = result.findIndex((condition) => condition.type === type);
    if (index === -1) {
      result.push({ type, status: 'Unknown', reason: 'NodeStatusNeverUpdated', message: 'Kubelet never posted node status.',
        lastHeartbeatTime: now, lastTransitionTime: now });
      changed = true;
    } else if (result[index].status !== 'Unknown') {
      result[index] = { ...result[index], status: 'Unknown', reason: 'NodeStatusUnknown',
        message: 'Kubelet stopped posting node status.', lastTransitionTime: now };
      changed = true;
    }
  }
  return changed ? result : undefined;
}

/**
 * The taints a node's Ready status calls for: unreachable (Unknown) or not-ready (False) with NoSchedule (no
 * timeAdded, as TaintNodesByCondition adds it) and NoExecute (timeAdded, for taint-based eviction); none when Ready
 * is True. Taints not managed here are kept. Returns undefined when nothing changes.
 */
export function reconcileTaints(taints: Taint[] | undefined, readyStatus: string | undefined, nowMs: number): Taint[] | undefined {
  const current = taints ?? [];
  const wantedKey = readyStatus === 'Unknown' ? UNREACHABLE_TAINT_KEY : readyStatus === 'False' ? NOT_READY_TAINT_KEY : undefined;
  const managed = (taint: Taint): boolean => taint.key === UNREACHABLE_TAINT_KEY || taint.key === NOT_READY_TAINT_KEY;
  const kept = current.filter((taint) => !managed(taint) || (taint.key === wantedKey && (taint.effect === 'NoSchedule' || taint.effect === 'NoExecute')));
  const result = [...kept];
  if (wantedKey) {
    if (!result.some((taint) => taint.key === wantedKey && taint.effect === 'NoSchedule')) result.push({ key: wantedKey, effect: 'NoSchedule' });
    if (!result.some((taint) => taint.key === wantedKey && taint.effect === 'NoExecute')) result.push({ key: wantedKey, effect: 'NoExecute', timeAdded: rfc3339(nowMs) });
  }
  const same = result.length === current.length && result.every((taint) => current.includes(taint));
  return same ? undefined : result;
}
