// Creating and deleting a controller's pods (pkg/controller/controller_utils.go RealPodControl),
// with the events upstream records: SuccessfulCreate "Created pod: web-5d4b7c9f8-x2x7q",
// FailedCreate "Error creating: ...", SuccessfulDelete "Deleted pod: ...", FailedDelete.

import { ApiStatusError, type JsonApiClient } from '../../clients/json-api-client.ts';
import { objectPath, collectionPath, PODS } from './api-paths.ts';
import type { ObjectEventRecorder, ObjectReference } from './event-recorder.ts';
import type { OwnerReference } from './object-views.ts';

export interface PodTemplate {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string>; finalizers?: string[]; name?: string };
  spec?: Record<string, unknown>;
}

export interface NewPod {
  /** Exact name (StatefulSets, indexed Jobs use generateName); otherwise generateName `${owner}-`. */
  name?: string;
  generateName?: string;
  extraLabels?: Record<string, string>;
  extraAnnotations?: Record<string, string>;
  /** Changes to the copied pod spec (hostname, node affinity, env). */
  mutateSpec?: (spec: Record<string, unknown>) => void;
}

/** The apiserver's answer text for an event message: the Status message when there is one. */
export function apiErrorMessage(err: unknown): string {
  if (err instanceof ApiStatusError) {
    try {
      const status = JSON.parse(err.body) as { message?: string };
      if (status.message) return status.message;
    } catch {
      // not a Status
    }
    return err.body;
  }
  return err instanceof Error ? err.message : String(err);
}

export class PodControl {
  constructor(
    private readonly client: JsonApiClient,
    private readonly recorder: ObjectEventRecorder,
    private readonly component: string,
  ) {}

  async create(namespace: string, template: PodTemplate, owner: ObjectReference, controllerRef: OwnerReference, pod: NewPod = {}): Promise<{ name: string; uid: string }> {
    const meta = template.metadata ?? {};
    const spec = structuredClone(template.spec ?? {});
    pod.mutateSpec?.(spec);
    const body = {
      apiVersion: 'v1', kind: 'Pod',
      metadata: {
        ...(pod.name ? { name: pod.name } : { generateName: pod.generateName ?? `${owner.name}-` }),
        namespace,
        labels: { ...(meta.labels ?? {}), ...(pod.extraLabels ?? {}) },
        ...(meta.annotations || pod.extraAnnotations ? { annotations: { ...(meta.annotations ?? {}), ...(pod.extraAnnotations ?? {}) } } : {}),
        ...(meta.finalizers ? { finalizers: meta.finalizers } : {}),
        ownerReferences: [controllerRef],
      },
      spec,
    };
    if (Object.keys(body.metadata.labels).length === 0) throw new Error('unable to create pods, no labels');
    try {
      const created = await this.client.request<{ metadata: { name: string; uid: string } }>('POST', collectionPath(PODS, namespace), body);
      this.recorder.event(this.component, owner, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata.name}`);
      return created.metadata;
    } catch (err) {
      // A namespace being deleted refuses new pods: expected, not worth an event (upstream does the same).
      if (!(err instanceof ApiStatusError && err.code === 403 && err.body.includes('being terminated'))) {
        this.recorder.event(this.component, owner, 'Warning', 'FailedCreate', `Error creating: ${apiErrorMessage(err)}`);
      }
      throw err;
    }
  }

  async delete(namespace: string, name: string, owner: ObjectReference): Promise<void> {
    try {
      await this.client.request('DELETE', objectPath(PODS, namespace, name));
      this.recorder.event(this.component, owner, 'Normal', 'SuccessfulDelete', `Deleted pod: ${name}`);
    } catch (err) {
      if (err instanceof ApiStatusError && err.code === 404) return;
      this.recorder.event(this.component, owner, 'Warning', 'FailedDelete', `Error deleting: ${apiErrorMessage(err)}`);
      throw err;
    }
  }
}

/** slowStartBatch: calls `fn` count times in batches of 1, 2, 4, ... stopping at the first batch with a failure. */
export async function slowStartBatch(count: number, initialBatchSize: number, fn: () => Promise<void>): Promise<{ successes: number; error?: unknown }> {
  let remaining = count;
  let successes = 0;
  for (let batch = Math.min(remaining, initialBatchSize); batch > 0; batch = Math.min(2 * batch, remaining)) {
    const results = await Promise.allSettled(Array.from({ length: batch }, () => fn()));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    successes += results.filter((r) => r.status === 'fulfilled').length;
    if (failed) return { successes, error: failed.reason };
    remaining -= batch;
  }
  return { successes };
}

export function ownerReference(kind: { apiVersion: string; kind: string }, meta: { name: string; uid: string }): OwnerReference {
  return { apiVersion: kind.apiVersion, kind: kind.kind, name: meta.name, uid: meta.uid, controller: true, blockOwnerDeletion: true };
}

export function objectReference(kind: { apiVersion: string; kind: string }, meta: { name: string; namespace?: string; uid: string; resourceVersion?: string }): ObjectReference {
  return { kind: kind.kind, apiVersion: kind.apiVersion, namespace: meta.namespace, name: meta.name, uid: meta.uid, resourceVersion: meta.resourceVersion };
}
