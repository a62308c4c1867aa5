// A small core/v1 event recorder with client-go's deduplication: an event identical to one already
// recorded (same source, object, type, reason, message) PATCHes the existing event's count and
// lastTimestamp instead of creating a new one.
import os from 'node:os';
import type { CoreV1Event, V1Pod } from '@kubernetes/client-node';
import type { JsonApiClient } from '../clients/json-api-client.ts';

export interface EventLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** The two calls the recorder makes. The patch is a strategic merge patch. */
export interface EventSink {
  createNamespacedEvent(param: { namespace: string; body: CoreV1Event }): Promise<CoreV1Event>;
  patchNamespacedEvent(param: { name: string; namespace: string; body: Record<string, unknown> }): Promise<unknown>;
}

/** The sink over the scheduler's JSON client. */
export function jsonEventSink(client: JsonApiClient): EventSink {
  const eventsPath = (namespace: string): string => `/api/v1/namespaces/${encodeURIComponent(namespace)}/events`;
  return {
    createNamespacedEvent: ({ namespace, body }) => client.request<CoreV1Event>('POST', eventsPath(namespace), body),
    patchNamespacedEvent: ({ name, namespace, body }) => client.request('PATCH', `${eventsPath(namespace)}/${encodeURIComponent(name)}`,
      body, 'application/strategic-merge-patch+json'),
  };
}

/**
 * Events sent at once at most. Events are best effort and must not take the API server's attention from
 * bindings: client-go's broadcaster also sends them from one background worker, never in the binding path.
 */
const MAX_EVENTS_IN_FLIGHT = 4;

interface Observation {
  name: string;
  namespace: string;
  count: number;
  firstTimestamp: string;
}

const MAX_REMEMBERED_EVENTS = 4096;

/**
 * Events waiting to be sent, at most (the kubelet's bound, kubelet/event-recorder.ts). Bindings outpace event writes
 * whenever the API server is slow (four writes at a time at ~0.5 s each, against ~100 bindings a second on a busy
 * large cluster): without a bound the queue grew with every binding, and with each entry holding its pod the
 * scheduler's live heap was 324 MiB after 20,000 pods on 5,000 nodes (101 MiB with the bound and references only)
 * and 512 MiB when a 150,000-pod run had created 35,000.
 */
export const MAX_QUEUED_EVENTS = 10_000;

/** The event's involvedObject: what a queued event keeps of its pod. */
interface PodReference {
  kind: 'Pod';
  namespace: string;
  name: string | undefined;
  uid: string | undefined;
  apiVersion: 'v1';
  resourceVersion: string | undefined;
}

function podReference(pod: V1Pod): PodReference {
  return {
    kind: 'Pod',
    namespace: pod.metadata?.namespace ?? 'default',
    name: pod.metadata?.name,
    uid: pod.metadata?.uid,
    apiVersion: 'v1',
    resourceVersion: pod.metadata?.resourceVersion,
  };
}

/** RFC 3339 with second precision, as metav1.Time serialises (a Date would go out with milliseconds). */
function rfc3339(at: Date): string {
  return at.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export class EventRecorder {
  private readonly observations = new Map<string, Observation>();
  private readonly instance: string;
  private lastNanos = 0n;
  /** Events not sent yet, from backlogHead on (an index, so taking one is O(1) however long the backlog). */
  private backlog: Array<() => Promise<void>> = [];
  private backlogHead = 0;
  private inFlight = 0;
  private idleWaiters: Array<() => void> = [];
  /** Events dropped since the queue last had room; reported when it has room again. */
  private dropped = 0;

  constructor(
    private readonly sink: EventSink,
    private readonly component: string,
    private readonly logger: EventLogger,
    private readonly clock: () => Date = () => new Date(),
    private readonly maxQueued = MAX_QUEUED_EVENTS,
  ) {
    this.instance = `${component}-${os.hostname()}`;
  }

  /**
   * `<object>.<hex nanoseconds>` as client-go names events: fixed-width hex of the wall clock, so the API server's
   * name-ordered lists (and `kubectl describe`'s stable sort of same-second events) follow the order they happened in.
   */
  private nextName(objectName: string, at: Date): string {
    let nanos = BigInt(at.getTime()) * 1_000_000n;
    if (nanos <= this.lastNanos) nanos = this.lastNanos + 1n;
    this.lastNanos = nanos;
    return `${objectName}.${nanos.toString(16)}`;
  }

  /**
   * Records an event about a pod; never throws (events are best effort, as in client-go). `observedAt` lets the
   * caller date the event when it happened rather than when the write goes out (see the Scheduled event).
   */
  recordPodEvent(pod: V1Pod, type: 'Normal' | 'Warning', reason: string, action: string, message: string,
    observedAt: Date = this.clock()): Promise<void> {
    return this.record(podReference(pod), type, reason, action, message, observedAt);
  }

  private async record(involvedObject: PodReference, type: 'Normal' | 'Warning', reason: string, action: string, message: string,
    observedAt: Date): Promise<void> {
    const namespace = involvedObject.namespace;
    const key = [this.component, 'Pod', namespace, involvedObject.name, involvedObject.uid, type, reason, message].join('\u0000');
    const now = rfc3339(observedAt);
    const previous = this.observations.get(key);
    try {
      if (previous) {
        const count = previous.count + 1;
        try {
          await this.sink.patchNamespacedEvent({ name: previous.name, namespace: previous.namespace, body: { count, lastTimestamp: now, message } });
          this.remember(key, { ...previous, count });
          return;
        } catch (err) {
          // The event expired (event TTL) or was deleted: start a new series, as client-go does.
          if ((err as { code?: number }).code !== 404) throw err;
        }
      }
      const body = {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: this.nextName(involvedObject.name ?? '', observedAt), namespace },
        involvedObject,
        reason,
        message,
        type,
        action,
        source: { component: this.component },
        reportingComponent: this.component,
        reportingInstance: this.instance,
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      };
      // Timestamps go out as strings (metav1.Time's wire form); client-node passes strings through unchanged.
      const created = await this.sink.createNamespacedEvent({ namespace, body: body as unknown as CoreV1Event });
      this.remember(key, { name: created.metadata?.name ?? body.metadata.name, namespace, count: 1, firstTimestamp: now });
    } catch (err) {
      this.logger.error('could not record event', { reason, pod: `${namespace}/${involvedObject.name}`, error: String(err) });
    }
  }

  /**
   * Queues the event and returns at once; at most MAX_EVENTS_IN_FLIGHT are sent concurrently, in order of
   * emission. `observedAt` defaults to now (the emission time, not the send time). When the queue already holds
   * maxQueued events the event is dropped, as client-go's broadcaster drops events when its queue is full.
   */
  emitPodEvent(pod: V1Pod, type: 'Normal' | 'Warning', reason: string, action: string, message: string,
    observedAt: Date = this.clock()): void {
    if (this.backlog.length - this.backlogHead >= this.maxQueued) {
      if (this.dropped++ === 0) this.logger.error(`too many queued events (${this.maxQueued}); dropping events until the queue has room`);
      return;
    }
    if (this.dropped > 0) {
      this.logger.error(`dropped ${this.dropped} events while the event queue was full`);
      this.dropped = 0;
    }
    // Only the reference is kept, not the pod: a queued event costs a few hundred bytes, not a whole pod.
    const involvedObject = podReference(pod);
    this.backlog.push(() => this.record(involvedObject, type, reason, action, message, observedAt));
    this.pump();
  }

  /** Resolves once every emitted event has been sent (or given up on). */
  flushed(): Promise<void> {
    if (this.inFlight === 0 && this.backlogHead === this.backlog.length) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    while (this.inFlight < MAX_EVENTS_IN_FLIGHT && this.backlogHead < this.backlog.length) {
      const send = this.backlog[this.backlogHead++];
      this.inFlight++;
      void send().finally(() => {
        this.inFlight--;
        this.pump();
        if (this.inFlight === 0 && this.backlogHead === this.backlog.length) for (const wake of this.idleWaiters.splice(0)) wake();
      });
    }
    if (this.backlogHead === this.backlog.length) {
      this.backlog = [];
      this.backlogHead = 0;
    } else if (this.backlogHead > 1024 && this.backlogHead * 2 > this.backlog.length) {
      this.backlog = this.backlog.slice(this.backlogHead);
      this.backlogHead = 0;
    }
  }

  private remember(key: string, observation: Observation): void {
    this.observations.delete(key);
    this.observations.set(key, observation);
    if (this.observations.size > MAX_REMEMBERED_EVENTS) {
      const oldest = this.observations.keys().next().value;
      if (oldest !== undefined) this.observations.delete(oldest);
    }
  }
}
