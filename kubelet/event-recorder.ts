// Writes core/v1 Events the way client-go's EventRecorder does for the kubelet: source {component: kubelet, host},
// reportingComponent/Instance, `<object>.<hex nanos>` names, and repeated identical events folded into one with a
// growing count (what `kubectl describe` shows as "x5 over 2m"). Writes for one object keep their order.
//
// Recording never waits: like client-go's broadcaster (a queue drained by a writer goroutine), record() only queues,
// and a bounded number of writes are in flight for the whole process. Without the bound, thousands of pods starting
// at once meant thousands of concurrent event POSTs, each holding a connection, a request and its buffers.
import type { EventText } from './event-text.ts';
import { statusCodeOf, type KubeletWrites } from './kube-client.ts';
import { rfc3339 } from './node-object.ts';
import type { Logger } from './pod-worker.ts';

export interface EventObjectRef {
  kind: string;
  name: string;
  namespace?: string;
  uid: string;
  apiVersion?: string;
  resourceVersion?: string;
  fieldPath?: string;
}

interface Folded {
  name: string;
  namespace: string;
  count: number;
}

interface PendingEvent {
  writes: KubeletWrites;
  host: string;
  ref: EventObjectRef;
  text: EventText;
  recordedMs: number;
}

/** Distinct (object, reason, message) series remembered for folding; like client-go's LRU of 4096. */
const MAX_FOLDED = 4096;
/** Event writes in flight per process (all nodes together). */
export const MAX_EVENT_WRITES_IN_FLIGHT = 16;
/**
 * Events waiting to be written, at most; further ones are dropped, as client-go's broadcaster drops events when its
 * queue (1,000) is full. Without a bound, a burst of pod starts faster than the API server takes event writes (six
 * events per pod) queues hundreds of thousands of events, each several hundred bytes, in the kubelet's heap.
 */
export const MAX_QUEUED_EVENTS = 10_000;

export class EventRecorder {
  /** Events not yet written, per involved object (uid), oldest first; an object with a write in flight is busy. */
  private readonly queued = new Map<string, PendingEvent[]>();
  /** Objects whose turn it is, in arrival order; each appears at most once and only while not busy. */
  private readonly ready: string[] = [];
  private readonly busy = new Set<string>();
  private readonly folded = new Map<string, Folded>();
  private inFlight = 0;
  /** Events in `queued`, over all objects. */
  private queuedCount = 0;
  /** Events dropped since the queue last had room; reported when it has room again. */
  private dropped = 0;
  private idleWaiters: (() => void)[] = [];
  private lastNanos = 0n;

  constructor(private readonly writes: KubeletWrites, private readonly component: string, private readonly logger: Logger,
    private readonly maxInFlight = MAX_EVENT_WRITES_IN_FLIGHT, private readonly maxQueued = MAX_QUEUED_EVENTS) {}

  private nextName(objectName: string, recordedMs: number): string {
    let nanos = BigInt(recordedMs) * 1_000_000n;
    if (nanos <= this.lastNanos) nanos = this.lastNanos + 1n;
    this.lastNanos = nanos;
    return `${objectName}.${nanos.toString(16)}`;
  }

  /**
   * Queues the event; timestamps are those of this call, not of the (possibly later) write. `writes`: the identity to
   * write as (a node's own `system:node:<name>` client), else the recorder's; every identity shares the one bound.
   */
  record(host: string, ref: EventObjectRef, text: EventText, writes: KubeletWrites = this.writes): void {
    if (this.queuedCount >= this.maxQueued) {
      if (this.dropped++ === 0) this.logger.warn(`too many queued events (${this.maxQueued}); dropping events until the queue has room`);
      return;
    }
    if (this.dropped > 0) {
      this.logger.warn(`dropped ${this.dropped} events while the event queue was full`);
      this.dropped = 0;
    }
    const key = ref.uid;
    let queue = this.queued.get(key);
    if (!queue) {
      queue = [];
      this.queued.set(key, queue);
      if (!this.busy.has(key)) this.ready.push(key);
    }
    queue.push({ writes, host, ref, text, recordedMs: Date.now() });
    this.queuedCount++;
    this.pump();
  }

  /** Resolves when every event recorded so far has been written (or has failed). */
  flush(): Promise<void> {
    if (this.inFlight === 0 && this.queued.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    while (this.inFlight < this.maxInFlight && this.ready.length > 0) {
      const key = this.ready.shift()!;
      const queue = this.queued.get(key)!;
      const event = queue.shift()!;
      this.queuedCount--;
      if (queue.length === 0) this.queued.delete(key);
      this.busy.add(key);
      this.inFlight++;
      this.write(event)
        .catch((error: unknown) => {
          this.logger.warn(`event ${event.text.reason} for ${event.ref.kind} ${event.ref.namespace ?? ''}/${event.ref.name}: ${String(error)}`);
        })
        .finally(() => {
          this.inFlight--;
          this.busy.delete(key);
          if (this.queued.has(key)) this.ready.push(key);
          this.pump();
          if (this.inFlight === 0 && this.queued.size === 0) {
            const waiters = this.idleWaiters;
            this.idleWaiters = [];
            for (const resolve of waiters) resolve();
          }
        });
    }
  }

  private async write({ writes, host, ref, text, recordedMs }: PendingEvent): Promise<void> {
    const namespace = ref.namespace || 'default';
    const now = rfc3339(recordedMs);
    const foldKey = [ref.uid, ref.fieldPath ?? '', text.type, text.reason, text.message, host].join('\u0000');
    const folded = this.folded.get(foldKey);
    if (folded) {
      try {
        folded.count++;
        await writes.patchEvent(folded.namespace, folded.name, { count: folded.count, lastTimestamp: now });
        return;
      } catch (error) {
        if (statusCodeOf(error) !== 404) throw error;
        this.folded.delete(foldKey);
      }
    }
    const involvedObject: Record<string, string> = { kind: ref.kind, name: ref.name, uid: ref.uid };
    if (ref.namespace) involvedObject.namespace = ref.namespace;
    if (ref.apiVersion) involvedObject.apiVersion = ref.apiVersion;
    if (ref.resourceVersion) involvedObject.resourceVersion = ref.resourceVersion;
    if (ref.fieldPath) involvedObject.fieldPath = ref.fieldPath;
    const name = this.nextName(ref.name, recordedMs);
    await writes.createEvent(namespace, {
      apiVersion: 'v1', kind: 'Event',
      metadata: { name, namespace },
      involvedObject,
      reason: text.reason, message: text.message, type: text.type,
      source: { component: this.component, host },
      firstTimestamp: now, lastTimestamp: now, count: 1,
      eventTime: null,
      reportingComponent: this.component, reportingInstance: host,
    });
    this.folded.set(foldKey, { name, namespace, count: 1 });
    if (this.folded.size > MAX_FOLDED) this.folded.delete(this.folded.keys().next().value!);
  }
}
