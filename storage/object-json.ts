// The JSON text of stored objects, remembered per object. Stored objects are shared and never
// mutated, so their text never changes: the backend that stringified an object to write it
// records the text here, and the reply to the writer, every list and every watcher reuse it
// instead of stringifying the same object again (server/serialize.ts reads from this cache).

import type { KubeObject } from '../api/object.ts';

const texts = new WeakMap<object, string>();

export function objectJson(object: KubeObject): string {
  let text = texts.get(object);
  if (text === undefined) {
    text = JSON.stringify(object);
    texts.set(object, text);
  }
  return text;
}

/** Records `text` as the JSON of `object` (the caller guarantees JSON.stringify(object) === text). */
export function rememberJson(object: KubeObject, text: string): void {
  texts.set(object, text);
}

/** Parses stored JSON and remembers the text for the object it gives. */
export function parseStoredJson(text: string): KubeObject {
  const object = JSON.parse(text) as KubeObject;
  texts.set(object, text);
  return object;
}
