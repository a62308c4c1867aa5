// The PersistentVolumeClaims of a StatefulSet's volumeClaimTemplates (stateful_pod_control.go,
// stateful_set_utils.go): claim `<template>-<set>-<ordinal>` made from the template with the set's
// selector labels, and the ownerReferences persistentVolumeClaimRetentionPolicy asks for:
//   Retain/Retain: none; whenDeleted Delete: the set as controller (the garbage collector deletes the claims
//   with the set); whenScaled Delete: the pod as controller once its ordinal is out of range (deleted with
//   the pod), the set otherwise when whenDeleted is Delete too.
// A claim with another controller is left alone (its refs to our set and pod are scrubbed); a ref to an
// older set or pod of the same name (another uid) means an earlier incarnation still owns it: untouched.

import type { OwnerReference, PodView, WorkloadObject } from '../framework/object-views.ts';

export interface ClaimTemplate {
  metadata?: { name?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
}

export interface RetentionPolicy {
  whenDeleted: 'Retain' | 'Delete';
  whenScaled: 'Retain' | 'Delete';
}

export const STATEFUL_SET_API_VERSION = 'apps/v1';

export function claimTemplates(set: WorkloadObject): ClaimTemplate[] {
  const templates = set.spec?.volumeClaimTemplates;
  return Array.isArray(templates) ? (templates as ClaimTemplate[]).filter((t) => typeof t?.metadata?.name === 'string' && t.metadata.name) : [];
}

/** getPersistentVolumeClaimName. */
export function claimName(template: ClaimTemplate, setName: string, ordinal: number): string {
  return `${template.metadata?.name}-${setName}-${ordinal}`;
}

/** getPersistentVolumeClaimRetentionPolicy: an unknown value counts as Retain. */
export function retentionPolicy(set: WorkloadObject): RetentionPolicy {
  const policy = (set.spec?.persistentVolumeClaimRetentionPolicy ?? {}) as { whenDeleted?: unknown; whenScaled?: unknown };
  return {
    whenDeleted: policy.whenDeleted === 'Delete' ? 'Delete' : 'Retain',
    whenScaled: policy.whenScaled === 'Delete' ? 'Delete' : 'Retain',
  };
}

/** getPersistentVolumeClaims: the template, named for the ordinal, labelled with the template's and the selector's labels. */
export function newClaim(set: WorkloadObject, template: ClaimTemplate, ordinal: number): Record<string, unknown> {
  const copy = structuredClone(template) as ClaimTemplate & Record<string, unknown>;
  const matchLabels = ((set.spec?.selector ?? {}) as { matchLabels?: Record<string, string> }).matchLabels ?? {};
  const metadata = { ...(copy.metadata ?? {}) } as Record<string, unknown>;
  metadata.name = claimName(template, set.metadata.name, ordinal);
  metadata.namespace = set.metadata.namespace;
  metadata.labels = { ...(copy.metadata?.labels ?? {}), ...matchLabels };
  // The template's defaulted status (phase Pending) is the server's to set.
  const { status: _status, ...rest } = copy;
  return { ...rest, apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata };
}

export interface ClaimOwner {
  kind: 'StatefulSet' | 'Pod';
  apiVersion: string;
  name: string;
  uid?: string;
}

function sameObject(ref: OwnerReference, owner: ClaimOwner): boolean {
  return ref.kind === owner.kind && ref.name === owner.name && ref.apiVersion.split('/')[0] === owner.apiVersion.split('/')[0];
}

const hasRef = (refs: OwnerReference[], owner: ClaimOwner): boolean => owner.uid !== undefined && refs.some((ref) => ref.uid === owner.uid);

/** hasStaleOwnerRef: a ref to an object of that kind and name but another uid (or a pod not created yet). */
export function hasStaleRef(refs: OwnerReference[], owner: ClaimOwner): boolean {
  const ref = refs.find((r) => sameObject(r, owner));
  return ref !== undefined && ref.uid !== owner.uid;
}

/** hasUnexpectedController: a controller ref to neither the set nor the pod. */
export function hasUnexpectedController(refs: OwnerReference[], set: ClaimOwner, pod: ClaimOwner): boolean {
  return refs.some((ref) => ref.controller === true && ref.uid !== set.uid && ref.uid !== pod.uid);
}

function podOwner(set: WorkloadObject, ordinal: number, pod: PodView | undefined): ClaimOwner {
  return { kind: 'Pod', apiVersion: 'v1', name: `${set.metadata.name}-${ordinal}`, uid: pod?.metadata.uid };
}

function setOwner(set: WorkloadObject): ClaimOwner {
  return { kind: 'StatefulSet', apiVersion: STATEFUL_SET_API_VERSION, name: set.metadata.name, uid: set.metadata.uid };
}

/** The refs the claim should carry for the policy: which of set and pod own it. */
function wantedOwners(policy: RetentionPolicy, scaledDown: boolean): { set: boolean; pod: boolean } {
  if (policy.whenScaled === 'Delete') return { set: !scaledDown && policy.whenDeleted === 'Delete', pod: scaledDown };
  return { set: policy.whenDeleted === 'Delete', pod: false };
}

/** isClaimOwnerUpToDate. */
export function claimOwnersUpToDate(refs: OwnerReference[], set: WorkloadObject, ordinal: number, pod: PodView | undefined, scaledDown: boolean): boolean {
  const owners = { set: setOwner(set), pod: podOwner(set, ordinal, pod) };
  if (hasStaleRef(refs, owners.set) || (pod && hasStaleRef(refs, owners.pod))) return true;
  if (hasUnexpectedController(refs, owners.set, owners.pod)) return !hasRef(refs, owners.set) && !hasRef(refs, owners.pod);
  // A ref of ours that is not a controller one is rewritten.
  if (refs.some((ref) => (ref.uid === owners.set.uid || (pod && ref.uid === owners.pod.uid)) && ref.controller !== true)) return false;
  const wanted = wantedOwners(retentionPolicy(set), scaledDown);
  if (!pod && wanted.pod) return true; // no pod to own it yet (or any more)
  return hasRef(refs, owners.set) === wanted.set && hasRef(refs, owners.pod) === wanted.pod;
}

/** updateClaimOwnerRefForSetAndPod: our refs scrubbed, then the wanted ones added as controller refs. */
export function updatedClaimOwners(refs: OwnerReference[], set: WorkloadObject, ordinal: number, pod: PodView | undefined, scaledDown: boolean): OwnerReference[] {
  const owners = { set: setOwner(set), pod: podOwner(set, ordinal, pod) };
  const unexpected = hasUnexpectedController(refs, owners.set, owners.pod);
  const kept = refs.filter((ref) => !sameObject(ref, owners.set) && !sameObject(ref, owners.pod));
  if (unexpected) return kept;
  const wanted = wantedOwners(retentionPolicy(set), scaledDown);
  const controllerRef = (owner: ClaimOwner): OwnerReference => ({
    apiVersion: owner.apiVersion, kind: owner.kind, name: owner.name, uid: owner.uid!, controller: true, blockOwnerDeletion: true,
  });
  if (wanted.set) kept.push(controllerRef(owners.set));
  if (wanted.pod && pod) kept.push(controllerRef(owners.pod));
  return kept;
}
