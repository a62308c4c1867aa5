// The watch cache's watchers, indexed so an event reaches only the watchers whose prefix can
// match it: watchers on a `/`-terminated prefix (the usual `/registry/pods/` or
// `/registry/pods/<namespace>/`) are found by exact lookup of the event key's slash prefixes;
// the rare others are tested one by one. Each watcher gets events in revision order, with the
// events it still has to replay delivered first.

import type { StorageEvent, WatchCallbacks, WatchHandle } from './interface.ts';
import { slashPrefixes } from './keys.ts';

interface CacheWatcher {
  prefix: string;
  /** Only events after this revision are delivered live. */
  liveAfter: number;
  callbacks: WatchCallbacks;
  /** Events waiting while the initial replay is pending; null once live. */
  pending: StorageEvent[] | null;
  stopped: boolean;
}

export class WatcherIndex {
  private readonly bySlashPrefix = new Map<string, Set<CacheWatcher>>();
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
  add(prefix: string, fromRevision: number, callbacks: WatchCallbacks, replay: StorageEvent[], currentRevision: number): WatchHandle {
    // Live events start after currentRevision: the replay already holds everything up to it, even
    // when this runs inside another watcher's callback while an event is being dispatched.
    const liveAfter = Math.max(fromRevision, currentRevision);
    const watcher: CacheWatcher = { prefix, liveAfter, callbacks, pending: replay, stopped: false };
    this.bucketFor(prefix).add(watcher);
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
        if (bucket) for (const watcher of bucket) this.send(watcher, event);
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

  private *all(): Generator<CacheWatcher> {
    for (const bucket of [...this.bySlashPrefix.values()]) yield* [...bucket];
    yield* [...this.unindexed];
  }

  private bucketFor(prefix: string): Set<CacheWatcher> {
    if (!prefix.endsWith('/')) return this.unindexed;
    let bucket = this.bySlashPrefix.get(prefix);
    if (!bucket) {
      bucket = new Set();
      this.bySlashPrefix.set(prefix, bucket);
    }
    return bucket;
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
    if (!watcher.prefix.endsWith('/')) {
      this.unindexed.delete(watcher);
      return;
    }
    const bucket = this.bySlashPrefix.get(watcher.prefix);
    bucket?.delete(watcher);
    if (bucket && bucket.size === 0) this.bySlashPrefix.delete(watcher.prefix);
  }
}
