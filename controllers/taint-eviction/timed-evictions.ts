// The taint eviction controller's TimedWorkerQueue: one timer per pod key that fires its eviction at a
// deadline. As upstream, an eviction that has run stays recorded (without a timer) until it is cancelled,
// so a pod is never evicted twice, and cancelling it — when the pod is finally gone — still counts as a
// cancellation (a real cluster records "Cancelling deletion of Pod" after the taint manager's deletions too).

import type { ScheduledEviction } from './eviction-timing.ts';

interface Entry extends ScheduledEviction {
  timer: NodeJS.Timeout | undefined;
  /** The eviction has fired (it is running or has run). */
  fired: boolean;
}

export class TimedEvictions {
  private readonly entries = new Map<string, Entry>();

  constructor(
    /** Called when an eviction's deadline comes (at once when it has passed). */
    private readonly fire: (key: string) => void,
    private readonly now: () => number,
  ) {}

  /** AddWork: schedules `key` unless anything (pending or done) is recorded for it. */
  add(key: string, createdAtMs: number, fireAtMs: number): void {
    if (this.entries.has(key)) return;
    const entry: Entry = { createdAtMs, fireAtMs, timer: undefined, fired: false };
    this.entries.set(key, entry);
    const delay = fireAtMs - this.now();
    if (delay <= 0) {
      this.trigger(key, entry);
      return;
    }
    entry.timer = setTimeout(() => this.trigger(key, entry), delay);
    entry.timer.unref?.();
  }

  private trigger(key: string, entry: Entry): void {
    if (this.entries.get(key) !== entry) return;
    entry.timer = undefined;
    entry.fired = true;
    this.fire(key);
  }

  /** CancelWork: true when something was recorded for `key` (pending or done). */
  cancel(key: string): boolean {
    const entry = this.entries.get(key);
    if (!entry) return false;
    if (entry.timer) clearTimeout(entry.timer);
    this.entries.delete(key);
    return true;
  }

  /** The eviction scheduled and not yet fired for `key` (GetWorkerUnsafe). */
  pending(key: string): ScheduledEviction | undefined {
    const entry = this.entries.get(key);
    return entry && !entry.fired ? { createdAtMs: entry.createdAtMs, fireAtMs: entry.fireAtMs } : undefined;
  }

  /** Whether `key`'s eviction has fired and not been cancelled since (it should still be carried out). */
  firing(key: string): boolean {
    return this.entries.get(key)?.fired === true;
  }

  /** A failed eviction is forgotten, so a later update may schedule it again (upstream drops it after its retries). */
  forget(key: string): void {
    this.cancel(key);
  }

  get size(): number {
    return this.entries.size;
  }

  stop(): void {
    for (const entry of this.entries.values()) if (entry.timer) clearTimeout(entry.timer);
    this.entries.clear();
  }
}
