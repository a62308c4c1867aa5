// Objects from storage are shared and never mutated, so their JSON text can be computed once and
// reused by every list reply and every watcher that sends them (instead of once per watcher).

import type { KubeObject } from '../api/object.ts';

const serialized = new WeakMap<object, string>();

export function objectJson(object: KubeObject): string {
  let text = serialized.get(object);
  if (text === undefined) {
    text = JSON.stringify(object);
    serialized.set(object, text);
  }
  return text;
}

/** `{"apiVersion":...,"items":[...]}` assembled from the per-object cache. */
export function listJson(list: { apiVersion: string; kind: string; metadata: object; items: KubeObject[] }): string {
  const items = list.items.map(objectJson).join(',');
  return `{"kind":${JSON.stringify(list.kind)},"apiVersion":${JSON.stringify(list.apiVersion)},"metadata":${JSON.stringify(list.metadata)},"items":[${items}]}`;
}

export function watchEventJson(type: string, objectText: string): string {
  return `{"type":"${type}","object":${objectText}}\n`;
}
