// Keeps LevelDbStorage's change log bounded. A record may go once it is both older than the last
// `historyRevisions` revisions and older than `historyMs`. Compaction is decided synchronously
// when a batch commits (so "is revision R still held?" has one answer at any instant) and the
// records are then deleted in the background; list and watch replay read through LevelDB
// snapshots, which keep deleted records visible to them.

import { META_COMPACTED, logKey } from './leveldb-layout.ts';
import type { StringLevel } from './leveldb-list.ts';

export interface CompactionSettings {
  historyRevisions: number;
  historyMs: number;
  compactionIntervalMs: number;
}

interface Checkpoint {
  revision: number;
  at: number;
}

export class ChangeLogCompactor {
  private latestRevision: number;
  private physicallyCompacted: number;
  /** (revision, time) samples: everything up to `revision` was written before `at`. */
  private checkpoints: Checkpoint[];
  private deleting: Promise<void> = Promise.resolve();
  private readonly timer: NodeJS.Timeout;
  private readonly step: number;

  constructor(
    private db: StringLevel,
    latestRevision: number,
    /** Records up to and including this revision are no longer held. */
    public compactedRevision: number,
    private readonly settings: CompactionSettings,
  ) {
    this.latestRevision = latestRevision;
    this.physicallyCompacted = compactedRevision;
    // After a restart the age of old records is unknown: treat them as written now.
    this.checkpoints = [{ revision: latestRevision, at: Date.now() }];
    // Compacting in steps keeps the delete batches reasonably sized under steady writes.
    this.step = Math.max(1, Math.floor(settings.historyRevisions / 20));
    this.timer = setInterval(() => this.tick(), settings.compactionIntervalMs);
    this.timer.unref();
  }

  /** Removes records a previous run marked compacted but did not get to delete. */
  async dropCompactedRecords(): Promise<void> {
    if (this.compactedRevision > 0) await this.db.clear({ lte: logKey(this.compactedRevision), gte: logKey(0) });
  }

  /** The store reopened its database (after a write error): later deletes go to the new handle. */
  useDatabase(db: StringLevel): void {
    this.db = db;
  }

  afterCommit(revision: number): void {
    this.latestRevision = revision;
    this.maybeCompact();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.deleting;
  }

  private tick(): void {
    this.checkpoints.push({ revision: this.latestRevision, at: Date.now() });
    this.maybeCompact();
  }

  private target(): number {
    const byCount = this.latestRevision - this.settings.historyRevisions;
    if (this.settings.historyMs <= 0) return byCount;
    const cutoff = Date.now() - this.settings.historyMs;
    let byTime = 0;
    let oldestUseful = 0;
    for (let i = 0; i < this.checkpoints.length && this.checkpoints[i].at <= cutoff; i++) {
      byTime = this.checkpoints[i].revision;
      oldestUseful = i;
    }
    if (oldestUseful > 0) this.checkpoints = this.checkpoints.slice(oldestUseful);
    return Math.min(byCount, byTime);
  }

  private maybeCompact(): void {
    const target = this.target();
    if (target - this.compactedRevision < this.step) return;
    this.compactedRevision = target;
    this.deleting = this.deleting.then(() => this.deleteUpTo(target));
  }

  private async deleteUpTo(target: number): Promise<void> {
    if (target <= this.physicallyCompacted) return;
    try {
      await this.db.put(META_COMPACTED, String(target));
      await this.db.clear({ gt: logKey(this.physicallyCompacted), lte: logKey(target) });
      this.physicallyCompacted = target;
    } catch (error) {
      // The mark is advisory for a restart; a failed delete is retried with the next compaction.
      process.emitWarning(`change-log compaction failed: ${(error as Error).message}`);
    }
  }
}
