// Whether a request matches a FlowSchema's rules, as kube-apiserver's APF matcher
// (k8s.io/apiserver/pkg/util/flowcontrol/match.go): a rule matches when one of its subjects is
// the user and, for a resource request, one of its resourceRules (verbs, apiGroups, resources
// with `resource/subresource`, clusterScope for requests outside namespaces, namespaces), for a
// non-resource request one of its nonResourceRules (verbs, URLs where `*` or a trailing `/*`
// covers a subtree). `*` in a list means everything only as its sole member (validation keeps it
// alone). The specs are read from stored objects here: anything malformed simply matches nothing.

import type { UserInfo } from '../../auth/user.ts';
import { SERVICE_ACCOUNT_USER_PREFIX } from '../../auth/well-known.ts';
import { isPlainObject } from '../../api/object.ts';
import type { RequestInfo } from '../request-info.ts';

export type Subject =
  | { kind: 'User'; name: string }
  | { kind: 'Group'; name: string }
  | { kind: 'ServiceAccount'; namespace: string; name: string };

export interface ResourcePolicyRule {
  verbs: string[];
  apiGroups: string[];
  resources: string[];
  clusterScope: boolean;
  namespaces: string[];
}

export interface NonResourcePolicyRule {
  verbs: string[];
  nonResourceURLs: string[];
}

export interface PolicyRulesWithSubjects {
  subjects: Subject[];
  resourceRules: ResourcePolicyRule[];
  nonResourceRules: NonResourcePolicyRule[];
}

const ALL = '*';

export function matchesRules(rules: readonly PolicyRulesWithSubjects[], user: UserInfo, info: RequestInfo): boolean {
  return rules.some((rule) => rule.subjects.some((subject) => matchesSubject(user, subject))
    && (info.isResourceRequest
      ? rule.resourceRules.some((resourceRule) => matchesResourceRule(info, resourceRule))
      : rule.nonResourceRules.some((nonResourceRule) => containsString(info.verb, nonResourceRule.verbs, ALL) && matchesNonResourceURL(nonResourceRule.nonResourceURLs, info.path))));
}

function matchesSubject(user: UserInfo, subject: Subject): boolean {
  switch (subject.kind) {
    case 'User': return subject.name === ALL || subject.name === user.username;
    case 'Group': return subject.name === ALL || user.groups.includes(subject.name);
    case 'ServiceAccount': {
      const prefix = `${SERVICE_ACCOUNT_USER_PREFIX}${subject.namespace}:`;
      if (subject.name === ALL) return user.username.startsWith(prefix);
      return user.username === `${prefix}${subject.name}`;
    }
  }
}

function matchesResourceRule(info: Extract<RequestInfo, { isResourceRequest: true }>, rule: ResourcePolicyRule): boolean {
  if (!containsString(info.verb, rule.verbs, ALL)) return false;
  const resource = info.subresource ? `${info.resource}/${info.subresource}` : info.resource;
  if (!containsString(resource, rule.resources, ALL)) return false;
  if (!containsString(info.apiGroup, rule.apiGroups, ALL)) return false;
  if (info.namespace === '') return rule.clusterScope;
  return containsString(info.namespace, rule.namespaces, ALL);
}

/** `*` is every path; otherwise the path itself, or anything under it (a trailing `*` is dropped first). */
function matchesNonResourceURL(urls: readonly string[], path: string): boolean {
  for (const url of urls) {
    if (url === ALL || url === path) return true;
    let prefix = url.endsWith('*') ? url.slice(0, -1) : url;
    if (!prefix.endsWith('/')) prefix += '/';
    if (path.startsWith(prefix)) return true;
  }
  return false;
}

/** The wildcard counts only as the list's sole member, as upstream's containsString. */
function containsString(value: string, list: readonly string[], wildcard: string): boolean {
  return (list.length === 1 && list[0] === wildcard) || list.includes(value);
}

const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : []);
const objects = (value: unknown): Record<string, unknown>[] => (Array.isArray(value) ? value.filter(isPlainObject) : []);
const nameOf = (value: unknown): string | undefined => (isPlainObject(value) && typeof value.name === 'string' ? value.name : undefined);

/** A FlowSchema's spec.rules as stored; members that are not what the API says are left out (they could match nothing). */
export function parseRules(value: unknown): PolicyRulesWithSubjects[] {
  return objects(value).map((rule) => ({
    subjects: objects(rule.subjects).flatMap((subject): Subject[] => {
      if (subject.kind === 'User') {
        const name = nameOf(subject.user);
        return name === undefined ? [] : [{ kind: 'User', name }];
      }
      if (subject.kind === 'Group') {
        const name = nameOf(subject.group);
        return name === undefined ? [] : [{ kind: 'Group', name }];
      }
      if (subject.kind === 'ServiceAccount' && isPlainObject(subject.serviceAccount)) {
        const name = nameOf(subject.serviceAccount);
        const namespace = subject.serviceAccount.namespace;
        return name === undefined || typeof namespace !== 'string' ? [] : [{ kind: 'ServiceAccount', namespace, name }];
      }
      return [];
    }),
    resourceRules: objects(rule.resourceRules).map((resourceRule) => ({
      verbs: strings(resourceRule.verbs),
      apiGroups: strings(resourceRule.apiGroups),
      resources: strings(resourceRule.resources),
      clusterScope: resourceRule.clusterScope === true,
      namespaces: strings(resourceRule.namespaces),
    })),
    nonResourceRules: objects(rule.nonResourceRules).map((nonResourceRule) => ({
      verbs: strings(nonResourceRule.verbs),
      nonResourceURLs: strings(nonResourceRule.nonResourceURLs),
    })),
  }));
}
