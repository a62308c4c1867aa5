// pkg/apis/rbac/validation and the rbac/v1 defaulting the RBAC strategies share: policy rules, subjects,
// role references, aggregation selectors. Names of RBAC objects need only be valid path segments.

import { forbiddenField, invalidField, notSupportedField, requiredField, type FieldError } from '../errors.ts';
import { isPlainObject, type KubeObject } from '../object.ts';
import { isDNS1123Subdomain, isQualifiedName, isValidLabelValue } from '../validation/names.ts';
import { validateLabels } from '../validation/object-meta.ts';

export const RBAC_GROUP = 'rbac.authorization.k8s.io';

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** Go's %#v of a []string, as field.Invalid prints one. */
function goStringSlice(values: string[]): string {
  return `[]string{${values.map((v) => JSON.stringify(v)).join(', ')}}`;
}

export function validatePolicyRules(object: KubeObject, namespaced: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const rules = Array.isArray(object.rules) ? object.rules : [];
  rules.forEach((raw, i) => {
    const path = `rules[${i}]`;
    const rule = isPlainObject(raw) ? raw : {};
    if (strings(rule.verbs).length === 0) errs.push(requiredField(`${path}.verbs`, 'verbs must contain at least one value'));
    const urls = strings(rule.nonResourceURLs);
    if (urls.length > 0) {
      const message = (detail: string): FieldError => ({ type: 'FieldValueInvalid', field: `${path}.nonResourceURLs`, message: `Invalid value: ${goStringSlice(urls)}: ${detail}` });
      if (namespaced) errs.push(message('namespaced rules cannot apply to non-resource URLs'));
      if (strings(rule.apiGroups).length || strings(rule.resources).length || strings(rule.resourceNames).length) {
        errs.push(message('rules cannot apply to both regular resources and non-resource URLs'));
      }
      return;
    }
    if (strings(rule.apiGroups).length === 0) errs.push(requiredField(`${path}.apiGroups`, 'resource rules must supply at least one api group'));
    if (strings(rule.resources).length === 0) errs.push(requiredField(`${path}.resources`, 'resource rules must supply at least one resource'));
  });
  return errs;
}

export function validateAggregationRule(role: KubeObject): FieldError[] {
  if (role.aggregationRule === undefined || role.aggregationRule === null) return [];
  const errs: FieldError[] = [];
  const rule = isPlainObject(role.aggregationRule) ? role.aggregationRule : {};
  const selectors = Array.isArray(rule.clusterRoleSelectors) ? rule.clusterRoleSelectors : [];
  if (selectors.length === 0) {
    errs.push(requiredField('aggregationRule.clusterRoleSelectors', 'at least one clusterRoleSelector required if aggregationRule is non-nil'));
  }
  selectors.forEach((raw, i) => {
    const path = `aggregationRule.clusterRoleSelectors[${i}]`;
    const selector = isPlainObject(raw) ? raw : {};
    if (isPlainObject(selector.matchLabels)) errs.push(...validateLabels(selector.matchLabels as Record<string, string>, `${path}.matchLabels`));
    const expressions = Array.isArray(selector.matchExpressions) ? selector.matchExpressions : [];
    expressions.forEach((rawExpr, j) => {
      const exprPath = `${path}.matchExpressions[${j}]`;
      const expr = isPlainObject(rawExpr) ? rawExpr : {};
      const values = strings(expr.values);
      const operator = typeof expr.operator === 'string' ? expr.operator : '';
      if (operator === 'In' || operator === 'NotIn') {
        if (values.length === 0) errs.push(requiredField(`${exprPath}.values`, "must be specified when `operator` is 'In' or 'NotIn'"));
      } else if (operator === 'Exists' || operator === 'DoesNotExist') {
        if (values.length > 0) errs.push(forbiddenField(`${exprPath}.values`, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
      } else {
        errs.push(invalidField(`${exprPath}.operator`, operator, 'not a valid selector operator'));
      }
      const key = typeof expr.key === 'string' ? expr.key : '';
      for (const msg of isQualifiedName(key)) errs.push(invalidField(`${exprPath}.key`, key, msg));
      values.forEach((value, k) => {
        for (const msg of isValidLabelValue(value)) errs.push(invalidField(`${exprPath}.values[${k}]`, value, msg));
      });
    });
  });
  return errs;
}

/** Go's %#v of the internal RoleRef, as `cannot change roleRef` prints it. */
function goRoleRef(ref: Record<string, unknown>): string {
  const str = (v: unknown) => JSON.stringify(typeof v === 'string' ? v : '');
  return `rbac.RoleRef{APIGroup:${str(ref.apiGroup)}, Kind:${str(ref.kind)}, Name:${str(ref.name)}}`;
}

export function validateBinding(binding: KubeObject, namespaced: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const ref = isPlainObject(binding.roleRef) ? binding.roleRef : {};
  const apiGroup = typeof ref.apiGroup === 'string' ? ref.apiGroup : '';
  const kind = typeof ref.kind === 'string' ? ref.kind : '';
  const name = typeof ref.name === 'string' ? ref.name : '';
  if (apiGroup !== RBAC_GROUP) errs.push(notSupportedField('roleRef.apiGroup', apiGroup, [RBAC_GROUP]));
  const kinds = namespaced ? ['Role', 'ClusterRole'] : ['ClusterRole'];
  if (!kinds.includes(kind)) errs.push(notSupportedField('roleRef.kind', kind, kinds));
  if (!name) errs.push(requiredField('roleRef.name'));
  else for (const msg of pathSegmentErrors(name)) errs.push(invalidField('roleRef.name', name, msg));
  const subjects = Array.isArray(binding.subjects) ? binding.subjects : [];
  subjects.forEach((raw, i) => errs.push(...validateSubject(isPlainObject(raw) ? raw : {}, namespaced, `subjects[${i}]`)));
  return errs;
}

export function validateBindingUpdate(binding: KubeObject, old: KubeObject, namespaced: boolean): FieldError[] {
  const errs = validateBinding(binding, namespaced);
  const ref = isPlainObject(binding.roleRef) ? binding.roleRef : {};
  const oldRef = isPlainObject(old.roleRef) ? old.roleRef : {};
  if (ref.apiGroup !== oldRef.apiGroup || ref.kind !== oldRef.kind || ref.name !== oldRef.name) {
    errs.push({ type: 'FieldValueInvalid', field: 'roleRef', message: `Invalid value: ${goRoleRef(ref)}: cannot change roleRef` });
  }
  return errs;
}

function validateSubject(subject: Record<string, unknown>, namespaced: boolean, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const name = typeof subject.name === 'string' ? subject.name : '';
  const kind = typeof subject.kind === 'string' ? subject.kind : '';
  const apiGroup = typeof subject.apiGroup === 'string' ? subject.apiGroup : '';
  if (!name) errs.push(requiredField(`${path}.name`));
  switch (kind) {
    case 'ServiceAccount':
      if (name) for (const msg of isDNS1123Subdomain(name)) errs.push(invalidField(`${path}.name`, name, msg));
      if (apiGroup) errs.push(notSupportedField(`${path}.apiGroup`, apiGroup, ['']));
      if (!namespaced && !subject.namespace) errs.push(requiredField(`${path}.namespace`));
      break;
    case 'User':
    case 'Group':
      if (apiGroup !== RBAC_GROUP) errs.push(notSupportedField(`${path}.apiGroup`, apiGroup, [RBAC_GROUP]));
      break;
    default:
      errs.push(notSupportedField(`${path}.kind`, kind, ['ServiceAccount', 'User', 'Group']));
  }
  return errs;
}

/** path.IsValidPathSegmentName (ValidateRBACName). */
function pathSegmentErrors(name: string): string[] {
  if (name === '.' || name === '..') return [`may not be '${name}'`];
  const errs: string[] = [];
  for (const bad of ['/', '%']) if (name.includes(bad)) errs.push(`may not contain '${bad}'`);
  return errs;
}

/** rbac/v1 defaulting: roleRef and User/Group subjects default to the RBAC group. */
export function defaultBinding(binding: KubeObject): void {
  if (isPlainObject(binding.roleRef) && !binding.roleRef.apiGroup) binding.roleRef.apiGroup = RBAC_GROUP;
  if (!Array.isArray(binding.subjects)) return;
  for (const subject of binding.subjects) {
    if (!isPlainObject(subject) || subject.apiGroup) continue;
    if (subject.kind === 'User' || subject.kind === 'Group') subject.apiGroup = RBAC_GROUP;
  }
}

