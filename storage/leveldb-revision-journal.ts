// Which key each recent revision wrote, in memory: every revision is exactly one write, so this is
// an array of keys from a start revision on. It lets the undo index of a list at an old revision
// (leveldb-undo-index.ts) learn which keys changed since without reading the change-log records,
// which carry the object and its previous state: at 100,000 pods the first continue page past the
// watch cache's window had to read every record since the list's revision (tens of thousands, object
// JSON and all) just for their keys.
// It covers the revisions committed by this process and still in the change log; older ones
// (before a restart) are read from the log as before.

export class RevisionJournal {
  /** keys[i] was written at revision start + i - offset. */
  private keys: string[] = [];
  private offset = 0;
  private start: number;

  /** `next`: the first revision this process will commit. */
  constructor(next: number) {
    this.start = next;
  }

  /** Records the write of `revision`; revisions come in order, one each. */
  append(revision: number, key: string): void {
    if (revision !== this.start + this.keys.length - this.offset) {
      // A gap would shift every later entry: start over from this revision.
      this.keys = [];
      this.offset = 0;
      this.start = revision;
    }
    this.keys.push(key);
  }

  /** The first and last revision held (last < first when empty). */
  get firstRevision(): number {
    return this.start;
  }

  get lastRevision(): number {
    return this.start + this.keys.length - this.offset - 1;
  }

  /** The key written at `revision`, which must be within [firstRevision, lastRevision]. */
  keyAt(revision: number): string {
    return this.keys[revision - this.start + this.offset];
  }

  /** Forgets revisions up to and including `revision` (the change log no longer holds them). */
  forgetThrough(revision: number): void {
    if (revision < this.start) return;
    const drop = Math.min(revision - this.start + 1, this.keys.length - this.offset);
    this.offset += drop;
    this.start += drop;
    // Copy the live part down once the dead prefix is the larger half, so trimming stays amortised O(1).
    if (this.offset > 1024 && this.offset * 2 > this.keys.length) {
      this.keys = this.keys.slice(this.offset);
      this.offset = 0;
    }
  }
}
