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

/** Swagger 2.0 refs and wrapped refs as OpenAPI v3 spells them (`allOf: [{$ref}]` when a ref has siblings). */
function v3Schema(value: Json): Json {
  if (Array.isArray(value)) return value.map(v3Schema);
  if (!isMap(value)) return value;
  const out: JsonMap = {};
  for (const [key, child] of Object.entries(value)) {
    if (key === '$ref' && typeof child === 'string') out.$ref = child.replace('#/definitions/', '#/components/schemas/');
    else if (key === 'properties' && isMap(child)) {
      const properties: JsonMap = {};
      for (const [name, property] of Object.entries(child)) properties[name] = v3Schema(property);
      out.properties = properties;
    } else out[key] = v3Schema(child);
  }
  if (typeof out.$ref === 'string' && Object.keys(out).length > 1) {
    const ref = out.$ref;
    delete out.$ref;
    out.allOf = [{ $ref: ref }];
    out.default = {};
  }
  return out;
}

/** A swagger 2.0 parameter as v3 writes it (`schema` instead of `type`; bodies become requestBody). */
function v3Parameter(parameter: JsonMap): JsonMap {
  const { type, uniqueItems, items, ...rest } = parameter;
  const schema: JsonMap = {};
  if (type !== undefined) schema.type = type;
  if (uniqueItems !== undefined) schema.uniqueItems = uniqueItems;
  if (items !== undefined) schema.items = items;
  return { ...rest, schema };
}

/**
 * The v3 document of a group version upstream publishes only in swagger.json (apiextensions.k8s.io,
 * admissionregistration.k8s.io are not among the shared v3 files): paths, parameters, bodies and
 * responses rewritten to v3's shapes, schemas with v3 refs, as kube-openapi's v3 builder emits them.
 */
function v3FromSwagger(gv: ServedGroupVersion): JsonMap {
  const swagger = readJson(path.join(upstreamDir, 'swagger.json'));
  if (!isMap(swagger.paths) || !isMap(swagger.definitions) || !isMap(swagger.parameters)) throw new Error('swagger.json: unexpected document shape');
  const globals = swagger.parameters;
  const resolveParameter = (value: Json): JsonMap => {
    if (isMap(value) && typeof value.$ref === 'string') {
      const target = globals[value.$ref.slice('#/parameters/'.length)];
      if (!isMap(target)) throw new Error(`dangling parameter ${value.$ref}`);
      return target;
    }
    if (!isMap(value)) throw new Error('parameter is not an object');
    return value;
  };
  const paths: JsonMap = {};
  for (const [urlPath, item] of Object.entries(trimPaths(swagger.paths, gv, () => undefined))) {
    if (!isMap(item)) continue;
    const converted: JsonMap = {};
    for (const [method, operation] of Object.entries(item)) {
      if (method === 'parameters' && Array.isArray(operation)) {
        converted.parameters = operation.map((p) => v3Parameter(resolveParameter(p)));
        continue;
      }
      if (!HTTP_METHODS.has(method) || !isMap(operation)) continue;
      const { consumes, produces, schemes, parameters, responses, ...rest } = operation;
      const op: JsonMap = { ...rest };
      const queryParameters: Json[] = [];
      for (const raw of Array.isArray(parameters) ? parameters : []) {
        const parameter = resolveParameter(raw);
        if (parameter.in === 'body') {
          const types = Array.isArray(consumes) ? consumes.map((t) => (t === '*/*' ? 'application/json' : String(t))) : ['application/json'];
          const content: JsonMap = {};
          for (const type of types) content[type] = { schema: v3Schema(parameter.schema ?? {}) };
          op.requestBody = { content, required: parameter.required ?? false };
        } else queryParameters.push(v3Parameter(parameter));
      }
      if (queryParameters.length) op.parameters = queryParameters;
      const outResponses: JsonMap = {};
      for (const [code, response] of Object.entries(isMap(responses) ? responses : {})) {
        if (!isMap(response)) continue;
        const { schema, ...other } = response;
        const out: JsonMap = { ...other };
        if (schema !== undefined) {
          const content: JsonMap = {};
          for (const type of Array.isArray(produces) ? produces : ['application/json']) content[String(type)] = { schema: v3Schema(schema) };
          out.content = content;
        }
        outResponses[code] = out;
      }
      op.responses = outResponses;
      converted[method] = op;
    }
    paths[urlPath] = converted;
  }
  const v3Paths = v3Schema(paths) as JsonMap;
  const pool: JsonMap = {};
  for (const [name, schema] of Object.entries(swagger.definitions)) pool[name] = v3Schema(schema);
  const schemas = reachable(v3Paths, pool, '#/components/schemas/')['#/components/schemas/'];
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: 'unversioned' },
    paths: v3Paths,
    components: { schemas, securitySchemes: { BearerToken: { description: 'Bearer Token authentication', in: 'header', name: 'authorization', type: 'apiKey' } } },
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
