// apps/v1 StatefulSet: SetDefaults_StatefulSet, ValidateStatefulSet*, printStatefulSet; status and
// scale subresources. The statefulset controller creates the claims of volumeClaimTemplates.

import type { FieldError } from '../errors.ts';
import { forbiddenField, notSupportedField, requiredField } from '../errors.ts';
import { isPlainObject, type KubeObject } from '../object.ts';
import type { ResourceStrategy } from '../resource.ts';
import { nameIsDNSLabel } from '../validation/names.ts';
import { applyPodTemplateDefaults } from './pod-defaults.ts';
import { age, ageColumn, column, nameColumn, obj } from './printing.ts';
import { specReplicas, statusCount, templateContainerCells, wideTemplateColumns } from './workload-printing.ts';
import { validateNonnegative, validateSelectorAndTemplate, validateSelectorUnchanged } from './workload-validation.ts';

type Json = Record<string, unknown>;

function specOf(object: KubeObject): Json {
  if (!isPlainObject(object.spec)) object.spec = {};
  return object.spec as Json;
}

export function applyStatefulSetDefaults(set: KubeObject): void {
  const spec = specOf(set);
  spec.podManagementPolicy ??= 'OrderedReady';
  const strategy = (isPlainObject(spec.updateStrategy) ? spec.updateStrategy : (spec.updateStrategy = {})) as Json;
  strategy.type ??= 'RollingUpdate';
  if (strategy.type === 'RollingUpdate') {
    const rolling = (isPlainObject(strategy.rollingUpdate) ? strategy.rollingUpdate : (strategy.rollingUpdate = {})) as Json;
    rolling.partition ??= 0;
  }
  const retention = (isPlainObject(spec.persistentVolumeClaimRetentionPolicy)
    ? spec.persistentVolumeClaimRetentionPolicy : (spec.persistentVolumeClaimRetentionPolicy = {})) as Json;
  retention.whenDeleted ??= 'Retain';
  retention.whenScaled ??= 'Retain';
  spec.replicas ??= 1;
  spec.revisionHistoryLimit ??= 10;
  applyPodTemplateDefaults(spec.template);
  for (const claim of Array.isArray(spec.volumeClaimTemplates) ? spec.volumeClaimTemplates.filter(isPlainObject) : []) {
    const claimSpec = (isPlainObject(claim.spec) ? claim.spec : (claim.spec = {})) as Json;
    claimSpec.volumeMode ??= 'Filesystem';
    claim.apiVersion ??= 'v1';
    claim.kind ??= 'PersistentVolumeClaim';
    claim.status ??= { phase: 'Pending' };
  }
}

function validateStatefulSetSpec(spec: Json): FieldError[] {
  const errs: FieldError[] = [];
  const policy = spec.podManagementPolicy;
  if (policy === undefined || policy === '') errs.push(requiredField('spec.podManagementPolicy', ''));
  else if (policy !== 'OrderedReady' && policy !== 'Parallel') {
    errs.push(notSupportedField('spec.podManagementPolicy', policy, ['OrderedReady', 'Parallel']));
  }
  const strategy = isPlainObject(spec.updateStrategy) ? spec.updateStrategy : {};
  if (strategy.type === 'OnDelete') {
    if (strategy.rollingUpdate !== undefined && strategy.rollingUpdate !== null) {
      errs.push(forbiddenField('spec.updateStrategy.rollingUpdate', "only allowed for updateStrategy 'RollingUpdate'"));
    }
  } else if (strategy.type === 'RollingUpdate') {
    if (isPlainObject(strategy.rollingUpdate)) {
      errs.push(...validateNonnegative(strategy.rollingUpdate.partition, 'spec.updateStrategy.rollingUpdate.partition'));
    }
  } else if (strategy.type === undefined || strategy.type === '') {
    errs.push(requiredField('spec.updateStrategy', ''));
  } else {
    errs.push(notSupportedField('spec.updateStrategy.type', strategy.type, ['OnDelete', 'RollingUpdate']));
  }
  errs.push(...validateNonnegative(spec.replicas, 'spec.replicas'));
  errs.push(...validateNonnegative(spec.minReadySeconds, 'spec.minReadySeconds'));
  errs.push(...validateSelectorAndTemplate(spec, 'spec', 'statefulset', { restartAlways: true }));
  const retention = spec.persistentVolumeClaimRetentionPolicy;
  if (isPlainObject(retention)) {
    // ValidatePersistentVolumeClaimRetentionPolicy: both fields are defaulted, so an empty one is unsupported too.
    for (const field of ['whenDeleted', 'whenScaled']) {
      if (retention[field] !== 'Retain' && retention[field] !== 'Delete') {
        errs.push(notSupportedField(`spec.persistentVolumeClaimRetentionPolicy.${field}`, retention[field] ?? '', ['Retain', 'Delete']));
      }
    }
  }
  const ordinals = spec.ordinals;
  if (isPlainObject(ordinals)) errs.push(...validateNonnegative(ordinals.start, 'spec.ordinals.start'));
  return errs;
}

/** ValidateStatefulSetUpdate: only these spec fields may change (the selector and the claim templates may not). */
const UPDATABLE_FIELDS = ['replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy', 'minReadySeconds'];

function validateStatefulSetUpdate(set: KubeObject, old: KubeObject): FieldError[] {
  const spec = specOf(set);
  const oldSpec = isPlainObject(old.spec) ? old.spec : {};
  const errs = validateStatefulSetSpec(spec);
  const restNew = Object.fromEntries(Object.entries(spec).filter(([k]) => !UPDATABLE_FIELDS.includes(k)));
  const restOld = Object.fromEntries(Object.entries(oldSpec).filter(([k]) => !UPDATABLE_FIELDS.includes(k)));
  if (JSON.stringify(sorted(restNew)) !== JSON.stringify(sorted(restOld))) {
    errs.push(forbiddenField('spec', "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"));
  }
  return [...errs, ...(errs.length === 0 ? validateSelectorUnchanged(set, old) : [])];
}

function sorted(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sorted);
  if (!isPlainObject(value)) return value;
  return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sorted(value[k])]));
}

export const statefulSetStrategy: ResourceStrategy = {
  group: 'apps',
  version: 'v1',
  kind: 'StatefulSet',
  listKind: 'StatefulSetList',
  resource: 'statefulsets',
  singular: 'statefulset',
  shortNames: ['sts'],
  categories: ['all'],
  namespaced: true,
  verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
  storageResource: 'statefulsets',
  hasStatus: true,
  subresources: [{ name: 'scale', kind: 'Scale', group: 'autoscaling', verbs: ['get', 'patch', 'update'] }],
  tracksGeneration: true,

  prepareForCreate(set) {
    set.status = { replicas: 0, availableReplicas: 0 };
  },
  applyDefaults: applyStatefulSetDefaults,
  // StatefulSet names become pod hostnames: DNS labels (ValidateStatefulSetName is ValidatePodName + label rules).
  validateName: nameIsDNSLabel,
  validate: (set) => validateStatefulSetSpec(specOf(set)),
  validateUpdate: validateStatefulSetUpdate,
  validateStatusUpdate: (set) => {
    const status = obj(set, 'status') ?? {};
    return ['replicas', 'readyReplicas', 'currentReplicas', 'updatedReplicas', 'availableReplicas', 'observedGeneration', 'collisionCount']
      .flatMap((name) => validateNonnegative(status[name], `status.${name}`));
  },
  selectableFieldNames: [],
  table: {
    columns: [
      nameColumn(),
      column('Ready', 'Number of the pod with ready state'),
      ageColumn(),
      ...wideTemplateColumns(undefined, false),
    ],
    cells: (set, now) => [
      set.metadata.name ?? '',
      `${statusCount(set, 'readyReplicas')}/${specReplicas(set)}`,
      age(set.metadata.creationTimestamp, now),
      ...templateContainerCells(obj(set, 'spec', 'template')),
    ],
  },
};
