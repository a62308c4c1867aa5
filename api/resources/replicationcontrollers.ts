// core/v1 ReplicationController, the ReplicaSet's predecessor still found in legacy manifests:
// SetDefaults_ReplicationController (selector and labels from the template), validation as
// ValidateReplicationController*, printReplicationController; status and scale subresources.

import type { FieldError } from '../errors.ts';
import { invalidField, requiredField } from '../errors.ts';
import { isPlainObject, type KubeObject } from '../object.ts';
import type { ResourceStrategy } from '../resource.ts';
import { nameIsDNSSubdomain } from '../validation/names.ts';
import { validateLabels } from '../validation/object-meta.ts';
import { applyPodTemplateDefaults } from './pod-defaults.ts';
import { age, ageColumn, column, nameColumn, obj } from './printing.ts';
import { formatLabelMap, specReplicas, statusCount, templateContainerCells, wideTemplateColumns } from './workload-printing.ts';
import { validateReplicaStatus } from './replicasets.ts';
import { goStringMap, invalidGoValue, validateNonnegative, validatePodTemplate } from './workload-validation.ts';
import { notSupportedField } from '../errors.ts';

type Json = Record<string, unknown>;

function specOf(object: KubeObject): Json {
  if (!isPlainObject(object.spec)) object.spec = {};
  return object.spec as Json;
}

function labelsMatch(selector: Record<string, unknown>, labels: Record<string, unknown> | undefined): boolean {
  return Object.entries(selector).every(([key, value]) => labels?.[key] === value);
}

function validateRCSpec(spec: Json): FieldError[] {
  const errs: FieldError[] = [];
  const selector = isPlainObject(spec.selector) ? spec.selector : {};
  if (Object.keys(selector).length === 0) errs.push(requiredField('spec.selector'));
  else errs.push(...validateLabels(selector as Record<string, string>, 'spec.selector'));
  errs.push(...validateNonnegative(spec.replicas, 'spec.replicas'));
  errs.push(...validateNonnegative(spec.minReadySeconds, 'spec.minReadySeconds'));
  const template = spec.template;
  if (!isPlainObject(template)) {
    errs.push(requiredField('spec.template'));
    return errs;
  }
  const labels = obj(template, 'metadata', 'labels');
  if (Object.keys(selector).length > 0 && !labelsMatch(selector, labels)) {
    errs.push(invalidGoValue('spec.template.metadata.labels', goStringMap(labels), '`selector` does not match template `labels`'));
  }
  errs.push(...validatePodTemplate(template, 'spec.template'));
  const restartPolicy = obj(template, 'spec')?.restartPolicy;
  if (restartPolicy !== undefined && restartPolicy !== 'Always') errs.push(notSupportedField('spec.template.spec.restartPolicy', restartPolicy, ['Always']));
  if (obj(template, 'spec')?.activeDeadlineSeconds !== undefined) {
    errs.push(invalidField('spec.template.spec.activeDeadlineSeconds', obj(template, 'spec')?.activeDeadlineSeconds, 'activeDeadlineSeconds in ReplicationController is not Supported'));
  }
  return errs;
}

export const replicationControllerStrategy: ResourceStrategy = {
  group: '',
  version: 'v1',
  kind: 'ReplicationController',
  listKind: 'ReplicationControllerList',
  resource: 'replicationcontrollers',
  singular: 'replicationcontroller',
  shortNames: ['rc'],
  categories: ['all'],
  namespaced: true,
  verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
  storageResource: 'controllers',
  hasStatus: true,
  subresources: [{ name: 'scale', kind: 'Scale', group: 'autoscaling', verbs: ['get', 'patch', 'update'] }],
  tracksGeneration: true,

  prepareForCreate(rc) {
    rc.status = { replicas: 0 };
  },
  applyDefaults(rc) {
    const spec = specOf(rc);
    const template = isPlainObject(spec.template) ? spec.template : undefined;
    const templateLabels = template ? obj(template, 'metadata', 'labels') : undefined;
    if (templateLabels) {
      if (!isPlainObject(spec.selector) || Object.keys(spec.selector).length === 0) spec.selector = { ...templateLabels };
      if (!rc.metadata.labels || Object.keys(rc.metadata.labels).length === 0) rc.metadata.labels = { ...templateLabels } as Record<string, string>;
    }
    spec.replicas ??= 1;
    applyPodTemplateDefaults(spec.template);
  },
  validateName: nameIsDNSSubdomain,
  validate: (rc) => validateRCSpec(specOf(rc)),
  validateUpdate: (rc) => validateRCSpec(specOf(rc)),
  validateStatusUpdate: validateReplicaStatus,
  selectableFields: (rc) => ({ 'status.replicas': String(statusCount(rc, 'replicas')) }),
  selectableFieldNames: ['status.replicas'],
  table: {
    columns: [
      nameColumn(),
      column('Desired', 'Replicas is the number of desired replicas. This is a pointer to distinguish between explicit zero and unspecified. Defaults to 1. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller#what-is-a-replicationcontroller'),
      column('Current', 'Replicas is the most recently observed number of replicas. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller#what-is-a-replicationcontroller'),
      column('Ready', 'The number of ready replicas for this replication controller.'),
      ageColumn(),
      ...wideTemplateColumns('Selector is a label query over pods that should match the Replicas count. If Selector is empty, it is defaulted to the labels present on the Pod template. Label keys and values that must match in order to be controlled by this replication controller, if empty defaulted to labels on Pod template. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors'),
    ],
    cells: (rc, now) => [
      rc.metadata.name ?? '',
      specReplicas(rc),
      statusCount(rc, 'replicas'),
      statusCount(rc, 'readyReplicas'),
      age(rc.metadata.creationTimestamp, now),
      ...templateContainerCells(obj(rc, 'spec', 'template')),
      formatLabelMap(obj(rc, 'spec', 'selector')),
    ],
  },
};
