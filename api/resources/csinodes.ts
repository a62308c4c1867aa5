// storage.k8s.io/v1 CSINode: ValidateCSINode (driver names, node IDs of at most 192 characters,
// unique drivers and topology keys), ValidateCSINodeUpdate (an existing driver's entry is
// immutable) and printCSINode. Named after its Node; the kubelet writes it.

import { isDeepStrictEqual } from 'node:util';
import { duplicateField, invalidField, requiredField, type FieldError } from '../errors.ts';
import type { KubeObject } from '../object.ts';
import type { ResourceStrategy } from '../resource.ts';
import { nameIsDNSSubdomain } from '../validation/names.ts';
import { FIELD_IMMUTABLE_MESSAGE } from '../validation/object-meta.ts';
import { age, ageColumn, list, nameColumn, num } from './printing.ts';
import { validateCSIDriverName, validateQualifiedName } from './storage-validation.ts';

const CSI_NODE_ID_MAX_LENGTH = 192;

function validateCSINode(node: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set<string>();
  list(node, 'spec', 'drivers').forEach((driver, i) => {
    const path = `spec.drivers[${i}]`;
    const name = typeof driver.name === 'string' ? driver.name : '';
    errs.push(...validateCSIDriverName(name, `${path}.name`));
    const nodeID = typeof driver.nodeID === 'string' ? driver.nodeID : '';
    if (nodeID === '') errs.push(requiredField(`${path}.nodeID`));
    if (nodeID.length > CSI_NODE_ID_MAX_LENGTH) errs.push(invalidField(`${path}.nodeID`, nodeID, `must be ${CSI_NODE_ID_MAX_LENGTH} characters or less`));
    const count = num(driver, 'allocatable', 'count');
    if (count !== undefined && count < 0) errs.push(invalidField(`${path}.allocatable.count`, count, 'must be greater than or equal to 0'));
    if (names.has(name)) errs.push(duplicateField(`${path}.name`, name));
    names.add(name);
    const keys = new Set<string>();
    for (const key of Array.isArray(driver.topologyKeys) ? driver.topologyKeys.map(String) : []) {
      if (key === '') errs.push(requiredField(path));
      if (keys.has(key)) errs.push(duplicateField(path, key));
      keys.add(key);
      errs.push(...validateQualifiedName(key, path));
    }
  });
  return errs;
}

function validateCSINodeUpdate(node: KubeObject, old: KubeObject): FieldError[] {
  const errs = validateCSINode(node);
  const updated = list(node, 'spec', 'drivers');
  for (const oldDriver of list(old, 'spec', 'drivers')) {
    for (const driver of updated) {
      if (driver.name === oldDriver.name && !isDeepStrictEqual(driver, oldDriver)) errs.push(invalidField('spec.drivers', driver, FIELD_IMMUTABLE_MESSAGE));
    }
  }
  return errs;
}

export const csiNodeStrategy: ResourceStrategy = {
  group: 'storage.k8s.io',
  version: 'v1',
  kind: 'CSINode',
  listKind: 'CSINodeList',
  resource: 'csinodes',
  singular: 'csinode',
  shortNames: [],
  categories: [],
  namespaced: false,
  verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
  storageResource: 'csinodes',
  hasStatus: false,
  subresources: [],
  tracksGeneration: false,

  validateName: nameIsDNSSubdomain,
  validate: (node) => validateCSINode(node),
  validateUpdate: (node, old) => validateCSINodeUpdate(node, old),
  selectableFieldNames: [],
  table: {
    columns: [
      nameColumn(),
      { name: 'Drivers', type: 'integer', format: '', description: 'Drivers indicates the number of CSI drivers registered on the node', priority: 0 },
      ageColumn(),
    ],
    cells: (node, now) => [node.metadata.name ?? '', list(node, 'spec', 'drivers').length, age(node.metadata.creationTimestamp, now)],
  },
};
