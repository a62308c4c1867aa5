// A rate-limited work queue of keys, as client-go's workqueue: a key queued while it waits is
// queued once; a key being processed is not processed twice at once (queued again, it runs after);
// a failed key is retried with per-key exponential backoff (5 ms doubling to 1000 s upstream; capped
// lower here) and its failure count is forgotten after a success.

export interface WorkQueueOptions {
  /** Keys processed at once (a controller's --concurrent-*-syncs). */
  workers?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Told about every failure (the key is retried). */
  onError?: (key: string, error: unknown) => void;
}

export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly queued = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly dirtyWhileProcessing = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private active = 0;
  private stopped = false;
  private idleWaiters: (() => void)[] = [];
  private readonly workers: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;

  constructor(private readonly process: (key: string) => Promise<void>, private readonly options: WorkQueueOptions = {}) {
    this.workers = Math.max(1, options.workers ?? 1);
    this.baseDelayMs = options.baseDelayMs ?? 5;
    this.maxDelayMs = options.maxDelayMs ?? 30_000;
  }

  add(key: string): void {
    if (this.stopped) return;
    if (this.processing.has(key)) {
      this.dirtyWhileProcessing.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.queue.push(key);
    this.pump();
  }

  /** Resolves when nothing is queued, running or waiting for a retry. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.queue.length = 0;
    this.queued.clear();
    this.notifyIdle();
  }

  private isIdle(): boolean {
    return this.queue.length === 0 && this.active === 0 && this.timers.size === 0;
  }

  private notifyIdle(): void {
    if (!this.isIdle() && !this.stopped) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private pump(): void {
    while (!this.stopped && this.active < this.workers && this.queue.length > 0) {
      const key = this.queue.shift()!;
      this.queued.delete(key);
      this.processing.add(key);
      this.active++;
      void this.run(key);
    }
  }

  private async run(key: string): Promise<void> {
    try {
      await this.process(key);
      this.failures.delete(key);
    } catch (error) {
      const count = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, count);
      this.options.onError?.(key, error);
      if (!this.stopped) {
        const delay = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (count - 1));
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          this.add(key);
          this.notifyIdle();
        }, delay);
        this.timers.add(timer);
      }
    } finally {
      this.processing.delete(key);
      this.active--;
      if (this.dirtyWhileProcessing.delete(key)) this.add(key);
      this.pump();
      this.notifyIdle();
    }
  }
}
