// The LevelDB backend for a single API-server process, on any abstract-level database: classic-level
// (LevelDB in the data dir) normally, memory-level for `--storage memory` (tests: nothing on disk, the
// same code and the same conformance suite). Each write is one atomic,
// synced LevelDB batch holding the object, the revision counter and a change-log record, so a
// write acknowledged to a caller survives SIGKILL. Writes go through one in-process committer:
// concurrent writers are grouped into a single synced batch (one fsync for many creates), and
// each write carries the revision it expects the key to have, checked at commit time
// (compare-and-swap), so guaranteedUpdate retries on a lost race exactly like the etcd3 store.
// An object handed to create or returned by an update function belongs to the store from then
// on: the committed object shares its values (leveldb-stored-object.ts), so writers must not
// change it afterwards.
// Opening refuses a damaged store (leveldb-open.ts, leveldb-integrity.ts); revisions are covered by
// a high-water mark and the acknowledged revision outside the database (leveldb-revision-marks.ts);
// after a failed write (a full disk) the database is reopened here (leveldb-write-recovery.ts).

import path from 'node:path';
import { MemoryLevel } from 'memory-level';
import type { AbstractBatchOptions, AbstractPutOptions } from 'abstract-level';
import type { KubeObject } from '../api/object.ts';
import {
  KeyExistsError, KeyNotFoundError, RevisionCompactedError,
  type DeleteOptions, type ListOptions, type ListResult, type Preconditions, type Storage, type StorageEvent,
  type StorageHealth, type UpdateFunction, type WatchCallbacks, type WatchHandle, type WatchOptions,
} from './interface.ts';
import {
  IncompatibleDataDirError, META_COMPACTED, META_FORMAT, META_REVISION, STORAGE_FORMAT, dataKey, dataRange, decodeLogEvent, decodeStoredValue, encodeLogRecord,
  encodeStoredValue, logKey, revisionOfLogKey,
} from './leveldb-layout.ts';
import { listFromSnapshot, type StringLevel } from './leveldb-list.ts';
import { UndoIndexes } from './leveldb-undo-index.ts';
import { RevisionJournal } from './leveldb-revision-journal.ts';
import { checkPreconditions, revisionOf, withResourceVersion } from './object-versioning.ts';
import { parseStoredJson, rememberJson } from './object-json.ts';
import { ChangeLogCompactor } from './leveldb-compactor.ts';
import { sameAsStored, storedObject } from './leveldb-stored-object.ts';
import { openVerifiedStore } from './leveldb-open.ts';
import { WriteFailureRecovery } from './leveldb-write-recovery.ts';
import type { RevisionMarks } from './leveldb-revision-marks.ts';
import { StorageDamagedError } from './leveldb-integrity.ts';
import { StoredTextCodec, type JsonDecoder } from './leveldb-value-codec.ts';
import type { KeyTransformers } from './value-transformer.ts';


export interface LevelDbStorageOptions {
  /** Change-log records kept at least for this many latest revisions (default 10,000). */
  historyRevisions?: number;
  /** ...and at least for this long (default 5 minutes; 0: count only). A record goes once both are exceeded. */
  historyMs?: number;
  /** How often time-based compaction is reconsidered (default 5 s). */
  compactionIntervalMs?: number;
  /** How often watchers get onProgress (default 1 s). */
  progressIntervalMs?: number;
  /** Most writes grouped in one batch (default 1,000). */
  maxBatchWrites?: number;
  /** fsync each batch (default true). Only a benchmark should turn this off. */
  sync?: boolean;
  /** Encryption at rest (--encryption-provider-config): the value transformer of each key's resource. */
  transformers?: KeyTransformers;
}

/** One write waiting for the committer. `expectedRevision` 0 means "the key must not exist". */
interface WriteIntent {
  key: string;
  expectedRevision: number;
  /** The new object; undefined deletes the key. */
  next?: KubeObject;
  /** The current object the writer read (the one with expectedRevision). */
  prev?: KubeObject;
  /** Settles with the committed event, or undefined when the compare-and-swap lost. */
  resolve(event: StorageEvent | undefined): void;
  reject(error: Error): void;
}

interface BackendWatcher {
  prefix: string;
  /** Only events after this revision are delivered live. */
  liveAfter: number;
  callbacks: WatchCallbacks;
  /** Live events held back while the change log is replayed; null once live. */
  held: StorageEvent[] | null;
  stopped: boolean;
}

export class LevelDbStorage implements Storage {
  private readonly queue: WriteIntent[] = [];
  private committing: Promise<void> | undefined;
  private readonly watchers = new Set<BackendWatcher>();
  private readonly undoIndexes: UndoIndexes;
  /** The key of each revision this process committed that the change log still holds. */
  private readonly journal: RevisionJournal;
  private readonly progressTimer: NodeJS.Timeout;
  private closed = false;
  /** Writes failing (a full disk): LevelDB's error is sticky until the database is reopened. */
  private readonly recovery: WriteFailureRecovery;
  /** Encrypts and decrypts stored texts of the configured resources; undefined: everything as is. */
  private readonly codec: StoredTextCodec | undefined;
  /** The JSON of a stored text (the codec's, or the text itself). */
  private readonly decodeJson: JsonDecoder;

  private constructor(
    private db: StringLevel,
    private readonly location: string,
    private revision: number,
    private readonly compactor: ChangeLogCompactor,
    private readonly marks: Pick<RevisionMarks, 'allocate' | 'acknowledge' | 'close'>,
    private readonly options: StorageSettings,
    transformers: KeyTransformers | undefined,
  ) {
    this.codec = transformers ? new StoredTextCodec(transformers) : undefined;
    const codec = this.codec;
    this.decodeJson = codec ? (key, text) => codec.decode(key, text).json : (_key, text) => text;
    this.progressTimer = setInterval(() => this.notifyProgress(), options.progressIntervalMs);
    this.progressTimer.unref();
    this.recovery = new WriteFailureRecovery(location, () => this.startCommitter());
    this.journal = new RevisionJournal(revision + 1);
    this.undoIndexes = new UndoIndexes(this.journal);
  }

  /**
   * The store in `<dataDir>/db` (classic-level). Refuses (StorageDamagedError, naming the file and
   * `kubefacade repair`) on any sign of damage, and a data dir written by an incompatible version.
   */
  static async open(dataDir: string, options: LevelDbStorageOptions = {}): Promise<LevelDbStorage> {
    const settings = storageSettings(options);
    const { db, location, revision, compactedRevision, marks } = await openVerifiedStore(dataDir);
    let compactor: ChangeLogCompactor | undefined;
    try {
      await checkFormat(db);
      compactor = new ChangeLogCompactor(db, revision, compactedRevision, settings);
      await compactor.dropCompactedRecords();
    } catch (error) {
      await compactor?.stop();
      await db.close();
      marks.close();
      throw error;
    }
    return new LevelDbStorage(db, location, revision, compactor, marks, settings, options.transformers);
  }

  /**
   * A store held in memory only (memory-level): the same backend code, nothing on disk, gone when
   * the process ends. Nothing outside the database can be damaged, so there are no revision marks.
   */
  static async openInMemory(options: LevelDbStorageOptions = {}, db: StringLevel = memoryDatabase()): Promise<LevelDbStorage> {
    const settings = storageSettings(options);
    // A memory-level database closed and opened again keeps its data: the storage suites reopen one.
    await db.open();
    await checkFormat(db);
    const [revisionText, compactedText] = await db.getMany([META_REVISION, META_COMPACTED]);
    const revision = revisionText ? Number(revisionText) : 0;
    const compactor = new ChangeLogCompactor(db, revision, compactedText ? Number(compactedText) : 0, settings);
    return new LevelDbStorage(db, '(memory)', revision, compactor, NO_MARKS, settings, options.transformers);
  }

  /** Unhealthy while writes fail (kube-apiserver's `etcd` health check). */
  health(): StorageHealth {
    return this.recovery.health();
  }

  async currentRevision(): Promise<number> {
    this.assertOpen();
    return this.revision;
  }

  async get(key: string): Promise<KubeObject | undefined> {
    this.assertOpen();
    const raw = await this.db.get(dataKey(key));
    return raw === undefined ? undefined : parseStoredJson(this.decodeJson(key, decodeStoredValue(raw).json));
  }

  async count(prefix: string): Promise<number> {
    this.assertOpen();
    let total = 0;
    const iterator = this.db.keys(dataRange(prefix));
    try {
      for (;;) {
        const keys = await iterator.nextv(1024);
        if (keys.length === 0) return total;
        total += keys.length;
      }
    } finally {
      await iterator.close();
    }
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListResult> {
    this.assertOpen();
    // The revision is read from the snapshot itself: a batch LevelDB has applied may not have
    // reached this.revision yet. The compaction mark only grows and always moves before records
    // are deleted, so reading it now is at least as strict as the snapshot needs.
    const snapshot = this.db.snapshot();
    const compactedRevision = this.compactor.compactedRevision;
    try {
      const revisionText = await this.db.get(META_REVISION, { snapshot });
      const revision = revisionText ? Number(revisionText) : 0;
      this.undoIndexes.forgetBefore(compactedRevision);
      return await listFromSnapshot({
        db: this.db, snapshot, revision, compactedRevision, undo: this.undoIndexes, ...(this.codec ? { decode: this.decodeJson } : {}),
      }, prefix, options);
    } finally {
      await snapshot.close();
    }
  }

  async create(key: string, object: KubeObject): Promise<KubeObject> {
    const event = await this.submit(key, 0, object, undefined);
    if (!event) throw new KeyExistsError(key);
    return event.object;
  }

  /**
   * `cached` is the caller's copy of the current object (the watch cache's), used for the first
   * attempt instead of reading and parsing the stored value, as kube-apiserver's etcd3 store uses
   * the cacher's object. The compare-and-swap catches a stale copy; an error computed from an
   * unverified copy is retried once against the stored object before it propagates.
   */
  async guaranteedUpdate(key: string, tryUpdate: UpdateFunction, preconditions?: Preconditions, cached?: KubeObject): Promise<KubeObject> {
    let current = cached ? { revision: revisionOf(cached), object: cached } : await this.readCurrent(key);
    let verified = !cached;
    for (;;) {
      if (!current) throw new KeyNotFoundError(key);
      let next: KubeObject;
      try {
        checkPreconditions(key, current.object, preconditions);
        next = await tryUpdate(current.object);
      } catch (error) {
        if (verified) throw error;
        current = await this.readCurrent(key);
        verified = true;
        continue;
      }
      const unchanged = sameAsStored(current.object, next);
      // A value read through an older key (or unencrypted) is rewritten even when unchanged, as
      // the etcd3 store does for a stale transformer read: that is how a rewrite migrates it.
      const stale = verified && current.stale === true;
      if (unchanged && verified && !stale) return current.object;
      if (!unchanged || stale) {
        const event = await this.submit(key, current.revision, next, current.object);
        if (event) return event.object;
      }
      // Lost the race, or "unchanged" relative to an unverified copy: start again from what is stored.
      current = await this.readCurrent(key);
      verified = true;
    }
  }

  async delete(key: string, options: DeleteOptions = {}, cached?: KubeObject): Promise<KubeObject> {
    let current = cached ? { revision: revisionOf(cached), object: cached } : await this.readCurrent(key);
    let verified = !cached;
    for (;;) {
      if (!current) throw new KeyNotFoundError(key);
      try {
        checkPreconditions(key, current.object, options.preconditions);
        if (options.validateDeletion) await options.validateDeletion(current.object);
      } catch (error) {
        if (verified) throw error;
        current = await this.readCurrent(key);
        verified = true;
        continue;
      }
      const event = await this.submit(key, current.revision, undefined, current.object);
      if (event) return event.object;
      current = await this.readCurrent(key);
      verified = true;
    }
  }

  watch(prefix: string, options: WatchOptions, callbacks: WatchCallbacks): WatchHandle {
    this.assertOpen();
    const { fromRevision } = options;
    const compacted = this.compactor.compactedRevision;
    if (fromRevision < compacted) throw new RevisionCompactedError(fromRevision, compacted);
    const replayUpTo = this.revision;
    // Live delivery starts after replayUpTo (also when registered from inside another watcher's
    // callback, midway through publishing a batch).
    const watcher: BackendWatcher = { prefix, liveAfter: Math.max(fromRevision, replayUpTo), callbacks, held: null, stopped: false };
    this.watchers.add(watcher);
    if (fromRevision < replayUpTo) {
      // Everything up to replayUpTo is in the snapshot's log; later events arrive live and are
      // held until the replay is done, so the stream has neither gaps nor duplicates.
      watcher.held = [];
      void this.replay(watcher, this.db.snapshot(), fromRevision, replayUpTo);
    }
    return { stop: () => { watcher.stopped = true; this.watchers.delete(watcher); } };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    while (this.committing) await this.committing;
    this.closed = true;
    clearInterval(this.progressTimer);
    for (const watcher of this.watchers) watcher.stopped = true;
    this.watchers.clear();
    this.recovery.stop();
    await this.compactor.stop();
    await this.db.close();
    this.marks.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('storage is closed');
  }

  private async readCurrent(key: string): Promise<{ revision: number; object: KubeObject; stale?: boolean } | undefined> {
    this.assertOpen();
    const raw = await this.db.get(dataKey(key));
    if (raw === undefined) return undefined;
    const { revision, json: text } = decodeStoredValue(raw);
    if (!this.codec) return { revision, object: parseStoredJson(text) };
    const { json, stale } = this.codec.decode(key, text);
    return { revision, object: parseStoredJson(json), stale };
  }

  private submit(key: string, expectedRevision: number, next: KubeObject | undefined, prev: KubeObject | undefined): Promise<StorageEvent | undefined> {
    this.assertOpen();
    return new Promise((resolve, reject) => {
      this.queue.push({ key, expectedRevision, next, prev, resolve, reject });
      this.startCommitter();
    });
  }

  private startCommitter(): void {
    if (!this.committing) this.committing = this.commitQueued();
  }

  /**
   * Commits queued writes batch by batch; writes queued during an fsync join the next batch. After a
   * write error the database is reopened here, between batches, so no write runs during a reopen.
   */
  private async commitQueued(): Promise<void> {
    try {
      if (this.recovery.error) await this.recover();
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.options.maxBatchWrites);
        if (this.recovery.error) await this.recover();
        const failure = this.recovery.error;
        if (failure) {
          for (const intent of batch) intent.reject(failure);
          continue;
        }
        try {
          await this.commitBatch(batch);
        } catch (error) {
          this.recovery.noteWriteError(error);
          for (const intent of batch) intent.reject(error as Error);
        }
      }
    } finally {
      this.committing = undefined;
    }
  }

  /** Reopens the database after a write error (see leveldb-write-recovery.ts). Runs as the committer. */
  private async recover(): Promise<void> {
    if (this.closed) return;
    const db = await this.recovery.reopen(this.db, async (candidate) => {
      await this.catchUpWith(candidate);
      await candidate.put(META_REVISION, String(this.revision), { sync: this.options.sync } as AbstractPutOptions<string, string>);
    });
    if (!db) return;
    this.db = db;
    this.compactor.useDatabase(db);
  }

  /**
   * A batch whose write failed may still have reached the log (the data was written, the fsync
   * failed): reopening replays it. Its writer was told it failed (as with any 500, the outcome is
   * unknown to it), but watchers must see it, so its records are published now.
   */
  private async catchUpWith(db: StringLevel): Promise<void> {
    const stored = Number((await db.get(META_REVISION)) ?? 0);
    if (stored < this.revision) {
      throw new StorageDamagedError(path.dirname(this.location), [{
        file: this.location, problem: `after reopening, the store ends at revision ${stored} but revision ${this.revision} was acknowledged`,
      }]);
    }
    if (stored === this.revision) return;
    const entries = await db.iterator({ gt: logKey(this.revision), lte: logKey(stored) }).all();
    const events = entries.map(([recordKey, record]) => decodeLogEvent(revisionOfLogKey(recordKey), record));
    for (const event of events) this.journal.append(event.revision, event.key);
    this.revision = stored;
    for (const event of events) this.publish(event);
    this.acknowledge(stored);
    this.compactor.afterCommit(stored);
  }

  private async commitBatch(batch: WriteIntent[]): Promise<void> {
    const keys = [...new Set(batch.map((intent) => intent.key))];
    const raws = await this.db.getMany(keys.map(dataKey));
    // The state each key is in as the batch is applied in order: revision 0 = absent. `json` is the
    // stored text (encrypted for resources encrypted at rest): it goes to the log record as is.
    const state = new Map<string, { revision: number; json: string | undefined }>();
    keys.forEach((key, i) => {
      const raw = raws[i];
      state.set(key, raw === undefined ? { revision: 0, json: undefined } : decodeStoredValue(raw));
    });

    type Op = { type: 'put'; key: string; value: string } | { type: 'del'; key: string };
    const ops: Op[] = [];
    const events: (StorageEvent | undefined)[] = [];
    let revision = this.revision;
    for (const intent of batch) {
      const current = state.get(intent.key) as { revision: number; json: string | undefined };
      if (current.revision !== intent.expectedRevision) {
        events.push(undefined);
        continue;
      }
      revision++;
      let event: StorageEvent;
      let text: string;
      if (intent.next) {
        // The writer's object with the new resourceVersion, its text remembered (see leveldb-stored-object.ts).
        const stored = storedObject(intent.next, revision);
        text = stored.text;
        const object = stored.object;
        event = current.json === undefined
          ? { type: 'ADDED', key: intent.key, object, revision }
          : { type: 'MODIFIED', key: intent.key, object, prevObject: intent.prev ?? (JSON.parse(this.decodeJson(intent.key, current.json)) as KubeObject), revision };
        if (this.codec) text = this.codec.encode(intent.key, text);
        ops.push({ type: 'put', key: dataKey(intent.key), value: encodeStoredValue(revision, text) });
        state.set(intent.key, { revision, json: text });
      } else {
        const prevObject = intent.prev ?? (JSON.parse(this.decodeJson(intent.key, current.json as string)) as KubeObject);
        const object = withResourceVersion(prevObject, revision);
        text = JSON.stringify(object);
        rememberJson(object, text);
        if (this.codec) text = this.codec.encode(intent.key, text);
        event = { type: 'DELETED', key: intent.key, object, prevObject, revision };
        ops.push({ type: 'del', key: dataKey(intent.key) });
        state.set(intent.key, { revision: 0, json: undefined });
      }
      ops.push({ type: 'put', key: logKey(revision), value: encodeLogRecord(event.type, intent.key, text, current.json) });
      events.push(event);
    }

    if (ops.length > 0) {
      ops.push({ type: 'put', key: META_REVISION, value: String(revision) });
      // The high-water mark is raised (fsynced) before a revision past it can become durable.
      this.marks.allocate(revision);
      // classic-level's `sync` (fsync the batch); memory-level ignores options it does not know.
      const batchOptions: AbstractBatchOptions<string, string> & { sync: boolean } = { sync: this.options.sync };
      await this.db.batch(ops, batchOptions);
      this.acknowledge(revision);
    }
    // Durable: publish in revision order, then acknowledge.
    for (let i = 0; i < batch.length; i++) if (events[i]) this.journal.append((events[i] as StorageEvent).revision, batch[i].key);
    this.revision = revision;
    for (const event of events) if (event) this.publish(event);
    this.compactor.afterCommit(revision);
    this.journal.forgetThrough(this.compactor.compactedRevision);
    batch.forEach((intent, i) => intent.resolve(events[i]));
  }

  private acknowledge(revision: number): void {
    try {
      this.marks.acknowledge(revision);
    } catch (error) {
      // Only the damage check of a later start loses precision; the write itself is durable.
      process.emitWarning(`storage: recording the acknowledged revision failed: ${(error as Error).message}`);
    }
  }

  private publish(event: StorageEvent): void {
    for (const watcher of this.watchers) {
      if (watcher.stopped || event.revision <= watcher.liveAfter || !event.key.startsWith(watcher.prefix)) continue;
      if (watcher.held) watcher.held.push(event);
      else this.deliver(watcher, event);
    }
  }

  private deliver(watcher: BackendWatcher, event: StorageEvent): void {
    try {
      watcher.callbacks.onEvent(event);
    } catch (error) {
      this.fail(watcher, error as Error);
    }
  }

  private fail(watcher: BackendWatcher, error: Error): void {
    if (watcher.stopped) return;
    watcher.stopped = true;
    this.watchers.delete(watcher);
    watcher.callbacks.onError?.(error);
  }

  private async replay(watcher: BackendWatcher, snapshot: ReturnType<StringLevel['snapshot']>, after: number, upTo: number): Promise<void> {
    const iterator = this.db.iterator({ gt: logKey(after), lte: logKey(upTo), snapshot });
    try {
      for (;;) {
        const entries = await iterator.nextv(256);
        if (entries.length === 0 || watcher.stopped) break;
        for (const [logEntryKey, record] of entries) {
          if (watcher.stopped) break;
          const event = decodeLogEvent(revisionOfLogKey(logEntryKey), record, this.decodeJson);
          if (event.key.startsWith(watcher.prefix)) this.deliver(watcher, event);
        }
      }
      const held = watcher.held ?? [];
      watcher.held = null;
      for (const event of held) {
        if (watcher.stopped) break;
        this.deliver(watcher, event);
      }
    } catch (error) {
      if (!this.closed) this.fail(watcher, error as Error);
    } finally {
      await iterator.close().catch(() => undefined);
      await snapshot.close().catch(() => undefined);
    }
  }

  private notifyProgress(): void {
    for (const watcher of this.watchers) {
      if (watcher.stopped || watcher.held || !watcher.callbacks.onProgress) continue;
      try {
        watcher.callbacks.onProgress(this.revision);
      } catch (error) {
        this.fail(watcher, error as Error);
      }
    }
  }
}
/**
 * An empty in-memory database for openInMemory. Keys are stored as bytes (memory-level's default), so
 * they sort in LevelDB's byte order, exactly as on disk.
 */
export function memoryDatabase(): StringLevel {
  return new MemoryLevel<string, string>({ keyEncoding: 'utf8', valueEncoding: 'utf8' });
}

/** Revision marks for a store with nothing outside its database (memory). */
const NO_MARKS: Pick<RevisionMarks, 'allocate' | 'acknowledge' | 'close'> = {
  allocate: () => undefined,
  acknowledge: () => undefined,
  close: () => undefined,
};

type StorageSettings = Required<Omit<LevelDbStorageOptions, 'transformers'>>;

function storageSettings(options: LevelDbStorageOptions): StorageSettings {
  return {
    historyRevisions: options.historyRevisions ?? 10_000,
    historyMs: options.historyMs ?? 5 * 60_000,
    compactionIntervalMs: options.compactionIntervalMs ?? 5_000,
    progressIntervalMs: options.progressIntervalMs ?? 1_000,
    maxBatchWrites: options.maxBatchWrites ?? 1_000,
    sync: options.sync ?? true,
  };
}

/** A data dir written by another storage format is refused; a new one is marked with ours. */
async function checkFormat(db: StringLevel): Promise<void> {
  const format = await db.get(META_FORMAT);
  if (format !== undefined && format !== STORAGE_FORMAT) throw new IncompatibleDataDirError(format);
  if (format === undefined) await db.put(META_FORMAT, STORAGE_FORMAT);
}
