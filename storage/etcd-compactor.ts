// Compaction of etcd's history, so the MVCC store does not grow without bound. Like
// kube-apiserver's compactor (--etcd-compaction-interval, default 5 m), every interval it compacts
// up to the revision it saw one interval earlier, so a watcher or a paged list always has at least
// one interval of history. Unlike kube-apiserver it does not elect one compacting replica through
// a `compact_rev_key` write: that write would advance the revision outside the watched prefix and
// leave every watch cache one revision behind etcd until the next real write. Each replica simply
// compacts on its own; a compaction at or below the already-compacted revision is refused by etcd
// and ignored here.
//
// `historyRevisions` instead keeps a fixed number of latest revisions, compacting inline after
// writes (as LevelDB's count-based history does); the conformance suite uses it.

import { isCompactedError, isFutureRevisionError, type EtcdConnection } from './etcd-client.ts';

export interface EtcdCompactionOptions {
  /** 0 disables periodic compaction. */
  intervalMs: number;
  /** When set, keep only about this many latest revisions (compacting after writes). */
  historyRevisions?: number;
}

export class EtcdCompactor {
  /** Revisions below this are known to be compacted (learnt from our compactions and etcd's errors). */
  private compacted = 0;
  private timer: NodeJS.Timeout | undefined;
  private previousRevision = 0;
  private running: Promise<void> | undefined;

  constructor(
    private readonly connection: EtcdConnection,
    private readonly currentRevision: () => Promise<number>,
    private readonly options: EtcdCompactionOptions,
  ) {}

  get compactedRevision(): number {
    return this.compacted;
  }

  start(): void {
    if (this.options.intervalMs <= 0) return;
    this.timer = setInterval(() => {
      if (!this.running) this.running = this.tick().finally(() => { this.running = undefined; });
    }, this.options.intervalMs);
    this.timer.unref();
  }

  /** etcd said revisions below `revision` are gone. */
  learn(revision: number): void {
    if (revision > this.compacted) this.compacted = revision;
  }

  /** Called after each write: with a revision-count history, compacts once twice the history has accumulated. */
  async afterWrite(revision: number): Promise<void> {
    const keep = this.options.historyRevisions;
    if (!keep || revision - this.compacted < 2 * keep) return;
    // The write itself succeeded; a failed compaction is retried after a later write.
    await this.compact(revision - keep).catch(() => undefined);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  private async tick(): Promise<void> {
    try {
      const current = await this.currentRevision();
      if (this.previousRevision > 0) await this.compact(this.previousRevision);
      this.previousRevision = current;
    } catch {
      // etcd unreachable: try again next interval.
    }
  }

  private async compact(revision: number): Promise<void> {
    if (revision <= this.compacted) return;
    try {
      await this.connection.call(() => this.connection.client.kv.compact({ revision }));
      this.learn(revision);
    } catch (error) {
      if (isCompactedError(error)) this.learn(revision);
      else if (!isFutureRevisionError(error)) throw error;
    }
  }
}
