// A CustomResourceDefinition version turned into a ResourceStrategy at run time (no per-CRD code),
// as the apiextensions-apiserver's crdHandler builds a REST storage per served version: names and
// scope from the CRD, schema validation, pruning and defaulting from its structural schema, the
// status and scale subresources when declared, additionalPrinterColumns as the Table, and
// selectableFields for field selectors.

import { isDeepStrictEqual } from 'node:util';
import { StatusError, type FieldError } from '../errors.ts';
import { isPlainObject, type KubeObject } from '../object.ts';
import type { ResourceStrategy, SubresourceDefinition, TableColumnDefinition, TableCell, Verb } from '../resource.ts';
import { age, DESCRIPTIONS } from '../resources/printing.ts';
import { nameIsDNSSubdomain } from '../validation/names.ts';
import { JsonPath, printJsonValue } from './jsonpath.ts';
import { StructuralSchema } from './structural-schema.ts';
import type { ColumnDefinition, CrdVersion, CustomResourceDefinition } from './types.ts';

const ALL_VERBS: Verb[] = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

/** The x-kubernetes-validations of one schema, compiled: errors for an object (and its old self on update). */
export interface RuleSet {
  validate(object: KubeObject, old: KubeObject | undefined): FieldError[];
}

/** A CRD version's strategy plus what the serving layer needs beyond ResourceStrategy. */
export interface CustomResourceStrategy extends ResourceStrategy {
  crdName: string;
  crdUid: string;
  structural: StructuralSchema;
  scale?: { specReplicas: JsonPath; statusReplicas: JsonPath; labelSelector?: JsonPath };
  /** Set while the CRD is being deleted: creates are refused. */
  terminating: boolean;
}

function tableColumns(columns: ColumnDefinition[]): { definitions: TableColumnDefinition[]; paths: { path: JsonPath; type: string }[] } {
  const effective = columns.length > 0 ? columns : [{ name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp', description: DESCRIPTIONS.creationTimestamp }];
  return {
    definitions: [
      { name: 'Name', type: 'string', format: 'name', description: DESCRIPTIONS.name, priority: 0 },
      ...effective.map((c) => ({ name: c.name, type: c.type as TableColumnDefinition['type'], format: c.format ?? '', description: c.description ?? '', priority: c.priority ?? 0 })),
    ],
    paths: effective.map((c) => ({ path: new JsonPath(c.jsonPath), type: c.type })),
  };
}

/** apiextensions' cellForJSONValue: typed cells, dates as ages, anything unexpected as null. */
function cell(type: string, value: unknown, now: Date): TableCell {
  if (value === undefined || value === null) return null;
  switch (type) {
    case 'string': return printJsonValue(value);
    case 'integer': return typeof value === 'number' ? Math.trunc(value) : null;
    case 'number': return typeof value === 'number' ? value : null;
    case 'boolean': return typeof value === 'boolean' ? value : null;
    case 'date': return typeof value === 'string' ? (Number.isNaN(Date.parse(value)) ? '<invalid>' : age(value, now)) : null;
    default: return null;
  }
}

/**
 * conversion.strategy None (apiextensions-apiserver's nopConverter): an object stored through another
 * version of the CRD is the same object with this version's apiVersion, so a CRD whose storage version
 * changed still reads, patches and updates its older objects through every served version.
 */
function noneConversion(apiVersion: string): (objects: KubeObject[]) => Promise<KubeObject[]> {
  return (objects) => Promise.resolve(objects.map((object) => (object.apiVersion === apiVersion ? object : { ...object, apiVersion })));
}

export function customResourceStrategy(
  crd: CustomResourceDefinition, version: CrdVersion, rules: RuleSet | undefined,
  convert?: (objects: KubeObject[]) => Promise<KubeObject[]>,
): CustomResourceStrategy {
  const { group, names, scope } = crd.spec;
  const schema = version.schema?.openAPIV3Schema ?? { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
  const structural = new StructuralSchema(schema);
  const hasStatus = isPlainObject(version.subresources?.status);
  const scaleSpec = version.subresources?.scale;
  const subresources: SubresourceDefinition[] = scaleSpec
    ? [{ name: 'scale', kind: 'Scale', group: 'autoscaling', version: 'v1', verbs: ['get', 'patch', 'update'] }]
    : [];
  const columns = tableColumns(version.additionalPrinterColumns ?? []);
  const selectable = (version.selectableFields ?? []).map((f) => ({ name: f.jsonPath.replace(/^\./, ''), path: new JsonPath(f.jsonPath) }));
  const kind = names.kind;

  const validate = (object: KubeObject, old: KubeObject | undefined): FieldError[] => {
    const errors = structural.validate(object);
    if (errors.length === 0 && rules) errors.push(...rules.validate(object, old));
    return errors;
  };

  const strategy: CustomResourceStrategy = {
    crdName: crd.metadata.name ?? '',
    crdUid: crd.metadata.uid ?? '',
    structural,
    terminating: false,
    group,
    version: version.name,
    kind,
    listKind: names.listKind ?? `${kind}List`,
    resource: names.plural,
    singular: names.singular ?? kind.toLowerCase(),
    shortNames: [...(names.shortNames ?? [])],
    categories: [...(names.categories ?? [])],
    namespaced: scope === 'Namespaced',
    verbs: ALL_VERBS,
    storageResource: `${group}/${names.plural}`,
    hasStatus,
    subresources,
    tracksGeneration: true,
    schema: structural.node,
    acceptsStrategicMergePatch: false,
    // Without a conversion webhook, conversion is `None` (the nopConverter): only apiVersion changes.
    convert: convert ?? noneConversion(`${group}/${version.name}`),
    scale: scaleSpec ? {
      specReplicas: new JsonPath(scaleSpec.specReplicasPath),
      statusReplicas: new JsonPath(scaleSpec.statusReplicasPath),
      labelSelector: scaleSpec.labelSelectorPath ? new JsonPath(scaleSpec.labelSelectorPath) : undefined,
    } : undefined,

    prepareForCreate(object) {
      if (strategy.terminating) throw new StatusError(405, 'MethodNotAllowed', 'create not allowed while custom resource definition is terminating');
      if (hasStatus) delete object.status;
    },
    applyDefaults: (object) => structural.applyDefaults(object as Record<string, unknown>),
    defaultOnRead: (object) => {
      if (!structural.hasDefaults) return object;
      const copy = structuredClone(object);
      structural.applyDefaults(copy as Record<string, unknown>);
      return isDeepStrictEqual(copy, object) ? object : copy;
    },
    pruneUnknownFields: (object) => structural.prune(object as Record<string, unknown>),
    validateName: nameIsDNSSubdomain,
    validate: (object) => validate(object, undefined),
    validateUpdate: (object, old) => validate(object, old),
    validateStatusUpdate: (object, old) => validate(object, old),
    selectableFieldNames: selectable.map((s) => s.name),
    selectableFields: (object) => {
      const fields: Record<string, string> = {};
      for (const s of selectable) {
        const value = s.path.first(object);
        fields[s.name] = value === undefined || value === null ? '' : printJsonValue(value);
      }
      return fields;
    },
    table: {
      columns: columns.definitions,
      cells: (object, now) => [object.metadata.name ?? '', ...columns.paths.map(({ path, type }) => cell(type, path.first(object), now))],
    },
  };
  return strategy;
}
