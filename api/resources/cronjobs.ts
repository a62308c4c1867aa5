// batch/v1 CronJob: SetDefaults_CronJob, ValidateCronJob* (schedule syntax as robfig/cron words its
// errors, time zones, the jobTemplate), printCronJob; status subresource.

import type { FieldError } from '../errors.ts';
import { invalidField, notSupportedField, requiredField } from '../errors.ts';
import { isPlainObject, type KubeObject } from '../object.ts';
import type { ResourceStrategy } from '../resource.ts';
import { nameIsDNSSubdomain } from '../validation/names.ts';
import { validateAnnotations, validateLabels } from '../validation/object-meta.ts';
import { cronScheduleError, isKnownTimeZone } from './cron-schedule.ts';
import { validateJobSpecBody } from './jobs.ts';
import { applyPodTemplateDefaults } from './pod-defaults.ts';
import { age, ageColumn, column, list, nameColumn, obj, str } from './printing.ts';
import { formatLabelSelector, templateContainerCells, wideTemplateColumns } from './workload-printing.ts';
import { goLabelSelector, invalidGoValue, validateNonnegative } from './workload-validation.ts';

type Json = Record<string, unknown>;

function specOf(object: KubeObject): Json {
  if (!isPlainObject(object.spec)) object.spec = {};
  return object.spec as Json;
}

/** A CronJob's name leaves room for the 11-character suffix of its Jobs' names. */
const MAX_CRONJOB_NAME_LENGTH = 52;

function validateCronJobSpec(spec: Json): FieldError[] {
  const errs: FieldError[] = [];
  const schedule = spec.schedule;
  const timeZone = spec.timeZone;
  if (typeof schedule !== 'string' || schedule === '') {
    errs.push(requiredField('spec.schedule'));
  } else {
    const problem = cronScheduleError(schedule);
    if (problem) errs.push(invalidField('spec.schedule', schedule, problem));
    else if (/TZ=/.test(schedule) && typeof timeZone === 'string') {
      errs.push(invalidField('spec.schedule', schedule, 'cannot use both timeZone field and TZ or CRON_TZ in schedule'));
    }
  }
  if (typeof timeZone === 'string') {
    if (timeZone.includes(' ') || !isKnownTimeZone(timeZone)) errs.push(invalidField('spec.timeZone', timeZone, 'unknown time zone ' + timeZone));
  }
  errs.push(...validateNonnegative(spec.startingDeadlineSeconds, 'spec.startingDeadlineSeconds'));
  errs.push(...validateNonnegative(spec.successfulJobsHistoryLimit, 'spec.successfulJobsHistoryLimit'));
  errs.push(...validateNonnegative(spec.failedJobsHistoryLimit, 'spec.failedJobsHistoryLimit'));
  const policy = spec.concurrencyPolicy;
  const policies = ['Allow', 'Forbid', 'Replace'];
  if (policy === undefined || policy === '') errs.push(requiredField('spec.concurrencyPolicy'));
  else if (!policies.includes(String(policy))) errs.push(notSupportedField('spec.concurrencyPolicy', policy, policies));
  const template = isPlainObject(spec.jobTemplate) ? spec.jobTemplate : {};
  const meta = isPlainObject(template.metadata) ? template.metadata : {};
  errs.push(...validateLabels(meta.labels as Record<string, string> | undefined, 'spec.jobTemplate.metadata.labels'));
  errs.push(...validateAnnotations(meta.annotations as Record<string, string> | undefined, 'spec.jobTemplate.metadata.annotations'));
  const jobSpec = isPlainObject(template.spec) ? template.spec : {};
  errs.push(...validateJobSpecBody(jobSpec, 'spec.jobTemplate.spec'));
  if (jobSpec.selector !== undefined && jobSpec.selector !== null) {
    errs.push(invalidGoValue('spec.jobTemplate.spec.selector', goLabelSelector(jobSpec.selector), '`selector` will be auto-generated'));
  }
  if (jobSpec.manualSelector === true) {
    errs.push(notSupportedField('spec.jobTemplate.spec.manualSelector', true, ['nil', 'false']));
  }
  return errs;
}

function validateCronJob(cronJob: KubeObject): FieldError[] {
  const errs = validateCronJobSpec(specOf(cronJob));
  const name = cronJob.metadata.name ?? '';
  if (name.length > MAX_CRONJOB_NAME_LENGTH) {
    errs.unshift(invalidField('metadata.name', name, `must be no more than ${MAX_CRONJOB_NAME_LENGTH} characters`));
  }
  return errs;
}

export const cronJobStrategy: ResourceStrategy = {
  group: 'batch',
  version: 'v1',
  kind: 'CronJob',
  listKind: 'CronJobList',
  resource: 'cronjobs',
  singular: 'cronjob',
  shortNames: ['cj'],
  categories: ['all'],
  namespaced: true,
  verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
  storageResource: 'cronjobs',
  hasStatus: true,
  subresources: [],
  tracksGeneration: true,

  prepareForCreate(cronJob) {
    cronJob.status = {};
  },
  applyDefaults(cronJob) {
    const spec = specOf(cronJob);
    spec.concurrencyPolicy ??= 'Allow';
    spec.suspend ??= false;
    spec.successfulJobsHistoryLimit ??= 3;
    spec.failedJobsHistoryLimit ??= 1;
    const template = isPlainObject(spec.jobTemplate) ? spec.jobTemplate : undefined;
    if (template && isPlainObject(template.spec)) applyPodTemplateDefaults(template.spec.template);
  },
  validateName: nameIsDNSSubdomain,
  validate: validateCronJob,
  validateUpdate: (cronJob) => validateCronJobSpec(specOf(cronJob)),
  selectableFieldNames: [],
  table: {
    columns: [
      nameColumn(),
      column('Schedule', 'The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron.'),
      column('Timezone', 'The time zone name for the given schedule, see https://en.wikipedia.org/wiki/List_of_tz_database_time_zones. If not specified, this will default to the time zone of the kube-controller-manager process. The set of valid time zone names and the time zone offset is loaded from the system-wide time zone database by the API server during CronJob validation and the controller manager during execution. If no system-wide time zone database can be found a bundled version of the database is used instead. If the time zone name becomes invalid during the lifetime of a CronJob or due to a change in host configuration, the controller will stop creating new new Jobs and will create a system event with the reason UnknownTimeZone. More information can be found in https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/#time-zones'),
      column('Suspend', 'This flag tells the controller to suspend subsequent executions, it does not apply to already started executions.  Defaults to false.'),
      column('Active', 'A list of pointers to currently running jobs.'),
      column('Last Schedule', 'Information when was the last time the job was successfully scheduled.'),
      ageColumn(),
      ...wideTemplateColumns('A label query over pods that should match the pod count. Normally, the system sets this field for you. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors'),
    ],
    cells: (cronJob, now) => {
      const lastSchedule = str(cronJob, 'status', 'lastScheduleTime');
      return [
        cronJob.metadata.name ?? '',
        str(cronJob, 'spec', 'schedule'),
        str(cronJob, 'spec', 'timeZone') || '<none>',
        obj(cronJob, 'spec')?.suspend === true ? 'True' : 'False',
        list(cronJob, 'status', 'active').length,
        lastSchedule ? age(lastSchedule, now) : '<none>',
        age(cronJob.metadata.creationTimestamp, now),
        ...templateContainerCells(obj(cronJob, 'spec', 'jobTemplate', 'spec', 'template')),
        formatLabelSelector(obj(cronJob, 'spec', 'jobTemplate', 'spec', 'selector')),
      ];
    },
  },
};
