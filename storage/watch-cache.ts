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
  type DeleteOptions, type ListOptions, type ListResult, type Preconditions, type Storage, type StorageEvent, type StorageHealth,
  type UpdateFunction, type WatchCallbacks, type WatchHandle, type WatchOptions,
} from './interface.ts';
import { EventRing, type RingBounds } from './event-ring.ts';
import { prefixUpperBound } from './keys.ts';
import { revisionOf } from './object-versioning.ts';
import { SortedKeySet } from './sorted-key-set.ts';
import { StringPool } from './string-pool.ts';
import { deepFreeze } from './deep-freeze.ts';
import { SubtreePool } from './subtree-pool.ts';
import { listFromMemory } from './watch-cache-list.ts';
import { WatcherIndex, type CacheWatchOptions } from './watcher-index.ts';
import { CacheScope, DEFAULT_UNCACHED_PREFIXES } from './watch-cache-scope.ts';

/** A backend that can start a write from the caller's copy of the current object (LevelDbStorage); others ignore it. */
type HintedBackend = Storage & {
  guaranteedUpdate(key: string, tryUpdate: UpdateFunction, preconditions?: Preconditions, cached?: KubeObject): Promise<KubeObject>;
  delete(key: string, options?: DeleteOptions, cached?: KubeObject): Promise<KubeObject>;
};

export interface WatchCacheOptions {
  /**
   * Most recent events kept for watch replay and list-at-revision (default 100 * 1024, kube-apiserver's
   * upper bound). The ring grows to it only while its events are younger than eventFreshMs.
   */
  historyCapacity?: number;
  /** Fewest events kept however old (default 1,000, or historyCapacity if smaller). */
  historyMinCapacity?: number;
  /** Events younger than this are kept within historyCapacity (default 75 s, kube-apiserver's eventFreshDuration). */
  eventFreshMs?: number;
  /** The clock that ages history (tests). */
  clock?: () => number;
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
  /** Held objects share one instance of each repeated short string (storage/string-pool.ts). */
  private readonly strings = new StringPool();
  /** Held objects share one instance of each repeated field set and spec part (storage/subtree-pool.ts). */
  private readonly subtrees = new SubtreePool();
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
    const historyCapacity = options.historyCapacity ?? 100 * 1024;
    this.settings = {
      historyCapacity,
      historyMinCapacity: Math.min(options.historyMinCapacity ?? 1_000, historyCapacity),
      eventFreshMs: options.eventFreshMs ?? 75_000,
      clock: options.clock ?? Date.now,
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
    this.ring = this.newRing(0);
    this.progressTimer = setInterval(() => {
      this.ring.trimExpired();
      this.watchers.progress(this.revision);
    }, this.settings.progressIntervalMs);
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
    return listFromMemory({ objects: this.objects, keys: this.keys, ring: this.ring, revision: this.revision }, prefix, options);
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

  /** Watches of uncached keys (events) go to the backend, as kube-apiserver watches them on etcd. */
  watch(prefix: string, options: WatchOptions | CacheWatchOptions, callbacks: WatchCallbacks): WatchHandle {
    this.assertOpen();
    if (this.scope.overlaps(prefix)) return this.backend.watch(prefix, { fromRevision: options.fromRevision }, callbacks);
    const { fromRevision } = options;
    if (fromRevision < this.ring.startRevision) throw new RevisionCompactedError(fromRevision, this.ring.startRevision);
    const replay = this.ring.eventsAfter(fromRevision, prefix);
    return this.watchers.add(prefix, fromRevision, callbacks, replay, this.revision, 'indexHint' in options ? options.indexHint : undefined);
  }

  /** Events held for replay and reads at older revisions (metrics, tests). */
  get historySize(): number {
    return this.ring.size;
  }

  private newRing(startRevision: number): EventRing {
    const bounds: RingBounds = {
      lowerBound: this.settings.historyMinCapacity,
      upperBound: this.settings.historyCapacity,
      freshMs: this.settings.eventFreshMs,
    };
    return new EventRing(bounds, startRevision, this.settings.clock);
  }

  health(): StorageHealth {
    return this.backend.health?.() ?? { healthy: true };
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
      this.share(object);
      objects.set(key, this.settings.freezeObjects ? deepFreeze(object) : object);
      keys.add(key);
    });
    this.objects = objects;
    this.keys = keys;
    this.revision = initial.revision;
    this.ring = this.newRing(initial.revision);
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

  /** Swaps repeated parts of an object about to be held for shared instances (subtrees first: the string pass skips frozen parts). */
  private share(object: KubeObject): void {
    this.subtrees.shareSubtrees(object);
    this.strings.internValues(object);
  }

  private apply(event: StorageEvent): void {
    if (event.revision <= this.revision) return;
    if (event.type !== 'DELETED' && !this.scope.excludes(event.key)) this.share(event.object);
    if (this.settings.freezeObjects) deepFreeze(event);
    this.revision = event.revision;
    // Uncached keys (events): neither held nor recorded; their watchers follow the backend.
    if (!this.scope.excludes(event.key)) {
      if (event.type === 'DELETED') {
        this.objects.delete(event.key);
        this.keys.delete(event.key);
      } else {
        if (!this.objects.has(event.key)) this.keys.add(event.key);
        this.objects.set(event.key, event.object);
      }
      this.ring.push(event);
      this.watchers.dispatch(event);
    }
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
}
