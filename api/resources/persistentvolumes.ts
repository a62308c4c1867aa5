// core/v1 PersistentVolume (pv): SetDefaults_PersistentVolume (reclaim policy Retain, volume mode
// Filesystem, phase Pending), status reset on create and kept by the main resource,
// lastPhaseTransitionTime stamped whenever the phase changes (as persistentvolume's strategy
// does), ValidatePersistentVolume/Update and printPersistentVolume. The persistentvolume binder
// (controllers/persistent-volume-binder.ts) moves a Pending volume to Available and binds claims.

import { isDeepStrictEqual } from 'node:util';
import { forbiddenField, invalidField, type FieldError } from '../errors.ts';
import { isPlainObject, type KubeObject } from '../object.ts';
import type { ResourceStrategy } from '../resource.ts';
import { rfc3339 } from '../registry/object-meta.ts';
import { nameIsDNSSubdomain } from '../validation/names.ts';
import { FIELD_IMMUTABLE_MESSAGE } from '../validation/object-meta.ts';
import { SWAGGER_DOCS } from './column-descriptions.ts';
import { accessModesText, validatePersistentVolumeSpec } from './persistent-volume-validation.ts';
import { age, ageColumn, column, field, nameColumn, obj, str } from './printing.ts';
import { setInlineVolumeSpecValidator } from './volumeattachments.ts';

type Json = Record<string, unknown>;
export const BETA_STORAGE_CLASS_ANNOTATION = 'volume.beta.kubernetes.io/storage-class';
/** The members of PersistentVolumeSpec that are not the inline PersistentVolumeSource. */
const NON_SOURCE_FIELDS = new Set(['capacity', 'accessModes', 'claimRef', 'persistentVolumeReclaimPolicy', 'storageClassName',
  'mountOptions', 'volumeMode', 'nodeAffinity', 'volumeAttributesClassName']);

setInlineVolumeSpecValidator((spec, path) => validatePersistentVolumeSpec(spec, path, true));

function specOf(object: KubeObject): Json {
  if (!isPlainObject(object.spec)) object.spec = {};
  return object.spec as Json;
}

function statusOf(object: KubeObject): Json {
  if (!isPlainObject(object.status)) object.status = {};
  return object.status as Json;
}

function sourceOf(spec: Json): Json {
  return Object.fromEntries(Object.entries(spec).filter(([key]) => !NON_SOURCE_FIELDS.has(key)));
}

/** GetPersistentVolumeClass: the beta annotation wins over spec.storageClassName. */
export function persistentVolumeClass(pv: KubeObject): string {
  return pv.metadata.annotations?.[BETA_STORAGE_CLASS_ANNOTATION] ?? str(pv, 'spec', 'storageClassName');
}

function validateUpdate(pv: KubeObject, old: KubeObject): FieldError[] {
  const errs = validatePersistentVolumeSpec(pv.spec, 'spec', false);
  const spec = specOf(pv);
  const oldSpec = obj(old, 'spec') ?? {};
  const newSource = sourceOf(spec);
  const oldSource = sourceOf(oldSpec);
  // A CSI volume may gain a controllerExpandSecretRef.
  if (isPlainObject(oldSource.csi) && isPlainObject(newSource.csi) && oldSource.csi.controllerExpandSecretRef === undefined) {
    newSource.csi = { ...newSource.csi };
    delete (newSource.csi as Json).controllerExpandSecretRef;
  }
  if (!isDeepStrictEqual(newSource, oldSource)) {
    errs.push(forbiddenField('spec.persistentvolumesource', 'spec.persistentvolumesource is immutable after creation'));
  }
  if (!isDeepStrictEqual(spec.volumeMode, oldSpec.volumeMode)) errs.push(invalidField('volumeMode', spec.volumeMode ?? null, FIELD_IMMUTABLE_MESSAGE));
  if (oldSpec.nodeAffinity !== undefined && !isDeepStrictEqual(spec.nodeAffinity, oldSpec.nodeAffinity)) {
    errs.push(invalidField('nodeAffinity', spec.nodeAffinity ?? null, FIELD_IMMUTABLE_MESSAGE));
  }
  return errs;
}

export const persistentVolumeStrategy: ResourceStrategy = {
  group: '',
  version: 'v1',
  kind: 'PersistentVolume',
  listKind: 'PersistentVolumeList',
  resource: 'persistentvolumes',
  singular: 'persistentvolume',
  shortNames: ['pv'],
  categories: [],
  namespaced: false,
  verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
  storageResource: 'persistentvolumes',
  hasStatus: true,
  subresources: [],
  tracksGeneration: false,

  prepareForCreate(pv, ctx) {
    pv.status = { phase: 'Pending', lastPhaseTransitionTime: rfc3339(ctx.now) };
  },
  prepareForStatusUpdate(pv, old, ctx) {
    const status = statusOf(pv);
    if (status.phase !== field(old, 'status', 'phase')) status.lastPhaseTransitionTime = rfc3339(ctx.now);
  },
  applyDefaults(pv) {
    const spec = specOf(pv);
    if (!spec.persistentVolumeReclaimPolicy) spec.persistentVolumeReclaimPolicy = 'Retain';
    spec.volumeMode ??= 'Filesystem';
    const status = statusOf(pv);
    if (!status.phase) status.phase = 'Pending';
  },
  validateName: nameIsDNSSubdomain,
  validate: (pv) => validatePersistentVolumeSpec(pv.spec, 'spec', false),
  validateUpdate,
  selectableFieldNames: [],
  table: {
    columns: [
      nameColumn(),
      column('Capacity', SWAGGER_DOCS['PersistentVolumeSpec.capacity']),
      column('Access Modes', SWAGGER_DOCS['PersistentVolumeSpec.accessModes']),
      column('Reclaim Policy', SWAGGER_DOCS['PersistentVolumeSpec.persistentVolumeReclaimPolicy']),
      column('Status', SWAGGER_DOCS['PersistentVolumeStatus.phase']),
      column('Claim', SWAGGER_DOCS['PersistentVolumeSpec.claimRef']),
      column('StorageClass', 'StorageClass of the pv'),
      column('VolumeAttributesClass', 'VolumeAttributesClass of the pv'),
      column('Reason', SWAGGER_DOCS['PersistentVolumeStatus.reason']),
      ageColumn(),
      column('VolumeMode', SWAGGER_DOCS['PersistentVolumeSpec.volumeMode'], 1),
    ],
    cells: (pv, now) => {
      const claimRef = obj(pv, 'spec', 'claimRef');
      const storage = field(pv, 'spec', 'capacity', 'storage');
      const attributesClass = field(pv, 'spec', 'volumeAttributesClassName');
      return [
        pv.metadata.name ?? '', storage === undefined ? '0' : String(storage), accessModesText(field(pv, 'spec', 'accessModes')),
        str(pv, 'spec', 'persistentVolumeReclaimPolicy'), pv.metadata.deletionTimestamp ? 'Terminating' : str(pv, 'status', 'phase'),
        claimRef ? `${str(claimRef, 'namespace')}/${str(claimRef, 'name')}` : '', persistentVolumeClass(pv),
        typeof attributesClass === 'string' ? attributesClass : '<unset>', str(pv, 'status', 'reason'),
        age(pv.metadata.creationTimestamp, now), str(pv, 'spec', 'volumeMode') || '<unset>',
      ];
    },
  },
};
