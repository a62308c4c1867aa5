// Request-body checks against the OpenAPI schema (the same documents /openapi/v3 serves), with
// kube-apiserver's fieldValidation semantics: Strict rejects unknown fields, Warn reports them in
// `Warning:` headers, Ignore drops them silently. Type errors always reject, as the decoder does.

import { StatusError, badRequest } from '../errors.ts';
import { displayValue, isPlainObject, ownValue, type KubeObject } from '../object.ts';
import type { ResourceStrategy } from '../resource.ts';
import type { GroupVersionKind } from '../openapi/schema-node.ts';
import { validateObject } from '../openapi/validator.ts';

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

export function parseFieldValidation(value: unknown): FieldValidation {
  if (value === undefined || value === '') return 'Warn';
  if (value === 'Strict' || value === 'Warn' || value === 'Ignore') return value;
  throw badRequest(`fieldValidation must be one of "Ignore", "Warn", or "Strict", got: ${displayValue(value)}`);
}

/** One GroupVersionKind object per strategy: the validator is looked up by it on every write. */
const kinds = new WeakMap<ResourceStrategy, GroupVersionKind>();

function kindOf(strategy: ResourceStrategy): GroupVersionKind {
  let gvk = kinds.get(strategy);
  if (!gvk) {
    gvk = { group: strategy.group, version: strategy.version, kind: strategy.kind };
    kinds.set(strategy, gvk);
  }
  return gvk;
}

/**
 * Body checks shared by create, update and patch (the decoder's and the store's): apiVersion and
 * kind, metadata's type, the namespace against the URL's, then the schema. Returns warnings.
 */
export function checkIncomingBody(
  strategy: ResourceStrategy, apiVersion: string, body: KubeObject, namespace: string, fieldValidation: FieldValidation,
  internal = false,
): string[] {
  if (!isPlainObject(body)) throw badRequest('the body of the request must be an object');
  if (body.apiVersion !== undefined && body.apiVersion !== apiVersion) {
    throw badRequest(`the API version in the data (${displayValue(body.apiVersion)}) does not match the expected API version (${apiVersion})`);
  }
  if (body.kind !== undefined && body.kind !== strategy.kind) {
    throw badRequest(`the kind in the data (${displayValue(body.kind)}) does not match the expected kind (${strategy.kind})`);
  }
  if (body.metadata !== undefined && !isPlainObject(body.metadata)) {
    throw badRequest(`${strategy.kind} in version "${strategy.version}" cannot be handled as a ${strategy.kind}: metadata must be an object`);
  }
  if (!body.metadata) body.metadata = {};
  const bodyNamespace = body.metadata.namespace;
  if (strategy.namespaced && bodyNamespace && bodyNamespace !== namespace) {
    throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
  }
  return internal ? [] : checkSchema(strategy, body, fieldValidation);
}

interface DuplicateFields {
  paths: readonly string[];
  /** Per duplicate, the member the decoder read just before it (its place in the document). */
  after: readonly string[];
}

const duplicateFields = new WeakMap<object, DuplicateFields>();

/**
 * Records the members a decoded body gave twice (the JSON decoder finds them; JSON.parse keeps the
 * last). Under fieldValidation Strict they fail the request as sigs.k8s.io/json's strict decoding
 * does (`duplicate field "metadata.name"`), under Warn they are warnings.
 */
export function noteDuplicateFields(body: object, paths: readonly string[], after: readonly string[] = []): void {
  if (paths.length > 0) duplicateFields.set(body, { paths, after });
}

/** The members a decoded body gave twice (see noteDuplicateFields). */
export function duplicateFieldsOf(body: object): readonly string[] {
  return duplicateFields.get(body)?.paths ?? [];
}

/** Carries what noteDuplicateFields recorded for one body over to another (a patch to the patched object). */
export function copyDuplicateFields(from: object, to: object): void {
  const found = duplicateFields.get(from);
  if (found) duplicateFields.set(to, found);
}

/**
 * The decoder of a typed object (sigs.k8s.io/json's UnmarshalStrict) reports unknown and duplicate
 * members in the order it meets them. Unknown fields are where their member is; a duplicate is met
 * right after the member preceding its second occurrence (and that member's whole value).
 */
function inDocumentOrder(body: KubeObject, unknownFields: string[], duplicates: DuplicateFields | undefined): { field: string; message: string }[] {
  const problems = [
    ...unknownFields.map((field) => ({ field, message: `unknown field "${field}"`, at: -1 })),
    ...(duplicates?.paths ?? []).map((field) => ({ field, message: `duplicate field "${field}"`, at: -1 })),
  ];
  if (!duplicates?.after.length || unknownFields.length === 0) return problems.map(({ field, message }) => ({ field, message }));
  // Depth-first order of every member path; `last` is the position of the last path inside a member's value.
  const first = new Map<string, number>();
  const last = new Map<string, number>();
  let position = 0;
  const stack: { path: string; value: unknown; exit: boolean }[] = [{ path: '', value: body, exit: false }];
  while (stack.length > 0) {
    const frame = stack.pop()!;
    if (frame.exit) {
      last.set(frame.path, position);
      continue;
    }
    first.set(frame.path, ++position);
    stack.push({ ...frame, exit: true });
    const children: { path: string; value: unknown; exit: boolean }[] = [];
    if (Array.isArray(frame.value)) frame.value.forEach((item, i) => children.push({ path: `${frame.path}[${i}]`, value: item, exit: false }));
    else if (isPlainObject(frame.value)) for (const [key, item] of Object.entries(frame.value)) children.push({ path: frame.path ? `${frame.path}.${key}` : key, value: item, exit: false });
    stack.push(...children.reverse());
  }
  problems.forEach((problem, i) => {
    const d = i - unknownFields.length;
    problem.at = d < 0 ? (first.get(problem.field) ?? 0) : (last.get(duplicates.after[d]) ?? first.get(problem.field) ?? 0) + 0.5;
  });
  return problems.sort((a, b) => a.at - b.at).map(({ field, message }) => ({ field, message }));
}

/** Returns warnings; throws 400 for type errors and (Strict) unknown or duplicate fields. */
export function checkSchema(strategy: ResourceStrategy, body: KubeObject, fieldValidation: FieldValidation): string[] {
  const result = strategy.pruneUnknownFields
    ? { errors: [], unknownFields: strategy.pruneUnknownFields(body), decodeErrors: [] }
    : validateObject(kindOf(strategy), body);
  const { unknownFields, decodeErrors } = result;
  const noted = duplicateFields.get(body);
  const duplicates = noted?.paths ?? [];
  // A status counter the Go type declares without omitempty (ReplicaSetStatus.replicas, the
  // PodDisruptionBudget counts) decodes as 0 when absent: `kubectl create pdb` sends `status: {}`.
  const zeroValueFields = strategy.zeroValueRequiredFields ?? [];
  const errors = result.errors.filter((e) => !(e.type === 'FieldValueRequired'
    && ((strategy.hasStatus && e.field.startsWith('status.')) || zeroValueFields.includes(e.field.replace(/\[\d+\]/g, '[*]')))));
  const cannotHandle = `${strategy.kind} in version "${strategy.version}" cannot be handled as a ${strategy.kind}`;
  // transformDecodeError: the Go decoder's first refusal, before any validation.
  if (decodeErrors.length > 0) throw badRequest(`${cannotHandle}: ${decodeErrors[0]}`);
  if (errors.length > 0) {
    const detail = errors.map((e) => `${e.field}: ${e.message}`).join(', ');
    throw new StatusError(400, 'BadRequest', `${cannotHandle}: ${detail}`, {
      causes: errors.map((e) => ({ reason: e.type, message: e.message, field: e.field })),
    });
  }
  if (unknownFields.length === 0 && duplicates.length === 0) return [];
  if (fieldValidation !== 'Strict') {
    // The Go decoder drops fields its types do not have: they are never stored.
    for (const field of unknownFields) removeField(body, field);
    if (fieldValidation === 'Ignore') return [];
  }
  // Custom resources: the decoder's duplicates first, then what pruning found; typed objects: document order.
  const problems = strategy.pruneUnknownFields
    ? [
      ...duplicates.map((field) => ({ field, message: `duplicate field "${field}"` })),
      ...unknownFields.map((field) => ({ field, message: `unknown field "${field}"` })),
    ]
    : inDocumentOrder(body, unknownFields, noted);
  const texts = problems.map((problem) => problem.message);
  if (fieldValidation === 'Strict') {
    throw new StatusError(400, 'BadRequest', `${cannotHandle}: strict decoding error: ${texts.join(', ')}`, {
      causes: problems.map((problem) => ({ reason: 'FieldValueInvalid', message: problem.message, field: problem.field })),
    });
  }
  return texts;
}

/** Deletes `spec.containers[0].foo` from an object. */
function removeField(object: KubeObject, path: string): void {
  const segments: (string | number)[] = [];
  for (const part of path.split('.')) {
    const match = /^([^[\]]*)((?:\[\d+\])*)$/.exec(part);
    if (!match) return;
    if (match[1]) segments.push(match[1]);
    for (const index of match[2].matchAll(/\[(\d+)\]/g)) segments.push(Number(index[1]));
  }
  let node: unknown = object;
  for (let i = 0; i < segments.length - 1; i++) {
    if (typeof node !== 'object' || node === null) return;
    const segment = segments[i];
    node = typeof segment === 'number' ? (node as unknown[])[segment] : ownValue(node, segment);
  }
  if (typeof node === 'object' && node !== null && !Array.isArray(node)) delete (node as Record<string, unknown>)[segments[segments.length - 1] as string];
}
