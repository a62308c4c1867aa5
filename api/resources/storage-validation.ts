// Checks shared by the storage.k8s.io kinds and the core PersistentVolume/Claim kinds, worded as
// pkg/apis/storage/validation and pkg/apis/core/validation word them.

import { invalidField, type FieldError } from '../errors.ts';
import { isPlainObject } from '../object.ts';
import { isDNS1123Subdomain, isQualifiedName } from '../validation/names.ts';
import { parseQuantity } from './quantity.ts';

export const MAX_PROVISIONER_PARAMETER_SIZE = 256 * 1024;
export const MAX_PROVISIONER_PARAMETER_LEN = 512;

export function tooLongField(field: string, maxBytes: number): FieldError {
  return { type: 'FieldValueTooLong', field, message: `Too long: may not be more than ${maxBytes} bytes` };
}

export function tooManyField(field: string, max: number): FieldError {
  return { type: 'FieldValueTooMany', field, message: `Too many: must have at most ${max} items` };
}

/** ValidateQualifiedName: one Invalid error per problem. */
export function validateQualifiedName(value: string, path: string): FieldError[] {
  return isQualifiedName(value).map((msg) => invalidField(path, value, msg));
}

/** ValidateCSIDriverName (NameIsDNSSubdomain) as a field check. */
export function validateCSIDriverName(value: string, path: string): FieldError[] {
  if (value === '') return [{ type: 'FieldValueRequired', field: path, message: 'Required value' }];
  if (value.length > 63) return [tooLongField(path, 63)];
  return isDNS1123Subdomain(value.toLowerCase()).map((msg) => invalidField(path, value, msg));
}

/** validateParameters of a StorageClass: at most 512 keys, no empty key, at most 256 kB in all. */
export function validateParameters(params: unknown, path: string): FieldError[] {
  if (!isPlainObject(params)) return [];
  const entries = Object.entries(params);
  if (entries.length > MAX_PROVISIONER_PARAMETER_LEN) return [tooLongField(path, MAX_PROVISIONER_PARAMETER_LEN)];
  const errs: FieldError[] = [];
  let size = 0;
  for (const [key, value] of entries) {
    if (key.length < 1) errs.push(invalidField(path, key, 'field can not be empty.'));
    size += Buffer.byteLength(key) + Buffer.byteLength(String(value));
  }
  if (size > MAX_PROVISIONER_PARAMETER_SIZE) errs.push(tooLongField(path, MAX_PROVISIONER_PARAMETER_SIZE));
  return errs;
}

/** ValidateNonnegativeQuantity. */
export function validateNonnegativeQuantity(value: unknown, path: string): FieldError[] {
  const parsed = parseQuantity(value);
  if (parsed !== undefined && parsed < 0) return [invalidField(path, value, 'must be greater than or equal to 0')];
  return [];
}

/** ValidateTopologySelectorTerm: keys are qualified names, values required and unique. Returns the term's key → values. */
export function validateTopologySelectorTerm(term: unknown, path: string): { errs: FieldError[]; expressions: Map<string, Set<string>> } {
  const errs: FieldError[] = [];
  const expressions = new Map<string, Set<string>>();
  const list = isPlainObject(term) && Array.isArray(term.matchLabelExpressions) ? term.matchLabelExpressions : [];
  list.forEach((requirement: unknown, j: number) => {
    const rPath = `${path}.matchLabelExpressions[${j}]`;
    const req = isPlainObject(requirement) ? requirement : {};
    const key = typeof req.key === 'string' ? req.key : '';
    errs.push(...validateQualifiedName(key, `${rPath}.key`));
    const values = Array.isArray(req.values) ? req.values.map(String) : [];
    if (values.length === 0) errs.push({ type: 'FieldValueRequired', field: `${rPath}.values`, message: 'Required value: must specify as least one value' });
    const seen = new Set<string>();
    values.forEach((value, k) => {
      if (seen.has(value)) errs.push({ type: 'FieldValueDuplicate', field: `${rPath}.values[${k}]`, message: `Duplicate value: "${value}"` });
      seen.add(value);
    });
    if (expressions.has(key)) errs.push({ type: 'FieldValueDuplicate', field: `${rPath}.key`, message: `Duplicate value: "${key}"` });
    expressions.set(key, seen);
  });
  return { errs, expressions };
}
