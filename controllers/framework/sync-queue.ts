// A rate-limited queue drained by its own workers, for controllers written as one function of a key
// (the endpoint, endpointslice, resourcequota, serviceaccount, csrsigning, persistentvolume-binder and
// load balancer controllers) rather than as a QueueController subclass. The queue is the controller
// manager's one RateLimitingQueue (work-queue.ts), so both kinds of controller share client-go's
// semantics: a key queued several times is synced once, never by two workers at once, and a failing key
// is retried with the per-key exponential backoff and overall token bucket of the default rate limiter.

import { RateLimitingQueue } from './work-queue.ts';

export interface SyncQueueOptions {
  /** Keys synced at once (a controller's --concurrent-*-syncs). */
  workers?: number;
  /** Told about every failure (the key is retried). */
  onError?: (key: string, error: unknown) => void;
}

export class SyncQueue {
  private readonly queue = new RateLimitingQueue();
  private stopped = false;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly sync: (key: string) => Promise<void>, private readonly options: SyncQueueOptions = {}) {
    for (let i = 0; i < Math.max(1, options.workers ?? 1); i++) void this.worker();
  }

  add(key: string): void {
    this.queue.add(key);
  }

  /** Resolves when nothing is queued, being synced or waiting for a retry (or once stopped). */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  stop(): void {
    this.stopped = true;
    this.queue.shutDown();
    this.notifyIdle();
  }

  private isIdle(): boolean {
    return this.stopped || (this.queue.length === 0 && this.queue.inFlight === 0 && this.queue.waitingRetries === 0);
  }

  private notifyIdle(): void {
    if (!this.isIdle()) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private async worker(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      try {
        await this.sync(key);
        this.queue.forget(key);
      } catch (error) {
        this.options.onError?.(key, error);
        this.queue.addRateLimited(key);
      } finally {
        this.queue.done(key);
        this.notifyIdle();
      }
    }
  }
}
