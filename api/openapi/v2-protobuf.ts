// `/openapi/v2` as protobuf: the swagger 2.0 document converted to gnostic's openapi.v2.Document
// message (github.com/google/gnostic-models/openapiv2), as kube-openapi's handler serves it to
// clients that ask for `application/com.github.proto-openapi.spec.v2@v1.0+protobuf` (kubectl up to
// 1.28 for apply/edit/diff/explain, and every kubectl's schema validation of a kind the OpenAPI v3
// discovery does not list). Values that JSON Schema leaves free (default, example, enum, vendor
// extensions) travel as gnostic's Any with their YAML text, which is how kube-openapi reads them.
//
// The message layout below declares only what the conversion writes, with gnostic's field numbers.

import protobuf from 'protobufjs';
import { stringify as toYaml } from 'yaml';

type Json = Record<string, unknown>;
type Fields = Record<string, { id: number; type: string; rule?: 'repeated' }>;

const f = (id: number, type: string, repeated = false) => (repeated ? { id, type, rule: 'repeated' as const } : { id, type });

// The gnostic openapi.v2 messages (field numbers as in OpenAPIv2.proto).
const PARAMETER_SUB_SCHEMA: Fields = {
  required: f(1, 'bool'), in: f(2, 'string'), description: f(3, 'string'), name: f(4, 'string'),
};
const MESSAGES: Record<string, { fields: Fields; oneofs?: Record<string, { oneof: string[] }> }> = {
  Any: { fields: { yaml: f(2, 'string') } },
  NamedAny: { fields: { name: f(1, 'string'), value: f(2, 'Any') } },
  Info: { fields: { title: f(1, 'string'), version: f(2, 'string'), description: f(3, 'string'), vendorExtension: f(7, 'NamedAny', true) } },
  Document: {
    fields: {
      swagger: f(1, 'string'), info: f(2, 'Info'), host: f(3, 'string'), basePath: f(4, 'string'),
      schemes: f(5, 'string', true), consumes: f(6, 'string', true), produces: f(7, 'string', true),
      paths: f(8, 'Paths'), definitions: f(9, 'Definitions'), parameters: f(10, 'ParameterDefinitions'),
      responses: f(11, 'ResponseDefinitions'), security: f(12, 'SecurityRequirement', true),
      securityDefinitions: f(13, 'SecurityDefinitions'), vendorExtension: f(16, 'NamedAny', true),
    },
  },
  Definitions: { fields: { additionalProperties: f(1, 'NamedSchema', true) } },
  Properties: { fields: { additionalProperties: f(1, 'NamedSchema', true) } },
  NamedSchema: { fields: { name: f(1, 'string'), value: f(2, 'Schema') } },
  TypeItem: { fields: { value: f(1, 'string', true) } },
  ItemsItem: { fields: { schema: f(1, 'Schema', true) } },
  AdditionalPropertiesItem: { fields: { schema: f(1, 'Schema'), boolean: f(2, 'bool') }, oneofs: { oneof: { oneof: ['schema', 'boolean'] } } },
  Schema: {
    fields: {
      _ref: f(1, 'string'), format: f(2, 'string'), title: f(3, 'string'), description: f(4, 'string'), default: f(5, 'Any'),
      multipleOf: f(6, 'double'), maximum: f(7, 'double'), exclusiveMaximum: f(8, 'bool'), minimum: f(9, 'double'),
      exclusiveMinimum: f(10, 'bool'), maxLength: f(11, 'int64'), minLength: f(12, 'int64'), pattern: f(13, 'string'),
      maxItems: f(14, 'int64'), minItems: f(15, 'int64'), uniqueItems: f(16, 'bool'), maxProperties: f(17, 'int64'),
      minProperties: f(18, 'int64'), required: f(19, 'string', true), enum: f(20, 'Any', true),
      additionalProperties: f(21, 'AdditionalPropertiesItem'), type: f(22, 'TypeItem'), items: f(23, 'ItemsItem'),
      allOf: f(24, 'Schema', true), properties: f(25, 'Properties'), discriminator: f(26, 'string'), readOnly: f(27, 'bool'),
      example: f(30, 'Any'), vendorExtension: f(31, 'NamedAny', true),
    },
  },
  Paths: { fields: { vendorExtension: f(1, 'NamedAny', true), path: f(2, 'NamedPathItem', true) } },
  NamedPathItem: { fields: { name: f(1, 'string'), value: f(2, 'PathItem') } },
  PathItem: {
    fields: {
      _ref: f(1, 'string'), get: f(2, 'Operation'), put: f(3, 'Operation'), post: f(4, 'Operation'), delete: f(5, 'Operation'),
      options: f(6, 'Operation'), head: f(7, 'Operation'), patch: f(8, 'Operation'), parameters: f(9, 'ParametersItem', true),
      vendorExtension: f(10, 'NamedAny', true),
    },
  },
  Operation: {
    fields: {
      tags: f(1, 'string', true), summary: f(2, 'string'), description: f(3, 'string'), operationId: f(5, 'string'),
      produces: f(6, 'string', true), consumes: f(7, 'string', true), parameters: f(8, 'ParametersItem', true),
      responses: f(9, 'Responses'), schemes: f(10, 'string', true), deprecated: f(11, 'bool'), vendorExtension: f(13, 'NamedAny', true),
    },
  },
  ParametersItem: { fields: { parameter: f(1, 'Parameter'), jsonReference: f(2, 'JsonReference') }, oneofs: { oneof: { oneof: ['parameter', 'jsonReference'] } } },
  JsonReference: { fields: { _ref: f(1, 'string'), description: f(2, 'string') } },
  Parameter: { fields: { bodyParameter: f(1, 'BodyParameter'), nonBodyParameter: f(2, 'NonBodyParameter') }, oneofs: { oneof: { oneof: ['bodyParameter', 'nonBodyParameter'] } } },
  BodyParameter: {
    fields: { description: f(1, 'string'), name: f(2, 'string'), in: f(3, 'string'), required: f(4, 'bool'), schema: f(5, 'Schema'), vendorExtension: f(6, 'NamedAny', true) },
  },
  NonBodyParameter: {
    fields: {
      headerParameterSubSchema: f(1, 'HeaderParameterSubSchema'), formDataParameterSubSchema: f(2, 'FormDataParameterSubSchema'),
      queryParameterSubSchema: f(3, 'QueryParameterSubSchema'), pathParameterSubSchema: f(4, 'PathParameterSubSchema'),
    },
    oneofs: { oneof: { oneof: ['headerParameterSubSchema', 'formDataParameterSubSchema', 'queryParameterSubSchema', 'pathParameterSubSchema'] } },
  },
  // Query and formData sub-schemas have allow_empty_value at 5, so their later fields are one higher.
  QueryParameterSubSchema: { fields: { ...PARAMETER_SUB_SCHEMA, allowEmptyValue: f(5, 'bool'), type: f(6, 'string'), format: f(7, 'string'), default: f(10, 'Any'), uniqueItems: f(20, 'bool'), enum: f(21, 'Any', true), vendorExtension: f(23, 'NamedAny', true) } },
  FormDataParameterSubSchema: { fields: { ...PARAMETER_SUB_SCHEMA, allowEmptyValue: f(5, 'bool'), type: f(6, 'string'), format: f(7, 'string'), default: f(10, 'Any'), uniqueItems: f(20, 'bool'), enum: f(21, 'Any', true), vendorExtension: f(23, 'NamedAny', true) } },
  HeaderParameterSubSchema: { fields: { ...PARAMETER_SUB_SCHEMA, type: f(5, 'string'), format: f(6, 'string'), default: f(9, 'Any'), uniqueItems: f(19, 'bool'), enum: f(20, 'Any', true), vendorExtension: f(22, 'NamedAny', true) } },
  PathParameterSubSchema: { fields: { ...PARAMETER_SUB_SCHEMA, type: f(5, 'string'), format: f(6, 'string'), default: f(9, 'Any'), uniqueItems: f(19, 'bool'), enum: f(20, 'Any', true), vendorExtension: f(22, 'NamedAny', true) } },
  Responses: { fields: { responseCode: f(1, 'NamedResponseValue', true), vendorExtension: f(2, 'NamedAny', true) } },
  NamedResponseValue: { fields: { name: f(1, 'string'), value: f(2, 'ResponseValue') } },
  ResponseValue: { fields: { response: f(1, 'Response'), jsonReference: f(2, 'JsonReference') }, oneofs: { oneof: { oneof: ['response', 'jsonReference'] } } },
  Response: { fields: { description: f(1, 'string'), schema: f(2, 'SchemaItem'), vendorExtension: f(5, 'NamedAny', true) } },
  SchemaItem: { fields: { schema: f(1, 'Schema') }, oneofs: { oneof: { oneof: ['schema'] } } },
  ResponseDefinitions: { fields: { additionalProperties: f(1, 'NamedResponse', true) } },
  NamedResponse: { fields: { name: f(1, 'string'), value: f(2, 'Response') } },
  ParameterDefinitions: { fields: { additionalProperties: f(1, 'NamedParameter', true) } },
  NamedParameter: { fields: { name: f(1, 'string'), value: f(2, 'Parameter') } },
  SecurityDefinitions: { fields: { additionalProperties: f(1, 'NamedSecurityDefinitionsItem', true) } },
  NamedSecurityDefinitionsItem: { fields: { name: f(1, 'string'), value: f(2, 'SecurityDefinitionsItem') } },
  SecurityDefinitionsItem: { fields: { apiKeySecurity: f(2, 'ApiKeySecurity') }, oneofs: { oneof: { oneof: ['apiKeySecurity'] } } },
  ApiKeySecurity: { fields: { type: f(1, 'string'), name: f(2, 'string'), in: f(3, 'string'), description: f(4, 'string') } },
  SecurityRequirement: { fields: { additionalProperties: f(1, 'NamedStringArray', true) } },
  NamedStringArray: { fields: { name: f(1, 'string'), value: f(2, 'StringArray') } },
  StringArray: { fields: { value: f(1, 'string', true) } },
};

let documentType: protobuf.Type | undefined;

function gnosticDocumentType(): protobuf.Type {
  if (!documentType) {
    const root = protobuf.Root.fromJSON({ nested: { openapi: { nested: { v2: { nested: MESSAGES } } } } });
    documentType = root.lookupType('openapi.v2.Document');
  }
  return documentType;
}

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

function anyValue(value: unknown): Json {
  return { yaml: toYaml(value) };
}

function vendorExtensions(node: Json): Json[] {
  return Object.keys(node).filter((key) => key.startsWith('x-')).map((name) => ({ name, value: anyValue(node[name]) }));
}

function schema(node: Json): Json {
  const out: Json = {};
  for (const key of ['format', 'title', 'description', 'pattern', 'discriminator']) if (typeof node[key] === 'string') out[key] = node[key];
  if (typeof node.$ref === 'string') out._ref = node.$ref;
  for (const key of ['multipleOf', 'maximum', 'minimum', 'maxLength', 'minLength', 'maxItems', 'minItems', 'maxProperties', 'minProperties']) {
    if (typeof node[key] === 'number') out[key] = node[key];
  }
  for (const key of ['exclusiveMaximum', 'exclusiveMinimum', 'uniqueItems', 'readOnly']) if (typeof node[key] === 'boolean') out[key] = node[key];
  if (Array.isArray(node.required)) out.required = node.required.map(String);
  if (node.default !== undefined) out.default = anyValue(node.default);
  if (node.example !== undefined) out.example = anyValue(node.example);
  if (Array.isArray(node.enum)) out.enum = node.enum.map(anyValue);
  if (node.type !== undefined) out.type = { value: Array.isArray(node.type) ? node.type.map(String) : [String(node.type)] };
  if (node.items !== undefined) out.items = { schema: (Array.isArray(node.items) ? node.items : [node.items]).filter(isObject).map(schema) };
  if (typeof node.additionalProperties === 'boolean') out.additionalProperties = { boolean: node.additionalProperties };
  else if (isObject(node.additionalProperties)) out.additionalProperties = { schema: schema(node.additionalProperties) };
  if (Array.isArray(node.allOf)) out.allOf = node.allOf.filter(isObject).map(schema);
  if (isObject(node.properties)) out.properties = { additionalProperties: namedSchemas(node.properties) };
  const extensions = vendorExtensions(node);
  if (extensions.length > 0) out.vendorExtension = extensions;
  return out;
}

function namedSchemas(map: Json): Json[] {
  return Object.entries(map).filter(([, value]) => isObject(value)).map(([name, value]) => ({ name, value: schema(value as Json) }));
}

function parameter(node: Json): Json {
  if (node.in === 'body') {
    const body: Json = { name: node.name, in: 'body', required: node.required === true };
    if (typeof node.description === 'string') body.description = node.description;
    if (isObject(node.schema)) body.schema = schema(node.schema);
    return { bodyParameter: body };
  }
  const sub: Json = { in: node.in, name: node.name, required: node.required === true };
  for (const key of ['description', 'type', 'format']) if (typeof node[key] === 'string') sub[key] = node[key];
  if (typeof node.uniqueItems === 'boolean') sub.uniqueItems = node.uniqueItems;
  if (node.default !== undefined) sub.default = anyValue(node.default);
  if (Array.isArray(node.enum)) sub.enum = node.enum.map(anyValue);
  const extensions = vendorExtensions(node);
  if (extensions.length > 0) sub.vendorExtension = extensions;
  const field = { query: 'queryParameterSubSchema', path: 'pathParameterSubSchema', header: 'headerParameterSubSchema', formData: 'formDataParameterSubSchema' }[String(node.in)];
  return { nonBodyParameter: { [field ?? 'queryParameterSubSchema']: sub } };
}

function parametersItem(node: Json): Json {
  if (typeof node.$ref === 'string') return { jsonReference: { _ref: node.$ref } };
  return { parameter: parameter(node) };
}

function response(node: Json): Json {
  const out: Json = { description: typeof node.description === 'string' ? node.description : '' };
  if (isObject(node.schema)) out.schema = { schema: schema(node.schema) };
  return out;
}

function operation(node: Json): Json {
  const out: Json = {};
  for (const key of ['summary', 'description', 'operationId']) if (typeof node[key] === 'string') out[key] = node[key];
  for (const key of ['tags', 'produces', 'consumes', 'schemes']) if (Array.isArray(node[key])) out[key] = (node[key] as unknown[]).map(String);
  if (node.deprecated === true) out.deprecated = true;
  if (Array.isArray(node.parameters)) out.parameters = node.parameters.filter(isObject).map(parametersItem);
  if (isObject(node.responses)) {
    out.responses = {
      responseCode: Object.entries(node.responses).filter(([, value]) => isObject(value)).map(([name, value]) => {
        const item = value as Json;
        return { name, value: typeof item.$ref === 'string' ? { jsonReference: { _ref: item.$ref } } : { response: response(item) } };
      }),
    };
  }
  const extensions = vendorExtensions(node);
  if (extensions.length > 0) out.vendorExtension = extensions;
  return out;
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch'];

function pathItem(node: Json): Json {
  const out: Json = {};
  if (typeof node.$ref === 'string') out._ref = node.$ref;
  for (const method of METHODS) if (isObject(node[method])) out[method] = operation(node[method] as Json);
  if (Array.isArray(node.parameters)) out.parameters = node.parameters.filter(isObject).map(parametersItem);
  const extensions = vendorExtensions(node);
  if (extensions.length > 0) out.vendorExtension = extensions;
  return out;
}

/** Converts a swagger 2.0 document (parsed JSON) to the gnostic openapi.v2.Document bytes. */
export function swaggerToGnosticProtobuf(document: Json): Buffer {
  const out: Json = { swagger: String(document.swagger ?? '2.0') };
  if (isObject(document.info)) out.info = { title: document.info.title ?? '', version: document.info.version ?? '' };
  for (const key of ['host', 'basePath']) if (typeof document[key] === 'string') out[key] = document[key];
  for (const key of ['schemes', 'consumes', 'produces']) if (Array.isArray(document[key])) out[key] = (document[key] as unknown[]).map(String);
  if (isObject(document.paths)) {
    out.paths = { path: Object.entries(document.paths).filter(([, value]) => isObject(value)).map(([name, value]) => ({ name, value: pathItem(value as Json) })) };
  }
  if (isObject(document.definitions)) out.definitions = { additionalProperties: namedSchemas(document.definitions) };
  if (isObject(document.parameters)) {
    out.parameters = { additionalProperties: Object.entries(document.parameters).filter(([, value]) => isObject(value)).map(([name, value]) => ({ name, value: parameter(value as Json) })) };
  }
  if (isObject(document.responses)) {
    out.responses = { additionalProperties: Object.entries(document.responses).filter(([, value]) => isObject(value)).map(([name, value]) => ({ name, value: response(value as Json) })) };
  }
  if (isObject(document.securityDefinitions)) {
    out.securityDefinitions = {
      additionalProperties: Object.entries(document.securityDefinitions).filter(([, value]) => isObject(value) && (value as Json).type === 'apiKey').map(([name, value]) => {
        const item = value as Json;
        return { name, value: { apiKeySecurity: { type: item.type, name: item.name, in: item.in, description: item.description ?? '' } } };
      }),
    };
  }
  if (Array.isArray(document.security)) {
    out.security = document.security.filter(isObject).map((requirement) => ({
      additionalProperties: Object.entries(requirement).map(([name, scopes]) => ({ name, value: { value: Array.isArray(scopes) ? scopes.map(String) : [] } })),
    }));
  }
  const extensions = vendorExtensions(document);
  if (extensions.length > 0) out.vendorExtension = extensions;
  const type = gnosticDocumentType();
  return Buffer.from(type.encode(type.fromObject(out)).finish());
}

/** Decodes the bytes back (tests). */
export function decodeGnosticDocument(bytes: Uint8Array): Json {
  const type = gnosticDocumentType();
  return type.toObject(type.decode(bytes), { longs: Number, defaults: false }) as Json;
}
