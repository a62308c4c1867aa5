// The JSON text of stored objects, remembered per object. Stored objects are shared and never
// mutated, so their text never changes: the backend that stringified an object to write it
// records the text here, and the reply to the writer, every list and every watcher reuse it
// instead of stringifying the same object again (server/serialize.ts reads from this cache).
//
// The text lives on the object itself, under a non-enumerable symbol key: JSON.stringify,
// Object.keys, for-in, spread and structuredClone all skip it, so no reader can see it, and a
// copy (e.g. withResourceVersion's) starts without it. It used to be a WeakMap from object to
// text; with every write adding a key (100,000+ live, and dead ones until the next full GC) the
// table's inserts and rehashes were ~5% of the server's CPU at 100,000 pods, and ephemeron tables
// make every young-generation collection slower. A frozen object cannot take the property, so its
// text is remembered in a WeakMap as before (only objects frozen for debugging get there).

import type { KubeObject } from '../api/object.ts';

const TEXT = Symbol('kubefacade.objectJson');

type WithText = { [TEXT]?: string };

const frozenTexts = new WeakMap<object, string>();

function remembered(object: KubeObject): string | undefined {
  return (object as WithText)[TEXT] ?? frozenTexts.get(object);
}

export function objectJson(object: KubeObject): string {
  let text = remembered(object);
  if (text === undefined) {
    text = JSON.stringify(object);
    rememberJson(object, text);
  }
  return text;
}

/** Records `text` as the JSON of `object` (the caller guarantees JSON.stringify(object) === text). */
export function rememberJson(object: KubeObject, text: string): void {
  if (Object.isExtensible(object)) Object.defineProperty(object, TEXT, { value: text, writable: true });
  else frozenTexts.set(object, text);
}

/** Parses stored JSON and remembers the text for the object it gives. */
export function parseStoredJson(text: string): KubeObject {
  const object = JSON.parse(text) as KubeObject;
  rememberJson(object, text);
  return object;
}
