// A process-wide bound on the kubelet's API writes in flight. One kubelet process stands for thousands
// of kubelets, each of which the real kubelet throttles (client QPS 50 / burst 100, and a status manager
// that syncs one pod at a time). Without a bound, a saturated API server turns every pod's status write
// into a pending HTTP request held in client-node's machinery (tens of KiB each): measured at gigabytes
// of kubelet heap with 5,000 nodes and 100,000 pods. A write waiting here holds only its closure.

export class WriteSlots {
  private active = 0;
  /** FIFO of writes waiting for a slot; `head` avoids Array.shift's O(n) on long queues. */
  private waiting: (() => void)[] = [];
  private head = 0;

  constructor(private readonly limit: number) {
    if (limit < 1) throw new Error('write slots: the limit must be at least 1');
  }

  /** Writes currently waiting for a slot. */
  get queued(): number {
    return this.waiting.length - this.head;
  }

  async run<T>(write: () => Promise<T>): Promise<T> {
    if (this.active < this.limit) this.active++;
    // A finishing write hands its slot straight to the first waiter, so `active` is unchanged then.
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await write();
    } finally {
      this.release();
    }
  }

  private release(): void {
    if (this.head < this.waiting.length) {
      const next = this.waiting[this.head];
      this.head++;
      if (this.head > 1024 && this.head * 2 > this.waiting.length) {
        this.waiting = this.waiting.slice(this.head);
        this.head = 0;
      }
      next();
      return;
    }
    this.active--;
  }
}
