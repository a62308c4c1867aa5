// flowcontrol.apiserver.k8s.io/v1 FlowSchema with /status: SetDefaults (matchingPrecedence 1000),
// status reset on create, ValidateFlowSchema (the mandatory exempt and catch-all schemas keep
// their fixed spec) and printFlowSchema, whose list is sorted by matching precedence then name.

import { isDeepStrictEqual } from 'node:util';
import { invalidField, type FieldError } from '../errors.ts';
import { isPlainObject, type KubeObject } from '../object.ts';
import type { ResourceStrategy } from '../resource.ts';
import { nameIsDNSSubdomain } from '../validation/names.ts';
import { SWAGGER_DOCS } from './column-descriptions.ts';
import { mandatorySpec } from './flowcontrol-bootstrap.ts';
import { validateConditions, validateFlowSchemaSpec } from './flowcontrol-validation.ts';
import { age, ageColumn, column, list, nameColumn, num, str } from './printing.ts';

function specOf(object: KubeObject): Record<string, unknown> {
  if (!isPlainObject(object.spec)) object.spec = {};
  return object.spec as Record<string, unknown>;
}

function validate(schema: KubeObject): FieldError[] {
  const name = schema.metadata.name ?? '';
  const spec = specOf(schema);
  const errs = validateFlowSchemaSpec(name, spec);
  const fixed = mandatorySpec('FlowSchema', name);
  if (fixed !== undefined && !isDeepStrictEqual(spec, fixed)) errs.push(invalidField('spec', spec, `spec of '${name}' must equal the fixed value`));
  return [...errs, ...validateConditions(schema.status)];
}

export const flowSchemaStrategy: ResourceStrategy = {
  group: 'flowcontrol.apiserver.k8s.io',
  version: 'v1',
  kind: 'FlowSchema',
  listKind: 'FlowSchemaList',
  resource: 'flowschemas',
  singular: 'flowschema',
  shortNames: [],
  categories: [],
  namespaced: false,
  verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
  storageResource: 'flowschemas',
  hasStatus: true,
  subresources: [],
  tracksGeneration: true,

  prepareForCreate(schema) {
    schema.status = {};
  },
  applyDefaults(schema) {
    const spec = specOf(schema);
    if (spec.matchingPrecedence === undefined || spec.matchingPrecedence === 0) spec.matchingPrecedence = 1000;
  },
  validateName: nameIsDNSSubdomain,
  validate,
  validateUpdate: (schema) => validate(schema),
  validateStatusUpdate: (schema) => validateConditions(schema.status),
  selectableFieldNames: [],
  table: {
    columns: [
      nameColumn(),
      column('PriorityLevel', SWAGGER_DOCS['PriorityLevelConfigurationReference.name']),
      column('MatchingPrecedence', SWAGGER_DOCS['FlowSchemaSpec.matchingPrecedence']),
      column('DistinguisherMethod', SWAGGER_DOCS['FlowSchemaSpec.distinguisherMethod']),
      ageColumn(),
      column('MissingPL', 'references a broken or non-existent PriorityLevelConfiguration'),
    ],
    // FlowSchemaSequence: by matching precedence, then by name.
    order: (schemas) => [...schemas].sort((a, b) => ((num(a, 'spec', 'matchingPrecedence') ?? 0) - (num(b, 'spec', 'matchingPrecedence') ?? 0))
      || String(a.metadata.name).localeCompare(String(b.metadata.name))),
    cells: (schema, now) => {
      const dangling = list(schema, 'status', 'conditions').find((condition) => condition.type === 'Dangling');
      return [
        schema.metadata.name ?? '', str(schema, 'spec', 'priorityLevelConfiguration', 'name'), num(schema, 'spec', 'matchingPrecedence') ?? 0,
        str(schema, 'spec', 'distinguisherMethod', 'type') || '<none>', age(schema.metadata.creationTimestamp, now),
        dangling ? str(dangling, 'status') : '?',
      ];
    },
  },
};
