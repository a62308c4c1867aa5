// Lists a prefix from a LevelDB snapshot, either as of the snapshot or as of an older revision.
// An older state is rebuilt by undoing the change-log records newer than the requested revision:
// for each key touched since then, its state at the revision is the `prevObject` of the first
// later record (or "absent" if that record created it). Those keys are merged, in key order, with
// the untouched keys read from the snapshot, so paging stays a single ordered pass.

import type { ClassicLevel, Snapshot } from 'classic-level';
import type { KubeObject } from '../api/object.ts';
import { RevisionCompactedError, type ListOptions, type ListResult } from './interface.ts';
import {
  dataKey, dataRange, decodeLogHeader, decodeStoredValue, logKey, logRecordPrevObject, storageKeyOf,
} from './leveldb-layout.ts';

export type StringLevel = ClassicLevel<string, string>;

const CHUNK = 256;

export interface SnapshotView {
  db: StringLevel;
  snapshot: Snapshot;
  /** Latest revision contained in the snapshot. */
  revision: number;
  /** Log records up to and including this revision are gone. */
  compactedRevision: number;
}

/** For keys under `prefix` (after `startAfterKey`) written after `target`: their state at `target` (null: absent). */
async function statesAtRevision(view: SnapshotView, prefix: string, startAfterKey: string | undefined, target: number): Promise<Map<string, KubeObject | null>> {
  const states = new Map<string, KubeObject | null>();
  if (target >= view.revision) return states;
  const iterator = view.db.iterator({ gt: logKey(target), lte: logKey(view.revision), snapshot: view.snapshot });
  try {
    for (;;) {
      const entries = await iterator.nextv(CHUNK);
      if (entries.length === 0) break;
      for (const [, record] of entries) {
        const header = decodeLogHeader(record);
        if (!header.key.startsWith(prefix) || states.has(header.key)) continue;
        if (startAfterKey !== undefined && header.key <= startAfterKey) continue;
        states.set(header.key, header.type === 'ADDED' ? null : (logRecordPrevObject(record, header) ?? null));
      }
    }
  } finally {
    await iterator.close();
  }
  return states;
}

export async function listFromSnapshot(view: SnapshotView, prefix: string, options: ListOptions = {}): Promise<ListResult> {
  const target = options.revision === undefined ? view.revision : Math.min(options.revision, view.revision);
  if (target < view.compactedRevision) throw new RevisionCompactedError(target, view.compactedRevision);
  const { startAfterKey, predicate } = options;
  const limit = options.limit && options.limit > 0 ? options.limit : Infinity;

  const changed = await statesAtRevision(view, prefix, startAfterKey, target);
  const changedKeys = [...changed.keys()].sort();
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
  let changedAt = 0;
  try {
    for (;;) {
      if (chunkAt >= chunk.length && !exhausted) {
        chunk = await iterator.nextv(CHUNK);
        chunkAt = 0;
        exhausted = chunk.length === 0;
      }
      const stored = chunkAt < chunk.length ? chunk[chunkAt] : undefined;
      const storedKey = stored ? storageKeyOf(stored[0]) : undefined;
      const changedKey = changedAt < changedKeys.length ? changedKeys[changedAt] : undefined;
      if (storedKey === undefined && changedKey === undefined) break;

      let key: string;
      let object: KubeObject | null;
      if (changedKey !== undefined && (storedKey === undefined || changedKey <= storedKey)) {
        key = changedKey;
        object = changed.get(changedKey) ?? null;
        changedAt++;
        if (storedKey === changedKey) chunkAt++;
      } else {
        key = storedKey as string;
        object = null;
        chunkAt++;
        // Parsed lazily below: only once we know the key counts.
        if (items.length >= limit) { more = true; break; }
        object = JSON.parse(decodeStoredValue((stored as [string, string])[1]).json) as KubeObject;
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
