// Validation of apiextensions.k8s.io/v1 CustomResourceDefinitions, after
// k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/validation and the structural-schema rules
// of pkg/apiserver/schema (v1 CRDs must have structural schemas, so violations are errors here,
// with upstream's field paths and wording).

import { duplicateField, forbiddenField, invalidField, notSupportedField, requiredField, type FieldError } from '../errors.ts';
import { isPlainObject } from '../object.ts';
import { isDNS1035Label, isDNS1123Subdomain } from '../validation/names.ts';
import {
  isConditionTrue, storageVersionOf, type CrdNames, type CrdVersion, type CustomResourceDefinition, type JSONSchemaProps,
} from '../customresources/types.ts';
import { compileValidationRules } from '../customresources/validation-rules.ts';

const COLUMN_TYPES = ['integer', 'number', 'string', 'boolean', 'date'];
const SCHEMA_TYPES = ['array', 'boolean', 'integer', 'number', 'object', 'string'];

export function validateCrdNames(names: Partial<CrdNames> | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!names) return errs;
  const label = (value: string | undefined, field: string, mixedCase = false): void => {
    if (!value) return;
    const problems = isDNS1035Label(mixedCase ? value.toLowerCase() : value);
    if (problems.length) errs.push(invalidField(`${path}.${field}`, value, (mixedCase ? 'may have mixed case, but should otherwise match: ' : '') + problems.join(',')));
  };
  label(names.plural, 'plural');
  label(names.singular, 'singular');
  label(names.kind, 'kind', true);
  label(names.listKind, 'listKind', true);
  (names.shortNames ?? []).forEach((short, i) => {
    const problems = isDNS1035Label(short);
    if (problems.length) errs.push(invalidField(`${path}.shortNames[${i}]`, short, problems.join(',')));
  });
  if (names.kind && names.kind === names.listKind) errs.push(invalidField(`${path}.listKind`, names.listKind, 'kind and listKind may not be the same'));
  (names.categories ?? []).forEach((category, i) => {
    const problems = isDNS1035Label(category);
    if (problems.length) errs.push(invalidField(`${path}.categories[${i}]`, category, problems.join(',')));
  });
  return errs;
}

export function validateCrdSpec(crd: CustomResourceDefinition): FieldError[] {
  const spec = crd.spec;
  const errs: FieldError[] = [];
  if (!spec.group) errs.push(requiredField('spec.group'));
  else {
    const problems = isDNS1123Subdomain(spec.group);
    if (problems.length) errs.push(invalidField('spec.group', spec.group, problems.join(',')));
    else if (spec.group.split('.').length < 2) errs.push(invalidField('spec.group', spec.group, 'should be a domain with at least one dot'));
  }
  if (!spec.scope) errs.push(requiredField('spec.scope'));
  else if (spec.scope !== 'Cluster' && spec.scope !== 'Namespaced') errs.push(notSupportedField('spec.scope', spec.scope, ['Cluster', 'Namespaced']));

  const versions = spec.versions;
  if (versions.length === 0) errs.push(requiredField('spec.versions', 'must have exactly one version marked as storage version'));
  const seen = new Set<string>();
  versions.forEach((version, i) => {
    const path = `spec.versions[${i}]`;
    if (seen.has(version.name)) errs.push(duplicateField(`${path}.name`, version.name));
    seen.add(version.name);
    const problems = isDNS1035Label(version.name ?? '');
    if (problems.length) errs.push(invalidField(`${path}.name`, version.name, problems.join(',')));
    errs.push(...validateVersion(version, path));
  });
  if (versions.length > 0 && versions.filter((v) => v.storage).length !== 1) {
    errs.push(invalidField('spec.versions', versions, 'must have exactly one version marked as storage version'));
  }
  if (versions.length > 0 && !versions.some((v) => v.served)) {
    errs.push(invalidField('spec.versions', versions, 'must have at least one version marked as served'));
  }
  const names = spec.names;
  if (!names.plural) errs.push(requiredField('spec.names.plural'));
  if (!names.singular) errs.push(requiredField('spec.names.singular'));
  if (!names.kind) errs.push(requiredField('spec.names.kind'));
  if (!names.listKind) errs.push(requiredField('spec.names.listKind'));
  errs.push(...validateCrdNames(names, 'spec.names'));

  const conversion = spec.conversion;
  if (conversion) {
    if (conversion.strategy !== 'None' && conversion.strategy !== 'Webhook') {
      errs.push(notSupportedField('spec.conversion.strategy', conversion.strategy, ['None', 'Webhook']));
    } else if (conversion.strategy === 'Webhook') {
      const config = conversion.webhook?.clientConfig;
      if (!conversion.webhook) errs.push(requiredField('spec.conversion.webhook', 'required when strategy is set to Webhook'));
      else if (!config) errs.push(requiredField('spec.conversion.webhook.clientConfig', 'required when strategy is set to Webhook'));
      else if (!config.url === !config.service) errs.push(requiredField('spec.conversion.webhook.clientConfig', 'exactly one of url or service is required'));
      if (conversion.webhook && !(conversion.webhook.conversionReviewVersions ?? []).includes('v1')) {
        errs.push(invalidField('spec.conversion.webhook.conversionReviewVersions', conversion.webhook.conversionReviewVersions ?? [], 'must include at least one of v1, v1beta1'));
      }
    } else if (conversion.webhook?.clientConfig) {
      errs.push(forbiddenField('spec.conversion.webhook', 'should not be set when strategy is not set to Webhook'));
    }
  }
  if (spec.preserveUnknownFields === true) errs.push(invalidField('spec.preserveUnknownFields', true, 'cannot set to true, set x-kubernetes-preserve-unknown-fields to true in spec.versions[*].schema instead'));
  return errs;
}

function validateVersion(version: CrdVersion, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const schema = version.schema?.openAPIV3Schema;
  if (!schema) errs.push(requiredField(`${path}.schema.openAPIV3Schema`, 'schemas are required'));
  else {
    const schemaPath = `${path}.schema.openAPIV3Schema`;
    errs.push(...validateSchemaProps(schema, schemaPath));
    errs.push(...validateStructural(schema, schemaPath, 'root'));
    if (errs.length === 0 && schema.properties?.metadata) errs.push(...validateMetadataSchema(schema.properties.metadata, `${schemaPath}.properties[metadata]`));
    if (errs.length === 0) errs.push(...compileValidationRules(schema, schemaPath).errors);
  }
  (version.additionalPrinterColumns ?? []).forEach((column, j) => {
    const colPath = `${path}.additionalPrinterColumns[${j}]`;
    if (!column.name) errs.push(requiredField(`${colPath}.name`));
    if (!column.type) errs.push(requiredField(`${colPath}.type`));
    else if (!COLUMN_TYPES.includes(column.type)) errs.push(notSupportedField(`${colPath}.type`, column.type, COLUMN_TYPES));
    if (!column.jsonPath) errs.push(requiredField(`${colPath}.jsonPath`));
    else if (!column.jsonPath.startsWith('.')) errs.push(invalidField(`${colPath}.jsonPath`, column.jsonPath, 'must be a simple json path starting with .'));
    if (column.priority !== undefined && column.priority < 0) errs.push(invalidField(`${colPath}.priority`, column.priority, 'must be a non-negative integer'));
  });
  const scale = version.subresources?.scale;
  if (scale) {
    const scalePath = `${path}.subresources.scale`;
    if (!scale.specReplicasPath) errs.push(requiredField(`${scalePath}.specReplicasPath`));
    else if (!scale.specReplicasPath.startsWith('.spec.')) errs.push(invalidField(`${scalePath}.specReplicasPath`, scale.specReplicasPath, 'should be a json path under .spec'));
    if (!scale.statusReplicasPath) errs.push(requiredField(`${scalePath}.statusReplicasPath`));
    else if (!scale.statusReplicasPath.startsWith('.status.')) errs.push(invalidField(`${scalePath}.statusReplicasPath`, scale.statusReplicasPath, 'should be a json path under .status'));
    if (scale.labelSelectorPath && !/^\.(spec|status)\./.test(scale.labelSelectorPath)) {
      errs.push(invalidField(`${scalePath}.labelSelectorPath`, scale.labelSelectorPath, 'should be a json path under either .spec or .status'));
    }
  }
  const selectable = version.selectableFields ?? [];
  if (selectable.length > 8) errs.push({ type: 'FieldValueTooMany', field: `${path}.selectableFields`, message: `Too many: ${selectable.length}: must have at most 8 items` });
  selectable.forEach((field, j) => {
    if (!field.jsonPath?.startsWith('.')) errs.push(invalidField(`${path}.selectableFields[${j}].jsonPath`, field.jsonPath, 'must be a simple json path starting with .'));
    else if (/^\.metadata\./.test(field.jsonPath)) errs.push(invalidField(`${path}.selectableFields[${j}].jsonPath`, field.jsonPath, 'must not select a metadata field'));
  });
  return errs;
}

/** specStandardValidatorV3 and the per-node checks of ValidateCustomResourceDefinitionOpenAPISchema. */
function validateSchemaProps(schema: JSONSchemaProps, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (schema.id) errs.push(forbiddenField(`${path}.id`, 'id is not supported'));
  if (schema.additionalItems !== undefined) errs.push(forbiddenField(`${path}.additionalItems`, 'additionalItems is not supported'));
  if (schema.patternProperties && Object.keys(schema.patternProperties).length) errs.push(forbiddenField(`${path}.patternProperties`, 'patternProperties is not supported'));
  if (schema.definitions !== undefined) errs.push(forbiddenField(`${path}.definitions`, 'definitions is not supported'));
  if (schema.dependencies !== undefined) errs.push(forbiddenField(`${path}.dependencies`, 'dependencies is not supported'));
  if (schema.$ref !== undefined) errs.push(forbiddenField(`${path}.$ref`, '$ref is not supported'));
  if (schema.type === 'null') errs.push(forbiddenField(`${path}.type`, 'type cannot be set to null, use nullable as an alternative'));
  else if (schema.type && !SCHEMA_TYPES.includes(schema.type)) errs.push(notSupportedField(`${path}.type`, schema.type, SCHEMA_TYPES));
  if (Array.isArray(schema.items)) errs.push(forbiddenField(`${path}.items`, 'items must be a schema object and not an array'));
  if (schema.uniqueItems === true) errs.push(forbiddenField(`${path}.uniqueItems`, 'uniqueItems cannot be set to true since the runtime complexity becomes quadratic'));
  if (schema['x-kubernetes-preserve-unknown-fields'] === false) errs.push(invalidField(`${path}.x-kubernetes-preserve-unknown-fields`, false, 'must be true or undefined'));
  if (schema.pattern !== undefined) {
    try {
      new RegExp(schema.pattern, 'u');
    } catch (err) {
      errs.push(invalidField(`${path}.pattern`, schema.pattern, `must be a valid regular expression, but isn't: ${(err as Error).message}`));
    }
  }
  const listType = schema['x-kubernetes-list-type'];
  if (listType !== undefined) {
    if (!['atomic', 'set', 'map'].includes(listType)) errs.push(notSupportedField(`${path}.x-kubernetes-list-type`, listType, ['atomic', 'set', 'map']));
    else if (schema.type !== 'array') errs.push(invalidField(`${path}.type`, schema.type ?? '', 'must be array if x-kubernetes-list-type is specified'));
    else if (listType === 'map') {
      const keys = schema['x-kubernetes-list-map-keys'] ?? [];
      const items = Array.isArray(schema.items) ? undefined : schema.items;
      if (keys.length === 0) errs.push(requiredField(`${path}.x-kubernetes-list-map-keys`, 'must not be empty if x-kubernetes-list-type is map'));
      if (items && items.type !== 'object') errs.push(invalidField(`${path}.items.type`, items.type ?? '', 'must be object if parent array\'s x-kubernetes-list-type is map'));
      for (const key of keys) {
        const keySchema = items?.properties?.[key];
        if (items && !keySchema) errs.push(invalidField(`${path}.x-kubernetes-list-map-keys`, keys, 'entries must all be names of item properties'));
        else if (keySchema && keySchema.default === undefined && !(items?.required ?? []).includes(key)) {
          errs.push(requiredField(`${path}.items.properties[${key}]`, 'all map keys must be required or have a default value'));
        }
      }
    }
  } else if (schema['x-kubernetes-list-map-keys'] !== undefined) {
    errs.push(forbiddenField(`${path}.x-kubernetes-list-map-keys`, 'must be empty if x-kubernetes-list-type is not map'));
  }
  const mapType = schema['x-kubernetes-map-type'];
  if (mapType !== undefined && !['atomic', 'granular'].includes(mapType)) errs.push(notSupportedField(`${path}.x-kubernetes-map-type`, mapType, ['atomic', 'granular']));
  if (isPlainObject(schema.additionalProperties)) {
    if (schema.properties && Object.keys(schema.properties).length) errs.push(forbiddenField(`${path}.additionalProperties`, 'additionalProperties and properties are mutual exclusive'));
    errs.push(...validateSchemaProps(schema.additionalProperties as JSONSchemaProps, `${path}.additionalProperties`));
  } else if (schema.additionalProperties === false && schema.properties && Object.keys(schema.properties).length) {
    errs.push(forbiddenField(`${path}.additionalProperties`, 'additionalProperties and properties are mutual exclusive'));
  }
  for (const [name, child] of Object.entries(schema.properties ?? {})) errs.push(...validateSchemaProps(child, `${path}.properties[${name}]`));
  if (isPlainObject(schema.items)) errs.push(...validateSchemaProps(schema.items as JSONSchemaProps, `${path}.items`));
  for (const key of ['allOf', 'anyOf', 'oneOf'] as const) {
    (schema[key] ?? []).forEach((child, i) => errs.push(...validateSchemaProps(child, `${path}.${key}[${i}]`)));
  }
  if (schema.not) errs.push(...validateSchemaProps(schema.not, `${path}.not`));
  return errs;
}

type Level = 'root' | 'item' | 'field';

/** Structural schema invariants (pkg/apiserver/schema/validation.go validateStructuralInvariants and friends). */
function validateStructural(schema: JSONSchemaProps, path: string, level: Level): FieldError[] {
  const errs: FieldError[] = [];
  const intOrString = schema['x-kubernetes-int-or-string'] === true;
  const preserve = schema['x-kubernetes-preserve-unknown-fields'] === true;
  const embedded = schema['x-kubernetes-embedded-resource'] === true;
  if (schema.type === 'array' && !schema.items) errs.push(requiredField(`${path}.items`, 'must be specified'));
  if (isPlainObject(schema.items)) errs.push(...validateStructural(schema.items as JSONSchemaProps, `${path}.items`, 'item'));
  for (const [name, child] of Object.entries(schema.properties ?? {})) errs.push(...validateStructural(child, `${path}.properties[${name}]`, 'field'));
  if (isPlainObject(schema.additionalProperties)) errs.push(...validateStructural(schema.additionalProperties as JSONSchemaProps, `${path}.additionalProperties`, 'field'));
  if (intOrString && schema.type) errs.push(invalidField(`${path}.type`, schema.type, 'must be empty if x-kubernetes-int-or-string is true'));
  if (!schema.type && !intOrString && !preserve) {
    const detail = level === 'root' ? 'must not be empty at the root' : level === 'item' ? 'must not be empty for specified array items' : 'must not be empty for specified object fields';
    errs.push(requiredField(`${path}.type`, detail));
  }
  if (embedded && schema.type !== 'object') {
    if (!schema.type) errs.push(requiredField(`${path}.type`, 'must be object if x-kubernetes-embedded-resource is true'));
    else errs.push(invalidField(`${path}.type`, schema.type, 'must be object if x-kubernetes-embedded-resource is true'));
  }
  if (embedded && !preserve && Object.keys(schema.properties ?? {}).length === 0) {
    errs.push(requiredField(`${path}.properties`, 'must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields'));
  }
  if (level === 'root' && schema.type && schema.type !== 'object') errs.push(invalidField(`${path}.type`, schema.type, 'must be object at the root'));
  // Value validations (allOf, anyOf, oneOf, not) may not declare types or structure.
  for (const key of ['allOf', 'anyOf', 'oneOf'] as const) {
    (schema[key] ?? []).forEach((child, i) => errs.push(...forbidStructureInJunctor(child, `${path}.${key}[${i}]`)));
  }
  if (schema.not) errs.push(...forbidStructureInJunctor(schema.not, `${path}.not`));
  return errs;
}

function forbidStructureInJunctor(schema: JSONSchemaProps, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (schema.type) errs.push(forbiddenField(`${path}.type`, 'must be empty to be structural'));
  if (schema.default !== undefined) errs.push(forbiddenField(`${path}.default`, 'must be undefined to be structural'));
  if (schema.nullable) errs.push(forbiddenField(`${path}.nullable`, 'must be false to be structural'));
  if (schema['x-kubernetes-preserve-unknown-fields']) errs.push(forbiddenField(`${path}.x-kubernetes-preserve-unknown-fields`, 'must be false to be structural'));
  for (const [name, child] of Object.entries(schema.properties ?? {})) errs.push(...forbidStructureInJunctor(child, `${path}.properties[${name}]`));
  if (isPlainObject(schema.items)) errs.push(...forbidStructureInJunctor(schema.items as JSONSchemaProps, `${path}.items`));
  return errs;
}

/** metadata at the root may only restrict name and generateName (it is implicitly ObjectMeta). */
function validateMetadataSchema(metadata: JSONSchemaProps, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (metadata.type !== 'object') errs.push(invalidField(`${path}.type`, metadata.type ?? '', 'must be object'));
  const extra = Object.keys(metadata.properties ?? {}).filter((p) => p !== 'name' && p !== 'generateName');
  const notStrings = ['name', 'generateName'].filter((p) => metadata.properties?.[p] && metadata.properties[p].type !== 'string');
  if (extra.length || notStrings.length || metadata.required?.length || metadata.additionalProperties !== undefined) {
    errs.push(forbiddenField(path, 'must not specify anything other than name and generateName, but metadata is implicitly specified'));
  }
  return errs;
}

export function validateCrdStatus(crd: CustomResourceDefinition): FieldError[] {
  return validateCrdNames(crd.status?.acceptedNames, 'status.acceptedNames');
}

export function validateStoredVersions(crd: CustomResourceDefinition): FieldError[] {
  const stored = crd.status?.storedVersions ?? [];
  const errs: FieldError[] = [];
  if (stored.length === 0) return [invalidField('status.storedVersions', stored, 'must have at least one stored version')];
  const names = new Set(crd.spec.versions.map((v) => v.name));
  stored.forEach((v, i) => {
    if (!names.has(v)) errs.push(invalidField(`status.storedVersions[${i}]`, v, 'must appear in spec.versions'));
  });
  const storage = storageVersionOf(crd);
  if (storage && !stored.includes(storage)) errs.push(invalidField('status.storedVersions', stored, `must have the storage version ${storage}`));
  return errs;
}

export function validateCrdSpecUpdate(crd: CustomResourceDefinition, old: CustomResourceDefinition): FieldError[] {
  const errs = validateCrdSpec(crd);
  const immutable = (now: unknown, before: unknown, path: string): void => {
    if (now !== before) errs.push(invalidField(path, now, 'field is immutable'));
  };
  if (isConditionTrue(old, 'Established')) {
    immutable(crd.spec.scope, old.spec.scope, 'spec.scope');
    immutable(crd.spec.names.kind, old.spec.names.kind, 'spec.names.kind');
  }
  immutable(crd.spec.group, old.spec.group, 'spec.group');
  immutable(crd.spec.names.plural, old.spec.names.plural, 'spec.names.plural');
  return errs;
}
