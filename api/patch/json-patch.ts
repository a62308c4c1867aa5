// RFC 6902 JSON patch (application/json-patch+json) as kube-apiserver applies it with
// gopkg.in/evanphx/json-patch.v4: a body that is not a list of operations is a 400; more than
// 10,000 operations is a 413 (patch.go's maxJSONPatchOperations); an operation that cannot be
// applied (missing path, failed test, unknown op, copies growing the document past the limit) is
// the generic 422 of patch.go, which does not pass json-patch's own message on.
//
// Written here rather than taken from a library because the library kube uses has behaviours a
// client can see that RFC-strict libraries do not (`replace` of a missing object member adds it;
// `test` of a missing member against null succeeds; negative array indices count from the end;
// `copy` of a missing member adds null), and because two defences must sit inside the walk:
// - only own members are followed, so `/metadata/constructor/prototype/x` or `/__proto__/x` can
//   never reach Object.prototype (the library kube-facade used before followed `constructor`);
// - the accumulated size of `copy` results is capped as kube-apiserver caps it
//   (jsonpatch.AccumulatedCopySizeLimit = --json-patch-max-copy-bytes, 3 MiB), so a 65 KiB body
//   doubling one value eleven times is refused after a few copies instead of building gigabytes.

import { badRequest, requestEntityTooLarge, StatusError } from '../errors.ts';
import { deepCopy, ownValue, setOwnValue, type KubeObject } from '../object.ts';
import { isPlainObject, jsonEqual, jsonTypeName, type JsonMap } from './json-value.ts';

/** apiserver's maxJSONPatchOperations. */
export const MAX_JSON_PATCH_OPERATIONS = 10000;
/** apiserver's JSONPatchMaxCopyBytes (3 MiB), armed as json-patch's AccumulatedCopySizeLimit. */
export const MAX_JSON_PATCH_COPY_BYTES = 3 * 1024 * 1024;

/** Why an operation did not apply; its message is evanphx/json-patch's, kept for logs and tests. */
export class JsonPatchOperationError extends Error {}

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
  if (operations.length > MAX_JSON_PATCH_OPERATIONS) {
    const error = requestEntityTooLarge(0);
    throw new StatusError(error.code, error.reason,
      `Request entity too large: The allowed maximum operations in a JSON patch is ${MAX_JSON_PATCH_OPERATIONS}, got ${operations.length}`);
  }
  let document: unknown;
  try {
    document = applyOperations(deepCopy(original), operations as JsonMap[]);
  } catch (err) {
    if (err instanceof JsonPatchOperationError) throw cannotApply();
    throw err;
  }
  if (!isPlainObject(document)) throw cannotApply();
  return document as KubeObject;
}

/** Applies the operations to `document` (edited in place where possible); throws JsonPatchOperationError. */
export function applyOperations(document: unknown, operations: JsonMap[]): unknown {
  const state = { document, copiedBytes: 0 };
  for (const operation of operations) {
    const kind = ownValue(operation, 'op');
    switch (kind) {
      case 'add': add(state, operation); break;
      case 'remove': remove(state, operation); break;
      case 'replace': replace(state, operation); break;
      case 'move': move(state, operation); break;
      case 'test': testValue(state, operation); break;
      case 'copy': copy(state, operation); break;
      default: throw new JsonPatchOperationError(`Unexpected kind: ${typeof kind === 'string' ? kind : 'unknown'}`);
    }
  }
  return state.document;
}

interface PatchState {
  document: unknown;
  copiedBytes: number;
}

type Container = JsonMap | unknown[];

function pointer(operation: JsonMap, field: 'path' | 'from'): string {
  const value = ownValue(operation, field);
  if (typeof value !== 'string') throw new JsonPatchOperationError(`operation missing ${field} field`);
  return value;
}

/** The operation's value; an absent one is JSON null, as json-patch's nil lazy node marshals. */
function operationValue(operation: JsonMap): unknown {
  const value = ownValue(operation, 'value');
  return value === undefined ? null : value;
}

function decodeToken(token: string): string {
  return token.replace(/~1/g, '/').replace(/~0/g, '~');
}

/** Go's strconv.Atoi: optional sign, decimal digits, within int64. */
function parseIndex(token: string): number | undefined {
  if (!/^[+-]?\d+$/.test(token)) return undefined;
  const index = Number(token);
  return Number.isSafeInteger(index) ? index : undefined;
}

/** findObject: the container holding the last token of `path`, and that token; undefined when missing. */
function findContainer(document: unknown, path: string): { container: Container; key: string } | undefined {
  const tokens = path.split('/');
  if (tokens.length < 2) return undefined;
  let current: unknown = document;
  for (let i = 1; i < tokens.length - 1; i++) {
    const next = getMember(current as Container, decodeToken(tokens[i]));
    if (next === undefined || next === null || typeof next !== 'object') return undefined;
    current = next;
  }
  if (current === null || typeof current !== 'object') return undefined;
  return { container: current as Container, key: decodeToken(tokens[tokens.length - 1]) };
}

/** A member or element; undefined when absent (an object's missing member is not an error in v4). */
function getMember(container: Container, key: string): unknown {
  if (!Array.isArray(container)) return ownValue(container, key);
  const index = resolveIndex(container.length, key, container.length - 1);
  return container[index];
}

/** An array index with json-patch's negative indices; throws when out of [-length, max]. */
function resolveIndex(length: number, key: string, max: number): number {
  let index = parseIndex(key);
  if (index === undefined) throw new JsonPatchOperationError(`value was not a proper array index: '${key}'`);
  if (index < 0) {
    if (index < -(max + 1)) throw new JsonPatchOperationError(`Unable to access invalid index: ${index}`);
    index += max + 1;
  }
  if (index > max || index > length) throw new JsonPatchOperationError(`Unable to access invalid index: ${index}`);
  return index;
}

function addMember(container: Container, key: string, value: unknown): void {
  if (!Array.isArray(container)) {
    setOwnValue(container, key, value);
    return;
  }
  if (key === '-') {
    container.push(value);
    return;
  }
  container.splice(resolveIndex(container.length, key, container.length), 0, value);
}

function removeMember(container: Container, key: string): void {
  if (!Array.isArray(container)) {
    if (!Object.hasOwn(container, key)) throw new JsonPatchOperationError(`Unable to remove nonexistent key: ${key}`);
    delete container[key];
    return;
  }
  container.splice(resolveIndex(container.length, key, container.length - 1), 1);
}

function locate(state: PatchState, path: string, verb: string): { container: Container; key: string } {
  const found = findContainer(state.document, path);
  if (!found) throw new JsonPatchOperationError(`${verb} operation does not apply: doc is missing path: "${path}"`);
  return found;
}

function add(state: PatchState, operation: JsonMap): void {
  const { container, key } = locate(state, pointer(operation, 'path'), 'add');
  addMember(container, key, deepCopy(operationValue(operation)));
}

function remove(state: PatchState, operation: JsonMap): void {
  const { container, key } = locate(state, pointer(operation, 'path'), 'remove');
  removeMember(container, key);
}

function replace(state: PatchState, operation: JsonMap): void {
  const path = pointer(operation, 'path');
  const value = deepCopy(operationValue(operation));
  if (path === '') {
    if (value === null || typeof value !== 'object') throw new JsonPatchOperationError('replace operation value must be object or array');
    state.document = value;
    return;
  }
  const { container, key } = locate(state, path, 'replace');
  if (Array.isArray(container)) container[resolveIndex(container.length, key, container.length - 1)] = value;
  // v4: a missing object member is not an error; replace adds it.
  else setOwnValue(container, key, value);
}

function move(state: PatchState, operation: JsonMap): void {
  const from = locate(state, pointer(operation, 'from'), 'move');
  const value = getMember(from.container, from.key);
  removeMember(from.container, from.key);
  const to = locate(state, pointer(operation, 'path'), 'move');
  addMember(to.container, to.key, value === undefined ? null : value);
}

function testValue(state: PatchState, operation: JsonMap): void {
  const path = pointer(operation, 'path');
  const expected = ownValue(operation, 'value');
  let actual: unknown;
  if (path === '') actual = state.document;
  else {
    const { container, key } = locate(state, path, 'test');
    actual = getMember(container, key);
  }
  // v4 holds a null member and a missing one alike: both pass a test against null.
  if (actual === undefined || actual === null) {
    if (expected === null || expected === undefined) return;
    throw new JsonPatchOperationError(`testing value ${path} failed`);
  }
  if (!jsonEqual(actual, expected)) throw new JsonPatchOperationError(`testing value ${path} failed`);
}

function copy(state: PatchState, operation: JsonMap): void {
  const from = locate(state, pointer(operation, 'from'), 'copy');
  const value = getMember(from.container, from.key);
  const to = locate(state, pointer(operation, 'path'), 'copy');
  // The size json-patch counts: the copied value marshalled. Measured before copying, so the copy
  // that would cross the limit is never made.
  const size = value === undefined ? 0 : Buffer.byteLength(JSON.stringify(value) ?? 'null');
  state.copiedBytes += size;
  if (state.copiedBytes > MAX_JSON_PATCH_COPY_BYTES) {
    throw new JsonPatchOperationError(`Unable to complete the copy, the accumulated size increase of copy is ${state.copiedBytes}, exceeding the limit ${MAX_JSON_PATCH_COPY_BYTES}`);
  }
  addMember(to.container, to.key, value === undefined ? null : deepCopy(value));
}
