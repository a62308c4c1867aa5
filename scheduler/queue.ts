// kube-scheduler's PriorityQueue in miniature: activeQ (priority, then FIFO), backoffQ (1 s doubling to
// 10 s per attempt), and the unschedulable set that cluster events move back. A move request that lands
// while a pod is being scheduled sends it to backoff instead of the unschedulable set, so the event is
// not lost (moveRequestCycle upstream).
import type { V1Pod } from '@kubernetes/client-node';
import { podKey } from './cache.ts';
import { Heap } from './heap.ts';

export interface QueuedPod {
  key: string;
  pod: V1Pod;
  /** Scheduling attempts made so far (incremented on pop). */
  attempts: number;
  /** When the pod entered the queue, for FIFO order among equal priorities. */
  enqueuedAt: number;
  /** When the last attempt failed, for backoff. */
  lastFailureAt: number;
}

type Location = 'active' | 'backoff' | 'unschedulable' | 'inFlight';

interface Tracked {
  queued: QueuedPod;
  location: Location;
  /** Changes whenever the pod is (re)queued, so stale heap entries are skipped. */
  token: number;
  /** The scheduling cycle the pod was popped in (inFlight only). */
  cycle: number;
  /** Deleted or bound while in flight: must not be requeued. */
  gone: boolean;
}

export interface QueueOptions {
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** Unschedulable pods are retried after this long even without an event (podMaxInUnschedulablePodsDuration). */
  maxInUnschedulableMs?: number;
  now?: () => number;
}

function priorityOf(pod: V1Pod): number {
  return pod.spec?.priority ?? 0;
}

/** Only changes outside status (and bookkeeping metadata) can make a pod schedulable (isPodUpdated upstream). */
function schedulingRelevantPart(pod: V1Pod): string {
  return JSON.stringify([pod.metadata?.labels, pod.metadata?.annotations, pod.spec]);
}

export class SchedulingQueue {
  private readonly tracked = new Map<string, Tracked>();
  private readonly active = new Heap<{ tracked: Tracked; token: number }>((a, b) => {
    const pa = priorityOf(a.tracked.queued.pod);
    const pb = priorityOf(b.tracked.queued.pod);
    if (pa !== pb) return pa > pb;
    return a.tracked.queued.enqueuedAt < b.tracked.queued.enqueuedAt;
  });
  private waiters: Array<(pod: QueuedPod | undefined) => void> = [];
  private backoffTimer: NodeJS.Timeout | undefined;
  private backoffTimerAt = Infinity;
  private readonly leftoverTimer: NodeJS.Timeout;
  private nextToken = 1;
  private enqueueSequence = 0;
  private closed = false;
  schedulingCycle = 0;
  private moveRequestCycle = -1;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly maxInUnschedulableMs: number;
  private readonly now: () => number;

  constructor(options: QueueOptions = {}) {
    this.initialBackoffMs = options.initialBackoffMs ?? 1000;
    this.maxBackoffMs = options.maxBackoffMs ?? 10_000;
    this.maxInUnschedulableMs = options.maxInUnschedulableMs ?? 5 * 60_000;
    this.now = options.now ?? Date.now;
    this.leftoverTimer = setInterval(() => this.flushUnschedulableLeftover(), 30_000);
    this.leftoverTimer.unref();
  }

  /** calculateBackoffDuration: initial, doubled per further attempt, capped. */
  backoffDuration(attempts: number): number {
    let duration = this.initialBackoffMs;
    for (let i = 1; i < attempts; i++) {
      duration *= 2;
      if (duration > this.maxBackoffMs) return this.maxBackoffMs;
    }
    return duration;
  }

  get pendingCounts(): Record<Location, number> {
    const counts: Record<Location, number> = { active: 0, backoff: 0, unschedulable: 0, inFlight: 0 };
    for (const t of this.tracked.values()) if (!t.gone) counts[t.location]++;
    return counts;
  }

  has(pod: V1Pod): boolean {
    const t = this.tracked.get(podKey(pod));
    return t !== undefined && !t.gone;
  }

  /** A pending pod from the informer (add or update). */
  addOrUpdate(pod: V1Pod): void {
    const key = podKey(pod);
    const existing = this.tracked.get(key);
    if (existing && !existing.gone) {
      const relevant = schedulingRelevantPart(existing.queued.pod) !== schedulingRelevantPart(pod);
      existing.queued.pod = pod;
      if (relevant && existing.location === 'unschedulable') this.moveOne(existing);
      return;
    }
    const queued: QueuedPod = { key, pod, attempts: 0, enqueuedAt: this.enqueueSequence++, lastFailureAt: 0 };
    const tracked: Tracked = { queued, location: 'active', token: 0, cycle: -1, gone: false };
    this.tracked.set(key, tracked);
    this.pushActive(tracked);
  }

  /** The pod was deleted, or left the pending set (bound): drop it wherever it is. */
  delete(pod: V1Pod): void {
    const key = podKey(pod);
    const t = this.tracked.get(key);
    if (!t) return;
    if (t.location === 'inFlight') t.gone = true;
    else this.tracked.delete(key);
  }

  /** Waits for the next pod to schedule; undefined once closed. */
  pop(): Promise<QueuedPod | undefined> {
    const next = this.popNow();
    if (next || this.closed) return Promise.resolve(next);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private popNow(): QueuedPod | undefined {
    for (;;) {
      const entry = this.active.pop();
      if (!entry) return undefined;
      const t = entry.tracked;
      if (t.token !== entry.token || t.location !== 'active' || this.tracked.get(t.queued.key) !== t) continue;
      t.location = 'inFlight';
      t.cycle = ++this.schedulingCycle;
      t.queued.attempts++;
      return t.queued;
    }
  }

  /** The cycle finished with a failure. Unschedulable pods wait for an event; errors back off. */
  requeueAfterFailure(queued: QueuedPod, unschedulable: boolean): void {
    const t = this.tracked.get(queued.key);
    if (!t || t.gone || t.location !== 'inFlight') {
      this.tracked.delete(queued.key);
      return;
    }
    queued.lastFailureAt = this.now();
    if (!unschedulable || this.moveRequestCycle >= t.cycle) this.pushBackoff(t);
    else t.location = 'unschedulable';
  }

  /** The cycle succeeded (pod assumed); the informer will drop it once bound. */
  done(queued: QueuedPod): void {
    const t = this.tracked.get(queued.key);
    if (t && t.location === 'inFlight') this.tracked.delete(queued.key);
  }

  /** A cluster event (node added/updated, pod deleted/terminated) may make unschedulable pods fit. */
  moveAllToActiveOrBackoff(): void {
    this.moveRequestCycle = this.schedulingCycle;
    for (const t of this.tracked.values()) if (t.location === 'unschedulable') this.moveOne(t);
  }

  close(): void {
    this.closed = true;
    clearInterval(this.leftoverTimer);
    if (this.backoffTimer) clearTimeout(this.backoffTimer);
    for (const waiter of this.waiters.splice(0)) waiter(undefined);
  }

  private moveOne(t: Tracked): void {
    if (this.backoffExpiry(t) > this.now()) this.pushBackoff(t);
    else this.pushActive(t);
  }

  private backoffExpiry(t: Tracked): number {
    if (t.queued.attempts === 0) return 0;
    return t.queued.lastFailureAt + this.backoffDuration(t.queued.attempts);
  }

  private pushActive(t: Tracked): void {
    if (this.closed) return;
    t.location = 'active';
    t.token = this.nextToken++;
    const waiter = this.waiters.shift();
    if (waiter) {
      this.active.push({ tracked: t, token: t.token });
      waiter(this.popNow());
      return;
    }
    this.active.push({ tracked: t, token: t.token });
  }

  private pushBackoff(t: Tracked): void {
    t.location = 'backoff';
    this.armBackoffTimer(this.backoffExpiry(t));
  }

  private armBackoffTimer(at: number): void {
    if (this.closed || at >= this.backoffTimerAt) return;
    if (this.backoffTimer) clearTimeout(this.backoffTimer);
    this.backoffTimerAt = at;
    this.backoffTimer = setTimeout(() => this.flushBackoff(), Math.max(0, at - this.now()));
  }

  private flushBackoff(): void {
    this.backoffTimer = undefined;
    this.backoffTimerAt = Infinity;
    const now = this.now();
    let nextAt = Infinity;
    for (const t of this.tracked.values()) {
      if (t.location !== 'backoff') continue;
      const expiry = this.backoffExpiry(t);
      if (expiry <= now) this.pushActive(t);
      else nextAt = Math.min(nextAt, expiry);
    }
    if (nextAt !== Infinity) this.armBackoffTimer(nextAt);
  }

  private flushUnschedulableLeftover(): void {
    const now = this.now();
    for (const t of this.tracked.values()) {
      if (t.location === 'unschedulable' && now - t.queued.lastFailureAt > this.maxInUnschedulableMs) this.moveOne(t);
    }
  }
}
