// RFC 6902 JSON patch (application/json-patch+json) as kube-apiserver applies it with
// gopkg.in/evanphx/json-patch.v4: a body that is not a list of operations is a 400; an operation
// that cannot be applied (missing path, failed test, unknown op) is the generic 422 of patch.go.
// Two v4 behaviours are kept: `replace` of a missing object member adds it, and `test` of a
// missing member against null succeeds.

import fastJsonPatch from 'fast-json-patch';
import type { Operation } from 'fast-json-patch';
import { badRequest, requestEntityTooLarge, StatusError } from '../errors.ts';
import type { KubeObject } from '../object.ts';
import { isPlainObject, jsonTypeName } from './json-value.ts';

const { applyOperation, getValueByPointer, JsonPatchError, unescapePathComponent } = fastJsonPatch;

/** apiserver's maxJSONPatchOperations. */
const MAX_OPERATIONS = 10000;

function cannotApply(): StatusError {
  return new StatusError(422, 'Invalid', 'the server rejected our request due to an error in our request', {});
}

export function applyJsonPatch(original: KubeObject, operations: unknown): KubeObject {
  if (!Array.isArray(operations)) {
    throw badRequest(`json: cannot unmarshal ${jsonTypeName(operations)} into Go value of type jsonpatch.Patch`);
  }
  for (const operation of operations) {
    if (!isPlainObject(operation)) {
      throw badRequest(`json: cannot unmarshal ${jsonTypeName(operation)} into Go value of type jsonpatch.Operation`);
    }
  }
  if (operations.length > MAX_OPERATIONS) {
    const error = requestEntityTooLarge(0);
    throw new StatusError(error.code, error.reason,
      `Request entity too large: The allowed maximum operations in a JSON patch is ${MAX_OPERATIONS}, got ${operations.length}`);
  }
  let document: unknown = structuredClone(original);
  for (const raw of operations as Record<string, unknown>[]) {
    const operation = structuredClone(raw) as unknown as Operation;
    if (operation.op === 'replace' && missingObjectMember(document, operation.path)) {
      (operation as { op: string }).op = 'add';
    }
    if (operation.op === 'test' && operation.value === null && missingObjectMember(document, operation.path)) continue;
    try {
      document = applyOperation(document, operation, true, true).newDocument;
    } catch (err) {
      if (err instanceof JsonPatchError) throw cannotApply();
      throw err;
    }
  }
  if (!isPlainObject(document)) throw cannotApply();
  return document as KubeObject;
}

/** Whether `path` names an absent member of an existing object. */
function missingObjectMember(document: unknown, path: unknown): boolean {
  if (typeof path !== 'string' || !path.startsWith('/')) return false;
  const cut = path.lastIndexOf('/');
  let parent: unknown;
  try {
    parent = cut === 0 ? document : getValueByPointer(document, path.slice(0, cut));
  } catch {
    return false;
  }
  return isPlainObject(parent) && !(unescapePathComponent(path.slice(cut + 1)) in parent);
}
