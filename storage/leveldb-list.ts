// Lists a prefix from a LevelDB snapshot, either as of the snapshot or as of an older revision.
// An older state is rebuilt by undoing the change-log records newer than the requested revision:
// for each key touched since then, its state at the revision is the `prevObject` of the first
// later record (or "absent" if that record created it); which keys those are, and where their
// first later record is, comes from an index shared by the pages of one list
// (leveldb-undo-index.ts). Those keys are merged, in key order, with the untouched keys read from
// the snapshot, so paging stays a single ordered pass, and only the records of keys a page
// reaches are read and parsed.

import type { AbstractLevel, AbstractSnapshot as Snapshot } from 'abstract-level';
import type { UndoIndexes } from './leveldb-undo-index.ts';
import type { JsonDecoder } from './leveldb-value-codec.ts';
import type { KubeObject } from '../api/object.ts';
import { RevisionCompactedError, type ListOptions, type ListResult } from './interface.ts';
import {
  dataKey, dataRange, decodeLogHeader, decodeStoredValue, logKey, logRecordPrevObject, storageKeyOf,
} from './leveldb-layout.ts';

/** classic-level on disk, memory-level for `--storage memory`: the same abstract-level interface. */
export type StringLevel = AbstractLevel<string | Buffer | Uint8Array, string, string>;

const CHUNK = 256;

export interface SnapshotView {
  db: StringLevel;
  snapshot: Snapshot;
  /** Latest revision contained in the snapshot. */
  revision: number;
  /** Log records up to and including this revision are gone. */
  compactedRevision: number;
  /** Which keys changed after a past revision (shared by the pages of a list). */
  undo: UndoIndexes;
  /** The JSON of a stored text (encryption at rest); absent: stored as is. */
  decode?: JsonDecoder;
}

/**
 * The states at the target revision of the changed keys a page reaches: the previous object of each
 * one's first later record. Records are fetched a chunk of keys ahead with one getMany: one read
 * each, in turn, cost a thread-pool round trip per key (a page of 500 changed pods took ~0.3 s on
 * a busy server). At most a chunk is fetched beyond where the page ends.
 */
class ChangedStates {
  private readonly records = new Map<string, string>();

  constructor(private readonly view: SnapshotView, private readonly keys: readonly string[], private readonly firstRecord: ReadonlyMap<string, number>) {}

  /** The state of keys[at], fetching it and the following changed keys' records when not yet read. */
  async at(at: number): Promise<KubeObject | null> {
    const key = this.keys[at];
    let record = this.records.get(key);
    if (record === undefined) {
      await this.fetchFrom(at);
      record = this.records.get(key) as string;
    }
    this.records.delete(key);
    const header = decodeLogHeader(record);
    return header.type === 'ADDED' ? null : (logRecordPrevObject(record, header, this.view.decode) ?? null);
  }

  private async fetchFrom(at: number): Promise<void> {
    const wanted: string[] = [];
    for (let i = at; i < this.keys.length && wanted.length < CHUNK; i++) {
      // Keys first changed after this snapshot are read from the snapshot itself (see listFromSnapshot).
      if ((this.firstRecord.get(this.keys[i]) as number) <= this.view.revision) wanted.push(this.keys[i]);
    }
    const records = await this.view.db.getMany(wanted.map((key) => logKey(this.firstRecord.get(key) as number)), { snapshot: this.view.snapshot });
    wanted.forEach((key, i) => {
      const record = records[i];
      if (record === undefined) {
        throw new Error(`change-log record ${this.firstRecord.get(key)} is missing below the snapshot's revision ${this.view.revision}`);
      }
      this.records.set(key, record);
    });
  }
}

/** Index of the first key in sorted `keys` that is greater than `after` (all of them when undefined). */
function firstAfter(keys: readonly string[], after: string | undefined): number {
  if (after === undefined) return 0;
  let low = 0;
  let high = keys.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (keys[middle] <= after) low = middle + 1;
    else high = middle;
  }
  return low;
}

export async function listFromSnapshot(view: SnapshotView, prefix: string, options: ListOptions = {}): Promise<ListResult> {
  const target = options.revision === undefined ? view.revision : Math.min(options.revision, view.revision);
  if (target < view.compactedRevision) throw new RevisionCompactedError(target, view.compactedRevision);
  const { startAfterKey, predicate } = options;
  const limit = options.limit && options.limit > 0 ? options.limit : Infinity;

  // Keys changed after the target: their state there comes from the change log, the others' from the snapshot.
  const { sortedKeys: changedKeys, firstRecord } = target < view.revision
    ? await view.undo.changedSince(view.db, view.snapshot, prefix, target, view.revision)
    : { sortedKeys: [] as readonly string[], firstRecord: new Map<string, number>() };
  const range = dataRange(prefix);
  const lowerBound = startAfterKey !== undefined && dataKey(startAfterKey) >= range.gte
    ? { gt: dataKey(startAfterKey) } : { gte: range.gte };
  const iterator = view.db.iterator({ ...lowerBound, lt: range.lt, snapshot: view.snapshot });

  const items: KubeObject[] = [];
  const keys: string[] = [];
  let lastKey: string | undefined;
  let more = false;
  let chunk: [string, string][] = [];
  let chunkAt = 0;
  let exhausted = false;
  let changedAt = firstAfter(changedKeys, startAfterKey);
  const changedStates = new ChangedStates(view, changedKeys, firstRecord);
  try {
    for (;;) {
      if (chunkAt >= chunk.length && !exhausted) {
        chunk = await iterator.nextv(CHUNK);
        chunkAt = 0;
        exhausted = chunk.length === 0;
      }
      const stored = chunkAt < chunk.length ? chunk[chunkAt] : undefined;
      const storedKey = stored ? storageKeyOf(stored[0]) : undefined;
      let changedKey = changedAt < changedKeys.length ? changedKeys[changedAt] : undefined;
      // Changed only after this snapshot (another page extended the shared index further): as of
      // this snapshot the key is unchanged, so the snapshot's own value (if any) is its state.
      while (changedKey !== undefined && (firstRecord.get(changedKey) as number) > view.revision) {
        changedKey = ++changedAt < changedKeys.length ? changedKeys[changedAt] : undefined;
      }
      if (storedKey === undefined && changedKey === undefined) break;

      let key: string;
      let object: KubeObject | null;
      if (changedKey !== undefined && (storedKey === undefined || changedKey <= storedKey)) {
        key = changedKey;
        object = await changedStates.at(changedAt);
        changedAt++;
        if (storedKey === changedKey) chunkAt++;
      } else {
        key = storedKey as string;
        object = null;
        chunkAt++;
        // Parsed lazily below: only once we know the key counts.
        if (items.length >= limit) { more = true; break; }
        const { json } = decodeStoredValue((stored as [string, string])[1]);
        object = JSON.parse(view.decode ? view.decode(key, json) : json) as KubeObject;
      }
      if (object === null) continue;
      if (items.length >= limit) { more = true; break; }
      if (predicate && !predicate(object)) continue;
      items.push(object);
      keys.push(key);
      lastKey = key;
    }
  } finally {
    await iterator.close();
  }
  const result: ListResult = { items, keys, revision: target };
  if (more && lastKey !== undefined) result.lastKey = lastKey;
  return result;
}
