// autoscaling/v1 ↔ autoscaling/v2 HorizontalPodAutoscaler, as pkg/apis/autoscaling/v1/conversion.go converts them
// (both versions are one internal object upstream, stored as autoscaling/v2 here):
// - v1 `spec.targetCPUUtilizationPercentage` is the v2 Resource metric `cpu` with an Utilization target, and
//   `status.currentCPUUtilizationPercentage` that metric's current averageUtilization;
// - what v1 cannot say travels in annotations, so a v1 client's read-modify-write keeps it: the other metrics
//   (`autoscaling.alpha.kubernetes.io/metrics`, in v1's MetricSpec form), current metrics
//   (`…/current-metrics`), conditions (`…/conditions`) and behavior (`…/behavior`);
// - a v1 object without a CPU target and without other metrics gets the implicit 80 % CPU target.

import type { KubeObject } from '../object.ts';
import { isPlainObject } from '../object.ts';

type Json = Record<string, unknown>;

export const METRIC_SPECS_ANNOTATION = 'autoscaling.alpha.kubernetes.io/metrics';
export const METRIC_STATUSES_ANNOTATION = 'autoscaling.alpha.kubernetes.io/current-metrics';
export const CONDITIONS_ANNOTATION = 'autoscaling.alpha.kubernetes.io/conditions';
export const BEHAVIOR_ANNOTATION = 'autoscaling.alpha.kubernetes.io/behavior';
const ROUND_TRIP_ANNOTATIONS = [METRIC_SPECS_ANNOTATION, METRIC_STATUSES_ANNOTATION, CONDITIONS_ANNOTATION, BEHAVIOR_ANNOTATION];
/** autoscaling.DefaultCPUUtilization. */
export const DEFAULT_CPU_UTILIZATION = 80;

function asObject(value: unknown): Json {
  return isPlainObject(value) ? value as Json : {};
}

function defined(entries: Record<string, unknown>): Json {
  const out: Json = {};
  for (const [key, value] of Object.entries(entries)) if (value !== undefined) out[key] = value;
  return out;
}

function isCpuUtilization(metric: Json): boolean {
  const resource = asObject(metric.resource);
  return metric.type === 'Resource' && resource.name === 'cpu' && typeof asObject(resource.target).averageUtilization === 'number';
}

// ---- metric specs: v2 {metric, target} ↔ v1 (v2beta1-shaped) flat fields ----

function specToV1(metric: Json): Json {
  const type = metric.type;
  if (type === 'Resource' || type === 'ContainerResource') {
    const source = asObject(type === 'Resource' ? metric.resource : metric.containerResource);
    const target = asObject(source.target);
    const converted = defined({
      name: source.name, container: source.container,
      targetAverageUtilization: target.averageUtilization, targetAverageValue: target.averageValue,
    });
    return type === 'Resource' ? { type, resource: converted } : { type, containerResource: converted };
  }
  if (type === 'Pods') {
    const source = asObject(metric.pods);
    const id = asObject(source.metric);
    return { type, pods: defined({ metricName: id.name, selector: id.selector, targetAverageValue: asObject(source.target).averageValue }) };
  }
  if (type === 'Object') {
    const source = asObject(metric.object);
    const id = asObject(source.metric);
    const target = asObject(source.target);
    return {
      type,
      object: defined({ target: source.describedObject, metricName: id.name, selector: id.selector, targetValue: target.value, averageValue: target.averageValue }),
    };
  }
  if (type === 'External') {
    const source = asObject(metric.external);
    const id = asObject(source.metric);
    const target = asObject(source.target);
    return { type, external: defined({ metricName: id.name, metricSelector: id.selector, targetValue: target.value, targetAverageValue: target.averageValue }) };
  }
  return { ...metric };
}

function targetOf(utilization: unknown, averageValue: unknown, value?: unknown): Json {
  if (utilization !== undefined) return defined({ type: 'Utilization', averageUtilization: utilization });
  if (averageValue !== undefined) return { type: 'AverageValue', averageValue };
  if (value !== undefined) return { type: 'Value', value };
  return {};
}

function specFromV1(metric: Json): Json {
  const type = metric.type;
  if (type === 'Resource' || type === 'ContainerResource') {
    const source = asObject(type === 'Resource' ? metric.resource : metric.containerResource);
    const converted = defined({
      name: source.name, container: source.container, target: targetOf(source.targetAverageUtilization, source.targetAverageValue),
    });
    return type === 'Resource' ? { type, resource: converted } : { type, containerResource: converted };
  }
  if (type === 'Pods') {
    const source = asObject(metric.pods);
    return { type, pods: { metric: defined({ name: source.metricName, selector: source.selector }), target: targetOf(undefined, source.targetAverageValue) } };
  }
  if (type === 'Object') {
    const source = asObject(metric.object);
    return {
      type,
      object: defined({
        describedObject: source.target, metric: defined({ name: source.metricName, selector: source.selector }),
        target: source.averageValue !== undefined ? { type: 'AverageValue', averageValue: source.averageValue } : targetOf(undefined, undefined, source.targetValue),
      }),
    };
  }
  if (type === 'External') {
    const source = asObject(metric.external);
    return {
      type,
      external: {
        metric: defined({ name: source.metricName, selector: source.metricSelector }),
        target: source.targetAverageValue !== undefined ? { type: 'AverageValue', averageValue: source.targetAverageValue } : targetOf(undefined, undefined, source.targetValue),
      },
    };
  }
  return { ...metric };
}

// ---- metric statuses ----

function statusToV1(metric: Json): Json {
  const type = metric.type;
  if (type === 'Resource' || type === 'ContainerResource') {
    const source = asObject(type === 'Resource' ? metric.resource : metric.containerResource);
    const current = asObject(source.current);
    const converted = defined({
      name: source.name, container: source.container,
      currentAverageUtilization: current.averageUtilization, currentAverageValue: current.averageValue,
    });
    return type === 'Resource' ? { type, resource: converted } : { type, containerResource: converted };
  }
  if (type === 'Pods') {
    const source = asObject(metric.pods);
    const id = asObject(source.metric);
    return { type, pods: defined({ metricName: id.name, selector: id.selector, currentAverageValue: asObject(source.current).averageValue }) };
  }
  if (type === 'Object') {
    const source = asObject(metric.object);
    const id = asObject(source.metric);
    const current = asObject(source.current);
    return {
      type,
      object: defined({ target: source.describedObject, metricName: id.name, selector: id.selector, currentValue: current.value, averageValue: current.averageValue }),
    };
  }
  if (type === 'External') {
    const source = asObject(metric.external);
    const id = asObject(source.metric);
    const current = asObject(source.current);
    return { type, external: defined({ metricName: id.name, metricSelector: id.selector, currentValue: current.value, currentAverageValue: current.averageValue }) };
  }
  return { ...metric };
}

function statusFromV1(metric: Json): Json {
  const type = metric.type;
  if (type === 'Resource' || type === 'ContainerResource') {
    const source = asObject(type === 'Resource' ? metric.resource : metric.containerResource);
    const converted = defined({
      name: source.name, container: source.container,
      current: defined({ averageUtilization: source.currentAverageUtilization, averageValue: source.currentAverageValue }),
    });
    return type === 'Resource' ? { type, resource: converted } : { type, containerResource: converted };
  }
  if (type === 'Pods') {
    const source = asObject(metric.pods);
    return { type, pods: { metric: defined({ name: source.metricName, selector: source.selector }), current: defined({ averageValue: source.currentAverageValue }) } };
  }
  if (type === 'Object') {
    const source = asObject(metric.object);
    return {
      type,
      object: defined({
        describedObject: source.target, metric: defined({ name: source.metricName, selector: source.selector }),
        current: defined({ value: source.currentValue, averageValue: source.averageValue }),
      }),
    };
  }
  if (type === 'External') {
    const source = asObject(metric.external);
    return {
      type,
      external: {
        metric: defined({ name: source.metricName, selector: source.metricSelector }),
        current: defined({ value: source.currentValue, averageValue: source.currentAverageValue }),
      },
    };
  }
  return { ...metric };
}

function parseJsonArray(text: string | undefined): Json[] | undefined {
  if (text === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    return Array.isArray(parsed) ? parsed.filter(isPlainObject) as Json[] : undefined;
  } catch {
    return undefined;
  }
}

function withoutRoundTripAnnotations(annotations: unknown): Record<string, string> | undefined {
  if (!isPlainObject(annotations)) return undefined;
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(annotations)) if (!ROUND_TRIP_ANNOTATIONS.includes(key)) out[key] = String(value);
  return out;
}

function metadataWith(object: KubeObject, annotations: Record<string, string> | undefined): KubeObject['metadata'] {
  const metadata = { ...object.metadata };
  if (annotations && Object.keys(annotations).length > 0) metadata.annotations = annotations;
  else delete metadata.annotations;
  return metadata;
}

/** autoscaling/v2 (stored) → autoscaling/v1. */
export function hpaV2ToV1(hpa: KubeObject): KubeObject {
  const spec = asObject(hpa.spec);
  const status = isPlainObject(hpa.status) ? hpa.status as Json : undefined;
  const metrics = Array.isArray(spec.metrics) ? spec.metrics.filter(isPlainObject) as Json[] : [];
  const annotations = withoutRoundTripAnnotations(hpa.metadata.annotations) ?? {};
  const cpu = metrics.find(isCpuUtilization);
  const others = metrics.filter((metric) => !isCpuUtilization(metric));
  if (others.length > 0) annotations[METRIC_SPECS_ANNOTATION] = JSON.stringify(others.map(specToV1));
  const v1Spec = defined({
    scaleTargetRef: spec.scaleTargetRef, minReplicas: spec.minReplicas, maxReplicas: spec.maxReplicas,
    targetCPUUtilizationPercentage: cpu ? asObject(asObject(cpu.resource).target).averageUtilization : undefined,
  });
  if (isPlainObject(spec.behavior)) annotations[BEHAVIOR_ANNOTATION] = JSON.stringify(spec.behavior);
  const out: KubeObject = { ...hpa, apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', spec: v1Spec };
  if (status) {
    const current = Array.isArray(status.currentMetrics) ? status.currentMetrics.filter(isPlainObject) as Json[] : [];
    const conditions = Array.isArray(status.conditions) ? status.conditions : [];
    if (current.length > 0) annotations[METRIC_STATUSES_ANNOTATION] = JSON.stringify(current.map(statusToV1));
    if (conditions.length > 0) annotations[CONDITIONS_ANNOTATION] = JSON.stringify(conditions);
    const cpuStatus = current.find((metric) => metric.type === 'Resource' && asObject(metric.resource).name === 'cpu'
      && typeof asObject(asObject(metric.resource).current).averageUtilization === 'number');
    out.status = defined({
      observedGeneration: status.observedGeneration, lastScaleTime: status.lastScaleTime,
      currentReplicas: status.currentReplicas ?? 0, desiredReplicas: status.desiredReplicas ?? 0,
      currentCPUUtilizationPercentage: cpuStatus ? asObject(asObject(cpuStatus.resource).current).averageUtilization : undefined,
    });
  }
  out.metadata = metadataWith(hpa, annotations);
  return out;
}

/** autoscaling/v1 → autoscaling/v2 (the stored form); the round-trip annotations are consumed. */
export function hpaV1ToV2(hpa: KubeObject): KubeObject {
  const spec = asObject(hpa.spec);
  const status = isPlainObject(hpa.status) ? hpa.status as Json : undefined;
  const annotations = isPlainObject(hpa.metadata.annotations) ? hpa.metadata.annotations as Record<string, string> : {};
  const metrics: Json[] = [];
  const others = parseJsonArray(annotations[METRIC_SPECS_ANNOTATION]);
  if (others) metrics.push(...others.map(specFromV1));
  if (typeof spec.targetCPUUtilizationPercentage === 'number') {
    metrics.push({ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: spec.targetCPUUtilizationPercentage } } });
  }
  if (metrics.length === 0) {
    metrics.push({ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: DEFAULT_CPU_UTILIZATION } } });
  }
  let behavior: unknown;
  try {
    behavior = annotations[BEHAVIOR_ANNOTATION] === undefined ? undefined : JSON.parse(annotations[BEHAVIOR_ANNOTATION]);
  } catch {
    behavior = undefined;
  }
  const v2Spec = defined({
    scaleTargetRef: spec.scaleTargetRef, minReplicas: spec.minReplicas, maxReplicas: spec.maxReplicas, metrics,
    behavior: isPlainObject(behavior) && Object.keys(behavior).length > 0 ? behavior : undefined,
  });
  const out: KubeObject = { ...hpa, apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', spec: v2Spec };
  if (status) {
    let currentMetrics: Json[] | undefined = parseJsonArray(annotations[METRIC_STATUSES_ANNOTATION])?.map(statusFromV1);
    if (currentMetrics === undefined && typeof status.currentCPUUtilizationPercentage === 'number') {
      currentMetrics = [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: status.currentCPUUtilizationPercentage } } }];
    }
    out.status = defined({
      observedGeneration: status.observedGeneration, lastScaleTime: status.lastScaleTime,
      currentReplicas: status.currentReplicas, desiredReplicas: status.desiredReplicas ?? 0,
      currentMetrics, conditions: parseJsonArray(annotations[CONDITIONS_ANNOTATION]),
    });
  }
  out.metadata = metadataWith(hpa, withoutRoundTripAnnotations(hpa.metadata.annotations));
  return out;
}
