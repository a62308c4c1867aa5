// Writes core/v1 Events the way client-go's EventRecorder does for the kubelet: source {component: kubelet, host},
// reportingComponent/Instance, `<object>.<hex nanos>` names, and repeated identical events folded into one with a
// growing count (what `kubectl describe` shows as "x5 over 2m"). Writes for one object keep their order.
import type { CoreV1Api, CoreV1Event } from '@kubernetes/client-node';
import type { EventText } from './event-text.ts';
import { MERGE_PATCH, statusCodeOf } from './kube-client.ts';
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

/** Distinct (object, reason, message) series remembered for folding; like client-go's LRU of 4096. */
const MAX_FOLDED = 4096;

export class EventRecorder {
  private readonly chains = new Map<string, Promise<void>>();
  private readonly folded = new Map<string, Folded>();
  private lastNanos = 0n;

  constructor(private readonly core: CoreV1Api, private readonly component: string, private readonly logger: Logger) {}

  private nextName(objectName: string): string {
    let nanos = BigInt(Date.now()) * 1_000_000n;
    if (nanos <= this.lastNanos) nanos = this.lastNanos + 1n;
    this.lastNanos = nanos;
    return `${objectName}.${nanos.toString(16)}`;
  }

  record(host: string, ref: EventObjectRef, text: EventText): void {
    const key = ref.uid;
    const previous = this.chains.get(key) ?? Promise.resolve();
    const next = previous.then(() => this.write(host, ref, text)).catch((error: unknown) => {
      this.logger.warn(`event ${text.reason} for ${ref.kind} ${ref.namespace ?? ''}/${ref.name}: ${String(error)}`);
    });
    this.chains.set(key, next);
    void next.then(() => {
      if (this.chains.get(key) === next) this.chains.delete(key);
    });
  }

  /** Resolves when every event recorded so far has been written (or has failed). */
  async flush(): Promise<void> {
    while (this.chains.size > 0) await Promise.all([...this.chains.values()]);
  }

  private async write(host: string, ref: EventObjectRef, text: EventText): Promise<void> {
    const namespace = ref.namespace || 'default';
    const now = rfc3339(Date.now());
    const foldKey = [ref.uid, ref.fieldPath ?? '', text.type, text.reason, text.message, host].join('\u0000');
    const folded = this.folded.get(foldKey);
    if (folded) {
      try {
        folded.count++;
        await this.core.patchNamespacedEvent({ name: folded.name, namespace: folded.namespace,
          body: { count: folded.count, lastTimestamp: now } }, MERGE_PATCH);
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
    const name = this.nextName(ref.name);
    const body = {
      apiVersion: 'v1', kind: 'Event',
      metadata: { name, namespace },
      involvedObject,
      reason: text.reason, message: text.message, type: text.type,
      source: { component: this.component, host },
      firstTimestamp: now, lastTimestamp: now, count: 1,
      eventTime: null,
      reportingComponent: this.component, reportingInstance: host,
    };
    await this.core.createNamespacedEvent({ namespace, body: body as unknown as CoreV1Event });
    this.folded.set(foldKey, { name, namespace, count: 1 });
    if (this.folded.size > MAX_FOLDED) this.folded.delete(this.folded.keys().next().value!);
  }
}
