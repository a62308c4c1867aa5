// storage.k8s.io/v1 StorageClass: SetDefaults_StorageClass (reclaimPolicy Delete, volumeBindingMode
// Immediate), ValidateStorageClass/ValidateStorageClassUpdate and printStorageClass, whose name
// cell carries " (default)" for the class marked by the default-class annotation.

import { forbiddenField, invalidField, notSupportedField, requiredField, duplicateField, type FieldError } from '../errors.ts';
import { isPlainObject, type KubeObject } from '../object.ts';
import type { ResourceStrategy } from '../resource.ts';
import { nameIsDNSSubdomain } from '../validation/names.ts';
import { FIELD_IMMUTABLE_MESSAGE } from '../validation/object-meta.ts';
import { isDeepStrictEqual } from 'node:util';
import { SWAGGER_DOCS } from './column-descriptions.ts';
import { age, ageColumn, column, field, nameColumn, str } from './printing.ts';
import { validateParameters, validateQualifiedName, validateTopologySelectorTerm } from './storage-validation.ts';

/** The annotation that marks the default class (the beta one is still honoured, as upstream). */
export const DEFAULT_STORAGE_CLASS_ANNOTATION = 'storageclass.kubernetes.io/is-default-class';
export const BETA_DEFAULT_STORAGE_CLASS_ANNOTATION = 'storageclass.beta.kubernetes.io/is-default-class';
const RECLAIM_POLICIES = ['Delete', 'Retain'];
const BINDING_MODES = ['Immediate', 'WaitForFirstConsumer'];

/** storageutil.IsDefaultAnnotation. */
export function isDefaultStorageClass(object: KubeObject): boolean {
  const annotations = object.metadata.annotations ?? {};
  return annotations[DEFAULT_STORAGE_CLASS_ANNOTATION] === 'true' || annotations[BETA_DEFAULT_STORAGE_CLASS_ANNOTATION] === 'true';
}

function validateStorageClass(sc: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const provisioner = str(sc, 'provisioner');
  if (provisioner === '') errs.push(requiredField('provisioner'));
  else errs.push(...validateQualifiedName(provisioner.toLowerCase(), 'provisioner'));
  errs.push(...validateParameters(sc.parameters, 'parameters'));
  const reclaim = str(sc, 'reclaimPolicy');
  if (reclaim !== '' && !RECLAIM_POLICIES.includes(reclaim)) errs.push(notSupportedField('reclaimPolicy', reclaim, RECLAIM_POLICIES));
  const mode = field(sc, 'volumeBindingMode');
  if (mode === undefined || mode === null) errs.push(requiredField('volumeBindingMode'));
  else if (!BINDING_MODES.includes(String(mode))) errs.push(notSupportedField('volumeBindingMode', mode, BINDING_MODES));
  const topologies = Array.isArray(sc.allowedTopologies) ? sc.allowedTopologies : [];
  const seen: Map<string, Set<string>>[] = [];
  topologies.forEach((term, i) => {
    const { errs: termErrs, expressions } = validateTopologySelectorTerm(term, `allowedTopologies[${i}]`);
    errs.push(...termErrs);
    if (seen.some((other) => isDeepStrictEqual(other, expressions))) errs.push(duplicateField(`allowedTopologies[${i}].matchLabelExpressions`, ''));
    seen.push(expressions);
  });
  return errs;
}

function validateStorageClassUpdate(sc: KubeObject, old: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const params = (object: KubeObject) => (isPlainObject(object.parameters) && Object.keys(object.parameters).length > 0 ? object.parameters : undefined);
  if (!isDeepStrictEqual(params(old), params(sc))) errs.push(forbiddenField('parameters', 'updates to parameters are forbidden.'));
  if (str(sc, 'provisioner') !== str(old, 'provisioner')) errs.push(forbiddenField('provisioner', 'updates to provisioner are forbidden.'));
  if (str(sc, 'reclaimPolicy') !== str(old, 'reclaimPolicy')) errs.push(forbiddenField('reclaimPolicy', 'updates to reclaimPolicy are forbidden.'));
  if (sc.volumeBindingMode !== old.volumeBindingMode) errs.push(invalidField('volumeBindingMode', sc.volumeBindingMode, FIELD_IMMUTABLE_MESSAGE));
  return errs;
}

export const storageClassStrategy: ResourceStrategy = {
  group: 'storage.k8s.io',
  version: 'v1',
  kind: 'StorageClass',
  listKind: 'StorageClassList',
  resource: 'storageclasses',
  singular: 'storageclass',
  shortNames: ['sc'],
  categories: [],
  namespaced: false,
  verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
  storageResource: 'storageclasses',
  hasStatus: false,
  subresources: [],
  tracksGeneration: false,

  applyDefaults(sc) {
    if (sc.reclaimPolicy === undefined || sc.reclaimPolicy === null) sc.reclaimPolicy = 'Delete';
    if (sc.volumeBindingMode === undefined || sc.volumeBindingMode === null) sc.volumeBindingMode = 'Immediate';
  },
  validateName: nameIsDNSSubdomain,
  validate: (sc) => validateStorageClass(sc),
  validateUpdate: (sc, old) => validateStorageClassUpdate(sc, old),
  selectableFieldNames: [],
  table: {
    columns: [
      nameColumn(),
      column('Provisioner', SWAGGER_DOCS['StorageClass.provisioner']),
      column('ReclaimPolicy', SWAGGER_DOCS['StorageClass.reclaimPolicy']),
      column('VolumeBindingMode', SWAGGER_DOCS['StorageClass.volumeBindingMode']),
      column('AllowVolumeExpansion', SWAGGER_DOCS['StorageClass.allowVolumeExpansion']),
      ageColumn(),
    ],
    cells: (sc, now) => [
      `${sc.metadata.name ?? ''}${isDefaultStorageClass(sc) ? ' (default)' : ''}`,
      str(sc, 'provisioner'),
      str(sc, 'reclaimPolicy') || 'Delete',
      str(sc, 'volumeBindingMode') || 'Immediate',
      sc.allowVolumeExpansion === true,
      age(sc.metadata.creationTimestamp, now),
    ],
  },
};
