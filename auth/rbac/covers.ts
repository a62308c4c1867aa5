// Does one set of rules cover another? (k8s.io/component-helpers/auth/rbac/validation Covers): every
// servant rule is broken down to single (group, resource, verb, name) tuples, and each tuple must be
// covered by some owner rule. Used by escalation prevention and by bootstrap policy reconciliation.

import type { PolicyRule } from './policy-rule.ts';
import { goQuoteList } from './rule-resolver.ts';

export function covers(ownerRules: PolicyRule[], servantRules: PolicyRule[]): { covered: boolean; missing: PolicyRule[] } {
  const missing: PolicyRule[] = [];
  for (const subrule of servantRules.flatMap(breakdownRule)) {
    if (!ownerRules.some((owner) => ruleCovers(owner, subrule))) missing.push(subrule);
  }
  return { covered: missing.length === 0, missing };
}

/** A rule as rules with at most one verb, resource and resource name each (non-resource URLs: URL × verb). */
export function breakdownRule(rule: PolicyRule): PolicyRule[] {
  const subrules: PolicyRule[] = [];
  for (const group of rule.apiGroups ?? []) {
    for (const resource of rule.resources ?? []) {
      for (const verb of rule.verbs) {
        const names = rule.resourceNames ?? [];
        if (names.length > 0) {
          for (const name of names) subrules.push({ apiGroups: [group], resources: [resource], verbs: [verb], resourceNames: [name] });
        } else {
          subrules.push({ apiGroups: [group], resources: [resource], verbs: [verb] });
        }
      }
    }
  }
  for (const url of rule.nonResourceURLs ?? []) {
    for (const verb of rule.verbs) subrules.push({ nonResourceURLs: [url], verbs: [verb] });
  }
  return subrules;
}

function hasAll(set: string[], contains: string[]): boolean {
  const owning = new Set(set);
  return contains.every((item) => owning.has(item));
}

function resourceCoversAll(setResources: string[], coversResources: string[]): boolean {
  if (setResources.includes('*') || hasAll(setResources, coversResources)) return true;
  for (const path of coversResources) {
    if (setResources.includes(path)) continue;
    if (!path.includes('/')) return false;
    const subresource = path.slice(path.indexOf('/') + 1);
    if (!setResources.includes(`*/${subresource}`)) return false;
  }
  return true;
}

function nonResourceURLCovers(ownerPath: string, subPath: string): boolean {
  if (ownerPath === subPath) return true;
  return ownerPath.endsWith('*') && subPath.startsWith(ownerPath.replace(/\*+$/, ''));
}

function nonResourceURLsCoversAll(set: string[], coversPaths: string[]): boolean {
  return coversPaths.every((path) => set.some((owner) => nonResourceURLCovers(owner, path)));
}

function ruleCovers(owner: PolicyRule, sub: PolicyRule): boolean {
  const verbMatches = owner.verbs.includes('*') || hasAll(owner.verbs, sub.verbs);
  const groupMatches = (owner.apiGroups ?? []).includes('*') || hasAll(owner.apiGroups ?? [], sub.apiGroups ?? []);
  const resourceMatches = resourceCoversAll(owner.resources ?? [], sub.resources ?? []);
  const nonResourceMatches = nonResourceURLsCoversAll(owner.nonResourceURLs ?? [], sub.nonResourceURLs ?? []);
  const ownerNames = owner.resourceNames ?? [];
  const subNames = sub.resourceNames ?? [];
  const nameMatches = subNames.length === 0 ? ownerNames.length === 0 : ownerNames.length === 0 || hasAll(ownerNames, subNames);
  return verbMatches && groupMatches && resourceMatches && nameMatches && nonResourceMatches;
}

/** CompactRules: rules naming one group and one resource and nothing else are merged, verbs appended. */
export function compactRules(rules: PolicyRule[]): PolicyRule[] {
  const compacted: PolicyRule[] = [];
  const simple = new Map<string, PolicyRule>();
  for (const rule of rules) {
    const isSimple = (rule.resourceNames ?? []).length === 0 && (rule.nonResourceURLs ?? []).length === 0
      && (rule.apiGroups ?? []).length === 1 && (rule.resources ?? []).length === 1;
    if (!isSimple) {
      compacted.push(rule);
      continue;
    }
    const key = `${rule.apiGroups![0]}\u0000${rule.resources![0]}`;
    const existing = simple.get(key);
    if (existing) existing.verbs = [...existing.verbs, ...rule.verbs];
    else simple.set(key, { apiGroups: [...rule.apiGroups!], resources: [...rule.resources!], verbs: [...rule.verbs] });
  }
  return [...compacted, ...simple.values()];
}

/** rbacv1helpers.CompactString: `{APIGroups:[""], Resources:["pods"], Verbs:["get" "list"]}`. */
export function compactString(rule: PolicyRule): string {
  const parts: string[] = [];
  if ((rule.apiGroups ?? []).length) parts.push(`APIGroups:${goQuoteList(rule.apiGroups!)}`);
  if ((rule.resources ?? []).length) parts.push(`Resources:${goQuoteList(rule.resources!)}`);
  if ((rule.nonResourceURLs ?? []).length) parts.push(`NonResourceURLs:${goQuoteList(rule.nonResourceURLs!)}`);
  if ((rule.resourceNames ?? []).length) parts.push(`ResourceNames:${goQuoteList(rule.resourceNames!)}`);
  if (rule.verbs.length) parts.push(`Verbs:${goQuoteList(rule.verbs)}`);
  return `{${parts.join(', ')}}`;
}
