// The watch cache's watchers, indexed so an event reaches only the watchers whose prefix can
// match it: watchers on a `/`-terminated prefix (the usual `/registry/pods/` or
// `/registry/pods/<namespace>/`) are found by exact lookup of the event key's slash prefixes;
// the rare others are tested one by one. Within a prefix, a watcher that brings an index hint
// (its field selector pins spec.nodeName: every kubelet) is found by the value of the event's
// object and previous object, as kube-apiserver's cacher indexes pod watchers by node
// (IndexerFuncs / triggerValues): an event for one node's pod reaches that node's watchers, not
// 5,000. Each watcher gets events in revision order, with the events it still has to replay
// delivered first.

import type { KubeObject } from '../api/object.ts';
import type { StorageEvent, WatchCallbacks, WatchHandle, WatchOptions } from './interface.ts';
import { slashPrefixes } from './keys.ts';

/**
 * Declares that the watcher can only want events whose object or previous object has `value`
 * under `valueOf` (its filter requires field `name` = value). Watchers on the same prefix with
 * the same name must use equivalent `valueOf` functions.
 */
export interface WatchIndexHint {
  name: string;
  value: string;
  valueOf(object: KubeObject): string;
}

/** The watch cache's watch options: a backend ignores the hint. */
export interface CacheWatchOptions extends WatchOptions {
  indexHint?: WatchIndexHint;
}

interface ValueIndex {
  valueOf(object: KubeObject): string;
  byValue: Map<string, Set<CacheWatcher>>;
}

/** The watchers of one slash-terminated prefix: plain ones, and those found through an index. */
interface PrefixBucket {
  plain: Set<CacheWatcher>;
  indexes: Map<string, ValueIndex>;
  size: number;
}

interface CacheWatcher {
  prefix: string;
  /** Only events after this revision are delivered live. */
  liveAfter: number;
  callbacks: WatchCallbacks;
  hint: WatchIndexHint | undefined;
  /** Events waiting while the initial replay is pending; null once live. */
  pending: StorageEvent[] | null;
  stopped: boolean;
}

export class WatcherIndex {
  private readonly bySlashPrefix = new Map<string, PrefixBucket>();
  private readonly unindexed = new Set<CacheWatcher>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  /**
   * Registers a watcher that first receives `replay` (events it missed, oldest first) and then
   * live events. The replay is delivered on a microtask so the caller holds the handle before the
   * first callback; live events arriving meanwhile queue behind it. `replay` must hold every
   * matching event in (fromRevision, currentRevision].
   */
  add(
    prefix: string, fromRevision: number, callbacks: WatchCallbacks, replay: StorageEvent[], currentRevision: number,
    hint?: WatchIndexHint,
  ): WatchHandle {
    // Live events start after currentRevision: the replay already holds everything up to it, even
    // when this runs inside another watcher's callback while an event is being dispatched.
    const liveAfter = Math.max(fromRevision, currentRevision);
    const watcher: CacheWatcher = { prefix, liveAfter, callbacks, hint, pending: replay, stopped: false };
    this.insert(watcher);
    this.count++;
    queueMicrotask(() => {
      const pending = watcher.pending ?? [];
      watcher.pending = null;
      for (const event of pending) {
        if (watcher.stopped) return;
        this.deliver(watcher, event);
      }
    });
    return { stop: () => this.remove(watcher) };
  }

  dispatch(event: StorageEvent): void {
    if (this.count === 0) return;
    if (this.bySlashPrefix.size > 0) {
      for (const prefix of slashPrefixes(event.key)) {
        const bucket = this.bySlashPrefix.get(prefix);
        if (bucket) this.dispatchInBucket(bucket, event);
      }
    }
    for (const watcher of this.unindexed) {
      if (event.key.startsWith(watcher.prefix)) this.send(watcher, event);
    }
  }

  /** Tells every live watcher that everything up to `revision` has been delivered. */
  progress(revision: number): void {
    for (const watcher of this.all()) {
      if (watcher.pending || !watcher.callbacks.onProgress) continue;
      try {
        watcher.callbacks.onProgress(revision);
      } catch (error) {
        this.fail(watcher, error as Error);
      }
    }
  }

  /** Ends every watch with `error` (e.g. the cache lost its backend stream and may have gaps). */
  failAll(error: Error): void {
    for (const watcher of this.all()) this.fail(watcher, error);
  }

  /** Drops every watcher without notifying (shutdown). */
  clear(): void {
    for (const watcher of this.all()) watcher.stopped = true;
    this.bySlashPrefix.clear();
    this.unindexed.clear();
    this.count = 0;
  }

  private dispatchInBucket(bucket: PrefixBucket, event: StorageEvent): void {
    for (const watcher of bucket.plain) this.send(watcher, event);
    for (const index of bucket.indexes.values()) {
      const now = index.valueOf(event.object);
      const watchers = index.byValue.get(now);
      if (watchers) for (const watcher of watchers) this.send(watcher, event);
      if (!event.prevObject) continue;
      // A watcher whose object left its node (or selector value) still gets the event: it reports the exit.
      const before = index.valueOf(event.prevObject);
      const previousWatchers = before === now ? undefined : index.byValue.get(before);
      if (previousWatchers) for (const watcher of previousWatchers) this.send(watcher, event);
    }
  }

  private *all(): Generator<CacheWatcher> {
    const watchers: CacheWatcher[] = [];
    for (const bucket of this.bySlashPrefix.values()) {
      watchers.push(...bucket.plain);
      for (const index of bucket.indexes.values()) for (const set of index.byValue.values()) watchers.push(...set);
    }
    watchers.push(...this.unindexed);
    yield* watchers;
  }

  /** The set a watcher lives in, created on demand when `create`. */
  private setFor(watcher: CacheWatcher, create: boolean): Set<CacheWatcher> | undefined {
    if (!watcher.prefix.endsWith('/')) return this.unindexed;
    let bucket = this.bySlashPrefix.get(watcher.prefix);
    if (!bucket) {
      if (!create) return undefined;
      bucket = { plain: new Set(), indexes: new Map(), size: 0 };
      this.bySlashPrefix.set(watcher.prefix, bucket);
    }
    const { hint } = watcher;
    if (!hint) return bucket.plain;
    let index = bucket.indexes.get(hint.name);
    if (!index) {
      if (!create) return undefined;
      index = { valueOf: hint.valueOf, byValue: new Map() };
      bucket.indexes.set(hint.name, index);
    }
    let set = index.byValue.get(hint.value);
    if (!set) {
      if (!create) return undefined;
      set = new Set();
      index.byValue.set(hint.value, set);
    }
    return set;
  }

  private insert(watcher: CacheWatcher): void {
    (this.setFor(watcher, true) as Set<CacheWatcher>).add(watcher);
    const bucket = this.bySlashPrefix.get(watcher.prefix);
    if (bucket) bucket.size++;
  }

  private send(watcher: CacheWatcher, event: StorageEvent): void {
    if (watcher.stopped || event.revision <= watcher.liveAfter) return;
    if (watcher.pending) watcher.pending.push(event);
    else this.deliver(watcher, event);
  }

  private deliver(watcher: CacheWatcher, event: StorageEvent): void {
    try {
      watcher.callbacks.onEvent(event);
    } catch (error) {
      this.fail(watcher, error as Error);
    }
  }

  private fail(watcher: CacheWatcher, error: Error): void {
    if (watcher.stopped) return;
    this.remove(watcher);
    watcher.callbacks.onError?.(error);
  }

  private remove(watcher: CacheWatcher): void {
    if (watcher.stopped) return;
    watcher.stopped = true;
    this.count--;
    const set = this.setFor(watcher, false);
    set?.delete(watcher);
    if (!watcher.prefix.endsWith('/')) return;
    const bucket = this.bySlashPrefix.get(watcher.prefix);
    if (!bucket) return;
    const { hint } = watcher;
    if (hint && set && set.size === 0) {
      const index = bucket.indexes.get(hint.name) as ValueIndex;
      index.byValue.delete(hint.value);
      if (index.byValue.size === 0) bucket.indexes.delete(hint.name);
    }
    if (--bucket.size === 0) this.bySlashPrefix.delete(watcher.prefix);
  }
}
