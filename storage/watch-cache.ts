// An in-memory cache in front of a backend, in the spirit of kube-apiserver's cacher: it lists
// the whole keyspace once, then follows one backend watch, keeping every current object, an
// ordered key index and a bounded ring of recent events. Reads and watches are served from
// memory; writes go to the backend and resolve only once the cache has applied their revision,
// so a client reads its own writes. Objects are shared between all readers and never mutated.
//
// When other processes write to the same backend (API server replicas on one etcd), reads can be
// made consistent as kube-apiserver's consistent list from cache makes them: a read without a
// revision first asks the backend for its current revision and waits until the cache has applied
// it, reading from the backend if the cache does not get there in time.

import type { KubeObject } from '../api/object.ts';
import {
  RevisionCompactedError,
  type DeleteOptions, type ListOptions, type ListResult, type Preconditions, type Storage, type StorageEvent,
  type UpdateFunction, type WatchCallbacks, type WatchHandle, type WatchOptions,
} from './interface.ts';
import { EventRing } from './event-ring.ts';
import { prefixUpperBound } from './keys.ts';
import { revisionOf } from './object-versioning.ts';
import { SortedKeySet } from './sorted-key-set.ts';
import { WatcherIndex } from './watcher-index.ts';
import { CacheScope, DEFAULT_UNCACHED_PREFIXES } from './watch-cache-scope.ts';

/** A backend that can start a write from the caller's copy of the current object (LevelDbStorage); others ignore it. */
type HintedBackend = Storage & {
  guaranteedUpdate(key: string, tryUpdate: UpdateFunction, preconditions?: Preconditions, cached?: KubeObject): Promise<KubeObject>;
  delete(key: string, options?: DeleteOptions, cached?: KubeObject): Promise<KubeObject>;
};

export interface WatchCacheOptions {
  /** Recent events kept for watch replay and list-at-revision (default 50,000). */
  historyCapacity?: number;
  /** How often watchers get onProgress (default 1 s). */
  progressIntervalMs?: number;
  /** How long a read at a revision newer than the cache waits for it to catch up (default 3 s). */
  freshnessTimeoutMs?: number;
  /** Longest a write waits for the cache to apply it before returning anyway (default 10 s). */
  writeVisibilityTimeoutMs?: number;
  /** Deep-freeze every cached object so accidental mutation throws (debugging; costs time). */
  freezeObjects?: boolean;
  /** Key prefixes whose objects are not held (default: events, as kube-apiserver); reads go to the backend. */
  uncachedPrefixes?: string[];
  /** Reads without a revision first catch up with the backend's current revision (default false). */
  consistentReads?: boolean;
  /** How long a consistent read waits for the cache before reading the backend instead (default 1 s). */
  consistentReadTimeoutMs?: number;
}

interface RevisionWaiter {
  revision: number;
  resolve(): void;
}

export class WatchCache implements Storage {
  private objects = new Map<string, KubeObject>();
  private keys = new SortedKeySet();
  private ring: EventRing;
  private revision: number;
  private readonly watchers = new WatcherIndex();
  /** Sorted by revision: writers waiting for the cache to apply their write. */
  private waiters: RevisionWaiter[] = [];
  private backendWatch: WatchHandle | undefined;
  private readonly progressTimer: NodeJS.Timeout;
  private closed = false;
  private readonly settings: Required<WatchCacheOptions>;
  private readonly scope: CacheScope;
  /** The backend revision read in flight, and the one queued behind it (see latestBackendRevision). */
  private revisionRead: Promise<number> | undefined;
  private nextRevisionRead: Promise<number> | undefined;

  private constructor(private readonly backend: Storage, options: WatchCacheOptions) {
    this.settings = {
      historyCapacity: options.historyCapacity ?? 50_000,
      progressIntervalMs: options.progressIntervalMs ?? 1_000,
      freshnessTimeoutMs: options.freshnessTimeoutMs ?? 3_000,
      writeVisibilityTimeoutMs: options.writeVisibilityTimeoutMs ?? 10_000,
      freezeObjects: options.freezeObjects ?? false,
      consistentReads: options.consistentReads ?? false,
      consistentReadTimeoutMs: options.consistentReadTimeoutMs ?? 1_000,
      uncachedPrefixes: options.uncachedPrefixes ?? DEFAULT_UNCACHED_PREFIXES,
    };
    this.scope = new CacheScope(this.settings.uncachedPrefixes);
    this.revision = 0;
    this.ring = new EventRing(this.settings.historyCapacity, 0);
    this.progressTimer = setInterval(() => this.watchers.progress(this.revision), this.settings.progressIntervalMs);
    this.progressTimer.unref();
  }

  /** Loads the backend's current state and starts following it. The cache owns the backend from here on. */
  static async start(backend: Storage, options: WatchCacheOptions = {}): Promise<WatchCache> {
    const cache = new WatchCache(backend, options);
    try {
      await cache.load();
    } catch (error) {
      clearInterval(cache.progressTimer);
      throw error;
    }
    return cache;
  }

  async get(key: string): Promise<KubeObject | undefined> {
    this.assertOpen();
    if (this.scope.excludes(key)) return this.backend.get(key);
    if (!(await this.caughtUp())) return this.backend.get(key);
    return this.objects.get(key);
  }

  async count(prefix: string): Promise<number> {
    this.assertOpen();
    if (this.scope.overlaps(prefix)) return this.backend.count(prefix);
    const upper = prefixUpperBound(prefix);
    return (upper === undefined ? this.keys.size : this.keys.rank(upper)) - this.keys.rank(prefix);
  }

  async currentRevision(): Promise<number> {
    this.assertOpen();
    await this.caughtUp();
    return this.revision;
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListResult> {
    this.assertOpen();
    if (this.scope.overlaps(prefix)) return this.backend.list(prefix, options);
    const requested = options.revision;
    if (requested !== undefined && requested > this.revision) {
      await this.waitForRevision(requested, this.settings.freshnessTimeoutMs);
      if (requested > this.revision) return this.backend.list(prefix, options);
    }
    // Exact revisions older than the ring are still answered by the backend if it holds them
    // (kube-apiserver serves such continue pages from etcd too).
    if (requested !== undefined && requested < this.ring.startRevision) return this.backend.list(prefix, options);
    if (requested === undefined && !(await this.caughtUp())) return this.backend.list(prefix, options);
    return this.listFromMemory(prefix, options);
  }

  async create(key: string, object: KubeObject): Promise<KubeObject> {
    return this.afterApplied(await this.backend.create(key, object));
  }

  async guaranteedUpdate(key: string, tryUpdate: UpdateFunction, preconditions?: Preconditions): Promise<KubeObject> {
    // The cached object spares the backend a read and parse; its compare-and-swap catches staleness.
    const backend = this.backend as HintedBackend;
    return this.afterApplied(await backend.guaranteedUpdate(key, tryUpdate, preconditions, this.objects.get(key)));
  }

  async delete(key: string, options?: DeleteOptions): Promise<KubeObject> {
    return this.afterApplied(await (this.backend as HintedBackend).delete(key, options, this.objects.get(key)));
  }

  watch(prefix: string, options: WatchOptions, callbacks: WatchCallbacks): WatchHandle {
    this.assertOpen();
    const { fromRevision } = options;
    if (fromRevision < this.ring.startRevision) throw new RevisionCompactedError(fromRevision, this.ring.startRevision);
    const replay = this.ring.eventsAfter(fromRevision).filter((event) => event.key.startsWith(prefix));
    return this.watchers.add(prefix, fromRevision, callbacks, replay, this.revision);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.progressTimer);
    this.backendWatch?.stop();
    this.watchers.clear();
    for (const waiter of this.waiters) waiter.resolve();
    this.waiters = [];
    await this.backend.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('storage is closed');
  }

  private async load(): Promise<void> {
    const initial = await this.backend.list('');
    if (!initial.keys || initial.keys.length !== initial.items.length) {
      throw new Error('watch cache: the backend list did not report item keys');
    }
    const objects = new Map<string, KubeObject>();
    const keys = new SortedKeySet();
    initial.items.forEach((object, i) => {
      const key = (initial.keys as string[])[i];
      if (this.scope.excludes(key)) return;
      objects.set(key, this.settings.freezeObjects ? deepFreeze(object) : object);
      keys.add(key);
    });
    this.objects = objects;
    this.keys = keys;
    this.revision = initial.revision;
    this.ring = new EventRing(this.settings.historyCapacity, initial.revision);
    this.backendWatch = this.backend.watch('', { fromRevision: initial.revision }, {
      onEvent: (event) => this.apply(event),
      onError: (error) => this.onBackendError(error),
      // Everything up to `revision` has arrived: revisions written outside the watched keys (another
      // tenant of the same etcd) then count as applied too.
      onProgress: (revision) => this.advance(revision),
    });
    this.releaseWaiters();
  }

  /** The backend stream broke: watchers may have missed events, so end them, then reload. */
  private onBackendError(error: Error): void {
    this.backendWatch = undefined;
    this.watchers.failAll(error);
    const retry = async (): Promise<void> => {
      while (!this.closed) {
        try {
          await this.load();
          return;
        } catch {
          await new Promise((resolve) => setTimeout(resolve, 1_000).unref());
        }
      }
    };
    void retry();
  }

  private apply(event: StorageEvent): void {
    if (event.revision <= this.revision) return;
    if (this.settings.freezeObjects) deepFreeze(event);
    if (this.scope.excludes(event.key)) {
      // Not held: only the ring and the watchers see it.
    } else if (event.type === 'DELETED') {
      this.objects.delete(event.key);
      this.keys.delete(event.key);
    } else {
      if (!this.objects.has(event.key)) this.keys.add(event.key);
      this.objects.set(event.key, event.object);
    }
    this.revision = event.revision;
    this.ring.push(event);
    this.watchers.dispatch(event);
    if (this.waiters.length > 0) this.releaseWaiters();
  }

  private advance(revision: number): void {
    if (revision <= this.revision) return;
    this.revision = revision;
    if (this.waiters.length > 0) this.releaseWaiters();
  }

  /**
   * With consistentReads: true once the cache holds the backend's current revision, false if it
   * did not get there within consistentReadTimeoutMs (the caller then reads the backend).
   */
  private async caughtUp(): Promise<boolean> {
    if (!this.settings.consistentReads) return true;
    const latest = await this.latestBackendRevision();
    if (latest <= this.revision) return true;
    await this.waitForRevision(latest, this.settings.consistentReadTimeoutMs);
    return latest <= this.revision;
  }

  /**
   * The backend's current revision as of some moment after this call. Concurrent callers share
   * reads: while one read is in flight, later callers all wait for the single read queued behind
   * it (an earlier read could predate their call and miss a write they must see).
   */
  private latestBackendRevision(): Promise<number> {
    if (!this.revisionRead) {
      const read = this.backend.currentRevision();
      this.revisionRead = read;
      const clear = (): void => { if (this.revisionRead === read) this.revisionRead = undefined; };
      read.then(clear, clear);
      return read;
    }
    if (!this.nextRevisionRead) {
      const queued = this.revisionRead.then(() => undefined, () => undefined).then(() => {
        this.nextRevisionRead = undefined;
        return this.latestBackendRevision();
      });
      this.nextRevisionRead = queued;
    }
    return this.nextRevisionRead;
  }

  private releaseWaiters(): void {
    let released = 0;
    while (released < this.waiters.length && this.waiters[released].revision <= this.revision) {
      this.waiters[released].resolve();
      released++;
    }
    if (released > 0) this.waiters = this.waiters.slice(released);
  }

  private async afterApplied(object: KubeObject): Promise<KubeObject> {
    await this.waitForRevision(revisionOf(object), this.settings.writeVisibilityTimeoutMs);
    return object;
  }

  /** Resolves once the cache has applied `revision`, or after `timeoutMs` regardless. */
  private waitForRevision(revision: number, timeoutMs: number): Promise<void> {
    if (revision <= this.revision || this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      timer.unref();
      const waiter: RevisionWaiter = { revision, resolve: () => { clearTimeout(timer); resolve(); } };
      let at = this.waiters.length;
      while (at > 0 && this.waiters[at - 1].revision > revision) at--;
      this.waiters.splice(at, 0, waiter);
    });
  }

  /** For keys under the prefix changed after `revision`: their state at `revision` (null: absent). */
  private statesAt(prefix: string, startAfterKey: string | undefined, revision: number): Map<string, KubeObject | null> {
    const states = new Map<string, KubeObject | null>();
    if (revision >= this.revision) return states;
    for (const event of this.ring.eventsAfter(revision)) {
      if (!event.key.startsWith(prefix) || states.has(event.key)) continue;
      if (startAfterKey !== undefined && event.key <= startAfterKey) continue;
      states.set(event.key, event.type === 'ADDED' ? null : (event.prevObject ?? null));
    }
    return states;
  }

  /** Synchronous, so the result is exactly the state at the revision it reports. */
  private listFromMemory(prefix: string, options: ListOptions): ListResult {
    const target = options.revision === undefined ? this.revision : Math.min(options.revision, this.revision);
    const { startAfterKey, predicate } = options;
    const limit = options.limit && options.limit > 0 ? options.limit : Infinity;
    const changed = this.statesAt(prefix, startAfterKey, target);
    const changedKeys = [...changed.keys()].sort();
    const resumeInside = startAfterKey !== undefined && startAfterKey >= prefix;
    const current = this.keys.from(resumeInside ? startAfterKey : prefix, resumeInside);

    const items: KubeObject[] = [];
    const keys: string[] = [];
    let more = false;
    let changedAt = 0;
    let next = current.next();
    for (;;) {
      const currentKey = !next.done && next.value.startsWith(prefix) ? next.value : undefined;
      const changedKey = changedAt < changedKeys.length ? changedKeys[changedAt] : undefined;
      if (currentKey === undefined && changedKey === undefined) break;
      let key: string;
      let object: KubeObject | null | undefined;
      if (changedKey !== undefined && (currentKey === undefined || changedKey <= currentKey)) {
        key = changedKey;
        object = changed.get(changedKey);
        changedAt++;
        if (currentKey === changedKey) next = current.next();
      } else {
        key = currentKey as string;
        object = this.objects.get(key);
        next = current.next();
      }
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
      if (!predicate) {
        // Keys after lastKey now, corrected for the keys changed since the snapshot (counted as
        // they were then), so later pages of a snapshot report what etcd's count would.
        const upper = prefixUpperBound(prefix);
        let remaining = (upper === undefined ? this.keys.size : this.keys.rank(upper)) - this.keys.rank(lastKey) - (this.objects.has(lastKey) ? 1 : 0);
        for (const [key, then] of changed) if (key > lastKey) remaining += (then ? 1 : 0) - (this.objects.has(key) ? 1 : 0);
        result.remainingItemCount = remaining;
      }
    }
    return result;
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
