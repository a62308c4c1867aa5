// A rate-limited work queue with client-go's workqueue semantics: a key queued several times before
// it is processed is processed once; a key being processed is never handed to a second worker, and
// if it is queued again meanwhile it is processed again afterwards. addRateLimited re-queues a
// failing key after a per-item exponential backoff (5 ms doubling up to 1000 s, as
// DefaultControllerRateLimiter's ItemExponentialFailureRateLimiter) combined with an overall token
// bucket (10 qps, burst 100); forget() resets the key's backoff after a success.

export interface RateLimiterOptions {
  baseDelayMs: number;
  maxDelayMs: number;
  qps: number;
  burst: number;
}

export const DEFAULT_RATE_LIMITER: RateLimiterOptions = { baseDelayMs: 5, maxDelayMs: 1_000_000, qps: 10, burst: 100 };

/** ItemExponentialFailureRateLimiter + BucketRateLimiter, taking the larger delay (MaxOfRateLimiter). */
export class ControllerRateLimiter {
  private readonly failures = new Map<string, number>();
  private tokens: number;
  private lastRefill = performance.now();

  constructor(private readonly options: RateLimiterOptions = DEFAULT_RATE_LIMITER) {
    this.tokens = options.burst;
  }

  /** The delay before `key` may be retried; counts one more failure. */
  when(key: string): number {
    const failures = this.failures.get(key) ?? 0;
    this.failures.set(key, failures + 1);
    const exponential = Math.min(this.options.maxDelayMs, this.options.baseDelayMs * 2 ** failures);
    return Math.max(exponential, this.bucketDelay());
  }

  private bucketDelay(): number {
    const now = performance.now();
    this.tokens = Math.min(this.options.burst, this.tokens + ((now - this.lastRefill) / 1000) * this.options.qps);
    this.lastRefill = now;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : (-this.tokens / this.options.qps) * 1000;
  }

  numRequeues(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  forget(key: string): void {
    this.failures.delete(key);
  }
}

export class RateLimitingQueue {
  private readonly queue: string[] = [];
  private head = 0;
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly delayed = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private readonly waiters: ((key: string | undefined) => void)[] = [];
  private shuttingDown = false;

  constructor(private readonly limiter = new ControllerRateLimiter()) {}

  get length(): number {
    return this.queue.length - this.head;
  }

  /** Keys handed out by get() and not yet done(). */
  get inFlight(): number {
    return this.processing.size;
  }

  /** Keys waiting for their addAfter/addRateLimited delay. */
  get waitingRetries(): number {
    return this.delayed.size;
  }

  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.dirty.add(key);
    if (this.processing.has(key)) return;
    const waiter = this.waiters.shift();
    if (waiter) {
      this.dirty.delete(key);
      this.processing.add(key);
      waiter(key);
      return;
    }
    this.queue.push(key);
  }

  /** Adds `key` after `delayMs`; an earlier pending add for the same key wins. */
  addAfter(key: string, delayMs: number): void {
    if (this.shuttingDown) return;
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    const at = performance.now() + delayMs;
    const pending = this.delayed.get(key);
    if (pending && pending.at <= at) return;
    if (pending) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, delayMs);
    timer.unref?.();
    this.delayed.set(key, { at, timer });
  }

  addRateLimited(key: string): void {
    this.addAfter(key, this.limiter.when(key));
  }

  forget(key: string): void {
    this.limiter.forget(key);
  }

  numRequeues(key: string): number {
    return this.limiter.numRequeues(key);
  }

  /** The next key to process (undefined once shut down); call done(key) when finished. */
  get(): Promise<string | undefined> {
    if (this.head < this.queue.length) {
      const key = this.queue[this.head++];
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue.splice(0, this.head);
        this.head = 0;
      }
      this.dirty.delete(key);
      this.processing.add(key);
      return Promise.resolve(key);
    }
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.has(key)) {
      this.dirty.delete(key);
      this.add(key);
    }
  }

  shutDown(): void {
    this.shuttingDown = true;
    for (const { timer } of this.delayed.values()) clearTimeout(timer);
    this.delayed.clear();
    for (const waiter of this.waiters.splice(0)) waiter(undefined);
  }
}
