// The Job controller (pkg/controller/job): runs pods until `completions` succeed (NonIndexed) or
// every index 0..completions-1 has succeeded (Indexed: completion index annotation and label,
// JOB_COMPLETION_INDEX, hostname), at most `parallelism` at a time; retries failures with the
// pod-failure backoff until backoffLimit; fails at activeDeadlineSeconds; applies podFailurePolicy
// (FailJob, Ignore, Count); suspends and resumes; reports SuccessCriteriaMet/Complete and
// FailureTarget/Failed conditions with upstream's reasons; deletes finished Jobs after
// ttlSecondsAfterFinished (the TTL-after-finished controller's job).
//
// Succeeded and failed counts come from the pods present (upstream's tracking before the
// batch.kubernetes.io/job-tracking finalizer) and never decrease: deleting a finished pod by hand
// does not make the Job run it again, but a pod removed before it was ever seen is not counted.
// A pod deleted by someone else (an eviction, a user) is remembered as it was last seen: it counts as a
// failure unless it had succeeded (with a podFailurePolicy, only when it reached Failed), and its final
// status (exit codes, the DisruptionTarget condition an eviction adds) goes through the podFailurePolicy,
// as upstream's finalizer-tracked counting sees it; the pods this controller deletes itself do not count.

import { ApiStatusError } from '../../clients/json-api-client.ts';
import { apiVersionOf, collectionPath, JOBS, objectPath, PODS } from '../framework/api-paths.ts';
import { objectKey, type CachedInformer } from '../framework/cached-informer.ts';
import { claimObjects } from '../framework/controller-ref.ts';
import { QueueController, type ControllerContext } from '../framework/controller.ts';
import { isLabelSelector, selectorMatches, type LabelSelector } from '../framework/label-selector.ts';
import { controllerOf, podView, workloadObject, type PodView, type WorkloadObject } from '../framework/object-views.ts';
import { objectReference, ownerReference, PodControl, slowStartBatch, type PodTemplate } from '../framework/pod-control.ts';
import {
  COMPLETION_INDEX_ANNOTATION, completionIndex, failureBackoffMs, formatIndexes, int, matchPodFailurePolicy, parseIndexes,
} from './job-status.ts';

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
  /** Job uid → pods of it deleted by others, as last seen, that count as failures (see above). */
  private readonly deletedFailed = new Map<string, Map<string, PodView>>();
  /** Uids of the pods this controller asked to delete (suspension, success, failure, excess). */
  private readonly deletedByController = new Set<string>();

  constructor(ctx: ControllerContext) {
    super(COMPONENT, ctx);
    this.pods = ctx.informers.informer(collectionPath(PODS), podView);
    this.jobs = ctx.informers.informer(collectionPath(JOBS), workloadObject);
    this.podControl = new PodControl(ctx.client, ctx.recorder, COMPONENT);
    const enqueueJob = (job: WorkloadObject): void => this.enqueue(objectKey(job.metadata.namespace, job.metadata.name));
    this.jobs.addHandlers({ add: enqueueJob, update: (_old, job) => enqueueJob(job), delete: (job) => {
      this.lastFailure.delete(job.metadata.uid);
      this.deletedFailed.delete(job.metadata.uid);
    } });
    const podChanged = (pod: PodView): void => {
      const ref = controllerOf(pod.metadata);
      if (ref?.kind === 'Job') this.enqueue(objectKey(pod.metadata.namespace, ref.name));
      else if (!ref && !pod.metadata.deletionTimestamp) {
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
      if (this.deletedByController.delete(pod.metadata.uid)) {
        podChanged(pod);
        return;
      }
      const ref = controllerOf(pod.metadata);
      const job = ref?.kind === 'Job' ? this.jobs.getByKey(objectKey(pod.metadata.namespace, ref.name)) : undefined;
      if (job && job.metadata.uid === ref?.uid && countsAsFailedWhenDeleted(job, pod)) {
        const deleted = this.deletedFailed.get(job.metadata.uid) ?? new Map<string, PodView>();
        deleted.set(pod.metadata.uid, pod);
        this.deletedFailed.set(job.metadata.uid, deleted);
      }
      podChanged(pod);
    };
    this.pods.addHandlers({ add: podChanged, update: podUpdated, delete: podDeleted });
  }

  protected async sync(key: string): Promise<void> {
    const job = this.jobs.getByKey(key);
    if (!job || job.metadata.deletionTimestamp) return;
    const now = this.ctx.now();
    const finished = jobFinished(job);
    if (finished) {
      await this.expireIfDue(job, now);
      return;
    }
    const spec = job.spec ?? {};
    const namespace = job.metadata.namespace ?? '';
    const ref = objectReference(JOB_KIND, job.metadata);
    const selector = isLabelSelector(spec.selector) ? spec.selector as LabelSelector : undefined;
    const pods = await claimObjects(this.ctx.client, this.pods.list(namespace), {
      meta: job.metadata, controllerRef: ownerReference(JOB_KIND, job.metadata),
      canAdopt: async () => {
        const fresh = await this.ctx.client.request<WorkloadObject>('GET', objectPath(JOBS, namespace, job.metadata.name));
        return fresh.metadata.uid === job.metadata.uid && !fresh.metadata.deletionTimestamp;
      },
    }, (pod) => selectorMatches(selector, pod.metadata.labels), (pod) => objectPath(PODS, namespace, pod.metadata.name));

    const status: Record<string, unknown> = structuredClone(job.status ?? {});
    const indexed = spec.completionMode === 'Indexed';
    const completions = typeof spec.completions === 'number' ? spec.completions : undefined;
    const parallelism = int(spec.parallelism, 1);
    const active = pods.filter((pod) => pod.phase !== 'Succeeded' && pod.phase !== 'Failed' && !pod.metadata.deletionTimestamp);
    const terminating = pods.filter((pod) => pod.metadata.deletionTimestamp && pod.phase !== 'Succeeded' && pod.phase !== 'Failed');
    const succeededPods = pods.filter((pod) => pod.phase === 'Succeeded');
    let failJob: { reason: string; message: string } | undefined;
    let failedCount = 0;
    const deletedFailed = [...(this.deletedFailed.get(job.metadata.uid)?.values() ?? [])];
    for (const pod of [...pods.filter((p) => p.phase === 'Failed'), ...deletedFailed]) {
      const match = isPlainRules(spec.podFailurePolicy) ? matchPodFailurePolicy(job, pod) : undefined;
      if (match?.action === 'Ignore') continue;
      if (match?.action === 'FailJob') failJob ??= { reason: 'PodFailurePolicy', message: match.message };
      failedCount++;
    }
    const succeeded = Math.max(int(status.succeeded), succeededPods.length);
    const failed = Math.max(int(status.failed), failedCount);
    const completedIndexes = indexed ? parseIndexes(status.completedIndexes) : new Set<number>();
    if (indexed) for (const pod of succeededPods) {
      const index = completionIndex(pod);
      if (index !== undefined && (completions === undefined || index < completions)) completedIndexes.add(index);
    }
    const restarts = spec.template && (spec.template as PodTemplate).spec?.restartPolicy === 'OnFailure'
      ? active.reduce((sum, pod) => sum + pod.restartCount, 0) : 0;

    // Track failures for the pod-failure backoff.
    const seen = this.lastFailure.get(job.metadata.uid);
    if (failed > (seen?.count ?? 0)) this.lastFailure.set(job.metadata.uid, { count: failed, atMs: now });

    status.active = active.length;
    status.ready = active.filter((pod) => pod.ready).length;
    status.terminating = terminating.length;
    if (succeeded) status.succeeded = succeeded; else delete status.succeeded;
    if (failed) status.failed = failed; else delete status.failed;
    if (indexed) status.completedIndexes = formatIndexes(completedIndexes);

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
      await Promise.allSettled(active.map((pod) => this.deletePod(namespace, pod, ref)));
      if (active.length === 0 && terminating.length === 0) {
        setCondition(status, 'Failed', 'True', reason, message, now);
        this.ctx.recorder.event(COMPONENT, ref, 'Warning', reason, message);
      }
      status.active = 0;
      await this.writeStatus(job, status);
      return;
    }

    const complete = indexed ? completions !== undefined && completedIndexes.size >= completions
      : completions !== undefined ? succeeded >= completions : succeeded > 0 && active.length === 0;
    if (complete || conditionTrue(status, 'SuccessCriteriaMet')) {
      setCondition(status, 'SuccessCriteriaMet', 'True', 'CompletionsReached', 'Reached expected number of succeeded pods', now);
      await Promise.allSettled(active.map((pod) => this.deletePod(namespace, pod, ref)));
      if (active.length === 0 && terminating.length === 0) {
        setCondition(status, 'Complete', 'True', 'CompletionsReached', 'Reached expected number of succeeded pods', now);
        status.completionTime = rfc3339(now);
        this.ctx.recorder.event(COMPONENT, ref, 'Normal', 'Completed', 'Job completed');
      }
      status.active = 0;
      await this.writeStatus(job, status);
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

    const template = (spec.template ?? {}) as PodTemplate;
    if (active.length < wantActive) {
      const failure = this.lastFailure.get(job.metadata.uid);
      const wait = failure ? failure.atMs + failureBackoffMs(failed) - now : 0;
      if (failed > 0 && wait > 0) {
        this.enqueueAfter(key, wait);
      } else {
        const missingIndexes = indexed ? this.missingIndexes(completions ?? 0, completedIndexes, active) : [];
        const count = indexed ? Math.min(wantActive - active.length, missingIndexes.length) : wantActive - active.length;
        const controllerRef = ownerReference(JOB_KIND, job.metadata);
        let next = 0;
        const { error } = await slowStartBatch(count, 1, async () => {
          const index = indexed ? missingIndexes[next++] : undefined;
          await this.podControl.create(namespace, template, ref, controllerRef, index === undefined ? {} : {
            generateName: `${job.metadata.name}-${index}-`,
            extraAnnotations: { [COMPLETION_INDEX_ANNOTATION]: String(index) },
            extraLabels: { [COMPLETION_INDEX_ANNOTATION]: String(index) },
            mutateSpec: (podSpec) => withCompletionIndex(podSpec, `${job.metadata.name}-${index}`),
          });
        });
        if (error) {
          await this.writeStatus(job, status);
          throw error;
        }
      }
    } else if (active.length > wantActive) {
      const extra = [...active].sort((a, b) => Number(a.ready) - Number(b.ready)).slice(0, active.length - wantActive);
      await Promise.allSettled(extra.map((pod) => this.deletePod(namespace, pod, ref)));
    }
    await this.writeStatus(job, status);
    if (deadline !== undefined && !Number.isNaN(started)) this.enqueueAfter(key, Math.max(0, started + deadline * 1000 - now) + 100);
  }

  private deletePod(namespace: string, pod: PodView, ref: ReturnType<typeof objectReference>): Promise<void> {
    this.deletedByController.add(pod.metadata.uid);
    return this.podControl.delete(namespace, pod.metadata.name, ref).catch((err: unknown) => {
      this.deletedByController.delete(pod.metadata.uid);
      throw err;
    });
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
      await this.ctx.client.request('PUT', objectPath(JOBS, job.metadata.namespace, job.metadata.name, 'status'), { ...job, status });
    } catch (err) {
      if (err instanceof ApiStatusError && err.code === 404) return;
      throw err;
    }
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

/** isPodFailed for a pod that is gone: Failed, or (without a podFailurePolicy) anything but Succeeded. */
function countsAsFailedWhenDeleted(job: WorkloadObject, pod: PodView): boolean {
  if (pod.phase === 'Failed') return true;
  return !isPlainRules(job.spec?.podFailurePolicy) && pod.phase !== 'Succeeded';
}

function isPlainRules(policy: unknown): boolean {
  return policy !== null && typeof policy === 'object' && Array.isArray((policy as { rules?: unknown }).rules);
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
