// rbac.authorization.k8s.io/v1 shapes as the authorizer reads them from stored objects, and the rule
// matching of plugin/pkg/auth/authorizer/rbac (RuleAllows) with pkg/apis/rbac/v1 evaluation helpers.

import { isPlainObject, type KubeObject } from '../../api/object.ts';
import type { AuthorizationAttributes } from '../authorizer.ts';

export const RBAC_GROUP = 'rbac.authorization.k8s.io';

export interface PolicyRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

export interface Subject {
  kind: string;
  apiGroup?: string;
  name: string;
  namespace?: string;
}

export interface RoleRef {
  apiGroup: string;
  kind: string;
  name: string;
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function optionalStrings(value: unknown): string[] | undefined {
  return Array.isArray(value) ? strings(value) : undefined;
}

/** The rules of a Role or ClusterRole (null or missing: none). */
export function rulesOf(object: KubeObject | undefined): PolicyRule[] {
  const rules = object?.rules;
  if (!Array.isArray(rules)) return [];
  return rules.filter(isPlainObject).map((rule) => {
    const result: PolicyRule = { verbs: strings(rule.verbs) };
    const apiGroups = optionalStrings(rule.apiGroups);
    const resources = optionalStrings(rule.resources);
    const resourceNames = optionalStrings(rule.resourceNames);
    const nonResourceURLs = optionalStrings(rule.nonResourceURLs);
    if (apiGroups) result.apiGroups = apiGroups;
    if (resources) result.resources = resources;
    if (resourceNames) result.resourceNames = resourceNames;
    if (nonResourceURLs) result.nonResourceURLs = nonResourceURLs;
    return result;
  });
}

export function subjectsOf(binding: KubeObject): Subject[] {
  const subjects = binding.subjects;
  if (!Array.isArray(subjects)) return [];
  return subjects.filter(isPlainObject).map((s) => ({
    kind: typeof s.kind === 'string' ? s.kind : '',
    name: typeof s.name === 'string' ? s.name : '',
    ...(typeof s.apiGroup === 'string' ? { apiGroup: s.apiGroup } : {}),
    ...(typeof s.namespace === 'string' ? { namespace: s.namespace } : {}),
  }));
}

export function roleRefOf(binding: KubeObject): RoleRef {
  const ref = isPlainObject(binding.roleRef) ? binding.roleRef : {};
  return {
    apiGroup: typeof ref.apiGroup === 'string' ? ref.apiGroup : '',
    kind: typeof ref.kind === 'string' ? ref.kind : '',
    name: typeof ref.name === 'string' ? ref.name : '',
  };
}

export function verbMatches(rule: PolicyRule, verb: string): boolean {
  return rule.verbs.some((v) => v === '*' || v === verb);
}

export function apiGroupMatches(rule: PolicyRule, group: string): boolean {
  return (rule.apiGroups ?? []).some((g) => g === '*' || g === group);
}

// `*`, an exact `resource[/subresource]`, or "*" + "/subresource" for that subresource of any resource.
export function resourceMatches(rule: PolicyRule, combinedResource: string, subresource: string): boolean {
  for (const ruleResource of rule.resources ?? []) {
    if (ruleResource === '*' || ruleResource === combinedResource) return true;
    if (!subresource) continue;
    if (ruleResource.length === subresource.length + 2 && ruleResource.startsWith('*/') && ruleResource.endsWith(subresource)) return true;
  }
  return false;
}

export function resourceNameMatches(rule: PolicyRule, name: string): boolean {
  const names = rule.resourceNames ?? [];
  return names.length === 0 || names.includes(name);
}

/** `*`, an exact path, or a prefix when the rule ends with `*`. */
export function nonResourceURLMatches(rule: PolicyRule, path: string): boolean {
  for (const url of rule.nonResourceURLs ?? []) {
    if (url === '*' || url === path) return true;
    if (url.endsWith('*') && path.startsWith(url.replace(/\*+$/, ''))) return true;
  }
  return false;
}

export function ruleAllows(attributes: AuthorizationAttributes, rule: PolicyRule): boolean {
  if (attributes.resourceRequest) {
    const combined = attributes.subresource ? `${attributes.resource}/${attributes.subresource}` : attributes.resource;
    return verbMatches(rule, attributes.verb)
      && apiGroupMatches(rule, attributes.apiGroup)
      && resourceMatches(rule, combined, attributes.subresource)
      && resourceNameMatches(rule, attributes.name);
  }
  return verbMatches(rule, attributes.verb) && nonResourceURLMatches(rule, attributes.path);
}

export function rulesAllow(attributes: AuthorizationAttributes, rules: PolicyRule[]): boolean {
  return rules.some((rule) => ruleAllows(attributes, rule));
}
