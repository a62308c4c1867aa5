// Converts the generated OpenAPI component schemas into one JSON Schema document that ajv compiles.
// The conversion encodes the Kubernetes decoding rules the upstream schemas leave implicit:
//  - A property set to null is treated as absent (Go's JSON decoder leaves the zero value), except
//    that null for a required property counts as missing.
//  - Objects with declared properties get `additionalProperties: false`, so ajv reports every
//    field the schema does not declare; kube-apiserver's strict decoding reports the same fields.
//    Maps (additionalProperties given), free-form objects and x-kubernetes-preserve-unknown-fields
//    keep accepting anything.
// Descriptions and vendor extensions are dropped: they do not affect validation.

import { componentSchemas, referencedName, type RawSchema } from './generated-documents.ts';
import { GO_INTEGER_KEYWORD, GO_TIME_KEYWORD } from './go-decoding.ts';

export const AJV_DOCUMENT_ID = 'kubefacade-openapi';

/** The `$ref` ajv compiles for a component name. */
export function ajvRefFor(componentName: string): string {
  return `${AJV_DOCUMENT_ID}#/definitions/${componentName}`;
}

export type JsonSchema = { [keyword: string]: unknown };

/**
 * `struct` is the Go struct a property schema belongs to (the short component name), for the
 * decoder's message about an integer that does not fit its format (go-decoding.ts).
 */
function convert(raw: RawSchema, struct = ''): JsonSchema {
  const name = referencedName(raw);
  if (name !== undefined) return { $ref: `#/definitions/${name}` };
  const schema: JsonSchema = {};
  if (raw.type !== undefined) schema.type = raw.type;
  if (raw.type === 'integer' && (raw.format === 'int32' || raw.format === 'int64')) {
    schema[GO_INTEGER_KEYWORD] = { type: raw.format, struct };
  }
  if (raw.enum !== undefined) schema.enum = raw.enum;
  if (raw.oneOf !== undefined) schema.oneOf = raw.oneOf.map((branch) => convert(branch, struct));
  if (raw.items !== undefined) schema.items = convert(raw.items, struct);
  if (raw.properties !== undefined) {
    const required = new Set(raw.required ?? []);
    const properties: JsonSchema = {};
    for (const [property, child] of Object.entries(raw.properties)) {
      properties[property] = {
        if: { type: 'null' },
        // A `false` branch reports keyword "false schema"; validator.ts turns it into Required value.
        then: !required.has(property),
        else: convert(child, struct),
      };
    }
    schema.properties = properties;
    if (raw.required !== undefined && raw.required.length > 0) schema.required = [...raw.required];
  }
  if (typeof raw.additionalProperties === 'object') {
    schema.additionalProperties = convert(raw.additionalProperties);
  } else if (raw.properties !== undefined && raw.additionalProperties === undefined
    && raw['x-kubernetes-preserve-unknown-fields'] !== true) {
    schema.additionalProperties = false;
  }
  return schema;
}

/** `{$id, definitions: {<component name>: schema}}` covering every served component. */
export function ajvDocument(): JsonSchema {
  const definitions: JsonSchema = {};
  for (const [name, raw] of componentSchemas()) {
    const schema = convert(raw, name.slice(name.lastIndexOf('.') + 1));
    // metav1.Time decodes with time.Parse(time.RFC3339, ...).
    if (name === 'io.k8s.apimachinery.pkg.apis.meta.v1.Time') schema[GO_TIME_KEYWORD] = true;
    definitions[name] = schema;
  }
  return { $id: AJV_DOCUMENT_ID, definitions };
}
