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

export const AJV_DOCUMENT_ID = 'kubefacade-openapi';

/** The `$ref` ajv compiles for a component name. */
export function ajvRefFor(componentName: string): string {
  return `${AJV_DOCUMENT_ID}#/definitions/${componentName}`;
}

export type JsonSchema = { [keyword: string]: unknown };

function convert(raw: RawSchema): JsonSchema {
  const name = referencedName(raw);
  if (name !== undefined) return { $ref: `#/definitions/${name}` };
  const schema: JsonSchema = {};
  if (raw.type !== undefined) schema.type = raw.type;
  if (raw.enum !== undefined) schema.enum = raw.enum;
  if (raw.oneOf !== undefined) schema.oneOf = raw.oneOf.map(convert);
  if (raw.items !== undefined) schema.items = convert(raw.items);
  if (raw.properties !== undefined) {
    const required = new Set(raw.required ?? []);
    const properties: JsonSchema = {};
    for (const [property, child] of Object.entries(raw.properties)) {
      properties[property] = {
        if: { type: 'null' },
        // A `false` branch reports keyword "false schema"; validator.ts turns it into Required value.
        then: !required.has(property),
        else: convert(child),
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
  for (const [name, raw] of componentSchemas()) definitions[name] = convert(raw);
  return { $id: AJV_DOCUMENT_ID, definitions };
}
