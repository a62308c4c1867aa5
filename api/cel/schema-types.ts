// OpenAPI v3 schemas (as /openapi/v3 serves them) turned into declared CEL types, as
// k8s.io/apiserver/pkg/cel/common.SchemaDeclType does for type checking: an object with properties
// is a message type whose fields are its properties (a field whose schema has no CEL type is left
// out, so selecting it is an "undefined field"), an object with an additionalProperties schema a
// map(string, T), an array with items a list(T), x-kubernetes-int-or-string dyn; strings with
// format byte/duration/date/date-time are bytes/Duration/Timestamp. A resource root always has
// kind, apiVersion and metadata.name/generateName (WithTypeAndObjectMeta). Types are registered in
// a @marcbachmann/cel-js Environment, named by their path from the root (`Deployment.spec.template`,
// `.@idx` for list items, `.@elem` for map values), as upstream's MaybeAssignTypeName names them.

import type { Environment } from '@marcbachmann/cel-js';

export type OpenApiSchema = { [key: string]: unknown };

const REF_PREFIX = '#/components/schemas/';

/** CEL reserved words a property is renamed for (`__name__`), as apiserver/pkg/cel.Escape does. */
const RESERVED = new Set(['true', 'false', 'null', 'in', 'as', 'break', 'const', 'continue', 'else', 'for', 'function', 'if', 'import', 'let', 'loop', 'package', 'namespace', 'return', 'var', 'void', 'while']);

/** A property name as CEL sees it, or undefined when it cannot be escaped (it is left out). */
export function escapeCelProperty(name: string): string | undefined {
  if (RESERVED.has(name)) return `__${name}__`;
  if (!/^[A-Za-z_./-][A-Za-z0-9_./-]*$/.test(name)) return undefined;
  return name.replaceAll('__', '__underscores__').replaceAll('.', '__dot__').replaceAll('-', '__dash__').replaceAll('/', '__slash__');
}

const isSchema = (value: unknown): value is OpenApiSchema => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The schema's type. The v3 documents give a few built-in types as `oneOf` instead (Quantity:
 * string or number); the Go definitions kube-controller-manager checks built-in kinds against give
 * them the first of those (Quantity is a string).
 */
function schemaType(schema: OpenApiSchema): unknown {
  if (schema.type !== undefined) return schema.type;
  const first = Array.isArray(schema.oneOf) ? schema.oneOf[0] : undefined;
  return isSchema(first) && typeof first.type === 'string' ? first.type : undefined;
}

export class SchemaTypeDeclarer {
  private readonly declared = new Set<string>();

  constructor(private readonly env: Environment, private readonly components: Record<string, OpenApiSchema>) {}

  /**
   * Declares the type of `schema` under `name` and returns the CEL type to use for a variable of
   * it: the type's name, or `dyn` when the schema has no CEL type (upstream's nil DeclType).
   */
  declareRoot(name: string, schema: OpenApiSchema): string {
    return this.typeOf(name, schema, true, new Set()) ?? 'dyn';
  }

  /** `$ref` and the v3 documents' `allOf: [{$ref}]` wrapper resolved; undefined on a cycle (then dyn). */
  private resolve(schema: OpenApiSchema, seen: ReadonlySet<string>): { schema: OpenApiSchema; refs: Set<string> } | undefined {
    const refs = new Set(seen);
    let current = schema;
    for (let hops = 0; hops < 16; hops++) {
      const wrapped = Array.isArray(current.allOf) && current.allOf.length === 1 && current.type === undefined && isSchema(current.allOf[0]) ? current.allOf[0] : undefined;
      const ref = typeof current.$ref === 'string' ? current.$ref : typeof wrapped?.$ref === 'string' ? wrapped.$ref : undefined;
      if (!ref) return { schema: current, refs };
      if (!ref.startsWith(REF_PREFIX)) return { schema: {}, refs };
      const target = ref.slice(REF_PREFIX.length);
      if (refs.has(target)) return undefined;
      refs.add(target);
      current = this.components[target] ?? {};
    }
    return undefined;
  }

  private typeOf(name: string, raw: OpenApiSchema, resourceRoot: boolean, seen: ReadonlySet<string>): string | undefined {
    const resolved = this.resolve(raw, seen);
    if (!resolved) return 'dyn';
    let { schema } = resolved;
    const { refs } = resolved;
    // Built-in kinds mark int-or-string with the format, CRDs with the extension (isXIntOrString).
    if (schema['x-kubernetes-int-or-string'] === true || schema.format === 'int-or-string') return 'dyn';
    if (resourceRoot || schema['x-kubernetes-embedded-resource'] === true) schema = this.withTypeAndObjectMeta(schema, refs);
    switch (schemaType(schema)) {
      case 'array': {
        if (!isSchema(schema.items)) return undefined;
        const item = this.typeOf(`${name}.@idx`, schema.items, schema.items['x-kubernetes-embedded-resource'] === true, refs);
        return item === undefined ? undefined : `list<${item}>`;
      }
      case 'object': {
        if (isSchema(schema.additionalProperties)) {
          const value = this.typeOf(`${name}.@elem`, schema.additionalProperties, schema.additionalProperties['x-kubernetes-embedded-resource'] === true, refs);
          return value === undefined ? undefined : `map<string, ${value}>`;
        }
        const fields: Record<string, string> = {};
        const properties = isSchema(schema.properties) ? schema.properties : {};
        for (const [property, propertySchema] of Object.entries(properties)) {
          if (!isSchema(propertySchema)) continue;
          const celName = escapeCelProperty(property);
          if (!celName) continue;
          const fieldType = this.typeOf(`${name}.${celName}`, propertySchema, false, refs);
          if (fieldType !== undefined) fields[celName] = fieldType;
        }
        if (!this.declared.has(name)) {
          this.env.registerType(name, { fields });
          this.declared.add(name);
        }
        return name;
      }
      case 'string':
        switch (schema.format) {
          case 'byte': return 'bytes';
          case 'duration': return 'google.protobuf.Duration';
          case 'date': case 'date-time': return 'google.protobuf.Timestamp';
          default: return 'string';
        }
      case 'boolean': return 'bool';
      case 'number': return 'double';
      case 'integer': return 'int';
      default: return undefined;
    }
  }

  /**
   * kind, apiVersion and metadata.name/generateName are always there at a resource root; a root
   * whose metadata lacks them gets a metadata of just those two (common.WithTypeAndObjectMeta).
   */
  private withTypeAndObjectMeta(schema: OpenApiSchema, refs: ReadonlySet<string>): OpenApiSchema {
    const properties = isSchema(schema.properties) ? schema.properties : {};
    const prop = (s: unknown): OpenApiSchema | undefined => (isSchema(s) ? this.resolve(s, refs)?.schema : undefined);
    const isString = (s: unknown): boolean => prop(s)?.type === 'string';
    const metadata = prop(properties.metadata);
    const metadataProperties = metadata && isSchema(metadata.properties) ? metadata.properties : undefined;
    if (isString(properties.kind) && isString(properties.apiVersion) && metadata?.type === 'object' && metadataProperties
      && isString(metadataProperties.name) && isString(metadataProperties.generateName)) return schema;
    return {
      ...schema,
      properties: {
        ...properties,
        kind: { type: 'string' },
        apiVersion: { type: 'string' },
        metadata: { type: 'object', properties: { name: { type: 'string' }, generateName: { type: 'string' } } },
      },
    };
  }
}
