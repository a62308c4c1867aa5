// What ConfigMaps and Secrets share (pkg/apis/core/validation): the key rule IsConfigMapKey, the
// 1 MiB limit on their data (core.MaxSecretSize) and the `immutable` flag's update rules.

import { forbiddenField, invalidField, type FieldError } from '../errors.ts';
import type { KubeObject } from '../object.ts';
import { DNS1123_SUBDOMAIN_MAX_LENGTH, maxLenError, regexError } from '../validation/names.ts';

/** core.MaxSecretSize: ConfigMaps and Secrets may each hold at most 1 MiB of values. */
export const MAX_SECRET_SIZE = 1024 * 1024;

const CONFIG_MAP_KEY_FMT = '[-._a-zA-Z0-9]+';
const CONFIG_MAP_KEY_MSG = "a valid config key must consist of alphanumeric characters, '-', '_' or '.'";
const configMapKeyRegexp = new RegExp(`^${CONFIG_MAP_KEY_FMT}$`);

/** validation.IsConfigMapKey (apimachinery). */
export function isConfigMapKey(key: string): string[] {
  const errs: string[] = [];
  if (Buffer.byteLength(key, 'utf8') > DNS1123_SUBDOMAIN_MAX_LENGTH) errs.push(maxLenError(DNS1123_SUBDOMAIN_MAX_LENGTH));
  if (!configMapKeyRegexp.test(key)) errs.push(regexError(CONFIG_MAP_KEY_MSG, CONFIG_MAP_KEY_FMT, 'key.name', 'KEY_NAME', 'key-name'));
  if (key === '.') errs.push("must not be '.'");
  else if (key === '..') errs.push("must not be '..'");
  else if (key.startsWith('..')) errs.push("must not start with '..'");
  return errs;
}

export function tooLong(field: string, maxBytes: number): FieldError {
  return { type: 'FieldValueTooLong', field, message: `Too long: may not be more than ${maxBytes} bytes` };
}

/** A string-to-string map field, or {} when absent or not a map (the schema check reports that). */
export function stringMap(object: KubeObject, field: string): Record<string, string> {
  const value = object[field];
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return {};
  const out: Record<string, string> = {};
  for (const [key, entry] of Object.entries(value)) if (typeof entry === 'string') out[key] = entry;
  return out;
}

/** Bytes of a base64 value (`[]byte` fields travel base64 encoded in JSON). */
export function decodedLength(base64: string): number {
  return Buffer.from(base64, 'base64').length;
}

const IMMUTABLE_MESSAGE = 'field is immutable when `immutable` is set';

/** The `immutable: true` rules of ValidateConfigMapUpdate / ValidateSecretUpdate for the given data fields. */
export function validateImmutableData(object: KubeObject, old: KubeObject, fields: string[]): FieldError[] {
  if (old.immutable !== true) return [];
  const errs: FieldError[] = [];
  if (object.immutable !== true) errs.push(forbiddenField('immutable', IMMUTABLE_MESSAGE));
  for (const field of fields) {
    if (!sameMap(object[field], old[field])) errs.push(forbiddenField(field, IMMUTABLE_MESSAGE));
  }
  return errs;
}

function sameMap(a: unknown, b: unknown): boolean {
  const left = a && typeof a === 'object' ? a as Record<string, unknown> : {};
  const right = b && typeof b === 'object' ? b as Record<string, unknown> : {};
  const keys = Object.keys(left);
  if (keys.length !== Object.keys(right).length) return false;
  return keys.every((key) => Object.prototype.hasOwnProperty.call(right, key) && left[key] === right[key]);
}

/** `data[key]: Invalid value: "key": ...` for every key breaking IsConfigMapKey. */
export function validateKeys(keys: string[], field: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const key of keys) for (const msg of isConfigMapKey(key)) errs.push(invalidField(`${field}[${key}]`, key, msg));
  return errs;
}
