// Reads the committed, trimmed OpenAPI documents (written by scripts/gen-openapi.ts) once. Both
// the served documents and the schema/validator modules come from these files, so what kubectl
// sees and what the server enforces cannot drift apart.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SERVED_GROUP_VERSIONS, type ServedGroupVersion } from './served.ts';

/** One schema as it appears in the documents: refs not yet followed. */
export interface RawSchema {
  $ref?: string;
  allOf?: RawSchema[];
  oneOf?: RawSchema[];
  type?: string;
  format?: string;
  description?: string;
  properties?: Record<string, RawSchema>;
  items?: RawSchema;
  additionalProperties?: RawSchema | boolean;
  required?: string[];
  enum?: unknown[];
  default?: unknown;
  [extension: `x-${string}`]: unknown;
}

export interface RawOpenApiV3Document {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, unknown>>;
  components: { schemas: Record<string, RawSchema>; securitySchemes?: Record<string, unknown> };
}

export const COMPONENT_REF_PREFIX = '#/components/schemas/';

const generatedDir = new URL('./generated/', import.meta.url);

function readGenerated(relative: string): string {
  return readFileSync(fileURLToPath(new URL(relative, generatedDir)), 'utf8');
}

const v3Cache = new Map<string, RawOpenApiV3Document>();

/** The parsed v3 document of one served group version. Shared: callers must not mutate it. */
export function generatedV3Document(gv: ServedGroupVersion): RawOpenApiV3Document {
  let document = v3Cache.get(gv.fileStem);
  if (!document) {
    document = JSON.parse(readGenerated(`v3/${gv.fileStem}.json`)) as RawOpenApiV3Document;
    v3Cache.set(gv.fileStem, document);
  }
  return document;
}

/** The text of the trimmed swagger 2.0 document. */
export function generatedV2Text(): string {
  return readGenerated('v2/swagger.json');
}

let allSchemas: Map<string, RawSchema> | undefined;

/**
 * Component schemas of every served group version, by name. The same definition (ObjectMeta,
 * Status, ...) appears in several documents with identical content, so the first copy is kept.
 */
export function componentSchemas(): ReadonlyMap<string, RawSchema> {
  if (!allSchemas) {
    allSchemas = new Map();
    for (const gv of SERVED_GROUP_VERSIONS) {
      for (const [name, schema] of Object.entries(generatedV3Document(gv).components.schemas)) {
        if (!allSchemas.has(name)) allSchemas.set(name, schema);
      }
    }
  }
  return allSchemas;
}

/** The component name a schema points at through `$ref` or a single-element `allOf: [{$ref}]`. */
export function referencedName(schema: RawSchema): string | undefined {
  const ref = schema.$ref ?? (schema.allOf?.length === 1 ? schema.allOf[0].$ref : undefined);
  if (ref === undefined) return undefined;
  if (!ref.startsWith(COMPONENT_REF_PREFIX)) throw new Error(`unsupported $ref ${ref}`);
  return ref.slice(COMPONENT_REF_PREFIX.length);
}
