// What the apiextensions-apiserver does with a CRD version's structural schema on every write:
//  - validation, compiled with ajv (the library the built-in kinds' validation already uses) from
//    the schema turned into JSON Schema (nullable, int-or-string and embedded resources spelled
//    out), its errors worded as kube-openapi's validator words them;
//  - pruning: fields the schema does not declare (unless x-kubernetes-preserve-unknown-fields),
//    reported as paths for fieldValidation Strict/Warn and removed;
//  - defaulting of `default:` values, top-down, as structural defaulting does;
//  - the SchemaNode view server-side apply and the field managers walk (list types, map keys).

import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import {
  invalidField, notSupportedField, requiredField, typeInvalidField, type FieldError,
} from '../errors.ts';
import { deepCopy, isPlainObject } from '../object.ts';
import type { SchemaNode } from '../openapi/schema-node.ts';
import { schemaByName } from '../openapi/schema.ts';
import type { JSONSchemaProps } from './types.ts';
import { CUSTOM_FORMATS } from './formats.ts';

type JsonSchema = Record<string, unknown>;

const OBJECT_META = 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta';

let ajv: Ajv | undefined;

function compiler(): Ajv {
  if (!ajv) {
    ajv = new Ajv({ allErrors: true, strict: false, validateFormats: true, inlineRefs: false, unicodeRegExp: true });
    for (const [name, check] of Object.entries(CUSTOM_FORMATS)) ajv.addFormat(name, check);
  }
  return ajv;
}

/** JSONSchemaProps → the JSON Schema ajv runs. Metadata at the root is ObjectMeta, checked elsewhere. */
function toJsonSchema(schema: JSONSchemaProps, root = false): JsonSchema {
  const out: JsonSchema = {};
  const types: string[] = [];
  if (schema['x-kubernetes-int-or-string']) types.push('integer', 'string');
  else if (schema.type) types.push(schema.type);
  if (types.length && schema.nullable) types.push('null');
  if (types.length === 1) out.type = types[0];
  else if (types.length > 1) out.type = types;
  if (schema.format && Object.hasOwn(CUSTOM_FORMATS, schema.format) && schema.type === 'string') out.format = schema.format;
  if (schema.enum) out.enum = schema.nullable ? [...schema.enum, null] : schema.enum;
  for (const key of ['pattern', 'maximum', 'minimum', 'maxLength', 'minLength', 'maxItems', 'minItems', 'maxProperties', 'minProperties', 'multipleOf'] as const) {
    if (schema[key] !== undefined) out[key] = schema[key];
  }
  if (schema.exclusiveMaximum && schema.maximum !== undefined) { out.exclusiveMaximum = schema.maximum; delete out.maximum; }
  if (schema.exclusiveMinimum && schema.minimum !== undefined) { out.exclusiveMinimum = schema.minimum; delete out.minimum; }
  if (schema.required?.length) out.required = schema.required;
  if (schema.properties) {
    const properties: JsonSchema = {};
    for (const [name, child] of Object.entries(schema.properties)) {
      if (root && name === 'metadata') continue;
      properties[name] = toJsonSchema(child);
    }
    out.properties = properties;
  }
  if (isPlainObject(schema.additionalProperties)) out.additionalProperties = toJsonSchema(schema.additionalProperties as JSONSchemaProps);
  if (isPlainObject(schema.items)) out.items = toJsonSchema(schema.items as JSONSchemaProps);
  for (const key of ['allOf', 'anyOf', 'oneOf'] as const) {
    if (schema[key]?.length) out[key] = schema[key]!.map((s) => toJsonSchema(s));
  }
  if (schema.not) out.not = toJsonSchema(schema.not);
  if (schema['x-kubernetes-embedded-resource']) {
    // apiVersion and kind are required of an embedded object; its metadata is ObjectMeta.
    out.required = [...new Set([...(schema.required ?? []), 'apiVersion', 'kind'])];
  }
  return out;
}

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

/** JSON pointer → Kubernetes field path: `/spec/ports/0/name` → `spec.ports[0].name`. */
function fieldPath(pointer: string, extra?: string): string {
  const segments = pointer === '' ? [] : pointer.slice(1).split('/').map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));
  if (extra !== undefined) segments.push(extra);
  let path = '';
  for (const segment of segments) path += /^\d+$/.test(segment) ? `[${segment}]` : path === '' ? segment : `.${segment}`;
  return path === '' ? '<root>' : path;
}

function valueAt(object: unknown, pointer: string): unknown {
  let value = object;
  for (const segment of pointer === '' ? [] : pointer.slice(1).split('/')) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[segment.replaceAll('~1', '/').replaceAll('~0', '~')];
  }
  return value;
}

/** kube-openapi's validate errors as apiextensions reports them for custom resources. */
function toFieldErrors(object: unknown, errors: ErrorObject[]): FieldError[] {
  const out: FieldError[] = [];
  const seen = new Set<string>();
  for (const error of errors) {
    const path = fieldPath(error.instancePath);
    const value = valueAt(object, error.instancePath);
    const params = error.params as Record<string, unknown>;
    let fieldError: FieldError | undefined;
    switch (error.keyword) {
      case 'required':
        fieldError = requiredField(fieldPath(error.instancePath, String(params.missingProperty)));
        break;
      case 'type': {
        const expected = Array.isArray(params.type) ? params.type.filter((t) => t !== 'null').join('/') : String(params.type).replace(/,null$/, '');
        const actual = jsonType(value);
        fieldError = typeInvalidField(path, actual, `${path} in body must be of type ${expected === 'integer,string' || expected === 'integer/string' ? 'integer or string' : expected}: "${actual}"`);
        break;
      }
      case 'enum':
        fieldError = notSupportedField(path, value, (Array.isArray(params.allowedValues) ? params.allowedValues : []).filter((v) => v !== null).map((v) => (typeof v === 'string' ? v : JSON.stringify(v))));
        break;
      case 'pattern':
        fieldError = invalidField(path, value, `${path} in body should match '${String(params.pattern)}'`);
        break;
      case 'format':
        fieldError = invalidField(path, value, `${path} in body must be of type ${String(params.format)}: ${JSON.stringify(value)}`);
        break;
      case 'minimum':
        fieldError = invalidField(path, value, `${path} in body should be greater than or equal to ${String(params.limit)}`);
        break;
      case 'exclusiveMinimum':
        fieldError = invalidField(path, value, `${path} in body should be greater than ${String(params.limit)}`);
        break;
      case 'maximum':
        fieldError = invalidField(path, value, `${path} in body should be less than or equal to ${String(params.limit)}`);
        break;
      case 'exclusiveMaximum':
        fieldError = invalidField(path, value, `${path} in body should be less than ${String(params.limit)}`);
        break;
      case 'maxLength': {
        const limit = Number(params.limit);
        fieldError = { type: 'FieldValueTooLong', field: path, message: `Too long: may not be more than ${limit} ${limit === 1 ? 'byte' : 'bytes'}` };
        break;
      }
      case 'minLength':
        fieldError = invalidField(path, value, `${path} in body should be at least ${String(params.limit)} chars long`);
        break;
      case 'maxItems':
        fieldError = { type: 'FieldValueTooMany', field: path, message: `Too many: ${Array.isArray(value) ? value.length : 0}: must have at most ${String(params.limit)} items` };
        break;
      case 'minItems':
        fieldError = invalidField(path, value, `${path} in body should have at least ${String(params.limit)} items`);
        break;
      case 'maxProperties':
        fieldError = { type: 'FieldValueTooMany', field: path, message: `Too many: ${isPlainObject(value) ? Object.keys(value).length : 0}: must have at most ${String(params.limit)} items` };
        break;
      case 'minProperties':
        fieldError = invalidField(path, value, `${path} in body should have at least ${String(params.limit)} properties`);
        break;
      case 'multipleOf':
        fieldError = invalidField(path, value, `${path} in body should be a multiple of ${String(params.multipleOf)}`);
        break;
      case 'oneOf':
        fieldError = invalidField(path, value, `${path} in body must match exactly one schema in oneOf`);
        break;
      case 'anyOf':
        fieldError = invalidField(path, value, `${path} in body must match at least one schema in anyOf`);
        break;
      case 'not':
        fieldError = invalidField(path, value, `${path} in body must not validate the schema (not)`);
        break;
      default:
        break;
    }
    if (!fieldError) continue;
    const key = `${fieldError.field}|${fieldError.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(fieldError);
  }
  return out;
}

/** One CRD version's schema, compiled once when the CRD is (re)registered. */
export class StructuralSchema {
  private readonly validator: ValidateFunction;
  /** The view server-side apply and field tracking walk. */
  readonly node: SchemaNode;

  constructor(readonly schema: JSONSchemaProps) {
    this.validator = compiler().compile(toJsonSchema(schema, true));
    this.node = toSchemaNode(schema, true);
    this.hasDefaults = JSON.stringify(schema).includes('"default":');
  }

  validate(object: unknown): FieldError[] {
    if (this.validator(object)) return [];
    return toFieldErrors(object, this.validator.errors ?? []);
  }

  /** Removes fields the schema does not declare; returns their paths (`spec.foo`, `spec.list[0].bar`). */
  prune(object: Record<string, unknown>): string[] {
    const unknown: string[] = [];
    pruneObject(object, this.schema, '', unknown, true);
    return unknown;
  }

  /** Whether any node of the schema declares a default (reads need defaulting only then). */
  readonly hasDefaults: boolean;

  /** Fills `default:` values into absent fields, top-down. */
  applyDefaults(object: Record<string, unknown>): void {
    defaultValue(object, this.schema);
  }
}

const ROOT_FIELDS = new Set(['apiVersion', 'kind', 'metadata']);
const METADATA_FIELDS = new Set([
  'name', 'generateName', 'namespace', 'selfLink', 'uid', 'resourceVersion', 'generation', 'creationTimestamp',
  'deletionTimestamp', 'deletionGracePeriodSeconds', 'labels', 'annotations', 'ownerReferences', 'finalizers', 'managedFields',
]);

function join(path: string, field: string): string {
  return path === '' ? field : `${path}.${field}`;
}

function pruneObject(value: unknown, schema: JSONSchemaProps, path: string, unknown: string[], isRootOrEmbedded: boolean): void {
  if (Array.isArray(value)) {
    if (isPlainObject(schema.items)) value.forEach((item, i) => pruneValue(item, schema.items as JSONSchemaProps, `${path}[${i}]`, unknown));
    return;
  }
  if (!isPlainObject(value)) return;
  const preserve = schema['x-kubernetes-preserve-unknown-fields'] === true;
  if (isPlainObject(schema.additionalProperties)) {
    for (const [key, child] of Object.entries(value)) pruneValue(child, schema.additionalProperties as JSONSchemaProps, `${path}[${key}]`, unknown);
    return;
  }
  const properties = schema.properties ?? {};
  for (const key of Object.keys(value)) {
    const childPath = join(path, key);
    if (isRootOrEmbedded && key === 'metadata') {
      pruneMetadata(value.metadata, childPath, unknown);
      continue;
    }
    if (isRootOrEmbedded && ROOT_FIELDS.has(key) && !properties[key]) continue;
    const child = properties[key];
    if (child) pruneValue(value[key], child, childPath, unknown);
    else if (!preserve && schema.additionalProperties !== true) {
      unknown.push(childPath);
      delete value[key];
    }
  }
}

function pruneValue(value: unknown, schema: JSONSchemaProps, path: string, unknown: string[]): void {
  pruneObject(value, schema, path, unknown, schema['x-kubernetes-embedded-resource'] === true);
}

function pruneMetadata(metadata: unknown, path: string, unknown: string[]): void {
  if (!isPlainObject(metadata)) return;
  for (const key of Object.keys(metadata)) {
    if (!METADATA_FIELDS.has(key)) {
      unknown.push(join(path, key));
      delete metadata[key];
    }
  }
}

function defaultValue(value: unknown, schema: JSONSchemaProps): void {
  if (Array.isArray(value)) {
    if (isPlainObject(schema.items)) for (const item of value) defaultValue(item, schema.items as JSONSchemaProps);
    return;
  }
  if (!isPlainObject(value)) return;
  if (isPlainObject(schema.additionalProperties)) {
    for (const child of Object.values(value)) defaultValue(child, schema.additionalProperties as JSONSchemaProps);
    return;
  }
  for (const [key, child] of Object.entries(schema.properties ?? {})) {
    if (value[key] === undefined && child.default !== undefined) value[key] = deepCopy(child.default);
    // A null in a non-nullable field with a default gets the default (structural defaulting).
    else if (value[key] === null && child.default !== undefined && !child.nullable) value[key] = deepCopy(child.default);
    if (value[key] !== undefined) defaultValue(value[key], child);
  }
}

const NODE_TYPES = new Set(['object', 'array', 'string', 'integer', 'number', 'boolean']);

/** JSONSchemaProps → SchemaNode (root metadata is ObjectMeta so managed fields track labels etc.). */
export function toSchemaNode(schema: JSONSchemaProps, root = false): SchemaNode {
  const node: SchemaNode = {};
  if (schema.type && NODE_TYPES.has(schema.type)) node.type = schema.type as SchemaNode['type'];
  if (schema.format) node.format = schema.format;
  if (schema.description) node.description = schema.description;
  if (schema.required) node.required = [...schema.required];
  if (schema.enum) node.enum = [...schema.enum];
  if (schema.default !== undefined) node.default = deepCopy(schema.default);
  if (schema.properties) {
    node.properties = {};
    for (const [name, child] of Object.entries(schema.properties)) node.properties[name] = toSchemaNode(child);
  }
  if (root || schema['x-kubernetes-embedded-resource']) {
    node.type ??= 'object';
    node.properties ??= {};
    const objectMeta = schemaByName(OBJECT_META);
    if (objectMeta) node.properties.metadata = objectMeta;
    node.properties.apiVersion ??= { type: 'string' };
    node.properties.kind ??= { type: 'string' };
  }
  if (isPlainObject(schema.items)) node.items = toSchemaNode(schema.items as JSONSchemaProps);
  if (isPlainObject(schema.additionalProperties)) node.additionalProperties = toSchemaNode(schema.additionalProperties as JSONSchemaProps);
  else if (typeof schema.additionalProperties === 'boolean') node.additionalProperties = schema.additionalProperties;
  const listType = schema['x-kubernetes-list-type'];
  if (listType === 'atomic' || listType === 'set' || listType === 'map') node['x-kubernetes-list-type'] = listType;
  if (schema['x-kubernetes-list-map-keys']) node['x-kubernetes-list-map-keys'] = [...schema['x-kubernetes-list-map-keys']];
  const mapType = schema['x-kubernetes-map-type'];
  if (mapType === 'atomic' || mapType === 'granular') node['x-kubernetes-map-type'] = mapType;
  if (schema['x-kubernetes-int-or-string']) node['x-kubernetes-int-or-string'] = true;
  if (schema['x-kubernetes-preserve-unknown-fields']) node['x-kubernetes-preserve-unknown-fields'] = true;
  return node;
}
