// Request validation against the same OpenAPI schemas the server publishes. ajv compiles one
// validator per kind (on first use) from ajv-schemas.ts; its errors are turned into FieldErrors
// worded like kube-apiserver's OpenAPI validation (k8s.io/kube-openapi/pkg/validation), and its
// `additionalProperties` findings into the unknown-field paths strict decoding reports.
//
// ajv was chosen after measuring: a compiled validator checks a two-container pod in a few
// microseconds, an order of magnitude faster than openapi-backend or walking SchemaNodes by hand.

import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import {
  notSupportedField, requiredField, typeInvalidField, type FieldError,
} from '../errors.ts';
import type { GroupVersionKind, SchemaNode } from './schema-node.ts';
import { schemaByName, schemaNameForKind } from './schema.ts';
import { ajvDocument, ajvRefFor } from './ajv-schemas.ts';
import { addGoDecodingKeywords, GO_INTEGER_KEYWORD, GO_TIME_KEYWORD, goIntegerMessage } from './go-decoding.ts';

export interface SchemaValidationResult {
  /** Type, enum and required violations, in the order ajv found them. */
  errors: FieldError[];
  /** Paths of fields the schema does not declare, e.g. `spec.containers[0].imagePullPolcy`. */
  unknownFields: string[];
  /**
   * What Go's decoder would refuse (an int32 field holding 2147483648, a malformed metav1.Time),
   * in its words; the request fails with the first, as decoding stops there.
   */
  decodeErrors: string[];
}

let ajv: Ajv | undefined;
type ValidatorEntry = { validate: ValidateFunction; root: SchemaNode } | null;
const validators = new Map<string, ValidatorEntry>();

function compiler(): Ajv {
  if (!ajv) {
    ajv = new Ajv({
      allErrors: true,
      strict: false,
      // Formats (date-time, int32, byte, ...) are checked by the decoder and strategies, not here.
      validateFormats: false,
      // Refs compile to shared functions instead of being inlined into every user: the core/v1
      // graph is large and inlining multiplies code size without a measurable speed gain.
      inlineRefs: false,
      // Measured on the kinds a start writes (bench/README.md, "Start time"): not checking the generated
      // document against JSON Schema's meta-schema (it is ours, converted by ajv-schemas.ts) and not
      // running ajv's code optimisation pass compile them in ~55% of the CPU time; a compiled Pod
      // validator runs no slower (10–15 µs a pod either way).
      validateSchema: false,
      code: { optimize: false },
    });
    addGoDecodingKeywords(ajv);
    ajv.addSchema(ajvDocument());
  }
  return ajv;
}

/**
 * The kinds whose validators this process has compiled (`group/version/Kind`): a start should compile none,
 * since compiling costs more than the rest of a warm start (test/start-compiles-no-validator.test.ts).
 */
export function compiledValidatorKinds(): string[] {
  return [...validators].filter(([, entry]) => entry !== null).map(([key]) => key);
}

/** By GroupVersionKind object, for callers that pass the same one on every request (schema-check.ts). */
const validatorsByKindObject = new WeakMap<GroupVersionKind, ValidatorEntry>();

function validatorFor(gvk: GroupVersionKind): ValidatorEntry {
  let entry = validatorsByKindObject.get(gvk);
  if (entry === undefined) {
    entry = validatorByKey(gvk);
    validatorsByKindObject.set(gvk, entry);
  }
  return entry;
}

function validatorByKey(gvk: GroupVersionKind): ValidatorEntry {
  const key = `${gvk.group}/${gvk.version}/${gvk.kind}`;
  let entry = validators.get(key);
  if (entry === undefined) {
    const name = schemaNameForKind(gvk);
    const root = name === undefined ? undefined : schemaByName(name);
    entry = null;
    if (name !== undefined && root !== undefined) {
      const validate = compiler().getSchema(ajvRefFor(name));
      if (!validate) throw new Error(`ajv could not compile OpenAPI schema ${name}`);
      entry = { validate, root };
    }
    validators.set(key, entry);
  }
  return entry;
}

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function decodePointerSegment(segment: string): string {
  return segment.replaceAll('~1', '/').replaceAll('~0', '~');
}

interface Location {
  /** Kubernetes field path, e.g. `spec.containers[0].resources.limits[cpu]`. */
  path: string;
  /** The schema at that path, when the path is declared. */
  node: SchemaNode | undefined;
}

/**
 * Locates a JSON pointer in Kubernetes terms: list indices and map keys in brackets, struct
 * fields joined with dots. The schema tells lists, maps and structs apart.
 */
function locate(root: SchemaNode, pointer: string, extra?: string): Location {
  const segments = pointer === '' ? [] : pointer.slice(1).split('/').map(decodePointerSegment);
  if (extra !== undefined) segments.push(extra);
  let node: SchemaNode | undefined = root;
  let path = '';
  for (const segment of segments) {
    if (node?.type === 'array') {
      path += `[${segment}]`;
      node = node.items;
    } else if (node?.properties && Object.hasOwn(node.properties, segment)) {
      path += path === '' ? segment : `.${segment}`;
      node = node.properties[segment];
    } else if (node && typeof node.additionalProperties === 'object') {
      path += `[${segment}]`;
      node = node.additionalProperties;
    } else {
      path += path === '' ? segment : `.${segment}`;
      node = undefined;
    }
  }
  return { path: path === '' ? '<root>' : path, node };
}

function fieldPath(root: SchemaNode, pointer: string, extra?: string): string {
  return locate(root, pointer, extra).path;
}

function valueAt(object: unknown, pointer: string): unknown {
  if (pointer === '') return object;
  let value: unknown = object;
  for (const segment of pointer.slice(1).split('/').map(decodePointerSegment)) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = Object.hasOwn(value, segment) ? (value as Record<string, unknown>)[segment] : undefined;
  }
  return value;
}

function typeError(path: string, value: unknown, expected: string): FieldError {
  const actual = jsonType(value);
  return typeInvalidField(path, actual, `${path} in body must be of type ${expected}: "${actual}"`);
}

function toResult(root: SchemaNode, object: unknown, ajvErrors: ErrorObject[]): SchemaValidationResult {
  const errors: FieldError[] = [];
  const unknownFields: string[] = [];
  const decodeErrors: string[] = [];
  // A failed oneOf (Quantity, IntOrString) reports one error per branch; print one message.
  const oneOfPointers = new Set(ajvErrors.filter((e) => e.keyword === 'oneOf').map((e) => e.instancePath));
  for (const error of ajvErrors) {
    switch (error.keyword) {
      case GO_INTEGER_KEYWORD:
        decodeErrors.push(goIntegerMessage(error.params as Parameters<typeof goIntegerMessage>[0], goFieldPath(error.instancePath)));
        break;
      case GO_TIME_KEYWORD:
        decodeErrors.push(String(error.params.message));
        break;
      case 'additionalProperties':
        unknownFields.push(fieldPath(root, error.instancePath, String(error.params.additionalProperty)));
        break;
      case 'required':
        errors.push(requiredField(fieldPath(root, error.instancePath, String(error.params.missingProperty))));
        break;
      case 'false schema':
        // The `then: false` branch of a required property whose value is null.
        errors.push(requiredField(fieldPath(root, error.instancePath)));
        break;
      case 'type':
        if (oneOfPointers.has(error.instancePath) && error.schemaPath.includes('/oneOf/')) break;
        errors.push(typeError(fieldPath(root, error.instancePath), valueAt(object, error.instancePath), String(error.params.type)));
        break;
      case 'oneOf': {
        const { path, node } = locate(root, error.instancePath);
        const expected = (node?.oneOf ?? []).map((branch) => branch.type).filter((t) => t !== undefined).join(' or ');
        errors.push(typeError(path, valueAt(object, error.instancePath), expected || 'one of the allowed types'));
        break;
      }
      case 'enum': {
        const allowed = Array.isArray(error.params.allowedValues) ? error.params.allowedValues.map(String) : [];
        errors.push(notSupportedField(fieldPath(root, error.instancePath), valueAt(object, error.instancePath), allowed));
        break;
      }
      default:
        // `if` only repeats a failure of its `else` branch, already reported above.
        break;
    }
  }
  return { errors, unknownFields, decodeErrors };
}

/** The field path Go's decoder records: JSON names joined by dots, list indices left out. */
function goFieldPath(pointer: string): string {
  return pointer.slice(1).split('/').map(decodePointerSegment).filter((segment) => !/^\d+$/.test(segment)).join('.');
}

/**
 * Checks an object against its kind's schema. A kind the documents do not define yields no
 * errors: the strategies validate such objects themselves.
 */
export function validateObject(gvk: GroupVersionKind, object: unknown): SchemaValidationResult {
  const entry = validatorFor(gvk);
  if (!entry || entry.validate(object)) return { errors: [], unknownFields: [], decodeErrors: [] };
  return toResult(entry.root, object, entry.validate.errors ?? []);
}

/**
 * Compiles the validators of the given kinds now rather than on their first request; the core/v1
 * graph takes a few hundred milliseconds to compile, which a server may prefer to spend at start.
 */
export function precompileValidators(gvks: readonly GroupVersionKind[]): void {
  for (const gvk of gvks) validatorFor(gvk);
}
