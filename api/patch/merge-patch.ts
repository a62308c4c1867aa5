// RFC 7386 JSON merge patch (application/merge-patch+json): objects merge member by member,
// `null` deletes, anything else (lists included) replaces.

import { badRequest } from '../errors.ts';
import { deepCopy, ownValue, setOwnValue, type KubeObject } from '../object.ts';
import { isPlainObject, jsonTypeName, type JsonMap } from './json-value.ts';

export function applyMergePatch(original: KubeObject, patch: unknown): KubeObject {
  if (!isPlainObject(patch)) {
    throw badRequest(`json: cannot unmarshal ${jsonTypeName(patch)} into Go value of type map[string]interface {}`);
  }
  return mergeObjects(original as unknown as JsonMap, patch) as unknown as KubeObject;
}

/**
 * Builds a new object: members the patch leaves alone are copied once, patched ones are rebuilt.
 * deepCopy rather than structuredClone: the values are decoded JSON, and a status patch copies
 * the whole rest of the pod this way.
 */
function mergeObjects(target: JsonMap | undefined, patch: JsonMap): JsonMap {
  const result: JsonMap = {};
  const keys = new Set([...(target ? Object.keys(target) : []), ...Object.keys(patch)]);
  for (const key of keys) {
    if (!Object.hasOwn(patch, key)) {
      setOwnValue(result, key, deepCopy(target![key]));
      continue;
    }
    const value = patch[key];
    if (value === null) continue;
    const current = target ? ownValue(target, key) : undefined;
    setOwnValue(result, key, isPlainObject(value)
      ? mergeObjects(isPlainObject(current) ? current : undefined, value)
      : deepCopy(value));
  }
  return result;
}
