// Defaulting and validation of admissionregistration.k8s.io/v1 webhook configurations, after
// pkg/apis/admissionregistration/v1/defaults.go and pkg/apis/admissionregistration/validation.

import { duplicateField, invalidField, notSupportedField, requiredField, type FieldError } from '../errors.ts';
import { isPlainObject, type KubeObject } from '../object.ts';
import { compileCelExpression } from '../cel/expressions.ts';

export const ADMISSION_GROUP = 'admissionregistration.k8s.io';

export interface WebhookRule {
  operations?: string[];
  apiGroups?: string[];
  apiVersions?: string[];
  resources?: string[];
  scope?: string;
}

export interface LabelSelectorJson {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

export interface WebhookJson {
  name: string;
  clientConfig: { url?: string; service?: { namespace: string; name: string; path?: string; port?: number }; caBundle?: string };
  rules?: WebhookRule[];
  failurePolicy?: 'Fail' | 'Ignore';
  matchPolicy?: 'Exact' | 'Equivalent';
  namespaceSelector?: LabelSelectorJson;
  objectSelector?: LabelSelectorJson;
  sideEffects?: string;
  timeoutSeconds?: number;
  admissionReviewVersions?: string[];
  reinvocationPolicy?: 'Never' | 'IfNeeded';
  matchConditions?: { name: string; expression: string }[];
}

export function webhooksOf(object: KubeObject): WebhookJson[] {
  return Array.isArray(object.webhooks) ? (object.webhooks as unknown[]).filter(isPlainObject) as unknown as WebhookJson[] : [];
}

export function defaultWebhooks(object: KubeObject, mutating: boolean): void {
  for (const webhook of webhooksOf(object)) {
    webhook.failurePolicy ??= 'Fail';
    webhook.matchPolicy ??= 'Equivalent';
    webhook.namespaceSelector ??= {};
    webhook.objectSelector ??= {};
    webhook.timeoutSeconds ??= 10;
    if (mutating) webhook.reinvocationPolicy ??= 'Never';
    for (const rule of webhook.rules ?? []) rule.scope ??= '*';
    if (webhook.clientConfig?.service) webhook.clientConfig.service.port ??= 443;
  }
}

const SIDE_EFFECTS = ['None', 'NoneOnDryRun'];
const OPERATIONS = ['*', 'CONNECT', 'CREATE', 'DELETE', 'UPDATE'];

export function validateWebhooks(object: KubeObject, mutating: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set<string>();
  webhooksOf(object).forEach((webhook, i) => {
    const path = `webhooks[${i}]`;
    if (!webhook.name) errs.push(requiredField(`${path}.name`));
    else if (webhook.name.split('.').length < 3) errs.push(invalidField(`${path}.name`, webhook.name, 'should be a domain with at least three segments separated by dots'));
    else if (names.has(webhook.name)) errs.push(duplicateField(`${path}.name`, webhook.name));
    names.add(webhook.name);
    const config = webhook.clientConfig ?? {};
    if (!config.url === !config.service) errs.push(requiredField(`${path}.clientConfig`, 'exactly one of url or service is required'));
    if (config.url) {
      let url: URL | undefined;
      try { url = new URL(config.url); } catch { errs.push(invalidField(`${path}.clientConfig.url`, config.url, 'host must be specified')); }
      if (url && url.protocol !== 'https:') errs.push(invalidField(`${path}.clientConfig.url`, config.url, "'https' is the only allowed URL scheme"));
      if (url && (url.username || url.password)) errs.push(invalidField(`${path}.clientConfig.url`, config.url, 'user information is not permitted in the URL'));
      if (url && (url.hash || url.search)) errs.push(invalidField(`${path}.clientConfig.url`, config.url, 'fragments and query parameters are not permitted'));
    }
    if (config.service) {
      if (!config.service.name) errs.push(requiredField(`${path}.clientConfig.service.name`, 'service name is required'));
      if (!config.service.namespace) errs.push(requiredField(`${path}.clientConfig.service.namespace`, 'service namespace is required'));
      const port = config.service.port;
      if (port !== undefined && (port < 1 || port > 65535)) errs.push(invalidField(`${path}.clientConfig.service.port`, port, 'port is not valid: must be between 1 and 65535, inclusive'));
    }
    if (!webhook.sideEffects) errs.push(requiredField(`${path}.sideEffects`, 'must specify one of None, NoneOnDryRun'));
    else if (!SIDE_EFFECTS.includes(webhook.sideEffects)) errs.push(notSupportedField(`${path}.sideEffects`, webhook.sideEffects, SIDE_EFFECTS));
    const versions = webhook.admissionReviewVersions ?? [];
    if (versions.length === 0) errs.push(requiredField(`${path}.admissionReviewVersions`, 'must specify one of v1, v1beta1'));
    else if (!versions.some((v) => v === 'v1' || v === 'v1beta1')) errs.push(invalidField(`${path}.admissionReviewVersions`, versions, 'must include at least one of v1, v1beta1'));
    if (webhook.timeoutSeconds !== undefined && (webhook.timeoutSeconds < 1 || webhook.timeoutSeconds > 30)) {
      errs.push(invalidField(`${path}.timeoutSeconds`, webhook.timeoutSeconds, 'the timeout value must be between 1 and 30 seconds'));
    }
    if (webhook.failurePolicy && !['Fail', 'Ignore'].includes(webhook.failurePolicy)) errs.push(notSupportedField(`${path}.failurePolicy`, webhook.failurePolicy, ['Fail', 'Ignore']));
    if (webhook.matchPolicy && !['Equivalent', 'Exact'].includes(webhook.matchPolicy)) errs.push(notSupportedField(`${path}.matchPolicy`, webhook.matchPolicy, ['Equivalent', 'Exact']));
    if (mutating && webhook.reinvocationPolicy && !['IfNeeded', 'Never'].includes(webhook.reinvocationPolicy)) {
      errs.push(notSupportedField(`${path}.reinvocationPolicy`, webhook.reinvocationPolicy, ['IfNeeded', 'Never']));
    }
    (webhook.rules ?? []).forEach((rule, j) => {
      const rulePath = `${path}.rules[${j}]`;
      for (const [k, op] of (rule.operations ?? []).entries()) if (!OPERATIONS.includes(op)) errs.push(notSupportedField(`${rulePath}.operations[${k}]`, op, OPERATIONS));
      if (!rule.apiGroups?.length) errs.push(requiredField(`${rulePath}.apiGroups`));
      if (!rule.apiVersions?.length) errs.push(requiredField(`${rulePath}.apiVersions`));
      if (!rule.resources?.length) errs.push(requiredField(`${rulePath}.resources`));
      if (rule.scope && !['*', 'Cluster', 'Namespaced'].includes(rule.scope)) errs.push(notSupportedField(`${rulePath}.scope`, rule.scope, ['*', 'Cluster', 'Namespaced']));
    });
    const conditionNames = new Set<string>();
    (webhook.matchConditions ?? []).forEach((condition, j) => {
      const conditionPath = `${path}.matchConditions[${j}]`;
      if (!condition.name) errs.push(requiredField(`${conditionPath}.name`));
      else if (conditionNames.has(condition.name)) errs.push(duplicateField(`${conditionPath}.name`, condition.name));
      conditionNames.add(condition.name);
      if (!condition.expression) errs.push(requiredField(`${conditionPath}.expression`));
      else {
        const problem = compileCelExpression(condition.expression).error;
        if (problem) errs.push(invalidField(`${conditionPath}.expression`, condition.expression, `compilation failed: ${problem}`));
      }
    });
  });
  return errs;
}
