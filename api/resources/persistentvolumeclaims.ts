// core/v1 PersistentVolumeClaim (pvc): SetDefaults_PersistentVolumeClaim (volume mode Filesystem,
// phase Pending), status reset on create and kept by the main resource,
// ValidatePersistentVolumeClaim/Update (a spec immutable but for a first volumeName and a larger
// storage request) and printPersistentVolumeClaim.

import { isDeepStrictEqual } from 'node:util';
import { forbiddenField, invalidField, type FieldError } from '../errors.ts';
import { deepCopy, isPlainObject, type KubeObject } from '../object.ts';
import type { ResourceStrategy } from '../resource.ts';
import { nameIsDNSSubdomain } from '../validation/names.ts';
import { FIELD_IMMUTABLE_MESSAGE } from '../validation/object-meta.ts';
import { SWAGGER_DOCS } from './column-descriptions.ts';
import { accessModesText, validatePersistentVolumeClaimSpec } from './persistent-volume-validation.ts';
import { BETA_STORAGE_CLASS_ANNOTATION } from './persistentvolumes.ts';
import { age, ageColumn, column, field, nameColumn, obj, str } from './printing.ts';
import { parseQuantity } from './quantity.ts';

type Json = Record<string, unknown>;

function specOf(object: KubeObject): Json {
  if (!isPlainObject(object.spec)) object.spec = {};
  return object.spec as Json;
}

/** GetPersistentVolumeClaimClass: the beta annotation wins over spec.storageClassName. */
export function persistentVolumeClaimClass(pvc: KubeObject): string {
  return pvc.metadata.annotations?.[BETA_STORAGE_CLASS_ANNOTATION] ?? str(pvc, 'spec', 'storageClassName');
}

const requestedStorage = (spec: Json): unknown => field(spec, 'resources', 'requests', 'storage');

function validateUpdate(pvc: KubeObject, old: KubeObject): FieldError[] {
  const errs = validatePersistentVolumeClaimSpec(pvc.spec, 'spec');
  const spec = deepCopy(specOf(pvc));
  const oldSpec = deepCopy(obj(old, 'spec') ?? {});
  // The binder sets volumeName once.
  if (!oldSpec.volumeName) {
    if (spec.volumeName === undefined) delete oldSpec.volumeName;
    else oldSpec.volumeName = spec.volumeName;
  }
  // A claim without a class may get one (the DefaultStorageClass retroactive assignment).
  if ((oldSpec.storageClassName === undefined || oldSpec.storageClassName === null) && typeof spec.storageClassName === 'string'
    && old.metadata.annotations?.[BETA_STORAGE_CLASS_ANNOTATION] === undefined) {
    oldSpec.storageClassName = spec.storageClassName;
  }
  // A bound claim may ask for more storage (expansion).
  const bound = field(pvc, 'status', 'phase') === 'Bound';
  if (bound && isPlainObject(spec.resources) && isPlainObject(spec.resources.requests)) {
    const previous = requestedStorage(oldSpec);
    if (previous === undefined) delete spec.resources.requests.storage;
    else spec.resources.requests.storage = previous;
  }
  delete spec.volumeAttributesClassName;
  delete oldSpec.volumeAttributesClassName;
  if (!isDeepStrictEqual(spec, oldSpec)) {
    errs.push(forbiddenField('spec', 'spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims'));
  }
  const newSize = parseQuantity(requestedStorage(specOf(pvc)));
  const oldSize = parseQuantity(requestedStorage(obj(old, 'spec') ?? {}));
  if (newSize !== undefined && oldSize !== undefined && newSize < oldSize) {
    const statusSize = parseQuantity(field(old, 'status', 'capacity', 'storage'));
    // RecoverVolumeExpansionFailure is beta and on in 1.32: a request may shrink back to above the recorded capacity.
    if (statusSize === undefined || newSize <= statusSize) {
      errs.push(forbiddenField('spec.resources.requests.storage', 'field can not be less than status.capacity'));
    }
  }
  if (!isDeepStrictEqual(specOf(pvc).volumeMode, obj(old, 'spec')?.volumeMode)) errs.push(invalidField('volumeMode', specOf(pvc).volumeMode ?? null, FIELD_IMMUTABLE_MESSAGE));
  const annotation = (object: KubeObject) => object.metadata.annotations?.[BETA_STORAGE_CLASS_ANNOTATION] ?? '';
  if (annotation(pvc) !== annotation(old)) {
    errs.push(invalidField(`metadata.annotations[${BETA_STORAGE_CLASS_ANNOTATION}]`, annotation(pvc), FIELD_IMMUTABLE_MESSAGE));
  }
  return errs;
}

export const persistentVolumeClaimStrategy: ResourceStrategy = {
  group: '',
  version: 'v1',
  kind: 'PersistentVolumeClaim',
  listKind: 'PersistentVolumeClaimList',
  resource: 'persistentvolumeclaims',
  singular: 'persistentvolumeclaim',
  shortNames: ['pvc'],
  categories: [],
  namespaced: true,
  verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
  storageResource: 'persistentvolumeclaims',
  hasStatus: true,
  subresources: [],
  tracksGeneration: false,

  prepareForCreate(pvc) {
    pvc.status = { phase: 'Pending' };
  },
  applyDefaults(pvc) {
    const spec = specOf(pvc);
    spec.volumeMode ??= 'Filesystem';
    if (!isPlainObject(pvc.status)) pvc.status = {};
    const status = pvc.status as Json;
    if (!status.phase) status.phase = 'Pending';
  },
  validateName: nameIsDNSSubdomain,
  validate: (pvc) => validatePersistentVolumeClaimSpec(pvc.spec, 'spec'),
  validateUpdate,
  selectableFieldNames: [],
  table: {
    columns: [
      nameColumn(),
      column('Status', SWAGGER_DOCS['PersistentVolumeClaimStatus.phase']),
      column('Volume', SWAGGER_DOCS['PersistentVolumeClaimSpec.volumeName']),
      column('Capacity', SWAGGER_DOCS['PersistentVolumeClaimStatus.capacity']),
      column('Access Modes', SWAGGER_DOCS['PersistentVolumeClaimStatus.accessModes']),
      column('StorageClass', 'StorageClass of the pvc'),
      column('VolumeAttributesClass', 'VolumeAttributesClass of the pvc'),
      ageColumn(),
      column('VolumeMode', SWAGGER_DOCS['PersistentVolumeClaimSpec.volumeMode'], 1),
    ],
    cells: (pvc, now) => {
      const volumeName = str(pvc, 'spec', 'volumeName');
      const storage = field(pvc, 'status', 'capacity', 'storage');
      const attributesClass = field(pvc, 'spec', 'volumeAttributesClassName');
      return [
        pvc.metadata.name ?? '', pvc.metadata.deletionTimestamp ? 'Terminating' : str(pvc, 'status', 'phase'), volumeName,
        volumeName ? (storage === undefined ? '0' : String(storage)) : '', volumeName ? accessModesText(field(pvc, 'status', 'accessModes')) : '',
        persistentVolumeClaimClass(pvc), typeof attributesClass === 'string' ? attributesClass : '<unset>',
        age(pvc.metadata.creationTimestamp, now), str(pvc, 'spec', 'volumeMode') || '<unset>',
      ];
    },
  },
};
