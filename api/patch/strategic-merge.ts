// Strategic merge patch (application/strategic-merge-patch+json), following
// k8s.io/apimachinery/pkg/util/strategicpatch with the options the API server uses
// (MergeParallelList, IgnoreUnmatchedNulls). Merge behaviour comes from the schema's
// x-kubernetes-patch-strategy / x-kubernetes-patch-merge-key; lists without the merge strategy
// are replaced. Error texts are mergepatch's, with the status codes patch.go gives them.

import { badRequest, StatusError } from '../errors.ts';
import { displayValue, ownValue, setOwnValue, type KubeObject } from '../object.ts';
import type { SchemaNode } from '../openapi/schema-node.ts';
import { isPlainObject, jsonTypeName, type JsonMap } from './json-value.ts';
import { fieldSchema, itemSchema, patchMeta } from './schema-lookup.ts';

const DIRECTIVE = '$patch';
const RETAIN_KEYS = '$retainKeys';
const SET_ELEMENT_ORDER = '$setElementOrder/';
const DELETE_FROM_PRIMITIVE_LIST = '$deleteFromPrimitiveList/';

const unprocessable = (message: string) =>
  new StatusError(422, 'Invalid', message, {});
const errNoListOfLists = () => unprocessable('lists of lists are not supported');
const errRetainKeysMismatch = () => unprocessable("patch content doesn't match retainKeys list");
const errBadRetainKeys = () => badRequest('invalid patch format of retainKeys');
const errBadSetElementOrder = () => badRequest('invalid patch format of setElementOrder list');
const errBadPrimitiveList = () => badRequest('invalid patch format of primitive list');

export function applyStrategicMergePatch(original: KubeObject, patch: unknown, schema: SchemaNode): KubeObject {
  if (!isPlainObject(patch)) {
    throw badRequest(`json: cannot unmarshal ${jsonTypeName(patch)} into Go value of type map[string]interface {}`);
  }
  // One copy of each input; the merge then edits the copies in place, as the Go code does.
  const result = mergeMap(structuredClone(original) as JsonMap, structuredClone(patch), schema);
  return result as KubeObject;
}

function mergeMap(original: JsonMap, patch: JsonMap, schema: SchemaNode | undefined): JsonMap {
  if (ownValue(patch, DIRECTIVE) !== undefined) return mapDirective(patch);
  applyRetainKeys(original, patch);
  mergeOrderedLists(original, patch, schema);

  for (const [patchKey, patchValue] of Object.entries(patch)) {
    if (patchKey === RETAIN_KEYS || patchKey.startsWith(SET_ELEMENT_ORDER)) continue;
    const isDeleteList = patchKey.startsWith(DELETE_FROM_PRIMITIVE_LIST);
    const key = isDeleteList ? patchKey.slice(DELETE_FROM_PRIMITIVE_LIST.length) : patchKey;
    if (patchValue === null) {
      delete original[key];
      continue;
    }
    const child = fieldSchema(schema, key);
    const originalValue = ownValue(original, key);
    if (originalValue === undefined || originalValue === null || kindOf(originalValue) !== kindOf(patchValue)) {
      if (!isDeleteList) setOwnValue(original, key, freshValue(patchValue, child));
      continue;
    }
    const meta = patchMeta(child);
    if (isPlainObject(originalValue) && isPlainObject(patchValue)) {
      setOwnValue(original, key, meta.strategies.includes('replace')
        ? withoutDirective(patchValue)
        : mergeMap(originalValue, patchValue, child));
    } else if (Array.isArray(originalValue) && Array.isArray(patchValue)) {
      if (isDeleteList) {
        setOwnValue(original, key, deleteFromPrimitiveList(originalValue, patchValue));
      } else {
        setOwnValue(original, key, meta.strategies.includes('merge')
          ? mergeList(originalValue, patchValue, child, meta.mergeKey)
          : patchValue);
      }
    } else {
      setOwnValue(original, key, patchValue);
    }
  }
  return original;
}

function kindOf(value: unknown): string {
  return Array.isArray(value) ? 'array' : isPlainObject(value) ? 'object' : 'scalar';
}

/** A patch value with no counterpart in the original: merged into an empty value so directives and nulls disappear. */
function freshValue(value: unknown, schema: SchemaNode | undefined): unknown {
  if (isPlainObject(value)) {
    return patchMeta(schema).strategies.includes('replace') ? withoutDirective(value) : mergeMap({}, value, schema);
  }
  if (Array.isArray(value)) {
    const meta = patchMeta(schema);
    return meta.strategies.includes('merge') ? mergeList([], value, schema, meta.mergeKey) : value;
  }
  return value;
}

function withoutDirective(map: JsonMap): JsonMap {
  const { [DIRECTIVE]: _ignored, ...rest } = map;
  return rest;
}

function mapDirective(patch: JsonMap): JsonMap {
  const directive = ownValue(patch, DIRECTIVE);
  if (directive === 'replace') return withoutDirective(patch);
  if (directive === 'delete') return {};
  throw badRequest(`unknown patch type: ${displayValue(directive)} in map: ${JSON.stringify(patch)}`);
}

/** `$retainKeys`: drop every original key the list does not name; the patch may only set listed keys. */
function applyRetainKeys(original: JsonMap, patch: JsonMap): void {
  if (!Object.hasOwn(patch, RETAIN_KEYS)) return;
  const retain = patch[RETAIN_KEYS];
  delete patch[RETAIN_KEYS];
  if (!Array.isArray(retain)) throw errBadRetainKeys();
  // Only strings can name a member; anything else in the list matches nothing.
  const retained = new Set(retain.filter((k): k is string => typeof k === 'string'));
  for (const [key, value] of Object.entries(patch)) {
    if (value === null || key.startsWith(DELETE_FROM_PRIMITIVE_LIST) || key.startsWith(SET_ELEMENT_ORDER)) continue;
    if (!retained.has(key)) throw errRetainKeysMismatch();
  }
  for (const key of Object.keys(original)) if (!retained.has(key)) delete original[key];
}

/**
 * `$setElementOrder/<list>`: merge the list now and order it as the directive says, keeping
 * server-only items near their original neighbours (strategicpatch's normalizeElementOrder).
 */
function mergeOrderedLists(original: JsonMap, patch: JsonMap, schema: SchemaNode | undefined): void {
  for (const directiveKey of Object.keys(patch)) {
    if (!directiveKey.startsWith(SET_ELEMENT_ORDER)) continue;
    const order = patch[directiveKey];
    const field = directiveKey.slice(SET_ELEMENT_ORDER.length);
    delete patch[directiveKey];
    if (!Array.isArray(order)) throw errBadSetElementOrder();
    const child = fieldSchema(schema, field);
    const meta = patchMeta(child);
    const originalValue = ownValue(original, field);
    const patchValue = ownValue(patch, field);
    const originalList = Array.isArray(originalValue) ? originalValue : [];
    const patchList = Array.isArray(patchValue) ? patchValue : [];
    if (patchValue === null) continue;
    validateAgainstOrder(patchList, order, meta.mergeKey);
    if (originalList.length === 0 && patchList.length === 0) continue;
    let merged: unknown[];
    if (patchList.length === 0) merged = originalList;
    else if (meta.strategies.includes('merge')) merged = mergeList(originalList, patchList, child, meta.mergeKey);
    else merged = patchList;
    setOwnValue(original, field, normalizeElementOrder(merged, order, originalList, meta.mergeKey));
    delete patch[field];
  }
}

function identity(item: unknown, mergeKey: string | undefined): unknown {
  return mergeKey && isPlainObject(item) ? ownValue(item, mergeKey) : item;
}

/**
 * A string equal for two values exactly when jsonEqual holds (object member order ignored), so
 * list items are found through a Map: matching by scanning made a 20,000-container patch
 * quadratic (8 s of the only thread).
 */
function valueKey(value: unknown): string {
  if (value === null || typeof value !== 'object') return `${typeof value}:${String(value)}`;
  return `j:${canonicalJson(value)}`;
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (isPlainObject(value)) {
    const keys = Object.keys(value).filter((k) => value[k] !== undefined).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** Position of the first item of each identity in `list`. */
function positions(list: unknown[], mergeKey: string | undefined): Map<string, number> {
  const index = new Map<string, number>();
  for (let i = 0; i < list.length; i++) {
    const key = valueKey(identity(list[i], mergeKey));
    if (!index.has(key)) index.set(key, i);
  }
  return index;
}

function positionIn(index: Map<string, number>, item: unknown, mergeKey: string | undefined): number {
  return index.get(valueKey(identity(item, mergeKey))) ?? -1;
}

function validateAgainstOrder(patchList: unknown[], order: unknown[], mergeKey: string | undefined): void {
  const orderIndex = positions(order, mergeKey);
  let last = -1;
  for (const item of patchList) {
    if (isPlainObject(item) && ownValue(item, DIRECTIVE) !== undefined) continue;
    const at = positionIn(orderIndex, item, mergeKey);
    if (at < 0 || at < last) throw errBadSetElementOrder();
    last = at;
  }
}

function normalizeElementOrder(merged: unknown[], order: unknown[], serverOrder: unknown[], mergeKey: string | undefined): unknown[] {
  const orderIndex = positions(order, mergeKey);
  const serverIndex = positions(serverOrder, mergeKey);
  const ordered: { item: unknown; at: number }[] = [];
  const serverOnly: { item: unknown; at: number }[] = [];
  for (const item of merged) {
    const at = positionIn(orderIndex, item, mergeKey);
    if (at >= 0) ordered.push({ item, at });
    else serverOnly.push({ item, at: positionIn(serverIndex, item, mergeKey) });
  }
  // Stable sorts by position, as sort.Stable over the index functions.
  ordered.sort((a, b) => a.at - b.at);
  serverOnly.sort((a, b) => a.at - b.at);
  // mergeSortedSlice: a server-only item goes first only when both are known to the server and it came first there.
  const result: unknown[] = [];
  let left = 0;
  let right = 0;
  while (left < serverOnly.length || right < ordered.length) {
    if (left >= serverOnly.length) result.push(ordered[right++].item);
    else if (right >= ordered.length) result.push(serverOnly[left++].item);
    else {
      const li = serverOnly[left].at;
      const ri = positionIn(serverIndex, ordered[right].item, mergeKey);
      if (li >= 0 && ri >= 0 && li < ri) result.push(serverOnly[left++].item);
      else result.push(ordered[right++].item);
    }
  }
  return result;
}

function deleteFromPrimitiveList(original: unknown[], toDelete: unknown[]): unknown[] {
  if (toDelete.some((v) => isPlainObject(v) || Array.isArray(v))) throw errBadPrimitiveList();
  const deleted = new Set(toDelete.map(valueKey));
  return original.filter((value) => !deleted.has(valueKey(value)));
}

function mergeList(original: unknown[], patch: unknown[], schema: SchemaNode | undefined, mergeKey: string | undefined): unknown[] {
  if (original.length === 0 && patch.length === 0) return original;
  const sample = patch.length > 0 ? patch[0] : original[0];
  if (Array.isArray(sample)) throw errNoListOfLists();
  if (!isPlainObject(sample)) {
    // Scalars: union that keeps the first occurrence of each value.
    const merged: unknown[] = [];
    const seen = new Set<string>();
    for (const value of [...original, ...patch]) {
      const key = valueKey(value);
      if (seen.has(key)) continue;
      seen.add(key);
      merged.push(value);
    }
    return merged;
  }
  if (!mergeKey) throw badRequest('cannot merge lists without merge key');
  const items = itemSchema(schema);
  const deleted = new Set<string>();
  const additions: JsonMap[] = [];
  for (const element of patch) {
    if (!isPlainObject(element)) throw badRequest(`unable to find api field "${mergeKey}" in a list element`);
    const directive = ownValue(element, DIRECTIVE);
    if (directive === 'replace') {
      return patch.filter((e) => !(isPlainObject(e) && ownValue(e, DIRECTIVE) !== undefined))
        .map((e) => freshValue(e, items));
    }
    if (directive === 'delete') {
      const key = ownValue(element, mergeKey);
      if (key === undefined) throw noMergeKey(element, mergeKey);
      deleted.add(valueKey(key));
      continue;
    }
    if (directive !== undefined) throw badRequest(`unknown patch type: ${displayValue(directive)} in map: ${JSON.stringify(element)}`);
    additions.push(element);
  }
  const itemKey = (item: unknown): string | undefined => (isPlainObject(item) ? valueKey(ownValue(item, mergeKey)) : undefined);
  const result = deleted.size === 0 ? original.slice() : original.filter((item) => {
    const key = itemKey(item);
    return key === undefined || !deleted.has(key);
  });
  // First item of each merge key: where a patch element merges (findIndex's answer, without the scan).
  const byKey = new Map<string, number>();
  for (let i = 0; i < result.length; i++) {
    const key = itemKey(result[i]);
    if (key !== undefined && !byKey.has(key)) byKey.set(key, i);
  }
  for (const element of additions) {
    const keyValue = ownValue(element, mergeKey);
    if (keyValue === undefined) throw noMergeKey(element, mergeKey);
    const key = valueKey(keyValue);
    const at = byKey.get(key);
    if (at !== undefined) result[at] = mergeMap(result[at] as JsonMap, element, items);
    else {
      byKey.set(key, result.length);
      result.push(freshValue(element, items));
    }
  }
  return result;
}

function noMergeKey(element: JsonMap, mergeKey: string): StatusError {
  return badRequest(`map: ${JSON.stringify(element)} does not contain declared merge key: ${mergeKey}`);
}
