// The watch cache's bounded history: the most recent events in revision order, in a fixed-size
// circular buffer. It holds every event with revision > startRevision; older ones are gone.

import type { StorageEvent } from './interface.ts';

export class EventRing {
  private readonly slots: (StorageEvent | undefined)[];
  private head = 0;
  private length = 0;

  constructor(readonly capacity: number, private start: number) {
    if (capacity < 1) throw new Error('event ring capacity must be at least 1');
    this.slots = new Array<StorageEvent | undefined>(capacity);
  }

  /** Every event with a revision greater than this is held (and nothing older). */
  get startRevision(): number {
    return this.start;
  }

  get size(): number {
    return this.length;
  }

  push(event: StorageEvent): void {
    if (this.length === this.capacity) {
      this.start = (this.slots[this.head] as StorageEvent).revision;
      this.slots[this.head] = event;
      this.head = (this.head + 1) % this.capacity;
      return;
    }
    this.slots[(this.head + this.length) % this.capacity] = event;
    this.length++;
  }

  private at(index: number): StorageEvent {
    return this.slots[(this.head + index) % this.capacity] as StorageEvent;
  }

  /** Held events with revision > `revision`, oldest first. */
  eventsAfter(revision: number): StorageEvent[] {
    let low = 0;
    let high = this.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (this.at(mid).revision <= revision) low = mid + 1;
      else high = mid;
    }
    const events: StorageEvent[] = [];
    for (let i = low; i < this.length; i++) events.push(this.at(i));
    return events;
  }
}
