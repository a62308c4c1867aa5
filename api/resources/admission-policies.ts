// admissionregistration.k8s.io/v1 ValidatingAdmissionPolicy and ValidatingAdmissionPolicyBinding
// (cluster-scoped): defaulted and validated as pkg/apis/admissionregistration/{v1/defaults.go,
// validation} do (CEL expressions must compile), tables as upstream (NAME, VALIDATIONS, PARAMKIND,
// AGE / NAME, POLICYNAME, PARAMREF, AGE). They are enforced by auth/admission/policy-admission.ts.

import { duplicateField, forbiddenField, invalidField, notSupportedField, requiredField, type FieldError } from '../errors.ts';
import { isPlainObject, type KubeObject } from '../object.ts';
import type { ResourceStrategy } from '../resource.ts';
import { compileCelExpression } from '../cel/expressions.ts';
import { age, ageColumn, column, nameColumn, obj, str } from './printing.ts';
import { ADMISSION_GROUP, type LabelSelectorJson, type WebhookRule } from './webhook-validation.ts';

export interface MatchResources {
  namespaceSelector?: LabelSelectorJson;
  objectSelector?: LabelSelectorJson;
  resourceRules?: (WebhookRule & { resourceNames?: string[] })[];
  excludeResourceRules?: (WebhookRule & { resourceNames?: string[] })[];
  matchPolicy?: string;
}

export interface PolicySpec {
  paramKind?: { apiVersion: string; kind: string };
  matchConstraints?: MatchResources;
  validations?: { expression: string; message?: string; messageExpression?: string; reason?: string }[];
  failurePolicy?: 'Fail' | 'Ignore';
  auditAnnotations?: { key: string; valueExpression: string }[];
  matchConditions?: { name: string; expression: string }[];
  variables?: { name: string; expression: string }[];
}

export interface BindingSpec {
  policyName: string;
  paramRef?: { name?: string; namespace?: string; selector?: LabelSelectorJson; parameterNotFoundAction?: 'Allow' | 'Deny' };
  matchResources?: MatchResources;
  validationActions?: ('Deny' | 'Warn' | 'Audit')[];
}

export function policySpec(object: KubeObject): PolicySpec {
  if (!isPlainObject(object.spec)) object.spec = {};
  return object.spec as PolicySpec;
}

export function bindingSpec(object: KubeObject): BindingSpec {
  if (!isPlainObject(object.spec)) object.spec = {};
  return object.spec as unknown as BindingSpec;
}

function defaultMatch(match: MatchResources | undefined): void {
  if (!match) return;
  match.matchPolicy ??= 'Equivalent';
  match.namespaceSelector ??= {};
  match.objectSelector ??= {};
  for (const rule of [...(match.resourceRules ?? []), ...(match.excludeResourceRules ?? [])]) rule.scope ??= '*';
}

const REASONS = ['Unauthorized', 'Forbidden', 'Invalid', 'RequestEntityTooLarge'];

function compileErrors(path: string, expression: string | undefined): FieldError[] {
  if (!expression) return [requiredField(path)];
  const { error } = compileCelExpression(expression);
  return error ? [invalidField(path, expression, `compilation failed: ${error}`)] : [];
}

function validatePolicy(policy: KubeObject): FieldError[] {
  const spec = policySpec(policy);
  const errs: FieldError[] = [];
  if (!spec.validations?.length && !spec.auditAnnotations?.length) errs.push(requiredField('spec.validations', 'validations or auditAnnotations must contain at least one item'));
  if (spec.failurePolicy && !['Fail', 'Ignore'].includes(spec.failurePolicy)) errs.push(notSupportedField('spec.failurePolicy', spec.failurePolicy, ['Fail', 'Ignore']));
  if (spec.paramKind) {
    if (!spec.paramKind.apiVersion) errs.push(requiredField('spec.paramKind.apiVersion'));
    if (!spec.paramKind.kind) errs.push(requiredField('spec.paramKind.kind'));
  }
  if (!spec.matchConstraints) errs.push(requiredField('spec.matchConstraints'));
  else if (!spec.matchConstraints.resourceRules?.length) errs.push(requiredField('spec.matchConstraints.resourceRules'));
  (spec.validations ?? []).forEach((v, i) => {
    errs.push(...compileErrors(`spec.validations[${i}].expression`, v.expression));
    if (v.messageExpression) errs.push(...compileErrors(`spec.validations[${i}].messageExpression`, v.messageExpression));
    if (v.reason && !REASONS.includes(v.reason)) errs.push(notSupportedField(`spec.validations[${i}].reason`, v.reason, REASONS));
  });
  const variableNames = new Set<string>();
  (spec.variables ?? []).forEach((v, i) => {
    if (!v.name) errs.push(requiredField(`spec.variables[${i}].name`));
    else if (variableNames.has(v.name)) errs.push(duplicateField(`spec.variables[${i}].name`, v.name));
    variableNames.add(v.name);
    errs.push(...compileErrors(`spec.variables[${i}].expression`, v.expression));
  });
  (spec.matchConditions ?? []).forEach((c, i) => errs.push(...compileErrors(`spec.matchConditions[${i}].expression`, c.expression)));
  return errs;
}

function validateBinding(binding: KubeObject): FieldError[] {
  const spec = bindingSpec(binding);
  const errs: FieldError[] = [];
  if (!spec.policyName) errs.push(requiredField('spec.policyName'));
  const actions = spec.validationActions ?? [];
  if (actions.length === 0) errs.push(requiredField('spec.validationActions', 'at least one validation action is required'));
  actions.forEach((action, i) => {
    if (!['Deny', 'Warn', 'Audit'].includes(action)) errs.push(notSupportedField(`spec.validationActions[${i}]`, action, ['Audit', 'Deny', 'Warn']));
  });
  if (new Set(actions).size !== actions.length) errs.push(invalidField('spec.validationActions', actions, 'must not contain duplicates'));
  if (actions.includes('Deny') && actions.includes('Warn')) {
    errs.push(invalidField('spec.validationActions', actions, 'must not contain both Deny and Warn (repeating the same validation failure information in the API response and headers serves no purpose)'));
  }
  const ref = spec.paramRef;
  if (ref) {
    if (ref.name && ref.selector) errs.push(forbiddenField('spec.paramRef.name', 'name and selector are mutually exclusive'));
    if (!ref.name && !ref.selector) errs.push(requiredField('spec.paramRef', 'one of name or selector must be specified'));
    if (ref.parameterNotFoundAction === undefined) errs.push(requiredField('spec.paramRef.parameterNotFoundAction'));
    else if (!['Allow', 'Deny'].includes(ref.parameterNotFoundAction)) errs.push(notSupportedField('spec.paramRef.parameterNotFoundAction', ref.parameterNotFoundAction, ['Allow', 'Deny']));
  }
  return errs;
}

const common = {
  group: ADMISSION_GROUP,
  version: 'v1',
  shortNames: [],
  categories: ['api-extensions'],
  namespaced: false,
  verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'] as ResourceStrategy['verbs'],
  subresources: [],
  tracksGeneration: true,
  selectableFieldNames: [],
};

export const validatingAdmissionPolicyStrategy: ResourceStrategy = {
  ...common,
  kind: 'ValidatingAdmissionPolicy',
  listKind: 'ValidatingAdmissionPolicyList',
  resource: 'validatingadmissionpolicies',
  singular: 'validatingadmissionpolicy',
  storageResource: 'validatingadmissionpolicies',
  hasStatus: true,
  prepareForCreate: (policy) => { delete policy.status; },
  applyDefaults(policy) {
    const spec = policySpec(policy);
    spec.failurePolicy ??= 'Fail';
    defaultMatch(spec.matchConstraints);
  },
  validate: validatePolicy,
  validateUpdate: validatePolicy,
  table: {
    columns: [nameColumn(), { ...column('Validations', 'Validations indicates the number of validation rules defined in this configuration'), type: 'integer' }, column('ParamKind', 'ParamKind specifies the kind of resources used to parameterize this policy'), ageColumn()],
    cells: (policy, now) => {
      const spec = policySpec(structuredClone(policy));
      const paramKind = spec.paramKind ? `${spec.paramKind.apiVersion}/${spec.paramKind.kind}` : '<unset>';
      return [policy.metadata.name ?? '', (spec.validations ?? []).length, paramKind, age(policy.metadata.creationTimestamp, now)];
    },
  },
};

export const validatingAdmissionPolicyBindingStrategy: ResourceStrategy = {
  ...common,
  kind: 'ValidatingAdmissionPolicyBinding',
  listKind: 'ValidatingAdmissionPolicyBindingList',
  resource: 'validatingadmissionpolicybindings',
  singular: 'validatingadmissionpolicybinding',
  storageResource: 'validatingadmissionpolicybindings',
  hasStatus: false,
  applyDefaults: (binding) => defaultMatch(bindingSpec(binding).matchResources),
  validate: validateBinding,
  validateUpdate: validateBinding,
  table: {
    columns: [nameColumn(), column('PolicyName', 'PolicyName indicates the policy definition which the policy binding binded to'), column('ParamRef', 'ParamRef indicates the param resource which sets the configration param'), ageColumn()],
    cells: (binding, now) => {
      const ref = obj(binding, 'spec', 'paramRef');
      const paramRef = ref ? `${str(ref, 'namespace') ? `${str(ref, 'namespace')}/` : ''}${str(ref, 'name') || '*'}` : '<unset>';
      return [binding.metadata.name ?? '', str(binding, 'spec', 'policyName'), paramRef, age(binding.metadata.creationTimestamp, now)];
    },
  },
};
