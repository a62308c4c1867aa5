// Events about any object, recorded as client-go's recorder does for the controllers: each
// controller is its own source component ("deployment-controller", "replicaset-controller", ...);
// an event identical to one already recorded (same object, type, reason, message) PATCHes the
// existing event's count instead of creating a new one. Sending happens in the background, a few at a
// time, and a full queue drops events (the broadcaster's behaviour): events never hold up a sync.

import os from 'node:os';
import { ApiStatusError, type JsonApiClient } from '../../clients/json-api-client.ts';

export interface ObjectReference {
  kind: string;
  apiVersion: string;
  namespace?: string;
  name: string;
  uid: string;
  resourceVersion?: string;
}

export interface ControllerLogger {
  info(message: string): void;
  warn(message: string): void;
}

const MAX_IN_FLIGHT = 4;
const MAX_QUEUED = 10_000;
const MAX_REMEMBERED = 4096;

function rfc3339(at: Date): string {
  return at.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

interface Series {
  name: string;
  count: number;
}

export class ObjectEventRecorder {
  private readonly series = new Map<string, Series>();
  private readonly backlog: (() => Promise<void>)[] = [];
  private inFlight = 0;
  private lastNanos = 0n;
  private readonly instance = os.hostname();
  private idle: (() => void)[] = [];

  constructor(private readonly client: JsonApiClient, private readonly logger: ControllerLogger) {}

  /** Queues an event from `component` about `object`; never throws. */
  event(component: string, object: ObjectReference, type: 'Normal' | 'Warning', reason: string, message: string): void {
    if (this.backlog.length >= MAX_QUEUED) return;
    const at = new Date();
    this.backlog.push(() => this.send(component, object, type, reason, message, at));
    this.pump();
  }

  /** Resolves when every queued event has been sent or given up on. */
  flushed(): Promise<void> {
    if (this.inFlight === 0 && this.backlog.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private pump(): void {
    while (this.inFlight < MAX_IN_FLIGHT && this.backlog.length > 0) {
      const send = this.backlog.shift()!;
      this.inFlight++;
      void send().finally(() => {
        this.inFlight--;
        this.pump();
        if (this.inFlight === 0 && this.backlog.length === 0) for (const wake of this.idle.splice(0)) wake();
      });
    }
  }

  private nextName(objectName: string, at: Date): string {
    let nanos = BigInt(at.getTime()) * 1_000_000n;
    if (nanos <= this.lastNanos) nanos = this.lastNanos + 1n;
    this.lastNanos = nanos;
    return `${objectName}.${nanos.toString(16)}`;
  }

  private async send(component: string, object: ObjectReference, type: string, reason: string, message: string, at: Date): Promise<void> {
    const namespace = object.namespace || 'default';
    const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/events`;
    const key = [component, object.kind, namespace, object.name, object.uid, type, reason, message].join('\u0000');
    const now = rfc3339(at);
    try {
      const previous = this.series.get(key);
      if (previous) {
        try {
          await this.client.request('PATCH', `${path}/${encodeURIComponent(previous.name)}`, { count: previous.count + 1, lastTimestamp: now },
            'application/strategic-merge-patch+json');
          previous.count += 1;
          return;
        } catch (err) {
          if (!(err instanceof ApiStatusError && err.code === 404)) throw err;
        }
      }
      const name = this.nextName(object.name, at);
      await this.client.request('POST', path, {
        apiVersion: 'v1', kind: 'Event', metadata: { name, namespace },
        involvedObject: object, reason, message, type,
        source: { component }, reportingComponent: component, reportingInstance: this.instance,
        firstTimestamp: now, lastTimestamp: now, count: 1,
      });
      if (this.series.size >= MAX_REMEMBERED) this.series.delete(this.series.keys().next().value!);
      this.series.set(key, { name, count: 1 });
    } catch (err) {
      this.logger.warn(`could not record event ${reason} for ${object.kind} ${namespace}/${object.name}: ${String(err)}`);
    }
  }
}
