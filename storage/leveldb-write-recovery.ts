// Recovery of the LevelDB store from failed writes (a full disk). LevelDB keeps the first
// background or log-write error ("IO error: ... No space left on device") and fails every later
// write with it until the database is reopened: measured in the original report, writes kept
// answering 500 for minutes after space was freed. Here the store notes such an error, reports
// itself unhealthy (the `etcd` health check), and asks its committer to reopen the database every
// second, also without writes, so /readyz recovers by itself. The reopen runs as the committer, so
// no write is in flight during it, and is adopted only once the new handle took a synced write.
// Attempts are spaced on the monotonic clock: a wall-clock jump must not stall them.

import { performance } from 'node:perf_hooks';
import type { StorageHealth } from './interface.ts';
import type { StringLevel } from './leveldb-list.ts';
import { createLevel } from './leveldb-open.ts';
import { StorageDamagedError } from './leveldb-integrity.ts';

/** Least time between two attempts to reopen the database. */
export const RECOVERY_INTERVAL_MS = 1_000;

/** Errors after which LevelDB refuses every later write until reopened (I/O errors). */
export function isWriteFailure(error: unknown): boolean {
  const text = `${(error as Error)?.message ?? ''} ${((error as { cause?: Error })?.cause)?.message ?? ''}`;
  return /IO error|No space left|ENOSPC|EIO|Read-only file system/i.test(text);
}

export class WriteFailureRecovery {
  private failure: Error | undefined;
  private lastAttempt = Number.NEGATIVE_INFINITY;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  /** `retry`: starts the store's committer, which calls reopen() before its next batch. */
  constructor(private readonly location: string, private readonly retry: () => void) {}

  /** The error writes fail with now, if any. */
  get error(): Error | undefined {
    return this.failure;
  }

  health(): StorageHealth {
    return this.failure ? { healthy: false, reason: `writes to the store fail: ${this.failure.message}` } : { healthy: true };
  }

  /** Called with every failed batch's error. */
  noteWriteError(error: unknown): void {
    if (!isWriteFailure(error) || this.stopped) return;
    this.failure = error as Error;
    if (this.timer) return;
    this.timer = setInterval(() => {
      if (!this.failure || this.stopped) {
        clearInterval(this.timer);
        this.timer = undefined;
        return;
      }
      this.retry();
    }, RECOVERY_INTERVAL_MS);
    this.timer.unref();
  }

  /**
   * Closes `current` and opens the database again; `adopt` brings the store in line with the new
   * handle and proves it takes a synced write (throwing if not). Returns the new handle, or
   * undefined when writes still fail (or it is too early to try again).
   */
  async reopen(current: StringLevel, adopt: (db: StringLevel) => Promise<void>): Promise<StringLevel | undefined> {
    if (!this.failure || this.stopped || performance.now() - this.lastAttempt < RECOVERY_INTERVAL_MS) return undefined;
    this.lastAttempt = performance.now();
    try {
      await current.close().catch(() => undefined);
      const db = createLevel(this.location, false);
      await db.open();
      try {
        await adopt(db);
      } catch (error) {
        await db.close().catch(() => undefined);
        throw error;
      }
      this.failure = undefined;
      process.emitWarning(`storage: writes recovered after reopening ${this.location}`);
      return db;
    } catch (error) {
      // Damage found on the way is what writes fail with from now on; otherwise the first error stays.
      if (error instanceof StorageDamagedError) this.failure = error;
      return undefined;
    }
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
