// core/v1 LimitRange: ValidateLimitRange's rules and messages (types, resource names, min <= default
// request <= default <= max, ratio >= 1) and printLimitRange's table. Applying the limits to pods is
// the LimitRanger admission plugin's job.

import { duplicateField, forbiddenField, invalidField, notSupportedField, requiredField, type FieldError } from '../errors.ts';
import { isPlainObject, type KubeObject } from '../object.ts';
import type { ResourceStrategy } from '../resource.ts';
import { nameIsDNSSubdomain } from '../validation/names.ts';
import { column, DESCRIPTIONS, list, nameColumn, str } from './printing.ts';
import { parseQuantity } from './quantity.ts';
import { containerResourceNameErrors, resourceNameErrors } from './resource-names.ts';

const LIMIT_TYPES = ['Container', 'PersistentVolumeClaim', 'Pod'];
type Quantities = Map<string, { text: string; value: number }>;

function quantities(limit: Record<string, unknown>, key: string, type: string, path: string, errs: FieldError[], keys: Set<string>): Quantities {
  const out: Quantities = new Map();
  const values = isPlainObject(limit[key]) ? limit[key] : {};
  for (const [name, raw] of Object.entries(values)) {
    const check = type === 'Container' || type === 'Pod' ? containerResourceNameErrors : resourceNameErrors;
    for (const msg of check(name)) errs.push(invalidField(`${path}.${key}[${name}]`, name, msg));
    const value = parseQuantity(raw);
    keys.add(name);
    if (value !== undefined) out.set(name, { text: String(raw), value });
  }
  return out;
}

export function validateLimitRange(limitRange: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const seenTypes = new Set<string>();
  list(limitRange, 'spec', 'limits').forEach((limit, i) => {
    const path = `spec.limits[${i}]`;
    const type = str(limit, 'type');
    if (!type) errs.push(requiredField(`${path}.type`));
    else if (!type.includes('/') && !LIMIT_TYPES.includes(type)) errs.push(notSupportedField(`${path}.type`, type, LIMIT_TYPES));
    if (seenTypes.has(type)) errs.push(duplicateField(`${path}.type`, type));
    seenTypes.add(type);
    const keys = new Set<string>();
    const max = quantities(limit, 'max', type, path, errs, keys);
    const min = quantities(limit, 'min', type, path, errs, keys);
    let defaults: Quantities = new Map();
    let defaultRequests: Quantities = new Map();
    if (type === 'Pod') {
      if (isPlainObject(limit.default) && Object.keys(limit.default).length > 0) errs.push(forbiddenField(`${path}.default`, "may not be specified when `type` is 'Pod'"));
      if (isPlainObject(limit.defaultRequest) && Object.keys(limit.defaultRequest).length > 0) errs.push(forbiddenField(`${path}.defaultRequest`, "may not be specified when `type` is 'Pod'"));
    } else {
      defaults = quantities(limit, 'default', type, path, errs, keys);
      defaultRequests = quantities(limit, 'defaultRequest', type, path, errs, keys);
    }
    if (type === 'PersistentVolumeClaim' && !min.has('storage') && !max.has('storage')) {
      errs.push(requiredField(`${path}.limits`, 'either minimum or maximum storage value is required, but neither was provided'));
    }
    const ratios = quantities(limit, 'maxLimitRequestRatio', type, path, errs, keys);
    for (const key of [...keys].sort()) {
      const lo = min.get(key);
      const hi = max.get(key);
      const def = defaults.get(key);
      const defRequest = defaultRequests.get(key);
      const ratio = ratios.get(key);
      if (lo && hi && lo.value > hi.value) errs.push(invalidField(`${path}.min[${key}]`, lo.text, `min value ${lo.text} is greater than max value ${hi.text}`));
      if (defRequest && lo && lo.value > defRequest.value) errs.push(invalidField(`${path}.defaultRequest[${key}]`, defRequest.text, `min value ${lo.text} is greater than default request value ${defRequest.text}`));
      if (defRequest && hi && defRequest.value > hi.value) errs.push(invalidField(`${path}.defaultRequest[${key}]`, defRequest.text, `default request value ${defRequest.text} is greater than max value ${hi.text}`));
      if (defRequest && def && defRequest.value > def.value) errs.push(invalidField(`${path}.defaultRequest[${key}]`, defRequest.text, `default request value ${defRequest.text} is greater than default limit value ${def.text}`));
      if (def && lo && lo.value > def.value) errs.push(invalidField(`${path}.default[${key}]`, lo.text, `min value ${lo.text} is greater than default value ${def.text}`));
      if (def && hi && def.value > hi.value) errs.push(invalidField(`${path}.default[${key}]`, hi.text, `default value ${def.text} is greater than max value ${hi.text}`));
      if (ratio && ratio.value < 1) errs.push(invalidField(`${path}.maxLimitRequestRatio[${key}]`, ratio.text, `ratio ${ratio.text} is less than 1`));
      if (ratio && lo && hi) {
        const maxRatio = hi.value / lo.value;
        if (ratio.value > maxRatio) {
          errs.push(invalidField(`${path}.maxLimitRequestRatio[${key}]`, ratio.text, `ratio ${ratio.text} is greater than max/min = ${maxRatio.toFixed(6)}`));
        }
      }
    }
  });
  return errs;
}

/**
 * SetDefaults_LimitRangeItem for type Container: default limits from max, default requests from the
 * default limits, then from min.
 */
export function applyLimitRangeDefaults(limitRange: KubeObject): void {
  for (const item of list(limitRange, 'spec', 'limits')) {
    if (item.type !== 'Container') continue;
    const defaults = isPlainObject(item.default) ? item.default : {};
    const defaultRequests = isPlainObject(item.defaultRequest) ? item.defaultRequest : {};
    for (const [key, value] of Object.entries(isPlainObject(item.max) ? item.max : {})) if (!(key in defaults)) defaults[key] = value;
    for (const [key, value] of Object.entries(defaults)) if (!(key in defaultRequests)) defaultRequests[key] = value;
    for (const [key, value] of Object.entries(isPlainObject(item.min) ? item.min : {})) if (!(key in defaultRequests)) defaultRequests[key] = value;
    if (Object.keys(defaults).length > 0) item.default = defaults;
    if (Object.keys(defaultRequests).length > 0) item.defaultRequest = defaultRequests;
  }
}

export const limitRangeStrategy: ResourceStrategy = {
  group: '',
  version: 'v1',
  kind: 'LimitRange',
  listKind: 'LimitRangeList',
  resource: 'limitranges',
  singular: 'limitrange',
  shortNames: ['limits'],
  categories: [],
  namespaced: true,
  verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
  storageResource: 'limitranges',
  hasStatus: false,
  subresources: [],
  tracksGeneration: false,

  applyDefaults: applyLimitRangeDefaults,
  validateName: nameIsDNSSubdomain,
  validate: (limitRange) => validateLimitRange(limitRange),
  validateUpdate: (limitRange) => validateLimitRange(limitRange),
  selectableFieldNames: [],
  table: {
    columns: [nameColumn(), { ...column('Created At', DESCRIPTIONS.creationTimestamp), type: 'date' }],
    cells: (limitRange) => [limitRange.metadata.name ?? '', limitRange.metadata.creationTimestamp ?? ''],
  },
};
