// Which keys changed after a past revision, and where their state at that revision is kept, for
// the continue pages of a list at that revision. A key's state at revision T is the previous
// object of its first change-log record after T (absent if that record created it), so all a page
// needs is, per changed key, the revision of that first record; the record itself is read only
// for the keys the page reaches.
//
// The pages of one list share their revision, and each is read from a newer snapshot. Walking
// the log from T to the snapshot for every page cost O(writes since T) per page: measured at
// 150,000 pods with ~700 writes/s, `kubectl get pods -A` (300 pages) slowed to 1.6 s a page and
// failed with 410 Expired after 6 minutes. The index is therefore kept per (prefix, T) and only
// extended by the records written since the previous page, like etcd's MVCC index serves a
// read at an old revision without replaying history.

import { decodeLogHeader, logKey, revisionOfLogKey } from './leveldb-layout.ts';
import type { AbstractSnapshot as Snapshot } from 'abstract-level';
import type { StringLevel } from './leveldb-list.ts';
import type { RevisionJournal } from './leveldb-revision-journal.ts';

const CHUNK = 256;
/** Lists paged at distinct old revisions at once; the least recently used index goes first. */
const MAX_INDEXES = 4;

export interface ChangedKeys {
  /** Keys under the prefix changed after the target revision, sorted. */
  readonly sortedKeys: readonly string[];
  /** Per changed key, the revision of its first change-log record after the target revision. */
  readonly firstRecord: ReadonlyMap<string, number>;
}

/** One list revision's index: at most one number per key under its prefix (150,000 pods: ~15 MB). */
interface UndoIndex extends ChangedKeys {
  sortedKeys: string[];
  firstRecord: Map<string, number>;
  /** Log records up to and including this revision are in the index. */
  upTo: number;
  /** Serialises extensions: two pages of one list may be read at once. */
  extending: Promise<void>;
}

export class UndoIndexes {
  private readonly indexes = new Map<string, UndoIndex>();

  /** `journal`: the keys of recent revisions, so extending an index need not read their log records. */
  constructor(private readonly journal?: RevisionJournal) {}

  /**
   * The keys under `prefix` changed after `target`, as of at least `revision` (read through
   * `snapshot`, which holds every record up to `revision`). Another reader may have extended the
   * index past `revision` with a newer snapshot: a key whose first record is newer than the
   * caller's snapshot did not change as far as that snapshot is concerned, which the caller checks.
   */
  async changedSince(db: StringLevel, snapshot: Snapshot, prefix: string, target: number, revision: number): Promise<ChangedKeys> {
    const id = `${target} ${prefix}`;
    let index = this.indexes.get(id);
    if (!index) {
      index = { sortedKeys: [], firstRecord: new Map(), upTo: target, extending: Promise.resolve() };
      this.evictBeyondLimit();
    }
    // Most recently used last.
    this.indexes.delete(id);
    this.indexes.set(id, index);
    const entry = index;
    const extension = entry.extending.then(() => extend(db, snapshot, prefix, entry, revision, this.journal));
    entry.extending = extension.catch(() => undefined);
    await extension;
    return { sortedKeys: entry.sortedKeys, firstRecord: entry.firstRecord };
  }

  /** Drops the indexes of revisions the log no longer holds. */
  forgetBefore(compactedRevision: number): void {
    for (const id of [...this.indexes.keys()]) {
      if (Number(id.slice(0, id.indexOf(' '))) < compactedRevision) this.indexes.delete(id);
    }
  }

  private evictBeyondLimit(): void {
    while (this.indexes.size >= MAX_INDEXES) {
      const oldest = this.indexes.keys().next().value as string;
      this.indexes.delete(oldest);
    }
  }
}

/** Adds the records in (index.upTo, revision] to the index; all or nothing, so a failed read leaves it consistent. */
async function extend(db: StringLevel, snapshot: Snapshot, prefix: string, index: UndoIndex, revision: number, journal?: RevisionJournal): Promise<void> {
  if (revision <= index.upTo) return;
  const found = new Map<string, number>();
  const note = (key: string, recordRevision: number): void => {
    if (key.startsWith(prefix) && !index.firstRecord.has(key) && !found.has(key)) found.set(key, recordRevision);
  };
  // The journal's part first, then the log for whatever it does not hold: revisions older than its
  // start (written before a restart), and any the snapshot holds that it has not been told of yet.
  let from = index.upTo + 1;
  if (journal && from >= journal.firstRevision && from <= journal.lastRevision) {
    const to = Math.min(revision, journal.lastRevision);
    for (let at = from; at <= to; at++) note(journal.keyAt(at), at);
    from = to + 1;
  }
  if (from <= revision) {
    const iterator = db.iterator({ gte: logKey(from), lte: logKey(revision), snapshot });
    try {
      for (;;) {
        const entries = await iterator.nextv(CHUNK);
        if (entries.length === 0) break;
        for (const [recordKey, record] of entries) note(decodeLogHeader(record).key, revisionOfLogKey(recordKey));
      }
    } finally {
      await iterator.close();
    }
  }
  for (const [key, first] of found) index.firstRecord.set(key, first);
  index.upTo = revision;
  if (found.size > 0) index.sortedKeys = mergeSorted(index.sortedKeys, [...found.keys()].sort());
}

function mergeSorted(a: readonly string[], b: readonly string[]): string[] {
  const out = new Array<string>(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length && j < b.length) out[k++] = a[i] <= b[j] ? a[i++] : b[j++];
  while (i < a.length) out[k++] = a[i++];
  while (j < b.length) out[k++] = b[j++];
  return out;
}
