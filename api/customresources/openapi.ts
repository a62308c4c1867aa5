// OpenAPI for custom resources, as the apiextensions-apiserver's openapi builder publishes them:
// one v3 document per group version (`/openapi/v3/apis/<group>/<version>`) holding each kind's
// schema (the CRD schema plus apiVersion, kind and an ObjectMeta reference, tagged with
// x-kubernetes-group-version-kind), its List, the paths with their actions and parameters
// (kubectl looks for `fieldValidation` on the PATCH operation to choose server-side validation),
// and the meta.k8s.io components they reference; and for `/openapi/v2` the same definitions after the
// v2 conversion upstream applies (toStructuralOpenApiV2, kindSchemaV2).

import { componentSchemas, type RawSchema } from '../openapi/generated-documents.ts';
import type { CustomResourceStrategy } from './strategy.ts';
import type { CustomResourceDefinition, JSONSchemaProps } from './types.ts';

type Json = Record<string, unknown>;

const COMPONENTS = '#/components/schemas/';
const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';
const API_VERSION_DESCRIPTION = 'APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources';
const KIND_DESCRIPTION = 'Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds';
const METADATA_DESCRIPTION = 'Standard object\'s metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata';

export interface CustomResourceOpenApi {
  /** `apis/<group>/<version>` → v3 document. */
  v3: Map<string, Json>;
  /** Definitions to merge into the swagger 2.0 document. */
  v2Definitions: Json;
}

/** `stable.example.com` → `com.example.stable` (the upstream definition-name prefix). */
export function definitionPrefix(group: string, version: string): string {
  return `${group.split('.').reverse().join('.')}.${version}`;
}

function ref(name: string): Json {
  return { $ref: `${COMPONENTS}${name}` };
}

function kindSchema(strategy: CustomResourceStrategy, schema: JSONSchemaProps): Json {
  const copy = structuredClone(schema) as Json;
  const properties = { ...((copy.properties as Json | undefined) ?? {}) };
  properties.apiVersion = { type: 'string', description: API_VERSION_DESCRIPTION };
  properties.kind = { type: 'string', description: KIND_DESCRIPTION };
  properties.metadata = { allOf: [ref(`${META}.ObjectMeta`)], description: METADATA_DESCRIPTION };
  copy.properties = properties;
  copy.type = 'object';
  copy['x-kubernetes-group-version-kind'] = [{ group: strategy.group, kind: strategy.kind, version: strategy.version }];
  return copy;
}

/**
 * ToStructuralOpenAPIV2 (apiextensions-apiserver controller/openapi/v2): what swagger 2.0 and kubectl's
 * v2 validation cannot take is removed, recursively. Junctors (allOf, anyOf, oneOf, not) go; a nullable
 * field loses its type, items and properties; a field preserving unknown fields loses items and
 * properties (and `type: object`, which kubectl would read as "no other fields"); an array left without
 * items loses its type; a nullable property is no longer required.
 */
export function toStructuralOpenApiV2(schema: JSONSchemaProps): Json {
  const out = structuredClone(schema) as Json;
  const visit = (s: Json): void => {
    for (const junctor of ['allOf', 'anyOf', 'oneOf', 'not']) delete s[junctor];
    if (s.nullable === true) {
      delete s.type;
      delete s.nullable;
      delete s.items;
      delete s.properties;
    }
    if (s['x-kubernetes-preserve-unknown-fields'] === true) {
      delete s.items;
      delete s.properties;
    }
    if (s.items === undefined && s.type === 'array') delete s.type;
    if (s['x-kubernetes-preserve-unknown-fields'] === true && s.type === 'object') delete s.type;
    const properties = s.properties as Record<string, Json> | undefined;
    if (properties && Array.isArray(s.required)) {
      const required = (s.required as string[]).filter((name) => properties[name]?.nullable !== true);
      if (required.length > 0) s.required = required;
      else delete s.required;
    }
    const additional = s.additionalProperties;
    if (additional && typeof additional === 'object' && (additional as Json).nullable === true) delete s.required;
    for (const child of Object.values(properties ?? {})) visit(child);
    if (s.items && typeof s.items === 'object' && !Array.isArray(s.items)) visit(s.items as Json);
    if (additional && typeof additional === 'object') visit(additional as Json);
  };
  visit(out);
  return out;
}

/**
 * The kind's swagger 2.0 definition (buildKubeNative with V2): a schema preserving unknown fields at its
 * root is published as a bare object (kubectl's v2 validation would otherwise forbid every unknown
 * field); any other gets the v2 conversion plus apiVersion, kind and a metadata reference.
 */
function kindSchemaV2(strategy: CustomResourceStrategy, schema: JSONSchemaProps, preserveUnknownFields: boolean): Json {
  const gvk = [{ group: strategy.group, kind: strategy.kind, version: strategy.version }];
  if (schema['x-kubernetes-preserve-unknown-fields'] === true || preserveUnknownFields) return { type: 'object', 'x-kubernetes-group-version-kind': gvk };
  const copy = toStructuralOpenApiV2(schema);
  copy.properties = {
    ...((copy.properties as Json | undefined) ?? {}),
    apiVersion: { type: 'string', description: API_VERSION_DESCRIPTION },
    kind: { type: 'string', description: KIND_DESCRIPTION },
    metadata: { $ref: `#/definitions/${META}.ObjectMeta`, description: METADATA_DESCRIPTION },
  };
  copy.type = 'object';
  copy['x-kubernetes-group-version-kind'] = gvk;
  return copy;
}

function listSchema(strategy: CustomResourceStrategy, kindName: string): Json {
  return {
    description: `${strategy.kind}List is a list of ${strategy.kind}`,
    type: 'object',
    required: ['items'],
    properties: {
      apiVersion: { type: 'string', description: API_VERSION_DESCRIPTION },
      items: { type: 'array', items: ref(kindName), description: `List of ${strategy.resource}. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md` },
      kind: { type: 'string', description: KIND_DESCRIPTION },
      metadata: { allOf: [ref(`${META}.ListMeta`)], description: 'Standard list metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds' },
    },
    'x-kubernetes-group-version-kind': [{ group: strategy.group, kind: strategy.listKind, version: strategy.version }],
  };
}

function query(name: string, type: string, description: string): Json {
  return { name, in: 'query', description, schema: { type, uniqueItems: true } };
}

const DRY_RUN = query('dryRun', 'string', 'When present, indicates that modifications should not be persisted. An invalid or unrecognized dryRun directive will result in an error response and no further processing of the request. Valid values are: - All: all dry run stages will be processed');
const FIELD_MANAGER = query('fieldManager', 'string', 'fieldManager is a name associated with the actor or entity that is making these changes. The value must be less than or 128 characters long, and only contain printable characters, as defined by https://golang.org/pkg/unicode/#IsPrint.');
const FIELD_VALIDATION = query('fieldValidation', 'string', 'fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore - Warn - Strict');
const FORCE = query('force', 'boolean', 'Force is going to "force" Apply requests. It means user will re-acquire conflicting fields owned by other people. Force flag must be unset for non-apply patch requests.');
const LIST_PARAMETERS = [
  query('labelSelector', 'string', 'A selector to restrict the list of returned objects by their labels. Defaults to everything.'),
  query('fieldSelector', 'string', 'A selector to restrict the list of returned objects by their fields. Defaults to everything.'),
  query('limit', 'integer', 'limit is a maximum number of responses to return for a list call.'),
  query('continue', 'string', 'The continue option should be set when retrieving more results from the server.'),
  query('resourceVersion', 'string', 'resourceVersion sets a constraint on what resource versions a request may be served from.'),
  query('watch', 'boolean', 'Watch for changes to the described resources and return them as a stream of add, update, and remove notifications.'),
];

function content(schema: Json): Json {
  return { 'application/json': { schema }, 'application/yaml': { schema } };
}

function operation(strategy: CustomResourceStrategy, action: string, id: string, response: Json, extra: Json = {}): Json {
  return {
    operationId: id,
    description: `${action} ${strategy.kind}`,
    responses: { 200: { description: 'OK', content: content(response) }, 401: { description: 'Unauthorized' } },
    tags: [`${strategy.group.split('.')[0]}_${strategy.version}`],
    'x-kubernetes-action': action,
    'x-kubernetes-group-version-kind': { group: strategy.group, kind: strategy.kind, version: strategy.version },
    ...extra,
  };
}

function paths(strategy: CustomResourceStrategy, kindName: string, listName: string): Json {
  const base = `/apis/${strategy.group}/${strategy.version}`;
  const scope = strategy.namespaced ? `${base}/namespaces/{namespace}` : base;
  const pathParameters = (item: boolean): Json[] => [
    ...(strategy.namespaced ? [{ name: 'namespace', in: 'path', required: true, description: 'object name and auth scope, such as for teams and projects', schema: { type: 'string', uniqueItems: true } }] : []),
    ...(item ? [{ name: 'name', in: 'path', required: true, description: `name of the ${strategy.kind}`, schema: { type: 'string', uniqueItems: true } }] : []),
  ];
  const id = `${strategy.kind}`;
  const writeBody = (schema: Json): Json => ({ requestBody: { required: true, content: content(schema) } });
  const patchBody: Json = {
    requestBody: { required: true, content: Object.fromEntries(['application/json-patch+json', 'application/merge-patch+json', 'application/apply-patch+yaml'].map((t) => [t, { schema: ref(`${META}.Patch`) }])) },
  };
  const item = (suffix: string, what: string): Json => ({
    parameters: pathParameters(true),
    get: operation(strategy, 'get', `read${what}`, ref(kindName)),
    put: operation(strategy, 'put', `replace${what}`, ref(kindName), { parameters: [DRY_RUN, FIELD_MANAGER, FIELD_VALIDATION], ...writeBody(ref(kindName)) }),
    patch: operation(strategy, 'patch', `patch${what}`, ref(kindName), { parameters: [DRY_RUN, FIELD_MANAGER, FIELD_VALIDATION, FORCE], ...patchBody }),
    ...(suffix === '' ? { delete: operation(strategy, 'delete', `delete${what}`, ref(`${META}.Status`), { parameters: [DRY_RUN], requestBody: { content: content(ref(`${META}.DeleteOptions`)) } }) } : {}),
  });
  const out: Json = {
    [`${scope}/${strategy.resource}`]: {
      parameters: pathParameters(false),
      get: operation(strategy, 'list', `list${id}`, ref(listName), { parameters: LIST_PARAMETERS }),
      post: operation(strategy, 'post', `create${id}`, ref(kindName), { parameters: [DRY_RUN, FIELD_MANAGER, FIELD_VALIDATION], ...writeBody(ref(kindName)) }),
      delete: operation(strategy, 'deletecollection', `deletecollection${id}`, ref(`${META}.Status`), { parameters: [DRY_RUN, ...LIST_PARAMETERS] }),
    },
    [`${scope}/${strategy.resource}/{name}`]: item('', id),
  };
  if (strategy.namespaced) {
    out[`${base}/${strategy.resource}`] = { get: operation(strategy, 'list', `list${id}ForAllNamespaces`, ref(listName), { parameters: LIST_PARAMETERS }) };
  }
  if (strategy.hasStatus) out[`${scope}/${strategy.resource}/{name}/status`] = item('status', `${id}Status`);
  return out;
}

/** The meta.k8s.io components the custom documents reference, with everything they reference. */
function metaComponents(): Json {
  const all = componentSchemas();
  const kept: Record<string, RawSchema> = {};
  const pending = [`${META}.ObjectMeta`, `${META}.ListMeta`, `${META}.Status`, `${META}.DeleteOptions`, `${META}.Patch`];
  while (pending.length) {
    const name = pending.pop()!;
    if (kept[name]) continue;
    const schema = all.get(name);
    if (!schema) continue;
    kept[name] = schema;
    for (const match of JSON.stringify(schema).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)) pending.push(match[1]);
  }
  return kept;
}

function toV2(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value).replaceAll(COMPONENTS, '#/definitions/'));
}

export function buildCustomResourceOpenApi(served: { crd: CustomResourceDefinition; strategies: CustomResourceStrategy[] }[]): CustomResourceOpenApi {
  const byGroupVersion = new Map<string, { schemas: Json; paths: Json }>();
  const v2Definitions: Json = {};
  for (const { crd, strategies } of served) {
    for (const strategy of strategies) {
      const version = crd.spec.versions.find((v) => v.name === strategy.version);
      const schema = version?.schema?.openAPIV3Schema ?? { type: 'object' };
      const prefix = definitionPrefix(strategy.group, strategy.version);
      const kindName = `${prefix}.${strategy.kind}`;
      const listName = `${prefix}.${strategy.listKind}`;
      const key = `apis/${strategy.group}/${strategy.version}`;
      let doc = byGroupVersion.get(key);
      if (!doc) {
        doc = { schemas: metaComponents(), paths: {} };
        byGroupVersion.set(key, doc);
      }
      doc.schemas[kindName] = kindSchema(strategy, schema);
      doc.schemas[listName] = listSchema(strategy, kindName);
      Object.assign(doc.paths, paths(strategy, kindName, listName));
      v2Definitions[kindName] = kindSchemaV2(strategy, schema, (crd.spec as { preserveUnknownFields?: boolean }).preserveUnknownFields === true);
      v2Definitions[listName] = toV2(doc.schemas[listName]);
    }
  }
  const v3 = new Map<string, Json>();
  for (const [key, doc] of byGroupVersion) {
    v3.set(key, {
      openapi: '3.0.0',
      info: { title: 'Kubernetes CRD Swagger', version: 'v0.1.0' },
      paths: doc.paths,
      components: { schemas: doc.schemas, securitySchemes: { BearerToken: { type: 'apiKey', description: 'Bearer Token authentication', name: 'authorization', in: 'header' } } },
    });
  }
  return { v3, v2Definitions };
}
