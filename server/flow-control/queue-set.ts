// The seats and queues of one limited priority level, after k8s.io/apiserver's fairqueuing
// queueset: a request runs at once while the level has a free seat; otherwise it waits in one of
// the level's queues, picked by shuffle sharding its flow (a hand of `handSize` queues dealt from
// the flow's hash; the shortest of them), so one busy flow fills only its own few queues. A freed
// seat goes to the queue with the least virtual service, as upstream's fair queuing: each dispatch
// adds one to its queue's count, and a queue that becomes busy again starts level with the least
// served busy queue (it cannot claim service it did not ask for, nor wait behind service others
// had). Ties go to the request that arrived first. A full queue, or a wait longer than the wait
// limit, rejects.
//
// A level's configuration can change while requests wait (reconfigure): more seats dispatch at
// once, and waiters are dealt again to the new queues (kept in one draining queue when the level
// now rejects), as upstream's queueset keeps its waiting requests across a config change.
//
// Simplifications against upstream, each harmless while every request takes one seat: service is
// counted in dispatches rather than in seat-seconds of virtual time, and levels do not lend or
// borrow seats. (Plain round-robin over non-empty queues, used before, gave a flow spread over its
// whole hand of six queues six turns for a quiet user's one: slow uploaders cut off by the request
// timeout still kept another user waiting for many timeouts.)

export type Admission = { admitted: true; release(): void } | { admitted: false; reason: 'concurrency-limit' | 'queue-full' | 'time-out' | 'cancelled' };

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
  flowKey: string;
  /** The queue it waits in (changes when the level is reconfigured). */
  queue: Waiter[];
  settle(admission: Admission): void;
  timer: NodeJS.Timeout;
  /** Arrival order, for ties between queues. */
  arrival: number;
}

export class QueueSet {
  private executing = 0;
  private queues: Waiter[][];
  /** Requests waiting in all queues together. */
  private waiting = 0;
  /** Each queue's virtual service: dispatches, levelled when the queue becomes busy again. */
  private service: number[];
  private arrivals = 0;
  /** The service level of the latest dispatch: where a queue starts when no other is busy. */
  private latestService = 0;

  constructor(private configuration: QueueSetConfig) {
    this.queues = Array.from({ length: configuration.queues }, () => []);
    this.service = new Array<number>(configuration.queues).fill(0);
  }

  get config(): QueueSetConfig {
    return this.configuration;
  }

  /** Takes a new configuration: waiting requests keep waiting (dealt to the new queues), free seats dispatch. */
  reconfigure(config: QueueSetConfig): void {
    const reshaped = config.queues !== this.configuration.queues || config.handSize !== this.configuration.handSize;
    this.configuration = config;
    if (reshaped) {
      const waiters = this.queues.flat().sort((a, b) => a.arrival - b.arrival);
      // A level that now rejects keeps its waiters in one queue until they are served or time out.
      const count = config.queues > 0 ? config.queues : waiters.length > 0 ? 1 : 0;
      this.queues = Array.from({ length: count }, () => []);
      this.service = new Array<number>(count).fill(this.latestService);
      for (const waiter of waiters) {
        waiter.queue = this.queues[config.queues > 0 ? this.chooseQueue(waiter.flowKey) : 0];
        waiter.queue.push(waiter);
      }
    }
    this.dispatch();
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
    if (this.config.queues === 0) return this.executing < this.config.concurrencyLimit && this.waiting === 0 ? this.seat() : { admitted: false, reason: 'concurrency-limit' };
    const index = this.chooseQueue(flowKey);
    const queue = this.queues[index];
    if (queue.length === 0) this.service[index] = Math.max(this.service[index], this.leastBusyService());
    if (this.executing < this.config.concurrencyLimit && this.waiting === 0) {
      // Seated at once, but still service for the flow's queue.
      this.latestService = ++this.service[index];
      return this.seat();
    }
    if (queue.length >= this.config.queueLengthLimit) return { admitted: false, reason: 'queue-full' };
    let waiter: Waiter | undefined;
    const leave = (reason: 'time-out' | 'cancelled'): void => {
      const at = waiter ? waiter.queue.indexOf(waiter) : -1;
      if (at < 0) return;
      (waiter as Waiter).queue.splice(at, 1);
      this.waiting--;
      (waiter as Waiter).settle({ admitted: false, reason });
    };
    const pending = new Promise<Admission>((resolve) => {
      const timer = setTimeout(() => leave('time-out'), this.config.waitLimitMs);
      // A waiting request alone keeps nothing alive: its connection does.
      timer.unref();
      waiter = { flowKey, queue, timer, arrival: ++this.arrivals, settle: (admission) => { clearTimeout(timer); resolve(admission); } };
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

  /** The least virtual service of the busy queues (the latest dispatch's when none is busy). */
  private leastBusyService(): number {
    let least = Number.POSITIVE_INFINITY;
    for (let i = 0; i < this.queues.length; i++) if (this.queues[i].length > 0 && this.service[i] < least) least = this.service[i];
    return least === Number.POSITIVE_INFINITY ? this.latestService : least;
  }

  /** Gives free seats to waiting requests: the head of the busy queue with the least service first. */
  private dispatch(): void {
    while (this.waiting > 0 && this.executing < this.config.concurrencyLimit) {
      let next = -1;
      for (let i = 0; i < this.queues.length; i++) {
        if (this.queues[i].length === 0) continue;
        if (next < 0 || this.service[i] < this.service[next]
          || (this.service[i] === this.service[next] && this.queues[i][0].arrival < this.queues[next][0].arrival)) next = i;
      }
      this.latestService = ++this.service[next];
      const waiter = this.queues[next].shift() as Waiter;
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
