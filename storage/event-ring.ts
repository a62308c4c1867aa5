// The watch cache's bounded history: the most recent events in revision order, for watch replay
// and for reads at an older revision (continue pages). It holds every recorded event with
// revision > startRevision; older ones are gone (410 Gone upstream of here).
//
// Sized as kube-apiserver's cacher sizes its watchCache (k8s.io/apiserver/pkg/storage/cacher/
// watch_cache.go, resizeCacheLocked): capacity starts at the lower bound and doubles, up to the
// upper bound, when the ring is full of events younger than eventFreshDuration (75 s, the bookmark
// frequency plus 15 s, so a watcher resuming from its last bookmark is still in the window);
// it halves when even the newest quarter is older than that. Unlike upstream, a periodic
// trimExpired() also drops events older than the fresh duration beyond the lower bound, so a
// burst does not stay in memory after the cluster goes quiet.
//
// Memory: an entry references versions (held-version.ts) rather than objects. An event's `after`
// is the key's current object until the next event for the key supersedes it; then it keeps only
// its JSON text. An entry's `before` is the previous entry's `after` (one version, shared), so each
// version of an object is held once, parsed only while current.
//
// Index: per key, its entries in revision order, and the changed keys in order, so the state of a
// key range at revision R is found in O(keys changed in that range), not by walking the ring.

import type { KubeObject } from '../api/object.ts';
import type { StorageEvent, WatchEventType } from './interface.ts';
import { HeldVersion } from './held-version.ts';
import { SortedKeySet } from './sorted-key-set.ts';

export interface RingBounds {
  /** Capacity never shrinks below this (upstream defaultLowerBoundCapacity: 100). */
  lowerBound: number;
  /** Capacity never grows past this (upstream defaultUpperBoundCapacity: 100 * 1024). */
  upperBound: number;
  /** Events younger than this are worth keeping (upstream eventFreshDuration: 75 s). */
  freshMs: number;
}

interface HistoryEntry {
  type: WatchEventType;
  key: string;
  revision: number;
  /** Milliseconds since the ring's epoch (a small integer, unboxed). */
  recordedAt: number;
  after: HeldVersion;
  before: HeldVersion | undefined;
}

export class EventRing {
  /** Entries from `head` on are held, oldest first; the array is compacted as the head advances. */
  private entries: (HistoryEntry | undefined)[] = [];
  private head = 0;
  private capacityNow: number;
  private readonly byKey = new Map<string, HistoryEntry[]>();
  private readonly changedKeys = new SortedKeySet();
  private readonly epoch: number;

  constructor(private readonly bounds: RingBounds, private start: number, private readonly clock: () => number = Date.now) {
    if (bounds.lowerBound < 1 || bounds.upperBound < bounds.lowerBound) throw new Error('event ring bounds must satisfy 1 <= lower <= upper');
    this.capacityNow = bounds.lowerBound;
    this.epoch = clock();
  }

  /** Every recorded event with a revision greater than this is held (and nothing older). */
  get startRevision(): number {
    return this.start;
  }

  get size(): number {
    return this.entries.length - this.head;
  }

  get capacity(): number {
    return this.capacityNow;
  }

  /** Records an event (already delivered to live watchers); the key's previous version is now history. */
  push(event: StorageEvent): void {
    const now = this.clock() - this.epoch;
    this.resize(now);
    while (this.size >= this.capacityNow) this.evictOldest();
    const chain = this.byKey.get(event.key);
    const previous = chain?.[chain.length - 1];
    let before: HeldVersion | undefined;
    if (previous && previous.type !== 'DELETED') before = previous.after;
    else if (event.prevObject) before = new HeldVersion(event.prevObject);
    before?.compact();
    const after = new HeldVersion(event.object);
    // A deleted object's last state is no one's current object.
    if (event.type === 'DELETED') after.compact();
    const entry: HistoryEntry = { type: event.type, key: event.key, revision: event.revision, recordedAt: now, after, before };
    this.entries.push(entry);
    if (chain) chain.push(entry);
    else {
      this.byKey.set(event.key, [entry]);
      this.changedKeys.add(event.key);
    }
  }

  /** Drops events older than the fresh duration, keeping at least the lower bound. */
  trimExpired(): void {
    const now = this.clock() - this.epoch;
    while (this.size > this.bounds.lowerBound && now - (this.entries[this.head] as HistoryEntry).recordedAt > this.bounds.freshMs) this.evictOldest();
  }

  /** Held events with revision > `revision` under `prefix`, oldest first. */
  eventsAfter(revision: number, prefix = ''): StorageEvent[] {
    const events: StorageEvent[] = [];
    for (let i = this.firstAfter(revision); i < this.entries.length; i++) {
      const entry = this.entries[i] as HistoryEntry;
      if (!entry.key.startsWith(prefix)) continue;
      const event: StorageEvent = { type: entry.type, key: entry.key, object: entry.after.get(), revision: entry.revision };
      if (entry.before) event.prevObject = entry.before.get();
      events.push(event);
    }
    return events;
  }

  /**
   * The key's state at `revision` (>= startRevision) if it changed after it: the object, or null
   * when the key did not exist then; undefined when it has not changed since (read the current object).
   */
  stateAt(key: string, revision: number): KubeObject | null | undefined {
    const firstChange = this.firstChangeAfter(key, revision);
    if (!firstChange) return undefined;
    if (firstChange.type === 'ADDED' || !firstChange.before) return null;
    return firstChange.before.get();
  }

  /** As stateAt, without parsing: whether the key existed at `revision`, undefined when unchanged since. */
  existedAt(key: string, revision: number): boolean | undefined {
    const firstChange = this.firstChangeAfter(key, revision);
    if (!firstChange) return undefined;
    return firstChange.type !== 'ADDED' && firstChange.before !== undefined;
  }

  private firstChangeAfter(key: string, revision: number): HistoryEntry | undefined {
    const chain = this.byKey.get(key);
    if (!chain || chain[chain.length - 1].revision <= revision) return undefined;
    let low = 0;
    let high = chain.length - 1;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (chain[mid].revision <= revision) low = mid + 1;
      else high = mid;
    }
    return chain[low];
  }

  /** Keys with held events, in order, from the first key >= `from` (> `from` when `exclusive`). */
  changedKeysFrom(from: string, exclusive = false): Generator<string> {
    return this.changedKeys.from(from, exclusive);
  }

  private firstAfter(revision: number): number {
    let low = this.head;
    let high = this.entries.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if ((this.entries[mid] as HistoryEntry).revision <= revision) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  private resize(now: number): void {
    if (this.size < this.capacityNow) return;
    const oldest = this.entries[this.head] as HistoryEntry;
    if (now - oldest.recordedAt < this.bounds.freshMs) {
      this.capacityNow = Math.min(this.capacityNow * 2, this.bounds.upperBound);
      return;
    }
    const newestQuarter = this.entries[this.entries.length - Math.max(1, this.capacityNow >> 2)] as HistoryEntry;
    if (now - newestQuarter.recordedAt > this.bounds.freshMs) this.capacityNow = Math.max(this.capacityNow >> 1, this.bounds.lowerBound);
  }

  private evictOldest(): void {
    const entry = this.entries[this.head] as HistoryEntry;
    this.entries[this.head] = undefined;
    this.head++;
    this.start = entry.revision;
    const chain = this.byKey.get(entry.key) as HistoryEntry[];
    chain.shift();
    if (chain.length === 0) {
      this.byKey.delete(entry.key);
      this.changedKeys.delete(entry.key);
    }
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
  }
}
