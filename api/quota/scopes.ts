// Which objects a scoped ResourceQuota tracks (pkg/quota/v1/generic.Matches with the pod evaluator's
// podMatchesScopeFunc, pkg/quota/v1/evaluator/core/pods.go). A quota's scopes are `spec.scopes` (each
// an Exists requirement) plus `spec.scopeSelector.matchExpressions`; every one must match. Only pods
// can match a scope: every other evaluator's scope function answers false (MatchesNoScopeFunc), so a
// scoped quota never counts ConfigMaps, Services or ReplicaSets.

import { isPlainObject, type KubeObject } from '../object.ts';
import { computePodQOS } from '../resources/pod-qos.ts';

interface ScopeRequirement {
  scopeName: string;
  operator: string;
  values: string[];
}

/** getScopeSelectorsFromQuota: the quota's scopes as requirements. */
export function quotaScopes(quota: KubeObject): ScopeRequirement[] {
  const spec = isPlainObject(quota.spec) ? quota.spec : {};
  const out: ScopeRequirement[] = [];
  for (const scope of Array.isArray(spec.scopes) ? spec.scopes : []) out.push({ scopeName: String(scope), operator: 'Exists', values: [] });
  const selector = isPlainObject(spec.scopeSelector) ? spec.scopeSelector : {};
  for (const expression of Array.isArray(selector.matchExpressions) ? selector.matchExpressions : []) {
    if (!isPlainObject(expression)) continue;
    out.push({
      scopeName: String(expression.scopeName),
      operator: String(expression.operator),
      values: Array.isArray(expression.values) ? expression.values.map(String) : [],
    });
  }
  return out;
}

/** isTerminating: a pod with activeDeadlineSeconds >= 0. */
function isTerminating(pod: KubeObject): boolean {
  const deadline = isPlainObject(pod.spec) ? pod.spec.activeDeadlineSeconds : undefined;
  return typeof deadline === 'number' && deadline >= 0;
}

/** usesCrossNamespacePodAffinity: an (anti-)affinity term naming namespaces or a namespace selector. */
function usesCrossNamespacePodAffinity(pod: KubeObject): boolean {
  const affinity = isPlainObject(pod.spec) && isPlainObject(pod.spec.affinity) ? pod.spec.affinity : undefined;
  if (!affinity) return false;
  const crossNamespace = (term: unknown): boolean => isPlainObject(term)
    && ((Array.isArray(term.namespaces) && term.namespaces.length > 0) || (term.namespaceSelector !== undefined && term.namespaceSelector !== null));
  for (const kind of ['podAffinity', 'podAntiAffinity']) {
    const terms = affinity[kind];
    if (!isPlainObject(terms)) continue;
    const required = Array.isArray(terms.requiredDuringSchedulingIgnoredDuringExecution) ? terms.requiredDuringSchedulingIgnoredDuringExecution : [];
    const preferred = Array.isArray(terms.preferredDuringSchedulingIgnoredDuringExecution) ? terms.preferredDuringSchedulingIgnoredDuringExecution : [];
    if (required.some(crossNamespace)) return true;
    if (preferred.some((weighted) => isPlainObject(weighted) && crossNamespace(weighted.podAffinityTerm))) return true;
  }
  return false;
}

/** podMatchesSelector for PriorityClass: a label selector over {PriorityClass: spec.priorityClassName}. */
function priorityClassMatches(pod: KubeObject, requirement: ScopeRequirement): boolean {
  const name = isPlainObject(pod.spec) && typeof pod.spec.priorityClassName === 'string' ? pod.spec.priorityClassName : '';
  switch (requirement.operator) {
    case 'Exists': return name !== '';
    case 'DoesNotExist': return name === '';
    case 'In': return name !== '' && requirement.values.includes(name);
    // A label selector's NotIn also matches an object without the label.
    case 'NotIn': return name === '' || !requirement.values.includes(name);
    default: return false;
  }
}

function podMatchesScope(pod: KubeObject, requirement: ScopeRequirement): boolean {
  switch (requirement.scopeName) {
    case 'Terminating': return isTerminating(pod);
    case 'NotTerminating': return !isTerminating(pod);
    case 'BestEffort': return computePodQOS(pod) === 'BestEffort';
    case 'NotBestEffort': return computePodQOS(pod) !== 'BestEffort';
    case 'PriorityClass': return priorityClassMatches(pod, requirement);
    case 'CrossNamespacePodAffinity': return usesCrossNamespacePodAffinity(pod);
    default: return false;
  }
}

/** Whether `quota`'s scopes let it track `object` of `resource` (core group unless `group` is given). */
export function quotaScopesMatch(quota: KubeObject, resource: string, object: KubeObject, group = ''): boolean {
  const scopes = quotaScopes(quota);
  if (scopes.length === 0) return true;
  if (group !== '' || resource !== 'pods') return false;
  return scopes.every((scope) => podMatchesScope(object, scope));
}
