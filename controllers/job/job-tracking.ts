// Job tracking with finalizers (pkg/controller/job/tracking_utils.go and the flush in job_controller.go):
// every pod a Job creates or adopts carries batch.kubernetes.io/job-tracking, so it cannot disappear before
// the Job has counted it. A finished pod is counted in two steps that survive a crash between them:
//   1. its uid goes into status.uncountedTerminatedPods (succeeded or failed; an Indexed Job records the
//      completed index instead), written to the API;
//   2. its finalizer is removed; uids whose pods no longer carry it move from uncountedTerminatedPods
//      into status.succeeded / status.failed.
// Pods of a Job that is finished, being deleted or gone, and orphans, only lose the finalizer.

import { ApiStatusError, type JsonApiClient } from '../../clients/json-api-client.ts';
import { objectPath, PODS } from '../framework/api-paths.ts';
import type { PodView, WorkloadObject } from '../framework/object-views.ts';

export const JOB_TRACKING_FINALIZER = 'batch.kubernetes.io/job-tracking';

export interface UncountedTerminatedPods {
  succeeded: Set<string>;
  failed: Set<string>;
}

export function hasTrackingFinalizer(pod: PodView): boolean {
  return pod.metadata.finalizers?.includes(JOB_TRACKING_FINALIZER) ?? false;
}

export function uncountedOf(status: Record<string, unknown>): UncountedTerminatedPods {
  const raw = (status.uncountedTerminatedPods ?? {}) as { succeeded?: unknown; failed?: unknown };
  const uids = (list: unknown): Set<string> => new Set(Array.isArray(list) ? list.filter((u): u is string => typeof u === 'string') : []);
  return { succeeded: uids(raw.succeeded), failed: uids(raw.failed) };
}

/** The status field as upstream writes it: always present, empty lists left out. */
export function uncountedStatus(uncounted: UncountedTerminatedPods): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  if (uncounted.succeeded.size) out.succeeded = [...uncounted.succeeded].sort();
  if (uncounted.failed.size) out.failed = [...uncounted.failed].sort();
  return out;
}

/**
 * isPodFailed: Failed, or (unless a podFailurePolicy asks to replace only failed pods) being deleted without
 * having succeeded, so that pods deleted by someone else, orphaned or evicted count as failures.
 */
export function isPodFailed(pod: PodView, job: WorkloadObject): boolean {
  if (pod.phase === 'Failed') return true;
  const policy = job.spec?.podFailurePolicy as { rules?: unknown } | undefined;
  if (policy && Array.isArray(policy.rules)) return false;
  return pod.metadata.deletionTimestamp !== undefined && pod.phase !== 'Succeeded';
}

/**
 * removeTrackingFinalizerPatch through the API; false when the pod is already gone. With `resourceVersion`, only
 * if the pod is still as read (a conflict is thrown for a retry).
 */
export async function removeTrackingFinalizer(client: JsonApiClient, pod: PodView, resourceVersion?: string): Promise<boolean> {
  try {
    await client.request('PATCH', objectPath(PODS, pod.metadata.namespace, pod.metadata.name), {
      metadata: { [`$deleteFromPrimitiveList/finalizers`]: [JOB_TRACKING_FINALIZER], ...(resourceVersion ? { resourceVersion } : {}) },
    }, 'application/strategic-merge-patch+json');
    return true;
  } catch (err) {
    if (err instanceof ApiStatusError && err.code === 404) return false;
    throw err;
  }
}
