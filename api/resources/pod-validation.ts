// Pod create/update validation, worded as pkg/apis/core/validation/validation.go (ValidatePodCreate,
// ValidatePodUpdate). Covers the rules kubectl users meet; OpenAPI schema checks (types, unknown
// fields) happen before this in the registry.

import {
  duplicateField, forbiddenField, invalidField, notSupportedField, requiredField, type FieldError,
} from '../errors.ts';
import type { KubeObject } from '../object.ts';
import { displayValue, isPlainObject, ownValue } from '../object.ts';
import {
  inclusiveRangeError, isDNS1123Label, isDNS1123Subdomain, isQualifiedName, isValidLabelValue, isValidPortNum,
  nameIsDNSSubdomain,
} from '../validation/names.ts';
import { field, list, num, str } from './printing.ts';
import { parseQuantity } from './quantity.ts';
import { validateSysctls } from './pod-sysctls.ts';

type Json = Record<string, unknown>;
const MAX_INT32 = 2147483647;

export const POD_UPDATE_FORBIDDEN_MESSAGE = 'pod updates may not change fields other than `spec.containers[*].image`,'
  + '`spec.initContainers[*].image`,'
  + '`spec.activeDeadlineSeconds`,'
  + '`spec.tolerations` (only additions to existing tolerations),'
  + '`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)';

function isValidPortName(name: string): string[] {
  const errs: string[] = [];
  if (name.length > 15) errs.push('must be no more than 15 characters');
  if (!/^[-a-z0-9]+$/.test(name)) errs.push("must contain only alpha-numerics and '-'");
  if (!/[a-z]/.test(name)) errs.push('must contain at least one letter (a-z)');
  if (name.includes('--')) errs.push('must not contain consecutive hyphens');
  if (name.startsWith('-') || name.endsWith('-')) errs.push('must not begin or end with a hyphen');
  return errs;
}

function validateResources(container: Json, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const resources = isPlainObject(container.resources) ? container.resources : {};
  const limits = isPlainObject(resources.limits) ? resources.limits : {};
  const requests = isPlainObject(resources.requests) ? resources.requests : {};
  for (const [kind, values] of [['limits', limits], ['requests', requests]] as const) {
    for (const [name, raw] of Object.entries(values)) {
      const q = parseQuantity(raw);
      if (q !== undefined && q < 0) errs.push(invalidField(`${path}.resources.${kind}[${name}]`, displayValue(raw), 'must be greater than or equal to 0'));
    }
  }
  for (const [name, raw] of Object.entries(requests)) {
    const request = parseQuantity(raw);
    const limit = parseQuantity(ownValue(limits, name));
    if (request !== undefined && limit !== undefined && request > limit) {
      errs.push(invalidField(`${path}.resources.requests[${name}]`, displayValue(raw),
        `must be less than or equal to ${name} limit of ${displayValue(ownValue(limits, name))}`));
    }
  }
  return errs;
}

function validateContainer(container: Json, path: string, names: Set<string>): FieldError[] {
  const errs: FieldError[] = [];
  const name = str(container, 'name');
  if (!name) errs.push(requiredField(`${path}.name`));
  else {
    for (const msg of isDNS1123Label(name)) errs.push(invalidField(`${path}.name`, name, msg));
    if (names.has(name)) errs.push(duplicateField(`${path}.name`, name));
    names.add(name);
  }
  const image = str(container, 'image');
  if (!image) errs.push(requiredField(`${path}.image`));
  else if (image.trim() !== image) errs.push(invalidField(`${path}.image`, image, 'must not have leading or trailing whitespace'));
  const pullPolicy = container.imagePullPolicy;
  if (pullPolicy === undefined || pullPolicy === '') errs.push(requiredField(`${path}.imagePullPolicy`));
  else if (!['Always', 'IfNotPresent', 'Never'].includes(displayValue(pullPolicy))) {
    errs.push(notSupportedField(`${path}.imagePullPolicy`, pullPolicy, ['Always', 'IfNotPresent', 'Never']));
  }
  const portNames = new Set<string>();
  list(container, 'ports').forEach((port, i) => {
    const portPath = `${path}.ports[${i}]`;
    const portName = str(port, 'name');
    if (portName) {
      for (const msg of isValidPortName(portName)) errs.push(invalidField(`${portPath}.name`, portName, msg));
      if (portNames.has(portName)) errs.push(duplicateField(`${portPath}.name`, portName));
      portNames.add(portName);
    }
    const containerPort = num(port, 'containerPort') ?? 0;
    for (const msg of isValidPortNum(containerPort)) errs.push(invalidField(`${portPath}.containerPort`, containerPort, msg));
    const hostPort = num(port, 'hostPort') ?? 0;
    if (hostPort !== 0) for (const msg of isValidPortNum(hostPort)) errs.push(invalidField(`${portPath}.hostPort`, hostPort, msg));
    const protocol = port.protocol;
    if (!protocol) errs.push(requiredField(`${portPath}.protocol`));
    else if (!['SCTP', 'TCP', 'UDP'].includes(displayValue(protocol))) errs.push(notSupportedField(`${portPath}.protocol`, protocol, ['SCTP', 'TCP', 'UDP']));
  });
  const policy = container.terminationMessagePolicy;
  if (policy !== undefined && !['File', 'FallbackToLogsOnError'].includes(displayValue(policy))) {
    errs.push(notSupportedField(`${path}.terminationMessagePolicy`, policy, ['File', 'FallbackToLogsOnError']));
  }
  errs.push(...validateResources(container, path));
  return errs;
}

export function validateTolerations(tolerations: Json[], path: string): FieldError[] {
  const errs: FieldError[] = [];
  tolerations.forEach((t, i) => {
    const idx = `${path}[${i}]`;
    const key = str(t, 'key');
    const operator = str(t, 'operator');
    const effect = str(t, 'effect');
    const value = str(t, 'value');
    if (key) for (const msg of isQualifiedName(key)) errs.push(invalidField(`${idx}.key`, key, msg));
    if (!key && operator !== 'Exists') {
      errs.push(invalidField(`${idx}.operator`, operator, 'operator must be Exists when `key` is empty, which means "match all values and all keys"'));
    }
    if (t.tolerationSeconds !== undefined && t.tolerationSeconds !== null && effect !== 'NoExecute') {
      errs.push(invalidField(`${idx}.effect`, effect, "effect must be 'NoExecute' when `tolerationSeconds` is set"));
    }
    if (operator === 'Equal' || operator === '') {
      const msgs = isValidLabelValue(value);
      if (msgs.length) errs.push(invalidField(`${idx}.operator`, value, msgs.join(';')));
    } else if (operator === 'Exists') {
      if (value) errs.push(invalidField(`${idx}.operator`, t, "value must be empty when `operator` is 'Exists'"));
    } else {
      errs.push(notSupportedField(`${idx}.operator`, operator, ['Equal', 'Exists']));
    }
    if (effect && !['NoSchedule', 'PreferNoSchedule', 'NoExecute'].includes(effect)) {
      errs.push(notSupportedField(`${idx}.effect`, effect, ['NoSchedule', 'PreferNoSchedule', 'NoExecute']));
    }
  });
  return errs;
}

export function validatePodSpec(spec: Json, path = 'spec'): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set<string>();
  const containers = list(spec, 'containers');
  if (containers.length === 0) errs.push(requiredField(`${path}.containers`));
  list(spec, 'initContainers').forEach((c, i) => errs.push(...validateContainer(c, `${path}.initContainers[${i}]`, names)));
  containers.forEach((c, i) => errs.push(...validateContainer(c, `${path}.containers[${i}]`, names)));

  const restartPolicy = spec.restartPolicy;
  if (restartPolicy === undefined || restartPolicy === '') errs.push(requiredField(`${path}.restartPolicy`));
  else if (!['Always', 'OnFailure', 'Never'].includes(displayValue(restartPolicy))) {
    errs.push(notSupportedField(`${path}.restartPolicy`, restartPolicy, ['Always', 'OnFailure', 'Never']));
  }
  const dnsPolicy = spec.dnsPolicy;
  const dnsPolicies = ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'];
  if (dnsPolicy === undefined || dnsPolicy === '') errs.push(requiredField(`${path}.dnsPolicy`));
  else if (!dnsPolicies.includes(displayValue(dnsPolicy))) errs.push(notSupportedField(`${path}.dnsPolicy`, dnsPolicy, dnsPolicies));
  else if (dnsPolicy === 'None' && !isPlainObject(spec.dnsConfig)) {
    errs.push(requiredField(`${path}.dnsConfig`, 'must provide `dnsConfig` when `dnsPolicy` is None'));
  }
  const nodeName = str(spec, 'nodeName');
  if (nodeName) for (const msg of nameIsDNSSubdomain(nodeName, false)) errs.push(invalidField(`${path}.nodeName`, nodeName, msg));
  const deadline = num(spec, 'activeDeadlineSeconds');
  if (deadline !== undefined && (deadline < 1 || deadline > MAX_INT32)) {
    errs.push(invalidField(`${path}.activeDeadlineSeconds`, deadline, inclusiveRangeError(1, MAX_INT32)));
  }
  const scheduler = str(spec, 'schedulerName');
  if (scheduler) for (const msg of isDNS1123Subdomain(scheduler)) errs.push(invalidField(`${path}.schedulerName`, scheduler, msg));
  const serviceAccount = str(spec, 'serviceAccountName');
  if (serviceAccount) for (const msg of nameIsDNSSubdomain(serviceAccount, false)) errs.push(invalidField(`${path}.serviceAccountName`, serviceAccount, msg));
  errs.push(...validateTolerations(list(spec, 'tolerations'), `${path}.tolerations`));
  for (const key of ['priorityClassName', 'runtimeClassName']) {
    const name = str(spec, key);
    if (name) for (const msg of nameIsDNSSubdomain(name, false)) errs.push(invalidField(`${path}.${key}`, name, msg));
  }
  const preemptionPolicy = spec.preemptionPolicy;
  if (preemptionPolicy !== undefined && preemptionPolicy !== null && !['PreemptLowerPriority', 'Never'].includes(displayValue(preemptionPolicy))) {
    errs.push(notSupportedField(`${path}.preemptionPolicy`, preemptionPolicy, ['PreemptLowerPriority', 'Never']));
  }
  if (isPlainObject(spec.overhead)) {
    for (const [name, raw] of Object.entries(spec.overhead)) {
      const q = parseQuantity(raw);
      if (q !== undefined && q < 0) errs.push(invalidField(`${path}.overhead[${name}]`, displayValue(raw), 'must be greater than or equal to 0'));
    }
  }
  if (isPlainObject(spec.securityContext)) errs.push(...validateSysctls(spec.securityContext.sysctls, `${path}.securityContext.sysctls`));
  return errs;
}

/** Kind-specific checks; the registry validates ObjectMeta (with the strategy's validateName) itself. */
export function validatePod(pod: KubeObject): FieldError[] {
  return validatePodSpec(isPlainObject(pod.spec) ? pod.spec : {});
}

// ---- update ----

function sameJson(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (isPlainObject(v)
    ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, v[k]])) : v));
}

/** Leaf paths that differ, printed loosely after Go's cmp.Diff (which upstream appends). */
function describeDiff(oldValue: unknown, newValue: unknown, path: string, out: string[]): void {
  if (sameJson(oldValue, newValue)) return;
  if (isPlainObject(oldValue) && isPlainObject(newValue)) {
    for (const key of [...new Set([...Object.keys(oldValue), ...Object.keys(newValue)])].sort()) {
      describeDiff(ownValue(oldValue, key), ownValue(newValue, key), path ? `${path}.${key}` : key, out);
    }
    return;
  }
  if (Array.isArray(oldValue) && Array.isArray(newValue) && oldValue.length === newValue.length) {
    oldValue.forEach((v, i) => describeDiff(v, newValue[i], `${path}[${i}]`, out));
    return;
  }
  if (oldValue !== undefined) out.push(`- \t${path}: ${JSON.stringify(oldValue)},`);
  if (newValue !== undefined) out.push(`+ \t${path}: ${JSON.stringify(newValue)},`);
}

function validateOnlyAddedTolerations(newTolerations: Json[], oldTolerations: Json[], path: string): FieldError[] {
  for (const old of oldTolerations) {
    // tolerationSeconds may change in place; everything else must be kept.
    const found = newTolerations.some((t) => sameJson({ ...old, tolerationSeconds: t.tolerationSeconds }, t));
    if (!found) return [forbiddenField(path, 'existing toleration can not be modified except its tolerationSeconds')];
  }
  return validateTolerations(newTolerations, path);
}

export function validatePodUpdate(pod: KubeObject, old: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const spec = (isPlainObject(pod.spec) ? pod.spec : {}) as Json;
  const oldSpec = (isPlainObject(old.spec) ? old.spec : {}) as Json;
  for (const key of ['containers', 'initContainers'] as const) {
    const now = list(spec, key);
    const before = list(oldSpec, key);
    if (now.length !== before.length) return [forbiddenField(`spec.${key}`, 'pod updates may not add or remove containers')];
    now.forEach((c, i) => {
      const image = str(c, 'image');
      if (!image) errs.push(requiredField(`spec.${key}[${i}].image`));
      else if (image.trim() !== image) errs.push(invalidField(`spec.${key}[${i}].image`, image, 'must not have leading or trailing whitespace'));
    });
  }
  const deadline = num(spec, 'activeDeadlineSeconds');
  const oldDeadline = num(oldSpec, 'activeDeadlineSeconds');
  if (deadline !== undefined) {
    if (deadline < 0 || deadline > MAX_INT32) return [...errs, invalidField('spec.activeDeadlineSeconds', deadline, inclusiveRangeError(0, MAX_INT32))];
    if (oldDeadline !== undefined && oldDeadline < deadline) {
      return [...errs, invalidField('spec.activeDeadlineSeconds', deadline, 'must be less than or equal to previous value')];
    }
  } else if (oldDeadline !== undefined) {
    errs.push(invalidField('spec.activeDeadlineSeconds', null, 'must not update from a positive integer to nil value'));
  }
  errs.push(...validateOnlyAddedTolerations(list(spec, 'tolerations'), list(oldSpec, 'tolerations'), 'spec.tolerations'));
  const newGates = list(spec, 'schedulingGates');
  const oldGateNames = new Set(list(oldSpec, 'schedulingGates').map((g) => str(g, 'name')));
  newGates.forEach((gate, i) => {
    const name = str(gate, 'name');
    if (!oldGateNames.has(name)) {
      errs.push(forbiddenField(`spec.schedulingGates[${i}].name`, `only deletion is allowed, but found new scheduling gate '${name}'`));
    }
  });
  if (sameJson(spec, oldSpec)) return errs;

  // Copy the mutable fields from the new spec onto the old one; any remaining difference is forbidden.
  const munged = structuredClone(spec);
  const mungedContainers = (key: string) => list(munged, key).map((c, i) => ({ ...c, image: field(oldSpec, key, i, 'image') }));
  if (Array.isArray(munged.containers)) munged.containers = mungedContainers('containers');
  if (Array.isArray(munged.initContainers)) munged.initContainers = mungedContainers('initContainers');
  setOrDelete(munged, 'activeDeadlineSeconds', oldSpec.activeDeadlineSeconds);
  setOrDelete(munged, 'tolerations', oldSpec.tolerations);
  setOrDelete(munged, 'schedulingGates', oldSpec.schedulingGates);
  const oldGrace = num(oldSpec, 'terminationGracePeriodSeconds');
  if (oldGrace !== undefined && oldGrace < 0 && num(spec, 'terminationGracePeriodSeconds') === 1) {
    munged.terminationGracePeriodSeconds = oldGrace;
  }
  if (!sameJson(munged, oldSpec)) {
    const diff: string[] = [];
    describeDiff(oldSpec, munged, '', diff);
    errs.push(forbiddenField('spec', `${POD_UPDATE_FORBIDDEN_MESSAGE}\n  core.PodSpec{\n${diff.map((l) => `  ${l}`).join('\n')}\n  }\n`));
  }
  return errs;
}

function setOrDelete(target: Json, key: string, value: unknown): void {
  if (value === undefined) delete target[key];
  else target[key] = structuredClone(value);
}
