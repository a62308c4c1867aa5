// Trims the upstream Kubernetes 1.32 OpenAPI documents down to what kubefacade serves and writes
// them to api/openapi/generated/. The upstream documents are ~5 MB; serving them untrimmed would
// advertise resources (services, deployments, ...) that this server does not have, and kubectl
// would then offer `explain` for them. Run with `npm run gen:openapi [-- <upstream dir>]`.
//
// Output is deterministic: object keys are sorted, arrays keep their upstream order.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SERVED_GROUP_VERSIONS, isServedPath, type ServedGroupVersion } from '../api/openapi/served.ts';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonMap = { [key: string]: Json };

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const upstreamDir = path.resolve(repoRoot, process.argv[2] ?? '../shared/k8s-openapi');
const outputDir = path.join(repoRoot, 'api/openapi/generated');

const HTTP_METHODS = new Set(['get', 'put', 'post', 'delete', 'patch', 'head', 'options']);

function isMap(value: Json | undefined): value is JsonMap {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function readJson(file: string): JsonMap {
  const parsed: Json = JSON.parse(readFileSync(file, 'utf8'));
  if (!isMap(parsed)) throw new Error(`${file}: not a JSON object`);
  return parsed;
}

/** Every `$ref` string inside a value, e.g. `#/components/schemas/io.k8s.api.core.v1.Pod`. */
function collectRefs(value: Json, into: Set<string>): void {
  if (Array.isArray(value)) {
    for (const item of value) collectRefs(item, into);
  } else if (isMap(value)) {
    for (const [key, child] of Object.entries(value)) {
      if (key === '$ref' && typeof child === 'string') into.add(child);
      else collectRefs(child, into);
    }
  }
}

/**
 * Keeps the named entries of `pool` reachable from `roots`, following refs transitively.
 * `prefix` is the ref prefix that points into the pool (`#/components/schemas/`, `#/definitions/`).
 */
function reachable(roots: Json, pool: JsonMap, prefix: string, extraPools: Record<string, JsonMap> = {}): Record<string, JsonMap> {
  const kept: Record<string, JsonMap> = { [prefix]: {} };
  for (const extra of Object.keys(extraPools)) kept[extra] = {};
  const pools: Record<string, JsonMap> = { [prefix]: pool, ...extraPools };
  const pending: string[] = [];
  const seen = new Set<string>();
  const enqueue = (value: Json) => {
    const refs = new Set<string>();
    collectRefs(value, refs);
    for (const ref of [...refs].sort()) if (!seen.has(ref)) { seen.add(ref); pending.push(ref); }
  };
  enqueue(roots);
  while (pending.length > 0) {
    const ref = pending.shift()!;
    const poolPrefix = Object.keys(pools).find((p) => ref.startsWith(p));
    if (!poolPrefix) throw new Error(`unresolvable $ref ${ref}`);
    const name = ref.slice(poolPrefix.length);
    const target = pools[poolPrefix][name];
    if (target === undefined) throw new Error(`dangling $ref ${ref}`);
    kept[poolPrefix][name] = target;
    enqueue(target);
  }
  return kept;
}

/** Deep copy with object keys sorted, so output bytes depend only on content. */
function sortKeys(value: Json): Json {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (!isMap(value)) return value;
  const sorted: JsonMap = {};
  for (const key of Object.keys(value).sort()) sorted[key] = sortKeys(value[key]);
  return sorted;
}

/** Paths of one group version that this server serves; `*∕*` request bodies become application/json. */
function trimPaths(paths: JsonMap, gv: ServedGroupVersion, rewriteBody: (operation: JsonMap) => void): JsonMap {
  const kept: JsonMap = {};
  for (const [urlPath, item] of Object.entries(paths)) {
    if (!isServedPath(gv, urlPath) || !isMap(item)) continue;
    const copy: JsonMap = structuredClone(item);
    for (const [method, operation] of Object.entries(copy)) {
      if (HTTP_METHODS.has(method) && isMap(operation)) rewriteBody(operation);
    }
    kept[urlPath] = copy;
  }
  return kept;
}

function rewriteV3RequestBody(operation: JsonMap): void {
  const body = operation.requestBody;
  if (!isMap(body) || !isMap(body.content)) return;
  const content = body.content;
  if (content['*/*'] !== undefined) {
    content['application/json'] = content['*/*'];
    delete content['*/*'];
  }
}

function rewriteV2Consumes(operation: JsonMap): void {
  if (Array.isArray(operation.consumes)) {
    operation.consumes = operation.consumes.map((type) => (type === '*/*' ? 'application/json' : type));
  }
}

/**
 * Quantity and IntOrString are strings-or-numbers on the wire. Upstream v3 already says so with
 * `oneOf`; setting it here keeps the guarantee even if a future upstream drops it, because the
 * validator compiles these schemas and must accept both forms.
 */
function widenScalarUnions(schemas: JsonMap): void {
  const quantity = schemas['io.k8s.apimachinery.pkg.api.resource.Quantity'];
  if (isMap(quantity)) {
    delete quantity.type;
    quantity.oneOf = [{ type: 'string' }, { type: 'number' }];
  }
  const intOrString = schemas['io.k8s.apimachinery.pkg.util.intstr.IntOrString'];
  if (isMap(intOrString)) {
    delete intOrString.type;
    intOrString.oneOf = [{ type: 'integer' }, { type: 'string' }];
  }
}

function writeJson(relative: string, value: Json): number {
  const file = path.join(outputDir, relative);
  mkdirSync(path.dirname(file), { recursive: true });
  const text = `${JSON.stringify(sortKeys(value), null, 1)}\n`;
  writeFileSync(file, text);
  return Buffer.byteLength(text);
}

/** Rewrites `#/definitions/X` refs to `#/components/schemas/X`, wrapping refs with siblings in allOf as upstream v3 does. */
function v3Schema(value: Json): Json {
  if (Array.isArray(value)) return value.map(v3Schema);
  if (!isMap(value)) return value;
  const out: JsonMap = {};
  for (const [key, child] of Object.entries(value)) {
    out[key] = key === '$ref' && typeof child === 'string' ? child.replace('#/definitions/', '#/components/schemas/') : v3Schema(child);
  }
  if (typeof out.$ref === 'string' && Object.keys(out).length > 1) {
    const ref = out.$ref;
    delete out.$ref;
    out.allOf = [{ $ref: ref }];
  }
  return out;
}

/** A Swagger 2.0 operation or path item's parameters as OpenAPI 3.0 parameters and request body. */
function v3Parameters(target: JsonMap, parameters: Json | undefined, shared: JsonMap, consumes: Json | undefined): void {
  if (!Array.isArray(parameters)) return;
  const converted: Json[] = [];
  for (const entry of parameters) {
    let parameter = entry;
    if (isMap(parameter) && typeof parameter.$ref === 'string') parameter = shared[parameter.$ref.replace('#/parameters/', '')];
    if (!isMap(parameter)) continue;
    if (parameter.in === 'body') {
      const types = Array.isArray(consumes) ? consumes.map((t) => (t === '*/*' ? 'application/json' : String(t))) : ['application/json'];
      const content: JsonMap = {};
      for (const type of types) content[type] = { schema: v3Schema(parameter.schema ?? {}) };
      target.requestBody = { content, required: parameter.required === true };
      continue;
    }
    const { type, uniqueItems, schema, ...rest } = parameter;
    converted.push({ ...rest, schema: schema ? v3Schema(schema) : { type: type ?? 'string', ...(uniqueItems === undefined ? {} : { uniqueItems }) } });
  }
  if (converted.length > 0) target.parameters = converted;
}

/**
 * The v3 document of a group version that ../shared has only in swagger.json (discovery.k8s.io/v1):
 * converted the way kube-apiserver derives its v3 documents from the same definitions.
 */
function v3FromSwagger(gv: ServedGroupVersion): JsonMap {
  const swagger = readJson(path.join(upstreamDir, 'swagger.json'));
  if (!isMap(swagger.paths) || !isMap(swagger.definitions) || !isMap(swagger.parameters)) throw new Error('swagger.json: unexpected document shape');
  const shared = swagger.parameters;
  const paths: JsonMap = {};
  for (const [urlPath, item] of Object.entries(trimPaths(swagger.paths, gv, () => undefined))) {
    if (!isMap(item)) continue;
    const converted: JsonMap = {};
    v3Parameters(converted, item.parameters, shared, undefined);
    for (const [method, operation] of Object.entries(item)) {
      if (!HTTP_METHODS.has(method) || !isMap(operation)) continue;
      const { parameters, responses, produces, consumes, schemes, ...rest } = operation;
      const op: JsonMap = { ...rest };
      v3Parameters(op, parameters, shared, consumes);
      const types = Array.isArray(produces) ? produces.map(String) : ['application/json'];
      const v3Responses: JsonMap = {};
      for (const [code, response] of Object.entries(isMap(responses) ? responses : {})) {
        if (!isMap(response)) continue;
        const content: JsonMap = {};
        if (response.schema !== undefined) for (const type of types) content[type] = { schema: v3Schema(response.schema) };
        v3Responses[code] = Object.keys(content).length > 0 ? { content, description: response.description ?? '' } : { description: response.description ?? '' };
      }
      op.responses = v3Responses;
      void schemes;
      converted[method] = op;
    }
    paths[urlPath] = converted;
  }
  const definitions: JsonMap = {};
  for (const [name, schema] of Object.entries(swagger.definitions)) definitions[name] = v3Schema(schema);
  return {
    components: {
      schemas: definitions,
      securitySchemes: { BearerToken: { description: 'Bearer Token authentication', in: 'header', name: 'authorization', type: 'apiKey' } },
    },
    info: { title: 'Kubernetes', version: 'unversioned' },
    openapi: '3.0.0',
    paths,
  };
}

function generateV3(gv: ServedGroupVersion): number {
  const upstreamFile = path.join(upstreamDir, 'v3', `${gv.fileStem}_openapi.json`);
  const upstream = existsSync(upstreamFile) ? readJson(upstreamFile) : v3FromSwagger(gv);
  const components = upstream.components;
  if (!isMap(upstream.paths) || !isMap(components) || !isMap(components.schemas)) {
    throw new Error(`${gv.fileStem}: unexpected v3 document shape`);
  }
  const paths = trimPaths(upstream.paths, gv, rewriteV3RequestBody);
  const schemas = structuredClone(reachable(paths, components.schemas, '#/components/schemas/')['#/components/schemas/']);
  widenScalarUnions(schemas);
  const document: JsonMap = { ...upstream, paths, components: { ...components, schemas } };
  return writeJson(`v3/${gv.fileStem}.json`, document);
}

function generateV2(): number {
  const upstream = readJson(path.join(upstreamDir, 'swagger.json'));
  if (!isMap(upstream.paths) || !isMap(upstream.definitions) || !isMap(upstream.parameters)) {
    throw new Error('swagger.json: unexpected document shape');
  }
  const paths: JsonMap = {};
  for (const gv of SERVED_GROUP_VERSIONS) Object.assign(paths, trimPaths(upstream.paths, gv, rewriteV2Consumes));
  const kept = reachable(paths, upstream.definitions, '#/definitions/', { '#/parameters/': upstream.parameters });
  // Swagger 2.0 has no oneOf: Quantity and IntOrString stay `type: string` as upstream has them.
  const document: JsonMap = { ...upstream, paths, definitions: kept['#/definitions/'], parameters: kept['#/parameters/'] };
  return writeJson('v2/swagger.json', document);
}

function main(): void {
  let total = 0;
  for (const gv of SERVED_GROUP_VERSIONS) {
    const bytes = generateV3(gv);
    total += bytes;
    console.log(`v3/${gv.fileStem}.json ${bytes} bytes`);
  }
  const v2Bytes = generateV2();
  total += v2Bytes;
  console.log(`v2/swagger.json ${v2Bytes} bytes`);
  console.log(`total ${total} bytes in ${path.relative(repoRoot, outputDir)}`);
}

main();
