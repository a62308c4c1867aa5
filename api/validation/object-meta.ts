// ObjectMeta validation as k8s.io/apimachinery/pkg/api/validation/objectmeta.go words it. The
// registry runs validateObjectMeta with nameIsPathSegment on every create (after the strategy's
// own validation, which repeats it with the kind's stricter name rule, as upstream does).

import { forbiddenField, invalidField, requiredField, type FieldError } from '../errors.ts';
import type { ObjectMeta } from '../object.ts';
import { isDNS1123Label, isQualifiedName, isValidLabelValue, nameIsDNSLabel, type NameValidator } from './names.ts';

export const TOTAL_ANNOTATION_SIZE_LIMIT_BYTES = 256 * 1024;
export const FIELD_IMMUTABLE_MESSAGE = 'field is immutable';

const FINALIZER_ORPHAN_DEPENDENTS = 'orphan';
const FINALIZER_DELETE_DEPENDENTS = 'foregroundDeletion';

function sortedKeys(map: Record<string, string> | undefined): string[] {
  return map ? Object.keys(map).sort() : [];
}

export function validateLabels(labels: Record<string, string> | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const key of sortedKeys(labels)) {
    for (const msg of isQualifiedName(key)) errs.push(invalidField(path, key, msg));
    const value = labels![key];
    for (const msg of isValidLabelValue(value)) errs.push(invalidField(path, value, msg));
  }
  return errs;
}

export function validateAnnotations(annotations: Record<string, string> | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  let size = 0;
  for (const key of sortedKeys(annotations)) {
    // Annotation keys are qualified names compared case-insensitively.
    for (const msg of isQualifiedName(key.toLowerCase())) errs.push(invalidField(path, key, msg));
    size += Buffer.byteLength(key) + Buffer.byteLength(annotations![key]);
  }
  if (size > TOTAL_ANNOTATION_SIZE_LIMIT_BYTES) {
    errs.push({ type: 'FieldValueTooLong', field: path, message: `Too long: may not be more than ${TOTAL_ANNOTATION_SIZE_LIMIT_BYTES} bytes` });
  }
  return errs;
}

export function validateFinalizers(finalizers: string[] | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const finalizer of finalizers ?? []) {
    for (const msg of isQualifiedName(finalizer)) errs.push(invalidField(path, finalizer, msg));
  }
  if (finalizers?.includes(FINALIZER_ORPHAN_DEPENDENTS) && finalizers.includes(FINALIZER_DELETE_DEPENDENTS)) {
    errs.push(invalidField(path, finalizers,
      `finalizer ${FINALIZER_ORPHAN_DEPENDENTS} and ${FINALIZER_DELETE_DEPENDENTS} cannot be both set`));
  }
  return errs;
}

function validateOwnerReferences(meta: ObjectMeta, path: string): FieldError[] {
  const errs: FieldError[] = [];
  let controllers = 0;
  (meta.ownerReferences ?? []).forEach((ref) => {
    if (!ref.apiVersion) errs.push(invalidField(`${path}.apiVersion`, ref.apiVersion ?? '', 'version must not be empty'));
    if (!ref.kind) errs.push(invalidField(`${path}.kind`, ref.kind ?? '', 'must not be empty'));
    if (!ref.name) errs.push(invalidField(`${path}.name`, ref.name ?? '', 'must not be empty'));
    if (!ref.uid) errs.push(invalidField(`${path}.uid`, ref.uid ?? '', 'must not be empty'));
    if (ref.controller) controllers++;
  });
  if (controllers > 1) {
    errs.push(invalidField(path, meta.ownerReferences, 'Only one reference can have Controller set to true'));
  }
  return errs;
}

/**
 * `namespaced` says whether the kind requires metadata.namespace (and forbids it otherwise).
 * `nameValidator` is the kind's name rule (nameIsDNSSubdomain for most kinds).
 */
export function validateObjectMeta(meta: ObjectMeta, namespaced: boolean, nameValidator: NameValidator, path = 'metadata'): FieldError[] {
  const errs: FieldError[] = [];
  if (meta.generateName) {
    for (const msg of nameValidator(meta.generateName, true)) errs.push(invalidField(`${path}.generateName`, meta.generateName, msg));
  }
  if (!meta.name) {
    errs.push(requiredField(`${path}.name`, 'name or generateName is required'));
  } else {
    for (const msg of nameValidator(meta.name, false)) errs.push(invalidField(`${path}.name`, meta.name, msg));
  }
  if (namespaced) {
    if (!meta.namespace) errs.push(requiredField(`${path}.namespace`));
    else for (const msg of nameIsDNSLabel(meta.namespace, false)) errs.push(invalidField(`${path}.namespace`, meta.namespace, msg));
  } else if (meta.namespace) {
    errs.push(forbiddenField(`${path}.namespace`, 'not allowed on this type'));
  }
  if (typeof meta.generation === 'number' && meta.generation < 0) {
    errs.push(invalidField(`${path}.generation`, meta.generation, 'must be greater than or equal to 0'));
  }
  errs.push(...validateLabels(meta.labels, `${path}.labels`));
  errs.push(...validateAnnotations(meta.annotations, `${path}.annotations`));
  errs.push(...validateOwnerReferences(meta, `${path}.ownerReferences`));
  errs.push(...validateFinalizers(meta.finalizers, `${path}.finalizers`));
  return errs;
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

function goStringSlice(values: string[]): string {
  return `[]string{${values.map((v) => JSON.stringify(v)).join(', ')}}`;
}

/** Update rules of ValidateObjectMetaAccessorUpdate: identity fields are immutable. */
export function validateObjectMetaUpdate(meta: ObjectMeta, old: ObjectMeta, path = 'metadata'): FieldError[] {
  const errs: FieldError[] = [];
  if (old.deletionTimestamp) {
    const before = new Set(old.finalizers ?? []);
    const added = [...new Set((meta.finalizers ?? []).filter((f) => !before.has(f)))].sort();
    if (added.length > 0) {
      errs.push(forbiddenField(`${path}.finalizers`,
        `no new finalizers can be added if the object is being deleted, found new finalizers ${goStringSlice(added)}`));
    }
  }
  if ((meta.generation ?? 0) < (old.generation ?? 0)) {
    errs.push(invalidField(`${path}.generation`, meta.generation ?? 0, 'must not be decremented'));
  }
  const immutable = ['name', 'namespace', 'uid', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds'] as const;
  for (const key of immutable) {
    if (!sameValue(meta[key], old[key])) errs.push(invalidField(`${path}.${key}`, meta[key] ?? '', FIELD_IMMUTABLE_MESSAGE));
  }
  errs.push(...validateLabels(meta.labels, `${path}.labels`));
  errs.push(...validateAnnotations(meta.annotations, `${path}.annotations`));
  errs.push(...validateOwnerReferences(meta, `${path}.ownerReferences`));
  return errs;
}

/** Kind rule shared by namespaces: their own name is a DNS-1123 label. */
export function validateNamespaceName(name: string): string[] {
  return isDNS1123Label(name);
}
