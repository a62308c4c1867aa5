// Objects from storage are shared and never mutated, so their JSON text is computed once (usually
// by the storage backend as it writes them: storage/object-json.ts) and reused by every reply,
// list and watcher that sends them (list replies: server/list-reply.ts).

import type { KubeObject } from '../api/object.ts';
import { objectJson } from '../storage/object-json.ts';

export { objectJson };

export function watchEventJson(type: string, objectText: string): string {
  return `{"type":"${type}","object":${objectText}}\n`;
}

// The last event line encoded to bytes. The watch cache hands one event to every watcher in turn,
// synchronously, so one remembered line lets a thousand watchers of the same event share a single
// UTF-8 encoding instead of each converting its own 5 KB string; nothing else is kept alive.
let lastObject: object | undefined;
let lastType = '';
let lastLine: Buffer | undefined;

/** `watchEventJson(type, objectJson(object))` as bytes, shared by consecutive callers for the same event. */
export function watchEventBuffer(type: string, object: KubeObject): Buffer {
  if (object === lastObject && type === lastType && lastLine) return lastLine;
  lastLine = Buffer.from(watchEventJson(type, objectJson(object)), 'utf8');
  lastObject = object;
  lastType = type;
  return lastLine;
}
