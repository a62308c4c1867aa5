// The replica count a resource metric asks for, as pkg/controller/podautoscaler/replica_calculator.go computes it
// (1.32): pods are grouped into ready, unready (Pending, or for CPU not yet ready / within the initialization
// period), missing (no metric) and ignored (deleted or Failed); utilization is the sum of usage over the sum of
// requests of the pods with metrics (integer percent); within the tolerance (0.1) nothing changes; otherwise
// desired = ceil(ratio × ready pods), or, when pods are unready or missing, the ratio is computed again with missing
// pods at 100 % of their request (or the target, scaling down) or 0 % (scaling up) and unready pods at 0 % (scaling
// up), and nothing changes if that flips the direction. Values are in thousandths (Quantity.MilliValue()).
// Errors carry upstream's messages, which the controller puts into events and conditions.

import { quantityMilliValue } from '../../scheduler/quantity.ts';

export interface PodForScaling {
  name: string;
  phase: string;
  deleting: boolean;
  /** The Ready condition, if the pod has one. */
  ready?: { status: string; lastTransitionMs: number };
  startTimeMs?: number;
  /** Regular containers and restartable (sidecar) init containers, with their requests as quantities. */
  containers: { name: string; requests: Record<string, string> }[];
}

export interface PodMetric {
  timestampMs: number;
  windowMs: number;
  /** Thousandths of the resource (millicores, millibytes). */
  value: number;
}

export interface CalculatorOptions {
  /** --horizontal-pod-autoscaler-tolerance (0.1). */
  tolerance: number;
  /** --horizontal-pod-autoscaler-cpu-initialization-period (5 min). */
  cpuInitializationPeriodMs: number;
  /** --horizontal-pod-autoscaler-initial-readiness-delay (30 s). */
  delayOfInitialReadinessStatusMs: number;
  nowMs: number;
}

export const DEFAULT_CALCULATOR_OPTIONS: Omit<CalculatorOptions, 'nowMs'> = {
  tolerance: 0.1, cpuInitializationPeriodMs: 5 * 60_000, delayOfInitialReadinessStatusMs: 30_000,
};

interface Grouped {
  readyPodCount: number;
  unready: Set<string>;
  missing: Set<string>;
  ignored: Set<string>;
}

function groupPods(pods: PodForScaling[], metrics: Map<string, PodMetric>, resource: string, options: CalculatorOptions): Grouped {
  const grouped: Grouped = { readyPodCount: 0, unready: new Set(), missing: new Set(), ignored: new Set() };
  for (const pod of pods) {
    if (pod.deleting || pod.phase === 'Failed') {
      grouped.ignored.add(pod.name);
      continue;
    }
    if (pod.phase === 'Pending') {
      grouped.unready.add(pod.name);
      continue;
    }
    const metric = metrics.get(pod.name);
    if (!metric) {
      grouped.missing.add(pod.name);
      continue;
    }
    if (resource === 'cpu') {
      let unready: boolean;
      if (!pod.ready || pod.startTimeMs === undefined) {
        unready = true;
      } else if (pod.startTimeMs + options.cpuInitializationPeriodMs > options.nowMs) {
        // Within the initialization period: unready, or no full metric window since the last readiness change.
        unready = pod.ready.status === 'False' || metric.timestampMs < pod.ready.lastTransitionMs + metric.windowMs;
      } else {
        // Afterwards: unready only if it has never been ready.
        unready = pod.ready.status === 'False' && pod.startTimeMs + options.delayOfInitialReadinessStatusMs > pod.ready.lastTransitionMs;
      }
      if (unready) {
        grouped.unready.add(pod.name);
        continue;
      }
    }
    grouped.readyPodCount++;
  }
  return grouped;
}

/** calculatePodRequests: per pod, the sum of its containers' requests (or the one named container's). */
export function podRequests(pods: PodForScaling[], resource: string, container: string): Map<string, number> {
  const requests = new Map<string, number>();
  for (const pod of pods) {
    let sum = 0;
    for (const c of pod.containers) {
      if (container !== '' && container !== c.name) continue;
      const request = c.requests[resource];
      if (request === undefined) throw new Error(`missing request for ${resource} in container ${c.name} of Pod ${pod.name}`);
      try {
        sum += quantityMilliValue(String(request));
      } catch {
        throw new Error(`missing request for ${resource} in container ${c.name} of Pod ${pod.name}`);
      }
    }
    requests.set(pod.name, sum);
  }
  return requests;
}

/** metricsclient.GetResourceUtilizationRatio. */
export function utilizationRatio(metrics: Map<string, PodMetric>, requests: Map<string, number>, targetUtilization: number):
{ ratio: number; utilization: number; rawAverage: number } {
  let metricsTotal = 0;
  let requestsTotal = 0;
  let entries = 0;
  for (const [pod, metric] of metrics) {
    const request = requests.get(pod);
    if (request === undefined) continue;
    metricsTotal += metric.value;
    requestsTotal += request;
    entries++;
  }
  if (requestsTotal === 0) throw new Error('no metrics returned matched known pods');
  const utilization = Math.trunc((metricsTotal * 100) / requestsTotal);
  return { ratio: utilization / targetUtilization, utilization, rawAverage: Math.trunc(metricsTotal / entries) };
}

function withinTolerance(ratio: number, tolerance: number): boolean {
  return Math.abs(1 - ratio) <= tolerance;
}

function removeMetrics(metrics: Map<string, PodMetric>, pods: Set<string>): void {
  for (const pod of pods) metrics.delete(pod);
}

export interface UtilizationProposal {
  replicas: number;
  /** Average utilization in percent of request. */
  utilization: number;
  /** Average usage per pod, in thousandths. */
  rawAverage: number;
}

/** GetResourceReplicas: a target utilization (percent of request). `metrics` is consumed. */
export function resourceReplicas(
  currentReplicas: number, targetUtilization: number, resource: string, pods: PodForScaling[],
  metrics: Map<string, PodMetric>, container: string, options: CalculatorOptions,
): UtilizationProposal {
  if (pods.length === 0) throw new Error('no pods returned by selector while calculating replica count');
  const grouped = groupPods(pods, metrics, resource, options);
  removeMetrics(metrics, grouped.ignored);
  removeMetrics(metrics, grouped.unready);
  const requests = podRequests(pods, resource, container);
  if (metrics.size === 0) throw new Error('did not receive metrics for targeted pods (pods might be unready)');
  const { ratio, utilization, rawAverage } = utilizationRatio(metrics, requests, targetUtilization);
  const scaleUpWithUnready = grouped.unready.size > 0 && ratio > 1;
  if (!scaleUpWithUnready && grouped.missing.size === 0) {
    if (withinTolerance(ratio, options.tolerance)) return { replicas: currentReplicas, utilization, rawAverage };
    return { replicas: Math.ceil(ratio * grouped.readyPodCount), utilization, rawAverage };
  }
  if (grouped.missing.size > 0) {
    if (ratio < 1) {
      // Scaling down: missing pods count at 100 % of their request (or the target, above 100 %).
      const fallback = Math.max(100, targetUtilization);
      for (const pod of grouped.missing) metrics.set(pod, { timestampMs: 0, windowMs: 0, value: Math.trunc(((requests.get(pod) ?? 0) * fallback) / 100) });
    } else if (ratio > 1) {
      for (const pod of grouped.missing) metrics.set(pod, { timestampMs: 0, windowMs: 0, value: 0 });
    }
  }
  if (scaleUpWithUnready) for (const pod of grouped.unready) metrics.set(pod, { timestampMs: 0, windowMs: 0, value: 0 });
  const rerun = utilizationRatio(metrics, requests, targetUtilization).ratio;
  if (withinTolerance(rerun, options.tolerance) || (ratio < 1 && rerun > 1) || (ratio > 1 && rerun < 1)) {
    return { replicas: currentReplicas, utilization, rawAverage };
  }
  const replicas = Math.ceil(rerun * metrics.size);
  if ((rerun < 1 && replicas > currentReplicas) || (rerun > 1 && replicas < currentReplicas)) {
    return { replicas: currentReplicas, utilization, rawAverage };
  }
  return { replicas, utilization, rawAverage };
}

function usageRatio(metrics: Map<string, PodMetric>, targetUsage: number): { ratio: number; usage: number } {
  let total = 0;
  for (const metric of metrics.values()) total += metric.value;
  const usage = Math.trunc(total / metrics.size);
  return { ratio: usage / targetUsage, usage };
}

/** GetRawResourceReplicas / calcPlainMetricReplicas: a target average value (thousandths per pod). `metrics` is consumed. */
export function rawResourceReplicas(
  currentReplicas: number, targetUsage: number, resource: string, pods: PodForScaling[],
  metrics: Map<string, PodMetric>, options: CalculatorOptions,
): { replicas: number; usage: number } {
  if (pods.length === 0) throw new Error('no pods returned by selector while calculating replica count');
  const grouped = groupPods(pods, metrics, resource, options);
  removeMetrics(metrics, grouped.ignored);
  removeMetrics(metrics, grouped.unready);
  if (metrics.size === 0) throw new Error('did not receive metrics for targeted pods (pods might be unready)');
  const { ratio, usage } = usageRatio(metrics, targetUsage);
  const scaleUpWithUnready = grouped.unready.size > 0 && ratio > 1;
  if (!scaleUpWithUnready && grouped.missing.size === 0) {
    if (withinTolerance(ratio, options.tolerance)) return { replicas: currentReplicas, usage };
    return { replicas: Math.ceil(ratio * grouped.readyPodCount), usage };
  }
  if (grouped.missing.size > 0) {
    // Scaling down: missing pods use exactly the target; scaling up: nothing.
    for (const pod of grouped.missing) metrics.set(pod, { timestampMs: 0, windowMs: 0, value: ratio < 1 ? targetUsage : 0 });
  }
  if (scaleUpWithUnready) for (const pod of grouped.unready) metrics.set(pod, { timestampMs: 0, windowMs: 0, value: 0 });
  const rerun = usageRatio(metrics, targetUsage).ratio;
  if (withinTolerance(rerun, options.tolerance) || (ratio < 1 && rerun > 1) || (ratio > 1 && rerun < 1)) return { replicas: currentReplicas, usage };
  const replicas = Math.ceil(rerun * metrics.size);
  if ((rerun < 1 && replicas > currentReplicas) || (rerun > 1 && replicas < currentReplicas)) return { replicas: currentReplicas, usage };
  return { replicas, usage };
}
