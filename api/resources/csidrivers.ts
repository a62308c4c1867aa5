// storage.k8s.io/v1 CSIDriver: SetDefaults_CSIDriver, ValidateCSIDriver/ValidateCSIDriverUpdate
// (attachRequired and volumeLifecycleModes immutable, under upstream's field path
// "spec.attachedRequired") and printCSIDriver.

import { isDeepStrictEqual } from 'node:util';
import { duplicateField, invalidField, notSupportedField, requiredField, type FieldError } from '../errors.ts';
import { isPlainObject, type KubeObject } from '../object.ts';
import type { ResourceStrategy, TableColumnDefinition } from '../resource.ts';
import { nameIsDNSSubdomain } from '../validation/names.ts';
import { FIELD_IMMUTABLE_MESSAGE } from '../validation/object-meta.ts';
import { SWAGGER_DOCS } from './column-descriptions.ts';
import { age, ageColumn, column, list, nameColumn, num, obj } from './printing.ts';

type Json = Record<string, unknown>;
const FS_GROUP_POLICIES = ['File', 'None', 'ReadWriteOnceWithFSType'];
const LIFECYCLE_MODES = ['Persistent', 'Ephemeral'];

function specOf(object: KubeObject): Json {
  if (!isPlainObject(object.spec)) object.spec = {};
  return object.spec as Json;
}

export function applyCSIDriverDefaults(driver: KubeObject): void {
  const spec = specOf(driver);
  spec.attachRequired ??= true;
  spec.podInfoOnMount ??= false;
  spec.storageCapacity ??= false;
  spec.fsGroupPolicy ??= 'ReadWriteOnceWithFSType';
  if (!Array.isArray(spec.volumeLifecycleModes) || spec.volumeLifecycleModes.length === 0) spec.volumeLifecycleModes = ['Persistent'];
  spec.requiresRepublish ??= false;
  // SELinuxMountReadWriteOncePod is on by default in 1.32, so the field is defaulted and required.
  spec.seLinuxMount ??= false;
}

function validateCSIDriverSpec(spec: Json): FieldError[] {
  const errs: FieldError[] = [];
  const required = (value: unknown, path: string) => { if (value === undefined || value === null) errs.push(requiredField(path)); };
  required(spec.attachRequired, 'spec.attachedRequired');
  required(spec.podInfoOnMount, 'spec.podInfoOnMount');
  required(spec.storageCapacity, 'spec.storageCapacity');
  if (spec.fsGroupPolicy !== undefined && spec.fsGroupPolicy !== null && !FS_GROUP_POLICIES.includes(String(spec.fsGroupPolicy))) {
    errs.push(notSupportedField('spec.fsGroupPolicy', spec.fsGroupPolicy, FS_GROUP_POLICIES));
  }
  const audiences = new Set<string>();
  list(spec, 'tokenRequests').forEach((request, i) => {
    const audience = typeof request.audience === 'string' ? request.audience : '';
    if (audiences.has(audience)) {
      errs.push(duplicateField(`spec.tokenRequests[${i}].audience`, audience));
      return;
    }
    audiences.add(audience);
    const seconds = num(request, 'expirationSeconds');
    if (seconds === undefined) return;
    if (seconds < 600) errs.push(invalidField(`spec.tokenRequests[${i}].expirationSeconds`, seconds, 'may not specify a duration less than 10 minutes'));
    if (seconds > 2 ** 32) errs.push(invalidField(`spec.tokenRequests[${i}].expirationSeconds`, seconds, 'may not specify a duration larger than 2^32 seconds'));
  });
  for (const mode of Array.isArray(spec.volumeLifecycleModes) ? spec.volumeLifecycleModes : []) {
    if (!LIFECYCLE_MODES.includes(String(mode))) errs.push(notSupportedField('spec.volumeLifecycleModes', mode, LIFECYCLE_MODES));
  }
  required(spec.seLinuxMount, 'spec.seLinuxMount');
  const period = spec.nodeAllocatableUpdatePeriodSeconds;
  if (typeof period === 'number' && period < 10) errs.push(invalidField('spec.nodeAllocatableUpdatePeriodSeconds', period, 'must be greater than or equal to 10 seconds'));
  return errs;
}

function validateCSIDriverUpdate(driver: KubeObject, old: KubeObject): FieldError[] {
  const spec = specOf(driver);
  const oldSpec = obj(old, 'spec') ?? {};
  const errs = validateCSIDriverSpec(spec);
  if (!isDeepStrictEqual(spec.attachRequired, oldSpec.attachRequired)) errs.push(invalidField('spec.attachedRequired', spec.attachRequired, FIELD_IMMUTABLE_MESSAGE));
  if (!isDeepStrictEqual(spec.volumeLifecycleModes, oldSpec.volumeLifecycleModes)) {
    errs.push(invalidField('spec.volumeLifecycleModes', spec.volumeLifecycleModes, FIELD_IMMUTABLE_MESSAGE));
  }
  return errs;
}

const booleanColumn = (name: string, description: string): TableColumnDefinition => ({ ...column(name, description), type: 'boolean' });
const flag = (spec: Json | undefined, name: string, fallback: boolean): boolean => (typeof spec?.[name] === 'boolean' ? spec[name] as boolean : fallback);

export const csiDriverStrategy: ResourceStrategy = {
  group: 'storage.k8s.io',
  version: 'v1',
  kind: 'CSIDriver',
  listKind: 'CSIDriverList',
  resource: 'csidrivers',
  singular: 'csidriver',
  shortNames: [],
  categories: [],
  namespaced: false,
  verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
  storageResource: 'csidrivers',
  hasStatus: false,
  subresources: [],
  tracksGeneration: false,

  applyDefaults: applyCSIDriverDefaults,
  validateName: nameIsDNSSubdomain,
  validate: (driver) => validateCSIDriverSpec(specOf(driver)),
  validateUpdate: (driver, old) => validateCSIDriverUpdate(driver, old),
  selectableFieldNames: [],
  table: {
    columns: [
      nameColumn(),
      booleanColumn('AttachRequired', SWAGGER_DOCS['CSIDriverSpec.attachRequired']),
      booleanColumn('PodInfoOnMount', SWAGGER_DOCS['CSIDriverSpec.podInfoOnMount']),
      booleanColumn('StorageCapacity', SWAGGER_DOCS['CSIDriverSpec.storageCapacity']),
      column('TokenRequests', SWAGGER_DOCS['CSIDriverSpec.tokenRequests']),
      booleanColumn('RequiresRepublish', SWAGGER_DOCS['CSIDriverSpec.requiresRepublish']),
      column('Modes', SWAGGER_DOCS['CSIDriverSpec.volumeLifecycleModes']),
      ageColumn(),
    ],
    cells: (driver, now) => {
      const spec = obj(driver, 'spec');
      const modes = Array.isArray(spec?.volumeLifecycleModes) ? spec.volumeLifecycleModes.map(String).join(',') : '';
      const tokenRequests = Array.isArray(spec?.tokenRequests)
        ? list(spec, 'tokenRequests').map((request) => (typeof request.audience === 'string' ? request.audience : '')).join(',')
        : '<unset>';
      return [
        driver.metadata.name ?? '', flag(spec, 'attachRequired', true), flag(spec, 'podInfoOnMount', false),
        flag(spec, 'storageCapacity', false), tokenRequests, flag(spec, 'requiresRepublish', false),
        modes || '<none>', age(driver.metadata.creationTimestamp, now),
      ];
    },
  },
};
