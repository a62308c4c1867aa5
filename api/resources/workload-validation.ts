// Validation shared by the workload kinds (Deployment, ReplicaSet, StatefulSet, DaemonSet, Job,
// CronJob, ReplicationController, PodDisruptionBudget), worded as pkg/apis/apps/validation,
// pkg/apis/batch/validation and k8s.io/apimachinery/pkg/apis/meta/v1/validation.

import {
  forbiddenField, invalidField, notSupportedField, requiredField, type FieldError,
} from '../errors.ts';
import { isPlainObject, type KubeObject } from '../object.ts';
import { labelSelectorFromSpec, type LabelSelectorSpec } from '../selectors/label-selector.ts';
import { isQualifiedName, isValidLabelValue, regexError } from '../validation/names.ts';
import { FIELD_IMMUTABLE_MESSAGE, validateAnnotations, validateLabels } from '../validation/object-meta.ts';
import { validatePodSpec } from './pod-validation.ts';
import { num, obj } from './printing.ts';

type Json = Record<string, unknown>;

/** Go's %#v of a map[string]string, as field.Invalid prints label maps: map[string]string{"a":"b", "c":"d"}. */
export function goStringMap(map: unknown): string {
  if (!isPlainObject(map)) return 'map[string]string(nil)';
  const entries = Object.keys(map).sort().map((key) => `${JSON.stringify(key)}:${JSON.stringify(String(map[key]))}`);
  return `map[string]string{${entries.join(', ')}}`;
}

/** Go's %#v of a *metav1.LabelSelector after field.Invalid dereferences it. */
export function goLabelSelector(selector: unknown): string {
  if (!isPlainObject(selector)) return 'null';
  const labels = isPlainObject(selector.matchLabels) ? goStringMap(selector.matchLabels) : 'map[string]string(nil)';
  const expressions = Array.isArray(selector.matchExpressions) && selector.matchExpressions.length > 0
    ? `[]v1.LabelSelectorRequirement{${selector.matchExpressions.filter(isPlainObject).map((e) => {
      const values = Array.isArray(e.values) ? `[]string{${e.values.map((v) => JSON.stringify(String(v))).join(', ')}}` : '[]string(nil)';
      return `v1.LabelSelectorRequirement{Key:${JSON.stringify(String(e.key ?? ''))}, Operator:${JSON.stringify(String(e.operator ?? ''))}, Values:${values}}`;
    }).join(', ')}}`
    : '[]v1.LabelSelectorRequirement(nil)';
  return `v1.LabelSelector{MatchLabels:${labels}, MatchExpressions:${expressions}}`;
}

/** field.Invalid with a value printed the Go way (maps and structs), not as JSON. */
export function invalidGoValue(field: string, goValue: string, detail: string): FieldError {
  return { type: 'FieldValueInvalid', field, message: `Invalid value: ${goValue}: ${detail}` };
}

/** apivalidation.ValidateNonnegativeField. */
export function validateNonnegative(value: unknown, field: string): FieldError[] {
  return typeof value === 'number' && value < 0 ? [invalidField(field, value, 'must be greater than or equal to 0')] : [];
}

/** unversionedvalidation.LabelSelectorValidationOptions. */
export interface LabelSelectorValidationOptions {
  /** Skip the label-value check of matchExpressions values (an update of an object stored with such values). */
  allowInvalidLabelValueInSelector?: boolean;
}

/** unversionedvalidation.ValidateLabelSelector: matchLabels first, then each requirement. */
export function validateLabelSelector(selector: unknown, path: string, options: LabelSelectorValidationOptions = {}): FieldError[] {
  if (!isPlainObject(selector)) return [];
  const errs = validateLabels(isPlainObject(selector.matchLabels) ? selector.matchLabels as Record<string, string> : undefined, `${path}.matchLabels`);
  const expressions = Array.isArray(selector.matchExpressions) ? selector.matchExpressions.filter(isPlainObject) : [];
  expressions.forEach((expr, i) => {
    const at = `${path}.matchExpressions[${i}]`;
    const operator = String(expr.operator ?? '');
    const values = Array.isArray(expr.values) ? expr.values : [];
    if (operator === 'In' || operator === 'NotIn') {
      if (values.length === 0) errs.push(requiredField(`${at}.values`, "must be specified when `operator` is 'In' or 'NotIn'"));
    } else if (operator === 'Exists' || operator === 'DoesNotExist') {
      if (values.length > 0) errs.push(forbiddenField(`${at}.values`, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
    } else {
      errs.push(invalidField(`${at}.operator`, operator, 'not a valid selector operator'));
    }
    for (const msg of isQualifiedName(String(expr.key ?? ''))) errs.push(invalidField(`${at}.key`, String(expr.key ?? ''), msg));
    if (!options.allowInvalidLabelValueInSelector) {
      values.forEach((value: unknown, j: number) => {
        for (const msg of isValidLabelValue(String(value))) errs.push(invalidField(`${at}.values[${j}]`, String(value), msg));
      });
    }
  });
  return errs;
}

/** Whether validateLabelSelector finds nothing wrong with a stored selector (ValidationOptionsFor… checks the old object). */
export function labelSelectorIsValid(selector: unknown): boolean {
  return validateLabelSelector(selector, '').length === 0;
}

/** Whether a structured selector matches `labels`; false (and no throw) for selectors with bad operators. */
export function selectorMatches(selector: unknown, labels: unknown): boolean {
  try {
    return labelSelectorFromSpec(selector as LabelSelectorSpec).matches(isPlainObject(labels) ? labels as Record<string, string> : {});
  } catch {
    return false;
  }
}

export function selectorIsEmpty(selector: unknown): boolean {
  if (!isPlainObject(selector)) return true;
  const labels = isPlainObject(selector.matchLabels) ? Object.keys(selector.matchLabels).length : 0;
  const expressions = Array.isArray(selector.matchExpressions) ? selector.matchExpressions.length : 0;
  return labels + expressions === 0;
}

/** apivalidation.ValidatePodTemplateSpec: the template's labels/annotations and its pod spec. */
export function validatePodTemplate(template: unknown, path: string): FieldError[] {
  if (!isPlainObject(template)) return [requiredField(path)];
  const meta = isPlainObject(template.metadata) ? template.metadata : {};
  return [
    ...validateLabels(isPlainObject(meta.labels) ? meta.labels as Record<string, string> : undefined, `${path}.metadata.labels`),
    ...validateAnnotations(isPlainObject(meta.annotations) ? meta.annotations as Record<string, string> : undefined, `${path}.metadata.annotations`),
    ...validatePodSpec(isPlainObject(template.spec) ? template.spec : {}, `${path}.spec`),
  ];
}

/**
 * The selector (required, non-empty for the apps kinds) and a template whose labels it matches:
 * ValidateDeploymentSpec / ValidateReplicaSetSpec / ValidateStatefulSetSpec / ValidateDaemonSetSpec.
 */
export function validateSelectorAndTemplate(spec: Json, path: string, kindWord: string, options: { restartAlways: boolean }): FieldError[] {
  const errs: FieldError[] = [];
  const selector = spec.selector;
  if (!isPlainObject(selector)) {
    errs.push(requiredField(`${path}.selector`));
  } else {
    errs.push(...validateLabelSelector(selector, `${path}.selector`));
    if (selectorIsEmpty(selector)) errs.push(invalidGoValue(`${path}.selector`, goLabelSelector(selector), `empty selector is invalid for ${kindWord}`));
  }
  const template = spec.template;
  if (!isPlainObject(template)) {
    errs.push(requiredField(`${path}.template`));
    return errs;
  }
  const labels = obj(template, 'metadata', 'labels');
  if (isPlainObject(selector) && !selectorIsEmpty(selector) && !selectorMatches(selector, labels)) {
    errs.push(invalidGoValue(`${path}.template.metadata.labels`, goStringMap(labels), '`selector` does not match template `labels`'));
  }
  errs.push(...validatePodTemplate(template, `${path}.template`));
  if (options.restartAlways) {
    const restartPolicy = obj(template, 'spec')?.restartPolicy;
    if (restartPolicy !== undefined && restartPolicy !== 'Always') {
      errs.push(notSupportedField(`${path}.template.spec.restartPolicy`, restartPolicy, ['Always']));
    }
    if (num(template, 'spec', 'activeDeadlineSeconds') !== undefined) {
      errs.push(forbiddenField(`${path}.template.spec.activeDeadlineSeconds`, `activeDeadlineSeconds in ${kindWord === 'deployment' ? 'ReplicaSet' : kindWord} is not Supported`));
    }
  }
  return errs;
}

/** ValidateImmutableField for spec.selector. */
export function validateSelectorUnchanged(object: KubeObject, old: KubeObject, path = 'spec.selector'): FieldError[] {
  const now = obj(object, 'spec')?.selector;
  const before = obj(old, 'spec')?.selector;
  if (JSON.stringify(canonical(now)) === JSON.stringify(canonical(before))) return [];
  return [invalidGoValue(path, goLabelSelector(now), FIELD_IMMUTABLE_MESSAGE)];
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (!isPlainObject(value)) return value;
  return Object.fromEntries(Object.keys(value).sort().filter((k) => value[k] !== undefined).map((k) => [k, canonical(value[k])]));
}

const PERCENT = /^[0-9]+%$/;

/** ValidatePositiveIntOrPercent (despite its name, zero is allowed). */
export function validateIntOrPercent(value: unknown, path: string): FieldError[] {
  if (value === undefined || value === null) return [];
  if (typeof value === 'string') {
    if (!PERCENT.test(value)) return [invalidField(path, value, regexError("a valid percent string must be a numeric string followed by an ending '%'", '[0-9]+%', '1%', '93%'))];
    return [];
  }
  return validateNonnegative(value, path);
}

/** IsNotMoreThan100Percent. */
export function validateNotMoreThan100Percent(value: unknown, path: string): FieldError[] {
  if (typeof value === 'string' && PERCENT.test(value) && Number(value.slice(0, -1)) > 100) {
    return [invalidField(path, value, 'must not be greater than 100%')];
  }
  return [];
}

/** Percent or count as a number, or undefined when absent. */
export function intOrPercentValue(value: unknown): { percent: boolean; amount: number } | undefined {
  if (typeof value === 'number') return { percent: false, amount: value };
  if (typeof value === 'string' && PERCENT.test(value)) return { percent: true, amount: Number(value.slice(0, -1)) };
  if (typeof value === 'string' && /^\d+$/.test(value)) return { percent: false, amount: Number(value) };
  return undefined;
}
