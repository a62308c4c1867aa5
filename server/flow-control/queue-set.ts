// The seats and queues of one limited priority level, after k8s.io/apiserver's fairqueuing
// queueset: a request runs at once while the level has a free seat; otherwise it waits in one of
// the level's queues, picked by shuffle sharding its flow (a hand of `handSize` queues dealt from
// the flow's hash; the shortest of them), so one busy flow fills only its own few queues. Freed
// seats go to the queues in turn. A full queue, or a wait longer than the wait limit, rejects.
//
// Simplifications against upstream, each harmless while every request takes one seat: turns go
// round-robin over non-empty queues instead of by virtual finish time, and levels do not lend or
// borrow seats.

export type Admission = { admitted: true; release(): void } | { admitted: false; reason: 'queue-full' | 'time-out' | 'cancelled' };

export interface PendingAdmission {
  admitted: 'pending';
  pending: Promise<Admission>;
  cancel(): void;
}

export interface QueueSetConfig {
  /** Seats: requests of this level executing at once. */
  concurrencyLimit: number;
  /** 0: no queuing, reject when all seats are taken (limitResponse Reject). */
  queues: number;
  handSize: number;
  queueLengthLimit: number;
  /** Longest a request waits in its queue before it is rejected. */
  waitLimitMs: number;
}

interface Waiter {
  settle(admission: Admission): void;
  timer: NodeJS.Timeout;
}

export class QueueSet {
  private executing = 0;
  private readonly queues: Waiter[][];
  /** Requests waiting in all queues together. */
  private waiting = 0;
  /** The queue whose turn comes next when a seat frees. */
  private nextQueue = 0;

  constructor(readonly config: QueueSetConfig) {
    this.queues = Array.from({ length: config.queues }, () => []);
  }

  get executingCount(): number {
    return this.executing;
  }

  get waitingCount(): number {
    return this.waiting;
  }

  /**
   * A seat at once, a rejection at once, or a place in a queue: `pending` then settles with a seat
   * or a rejection (time-out, or cancel() when the client went away).
   */
  admit(flowKey: string): Admission | PendingAdmission {
    if (this.executing < this.config.concurrencyLimit && this.waiting === 0) return this.seat();
    if (this.config.queues === 0) return { admitted: false, reason: 'queue-full' };
    const queue = this.queues[this.chooseQueue(flowKey)];
    if (queue.length >= this.config.queueLengthLimit) return { admitted: false, reason: 'queue-full' };
    let waiter: Waiter | undefined;
    const leave = (reason: 'time-out' | 'cancelled'): void => {
      const at = waiter ? queue.indexOf(waiter) : -1;
      if (at < 0) return;
      queue.splice(at, 1);
      this.waiting--;
      (waiter as Waiter).settle({ admitted: false, reason });
    };
    const pending = new Promise<Admission>((resolve) => {
      const timer = setTimeout(() => leave('time-out'), this.config.waitLimitMs);
      // A waiting request alone keeps nothing alive: its connection does.
      timer.unref();
      waiter = { timer, settle: (admission) => { clearTimeout(timer); resolve(admission); } };
    });
    queue.push(waiter as Waiter);
    this.waiting++;
    return { admitted: 'pending', pending, cancel: () => leave('cancelled') };
  }

  private seat(): Admission {
    this.executing++;
    let released = false;
    return {
      admitted: true,
      release: () => {
        if (released) return;
        released = true;
        this.executing--;
        this.dispatch();
      },
    };
  }

  /** Gives free seats to waiting requests, one queue's head at a time in turn. */
  private dispatch(): void {
    while (this.waiting > 0 && this.executing < this.config.concurrencyLimit) {
      let queue = this.queues[this.nextQueue];
      while (queue.length === 0) {
        this.nextQueue = (this.nextQueue + 1) % this.queues.length;
        queue = this.queues[this.nextQueue];
      }
      this.nextQueue = (this.nextQueue + 1) % this.queues.length;
      const waiter = queue.shift() as Waiter;
      this.waiting--;
      waiter.settle(this.seat());
    }
  }

  /** The shortest queue of the flow's hand (ties: the first dealt). */
  private chooseQueue(flowKey: string): number {
    const hand = dealHand(flowKey, this.queues.length, Math.min(this.config.handSize, this.queues.length));
    let best = hand[0];
    for (const index of hand) if (this.queues[index].length < this.queues[best].length) best = index;
    return best;
  }
}

/**
 * shufflesharding.Dealer: `handSize` distinct queue indices chosen by the flow's hash, read as
 * mixed-radix digits (deckSize, deckSize-1, ...) and drawn without replacement.
 */
export function dealHand(flowKey: string, deckSize: number, handSize: number): number[] {
  let value = flowHash(flowKey);
  const deck = Array.from({ length: deckSize }, (_, i) => i);
  const hand: number[] = [];
  for (let i = 0; i < handSize; i++) {
    const remaining = deckSize - i;
    const pick = value % remaining;
    value = Math.floor(value / remaining);
    hand.push(deck[pick]);
    deck[pick] = deck[remaining - 1];
  }
  return hand;
}

/** A 53-bit hash of the flow (FNV-1a beside a second multiplicative pass): enough digits for a hand of 6 from 128. */
function flowHash(text: string): number {
  let low = 0x811c9dc5;
  let high = 0x050c5d1f;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    low = Math.imul(low ^ code, 0x01000193) >>> 0;
    high = Math.imul(high ^ code, 0x5bd1e995) >>> 0;
  }
  return (high & 0x1fffff) * 0x100000000 + low;
}
