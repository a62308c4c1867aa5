// The Job controller (pkg/controller/job): runs pods until `completions` succeed (NonIndexed) or
// every index 0..completions-1 has succeeded (Indexed: completion index annotation and label,
// JOB_COMPLETION_INDEX, hostname), at most `parallelism` at a time; retries failures with the
// pod-failure backoff until backoffLimit; fails at activeDeadlineSeconds; applies podFailurePolicy
// (FailJob, Ignore, Count); suspends and resumes; reports SuccessCriteriaMet/Complete and
// FailureTarget/Failed conditions with upstream's reasons; deletes finished Jobs after
// ttlSecondsAfterFinished (the TTL-after-finished controller's job).
//
// Succeeded and failed pods are counted through the batch.kubernetes.io/job-tracking finalizer every pod
// carries (job-tracking.ts): recorded in status.uncountedTerminatedPods, released, then added to the
// counters, so a pod deleted by someone else (an eviction, a user) is still seen, as failed unless it had
// succeeded (with a podFailurePolicy, only once it reached Failed, its final status going through the
// policy). Pods this controller deletes itself (excess, suspension, completion) lose the finalizer first
// and are not counted.

import type { KubernetesObject } from '@kubernetes/client-node';
import { ApiStatusError } from '../../clients/json-api-client.ts';
import { apiVersionOf, collectionPath, JOBS, objectPath, PODS } from '../framework/api-paths.ts';
import { objectKey, type CachedInformer } from '../framework/cached-informer.ts';
import { claimObjects } from '../framework/controller-ref.ts';
import { QueueController, type ControllerContext } from '../framework/controller.ts';
import { ControllerExpectations } from '../framework/expectations.ts';
import { isLabelSelector, selectorMatches, type LabelSelector } from '../framework/label-selector.ts';
import { controllerOf, podView, workloadObject, type PodView, type WorkloadObject } from '../framework/object-views.ts';
import { objectReference, ownerReference, PodControl, slowStartBatch, type PodTemplate } from '../framework/pod-control.ts';
import { COMPLETION_INDEX_ANNOTATION, completionIndex, failureBackoffMs, int } from './job-status.ts';
import {
  hasTrackingFinalizer, JOB_TRACKING_FINALIZER, recordFinishedPods, removeTrackingFinalizer, uncountedStatus,
} from './job-tracking.ts';

/** Queue keys of pods whose tracking finalizer may have to go (orphans, pods of finished or deleted Jobs). */
const ORPHAN_POD_PREFIX = 'pod:';

const COMPONENT = 'job-controller';
const JOB_KIND = { apiVersion: apiVersionOf(JOBS), kind: 'Job' };

interface JobCondition {
  type: string;
  status: string;
  lastProbeTime?: string;
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function conditionTrue(status: Record<string, unknown>, type: string): JobCondition | undefined {
  return ((status.conditions ?? []) as JobCondition[]).find((c) => c.type === type && c.status === 'True');
}

function setCondition(status: Record<string, unknown>, type: string, state: 'True' | 'False', reason: string, message: string, nowMs: number): boolean {
  const conditions = (status.conditions ?? []) as JobCondition[];
  const existing = conditions.find((c) => c.type === type);
  if (existing && existing.status === state && existing.reason === reason && existing.message === message) return false;
  const now = rfc3339(nowMs);
  const condition: JobCondition = { type, status: state, lastProbeTime: now, lastTransitionTime: existing?.status === state ? existing.lastTransitionTime : now, reason, message };
  status.conditions = existing ? conditions.map((c) => (c === existing ? condition : c)) : [...conditions, condition];
  return true;
}

export function jobFinished(job: WorkloadObject): 'Complete' | 'Failed' | undefined {
  const status = job.status ?? {};
  if (conditionTrue(status, 'Complete')) return 'Complete';
  if (conditionTrue(status, 'Failed')) return 'Failed';
  return undefined;
}

export class JobController extends QueueController {
  readonly jobs: CachedInformer<WorkloadObject>;
  readonly pods: CachedInformer<PodView>;
  private readonly podControl: PodControl;
  /** Job uid → when its latest pod failure was seen (the backoff before replacing it). */
  private readonly lastFailure = new Map<string, { count: number; atMs: number }>();
  /** Uids of pods whose tracking finalizer was removed, until the informer shows it gone (finalizerExpectations). */
  private readonly finalizerRemovals = new Set<string>();
  /** Pod creations asked for and not yet seen by the pod informer, per Job key (upstream's jm.expectations). */
  private readonly expectations = new ControllerExpectations();
  /** resourceVersion of the status last written per Job uid, until the informer has caught up with it. */
  private readonly writtenVersions = new Map<string, number>();

  constructor(ctx: ControllerContext) {
    super(COMPONENT, ctx);
    this.pods = ctx.informers.informer(collectionPath(PODS), podView);
    this.jobs = ctx.informers.informer(collectionPath(JOBS), workloadObject);
    this.podControl = new PodControl(ctx.client, ctx.recorder, COMPONENT);
    const enqueueJob = (job: WorkloadObject): void => this.enqueue(objectKey(job.metadata.namespace, job.metadata.name));
    this.jobs.addHandlers({ add: enqueueJob, update: (_old, job) => enqueueJob(job), delete: (job) => {
      this.lastFailure.delete(job.metadata.uid);
      this.writtenVersions.delete(job.metadata.uid);
      this.expectations.delete(objectKey(job.metadata.namespace, job.metadata.name));
      // A deleted Job's pods keep no finalizer of it (cleanupPodFinalizers).
      for (const pod of this.pods.controlledBy(job.metadata.uid)) if (hasTrackingFinalizer(pod)) this.enqueueOrphanPod(pod);
    } });
    const podChanged = (pod: PodView): void => {
      if (!hasTrackingFinalizer(pod)) this.finalizerRemovals.delete(pod.metadata.uid);
      const ref = controllerOf(pod.metadata);
      if (ref?.kind === 'Job') {
        const job = this.jobs.getByKey(objectKey(pod.metadata.namespace, ref.name));
        if (hasTrackingFinalizer(pod) && (!job || job.metadata.uid !== ref.uid)) this.enqueueOrphanPod(pod);
        else this.enqueue(objectKey(pod.metadata.namespace, ref.name));
        return;
      }
      if (hasTrackingFinalizer(pod)) this.enqueueOrphanPod(pod);
      if (!ref && !pod.metadata.deletionTimestamp) {
        // An orphan: the Jobs whose selector matches it may adopt it (upstream's getPodJobs).
        for (const candidate of this.jobs.list(pod.metadata.namespace ?? '')) {
          const selector = isLabelSelector(candidate.spec?.selector) ? candidate.spec?.selector as LabelSelector : undefined;
          let matches = false;
          try {
            matches = selector !== undefined && selectorMatches(selector, pod.metadata.labels);
          } catch {
            // A selector that does not parse selects nothing.
          }
          if (matches) enqueueJob(candidate);
        }
      }
    };
    const podUpdated = (old: PodView, pod: PodView): void => {
      // A changed controllerRef or labels: the former owner syncs too (it may have to release or replace it).
      const oldRef = controllerOf(old.metadata);
      const ref = controllerOf(pod.metadata);
      if (oldRef?.kind === 'Job' && (oldRef.uid !== ref?.uid)) this.enqueue(objectKey(old.metadata.namespace, oldRef.name));
      podChanged(pod);
    };
    const podDeleted = (pod: PodView): void => {
      this.finalizerRemovals.delete(pod.metadata.uid);
      const ref = controllerOf(pod.metadata);
      if (ref?.kind === 'Job') this.enqueue(objectKey(pod.metadata.namespace, ref.name));
    };
    const podAdded = (pod: PodView): void => {
      const ref = controllerOf(pod.metadata);
      if (ref?.kind === 'Job') this.expectations.creationObserved(objectKey(pod.metadata.namespace, ref.name));
      podChanged(pod);
    };
    this.pods.addHandlers({ add: podAdded, update: podUpdated, delete: podDeleted });
  }

  private enqueueOrphanPod(pod: PodView): void {
    this.enqueue(`${ORPHAN_POD_PREFIX}${objectKey(pod.metadata.namespace, pod.metadata.name)}`);
  }

  /** syncOrphanPod: the finalizer goes unless the pod's Job still exists, unfinished. */
  private async syncOrphanPod(key: string): Promise<void> {
    const cached = this.pods.getByKey(key);
    if (!cached || !hasTrackingFinalizer(cached) || this.finalizerRemovals.has(cached.metadata.uid)) return;
    const held = (pod: PodView): boolean => {
      const ref = controllerOf(pod.metadata);
      if (ref?.kind !== 'Job') return false;
      const job = this.jobs.getByKey(objectKey(pod.metadata.namespace, ref.name));
      return job !== undefined && job.metadata.uid === ref.uid && !jobFinished(job) && !job.metadata.deletionTimestamp;
    };
    if (held(cached)) return;
    // Read again: a Job may have adopted it since the cache saw it; the removal is guarded by that read.
    let fresh: KubernetesObject;
    try {
      fresh = await this.ctx.client.request<KubernetesObject>('GET', objectPath(PODS, cached.metadata.namespace, cached.metadata.name));
    } catch (err) {
      if (err instanceof ApiStatusError && err.code === 404) return;
      throw err;
    }
    const pod = podView(fresh);
    if (pod.metadata.uid !== cached.metadata.uid || !hasTrackingFinalizer(pod) || held(pod)) return;
    await removeTrackingFinalizer(this.ctx.client, pod, pod.metadata.resourceVersion);
  }

  private async releasePod(pod: PodView): Promise<boolean> {
    this.finalizerRemovals.add(pod.metadata.uid);
    try {
      return await removeTrackingFinalizer(this.ctx.client, pod);
    } catch (err) {
      this.finalizerRemovals.delete(pod.metadata.uid);
      throw err;
    }
  }

  /** The finalizers of a finished or deleted Job's pods: nothing more will be counted. */
  private async releaseAllPods(job: WorkloadObject): Promise<void> {
    const held = this.pods.controlledBy(job.metadata.uid).filter((pod) => hasTrackingFinalizer(pod) && !this.finalizerRemovals.has(pod.metadata.uid));
    const results = await Promise.allSettled(held.map((pod) => this.releasePod(pod)));
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure) throw failure.reason;
  }

  protected async sync(key: string): Promise<void> {
    if (key.startsWith(ORPHAN_POD_PREFIX)) return this.syncOrphanPod(key.slice(ORPHAN_POD_PREFIX.length));
    const cached = this.jobs.getByKey(key);
    if (!cached) return;
    // A Job whose cached copy is older than the status this controller last wrote waits for the informer (whose
    // update queues it again): with the finalizers of its finished pods already removed, the old completedIndexes or
    // counters would make it create those pods' replacements again.
    const written = this.writtenVersions.get(cached.metadata.uid ?? '');
    if (written !== undefined) {
      if (written > Number(cached.metadata.resourceVersion)) return;
      this.writtenVersions.delete(cached.metadata.uid ?? '');
    }
    let job: WorkloadObject = cached;
    if (job.metadata.deletionTimestamp) {
      // Being deleted (foreground: the garbage collector waits for the pods): the pods may go.
      await this.releaseAllPods(job);
      return;
    }
    const now = this.ctx.now();
    const finished = jobFinished(job);
    if (finished) {
      await this.releaseAllPods(job);
      await this.expireIfDue(job, now);
      return;
    }
    const spec = job.spec ?? {};
    const namespace = job.metadata.namespace ?? '';
    const ref = objectReference(JOB_KIND, job.metadata);
    const selector = isLabelSelector(spec.selector) ? spec.selector as LabelSelector : undefined;
    const pods = await claimObjects(this.ctx.client, this.pods.list(namespace), {
      meta: job.metadata, controllerRef: ownerReference(JOB_KIND, job.metadata), finalizers: [JOB_TRACKING_FINALIZER],
      canAdopt: async () => {
        const fresh = await this.ctx.client.request<WorkloadObject>('GET', objectPath(JOBS, namespace, job.metadata.name));
        return fresh.metadata.uid === job.metadata.uid && !fresh.metadata.deletionTimestamp;
      },
    }, (pod) => selectorMatches(selector, pod.metadata.labels), (pod) => objectPath(PODS, namespace, pod.metadata.name));

    const indexed = spec.completionMode === 'Indexed';
    const completions = typeof spec.completions === 'number' ? spec.completions : undefined;
    const parallelism = int(spec.parallelism, 1);
    const active = pods.filter((pod) => pod.phase !== 'Succeeded' && pod.phase !== 'Failed' && !pod.metadata.deletionTimestamp);
    const terminating = pods.filter((pod) => pod.metadata.deletionTimestamp && pod.phase !== 'Succeeded' && pod.phase !== 'Failed');

    // Finished pods still holding the finalizer: recorded as uncounted (step 1), then released (step 2).
    const tracked = recordFinishedPods(job, pods, (pod) => this.finalizerRemovals.has(pod.metadata.uid));
    const { uncounted, completedIndexes, finishedPods, recorded } = tracked;
    let { status } = tracked;
    let failJob = tracked.failJob;
    if (recorded) {
      job = await this.putStatus(job, status);
      status = structuredClone(job.status ?? {});
    }
    // Step 2: the finalizers go; uids whose pods no longer hold one move into the counters.
    const released = new Set<string>();
    const results = await Promise.allSettled(finishedPods.map(async (pod) => {
      await this.releasePod(pod);
      released.add(pod.metadata.uid);
    }));
    const releaseFailure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    const stillHeld = new Set(pods.filter((pod) => hasTrackingFinalizer(pod) && !released.has(pod.metadata.uid)).map((pod) => pod.metadata.uid));
    for (const [set, counter] of [[uncounted.succeeded, 'succeeded'], [uncounted.failed, 'failed']] as const) {
      for (const uid of [...set]) {
        if (stillHeld.has(uid)) continue;
        set.delete(uid);
        if (!(indexed && counter === 'succeeded')) status[counter] = int(status[counter]) + 1;
      }
    }
    status.uncountedTerminatedPods = uncountedStatus(uncounted);
    if (releaseFailure) {
      await this.writeStatus(job, status);
      throw releaseFailure.reason;
    }
    const allCounted = uncounted.succeeded.size === 0 && uncounted.failed.size === 0;
    const succeeded = int(status.succeeded) + uncounted.succeeded.size;
    const failed = int(status.failed) + uncounted.failed.size;
    const restarts = spec.template && (spec.template as PodTemplate).spec?.restartPolicy === 'OnFailure'
      ? active.reduce((sum, pod) => sum + pod.restartCount, 0) : 0;

    // Track failures for the pod-failure backoff.
    const seen = this.lastFailure.get(job.metadata.uid);
    if (failed > (seen?.count ?? 0)) this.lastFailure.set(job.metadata.uid, { count: failed, atMs: now });

    status.active = active.length;
    status.ready = active.filter((pod) => pod.ready).length;
    status.terminating = terminating.length;
    if (!status.succeeded) delete status.succeeded;
    if (!status.failed) delete status.failed;

    const suspended = spec.suspend === true;
    if (!suspended && !status.startTime) status.startTime = rfc3339(now);
    const backoffLimit = int(spec.backoffLimit, 6);
    const deadline = typeof spec.activeDeadlineSeconds === 'number' ? spec.activeDeadlineSeconds : undefined;
    const started = typeof status.startTime === 'string' ? Date.parse(status.startTime) : NaN;

    if (!failJob && !conditionTrue(status, 'FailureTarget')) {
      if (failed > backoffLimit || (restarts > 0 && restarts >= backoffLimit)) {
        failJob = { reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' };
      } else if (deadline !== undefined && !suspended && !Number.isNaN(started) && now >= started + deadline * 1000) {
        failJob = { reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' };
      }
    }
    const existingTarget = conditionTrue(status, 'FailureTarget');
    if (failJob || existingTarget) {
      const reason = existingTarget?.reason ?? failJob!.reason;
      const message = existingTarget?.message ?? failJob!.message;
      if (!existingTarget) setCondition(status, 'FailureTarget', 'True', reason, message, now);
      // The pods still running when a Job fails count as failed, as upstream's: recorded before they are deleted.
      const condemned = active.filter((pod) => hasTrackingFinalizer(pod) && !this.finalizerRemovals.has(pod.metadata.uid)
        && !uncounted.failed.has(pod.metadata.uid));
      if (condemned.length) {
        for (const pod of condemned) uncounted.failed.add(pod.metadata.uid);
        status.uncountedTerminatedPods = uncountedStatus(uncounted);
        job = await this.putStatus(job, status);
        status = structuredClone(job.status ?? {});
      }
      const deletions = await Promise.allSettled(active.map((pod) => this.deletePod(namespace, pod, ref)));
      active.forEach((pod, i) => {
        // Released (and deleted): counted.
        if (deletions[i].status === 'fulfilled' && uncounted.failed.delete(pod.metadata.uid)) status.failed = int(status.failed) + 1;
      });
      status.uncountedTerminatedPods = uncountedStatus(uncounted);
      // Finished only once every pod is gone and counted (uncountedTerminatedPods empty).
      const failedNow = active.length === 0 && terminating.length === 0 && allCounted;
      if (failedNow) setCondition(status, 'Failed', 'True', reason, message, now);
      status.active = 0;
      await this.writeStatus(job, status);
      // Recorded once the status is stored (a sync on a stale copy fails its write and records nothing).
      if (failedNow) this.ctx.recorder.event(COMPONENT, ref, 'Warning', reason, message);
      return;
    }

    const complete = indexed ? completions !== undefined && completedIndexes.size >= completions
      : completions !== undefined ? succeeded >= completions : succeeded > 0 && active.length === 0;
    if (complete || conditionTrue(status, 'SuccessCriteriaMet')) {
      setCondition(status, 'SuccessCriteriaMet', 'True', 'CompletionsReached', 'Reached expected number of succeeded pods', now);
      await Promise.allSettled(active.map((pod) => this.deletePod(namespace, pod, ref)));
      const completeNow = active.length === 0 && terminating.length === 0 && allCounted;
      if (completeNow) {
        setCondition(status, 'Complete', 'True', 'CompletionsReached', 'Reached expected number of succeeded pods', now);
        status.completionTime = rfc3339(now);
      }
      status.active = 0;
      await this.writeStatus(job, status);
      if (completeNow) this.ctx.recorder.event(COMPONENT, ref, 'Normal', 'Completed', 'Job completed');
      if (conditionTrue(status, 'Complete')) await this.expireIfDue({ ...job, status }, now);
      return;
    }

    if (suspended) {
      if (setCondition(status, 'Suspended', 'True', 'JobSuspended', 'Job suspended', now)) {
        this.ctx.recorder.event(COMPONENT, ref, 'Normal', 'Suspended', 'Job suspended');
      }
      await Promise.allSettled(active.map((pod) => this.deletePod(namespace, pod, ref)));
      status.active = 0;
      delete status.startTime;
      await this.writeStatus(job, status);
      return;
    }
    if (conditionTrue(status, 'Suspended')) {
      setCondition(status, 'Suspended', 'False', 'JobResumed', 'Job resumed', now);
      this.ctx.recorder.event(COMPONENT, ref, 'Normal', 'Resumed', 'Job resumed');
    }

    // How many should run now.
    let wantActive: number;
    if (indexed) wantActive = Math.min(parallelism, (completions ?? 0) - completedIndexes.size);
    else if (completions === undefined) wantActive = succeeded > 0 ? active.length : parallelism;
    else wantActive = Math.min(parallelism, completions - succeeded);
    wantActive = Math.max(0, wantActive);

    // Every pod carries the tracking finalizer from its creation.
    const specTemplate = (spec.template ?? {}) as PodTemplate;
    const template: PodTemplate = {
      ...specTemplate,
      metadata: { ...(specTemplate.metadata ?? {}), finalizers: [...(specTemplate.metadata?.finalizers ?? []), JOB_TRACKING_FINALIZER] },
    };
    // Pods asked for in an earlier sync and not yet in the cache would be asked for again (duplicate indexes):
    // until they are seen, only the status is written, as upstream's syncJob skips manageJob.
    const satisfied = this.expectations.satisfied(key);
    if (satisfied && active.length < wantActive) {
      const failure = this.lastFailure.get(job.metadata.uid);
      const wait = failure ? failure.atMs + failureBackoffMs(failed) - now : 0;
      if (failed > 0 && wait > 0) {
        this.enqueueAfter(key, wait);
      } else {
        const missingIndexes = indexed ? this.missingIndexes(completions ?? 0, completedIndexes, active) : [];
        const count = indexed ? Math.min(wantActive - active.length, missingIndexes.length) : wantActive - active.length;
        const controllerRef = ownerReference(JOB_KIND, job.metadata);
        let next = 0;
        this.expectations.expectCreations(key, count);
        const { successes, error } = await slowStartBatch(count, 1, async () => {
          const index = indexed ? missingIndexes[next++] : undefined;
          await this.podControl.create(namespace, template, ref, controllerRef, index === undefined ? {} : {
            generateName: `${job.metadata.name}-${index}-`,
            extraAnnotations: { [COMPLETION_INDEX_ANNOTATION]: String(index) },
            extraLabels: { [COMPLETION_INDEX_ANNOTATION]: String(index) },
            mutateSpec: (podSpec) => withCompletionIndex(podSpec, `${job.metadata.name}-${index}`),
          });
        });
        // Creations that were never attempted or failed will never be observed.
        if (successes < count) this.expectations.lowerCreations(key, count - successes);
        if (error) {
          await this.writeStatus(job, status);
          throw error;
        }
      }
    } else if (satisfied && active.length > wantActive) {
      const extra = [...active].sort((a, b) => Number(a.ready) - Number(b.ready)).slice(0, active.length - wantActive);
      await Promise.allSettled(extra.map((pod) => this.deletePod(namespace, pod, ref)));
    }
    await this.writeStatus(job, status);
    if (deadline !== undefined && !Number.isNaN(started)) this.enqueueAfter(key, Math.max(0, started + deadline * 1000 - now) + 100);
  }

  /** deleteJobPods: the finalizer goes first, so a pod this controller removes is never counted. */
  private async deletePod(namespace: string, pod: PodView, ref: ReturnType<typeof objectReference>): Promise<void> {
    if (hasTrackingFinalizer(pod) && !this.finalizerRemovals.has(pod.metadata.uid) && !(await this.releasePod(pod))) return;
    await this.podControl.delete(namespace, pod.metadata.name, ref);
  }

  private missingIndexes(completions: number, completed: Set<number>, active: PodView[]): number[] {
    const running = new Set(active.map(completionIndex).filter((i): i is number => i !== undefined));
    const missing: number[] = [];
    for (let i = 0; i < completions; i++) if (!completed.has(i) && !running.has(i)) missing.push(i);
    return missing;
  }

  private async writeStatus(job: WorkloadObject, status: Record<string, unknown>): Promise<void> {
    for (const field of ['active', 'ready', 'terminating']) if (status[field] === 0 && field !== 'ready') delete status[field];
    if (canonical(status) === canonical(job.status ?? {})) return;
    try {
      await this.putStatus(job, status);
    } catch (err) {
      if (err instanceof ApiStatusError && err.code === 404) return;
      throw err;
    }
  }

  /** The status written at the Job's cached resourceVersion (a conflict retries the sync); the Job as stored. */
  private async putStatus(job: WorkloadObject, status: Record<string, unknown>): Promise<WorkloadObject> {
    const stored = await this.ctx.client.request<WorkloadObject>('PUT', objectPath(JOBS, job.metadata.namespace, job.metadata.name, 'status'), { ...job, status });
    const version = Number(stored.metadata.resourceVersion);
    if (stored.metadata.uid && Number.isFinite(version)) this.writtenVersions.set(stored.metadata.uid, version);
    return stored;
  }

  /** The TTL-after-finished controller: delete a finished Job ttlSecondsAfterFinished after it finished. */
  private async expireIfDue(job: WorkloadObject, now: number): Promise<void> {
    const ttl = job.spec?.ttlSecondsAfterFinished;
    if (typeof ttl !== 'number') return;
    const finishedAt = ((job.status?.conditions ?? []) as JobCondition[])
      .filter((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True')
      .map((c) => Date.parse(c.lastTransitionTime ?? ''))[0];
    if (finishedAt === undefined || Number.isNaN(finishedAt)) return;
    const due = finishedAt + ttl * 1000;
    if (now < due) {
      this.enqueueAfter(objectKey(job.metadata.namespace, job.metadata.name), due - now + 100);
      return;
    }
    try {
      await this.ctx.client.request('DELETE', objectPath(JOBS, job.metadata.namespace, job.metadata.name), {
        kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Foreground', preconditions: { uid: job.metadata.uid },
      });
    } catch (err) {
      if (!(err instanceof ApiStatusError && (err.code === 404 || err.code === 409))) throw err;
    }
  }
}

/** Indexed Jobs: JOB_COMPLETION_INDEX in every container (from the annotation) and a stable hostname. */
function withCompletionIndex(spec: Record<string, unknown>, hostname: string): void {
  spec.hostname ??= hostname;
  for (const key of ['containers', 'initContainers']) {
    const containers = Array.isArray(spec[key]) ? spec[key] as Record<string, unknown>[] : [];
    for (const container of containers) {
      const env = Array.isArray(container.env) ? container.env as Record<string, unknown>[] : [];
      if (env.some((e) => e.name === 'JOB_COMPLETION_INDEX')) continue;
      container.env = [{ name: 'JOB_COMPLETION_INDEX', valueFrom: { fieldRef: { fieldPath: `metadata.annotations['${COMPLETION_INDEX_ANNOTATION}']` } } }, ...env];
    }
  }
}

function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (v && typeof v === 'object' && !Array.isArray(v)
    ? Object.fromEntries(Object.keys(v as object).sort().map((k) => [k, (v as Record<string, unknown>)[k]])) : v));
}
