// ValidatePersistentVolumeSpec and ValidatePersistentVolumeClaimSpec (pkg/apis/core/validation):
// access modes, capacity and requests, reclaim policy, exactly one volume source with the
// required fields of the common ones, class names and volume modes, with upstream's wording.

import { forbiddenField, invalidField, notSupportedField, requiredField, type FieldError } from '../errors.ts';
import { isPlainObject } from '../object.ts';
import { isDNS1123Subdomain } from '../validation/names.ts';
import { parseQuantity } from './quantity.ts';
import { validateCSIDriverName } from './storage-validation.ts';
import { validateLabelSelector } from './workload-validation.ts';

type Json = Record<string, unknown>;
export const ACCESS_MODES = ['ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOnce', 'ReadWriteOncePod'];
const RECLAIM_POLICIES = ['Delete', 'Recycle', 'Retain'];
const VOLUME_MODES = ['Block', 'Filesystem'];
/** The PersistentVolumeSource members, in the order ValidatePersistentVolumeSpec checks them. */
const PV_SOURCES = ['hostPath', 'gcePersistentDisk', 'awsElasticBlockStore', 'glusterfs', 'flocker', 'nfs', 'rbd', 'quobyte', 'cephfs',
  'iscsi', 'cinder', 'fc', 'flexVolume', 'azureFile', 'vsphereVolume', 'photonPersistentDisk', 'portworxVolume', 'azureDisk',
  'scaleIO', 'local', 'storageos', 'csi'];
/** Required string fields of the sources users still create by hand (the rest are left to their drivers). */
const REQUIRED_SOURCE_FIELDS: Record<string, string[]> = {
  hostPath: ['path'], nfs: ['server', 'path'], local: ['path'], csi: ['driver', 'volumeHandle'], iscsi: ['targetPortal', 'iqn'],
  glusterfs: ['endpoints', 'path'], cephfs: ['monitors'], rbd: ['monitors', 'image'], fc: [], azureFile: ['secretName', 'shareName'],
};
const str = (value: unknown): string => (typeof value === 'string' ? value : '');

function validateAccessModes(modes: unknown, path: string, requiredDetail: string): FieldError[] {
  const list = Array.isArray(modes) ? modes : [];
  const errs: FieldError[] = [];
  if (list.length === 0) errs.push(requiredField(path, requiredDetail));
  let rwop = false;
  let other = false;
  for (const mode of list) {
    if (!ACCESS_MODES.includes(String(mode))) errs.push(notSupportedField(path, mode, ACCESS_MODES));
    if (mode === 'ReadWriteOncePod') rwop = true;
    else if (ACCESS_MODES.includes(String(mode))) other = true;
  }
  if (rwop && other) errs.push(forbiddenField(path, 'may not use ReadWriteOncePod with other access modes'));
  return errs;
}

function validatePositiveQuantity(value: unknown, path: string): FieldError[] {
  const parsed = parseQuantity(value);
  if (parsed === undefined) return [invalidField(path, value, 'must be a valid quantity')];
  return parsed > 0 ? [] : [invalidField(path, value, 'must be greater than zero')];
}

function validateSource(name: string, source: Json, path: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const field of REQUIRED_SOURCE_FIELDS[name] ?? []) {
    const value = source[field];
    if (value === undefined || value === '' || (Array.isArray(value) && value.length === 0)) errs.push(requiredField(`${path}.${field}`));
  }
  if (name === 'csi' && str(source.driver) !== '') errs.push(...validateCSIDriverName(str(source.driver), `${path}.driver`).filter((e) => e.type !== 'FieldValueRequired'));
  if (name === 'hostPath' && str(source.path).split('/').includes('..')) errs.push(invalidField(`${path}.path`, source.path, "must not contain '..'"));
  return errs;
}

/** ValidatePersistentVolumeSpec; `inline` for a VolumeAttachment's inlineVolumeSpec. */
export function validatePersistentVolumeSpec(specValue: unknown, path: string, inline: boolean): FieldError[] {
  const spec: Json = isPlainObject(specValue) ? specValue : {};
  const errs: FieldError[] = [];
  if (inline) {
    if (spec.claimRef !== undefined && spec.claimRef !== null) errs.push(forbiddenField(`${path}.claimRef`, 'may not be specified in the context of inline volumes'));
    if (isPlainObject(spec.capacity) && Object.keys(spec.capacity).length > 0) errs.push(forbiddenField(`${path}.capacity`, 'may not be specified in the context of inline volumes'));
    if (!isPlainObject(spec.csi)) errs.push(requiredField(`${path}.csi`, 'has to be specified in the context of inline volumes'));
  }
  errs.push(...validateAccessModes(spec.accessModes, `${path}.accessModes`, ''));
  if (!inline) {
    const capacity = isPlainObject(spec.capacity) ? spec.capacity : {};
    const keys = Object.keys(capacity);
    if (keys.length === 0) errs.push(requiredField(`${path}.capacity`));
    if (!keys.includes('storage') || keys.length > 1) errs.push(notSupportedField(`${path}.capacity`, capacity, ['storage']));
    for (const key of keys) errs.push(...validatePositiveQuantity(capacity[key], `${path}.capacity[${key}]`));
  }
  const reclaim = str(spec.persistentVolumeReclaimPolicy);
  if (reclaim !== '') {
    if (inline && reclaim !== 'Retain') errs.push(forbiddenField(`${path}.persistentVolumeReclaimPolicy`, 'may only be Retain in the context of inline volumes'));
    else if (!inline && !RECLAIM_POLICIES.includes(reclaim)) errs.push(notSupportedField(`${path}.persistentVolumeReclaimPolicy`, reclaim, RECLAIM_POLICIES));
  }
  if (inline && spec.nodeAffinity !== undefined && spec.nodeAffinity !== null) {
    errs.push(forbiddenField(`${path}.nodeAffinity`, 'may not be specified in the context of inline volumes'));
  }
  let volumes = 0;
  for (const name of PV_SOURCES) {
    const source = spec[name];
    if (!isPlainObject(source)) continue;
    if (volumes > 0) {
      errs.push(forbiddenField(`${path}.${name}`, 'may not specify more than 1 volume type'));
      continue;
    }
    volumes++;
    errs.push(...validateSource(name, source, `${path}.${name}`));
    if (name === 'local' && !isPlainObject(spec.nodeAffinity)) errs.push(requiredField(`${path}.nodeAffinity`, 'Local volume requires node affinity'));
  }
  if (volumes === 0) errs.push(requiredField(path, 'must specify a volume type'));
  const className = str(spec.storageClassName);
  if (className !== '') {
    if (inline) errs.push(forbiddenField(`${path}.storageClassName`, 'may not be specified in the context of inline volumes'));
    else errs.push(...isDNS1123Subdomain(className).map((msg) => invalidField(`${path}.storageClassName`, className, msg)));
  }
  if (spec.volumeMode !== undefined && spec.volumeMode !== null) {
    if (inline && spec.volumeMode !== 'Filesystem') {
      errs.push(forbiddenField(`${path}.volumeMode`, 'may not specify volumeMode other than Filesystem in the context of inline volumes'));
    } else if (!inline && !VOLUME_MODES.includes(String(spec.volumeMode))) {
      errs.push(notSupportedField(`${path}.volumeMode`, spec.volumeMode, VOLUME_MODES));
    }
  }
  return errs;
}

/** ValidatePersistentVolumeClaimSpec. */
export function validatePersistentVolumeClaimSpec(specValue: unknown, path: string): FieldError[] {
  const spec: Json = isPlainObject(specValue) ? specValue : {};
  const errs: FieldError[] = [];
  errs.push(...validateAccessModes(spec.accessModes, `${path}.accessModes`, 'at least 1 access mode is required'));
  if (spec.selector !== undefined && spec.selector !== null) errs.push(...validateLabelSelector(spec.selector, `${path}.selector`));
  const requests = isPlainObject(spec.resources) && isPlainObject(spec.resources.requests) ? spec.resources.requests : {};
  if (!('storage' in requests)) errs.push(requiredField(`${path}.resources[storage]`));
  else errs.push(...validatePositiveQuantity(requests.storage, `${path}.resources[storage]`));
  const className = str(spec.storageClassName);
  if (className !== '') errs.push(...isDNS1123Subdomain(className).map((msg) => invalidField(`${path}.storageClassName`, className, msg)));
  if (spec.volumeMode !== undefined && spec.volumeMode !== null && !VOLUME_MODES.includes(String(spec.volumeMode))) {
    errs.push(notSupportedField(`${path}.volumeMode`, spec.volumeMode, VOLUME_MODES));
  }
  for (const key of ['dataSource', 'dataSourceRef']) {
    const ref = spec[key];
    if (!isPlainObject(ref)) continue;
    if (str(ref.name) === '') errs.push(requiredField(`${path}.${key}.name`));
    if (str(ref.kind) === '') errs.push(requiredField(`${path}.${key}.kind`));
    const apiGroup = str(ref.apiGroup);
    if (apiGroup === '' && ref.kind !== 'PersistentVolumeClaim') {
      errs.push(invalidField(`${path}.${key}`, ref.kind ?? '', "must be 'PersistentVolumeClaim' when referencing the default apiGroup"));
    }
    if (apiGroup !== '') errs.push(...isDNS1123Subdomain(apiGroup).map((msg) => invalidField(`${path}.${key}.apiGroup`, apiGroup, msg)));
  }
  return errs;
}

/** GetAccessModesAsString: RWO, ROX, RWX, RWOP in that order. */
export function accessModesText(modes: unknown): string {
  const list = Array.isArray(modes) ? modes.map(String) : [];
  const short: [string, string][] = [['ReadWriteOnce', 'RWO'], ['ReadOnlyMany', 'ROX'], ['ReadWriteMany', 'RWX'], ['ReadWriteOncePod', 'RWOP']];
  return short.filter(([mode]) => list.includes(mode)).map(([, text]) => text).join(',');
}
