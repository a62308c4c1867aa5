// The object a committed write hands to the cache, the watchers and the writer. The committer has
// the new object in hand and its JSON text (which it just wrote): parsing that text back only to
// get a private copy costs a full parse and a tree of garbage per write. The writer gives up its
// object when it submits it (the registry never touches it again), so the stored object can be
// the writer's with the new resourceVersion set on a shallow copy; the text is remembered for
// every reply. That is only sound when the object reads exactly as its text parses: values JSON
// cannot hold (undefined, NaN, -0, Dates, ...) would make readers of the object see something
// other than what was stored, so such an object is still parsed back from its text.

import type { KubeObject } from '../api/object.ts';
import { parseStoredJson, rememberJson } from './object-json.ts';
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
