// The CronJob controller (pkg/controller/cronjob, the v2 controller): at each scheduled time (standard
// cron syntax and @hourly-style macros, in spec.timeZone or the controller's zone) creates a Job named
// `<cronjob>-<minutes since the epoch>` from the jobTemplate, honouring suspend,
// startingDeadlineSeconds, concurrencyPolicy Allow/Forbid/Replace; keeps status.active and
// lastScheduleTime/lastSuccessfulTime; deletes finished Jobs beyond the history limits. Schedules are
// evaluated with croner (a maintained, dependency-free cron library with time zone support); the
// clock is the controller context's, so tests can move time.

import { Cron } from 'croner';
import { ApiStatusError } from '../../clients/json-api-client.ts';
import { apiVersionOf, collectionPath, CRON_JOBS, JOBS, objectPath } from '../framework/api-paths.ts';
import { objectKey, type CachedInformer } from '../framework/cached-informer.ts';
import { QueueController, type ControllerContext } from '../framework/controller.ts';
import { controllerOf, workloadObject, type WorkloadObject } from '../framework/object-views.ts';
import { apiErrorMessage, objectReference, ownerReference } from '../framework/pod-control.ts';
import { jobFinished } from '../job/job-controller.ts';

const COMPONENT = 'cronjob-controller';
const CRONJOB_KIND = { apiVersion: apiVersionOf(CRON_JOBS), kind: 'CronJob' };
const SCHEDULED_TIMESTAMP_ANNOTATION = 'batch.kubernetes.io/cronjob-scheduled-timestamp';
const MAX_MISSED_SCHEDULES = 100;

function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function int(value: unknown, fallback: number): number {
  return typeof value === 'number' ? value : fallback;
}

interface JobReference {
  kind: string;
  namespace?: string;
  name: string;
  uid: string;
  apiVersion: string;
  resourceVersion?: string;
}

/** The schedule as croner reads it; robfig's `TZ=`/`CRON_TZ=` prefix becomes the zone. */
export function parseSchedule(schedule: string, timeZone: string | undefined): Cron {
  let expression = schedule.trim();
  let zone = timeZone;
  const prefixed = /^(?:CRON_)?TZ=(\S+)\s+(.*)$/.exec(expression);
  if (prefixed) {
    zone = prefixed[1];
    expression = prefixed[2];
  }
  return new Cron(expression, { paused: true, ...(zone ? { timezone: zone } : {}), mode: '5-part' });
}

/**
 * mostRecentScheduleTime: the latest schedule time in (earliest, now], and how many were missed;
 * undefined when none has come yet.
 */
export function mostRecentSchedule(cron: Cron, earliestMs: number, nowMs: number): { timeMs: number; missed: number } | undefined {
  let next = cron.nextRun(new Date(earliestMs));
  if (!next || next.getTime() > nowMs) return undefined;
  let latest = next.getTime();
  let missed = 1;
  for (;;) {
    next = cron.nextRun(new Date(latest));
    if (!next || next.getTime() > nowMs) break;
    latest = next.getTime();
    missed++;
    if (missed > MAX_MISSED_SCHEDULES * 10) {
      // Far behind: jump to the last minute before now instead of walking every schedule.
      const jump = cron.nextRun(new Date(nowMs - 60_000));
      if (jump && jump.getTime() <= nowMs) latest = jump.getTime();
      break;
    }
  }
  return { timeMs: latest, missed };
}

export class CronJobController extends QueueController {
  readonly cronJobs: CachedInformer<WorkloadObject>;
  readonly jobs: CachedInformer<WorkloadObject>;

  constructor(ctx: ControllerContext) {
    super(COMPONENT, ctx);
    this.jobs = ctx.informers.informer(collectionPath(JOBS), workloadObject);
    this.cronJobs = ctx.informers.informer(collectionPath(CRON_JOBS), workloadObject);
    const enqueueCronJob = (cj: WorkloadObject): void => this.enqueue(objectKey(cj.metadata.namespace, cj.metadata.name));
    this.cronJobs.addHandlers({ add: enqueueCronJob, update: (_old, cj) => enqueueCronJob(cj) });
    const jobChanged = (job: WorkloadObject): void => {
      const ref = controllerOf(job.metadata);
      if (ref?.kind === 'CronJob') this.enqueue(objectKey(job.metadata.namespace, ref.name));
    };
    this.jobs.addHandlers({ add: jobChanged, update: (_old, job) => jobChanged(job), delete: jobChanged });
  }

  /** Look at every CronJob now (tests that moved the clock). */
  resyncAll(): void {
    for (const cj of this.cronJobs.list()) this.enqueue(objectKey(cj.metadata.namespace, cj.metadata.name));
  }

  protected async sync(key: string): Promise<void> {
    const cached = this.cronJobs.getByKey(key);
    if (!cached || cached.metadata.deletionTimestamp) return;
    const cj = structuredClone(cached);
    const namespace = cj.metadata.namespace ?? '';
    const ref = objectReference(CRONJOB_KIND, cj.metadata);
    const now = this.ctx.now();
    const spec = cj.spec ?? {};
    const status: Record<string, unknown> = structuredClone(cj.status ?? {});
    const owned = this.jobs.controlledBy(cj.metadata.uid);
    const ownedByName = new Map(owned.map((job) => [job.metadata.name, job]));

    // Reconcile status.active with the Jobs that exist and are still running.
    let active = ((status.active ?? []) as JobReference[]).filter((activeRef) => {
      const job = ownedByName.get(activeRef.name);
      if (!job || job.metadata.uid !== activeRef.uid) {
        this.ctx.recorder.event(COMPONENT, ref, 'Normal', 'MissingJob', `Active job went missing: ${activeRef.name}`);
        return false;
      }
      return true;
    });
    for (const job of owned) {
      const finished = jobFinished(job);
      const listed = active.some((a) => a.uid === job.metadata.uid);
      if (finished && listed) {
        active = active.filter((a) => a.uid !== job.metadata.uid);
        this.ctx.recorder.event(COMPONENT, ref, 'Normal', 'SawCompletedJob', `Saw completed job: ${job.metadata.name}, condition: ${finished}`);
      }
      if (finished === 'Complete') {
        const completion = typeof job.status?.completionTime === 'string' ? job.status.completionTime : undefined;
        if (completion && (!status.lastSuccessfulTime || Date.parse(completion) > Date.parse(String(status.lastSuccessfulTime)))) {
          status.lastSuccessfulTime = completion;
        }
      }
      if (!finished && !listed && !job.metadata.deletionTimestamp) active.push(jobReference(job));
    }
    status.active = active;
    await this.cleanupFinishedJobs(cj, owned, ref);

    if (spec.suspend === true) {
      await this.writeStatus(cj, status);
      return;
    }
    let cron: Cron;
    try {
      cron = parseSchedule(String(spec.schedule ?? ''), typeof spec.timeZone === 'string' ? spec.timeZone : undefined);
    } catch (err) {
      const unknownZone = typeof spec.timeZone === 'string' && /time ?zone/i.test(String(err));
      this.ctx.recorder.event(COMPONENT, ref, 'Warning', unknownZone ? 'UnknownTimeZone' : 'UnparseableSchedule',
        unknownZone ? `invalid timeZone: "${String(spec.timeZone)}": ${String(err)}` : `unparseable schedule: "${String(spec.schedule)}" : ${String(err)}`);
      await this.writeStatus(cj, status);
      return;
    }
    const lastSchedule = typeof status.lastScheduleTime === 'string' ? Date.parse(status.lastScheduleTime) : NaN;
    let earliest = Number.isNaN(lastSchedule) ? Date.parse(cj.metadata.creationTimestamp ?? '') || now : lastSchedule;
    const startingDeadline = typeof spec.startingDeadlineSeconds === 'number' ? spec.startingDeadlineSeconds : undefined;
    if (startingDeadline !== undefined) earliest = Math.max(earliest, now - startingDeadline * 1000);
    const scheduled = mostRecentSchedule(cron, earliest, now);
    const requeueNext = (): void => {
      const next = cron.nextRun(new Date(now));
      if (next) this.enqueueAfter(key, Math.max(0, next.getTime() - now) + 100);
    };
    if (!scheduled) {
      await this.writeStatus(cj, status);
      requeueNext();
      return;
    }
    if (scheduled.missed > MAX_MISSED_SCHEDULES) {
      this.ctx.recorder.event(COMPONENT, ref, 'Warning', 'TooManyMissedTimes',
        'too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew');
    }
    if (startingDeadline !== undefined && scheduled.timeMs + startingDeadline * 1000 < now) {
      this.ctx.recorder.event(COMPONENT, ref, 'Warning', 'MissSchedule', `Missed scheduled time to start a job: ${rfc3339(scheduled.timeMs)}`);
      await this.writeStatus(cj, status);
      requeueNext();
      return;
    }
    const jobName = `${cj.metadata.name}-${Math.floor(scheduled.timeMs / 60_000)}`;
    if (ownedByName.has(jobName) || (!Number.isNaN(lastSchedule) && lastSchedule >= scheduled.timeMs)) {
      // Already started (an earlier sync created the Job but could not record it): record it now.
      if (Number.isNaN(lastSchedule) || lastSchedule < scheduled.timeMs) status.lastScheduleTime = rfc3339(scheduled.timeMs);
      await this.writeStatus(cj, status);
      requeueNext();
      return;
    }
    const policy = spec.concurrencyPolicy ?? 'Allow';
    if (policy === 'Forbid' && active.length > 0) {
      this.ctx.recorder.event(COMPONENT, ref, 'Normal', 'JobAlreadyActive', 'Not starting job because prior execution is running and concurrency policy is Forbid');
      await this.writeStatus(cj, status);
      requeueNext();
      return;
    }
    if (policy === 'Replace') {
      for (const activeRef of active) {
        await this.deleteJob(namespace, activeRef.name, activeRef.uid);
        this.ctx.recorder.event(COMPONENT, ref, 'Normal', 'SuccessfulDelete', `Deleted job ${activeRef.name}`);
      }
      active = [];
      status.active = active;
    }
    const template = (spec.jobTemplate ?? {}) as { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: Record<string, unknown> };
    const body = {
      apiVersion: 'batch/v1', kind: 'Job',
      metadata: {
        name: jobName, namespace,
        labels: template.metadata?.labels ?? {},
        annotations: { ...(template.metadata?.annotations ?? {}), [SCHEDULED_TIMESTAMP_ANNOTATION]: scheduledTimestamp(scheduled.timeMs, spec.timeZone) },
        ownerReferences: [ownerReference(CRONJOB_KIND, cj.metadata)],
      },
      spec: template.spec ?? {},
    };
    try {
      const created = await this.ctx.client.request<WorkloadObject>('POST', collectionPath(JOBS, namespace), body);
      this.ctx.recorder.event(COMPONENT, ref, 'Normal', 'SuccessfulCreate', `Created job ${created.metadata.name}`);
      active.push(jobReference(created));
    } catch (err) {
      if (!(err instanceof ApiStatusError && err.code === 409)) {
        this.ctx.recorder.event(COMPONENT, ref, 'Warning', 'FailedCreate', `Error creating job: ${apiErrorMessage(err)}`);
        throw err;
      }
    }
    status.active = active;
    status.lastScheduleTime = rfc3339(scheduled.timeMs);
    await this.writeStatus(cj, status);
    requeueNext();
  }

  /** cleanupFinishedJobs: keep the newest successfulJobsHistoryLimit Complete and failedJobsHistoryLimit Failed Jobs. */
  private async cleanupFinishedJobs(cj: WorkloadObject, owned: WorkloadObject[], ref: ReturnType<typeof objectReference>): Promise<void> {
    const byStart = (a: WorkloadObject, b: WorkloadObject): number =>
      (Date.parse(String(a.status?.startTime ?? a.metadata.creationTimestamp)) || 0) - (Date.parse(String(b.status?.startTime ?? b.metadata.creationTimestamp)) || 0);
    for (const [state, limit] of [['Complete', int(cj.spec?.successfulJobsHistoryLimit, 3)], ['Failed', int(cj.spec?.failedJobsHistoryLimit, 1)]] as const) {
      const finished = owned.filter((job) => jobFinished(job) === state && !job.metadata.deletionTimestamp).sort(byStart);
      for (const job of finished.slice(0, Math.max(0, finished.length - limit))) {
        await this.deleteJob(cj.metadata.namespace ?? '', job.metadata.name, job.metadata.uid);
        this.ctx.recorder.event(COMPONENT, ref, 'Normal', 'SuccessfulDelete', `Deleted job ${job.metadata.name}`);
      }
    }
  }

  private async deleteJob(namespace: string, name: string, uid: string): Promise<void> {
    try {
      await this.ctx.client.request('DELETE', objectPath(JOBS, namespace, name), {
        kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background', preconditions: { uid },
      });
    } catch (err) {
      if (!(err instanceof ApiStatusError && (err.code === 404 || err.code === 409))) throw err;
    }
  }

  private async writeStatus(cj: WorkloadObject, status: Record<string, unknown>): Promise<void> {
    if (Array.isArray(status.active) && status.active.length === 0) delete status.active;
    if (JSON.stringify(status) === JSON.stringify(cj.status ?? {})) return;
    try {
      await this.ctx.client.request('PUT', objectPath(CRON_JOBS, cj.metadata.namespace, cj.metadata.name, 'status'), { ...cj, status });
    } catch (err) {
      if (err instanceof ApiStatusError && err.code === 404) return;
      throw err;
    }
  }
}

function jobReference(job: WorkloadObject): JobReference {
  return {
    kind: 'Job', namespace: job.metadata.namespace, name: job.metadata.name, uid: job.metadata.uid,
    apiVersion: 'batch/v1', resourceVersion: job.metadata.resourceVersion,
  };
}

/** The scheduled time in the CronJob's zone, RFC 3339 with its offset (as upstream writes the annotation). */
function scheduledTimestamp(ms: number, timeZone: unknown): string {
  if (typeof timeZone !== 'string') return rfc3339(ms);
  try {
    const parts = new Intl.DateTimeFormat('en-CA', {
      timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
      hourCycle: 'h23', timeZoneName: 'longOffset',
    }).formatToParts(new Date(ms));
    const get = (type: string): string => parts.find((p) => p.type === type)?.value ?? '';
    const offset = get('timeZoneName').replace('GMT', '') || 'Z';
    return `${get('year')}-${get('month')}-${get('day')}T${get('hour')}:${get('minute')}:${get('second')}${offset === '' ? 'Z' : offset}`;
  } catch {
    return rfc3339(ms);
  }
}
