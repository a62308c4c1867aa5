// core/v1 ConfigMap: ValidateConfigMap / ValidateConfigMapUpdate (key rules, no key in both data and
// binaryData, 1 MiB total, `immutable`), the table of printConfigMap.

import { invalidField, type FieldError } from '../errors.ts';
import type { KubeObject } from '../object.ts';
import type { ResourceStrategy } from '../resource.ts';
import { nameIsDNSSubdomain } from '../validation/names.ts';
import { decodedLength, MAX_SECRET_SIZE, stringMap, tooLong, validateImmutableData, validateKeys } from './config-data.ts';
import { age, ageColumn, column, nameColumn } from './printing.ts';

export function validateConfigMap(configMap: KubeObject): FieldError[] {
  const data = stringMap(configMap, 'data');
  const binaryData = stringMap(configMap, 'binaryData');
  const errs = validateKeys(Object.keys(data), 'data');
  let totalSize = 0;
  for (const value of Object.values(data)) totalSize += Buffer.byteLength(value, 'utf8');
  errs.push(...validateKeys(Object.keys(binaryData), 'binaryData'));
  for (const [key, value] of Object.entries(binaryData)) {
    totalSize += decodedLength(value);
    if (Object.prototype.hasOwnProperty.call(data, key)) errs.push(invalidField(`binaryData[${key}]`, key, 'duplicate of key present in data'));
  }
  if (totalSize > MAX_SECRET_SIZE) errs.push(tooLong('', MAX_SECRET_SIZE));
  return errs;
}

export const configMapStrategy: ResourceStrategy = {
  group: '',
  version: 'v1',
  kind: 'ConfigMap',
  listKind: 'ConfigMapList',
  resource: 'configmaps',
  singular: 'configmap',
  shortNames: ['cm'],
  categories: [],
  namespaced: true,
  verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
  storageResource: 'configmaps',
  hasStatus: false,
  subresources: [],
  tracksGeneration: false,

  validateName: nameIsDNSSubdomain,
  validate: (configMap) => validateConfigMap(configMap),
  validateUpdate: (configMap, old) => [...validateImmutableData(configMap, old, ['data', 'binaryData']), ...validateConfigMap(configMap)],
  selectableFieldNames: [],
  table: {
    columns: [
      nameColumn(),
      column('Data', "Data contains the configuration data. Each key must consist of alphanumeric characters, '-', '_' or '.'. Values with non-UTF-8 byte sequences must use the BinaryData field. The keys stored in Data must not overlap with the keys in the BinaryData field, this is enforced during validation process."),
      ageColumn(),
    ],
    cells: (configMap, now) => [
      configMap.metadata.name ?? '',
      Object.keys(stringMap(configMap, 'data')).length + Object.keys(stringMap(configMap, 'binaryData')).length,
      age(configMap.metadata.creationTimestamp, now),
    ],
  },
};
