// flowcontrol.apiserver.k8s.io/v1 PriorityLevelConfiguration with /status: SetDefaults (limited
// shares 30, lendablePercent 0, queues 64, handSize 8, queueLengthLimit 50; an Exempt level gets
// its exempt block), status reset on create, ValidatePriorityLevelConfiguration (the mandatory
// catch-all level keeps its fixed spec) and printPriorityLevelConfiguration.

import { isDeepStrictEqual } from 'node:util';
import { invalidField, type FieldError } from '../errors.ts';
import { isPlainObject, type KubeObject } from '../object.ts';
import type { ResourceStrategy } from '../resource.ts';
import { nameIsDNSSubdomain } from '../validation/names.ts';
import { SWAGGER_DOCS } from './column-descriptions.ts';
import { mandatorySpec } from './flowcontrol-bootstrap.ts';
import { validateConditions, validatePriorityLevelSpec } from './flowcontrol-validation.ts';
import { age, ageColumn, column, field, nameColumn, obj, str } from './printing.ts';

type Json = Record<string, unknown>;

function specOf(object: KubeObject): Json {
  if (!isPlainObject(object.spec)) object.spec = {};
  return object.spec as Json;
}

export function applyPriorityLevelDefaults(level: KubeObject): void {
  const spec = specOf(level);
  if (spec.type === 'Exempt') {
    if (!isPlainObject(spec.exempt)) spec.exempt = {};
    const exempt = spec.exempt as Json;
    exempt.nominalConcurrencyShares ??= 0;
    exempt.lendablePercent ??= 0;
  }
  if (isPlainObject(spec.limited)) {
    const limited = spec.limited;
    limited.nominalConcurrencyShares ??= 30;
    limited.lendablePercent ??= 0;
    const queuing = isPlainObject(limited.limitResponse) && isPlainObject(limited.limitResponse.queuing) ? limited.limitResponse.queuing : undefined;
    if (queuing) {
      if (!queuing.handSize) queuing.handSize = 8;
      if (!queuing.queues) queuing.queues = 64;
      if (!queuing.queueLengthLimit) queuing.queueLengthLimit = 50;
    }
  }
}

function validate(level: KubeObject): FieldError[] {
  const name = level.metadata.name ?? '';
  const spec = specOf(level);
  const errs = validatePriorityLevelSpec(name, spec);
  // The exempt level's exempt block may be tuned; catch-all is fixed.
  const fixed = name === 'catch-all' ? mandatorySpec('PriorityLevelConfiguration', name) : undefined;
  if (fixed !== undefined && !isDeepStrictEqual(spec, fixed)) errs.push(invalidField('spec', spec, `spec of '${name}' must equal the fixed value`));
  return [...errs, ...validateConditions(level.status)];
}

const cell = (value: unknown): string | number => (typeof value === 'number' ? value : '<none>');

export const priorityLevelConfigurationStrategy: ResourceStrategy = {
  group: 'flowcontrol.apiserver.k8s.io',
  version: 'v1',
  kind: 'PriorityLevelConfiguration',
  listKind: 'PriorityLevelConfigurationList',
  resource: 'prioritylevelconfigurations',
  singular: 'prioritylevelconfiguration',
  shortNames: [],
  categories: [],
  namespaced: false,
  verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
  storageResource: 'prioritylevelconfigurations',
  hasStatus: true,
  subresources: [],
  tracksGeneration: true,

  prepareForCreate(level) {
    level.status = {};
  },
  applyDefaults: applyPriorityLevelDefaults,
  validateName: nameIsDNSSubdomain,
  validate,
  validateUpdate: (level) => validate(level),
  validateStatusUpdate: (level) => validateConditions(level.status),
  selectableFieldNames: [],
  table: {
    columns: [
      nameColumn(),
      column('Type', SWAGGER_DOCS['PriorityLevelConfigurationSpec.type']),
      column('NominalConcurrencyShares', SWAGGER_DOCS['LimitedPriorityLevelConfiguration.nominalConcurrencyShares']),
      column('Queues', SWAGGER_DOCS['QueuingConfiguration.queues']),
      column('HandSize', SWAGGER_DOCS['QueuingConfiguration.handSize']),
      column('QueueLengthLimit', SWAGGER_DOCS['QueuingConfiguration.queueLengthLimit']),
      ageColumn(),
    ],
    cells: (level, now) => {
      const limited = obj(level, 'spec', 'limited');
      const queuing = obj(limited, 'limitResponse', 'queuing');
      return [
        level.metadata.name ?? '', str(level, 'spec', 'type'), limited ? cell(field(limited, 'nominalConcurrencyShares') ?? 0) : '<none>',
        queuing ? cell(queuing.queues) : '<none>', queuing ? cell(queuing.handSize) : '<none>', queuing ? cell(queuing.queueLengthLimit) : '<none>',
        age(level.metadata.creationTimestamp, now),
      ];
    },
  },
};
