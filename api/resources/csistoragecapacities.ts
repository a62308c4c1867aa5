// storage.k8s.io/v1 CSIStorageCapacity (namespaced): ValidateCSIStorageCapacity (label selector,
// class name, non-negative capacity), nodeTopology and storageClassName immutable, and
// printCSIStorageCapacity (no Age column upstream).

import { isDeepStrictEqual } from 'node:util';
import { invalidField, type FieldError } from '../errors.ts';
import type { KubeObject } from '../object.ts';
import type { ResourceStrategy } from '../resource.ts';
import { isDNS1123Subdomain, nameIsDNSSubdomain } from '../validation/names.ts';
import { FIELD_IMMUTABLE_MESSAGE } from '../validation/object-meta.ts';
import { SWAGGER_DOCS } from './column-descriptions.ts';
import { column, field, nameColumn, str } from './printing.ts';
import { validateNonnegativeQuantity } from './storage-validation.ts';
import { validateLabelSelector } from './workload-validation.ts';

function validateCapacity(capacity: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  errs.push(...validateLabelSelector(capacity.nodeTopology, 'nodeTopology'));
  const className = str(capacity, 'storageClassName');
  errs.push(...isDNS1123Subdomain(className).map((msg) => invalidField('storageClassName', className, msg)));
  if (capacity.capacity !== undefined) errs.push(...validateNonnegativeQuantity(capacity.capacity, 'capacity'));
  return errs;
}

function validateCapacityUpdate(capacity: KubeObject, old: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  if (!isDeepStrictEqual(capacity.nodeTopology, old.nodeTopology)) errs.push(invalidField('nodeTopology', capacity.nodeTopology, FIELD_IMMUTABLE_MESSAGE));
  if (str(capacity, 'storageClassName') !== str(old, 'storageClassName')) errs.push(invalidField('storageClassName', capacity.storageClassName, FIELD_IMMUTABLE_MESSAGE));
  return errs;
}

export const csiStorageCapacityStrategy: ResourceStrategy = {
  group: 'storage.k8s.io',
  version: 'v1',
  kind: 'CSIStorageCapacity',
  listKind: 'CSIStorageCapacityList',
  resource: 'csistoragecapacities',
  singular: 'csistoragecapacity',
  shortNames: [],
  categories: [],
  namespaced: true,
  verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
  storageResource: 'csistoragecapacities',
  hasStatus: false,
  subresources: [],
  tracksGeneration: false,

  validateName: nameIsDNSSubdomain,
  validate: (capacity) => validateCapacity(capacity),
  validateUpdate: (capacity, old) => validateCapacityUpdate(capacity, old),
  selectableFieldNames: [],
  table: {
    columns: [
      nameColumn(),
      column('StorageClassName', SWAGGER_DOCS['CSIStorageCapacity.storageClassName']),
      column('Capacity', SWAGGER_DOCS['CSIStorageCapacity.capacity']),
    ],
    cells: (capacity) => {
      const value = field(capacity, 'capacity');
      return [capacity.metadata.name ?? '', str(capacity, 'storageClassName'), value === undefined || value === null ? '<unset>' : String(value)];
    },
  },
};
