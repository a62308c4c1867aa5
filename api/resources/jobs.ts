// batch/v1 Job: SetDefaults_Job, the generated selector and controller-uid / job-name labels
// (jobStrategy.PrepareForCreate, generateSelector), ValidateJob*, printJob; status subresource.

import type { FieldError } from '../errors.ts';
import { invalidField, notSupportedField } from '../errors.ts';
import { isPlainObject, type KubeObject } from '../object.ts';
import type { ResourceStrategy } from '../resource.ts';
import { nameIsDNSSubdomain } from '../validation/names.ts';
import { FIELD_IMMUTABLE_MESSAGE } from '../validation/object-meta.ts';
import { applyPodTemplateDefaults } from './pod-defaults.ts';
import { age, ageColumn, column, humanDuration, list, nameColumn, num, obj, str } from './printing.ts';
import { formatLabelSelector, statusCount, templateContainerCells, wideTemplateColumns } from './workload-printing.ts';
import {
  goLabelSelector, invalidGoValue, selectorMatches, goStringMap, validateLabelSelector, validateNonnegative,
  validatePodTemplate,
} from './workload-validation.ts';
import { requiredField } from '../errors.ts';

type Json = Record<string, unknown>;

export const JOB_CONTROLLER_UID_LABEL = 'batch.kubernetes.io/controller-uid';
export const JOB_NAME_LABEL = 'batch.kubernetes.io/job-name';
const LEGACY_CONTROLLER_UID_LABEL = 'controller-uid';
const LEGACY_JOB_NAME_LABEL = 'job-name';
const MAX_INT32 = 2147483647;

function specOf(object: KubeObject): Json {
  if (!isPlainObject(object.spec)) object.spec = {};
  return object.spec as Json;
}

/** SetDefaults_Job for a JobSpec (also used for a CronJob's jobTemplate when a Job is made from it). */
export function applyJobSpecDefaults(spec: Json): void {
  if (spec.completions === undefined && spec.parallelism === undefined) {
    spec.completions = 1;
    spec.parallelism = 1;
  }
  spec.parallelism ??= 1;
  spec.backoffLimit ??= spec.backoffLimitPerIndex !== undefined ? MAX_INT32 : 6;
  spec.completionMode ??= 'NonIndexed';
  spec.suspend ??= false;
  spec.podReplacementPolicy ??= isPlainObject(spec.podFailurePolicy) ? 'Failed' : 'TerminatingOrFailed';
  spec.manualSelector ??= false;
  if (isPlainObject(spec.podFailurePolicy)) {
    for (const rule of list(spec.podFailurePolicy, 'rules')) {
      for (const pattern of list(rule, 'onPodConditions')) pattern.status ??= 'True';
    }
  }
  applyPodTemplateDefaults(spec.template);
}

/** generateSelector: unless manualSelector, select on the Job's uid and label the template to match. */
function generateSelector(job: KubeObject): void {
  const spec = specOf(job);
  if (spec.manualSelector === true) return;
  const uid = job.metadata.uid ?? '';
  const name = job.metadata.name ?? '';
  const template = (isPlainObject(spec.template) ? spec.template : (spec.template = {})) as Json;
  const meta = (isPlainObject(template.metadata) ? template.metadata : (template.metadata = {})) as Json;
  const labels = (isPlainObject(meta.labels) ? meta.labels : (meta.labels = {})) as Json;
  labels[JOB_CONTROLLER_UID_LABEL] ??= uid;
  labels[JOB_NAME_LABEL] ??= name;
  labels[LEGACY_CONTROLLER_UID_LABEL] ??= uid;
  labels[LEGACY_JOB_NAME_LABEL] ??= name;
  if (spec.selector === undefined || spec.selector === null) spec.selector = { matchLabels: { [JOB_CONTROLLER_UID_LABEL]: uid } };
}

const POD_FAILURE_ACTIONS = ['Count', 'FailIndex', 'FailJob', 'Ignore'];

function validatePodFailurePolicy(policy: unknown, restartPolicy: unknown, path: string): FieldError[] {
  if (!isPlainObject(policy)) return [];
  const errs: FieldError[] = [];
  if (restartPolicy !== 'Never') {
    errs.push(invalidField('spec.template.spec.restartPolicy', restartPolicy ?? '', 'only "Never" is supported when podFailurePolicy is specified'));
  }
  list(policy, 'rules').forEach((rule, i) => {
    const at = `${path}.rules[${i}]`;
    if (!POD_FAILURE_ACTIONS.includes(String(rule.action))) errs.push(notSupportedField(`${at}.action`, rule.action ?? '', POD_FAILURE_ACTIONS));
    const hasExit = isPlainObject(rule.onExitCodes);
    const hasConditions = Array.isArray(rule.onPodConditions) && rule.onPodConditions.length > 0;
    if (hasExit && hasConditions) errs.push(invalidField(at, '', 'specifying both OnExitCodes and OnPodConditions is not supported'));
    if (!hasExit && !hasConditions) errs.push(invalidField(at, '', 'specifying one of OnExitCodes and OnPodConditions is required'));
    if (hasExit) {
      const exit = rule.onExitCodes as Json;
      const operators = ['In', 'NotIn'];
      if (!operators.includes(String(exit.operator))) errs.push(notSupportedField(`${at}.onExitCodes.operator`, exit.operator ?? '', operators));
      const values = Array.isArray(exit.values) ? exit.values : [];
      if (values.length === 0) errs.push(requiredField(`${at}.onExitCodes.values`));
      if (exit.operator === 'In' && values.includes(0)) {
        errs.push(invalidField(`${at}.onExitCodes.values[${values.indexOf(0)}]`, 0, 'must not be 0 for the In operator'));
      }
    }
  });
  return errs;
}

/** validateJobSpec (the part shared with a CronJob's jobTemplate). */
export function validateJobSpecBody(spec: Json, path: string): FieldError[] {
  const errs: FieldError[] = [];
  errs.push(...validateNonnegative(spec.parallelism, `${path}.parallelism`));
  errs.push(...validateNonnegative(spec.completions, `${path}.completions`));
  errs.push(...validateNonnegative(spec.activeDeadlineSeconds, `${path}.activeDeadlineSeconds`));
  errs.push(...validateNonnegative(spec.backoffLimit, `${path}.backoffLimit`));
  errs.push(...validateNonnegative(spec.ttlSecondsAfterFinished, `${path}.ttlSecondsAfterFinished`));
  const mode = spec.completionMode;
  if (mode !== undefined && mode !== 'NonIndexed' && mode !== 'Indexed') {
    errs.push(notSupportedField(`${path}.completionMode`, mode, ['NonIndexed', 'Indexed']));
  }
  if (mode === 'Indexed') {
    if (spec.completions === undefined || spec.completions === null) {
      errs.push(requiredField(`${path}.completions`, 'when completion mode is Indexed'));
    }
    if (typeof spec.parallelism === 'number' && spec.parallelism > 100_000) {
      errs.push(invalidField(`${path}.parallelism`, spec.parallelism, 'must be less than or equal to 100000 when completion mode is Indexed'));
    }
  }
  errs.push(...validatePodTemplate(spec.template, `${path}.template`));
  const restartPolicy = obj(spec, 'template', 'spec')?.restartPolicy;
  if (restartPolicy !== 'OnFailure' && restartPolicy !== 'Never') {
    errs.push(notSupportedField(`${path}.template.spec.restartPolicy`, restartPolicy ?? '', ['OnFailure', 'Never']));
  }
  errs.push(...validatePodFailurePolicy(spec.podFailurePolicy, restartPolicy, `${path}.podFailurePolicy`));
  return errs;
}

function validateJob(job: KubeObject): FieldError[] {
  const spec = specOf(job);
  const errs: FieldError[] = [];
  if (spec.manualSelector !== true && isPlainObject(spec.selector)) {
    const expected = { [LEGACY_CONTROLLER_UID_LABEL]: job.metadata.uid ?? '', [JOB_CONTROLLER_UID_LABEL]: job.metadata.uid ?? '' };
    if (!selectorMatches(spec.selector, expected)) {
      errs.push(invalidGoValue('spec.selector', goLabelSelector(spec.selector), '`selector` not auto-generated'));
    }
  }
  errs.push(...validateJobSpecBody(spec, 'spec'));
  if (!isPlainObject(spec.selector)) errs.push(requiredField('spec.selector'));
  else {
    errs.push(...validateLabelSelector(spec.selector, 'spec.selector'));
    const labels = obj(spec, 'template', 'metadata', 'labels');
    if (!selectorMatches(spec.selector, labels)) {
      errs.push(invalidGoValue('spec.template.metadata.labels', goStringMap(labels), '`selector` does not match template `labels`'));
    }
  }
  return errs;
}

function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (isPlainObject(v) ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, v[k]])) : v));
}

function validateJobUpdate(job: KubeObject, old: KubeObject): FieldError[] {
  const errs = validateJob(job);
  const spec = specOf(job);
  const oldSpec = isPlainObject(old.spec) ? old.spec : {};
  if (canonical(spec.selector) !== canonical(oldSpec.selector)) {
    errs.push(invalidGoValue('spec.selector', goLabelSelector(spec.selector), FIELD_IMMUTABLE_MESSAGE));
  }
  // Completions may change only together with parallelism, for Indexed Jobs (elastic Indexed Jobs).
  if (spec.completions !== oldSpec.completions && !(spec.completionMode === 'Indexed' && spec.completions === spec.parallelism)) {
    errs.push(invalidField('spec.completions', spec.completions ?? null, FIELD_IMMUTABLE_MESSAGE));
  }
  if (spec.completionMode !== oldSpec.completionMode) errs.push(invalidField('spec.completionMode', spec.completionMode ?? '', FIELD_IMMUTABLE_MESSAGE));
  if (canonical(spec.podFailurePolicy) !== canonical(oldSpec.podFailurePolicy)) {
    errs.push(invalidField('spec.podFailurePolicy', '', FIELD_IMMUTABLE_MESSAGE));
  }
  // A Job suspended since creation that never started may change its pod's scheduling directives.
  const mutableTemplate = oldSpec.suspend === true && !str(old, 'status', 'startTime');
  const comparable = (template: unknown): string => {
    if (!mutableTemplate || !isPlainObject(template)) return canonical(template);
    const podSpec = isPlainObject(template.spec) ? { ...template.spec } : {};
    for (const key of ['nodeSelector', 'tolerations', 'affinity', 'schedulingGates']) delete podSpec[key];
    return canonical({ spec: podSpec });
  };
  if (comparable(spec.template) !== comparable(oldSpec.template)) {
    errs.push({ type: 'FieldValueInvalid', field: 'spec.template', message: `Invalid value: ${canonical(spec.template)}: ${FIELD_IMMUTABLE_MESSAGE}` });
  }
  return errs;
}

function jobHasCondition(job: KubeObject, type: string): boolean {
  return list(job, 'status', 'conditions').some((c) => c.type === type && c.status === 'True');
}

/** printJob's Status column. */
export function jobStatusText(job: KubeObject): string {
  if (jobHasCondition(job, 'Complete')) return 'Complete';
  if (jobHasCondition(job, 'Failed')) return 'Failed';
  if (job.metadata.deletionTimestamp) return 'Terminating';
  if (jobHasCondition(job, 'Suspended')) return 'Suspended';
  if (jobHasCondition(job, 'FailureTarget')) return 'FailureTarget';
  if (jobHasCondition(job, 'SuccessCriteriaMet')) return 'SuccessCriteriaMet';
  return 'Running';
}

function completionsText(job: KubeObject): string {
  const succeeded = statusCount(job, 'succeeded');
  const completions = num(job, 'spec', 'completions');
  if (completions !== undefined) return `${succeeded}/${completions}`;
  const parallelism = num(job, 'spec', 'parallelism') ?? 0;
  return parallelism > 1 ? `${succeeded}/1 of ${parallelism}` : `${succeeded}/1`;
}

function durationText(job: KubeObject, now: Date): string {
  const start = Date.parse(str(job, 'status', 'startTime'));
  if (Number.isNaN(start)) return '';
  const completion = Date.parse(str(job, 'status', 'completionTime'));
  return humanDuration((Number.isNaN(completion) ? now.getTime() : completion) - start);
}

export const jobStrategy: ResourceStrategy = {
  group: 'batch',
  version: 'v1',
  kind: 'Job',
  listKind: 'JobList',
  resource: 'jobs',
  singular: 'job',
  shortNames: [],
  categories: ['all'],
  namespaced: true,
  verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
  storageResource: 'jobs',
  hasStatus: true,
  // jobStatusStrategy.PrepareForUpdate resets only the spec: metadata changes sent to /status are kept.
  statusUpdateMetadata: ['labels', 'annotations'],
  subresources: [],
  tracksGeneration: true,
  // batch/v1 keeps orphaning a Job's pods when a DELETE names no propagationPolicy (kubectl names Background).
  defaultGarbageCollectionPolicy: 'Orphan',

  prepareForCreate(job) {
    job.status = {};
    generateSelector(job);
  },
  applyDefaults: (job) => applyJobSpecDefaults(specOf(job)),
  validateName: nameIsDNSSubdomain,
  validate: validateJob,
  validateUpdate: validateJobUpdate,
  validateStatusUpdate: (job) => {
    const status = obj(job, 'status') ?? {};
    return ['active', 'succeeded', 'failed', 'ready', 'terminating']
      .flatMap((name) => validateNonnegative(status[name], `status.${name}`));
  },
  selectableFields: (job) => ({ 'status.successful': String(statusCount(job, 'succeeded')) }),
  selectableFieldNames: ['status.successful'],
  table: {
    columns: [
      nameColumn(),
      column('Status', 'Status of the job.'),
      column('Completions', 'The desired number of successfully finished pods the job should be run with. Setting to null means that the success of any pod signals the success of all pods, and allows parallelism to have any positive value. Setting to 1 means that parallelism is limited to 1 and the success of that pod signals the success of the job. More info: https://kubernetes.io/docs/concepts/workloads/controllers/jobs-run-to-completion/'),
      column('Duration', 'Time required to complete the job.'),
      ageColumn(),
      ...wideTemplateColumns('A label query over pods that should match the pod count. Normally, the system sets this field for you. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors'),
    ],
    cells: (job, now) => [
      job.metadata.name ?? '',
      jobStatusText(job),
      completionsText(job),
      durationText(job, now),
      age(job.metadata.creationTimestamp, now),
      ...templateContainerCells(obj(job, 'spec', 'template')),
      formatLabelSelector(obj(job, 'spec', 'selector')),
    ],
  },
};
