// The object a committed write hands to the cache, the watchers and the writer. The committer has
// the new object in hand and its JSON text (which it just wrote): parsing that text back only to
// get a private copy costs a full parse and a tree of garbage per write. The writer gives up its
// object when it submits it (the registry never touches it again), so the stored object can be
// the writer's with the new resourceVersion set on a shallow copy; the text is remembered for
// every reply. That is only sound when the object reads exactly as its text parses: values JSON
// cannot hold (undefined, NaN, -0, Dates, ...) would make readers of the object see something
// other than what was stored, so such an object is still parsed back from its text.

import type { KubeObject } from '../api/object.ts';
import { objectJson, parseStoredJson, rememberJson } from './object-json.ts';
import { withResourceVersion } from './object-versioning.ts';

/** True when JSON.parse(JSON.stringify(value)) would be deep-equal to value, same key order included. */
export function isJsonCanonical(value: unknown): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value) && !Object.is(value, -0);
    case 'object': {
      if (value === null) return true;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) if (!isJsonCanonical(value[i])) return false;
        return true;
      }
      const proto = Object.getPrototypeOf(value) as unknown;
      if (proto !== Object.prototype && proto !== null) return false;
      const record = value as Record<string, unknown>;
      if ('toJSON' in record) return false;
      for (const key in record) {
        const field = record[key];
        if (field === undefined || !isJsonCanonical(field)) return false;
      }
      return true;
    }
    default:
      return false;
  }
}

/** The committed object and its JSON text, for a write of `next` at `revision`. */
export function storedObject(next: KubeObject, revision: number): { object: KubeObject; text: string } {
  const versioned = withResourceVersion(next, revision);
  const text = JSON.stringify(versioned);
  if (!isJsonCanonical(versioned)) return { object: parseStoredJson(text), text };
  rememberJson(versioned, text);
  return { object: versioned, text };
}

/**
 * True when `next` would store the same bytes as `current` apart from resourceVersion (such an
 * update writes nothing, as the etcd3 store). The current object's text is usually remembered
 * (it was written or read by this backend), so this costs one stringify, not two.
 */
export function sameAsStored(current: KubeObject, next: KubeObject): boolean {
  if (current === next) return true;
  const rv = current.metadata.resourceVersion;
  const normalised = next.metadata.resourceVersion === rv ? next : { ...next, metadata: { ...next.metadata, resourceVersion: rv } };
  return JSON.stringify(normalised) === objectJson(current);
}
