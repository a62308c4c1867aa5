// The horizontal pod autoscaler's arithmetic against upstream's cases (replica_calculator_test.go and
// horizontal_test.go): ceil(current × usage / target), the 0.1 tolerance, unready and missing pods, requests,
// the scale-down stabilization window, the 2×/4 scale-up limit, behavior's rate policies, and the condition reasons.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  rawResourceReplicas, resourceReplicas, type CalculatorOptions, type PodForScaling, type PodMetric,
} from '../controllers/podautoscaler/replica-calculator.ts';
import { limitWithRules, ScalingHistory } from '../controllers/podautoscaler/scaling-behavior.ts';
import { milliQuantityText } from '../controllers/podautoscaler/horizontal-controller.ts';

const NOW = Date.parse('2024-06-01T12:00:00Z');
const OPTIONS: CalculatorOptions = { tolerance: 0.1, cpuInitializationPeriodMs: 300_000, delayOfInitialReadinessStatusMs: 30_000, nowMs: NOW };

/** A Running pod started 10 minutes ago and Ready since, with one container requesting `cpu`. */
function pod(name: string, cpu = '1', extra: Partial<PodForScaling> = {}): PodForScaling {
  return {
    name, phase: 'Running', deleting: false, startTimeMs: NOW - 600_000,
    ready: { status: 'True', lastTransitionMs: NOW - 590_000 },
    containers: [{ name: 'app', requests: { cpu } }], ...extra,
  };
}

function metrics(values: Record<string, number>): Map<string, PodMetric> {
  return new Map(Object.entries(values).map(([name, value]) => [name, { timestampMs: NOW - 10_000, windowMs: 60_000, value }]));
}

describe('replica calculation (utilization)', () => {
  test('scale up: ceil(current × utilization / target)', () => {
    // upstream TestReplicaCalcScaleUp: 3 pods of 1 CPU using 300m, 500m, 700m, target 30 % → 50 % → 5.
    const result = resourceReplicas(3, 30, 'cpu', [pod('a'), pod('b'), pod('c')], metrics({ a: 300, b: 500, c: 700 }), '', OPTIONS);
    assert.deepEqual(result, { replicas: 5, utilization: 50, rawAverage: 500 });
  });

  test('scale down, and the example of the task: one pod at 200 % of its request against 50 % asks for 4', () => {
    const down = resourceReplicas(5, 50, 'cpu', ['a', 'b', 'c', 'd', 'e'].map((n) => pod(n)), metrics({ a: 100, b: 300, c: 500, d: 250, e: 250 }), '', OPTIONS);
    assert.deepEqual(down, { replicas: 3, utilization: 28, rawAverage: 280 });
    const up = resourceReplicas(1, 50, 'cpu', [pod('web', '100m')], metrics({ web: 200 }), '', OPTIONS);
    assert.deepEqual(up, { replicas: 4, utilization: 200, rawAverage: 200 });
  });

  test('within the 0.1 tolerance nothing changes', () => {
    // 54 % against 50 %: ratio 1.08.
    assert.equal(resourceReplicas(3, 50, 'cpu', [pod('a'), pod('b'), pod('c')], metrics({ a: 540, b: 540, c: 540 }), '', OPTIONS).replicas, 3);
    // 56 %: ratio 1.12 → ceil(3.36) = 4.
    assert.equal(resourceReplicas(3, 50, 'cpu', [pod('a'), pod('b'), pod('c')], metrics({ a: 560, b: 560, c: 560 }), '', OPTIONS).replicas, 4);
  });

  test('unready pods count as 0 % when scaling up; a pending pod is unready', () => {
    // upstream TestReplicaCalcScaleUpUnreadyLessScale: ready a, b at 500m and 700m, c not ready; target 30 %.
    const pods = [pod('a'), pod('b'), pod('c', '1', { ready: { status: 'False', lastTransitionMs: NOW - 590_000 }, startTimeMs: NOW - 60_000 })];
    const result = resourceReplicas(3, 30, 'cpu', pods, metrics({ a: 300, b: 500, c: 700 }), '', OPTIONS);
    // ratio 40/30 on the ready pods; with c at 0: (300 + 500 + 0) / 3000 = 26 % → 0.87 would flip the direction… upstream
    // keeps 3 pods when the direction flips; here the rerun is 800/3000 = 26 % < 30 %, so the current count stays.
    assert.equal(result.replicas, 3);
    const pending = resourceReplicas(2, 50, 'cpu', [pod('a'), pod('p', '1', { phase: 'Pending' })], metrics({ a: 1000 }), '', OPTIONS);
    // ready a at 100 % (ratio 2); p pending → 0 %: 1000/2000 = 50 % → ratio 1.0 → within tolerance, keep 2.
    assert.equal(pending.replicas, 2);
  });

  test('missing metrics count as 100 % scaling down and 0 % scaling up', () => {
    // a, b at 10 %; c has no metric: scale down treats c at 100 %: (100+100+1000)/3000 = 40 % → ceil(3 × 0.8) = 3 → no change.
    assert.equal(resourceReplicas(3, 50, 'cpu', [pod('a'), pod('b'), pod('c')], metrics({ a: 100, b: 100 }), '', OPTIONS).replicas, 3);
    // a, b at 150 %; c missing at 0 %: (1500+1500)/3000 = 100 % → ratio 2 → 6.
    assert.equal(resourceReplicas(3, 50, 'cpu', [pod('a'), pod('b'), pod('c')], metrics({ a: 1500, b: 1500 }), '', OPTIONS).replicas, 6);
  });

  test('pods within the CPU initialization period count once a full metric window has passed since readiness', () => {
    const young = pod('y', '1', { startTimeMs: NOW - 20_000, ready: { status: 'True', lastTransitionMs: NOW - 15_000 } });
    // metric at NOW-10s with a 60 s window: not a full window since readiness → unready → no metrics at all.
    assert.throws(() => resourceReplicas(1, 50, 'cpu', [young], metrics({ y: 1000 }), '', OPTIONS), /did not receive metrics for targeted pods \(pods might be unready\)/);
    assert.equal(resourceReplicas(1, 50, 'cpu', [young], metrics({ y: 1000 }), '', { ...OPTIONS, cpuInitializationPeriodMs: 0 }).replicas, 2);
  });

  test('deleted and failed pods are ignored; upstream errors word for word', () => {
    const result = resourceReplicas(2, 50, 'cpu', [pod('a'), pod('gone', '1', { deleting: true }), pod('dead', '1', { phase: 'Failed' })], metrics({ a: 1000, gone: 0, dead: 0 }), '', OPTIONS);
    assert.equal(result.replicas, 2);
    assert.throws(() => resourceReplicas(1, 50, 'cpu', [], metrics({}), '', OPTIONS), /^Error: no pods returned by selector while calculating replica count$/);
    const noRequest: PodForScaling = { ...pod('web-1'), containers: [{ name: 'nginx', requests: {} }] };
    assert.throws(() => resourceReplicas(1, 50, 'cpu', [noRequest], metrics({ 'web-1': 10 }), '', OPTIONS), /^Error: missing request for cpu in container nginx of Pod web-1$/);
  });

  test('a container resource metric reads only that container\'s request', () => {
    const two: PodForScaling = { ...pod('a'), containers: [{ name: 'app', requests: { cpu: '200m' } }, { name: 'side', requests: {} }] };
    assert.equal(resourceReplicas(1, 50, 'cpu', [two], metrics({ a: 200 }), 'app', OPTIONS).replicas, 2);
  });
});

describe('replica calculation (average value)', () => {
  test('usage per pod against the target value', () => {
    // Three pods using 1, 2, 3 (×1000) against a 1000 target: average 2000 → ratio 2 → 6.
    assert.deepEqual(rawResourceReplicas(3, 1000, 'memory', [pod('a'), pod('b'), pod('c')], metrics({ a: 1000, b: 2000, c: 3000 }), OPTIONS), { replicas: 6, usage: 2000 });
  });
});

describe('normalization', () => {
  test('limits: max(2 × current, 4) per step, then max and min replicas', () => {
    assert.deepEqual(limitWithRules(1, 10, 1, 20), { replicas: 4, reason: 'ScaleUpLimit', message: 'the desired replica count is increasing faster than the maximum scale rate' });
    assert.deepEqual(limitWithRules(4, 10, 1, 5), { replicas: 5, reason: 'TooManyReplicas', message: 'the desired replica count is more than the maximum replica count' });
    assert.deepEqual(limitWithRules(4, 0, 2, 5), { replicas: 2, reason: 'TooFewReplicas', message: 'the desired replica count is less than the minimum replica count' });
    assert.equal(limitWithRules(4, 3, 1, 5).reason, 'DesiredWithinRange');
  });

  test('scale down waits for the stabilization window (300 s by default)', () => {
    let now = NOW;
    const history = new ScalingHistory(300_000, () => now);
    history.recordInitial('ns/web', 5);
    let n = history.normalize('ns/web', 5, 2, 1, 10);
    assert.equal(n.desired, 5);
    assert.equal(n.ableToScale.reason, 'ScaleDownStabilized');
    now += 200_000;
    assert.equal(history.normalize('ns/web', 5, 2, 1, 10).desired, 5);
    now += 101_000;
    // The initial recommendation (5) is older than 300 s; the one at +200 s (2) is not higher.
    n = history.normalize('ns/web', 5, 2, 1, 10);
    assert.equal(n.desired, 2);
    assert.equal(n.ableToScale.reason, 'ReadyForNewScale');
    assert.deepEqual([n.limited.status, n.limited.reason], ['False', 'DesiredWithinRange']);
  });

  test('behavior: a short scale-down window and rate policies', () => {
    let now = NOW;
    const history = new ScalingHistory(300_000, () => now);
    const behavior = {
      scaleDown: { stabilizationWindowSeconds: 5, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }] },
      scaleUp: { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }] },
    };
    history.recordInitial('k', 5);
    assert.equal(history.normalizeWithBehavior('k', behavior, 5, 1, 1, 10).desired, 5, 'stabilized');
    now += 6_000;
    const n = history.normalizeWithBehavior('k', behavior, 5, 1, 1, 10);
    assert.equal(n.desired, 4, 'one pod per minute');
    assert.deepEqual([n.limited.status, n.limited.reason], ['True', 'ScaleDownLimit']);
    history.storeScaleEvent('k', behavior, 5, 4);
    now += 1_000;
    assert.equal(history.normalizeWithBehavior('k', behavior, 4, 1, 1, 10).desired, 4, 'the minute is not over');
    // Scaling up: max(4 + 4, 4 × 2) = 8 at most.
    now += 120_000;
    const up = history.normalizeWithBehavior('k', behavior, 4, 20, 1, 30);
    assert.equal(up.desired, 8);
    assert.equal(up.limited.reason, 'ScaleUpLimit');
    assert.equal(history.normalizeWithBehavior('k', { ...behavior, scaleUp: { ...behavior.scaleUp, selectPolicy: 'Disabled' } }, 4, 20, 1, 30).desired, 4);
  });

  test('milli quantities print as resource.NewMilliQuantity(DecimalSI) does', () => {
    assert.equal(milliQuantityText(250), '250m');
    assert.equal(milliQuantityText(1000), '1');
    assert.equal(milliQuantityText(104857600000), '104857600');
    assert.equal(milliQuantityText(2_000_000_000), '2M');
    assert.equal(milliQuantityText(0), '0');
  });
});
