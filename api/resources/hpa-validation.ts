// HorizontalPodAutoscaler validation (pkg/apis/autoscaling/validation, 1.32), run on the autoscaling/v2 form:
// min/max replicas, the scale target reference, metric specs and their targets, scaling behavior. Messages are
// upstream's word for word. HPAScaleToZero is off (alpha), so minReplicas must be at least 1 unless the stored
// object already had 0.

import type { FieldError } from '../errors.ts';
import { forbiddenField, invalidField, notSupportedField, requiredField } from '../errors.ts';
import { isPlainObject } from '../object.ts';
import { isDNS1123Label } from '../validation/names.ts';
import { parseQuantity } from './quantity.ts';

type Json = Record<string, unknown>;

const MAX_PERIOD_SECONDS = 1800;
const MAX_STABILIZATION_WINDOW_SECONDS = 3600;
const METRIC_SOURCE_TYPES = ['ContainerResource', 'External', 'Object', 'Pods', 'Resource'];

function asObject(value: unknown): Json | undefined {
  return isPlainObject(value) ? value as Json : undefined;
}

function pathSegmentErrors(value: string): string[] {
  if (value === '.' || value === '..') return [`may not be '${value}'`];
  return ['/', '%'].filter((bad) => value.includes(bad)).map((bad) => `may not contain '${bad}'`);
}

export function validateCrossVersionObjectReference(ref: unknown, path: string): FieldError[] {
  const object = asObject(ref) ?? {};
  const errs: FieldError[] = [];
  for (const name of ['kind', 'name']) {
    const value = typeof object[name] === 'string' ? object[name] as string : '';
    if (value === '') errs.push(requiredField(`${path}.${name}`));
    else for (const msg of pathSegmentErrors(value)) errs.push(invalidField(`${path}.${name}`, value, msg));
  }
  return errs;
}

function positive(value: unknown): boolean {
  const parsed = parseQuantity(value);
  return parsed !== undefined && parsed > 0;
}

function validateMetricTarget(target: Json, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const type = typeof target.type === 'string' ? target.type : '';
  if (type === '') errs.push(requiredField(`${path}.type`, 'must specify a metric target type'));
  if (type !== 'Utilization' && type !== 'Value' && type !== 'AverageValue') {
    errs.push(invalidField(`${path}.type`, type, 'must be either Utilization, Value, or AverageValue'));
  }
  if (target.value !== undefined && !positive(target.value)) errs.push(invalidField(`${path}.value`, target.value, 'must be positive'));
  if (target.averageValue !== undefined && !positive(target.averageValue)) errs.push(invalidField(`${path}.averageValue`, target.averageValue, 'must be positive'));
  if (typeof target.averageUtilization === 'number' && target.averageUtilization < 1) {
    errs.push(invalidField(`${path}.averageUtilization`, target.averageUtilization, 'must be greater than 0'));
  }
  return errs;
}

function validateMetricIdentifier(id: Json, path: string): FieldError[] {
  const name = typeof id.name === 'string' ? id.name : '';
  if (name === '') return [requiredField(`${path}.name`, 'must specify a metric name')];
  return pathSegmentErrors(name).map((msg) => invalidField(`${path}.name`, name, msg));
}

function validateResourceTarget(target: Json, path: string): FieldError[] {
  const errs = validateMetricTarget(target, path);
  if (target.averageUtilization === undefined && target.averageValue === undefined) {
    errs.push(requiredField(`${path}.averageUtilization`, 'must set either a target raw value or a target utilization'));
  }
  if (target.averageUtilization !== undefined && target.averageValue !== undefined) {
    errs.push(forbiddenField(`${path}.averageValue`, 'may not set both a target raw value and a target utilization'));
  }
  return errs;
}

function validateSource(kind: string, source: Json, path: string): FieldError[] {
  const target = asObject(source.target) ?? {};
  const errs: FieldError[] = [];
  switch (kind) {
    case 'object':
      errs.push(...validateCrossVersionObjectReference(source.describedObject, `${path}.describedObject`));
      errs.push(...validateMetricIdentifier(asObject(source.metric) ?? {}, `${path}.metric`));
      errs.push(...validateMetricTarget(target, `${path}.target`));
      if (target.value === undefined && target.averageValue === undefined) {
        errs.push(requiredField(`${path}.target.averageValue`, 'must set either a target value or averageValue'));
      }
      break;
    case 'external':
      errs.push(...validateMetricIdentifier(asObject(source.metric) ?? {}, `${path}.metric`));
      errs.push(...validateMetricTarget(target, `${path}.target`));
      if (target.value === undefined && target.averageValue === undefined) {
        errs.push(requiredField(`${path}.target.averageValue`, 'must set either a target value for metric or a per-pod target'));
      }
      if (target.value !== undefined && target.averageValue !== undefined) {
        errs.push(forbiddenField(`${path}.target.value`, 'may not set both a target value for metric and a per-pod target'));
      }
      break;
    case 'pods':
      errs.push(...validateMetricIdentifier(asObject(source.metric) ?? {}, `${path}.metric`));
      errs.push(...validateMetricTarget(target, `${path}.target`));
      if (target.averageValue === undefined) errs.push(requiredField(`${path}.target.averageValue`, 'must specify a positive target averageValue'));
      break;
    case 'resource':
      if (typeof source.name !== 'string' || source.name === '') errs.push(requiredField(`${path}.name`, 'must specify a resource name'));
      errs.push(...validateResourceTarget(target, `${path}.target`));
      break;
    case 'containerResource': {
      if (typeof source.name !== 'string' || source.name === '') errs.push(requiredField(`${path}.name`, 'must specify a resource name'));
      const container = typeof source.container === 'string' ? source.container : '';
      if (container === '') errs.push(requiredField(`${path}.container`, 'must specify a container'));
      else for (const msg of isDNS1123Label(container)) errs.push(invalidField(`${path}.container`, container, msg));
      errs.push(...validateResourceTarget(target, `${path}.target`));
      break;
    }
  }
  return errs;
}

const FIELD_OF_TYPE: Record<string, string> = {
  Object: 'object', Pods: 'pods', Resource: 'resource', External: 'external', ContainerResource: 'containerResource',
};

function validateMetricSpec(spec: Json, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const type = typeof spec.type === 'string' ? spec.type : '';
  if (type === '') errs.push(requiredField(`${path}.type`, 'must specify a metric source type'));
  if (!METRIC_SOURCE_TYPES.includes(type)) errs.push(notSupportedField(`${path}.type`, type, METRIC_SOURCE_TYPES));
  const present: string[] = [];
  for (const kind of ['object', 'external', 'pods', 'resource', 'containerResource']) {
    const source = asObject(spec[kind]);
    if (!source) continue;
    present.push(kind);
    if (present.length === 1) errs.push(...validateSource(kind, source, `${path}.${kind}`));
  }
  const expected = FIELD_OF_TYPE[type];
  if (expected === undefined) {
    errs.push(notSupportedField(`${path}.type`, type, METRIC_SOURCE_TYPES));
  } else if (!present.includes(expected)) {
    errs.push(requiredField(`${path}.${expected}`, 'must populate information for the given metric source'));
  }
  if (present.length !== 1) {
    for (const kind of present.filter((k) => k !== expected)) errs.push(forbiddenField(`${path}.${kind}`, 'must populate the given metric source only'));
  }
  return errs;
}

function validateScalingRules(rules: unknown, path: string): FieldError[] {
  const object = asObject(rules);
  if (!object) return [];
  const errs: FieldError[] = [];
  const window = object.stabilizationWindowSeconds;
  if (typeof window === 'number' && window < 0) errs.push(invalidField(`${path}.stabilizationWindowSeconds`, window, 'must be greater than or equal to zero'));
  if (typeof window === 'number' && window > MAX_STABILIZATION_WINDOW_SECONDS) {
    errs.push(invalidField(`${path}.stabilizationWindowSeconds`, window, `must be less than or equal to ${MAX_STABILIZATION_WINDOW_SECONDS}`));
  }
  if (object.selectPolicy !== undefined && !['Disabled', 'Max', 'Min'].includes(String(object.selectPolicy))) {
    errs.push(notSupportedField(`${path}.selectPolicy`, object.selectPolicy, ['Disabled', 'Max', 'Min']));
  }
  const policies = Array.isArray(object.policies) ? object.policies : [];
  if (policies.length === 0) errs.push(requiredField(`${path}.policies`, 'must specify at least one Policy'));
  policies.forEach((raw, i) => {
    const policy = asObject(raw) ?? {};
    const at = `${path}.policies[${i}]`;
    if (policy.type !== 'Pods' && policy.type !== 'Percent') errs.push(notSupportedField(`${at}.type`, policy.type ?? '', ['Percent', 'Pods']));
    const value = typeof policy.value === 'number' ? policy.value : 0;
    if (value <= 0) errs.push(invalidField(`${at}.value`, value, 'must be greater than zero'));
    const period = typeof policy.periodSeconds === 'number' ? policy.periodSeconds : 0;
    if (period <= 0) errs.push(invalidField(`${at}.periodSeconds`, period, 'must be greater than zero'));
    if (period > MAX_PERIOD_SECONDS) errs.push(invalidField(`${at}.periodSeconds`, period, `must be less than or equal to ${MAX_PERIOD_SECONDS}`));
  });
  return errs;
}

/** validateHorizontalPodAutoscalerSpec; `minReplicasLowerBound` is 0 only when the old object already had 0. */
export function validateHpaSpec(spec: Json, minReplicasLowerBound: number): FieldError[] {
  const errs: FieldError[] = [];
  const min = typeof spec.minReplicas === 'number' ? spec.minReplicas : undefined;
  const max = typeof spec.maxReplicas === 'number' ? spec.maxReplicas : 0;
  if (min !== undefined && min < minReplicasLowerBound) {
    errs.push(invalidField('spec.minReplicas', min, `must be greater than or equal to ${minReplicasLowerBound}`));
  }
  if (max < 1) errs.push(invalidField('spec.maxReplicas', max, 'must be greater than 0'));
  if (min !== undefined && max < min) errs.push(invalidField('spec.maxReplicas', max, 'must be greater than or equal to `minReplicas`'));
  errs.push(...validateCrossVersionObjectReference(spec.scaleTargetRef, 'spec.scaleTargetRef'));
  const metrics = Array.isArray(spec.metrics) ? spec.metrics : [];
  metrics.forEach((metric, i) => errs.push(...validateMetricSpec(asObject(metric) ?? {}, `spec.metrics[${i}]`)));
  if (min === 0 && !metrics.some((metric) => ['Object', 'External'].includes(String(asObject(metric)?.type)))) {
    errs.push(forbiddenField('spec.metrics', 'must specify at least one Object or External metric to support scaling to zero replicas'));
  }
  const behavior = asObject(spec.behavior);
  if (behavior) {
    errs.push(...validateScalingRules(behavior.scaleUp, 'spec.behavior.scaleUp'));
    errs.push(...validateScalingRules(behavior.scaleDown, 'spec.behavior.scaleDown'));
  }
  return errs;
}

export function validateHpaStatus(status: Json): FieldError[] {
  const errs: FieldError[] = [];
  for (const name of ['currentReplicas', 'desiredReplicas']) {
    const value = status[name];
    if (typeof value === 'number' && value < 0) errs.push(invalidField(`status.${name}`, value, 'must be greater than or equal to 0'));
  }
  return errs;
}
