// The storage contract between the generic registry and a backend, in the spirit of
// k8s.io/apiserver/pkg/storage.Interface and kine: keys are strings laid out as kube-apiserver
// lays them out (`/registry/pods/<namespace>/<name>`), values are whole objects, and there is
// one global revision. An object's metadata.resourceVersion is always the revision that last
// wrote it (etcd's mod_revision); a list carries the revision it was read at.
//
// Objects returned by a Storage are shared (the watch cache hands the same object to many
// readers): callers must treat them as read-only and copy before changing them.

import type { KubeObject } from '../api/object.ts';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StorageEvent {
  type: WatchEventType;
  key: string;
  /** The object after the change; for DELETED the last state, with resourceVersion = the deletion revision. */
  object: KubeObject;
  /** The object before the change (absent for ADDED). Lets watchers filter "left the selector" correctly. */
  prevObject?: KubeObject;
  revision: number;
}

export interface ListOptions {
  /** At most this many items (0 or undefined: no limit). */
  limit?: number;
  /** Start strictly after this key (paging). */
  startAfterKey?: string;
  /**
   * Read the prefix as it was at this revision (for continue pages and resourceVersionMatch=Exact).
   * Undefined: the latest state. Throws RevisionCompactedError when the revision is no longer held.
   */
  revision?: number;
  /** Only return items for which this holds; applied before `limit` counts (like the cacher's filter). */
  predicate?: (object: KubeObject) => boolean;
}

export interface ListResult {
  items: KubeObject[];
  /** The storage key of each item, in the same order (the watch cache indexes its initial list by them). */
  keys?: string[];
  /** The revision the list was read at. */
  revision: number;
  /** Set when more matching items may follow: the key of the last returned item (pass as startAfterKey). */
  lastKey?: string;
  /** How many more keys follow in the prefix, where the backend knows it cheaply. */
  remainingItemCount?: number;
}

export interface Preconditions {
  uid?: string;
  resourceVersion?: string;
}

/**
 * Computes the new object from the current one inside guaranteedUpdate. It may be called more than
 * once (after a lost compare-and-swap). Throwing aborts the update and the error propagates.
 * Returning the same object reference means "no change": nothing is written, the current object
 * is returned.
 */
export type UpdateFunction = (current: KubeObject) => KubeObject | Promise<KubeObject>;

export interface DeleteOptions {
  preconditions?: Preconditions;
  /** Called with the current object before deleting; throw to refuse (e.g. validation of deletion). */
  validateDeletion?: (current: KubeObject) => void | Promise<void>;
}

export interface WatchOptions {
  /** Deliver events with revision > fromRevision. Throws RevisionCompactedError if that is no longer held. */
  fromRevision: number;
}

export interface WatchHandle {
  stop(): void;
}

export interface WatchCallbacks {
  /** Called for each event in revision order, synchronously from the writer or cache; must not block. */
  onEvent(event: StorageEvent): void;
  /** The watch ended because of an error (e.g. backend lost): the watcher should end its stream. */
  onError?(error: Error): void;
  /** Periodic notice that everything up to `revision` has been delivered (used for bookmarks). */
  onProgress?(revision: number): void;
}

export interface Storage {
  get(key: string): Promise<KubeObject | undefined>;
  list(prefix: string, options?: ListOptions): Promise<ListResult>;
  /** Fails with KeyExistsError if the key exists. Returns the stored object with its resourceVersion. */
  create(key: string, object: KubeObject): Promise<KubeObject>;
  /** Read-modify-write with compare-and-swap on the revision; retries tryUpdate on a lost race. KeyNotFoundError if missing. */
  guaranteedUpdate(key: string, tryUpdate: UpdateFunction, preconditions?: Preconditions): Promise<KubeObject>;
  /** Removes the key; returns the last state. KeyNotFoundError if missing, PreconditionError if a precondition fails. */
  delete(key: string, options?: DeleteOptions): Promise<KubeObject>;
  watch(prefix: string, options: WatchOptions, callbacks: WatchCallbacks): WatchHandle;
  currentRevision(): Promise<number>;
  /** Count of keys under a prefix (for metrics and quick checks). */
  count(prefix: string): Promise<number>;
  /** Whether the backend currently takes writes (the API server's `etcd` health check); absent: always healthy. */
  health?(): StorageHealth;
  close(): Promise<void>;
}

export type StorageHealth = { healthy: true } | { healthy: false; reason: string };

export class KeyNotFoundError extends Error {
  constructor(readonly key: string) {
    super(`key not found: ${key}`);
    this.name = 'KeyNotFoundError';
  }
}

export class KeyExistsError extends Error {
  constructor(readonly key: string) {
    super(`key exists: ${key}`);
    this.name = 'KeyExistsError';
  }
}

/** A precondition (uid or resourceVersion) did not match the stored object. */
export class PreconditionError extends Error {
  constructor(readonly key: string, readonly field: 'uid' | 'resourceVersion', readonly expected: string, readonly actual: string) {
    super(`Precondition failed: ${field}: ${expected}, Actual: ${actual}`);
    this.name = 'PreconditionError';
  }
}

/** The requested revision is older than what the backend (or watch cache) still holds. */
export class RevisionCompactedError extends Error {
  constructor(readonly requested: number, readonly oldest: number) {
    super(`too old resource version: ${requested} (${oldest})`);
    this.name = 'RevisionCompactedError';
  }
}
