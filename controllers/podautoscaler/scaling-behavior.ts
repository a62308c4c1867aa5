// What the horizontal pod autoscaler remembers between syncs and how it tempers a proposal, as horizontal.go
// (1.32): recent recommendations per HPA (the scale-down stabilization window: the highest recommendation of the
// window wins, 300 s by default or behavior.scaleDown.stabilizationWindowSeconds; scale-up likewise with its own
// window), recent scale events (behavior's rate policies: Pods/Percent per period, selectPolicy Max/Min/Disabled),
// and the limits (min/max replicas; without a behavior, at most max(2 × current, 4) in one step). Each function
// returns the condition reason and message upstream sets, word for word.

export interface ScalingPolicy {
  type: string;
  value: number;
  periodSeconds: number;
}

export interface ScalingRules {
  stabilizationWindowSeconds?: number;
  selectPolicy?: string;
  policies?: ScalingPolicy[];
}

export interface Behavior {
  scaleUp?: ScalingRules;
  scaleDown?: ScalingRules;
}

export interface ConditionChange {
  reason: string;
  message: string;
}

interface Recommendation {
  replicas: number;
  atMs: number;
}

interface ScaleEvent {
  change: number;
  atMs: number;
  outdated: boolean;
}

export interface Normalized {
  desired: number;
  /** AbleToScale (True) reason and message. */
  ableToScale: ConditionChange;
  /** ScalingLimited: status True when the limits changed the stabilized recommendation. */
  limited: ConditionChange & { status: 'True' | 'False' };
}

const READY_FOR_NEW_SCALE: ConditionChange = { reason: 'ReadyForNewScale', message: 'recommended size matches current size' };
const SCALE_DOWN_STABILIZED: ConditionChange = {
  reason: 'ScaleDownStabilized', message: 'recent recommendations were higher than current one, applying the highest recent recommendation',
};
const SCALE_UP_STABILIZED: ConditionChange = {
  reason: 'ScaleUpStabilized', message: 'recent recommendations were lower than current one, applying the lowest recent recommendation',
};

/** convertDesiredReplicasWithRules (no behavior): min, max, and the 2×/4 scale-up limit. */
export function limitWithRules(current: number, desired: number, min: number, max: number): { replicas: number } & ConditionChange {
  const scaleUpLimit = Math.max(2 * current, 4);
  let maximum: number;
  let reason: string;
  let message: string;
  if (max > scaleUpLimit) {
    maximum = scaleUpLimit;
    reason = 'ScaleUpLimit';
    message = 'the desired replica count is increasing faster than the maximum scale rate';
  } else {
    maximum = max;
    reason = 'TooManyReplicas';
    message = 'the desired replica count is more than the maximum replica count';
  }
  if (desired < min) return { replicas: min, reason: 'TooFewReplicas', message: 'the desired replica count is less than the minimum replica count' };
  if (desired > maximum) return { replicas: maximum, reason, message };
  return { replicas: desired, reason: 'DesiredWithinRange', message: 'the desired count is within the acceptable range' };
}

function changeInPeriod(periodSeconds: number, events: ScaleEvent[], nowMs: number): number {
  const cutoff = nowMs - periodSeconds * 1000;
  return events.filter((event) => event.atMs > cutoff).reduce((sum, event) => sum + event.change, 0);
}

/** calculateScaleUpLimitWithScalingRules. */
export function scaleUpLimit(current: number, up: ScaleEvent[], down: ScaleEvent[], rules: ScalingRules, nowMs: number): number {
  if (rules.selectPolicy === 'Disabled') return current;
  const pick = rules.selectPolicy === 'Min' ? Math.min : Math.max;
  let result = rules.selectPolicy === 'Min' ? Number.MAX_SAFE_INTEGER : Number.MIN_SAFE_INTEGER;
  for (const policy of rules.policies ?? []) {
    const start = current - changeInPeriod(policy.periodSeconds, up, nowMs) + changeInPeriod(policy.periodSeconds, down, nowMs);
    const proposed = policy.type === 'Pods' ? start + policy.value : Math.ceil(start * (1 + policy.value / 100));
    result = pick(result, proposed);
  }
  return result;
}

/** calculateScaleDownLimitWithBehaviors. */
export function scaleDownLimit(current: number, up: ScaleEvent[], down: ScaleEvent[], rules: ScalingRules, nowMs: number): number {
  if (rules.selectPolicy === 'Disabled') return current;
  const pick = rules.selectPolicy === 'Min' ? Math.max : Math.min;
  let result = rules.selectPolicy === 'Min' ? Number.MIN_SAFE_INTEGER : Number.MAX_SAFE_INTEGER;
  for (const policy of rules.policies ?? []) {
    const start = current - changeInPeriod(policy.periodSeconds, up, nowMs) + changeInPeriod(policy.periodSeconds, down, nowMs);
    const proposed = policy.type === 'Pods' ? start - policy.value : Math.trunc(start * (1 - policy.value / 100));
    result = pick(result, proposed);
  }
  return result;
}

/** The per-HPA memory of the controller (recommendations, scaleUpEvents, scaleDownEvents). */
export class ScalingHistory {
  private readonly recommendations = new Map<string, Recommendation[]>();
  private readonly upEvents = new Map<string, ScaleEvent[]>();
  private readonly downEvents = new Map<string, ScaleEvent[]>();

  constructor(private readonly downscaleStabilizationMs: number, private readonly now: () => number) {}

  forget(key: string): void {
    this.recommendations.delete(key);
    this.upEvents.delete(key);
    this.downEvents.delete(key);
  }

  /** recordInitialRecommendation. */
  recordInitial(key: string, current: number): void {
    if (!this.recommendations.has(key)) this.recommendations.set(key, [{ replicas: current, atMs: this.now() }]);
  }

  private record(key: string, replicas: number, oldIndex: number | undefined): void {
    const list = this.recommendations.get(key) ?? [];
    if (oldIndex !== undefined) list[oldIndex] = { replicas, atMs: this.now() };
    else list.push({ replicas, atMs: this.now() });
    this.recommendations.set(key, list);
  }

  /** normalizeDesiredReplicas: no behavior given. */
  normalize(key: string, current: number, proposed: number, min: number, max: number): Normalized {
    const now = this.now();
    const cutoff = now - this.downscaleStabilizationMs;
    let stabilized = proposed;
    let oldIndex: number | undefined;
    (this.recommendations.get(key) ?? []).forEach((rec, i) => {
      if (rec.atMs < cutoff) oldIndex = i;
      else if (rec.replicas > stabilized) stabilized = rec.replicas;
    });
    this.record(key, proposed, oldIndex);
    const limited = limitWithRules(current, stabilized, min, max);
    return {
      desired: limited.replicas,
      ableToScale: stabilized !== proposed ? SCALE_DOWN_STABILIZED : READY_FOR_NEW_SCALE,
      limited: { status: limited.replicas === stabilized ? 'False' : 'True', reason: limited.reason, message: limited.message },
    };
  }

  /** normalizeDesiredReplicasWithBehaviors: stabilization windows of both directions, then the rate policies. */
  normalizeWithBehavior(key: string, behavior: Behavior, current: number, proposed: number, min: number, max: number): Normalized {
    const now = this.now();
    const up = behavior.scaleUp ?? {};
    const down = behavior.scaleDown ?? {};
    const upCutoff = now - (up.stabilizationWindowSeconds ?? 0) * 1000;
    // maybeInitScaleDownStabilizationWindow: an unset scale-down window is the controller's default.
    const downCutoff = now - (down.stabilizationWindowSeconds ?? this.downscaleStabilizationMs / 1000) * 1000;
    let upRecommendation = proposed;
    let downRecommendation = proposed;
    let oldIndex: number | undefined;
    (this.recommendations.get(key) ?? []).forEach((rec, i) => {
      if (rec.atMs > upCutoff) upRecommendation = Math.min(rec.replicas, upRecommendation);
      if (rec.atMs > downCutoff) downRecommendation = Math.max(rec.replicas, downRecommendation);
      if (rec.atMs < upCutoff && rec.atMs < downCutoff) oldIndex = i;
    });
    let stabilized = current;
    if (stabilized < upRecommendation) stabilized = upRecommendation;
    if (stabilized > downRecommendation) stabilized = downRecommendation;
    this.record(key, proposed, oldIndex);
    const stabilizedReason = proposed >= current ? SCALE_UP_STABILIZED : SCALE_DOWN_STABILIZED;
    const ableToScale = stabilized !== proposed ? stabilizedReason : READY_FOR_NEW_SCALE;

    const upEvents = this.upEvents.get(key) ?? [];
    const downEvents = this.downEvents.get(key) ?? [];
    let desired = stabilized;
    let reason = 'DesiredWithinRange';
    let message = 'the desired count is within the acceptable range';
    if (stabilized > current) {
      const limit = Math.max(scaleUpLimit(current, upEvents, downEvents, up, now), current);
      let maximum = max;
      if (maximum > limit) {
        maximum = limit;
        reason = 'ScaleUpLimit';
        message = 'the desired replica count is increasing faster than the maximum scale rate';
      } else {
        reason = 'TooManyReplicas';
        message = 'the desired replica count is more than the maximum replica count';
      }
      if (stabilized > maximum) desired = maximum;
      else { reason = 'DesiredWithinRange'; message = 'the desired count is within the acceptable range'; }
    } else if (stabilized < current) {
      const limit = Math.min(scaleDownLimit(current, upEvents, downEvents, down, now), current);
      let minimum = min;
      if (minimum < limit) {
        minimum = limit;
        reason = 'ScaleDownLimit';
        message = 'the desired replica count is decreasing faster than the maximum scale rate';
      } else {
        reason = 'TooFewReplicas';
        message = 'the desired replica count is less than the minimum replica count';
      }
      if (stabilized < minimum) desired = minimum;
      else { reason = 'DesiredWithinRange'; message = 'the desired count is within the acceptable range'; }
    }
    return { desired, ableToScale, limited: { status: desired === stabilized ? 'False' : 'True', reason, message } };
  }

  /** storeScaleEvent: only with a behavior (its rate policies read them). */
  storeScaleEvent(key: string, behavior: Behavior | undefined, previous: number, next: number): void {
    if (!behavior) return;
    const now = this.now();
    const upward = next > previous;
    const rules = (upward ? behavior.scaleUp : behavior.scaleDown) ?? {};
    const longest = Math.max(0, ...(rules.policies ?? []).map((policy) => policy.periodSeconds));
    const events = (upward ? this.upEvents : this.downEvents).get(key) ?? [];
    for (const event of events) if (event.atMs <= now - longest * 1000) event.outdated = true;
    const change = Math.abs(next - previous);
    const reuse = events.findIndex((event) => event.outdated);
    if (reuse >= 0) events[reuse] = { change, atMs: now, outdated: false };
    else events.push({ change, atMs: now, outdated: false });
    (upward ? this.upEvents : this.downEvents).set(key, events);
  }
}
