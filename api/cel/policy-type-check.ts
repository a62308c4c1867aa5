// ValidatingAdmissionPolicy type checking (k8s.io/apiserver/pkg/admission/plugin/policy/validating/
// typechecking.go): each validation's expression and messageExpression is checked once per kind
// the policy's matchConstraints select (at most 10, no wildcards, no subresources), with `object`
// and `oldObject` typed from that kind's OpenAPI schema, `params` from the paramKind's, `request`
// and `namespaceObject` from their fixed types and `variables` from the variables' own types. An
// expression that does not check gets one ExpressionWarning whose text has one line per kind,
// worded as cel-go words its issues:
//
//   apps/v1, Kind=Deployment: ERROR: <input>:1:7: undefined field 'foo'
//    | object.foo == 'bar'
//    | ......^
//
// The checking itself is @marcbachmann/cel-js's type checker, over types declared from the
// schemas (schema-types.ts). It stops at an expression's first issue (cel-go lists them all).

import type { Environment } from '@marcbachmann/cel-js';
import { kubernetesCelEnvironment } from './kubernetes-library.ts';
import { SchemaTypeDeclarer, type OpenApiSchema } from './schema-types.ts';
import { renameHasMacro, rewriteKubernetesCel } from './source-rewrite.ts';

/** has() as a function over its whole argument while checking (see renameHasMacro). */
const CHECKED_HAS = 'h_s';

export interface GroupVersionKind { group: string; version: string; kind: string }

export interface ExpressionWarning { fieldRef: string; warning: string }

/** A kind's schema from an OpenAPI v3 document (its components resolve the schema's $refs). */
export interface ResolvedSchema { schema: OpenApiSchema; components: Record<string, OpenApiSchema> }

export interface PolicyForTypeCheck {
  validations?: { expression?: string; messageExpression?: string }[];
  variables?: { name?: string; expression?: string }[];
  matchConstraints?: { resourceRules?: { apiGroups?: string[]; apiVersions?: string[]; resources?: string[] }[] };
  paramKind?: { apiVersion?: string; kind?: string };
}

/** Kinds checked per policy at most (typechecking.go's maxTypesToCheck). */
export const MAX_TYPES_TO_CHECK = 10;

/** schema.GroupVersionKind.String(): `apps/v1, Kind=Deployment`, `/v1, Kind=Pod`. */
export function gvkString(gvk: GroupVersionKind): string {
  return `${gvk.group}/${gvk.version}, Kind=${gvk.kind}`;
}

/**
 * The kinds a policy's matchConstraints name, as typesToCheck resolves them: rules with a wildcard
 * group or version are skipped, wildcard and subresource entries dropped; at most 10, sorted by
 * group, version and kind. `kindsFor` is the RESTMapper (discovery): [] for an unknown resource.
 */
export async function typesToCheck(
  policy: PolicyForTypeCheck, kindsFor: (group: string, version: string, resource: string) => Promise<GroupVersionKind[]>,
): Promise<GroupVersionKind[]> {
  const found = new Map<string, GroupVersionKind>();
  const sorted = (): GroupVersionKind[] => [...found.values()].sort((a, b) => a.group.localeCompare(b.group) || a.version.localeCompare(b.version) || a.kind.localeCompare(b.kind));
  for (const rule of policy.matchConstraints?.resourceRules ?? []) {
    const groups = rule.apiGroups ?? [];
    const versions = rule.apiVersions ?? [];
    if (groups.length === 0 || groups.some((g) => g.includes('*'))) continue;
    if (versions.length === 0 || versions.some((v) => v.includes('*'))) continue;
    const resources = (rule.resources ?? []).filter((r) => !/[*/]/.test(r));
    let count = 0;
    for (const group of [...groups].sort()) {
      for (const version of [...versions].sort()) {
        for (const resource of [...resources].sort()) {
          for (const gvk of await kindsFor(group, version, resource)) {
            found.set(gvkString(gvk), gvk);
            // Upstream counts per rule, duplicates included, and stops at the cap.
            if (++count === MAX_TYPES_TO_CHECK) return sorted();
          }
        }
      }
    }
  }
  return sorted();
}

/** The GVK a paramKind names, or undefined when it is unset or its apiVersion does not parse. */
export function paramsGvk(policy: PolicyForTypeCheck): GroupVersionKind | undefined {
  const apiVersion = policy.paramKind?.apiVersion;
  const kind = policy.paramKind?.kind;
  if (!apiVersion || !kind) return undefined;
  const parts = apiVersion.split('/');
  if (parts.length > 2 || parts.some((p) => p === '')) return undefined;
  return parts.length === 2 ? { group: parts[0], version: parts[1], kind } : { group: '', version: parts[0], kind };
}

/** Checks every validation's expression and messageExpression against each resolved kind. */
export function checkPolicy(
  policy: PolicyForTypeCheck, objectTypes: { gvk: GroupVersionKind; schema: ResolvedSchema }[], params: ResolvedSchema | undefined,
): ExpressionWarning[] {
  const environments: { gvk: GroupVersionKind; env: Environment }[] = [];
  for (const { gvk, schema } of objectTypes) {
    // A kind whose types cannot be declared is skipped: type checking never fails a policy (upstream
    // skips a kind on any schema resolution error too).
    try {
      environments.push({ gvk, env: policyEnvironment(gvk.kind, schema, params, paramsGvk(policy)?.kind ?? 'Params', policy.variables ?? []) });
    } catch {
      continue;
    }
  }
  const warnings: ExpressionWarning[] = [];
  const check = (fieldRef: string, expression: string): void => {
    const results: string[] = [];
    for (const { gvk, env } of environments) {
      const issue = checkExpression(env, expression);
      if (issue) results.push(`${gvkString(gvk)}: ${issue}\n`);
    }
    if (results.length > 0) warnings.push({ fieldRef, warning: results.join('\n') });
  };
  (policy.validations ?? []).forEach((validation, i) => {
    check(`spec.validations[${i}].expression`, validation.expression ?? '');
    if (validation.messageExpression) check(`spec.validations[${i}].messageExpression`, validation.messageExpression);
  });
  return warnings;
}

/** The environment one kind's expressions are checked in, `variables` typed one after another. */
function policyEnvironment(
  kind: string, object: ResolvedSchema, params: ResolvedSchema | undefined, paramsKind: string, variables: { name?: string; expression?: string }[],
): Environment {
  const base = kubernetesCelEnvironment({ declaredVariablesOnly: true });
  const objectType = new SchemaTypeDeclarer(base, object.components).declareRoot(kind, object.schema);
  // Types are named by their path from the kind (`ConfigMap.data`); params of the object's own kind apart.
  const paramsRoot = paramsKind === kind ? `Params.${paramsKind}` : paramsKind;
  const paramsType = params ? new SchemaTypeDeclarer(base, params.components).declareRoot(paramsRoot, params.schema) : 'dyn';
  declareRequestAndNamespaceTypes(base);
  base.registerVariable('object', objectType).registerVariable('oldObject', objectType).registerVariable('params', paramsType)
    .registerVariable('request', 'kubernetes.AdmissionRequest').registerVariable('namespaceObject', 'kubernetes.Namespace')
    // The authorizer library is not served here: its variable checks as dyn.
    .registerVariable('authorizer', 'dyn');
  base.registerFunction(`${CHECKED_HAS}(dyn): bool`, () => true);
  const withVariables = (fields: Record<string, string>): Environment => {
    const env = base.clone();
    env.registerType('kubernetes.variables', { fields }).registerVariable('variables', 'kubernetes.variables');
    return env;
  };
  const fields: Record<string, string> = {};
  let env = withVariables(fields);
  for (const variable of variables) {
    if (!variable.name) continue;
    // A variable that does not check is dyn to the expressions using it (they are checked on their own).
    let type = 'dyn';
    try {
      const result = env.check(variable.expression ?? '');
      if (result.valid && typeof result.type === 'string') type = result.type;
    } catch {
      type = 'dyn';
    }
    fields[variable.name] = type;
    try {
      env = withVariables(fields);
    } catch {
      fields[variable.name] = 'dyn';
      env = withVariables(fields);
    }
  }
  return env;
}

/** plugin/cel's BuildRequestType and BuildNamespaceType. */
function declareRequestAndNamespaceTypes(env: Environment): void {
  env.registerType('kubernetes.GroupVersionKind', { fields: { group: 'string', version: 'string', kind: 'string' } });
  env.registerType('kubernetes.GroupVersionResource', { fields: { group: 'string', version: 'string', resource: 'string' } });
  env.registerType('kubernetes.UserInfo', { fields: { username: 'string', uid: 'string', groups: 'list<string>', extra: 'map<string, list<string>>' } });
  env.registerType('kubernetes.AdmissionRequest', {
    fields: {
      kind: 'kubernetes.GroupVersionKind', resource: 'kubernetes.GroupVersionResource', subResource: 'string',
      requestKind: 'kubernetes.GroupVersionKind', requestResource: 'kubernetes.GroupVersionResource', requestSubResource: 'string',
      name: 'string', namespace: 'string', operation: 'string', userInfo: 'kubernetes.UserInfo', dryRun: 'bool', options: 'dyn',
    },
  });
  env.registerType('kubernetes.Namespace.metadata', {
    fields: {
      name: 'string', generateName: 'string', namespace: 'string', labels: 'map<string, string>', annotations: 'map<string, string>',
      UID: 'string', creationTimestamp: 'google.protobuf.Timestamp', deletionGracePeriodSeconds: 'int',
      deletionTimestamp: 'google.protobuf.Timestamp', generation: 'int', resourceVersion: 'string', finalizers: 'list<string>',
    },
  });
  env.registerType('kubernetes.Namespace.spec', { fields: { finalizers: 'list<string>' } });
  env.registerType('kubernetes.Namespace.status.conditions', {
    fields: { type: 'string', status: 'string', lastTransitionTime: 'google.protobuf.Timestamp', message: 'string', reason: 'string' },
  });
  env.registerType('kubernetes.Namespace.status', { fields: { conditions: 'list<kubernetes.Namespace.status.conditions>', phase: 'string' } });
  env.registerType('kubernetes.Namespace', { fields: { metadata: 'kubernetes.Namespace.metadata', spec: 'kubernetes.Namespace.spec', status: 'kubernetes.Namespace.status' } });
}

interface CheckError { name?: string; code?: string; summary?: string; node?: AstNode }
interface AstNode { op: string; args: unknown; pos: number; start: number; end: number }

const BINARY_OPERATORS: Record<string, string> = {
  '==': '_==_', '!=': '_!=_', '<': '_<_', '<=': '_<=_', '>': '_>_', '>=': '_>=_', '+': '_+_', '-': '_-_', '*': '_*_',
  '/': '_/_', '%': '_%_', 'in': '@in', '&&': '_&&_', '||': '_||_',
};

/** cel-go's type names: list(T), map(K, V). */
function celGoType(type: string): string {
  return type.replaceAll('<', '(').replaceAll('>', ')');
}

/** The issue text of one expression in one environment, or undefined when it checks. */
function checkExpression(env: Environment, expression: string): string | undefined {
  let error = run(env, renameHasMacro(expression, CHECKED_HAS));
  let source = expression;
  // Expressions the library parses only after the rewrites (has() on an index, RE2 patterns).
  if (error && (error.name === 'ParseError' || error.code === 'invalid_macro_argument')) {
    const rewritten = rewriteKubernetesCel(expression);
    if (rewritten !== expression) {
      error = run(env, rewritten);
      source = rewritten;
    }
  }
  if (!error) return undefined;
  const { message, offset } = describe(error, source);
  // Positions in a rewritten text hold for the original only before the first rewrite.
  const first = [...expression].findIndex((c, i) => c !== source[i]);
  const at = source === expression || first < 0 || offset < first ? offset : 0;
  return display(expression, at, message);
}

function run(env: Environment, expression: string): CheckError | undefined {
  try {
    const result = env.check(expression);
    return result.valid ? undefined : (result.error as CheckError | undefined) ?? { summary: 'invalid expression' };
  } catch (error) {
    return error as CheckError;
  }
}

/** cel-go's wording of the library's issue, and the offset cel-go reports it at. */
function describe(error: CheckError, source: string): { message: string; offset: number } {
  const node = error.node;
  const summary = error.summary ?? String(error);
  const offset = node?.pos ?? 0;
  switch (error.code) {
    case 'no_such_key': {
      // A field selection is reported at its dot.
      const key = Array.isArray(node?.args) ? String(node.args[1]) : summary.replace(/^No such key: /, '');
      const dot = node ? source.lastIndexOf('.', node.pos) : -1;
      return { message: `undefined field '${key}'`, offset: dot >= 0 ? dot : offset };
    }
    case 'unknown_variable':
      return { message: `undeclared reference to '${summary.replace(/^Unknown variable: /, '')}' (in container '')`, offset };
    case 'no_such_overload': {
      const match = /^no such overload: (.+) (\S+) (.+)$/.exec(summary);
      const name = match ? BINARY_OPERATORS[match[2]] : undefined;
      if (!match || !name) break;
      // A binary operator is reported at the operator.
      const left = Array.isArray(node?.args) ? node.args[0] as AstNode | undefined : undefined;
      const at = node ? source.indexOf(match[2], left?.end ?? node.start) : -1;
      return { message: `found no matching overload for '${name}' applied to '(${celGoType(match[1])}, ${celGoType(match[3])})'`, offset: at >= 0 ? at : offset };
    }
    case 'no_matching_overload': {
      const match = /^found no matching overload for '(?:(.+)\.)?(\w+)\((.*)\)'$/.exec(summary);
      if (!match) break;
      // A call is reported at its opening parenthesis.
      const paren = node ? source.indexOf('(', node.op === 'rcall' ? source.lastIndexOf(match[2], node.end) : node.start) : -1;
      const args = match[3].split(', ').filter(Boolean).map(celGoType).join(', ');
      return { message: `found no matching overload for '${match[2]}' applied to '${match[1] ? `${celGoType(match[1])}.` : ''}(${args})'`, offset: paren >= 0 ? paren : offset };
    }
    case 'incompatible_ternary_branches': {
      const match = /got '(.+)' and '(.+)'$/.exec(summary);
      if (!match) break;
      const at = node ? source.indexOf('?', (Array.isArray(node.args) ? (node.args[0] as AstNode).end : node.start)) : -1;
      return { message: `found no matching overload for '_?_:_' applied to '(bool, ${celGoType(match[1])}, ${celGoType(match[2])})'`, offset: at >= 0 ? at : offset };
    }
    default: {
      const index = /^Cannot index type '(.+)' with type '(.+)'$/.exec(summary);
      if (!index) break;
      const at = node ? source.indexOf('[', Array.isArray(node.args) ? (node.args[0] as AstNode).end : node.start) : -1;
      return { message: `found no matching overload for '_[_]' applied to '(${celGoType(index[1])}, ${celGoType(index[2])})'`, offset: at >= 0 ? at : offset };
    }
  }
  return { message: summary, offset };
}

/** cel-go's Error.ToDisplayString: `ERROR: <input>:line:col: message`, the line, a caret under the column. */
function display(source: string, offset: number, message: string): string {
  const before = source.slice(0, Math.max(0, Math.min(offset, source.length)));
  const line = before.split('\n').length;
  const column = before.length - (before.lastIndexOf('\n') + 1);
  const snippet = (source.split('\n')[line - 1] ?? '').replaceAll('\t', ' ');
  return `ERROR: <input>:${line}:${column + 1}: ${message}\n | ${snippet}\n | ${'.'.repeat(column)}^`;
}
