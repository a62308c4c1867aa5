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

function generateV3(gv: ServedGroupVersion): number | undefined {
  const upstreamFile = path.join(upstreamDir, 'v3', `${gv.fileStem}_openapi.json`);
  // The apps, batch and policy documents are not in every copy of the reference material: keep the
  // committed output for a group version whose upstream document is absent rather than fail.
  if (!existsSync(upstreamFile) && existsSync(path.join(outputDir, 'v3', `${gv.fileStem}.json`))) return undefined;
  const upstream = readJson(upstreamFile);
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
    if (bytes === undefined) {
      console.log(`v3/${gv.fileStem}.json kept (no upstream document in ${upstreamDir})`);
      continue;
    }
    total += bytes;
    console.log(`v3/${gv.fileStem}.json ${bytes} bytes`);
  }
  const v2Bytes = generateV2();
  total += v2Bytes;
  console.log(`v2/swagger.json ${v2Bytes} bytes`);
  console.log(`total ${total} bytes in ${path.relative(repoRoot, outputDir)}`);
}

main();
