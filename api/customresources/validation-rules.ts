// CRD validation rules (x-kubernetes-validations): compiled when the CRD is created or changed
// (compile errors and over-budget rules are CRD validation errors, worded as upstream), evaluated on
// every write of a custom resource with `self` bound to the value at the rule's schema node and
// `oldSelf` to the stored value at the same place (transition rules run only on updates where the
// old value exists, unless optionalOldSelf). Failures are worded as apiextensions reports them:
// `spec: Invalid value: "object": <message>`, with `reason` choosing the error type and
// `fieldPath` the reported field. Before evaluating, the rule's cost is bounded again with the
// object's actual sizes, so a rule cannot run unbounded on a large object.

import { Optional, type Environment } from '@marcbachmann/cel-js';
import type { FieldError } from '../errors.ts';
import { isPlainObject, type KubeObject } from '../object.ts';
import { kubernetesCelEnvironment, parseKubernetesCel } from '../cel/kubernetes-library.ts';
import { estimateCost, PER_CALL_LIMIT, STATIC_ESTIMATED_COST_LIMIT, UNBOUNDED_SIZE, type CelAstNode } from '../cel/cost.ts';
import type { RuleSet } from './strategy.ts';
import type { JSONSchemaProps, ValidationRule } from './types.ts';

const REASONS: Record<string, FieldError['type']> = {
  FieldValueInvalid: 'FieldValueInvalid', FieldValueForbidden: 'FieldValueForbidden',
  FieldValueRequired: 'FieldValueRequired', FieldValueDuplicate: 'FieldValueDuplicate',
};

type Program = ((context: Record<string, unknown>) => unknown) & { ast: unknown };

interface CompiledRule {
  rule: ValidationRule;
  program: Program;
  messageProgram?: Program;
  transition: boolean;
}

interface RuleNode {
  /** Schema path segments from the root: property names, '[]' for list items and map values. */
  schemaPath: string[];
  schema: JSONSchemaProps;
  rules: CompiledRule[];
}

let environment: Environment | undefined;
function env(): Environment {
  environment ??= kubernetesCelEnvironment();
  return environment;
}

function usesVariable(ast: unknown, name: string): boolean {
  if (Array.isArray(ast)) return ast.some((a) => usesVariable(a, name));
  if (typeof ast !== 'object' || ast === null) return false;
  const node = ast as CelAstNode;
  if (node.op === 'id') return node.args === name;
  return usesVariable(node.args, name);
}

function goRule(rule: ValidationRule): string {
  const reason = rule.reason === undefined ? '(*apiextensions.FieldValueErrorReason)(nil)' : `"${rule.reason}"`;
  const optional = rule.optionalOldSelf === undefined ? '(*bool)(nil)' : `${rule.optionalOldSelf}`;
  return `apiextensions.ValidationRule{Rule:${JSON.stringify(rule.rule)}, Message:${JSON.stringify(rule.message ?? '')}, MessageExpression:${JSON.stringify(rule.messageExpression ?? '')}, Reason:${reason}, FieldPath:${JSON.stringify(rule.fieldPath ?? '')}, OptionalOldSelf:${optional}}`;
}

function schemaAt(root: JSONSchemaProps, path: string[]): JSONSchemaProps | undefined {
  let node: JSONSchemaProps | undefined = root;
  for (const segment of path) {
    if (!node) return undefined;
    if (segment === '[]') node = isPlainObject(node.items) ? node.items as JSONSchemaProps : isPlainObject(node.additionalProperties) ? node.additionalProperties as JSONSchemaProps : undefined;
    else node = node.properties?.[segment];
  }
  return node;
}

/** The largest size the schema allows at a path below the rule's node (static estimate). */
function schemaSize(scope: JSONSchemaProps, path: string[]): number | undefined {
  if (path[0] !== 'self' && path[0] !== 'oldSelf') return undefined;
  const node = schemaAt(scope, path.slice(1));
  if (!node) return undefined;
  if (node.type === 'array') return node.maxItems ?? UNBOUNDED_SIZE;
  if (node.type === 'string') return node.maxLength ?? UNBOUNDED_SIZE * 3;
  if (node.type === 'object' && node.additionalProperties !== undefined) return node.maxProperties ?? UNBOUNDED_SIZE;
  return undefined;
}

/** The largest actual size at a path in a value ('[]' fans out over items and map values). */
function actualSize(self: unknown, oldSelf: unknown, path: string[]): number | undefined {
  let values: unknown[] = [path[0] === 'self' ? self : path[0] === 'oldSelf' ? oldSelf : undefined];
  for (const segment of path.slice(1)) {
    values = values.flatMap((v) => (segment === '[]'
      ? (Array.isArray(v) ? v : isPlainObject(v) ? Object.values(v) : [])
      : isPlainObject(v) && v[segment] !== undefined ? [v[segment]] : []));
  }
  let size: number | undefined;
  for (const v of values) {
    const n = Array.isArray(v) ? v.length : typeof v === 'string' ? v.length : isPlainObject(v) ? Object.keys(v).length : undefined;
    if (n !== undefined) size = Math.max(size ?? 0, n);
  }
  return size ?? 0;
}

/** JSON → CEL values: integers of integer (or untyped) fields become int (bigint), as the Kubernetes CEL types do. */
export function toCel(value: unknown, schema: JSONSchemaProps | undefined): unknown {
  if (typeof value === 'number') return Number.isInteger(value) && schema?.type !== 'number' ? BigInt(value) : value;
  if (Array.isArray(value)) return value.map((v) => toCel(v, isPlainObject(schema?.items) ? schema?.items as JSONSchemaProps : undefined));
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const child = schema?.properties?.[k] ?? (isPlainObject(schema?.additionalProperties) ? schema?.additionalProperties as JSONSchemaProps : undefined);
      out[k] = toCel(v, child);
    }
    return out;
  }
  return value;
}

function joinPath(base: string, segment: string): string {
  return base === '' ? segment : `${base}.${segment}`;
}

export interface RuleCompilation {
  errors: FieldError[];
  ruleSet: RuleSet | undefined;
}

/** Compiles every x-kubernetes-validations of a CRD version's schema; `path` is the schema's field path for errors. */
export function compileValidationRules(root: JSONSchemaProps, path: string): RuleCompilation {
  const errors: FieldError[] = [];
  const nodes: RuleNode[] = [];
  const visit = (schema: JSONSchemaProps, schemaPath: string[], fieldPath: string): void => {
    const rules = schema['x-kubernetes-validations'] ?? [];
    const compiled: CompiledRule[] = [];
    rules.forEach((rule, i) => {
      const rulePath = `${fieldPath}.x-kubernetes-validations[${i}]`;
      if (!rule.rule) {
        errors.push({ type: 'FieldValueRequired', field: `${rulePath}.rule`, message: 'Required value: rule is not specified' });
        return;
      }
      let program: Program;
      try {
        program = parseKubernetesCel(env(), rule.rule) as unknown as Program;
      } catch (err) {
        errors.push({ type: 'FieldValueInvalid', field: `${rulePath}.rule`, message: `Invalid value: ${goRule(rule)}: compilation failed: ERROR: <input>: ${(err as Error).message.split('\n')[0]}` });
        return;
      }
      const transition = usesVariable(program.ast, 'oldSelf');
      if (rule.optionalOldSelf && !transition) {
        errors.push({ type: 'FieldValueInvalid', field: `${rulePath}.optionalOldSelf`, message: 'Invalid value: true: may not be set to true for non-transition rules' });
      }
      if (rule.reason !== undefined && !REASONS[rule.reason]) {
        errors.push({ type: 'FieldValueNotSupported', field: `${rulePath}.reason`, message: `Unsupported value: "${rule.reason}": supported values: "FieldValueDuplicate", "FieldValueForbidden", "FieldValueInvalid", "FieldValueRequired"` });
      }
      if (rule.message !== undefined && rule.message.trim() === '' ) {
        errors.push({ type: 'FieldValueRequired', field: `${rulePath}.message`, message: 'Required value: message must be non-empty if specified' });
      }
      let messageProgram: Program | undefined;
      if (rule.messageExpression) {
        try {
          messageProgram = parseKubernetesCel(env(), rule.messageExpression) as unknown as Program;
        } catch (err) {
          errors.push({ type: 'FieldValueInvalid', field: `${rulePath}.messageExpression`, message: `Invalid value: ${JSON.stringify(rule.messageExpression)}: messageExpression compilation failed: ERROR: <input>: ${(err as Error).message.split('\n')[0]}` });
        }
      }
      const cost = estimateCost(program.ast, (p) => schemaSize(schema, p));
      if (cost > STATIC_ESTIMATED_COST_LIMIT) {
        errors.push({ type: 'FieldValueForbidden', field: `${rulePath}.rule`, message: `Forbidden: estimated rule cost exceeds budget by factor of ${(cost / STATIC_ESTIMATED_COST_LIMIT).toFixed(1)}x (try simplifying the rule, or adding maxItems, maxProperties, and maxLength where arrays, maps, and strings are declared)` });
      }
      compiled.push({ rule, program, messageProgram, transition });
    });
    if (compiled.length) nodes.push({ schemaPath, schema, rules: compiled });
    for (const [name, child] of Object.entries(schema.properties ?? {})) visit(child, [...schemaPath, name], `${fieldPath}.properties[${name}]`);
    if (isPlainObject(schema.items)) visit(schema.items as JSONSchemaProps, [...schemaPath, '[]'], `${fieldPath}.items`);
    if (isPlainObject(schema.additionalProperties)) visit(schema.additionalProperties as JSONSchemaProps, [...schemaPath, '[]'], `${fieldPath}.additionalProperties`);
  };
  visit(root, [], path);
  if (errors.length || nodes.length === 0) return { errors, ruleSet: undefined };
  return { errors, ruleSet: { validate: (object, old) => evaluate(nodes, root, object, old) } };
}

interface Located {
  value: unknown;
  old: unknown;
  /** Field path of the value, e.g. `spec.items[2]`. */
  field: string;
}

/** Every value a schema path denotes in an object, with its correlated old value (map lists by keys, maps by key). */
function locate(root: JSONSchemaProps, object: unknown, old: unknown, schemaPath: string[]): Located[] {
  let located: Located[] = [{ value: object, old, field: '' }];
  let schema: JSONSchemaProps | undefined = root;
  for (const segment of schemaPath) {
    const next: Located[] = [];
    if (segment === '[]') {
      const isList: boolean = schema?.type === "array";
      const mapKeys = schema?.['x-kubernetes-list-type'] === 'map' ? schema['x-kubernetes-list-map-keys'] ?? [] : undefined;
      for (const l of located) {
        if (isList && Array.isArray(l.value)) {
          l.value.forEach((item, i) => {
            let oldItem: unknown;
            if (Array.isArray(l.old) && mapKeys && isPlainObject(item)) oldItem = l.old.find((o) => isPlainObject(o) && mapKeys.every((k) => o[k] === item[k]));
            else if (Array.isArray(l.old) && schema?.['x-kubernetes-list-type'] === 'set') oldItem = l.old.includes(item) ? item : undefined;
            next.push({ value: item, old: oldItem, field: `${l.field}[${i}]` });
          });
        } else if (!isList && isPlainObject(l.value)) {
          for (const [k, v] of Object.entries(l.value)) next.push({ value: v, old: isPlainObject(l.old) ? l.old[k] : undefined, field: `${l.field}[${k}]` });
        }
      }
      schema = isList ? (isPlainObject(schema?.items) ? schema?.items as JSONSchemaProps : undefined) : (isPlainObject(schema?.additionalProperties) ? schema?.additionalProperties as JSONSchemaProps : undefined);
    } else {
      for (const l of located) {
        if (isPlainObject(l.value) && l.value[segment] !== undefined) {
          next.push({ value: l.value[segment], old: isPlainObject(l.old) ? l.old[segment] : undefined, field: joinPath(l.field, segment) });
        }
      }
      schema = schema?.properties?.[segment];
    }
    located = next;
  }
  return located;
}

function evaluate(nodes: RuleNode[], root: JSONSchemaProps, object: KubeObject, old: KubeObject | undefined): FieldError[] {
  const errors: FieldError[] = [];
  for (const node of nodes) {
    for (const { value, old: oldValue, field } of locate(root, object, old, node.schemaPath)) {
      const self = toCel(value, node.schema);
      const oldSelf = oldValue === undefined ? undefined : toCel(oldValue, node.schema);
      for (const compiled of node.rules) {
        const { rule, program, transition } = compiled;
        let context: Record<string, unknown>;
        if (transition) {
          if (rule.optionalOldSelf) context = { self, oldSelf: oldSelf === undefined ? Optional.none() : Optional.of(oldSelf) };
          else if (oldSelf === undefined) continue;
          else context = { self, oldSelf };
        } else context = { self };
        const path = field === '' ? '<nil>' : field;
        const type = node.schema.type ?? (node.schema['x-kubernetes-int-or-string'] ? '' : 'object');
        const cost = estimateCost(program.ast, (p) => actualSize(value, oldValue, p));
        if (cost > PER_CALL_LIMIT) {
          errors.push({ type: 'FieldValueInvalid', field: path, message: `Invalid value: "${type}": call cost exceeds limit for rule: ${rule.rule}` });
          continue;
        }
        let result: unknown;
        try {
          result = program(context);
        } catch (err) {
          errors.push({ type: 'FieldValueInvalid', field: path, message: `Invalid value: "${type}": ${(err as Error).message.split('\n')[0]} evaluating rule: ${rule.rule}` });
          continue;
        }
        if (result === true) continue;
        const message = messageFor(compiled, context);
        const errorType = REASONS[rule.reason ?? 'FieldValueInvalid'] ?? 'FieldValueInvalid';
        const reported = rule.fieldPath ? joinPath(field, rule.fieldPath.replace(/^\./, '')) : path;
        const prefix = errorType === 'FieldValueForbidden' ? 'Forbidden: ' : errorType === 'FieldValueRequired' ? 'Required value: ' : errorType === 'FieldValueDuplicate' ? 'Duplicate value: ' : `Invalid value: "${type}": `;
        errors.push({ type: errorType, field: reported, message: `${prefix}${message}` });
      }
    }
  }
  return errors;
}

function messageFor(compiled: CompiledRule, context: Record<string, unknown>): string {
  const fallback = compiled.rule.message ?? `failed rule: ${compiled.rule.rule}`;
  if (!compiled.messageProgram) return fallback;
  try {
    const message = compiled.messageProgram(context);
    if (typeof message !== 'string' || message.trim() === '' || message.includes('\n')) return fallback;
    return message;
  } catch {
    return fallback;
  }
}
