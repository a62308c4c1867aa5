// apps/v1 Deployment: defaulting (pkg/apis/apps/v1/defaults.go SetDefaults_Deployment), validation
// (pkg/apis/apps/validation ValidateDeployment*), the status and scale subresources, printing as
// printDeployment. The rollout itself is the deployment controller's (controllers/deployment/).

import type { FieldError } from '../errors.ts';
import { notSupportedField, requiredField, forbiddenField, invalidField } from '../errors.ts';
import { isPlainObject, type KubeObject } from '../object.ts';
import type { ResourceStrategy } from '../resource.ts';
import { nameIsDNSSubdomain } from '../validation/names.ts';
import { applyPodTemplateDefaults } from './pod-defaults.ts';
import { age, ageColumn, column, nameColumn, num, obj } from './printing.ts';
import {
  formatLabelSelector, specReplicas, statusCount, templateContainerCells, wideTemplateColumns,
} from './workload-printing.ts';
import {
  intOrPercentValue, validateIntOrPercent, validateNonnegative, validateNotMoreThan100Percent,
  validateSelectorAndTemplate, validateSelectorUnchanged,
} from './workload-validation.ts';

type Json = Record<string, unknown>;

function specOf(object: KubeObject): Json {
  if (!isPlainObject(object.spec)) object.spec = {};
  return object.spec as Json;
}

export function applyDeploymentDefaults(deployment: KubeObject): void {
  const spec = specOf(deployment);
  spec.replicas ??= 1;
  const strategy = (isPlainObject(spec.strategy) ? spec.strategy : (spec.strategy = {})) as Json;
  strategy.type ??= 'RollingUpdate';
  if (strategy.type === 'RollingUpdate') {
    const rolling = (isPlainObject(strategy.rollingUpdate) ? strategy.rollingUpdate : (strategy.rollingUpdate = {})) as Json;
    rolling.maxUnavailable ??= '25%';
    rolling.maxSurge ??= '25%';
  }
  spec.revisionHistoryLimit ??= 10;
  spec.progressDeadlineSeconds ??= 600;
  applyPodTemplateDefaults(spec.template);
}

function validateStrategy(strategy: unknown, path: string): FieldError[] {
  if (!isPlainObject(strategy)) return [];
  const errs: FieldError[] = [];
  const type = strategy.type;
  if (type === 'Recreate') {
    if (strategy.rollingUpdate !== undefined && strategy.rollingUpdate !== null) {
      errs.push(forbiddenField(`${path}.rollingUpdate`, "may not be specified when strategy `type` is 'Recreate'"));
    }
  } else if (type === 'RollingUpdate') {
    const rolling = strategy.rollingUpdate;
    if (!isPlainObject(rolling)) {
      errs.push(requiredField(`${path}.rollingUpdate`, 'this should be defaulted and never be nil'));
    } else {
      errs.push(...validateIntOrPercent(rolling.maxUnavailable, `${path}.rollingUpdate.maxUnavailable`));
      errs.push(...validateIntOrPercent(rolling.maxSurge, `${path}.rollingUpdate.maxSurge`));
      const unavailable = intOrPercentValue(rolling.maxUnavailable);
      const surge = intOrPercentValue(rolling.maxSurge);
      if (unavailable?.amount === 0 && surge?.amount === 0) {
        errs.push(invalidField(`${path}.rollingUpdate.maxUnavailable`, rolling.maxUnavailable, 'may not be 0 when `maxSurge` is 0'));
      }
      errs.push(...validateNotMoreThan100Percent(rolling.maxUnavailable, `${path}.rollingUpdate.maxUnavailable`));
    }
  } else {
    errs.push(type === undefined || type === '' ? requiredField(`${path}.type`) : notSupportedField(`${path}.type`, type, ['Recreate', 'RollingUpdate']));
  }
  return errs;
}

export function validateDeploymentSpec(spec: Json, path = 'spec'): FieldError[] {
  const errs: FieldError[] = [];
  errs.push(...validateNonnegative(spec.replicas, `${path}.replicas`));
  errs.push(...validateSelectorAndTemplate(spec, path, 'deployment', { restartAlways: true }));
  errs.push(...validateStrategy(spec.strategy, `${path}.strategy`));
  errs.push(...validateNonnegative(spec.minReadySeconds, `${path}.minReadySeconds`));
  errs.push(...validateNonnegative(spec.revisionHistoryLimit, `${path}.revisionHistoryLimit`));
  const deadline = spec.progressDeadlineSeconds;
  errs.push(...validateNonnegative(deadline, `${path}.progressDeadlineSeconds`));
  const minReady = typeof spec.minReadySeconds === 'number' ? spec.minReadySeconds : 0;
  if (typeof deadline === 'number' && deadline <= minReady) {
    errs.push(invalidField(`${path}.progressDeadlineSeconds`, deadline, 'must be greater than minReadySeconds'));
  }
  const rollbackTo = spec.rollbackTo;
  if (isPlainObject(rollbackTo)) errs.push(...validateNonnegative(rollbackTo.revision, `${path}.rollbackTo.revision`));
  return errs;
}

function validateDeploymentStatus(deployment: KubeObject): FieldError[] {
  const status = obj(deployment, 'status') ?? {};
  const errs: FieldError[] = [];
  for (const name of ['observedGeneration', 'replicas', 'updatedReplicas', 'readyReplicas', 'availableReplicas', 'unavailableReplicas', 'collisionCount']) {
    errs.push(...validateNonnegative(status[name], `status.${name}`));
  }
  const replicas = num(status, 'replicas') ?? 0;
  const ready = num(status, 'readyReplicas') ?? 0;
  const available = num(status, 'availableReplicas') ?? 0;
  const updated = num(status, 'updatedReplicas') ?? 0;
  if (updated > replicas) errs.push(invalidField('status.updatedReplicas', updated, 'cannot be greater than status.replicas'));
  if (ready > replicas) errs.push(invalidField('status.readyReplicas', ready, 'cannot be greater than status.replicas'));
  if (available > replicas) errs.push(invalidField('status.availableReplicas', available, 'cannot be greater than status.replicas'));
  if (available > ready) errs.push(invalidField('status.availableReplicas', available, 'cannot be greater than readyReplicas'));
  return errs;
}

export const deploymentStrategy: ResourceStrategy = {
  group: 'apps',
  version: 'v1',
  kind: 'Deployment',
  listKind: 'DeploymentList',
  resource: 'deployments',
  singular: 'deployment',
  shortNames: ['deploy'],
  categories: ['all'],
  namespaced: true,
  verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
  storageResource: 'deployments',
  hasStatus: true,
  subresources: [{ name: 'scale', kind: 'Scale', group: 'autoscaling', verbs: ['get', 'patch', 'update'] }],
  tracksGeneration: true,

  prepareForCreate(deployment) {
    deployment.status = {};
  },
  applyDefaults: applyDeploymentDefaults,
  validateName: nameIsDNSSubdomain,
  validate: (deployment) => validateDeploymentSpec(specOf(deployment)),
  validateUpdate: (deployment, old) => [...validateDeploymentSpec(specOf(deployment)), ...validateSelectorUnchanged(deployment, old)],
  validateStatusUpdate: (deployment) => validateDeploymentStatus(deployment),
  selectableFieldNames: [],
  table: {
    columns: [
      nameColumn(),
      column('Ready', 'Number of the pod with ready state'),
      column('Up-to-date', 'Total number of non-terminated pods targeted by this deployment that have the desired template spec.'),
      column('Available', 'Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.'),
      ageColumn(),
      ...wideTemplateColumns(),
    ],
    cells: (deployment, now) => [
      deployment.metadata.name ?? '',
      `${statusCount(deployment, 'readyReplicas')}/${specReplicas(deployment)}`,
      statusCount(deployment, 'updatedReplicas'),
      statusCount(deployment, 'availableReplicas'),
      age(deployment.metadata.creationTimestamp, now),
      ...templateContainerCells(obj(deployment, 'spec', 'template')),
      formatLabelSelector(obj(deployment, 'spec', 'selector')),
    ],
  },
};

