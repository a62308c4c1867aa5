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
import { completionIndex, formatIndexes, matchPodFailurePolicy, parseIndexes } from './job-status.ts';

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

export interface RecordedPods {
  /** A copy of the Job's status with the new uncounted uids (and, Indexed, completed indexes and succeeded). */
  status: Record<string, unknown>;
  uncounted: UncountedTerminatedPods;
  completedIndexes: Set<number>;
  /** Finished pods holding the finalizer: to be released. */
  finishedPods: PodView[];
  /** Whether anything new was recorded: step 1 must be written before any finalizer goes. */
  recorded: boolean;
  /** A podFailurePolicy FailJob rule matched a failed pod. */
  failJob?: { reason: string; message: string };
}

/**
 * trackJobStatusAndRemoveFinalizers' first half: the finished pods still holding the finalizer (and not being
 * released already: `releasing`) recorded as uncounted, succeeded or failed; failed pods go through the
 * podFailurePolicy (Ignore: released uncounted; FailJob: fails the Job).
 */
export function recordFinishedPods(job: WorkloadObject, pods: PodView[], releasing: (pod: PodView) => boolean): RecordedPods {
  const status: Record<string, unknown> = structuredClone(job.status ?? {});
  const indexed = job.spec?.completionMode === 'Indexed';
  const completions = typeof job.spec?.completions === 'number' ? job.spec.completions : undefined;
  const uncounted = uncountedOf(status);
  const completedIndexes = indexed ? parseIndexes(status.completedIndexes) : new Set<number>();
  const out: RecordedPods = { status, uncounted, completedIndexes, finishedPods: [], recorded: false };
  for (const pod of pods) {
    if (!hasTrackingFinalizer(pod) || releasing(pod)) continue;
    const uid = pod.metadata.uid;
    const index = completionIndex(pod);
    if (pod.phase === 'Succeeded' && !uncounted.failed.has(uid)) {
      out.finishedPods.push(pod);
      if (indexed) {
        // The completion index is enough to avoid counting it twice: no uid is kept.
        if (index !== undefined && (completions === undefined || index < completions) && !completedIndexes.has(index)) {
          completedIndexes.add(index);
          out.recorded = true;
        }
      } else if (!uncounted.succeeded.has(uid)) {
        uncounted.succeeded.add(uid);
        out.recorded = true;
      }
    } else if (isPodFailed(pod, job)) {
      out.finishedPods.push(pod);
      if (uncounted.failed.has(uid) || (indexed && (index === undefined || (completions !== undefined && index >= completions)))) continue;
      const match = matchPodFailurePolicy(job, pod);
      if (match?.action === 'FailJob') out.failJob ??= { reason: 'PodFailurePolicy', message: match.message };
      if (match?.action === 'Ignore') continue;
      uncounted.failed.add(uid);
      out.recorded = true;
    }
  }
  if (indexed) {
    status.completedIndexes = formatIndexes(completedIndexes);
    if (completedIndexes.size) status.succeeded = completedIndexes.size;
  }
  status.uncountedTerminatedPods = uncountedStatus(uncounted);
  return out;
}
