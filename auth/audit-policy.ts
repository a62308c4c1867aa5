// --audit-policy-file: the audit.k8s.io/v1 Policy kube-apiserver reads (YAML or JSON), validated at
// start (a file that does not parse or validate stops the server), and evaluated per request as
// upstream's policy checker does: the first rule that matches decides the level and the stages to
// omit (added to the policy's own omitStages); no matching rule means level None.

import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import type { UserInfo } from './user.ts';

export type AuditLevel = 'None' | 'Metadata' | 'Request' | 'RequestResponse';
export type AuditStage = 'RequestReceived' | 'ResponseStarted' | 'ResponseComplete' | 'Panic';

const LEVELS: readonly AuditLevel[] = ['None', 'Metadata', 'Request', 'RequestResponse'];
const STAGES: readonly AuditStage[] = ['RequestReceived', 'ResponseStarted', 'ResponseComplete', 'Panic'];

export interface GroupResources {
  group: string;
  resources: string[];
  resourceNames: string[];
}

export interface PolicyRule {
  level: AuditLevel;
  users: string[];
  userGroups: string[];
  verbs: string[];
  resources: GroupResources[];
  namespaces: string[];
  nonResourceURLs: string[];
  omitStages: AuditStage[];
}

export interface AuditPolicy {
  rules: PolicyRule[];
  omitStages: AuditStage[];
}

/** What a request is, for rule matching (authorizer.Attributes). */
export interface AuditAttributes {
  user?: UserInfo;
  verb: string;
  resourceRequest: boolean;
  path: string;
  apiGroup?: string;
  namespace?: string;
  resource?: string;
  subresource?: string;
  name?: string;
}

export interface AuditDecision {
  level: AuditLevel;
  omitStages: ReadonlySet<AuditStage>;
}

/** Without --audit-policy-file every request is logged at Metadata (kubefacade's default). */
export const METADATA_FOR_EVERYTHING: AuditPolicy = {
  rules: [{ level: 'Metadata', users: [], userGroups: [], verbs: [], resources: [], namespaces: [], nonResourceURLs: [], omitStages: [] }],
  omitStages: [],
};

export class AuditPolicyError extends Error {
  constructor(file: string, detail: string) {
    super(`loading audit policy file: ${file}: ${detail}`);
    this.name = 'AuditPolicyError';
  }
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

function strings(value: unknown, path: string, errors: string[]): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    errors.push(`${path}: must be a list of strings`);
    return [];
  }
  return value as string[];
}

function stages(value: unknown, path: string, errors: string[]): AuditStage[] {
  const list = strings(value, path, errors);
  list.forEach((stage, i) => {
    if (!STAGES.includes(stage as AuditStage)) errors.push(`${path}[${i}]: Invalid value: "${stage}": allowed stages are ${STAGES.join(', ')}`);
  });
  return list as AuditStage[];
}

/** Parses and validates a Policy document (ValidatePolicy); throws AuditPolicyError listing every problem. */
export function parseAuditPolicy(text: string, file: string): AuditPolicy {
  let document: unknown;
  try {
    document = parseYaml(text, { maxAliasCount: 100 });
  } catch (err) {
    throw new AuditPolicyError(file, `failed decoding: ${(err as Error).message}`);
  }
  if (!isObject(document)) throw new AuditPolicyError(file, 'failed decoding: not an audit.k8s.io Policy object');
  if (document.kind !== 'Policy' || (document.apiVersion !== 'audit.k8s.io/v1' && document.apiVersion !== 'audit.k8s.io/v1beta1')) {
    throw new AuditPolicyError(file, `failed decoding: expected apiVersion audit.k8s.io/v1, kind Policy; got ${String(document.apiVersion)}, ${String(document.kind)}`);
  }
  const errors: string[] = [];
  const omitStages = stages(document.omitStages, 'omitStages', errors);
  if (!Array.isArray(document.rules)) errors.push('rules: Required value');
  const rules: PolicyRule[] = (Array.isArray(document.rules) ? document.rules : []).map((raw: unknown, i: number) => {
    const at = `rules[${i}]`;
    const rule = isObject(raw) ? raw : {};
    if (!isObject(raw)) errors.push(`${at}: must be an object`);
    const level = rule.level as AuditLevel;
    if (!LEVELS.includes(level)) errors.push(`${at}.level: Unsupported value: "${String(rule.level)}": supported values: "${LEVELS.join('", "')}"`);
    const resources = (Array.isArray(rule.resources) ? rule.resources : []).map((gr: unknown, j: number) => {
      const entry = isObject(gr) ? gr : {};
      const group = typeof entry.group === 'string' ? entry.group : '';
      const names = strings(entry.resources, `${at}.resources[${j}].resources`, errors);
      const resourceNames = strings(entry.resourceNames, `${at}.resources[${j}].resourceNames`, errors);
      if (group && !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(group)) {
        errors.push(`${at}.resources[${j}].group: Invalid value: "${group}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`);
      }
      if (resourceNames.length > 0 && names.length === 0) {
        errors.push(`${at}.resources[${j}].resourceNames: Invalid value: ${JSON.stringify(resourceNames)}: using resourceNames requires at least one resource`);
      }
      return { group, resources: names, resourceNames };
    });
    if (rule.resources !== undefined && !Array.isArray(rule.resources)) errors.push(`${at}.resources: must be a list`);
    const namespaces = strings(rule.namespaces, `${at}.namespaces`, errors);
    const nonResourceURLs = strings(rule.nonResourceURLs, `${at}.nonResourceURLs`, errors);
    if (nonResourceURLs.length > 0 && (resources.length > 0 || namespaces.length > 0)) {
      errors.push(`${at}.nonResourceURLs: Invalid value: ${JSON.stringify(nonResourceURLs)}: rules cannot apply to both regular resources and non-resource URLs`);
    }
    nonResourceURLs.forEach((url, j) => {
      if (!url.startsWith('/') && url !== '*') errors.push(`${at}.nonResourceURLs[${j}]: Invalid value: "${url}": non-resource URL rules must begin with a '/' character`);
      if (url.slice(0, -1).includes('*')) errors.push(`${at}.nonResourceURLs[${j}]: Invalid value: "${url}": non-resource URL wildcards '*' must be the final character of the rule`);
    });
    return {
      level, resources, namespaces, nonResourceURLs,
      users: strings(rule.users, `${at}.users`, errors),
      userGroups: strings(rule.userGroups, `${at}.userGroups`, errors),
      verbs: strings(rule.verbs, `${at}.verbs`, errors),
      omitStages: stages(rule.omitStages, `${at}.omitStages`, errors),
    };
  });
  if (errors.length > 0) throw new AuditPolicyError(file, `invalid audit policy: ${errors.join('; ')}`);
  return { rules, omitStages };
}

export async function loadAuditPolicy(file: string): Promise<AuditPolicy> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new AuditPolicyError(file, `failed to read: ${(err as Error).message}`);
  }
  return parseAuditPolicy(text, file);
}

function pathMatches(path: string, spec: string): boolean {
  if (spec === '*' || spec === path) return true;
  return spec.endsWith('*') && path.startsWith(spec.slice(0, -1));
}

function ruleMatchesResource(rule: PolicyRule, attrs: AuditAttributes): boolean {
  if (!attrs.resourceRequest) return false;
  if (rule.namespaces.length > 0 && !rule.namespaces.includes(attrs.namespace ?? '')) return false;
  if (rule.resources.length === 0) return true;
  const resource = attrs.resource ?? '';
  const subresource = attrs.subresource ?? '';
  const combined = subresource ? `${resource}/${subresource}` : resource;
  for (const gr of rule.resources) {
    if (gr.group !== (attrs.apiGroup ?? '')) continue;
    if (gr.resources.length === 0) return true;
    if (gr.resourceNames.length > 0 && !gr.resourceNames.includes(attrs.name ?? '')) continue;
    for (const spec of gr.resources) {
      if (spec === combined || spec === '*') return true;
      if (subresource && spec.startsWith('*/') && spec.slice(2) === subresource) return true;
      if (spec.endsWith('/*') && spec.slice(0, -2) === resource) return true;
    }
  }
  return false;
}

function ruleMatches(rule: PolicyRule, attrs: AuditAttributes): boolean {
  const user = attrs.user;
  if (rule.users.length > 0 && (!user || !rule.users.includes(user.username))) return false;
  if (rule.userGroups.length > 0 && (!user || !user.groups.some((g) => rule.userGroups.includes(g)))) return false;
  if (rule.verbs.length > 0 && !rule.verbs.includes(attrs.verb)) return false;
  if (rule.namespaces.length > 0 || rule.resources.length > 0) return ruleMatchesResource(rule, attrs);
  if (rule.nonResourceURLs.length > 0) return !attrs.resourceRequest && rule.nonResourceURLs.some((spec) => pathMatches(attrs.path, spec));
  return true;
}

/** The first matching rule's level and stages to omit; None when no rule matches. */
export function evaluateAuditPolicy(policy: AuditPolicy, attrs: AuditAttributes): AuditDecision {
  for (const rule of policy.rules) {
    if (ruleMatches(rule, attrs)) return { level: rule.level, omitStages: new Set([...policy.omitStages, ...rule.omitStages]) };
  }
  return { level: 'None', omitStages: new Set(policy.omitStages) };
}
