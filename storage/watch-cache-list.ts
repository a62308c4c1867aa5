// LIST from the watch cache's memory, at the current revision or at an older one still in the
// history ring (continue pages of a paged LIST keep the first page's revision). The current keys
// and the keys changed since the target revision are merged in order from the page's start, and a
// changed key reads its state at that revision from the ring's per-key index, so a page costs
// O(page + keys changed inside the walked range), whatever the ring holds elsewhere.

import type { KubeObject } from '../api/object.ts';
import type { ListOptions, ListResult } from './interface.ts';
import type { EventRing } from './event-ring.ts';
import { prefixUpperBound } from './keys.ts';
import type { SortedKeySet } from './sorted-key-set.ts';

export interface CacheContents {
  objects: ReadonlyMap<string, KubeObject>;
  keys: SortedKeySet;
  ring: EventRing;
  revision: number;
}

/** Synchronous, so the result is exactly the state at the revision it reports. */
export function listFromMemory(cache: CacheContents, prefix: string, options: ListOptions): ListResult {
  const target = options.revision === undefined ? cache.revision : Math.min(options.revision, cache.revision);
  const historic = target < cache.revision;
  const { startAfterKey, predicate } = options;
  const limit = options.limit && options.limit > 0 ? options.limit : Infinity;
  const resumeInside = startAfterKey !== undefined && startAfterKey >= prefix;
  const from = resumeInside ? startAfterKey : prefix;
  const current = cache.keys.from(from, resumeInside);
  const changed = historic ? cache.ring.changedKeysFrom(from, resumeInside) : undefined;

  const items: KubeObject[] = [];
  const keys: string[] = [];
  let more = false;
  let nextCurrent = current.next();
  let nextChanged = changed?.next();
  for (;;) {
    const currentKey = !nextCurrent.done && nextCurrent.value.startsWith(prefix) ? nextCurrent.value : undefined;
    const changedKey = nextChanged && !nextChanged.done && nextChanged.value.startsWith(prefix) ? nextChanged.value : undefined;
    if (currentKey === undefined && changedKey === undefined) break;
    let key: string;
    if (changedKey !== undefined && (currentKey === undefined || changedKey <= currentKey)) {
      key = changedKey;
      nextChanged = changed?.next();
      if (currentKey === changedKey) nextCurrent = current.next();
    } else {
      key = currentKey as string;
      nextCurrent = current.next();
    }
    const then = historic ? cache.ring.stateAt(key, target) : undefined;
    const object = then === undefined ? cache.objects.get(key) : then;
    if (!object) continue;
    if (items.length >= limit) { more = true; break; }
    if (predicate && !predicate(object)) continue;
    items.push(object);
    keys.push(key);
  }

  const result: ListResult = { items, keys, revision: target };
  if (more) {
    const lastKey = keys[keys.length - 1];
    result.lastKey = lastKey;
    if (!predicate) result.remainingItemCount = remainingAfter(cache, prefix, lastKey, target);
  }
  return result;
}

/**
 * Keys under the prefix after lastKey at the target revision, as etcd's count would report them:
 * the current count, corrected for the keys changed since (counted as they were then).
 */
function remainingAfter(cache: CacheContents, prefix: string, lastKey: string, target: number): number {
  const upper = prefixUpperBound(prefix);
  let remaining = (upper === undefined ? cache.keys.size : cache.keys.rank(upper)) - cache.keys.rank(lastKey) - (cache.objects.has(lastKey) ? 1 : 0);
  if (target >= cache.revision) return remaining;
  for (const key of cache.ring.changedKeysFrom(lastKey, true)) {
    if (!key.startsWith(prefix)) break;
    const existed = cache.ring.existedAt(key, target);
    if (existed !== undefined) remaining += (existed ? 1 : 0) - (cache.objects.has(key) ? 1 : 0);
  }
  return remaining;
}
