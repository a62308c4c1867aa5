// ClusterRole aggregation (pkg/controller/clusterroleaggregation): a ClusterRole with an aggregationRule
// has as rules the union, without duplicates, of the rules of every other ClusterRole its selectors
// match, taken selector by selector with the matched roles sorted by name.

import { isDeepStrictEqual } from 'node:util';
import { isPlainObject, type KubeObject } from '../../api/object.ts';
import { labelSelectorFromSpec, type LabelSelectorSpec } from '../../api/selectors/label-selector.ts';
import { rulesOf, type PolicyRule } from './policy-rule.ts';

export function aggregationSelectors(role: KubeObject): LabelSelectorSpec[] | undefined {
  const rule = role.aggregationRule;
  if (!isPlainObject(rule)) return undefined;
  const selectors = rule.clusterRoleSelectors;
  return Array.isArray(selectors) ? selectors.filter(isPlainObject) as LabelSelectorSpec[] : [];
}

/** The rules an aggregated role should have, or undefined when it has no aggregationRule. */
export function aggregatedRules(role: KubeObject, allClusterRoles: KubeObject[]): PolicyRule[] | undefined {
  const selectors = aggregationSelectors(role);
  if (selectors === undefined) return undefined;
  const sorted = [...allClusterRoles].sort((a, b) => ((a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1));
  const rules: PolicyRule[] = [];
  for (const spec of selectors) {
    let selector;
    try {
      selector = labelSelectorFromSpec(spec);
    } catch {
      continue;
    }
    for (const other of sorted) {
      if (other.metadata.name === role.metadata.name || !selector.matches(other.metadata.labels)) continue;
      for (const rule of rulesOf(other)) {
        if (!rules.some((existing) => isDeepStrictEqual(existing, rule))) rules.push(rule);
      }
    }
  }
  return rules;
}

/**
 * Every aggregated role with its rules filled in (for evaluating a policy outside the server). Roles
 * can aggregate aggregated roles (view into edit into admin), so this repeats until nothing changes,
 * as the controller's repeated syncs do.
 */
export function withAggregatedRules(clusterRoles: KubeObject[]): KubeObject[] {
  let current = clusterRoles;
  for (let round = 0; round < 10; round++) {
    let changed = false;
    current = current.map((role) => {
      const rules = aggregatedRules(role, current);
      if (rules === undefined || isDeepStrictEqual(rules, rulesOf(role))) return role;
      changed = true;
      return { ...role, rules };
    });
    if (!changed) break;
  }
  return current;
}
