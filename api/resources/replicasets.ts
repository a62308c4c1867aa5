// apps/v1 ReplicaSet: SetDefaults_ReplicaSet, ValidateReplicaSet*, printReplicaSet; status and
// scale subresources. The replicaset controller (controllers/replicaset/) keeps the pods.

import type { FieldError } from '../errors.ts';
import { invalidField } from '../errors.ts';
import { isPlainObject, type KubeObject } from '../object.ts';
import type { ResourceStrategy } from '../resource.ts';
import { nameIsDNSSubdomain } from '../validation/names.ts';
import { applyPodTemplateDefaults } from './pod-defaults.ts';
import { age, ageColumn, column, nameColumn, num, obj } from './printing.ts';
import { formatLabelSelector, specReplicas, statusCount, templateContainerCells, wideTemplateColumns } from './workload-printing.ts';
import { validateNonnegative, validateSelectorAndTemplate, validateSelectorUnchanged } from './workload-validation.ts';

type Json = Record<string, unknown>;

function specOf(object: KubeObject): Json {
  if (!isPlainObject(object.spec)) object.spec = {};
  return object.spec as Json;
}

/** Status counters of ReplicaSets and ReplicationControllers (ValidateReplicaSetStatus). */
export function validateReplicaStatus(object: KubeObject): FieldError[] {
  const status = obj(object, 'status') ?? {};
  const errs: FieldError[] = [];
  for (const name of ['replicas', 'fullyLabeledReplicas', 'readyReplicas', 'availableReplicas', 'observedGeneration']) {
    errs.push(...validateNonnegative(status[name], `status.${name}`));
  }
  const replicas = num(status, 'replicas') ?? 0;
  const labeled = num(status, 'fullyLabeledReplicas') ?? 0;
  const ready = num(status, 'readyReplicas') ?? 0;
  const available = num(status, 'availableReplicas') ?? 0;
  if (labeled > replicas) errs.push(invalidField('status.fullyLabeledReplicas', labeled, 'cannot be greater than status.replicas'));
  if (ready > replicas) errs.push(invalidField('status.readyReplicas', ready, 'cannot be greater than status.replicas'));
  if (available > replicas) errs.push(invalidField('status.availableReplicas', available, 'cannot be greater than status.replicas'));
  if (available > ready) errs.push(invalidField('status.availableReplicas', available, 'cannot be greater than readyReplicas'));
  return errs;
}

export function validateReplicaSetSpec(spec: Json): FieldError[] {
  return [
    ...validateNonnegative(spec.replicas, 'spec.replicas'),
    ...validateNonnegative(spec.minReadySeconds, 'spec.minReadySeconds'),
    ...validateSelectorAndTemplate(spec, 'spec', 'replicaset', { restartAlways: true }),
  ];
}

export const replicaSetStrategy: ResourceStrategy = {
  group: 'apps',
  version: 'v1',
  kind: 'ReplicaSet',
  listKind: 'ReplicaSetList',
  resource: 'replicasets',
  singular: 'replicaset',
  shortNames: ['rs'],
  categories: ['all'],
  namespaced: true,
  verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
  storageResource: 'replicasets',
  hasStatus: true,
  subresources: [{ name: 'scale', kind: 'Scale', group: 'autoscaling', verbs: ['get', 'patch', 'update'] }],
  tracksGeneration: true,

  prepareForCreate(replicaSet) {
    replicaSet.status = { replicas: 0 };
  },
  applyDefaults(replicaSet) {
    const spec = specOf(replicaSet);
    spec.replicas ??= 1;
    applyPodTemplateDefaults(spec.template);
  },
  validateName: nameIsDNSSubdomain,
  validate: (replicaSet) => validateReplicaSetSpec(specOf(replicaSet)),
  validateUpdate: (replicaSet, old) => [...validateReplicaSetSpec(specOf(replicaSet)), ...validateSelectorUnchanged(replicaSet, old)],
  validateStatusUpdate: validateReplicaStatus,
  selectableFieldNames: [],
  table: {
    columns: [
      nameColumn(),
      column('Desired', 'Replicas is the number of desired pods. This is a pointer to distinguish between explicit zero and unspecified. Defaults to 1. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicaset/#how-a-replicaset-works'),
      column('Current', 'Replicas is the most recently observed number of non-terminating pods. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicaset/#how-a-replicaset-works'),
      column('Ready', 'The number of non-terminating pods targeted by this ReplicaSet with a Ready Condition.'),
      ageColumn(),
      ...wideTemplateColumns(),
    ],
    cells: (replicaSet, now) => [
      replicaSet.metadata.name ?? '',
      specReplicas(replicaSet),
      statusCount(replicaSet, 'replicas'),
      statusCount(replicaSet, 'readyReplicas'),
      age(replicaSet.metadata.creationTimestamp, now),
      ...templateContainerCells(obj(replicaSet, 'spec', 'template')),
      formatLabelSelector(obj(replicaSet, 'spec', 'selector')),
    ],
  },
};
