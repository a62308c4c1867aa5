// initIPFamilyFields of kube-apiserver's Service REST storage (pkg/registry/core/service/storage/alloc.go):
// ipFamilyPolicy and ipFamilies defaulted from the request, the stored service and the cluster's ranges, and the
// combinations the cluster cannot serve refused with upstream's messages, before any address is allocated.

import { invalid, type FieldError } from '../errors.ts';
import type { IPFamily } from '../registry/service-ranges.ts';
import { familyOfIP } from '../registry/service-ranges.ts';
import { goStrings, validateClusterIPsRelatedFields } from '../resources/service-validation.ts';

type Json = Record<string, unknown>;

export function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.map(String) : [];
}

function sameList(a: unknown, b: unknown): boolean {
  const left = stringList(a);
  const right = stringList(b);
  return left.length === right.length && left.every((v, i) => v === right[i]);
}

function reduced(value: unknown, old: unknown): boolean {
  const now = stringList(value);
  return now.length > 0 && now.length < stringList(old).length;
}

function hasSelector(spec: Json): boolean {
  return typeof spec.selector === 'object' && spec.selector !== null && Object.keys(spec.selector).length > 0;
}

function otherFamily(family: string): IPFamily {
  return family === 'IPv4' ? 'IPv6' : 'IPv4';
}

/** isMatchingPreferDualStackClusterIPFields: a PreferDualStack service left as it was is not up- or downgraded. */
export function isMatchingPreferDualStack(spec: Json, oldSpec: Json | undefined): boolean {
  if (!oldSpec || typeof spec.ipFamilyPolicy !== 'string') return false;
  if (oldSpec.type !== spec.type) return false;
  if (spec.type !== 'ClusterIP' && spec.type !== 'NodePort' && spec.type !== 'LoadBalancer') return false;
  if (spec.ipFamilyPolicy !== 'PreferDualStack') return false;
  if (typeof oldSpec.ipFamilyPolicy === 'string' && oldSpec.ipFamilyPolicy !== 'PreferDualStack') return false;
  return sameList(oldSpec.clusterIPs, spec.clusterIPs) && sameList(oldSpec.ipFamilies, spec.ipFamilies);
}

/**
 * Fills `spec.ipFamilyPolicy` and `spec.ipFamilies` in place; throws a 422 Invalid as upstream. `families` are the
 * cluster's (--service-cluster-ip-range order, the primary first).
 */
export function initIPFamilyFields(name: string, spec: Json, oldSpec: Json | undefined, families: IPFamily[]): void {
  if (spec.type === 'ExternalName') return;
  if (isMatchingPreferDualStack(spec, oldSpec)) return;
  const headlessWithoutSelector = spec.clusterIP === 'None' && !hasSelector(spec);
  if (typeof spec.ipFamilyPolicy !== 'string' || spec.ipFamilyPolicy === '') {
    if (oldSpec && typeof oldSpec.ipFamilyPolicy === 'string' && oldSpec.ipFamilyPolicy) spec.ipFamilyPolicy = oldSpec.ipFamilyPolicy;
    else spec.ipFamilyPolicy = headlessWithoutSelector ? 'RequireDualStack' : 'SingleStack';
  }
  const loose = validateClusterIPsRelatedFields(spec);
  if (loose.length > 0) throw invalid('Service', '', name, loose);

  const errs: FieldError[] = [];
  const policy = spec.ipFamilyPolicy as string;
  const policyError = (detail: string): FieldError => ({ type: 'FieldValueInvalid', field: 'spec.ipFamilyPolicy', message: `Invalid value: ${JSON.stringify(policy)}: ${detail}` });
  if (oldSpec) {
    if (policy === 'SingleStack') {
      // Keeping clusterIPs and ipFamilies as they were while asking for single-stack is the intent to downgrade.
      if (sameList(oldSpec.clusterIPs, spec.clusterIPs) && stringList(spec.clusterIPs).length > 1) spec.clusterIPs = stringList(spec.clusterIPs).slice(0, 1);
      if (sameList(oldSpec.ipFamilies, spec.ipFamilies) && stringList(spec.ipFamilies).length > 1) spec.ipFamilies = stringList(spec.ipFamilies).slice(0, 1);
    } else {
      if (reduced(spec.clusterIPs, oldSpec.clusterIPs)) errs.push(policyError("must be 'SingleStack' to release the secondary cluster IP"));
      if (reduced(spec.ipFamilies, oldSpec.ipFamilies)) errs.push(policyError("must be 'SingleStack' to release the secondary IP family"));
    }
  }
  if (policy === 'SingleStack') {
    if (stringList(spec.clusterIPs).length === 2) errs.push(policyError("must be 'RequireDualStack' or 'PreferDualStack' when multiple cluster IPs are specified"));
    if (stringList(spec.ipFamilies).length === 2) errs.push(policyError("must be 'RequireDualStack' or 'PreferDualStack' when multiple IP families are specified"));
  }
  // Families follow the requested addresses where the request left them out.
  const ipFamilies = stringList(spec.ipFamilies);
  const clusterIPs = stringList(spec.clusterIPs);
  for (const [i, ip] of clusterIPs.entries()) {
    if (ip === 'None') break;
    const family = familyOfIP(ip) ?? 'unknown';
    if (i >= ipFamilies.length) {
      if (!families.includes(family as IPFamily)) {
        errs.push({ type: 'FieldValueInvalid', field: `spec.clusterIPs[${i}]`, message: `Invalid value: ${goStrings(clusterIPs)}: ${family} is not configured on this cluster` });
      } else ipFamilies.push(family);
    }
  }
  if (ipFamilies.length > 0) spec.ipFamilies = ipFamilies;
  if (errs.length > 0) throw invalid('Service', '', name, errs);

  // Headless without selector: any families the user asks for (a single-stack cluster may list both).
  if (spec.clusterIP === 'None' && !hasSelector(spec)) {
    if (ipFamilies.length === 0) ipFamilies.push(families[0]);
    if (ipFamilies.length < 2 && policy !== 'SingleStack') ipFamilies.push(otherFamily(ipFamilies[0]));
    spec.ipFamilies = ipFamilies;
    return;
  }
  if (policy === 'RequireDualStack' && families.length < 2) errs.push(policyError('this cluster is not configured for dual-stack services'));
  ipFamilies.forEach((family, i) => {
    if (!families.includes(family as IPFamily)) errs.push({ type: 'FieldValueInvalid', field: `spec.ipFamilies[${i}]`, message: `Invalid value: ${JSON.stringify(family)}: not configured on this cluster` });
  });
  if (errs.length > 0) throw invalid('Service', '', name, errs);
  if (ipFamilies.length === 0) ipFamilies.push(families[0]);
  if (policy !== 'SingleStack' && ipFamilies.length === 1 && families.length === 2) ipFamilies.push(otherFamily(ipFamilies[0]));
  spec.ipFamilies = ipFamilies;
}
