// What every controller of the controller manager shares: the API client, the shared informers, the
// event recorder, a clock, and a worker loop over a rate-limited queue. A sync that throws is
// retried with the queue's per-key backoff (never a crash, whatever the object holds); a sync that
// succeeds forgets the key's failures.

import { ApiStatusError, type JsonApiClient } from '../../clients/json-api-client.ts';
import type { ControllerLogger, ObjectEventRecorder } from './event-recorder.ts';
import type { InformerFactory } from './informer-factory.ts';
import { RateLimitingQueue } from './work-queue.ts';

export interface ControllerContext {
  client: JsonApiClient;
  informers: InformerFactory;
  recorder: ObjectEventRecorder;
  logger: ControllerLogger;
  /** Milliseconds since the epoch; tests may substitute a controlled clock (the cronjob controller). */
  now: () => number;
}

export interface RunnableController {
  readonly name: string;
  /** Work before the shared informers start (the garbage collector discovers what to watch). */
  prepare?(): Promise<void>;
  /** Starts the workers (informers are already synced). */
  run(workers: number): void;
  stop(): Promise<void>;
}

/** A controller whose work is `sync(key)` for queued namespace/name keys. */
export abstract class QueueController implements RunnableController {
  readonly queue = new RateLimitingQueue();
  private readonly workers: Promise<void>[] = [];

  constructor(readonly name: string, protected readonly ctx: ControllerContext) {}

  protected abstract sync(key: string): Promise<void>;

  enqueue(key: string): void {
    this.queue.add(key);
  }

  enqueueAfter(key: string, delayMs: number): void {
    this.queue.addAfter(key, delayMs);
  }

  run(workers: number): void {
    for (let i = 0; i < workers; i++) this.workers.push(this.worker());
  }

  private async worker(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      try {
        await this.sync(key);
        this.queue.forget(key);
      } catch (err) {
        // A write against a stale cache: retry quietly once the informer has caught up, as upstream does.
        const conflict = err instanceof ApiStatusError && err.code === 409;
        if (!conflict) this.ctx.logger.warn(`${this.name}: syncing ${key} failed (retry ${this.queue.numRequeues(key) + 1}): ${errorText(err)}`);
        this.queue.addRateLimited(key);
      } finally {
        this.queue.done(key);
      }
    }
  }

  async stop(): Promise<void> {
    this.queue.shutDown();
    await Promise.all(this.workers);
  }
}

export function errorText(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
