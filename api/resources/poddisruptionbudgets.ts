// policy/v1 PodDisruptionBudget: ValidatePodDisruptionBudget*, printPodDisruptionBudget; status
// subresource (written by the disruption controller, read by the pods/eviction subresource).

import type { FieldError } from '../errors.ts';
import { invalidField, notSupportedField } from '../errors.ts';
import { isPlainObject, type KubeObject } from '../object.ts';
import type { ResourceStrategy } from '../resource.ts';
import { nameIsDNSSubdomain } from '../validation/names.ts';
import { age, ageColumn, column, field, nameColumn, obj } from './printing.ts';
import { statusCount } from './workload-printing.ts';
import {
  labelSelectorIsValid, validateIntOrPercent, validateLabelSelector, validateNotMoreThan100Percent, type LabelSelectorValidationOptions,
} from './workload-validation.ts';

type Json = Record<string, unknown>;

function specOf(object: KubeObject): Json {
  if (!isPlainObject(object.spec)) object.spec = {};
  return object.spec as Json;
}

function validatePdbSpec(spec: Json, selectorOptions: LabelSelectorValidationOptions = {}): FieldError[] {
  const errs: FieldError[] = [];
  if (spec.minAvailable !== undefined && spec.maxUnavailable !== undefined) {
    errs.push(invalidField('spec', spec, 'minAvailable and maxUnavailable cannot be both set'));
  }
  errs.push(...validateIntOrPercent(spec.minAvailable, 'spec.minAvailable'));
  errs.push(...validateNotMoreThan100Percent(spec.minAvailable, 'spec.minAvailable'));
  errs.push(...validateIntOrPercent(spec.maxUnavailable, 'spec.maxUnavailable'));
  errs.push(...validateNotMoreThan100Percent(spec.maxUnavailable, 'spec.maxUnavailable'));
  errs.push(...validateLabelSelector(spec.selector, 'spec.selector', selectorOptions));
  const policy = spec.unhealthyPodEvictionPolicy;
  const policies = ['AlwaysAllow', 'IfHealthyBudget'];
  if (policy !== undefined && !policies.includes(String(policy))) errs.push(notSupportedField('spec.unhealthyPodEvictionPolicy', policy, policies));
  return errs;
}

function intOrStringText(value: unknown): string {
  return value === undefined || value === null ? 'N/A' : String(value);
}

export const podDisruptionBudgetStrategy: ResourceStrategy = {
  group: 'policy',
  version: 'v1',
  kind: 'PodDisruptionBudget',
  listKind: 'PodDisruptionBudgetList',
  resource: 'poddisruptionbudgets',
  singular: 'poddisruptionbudget',
  shortNames: ['pdb'],
  categories: [],
  namespaced: true,
  verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
  storageResource: 'poddisruptionbudgets',
  hasStatus: true,
  subresources: [],
  tracksGeneration: true,

  prepareForCreate(pdb) {
    pdb.status = { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 };
  },
  validateName: nameIsDNSSubdomain,
  validate: (pdb) => validatePdbSpec(specOf(pdb)),
  // hasInvalidLabelValueInLabelSelector(old): a budget stored with such selector values may keep them.
  validateUpdate: (pdb, old) => validatePdbSpec(specOf(pdb), { allowInvalidLabelValueInSelector: !labelSelectorIsValid(obj(old, 'spec', 'selector')) }),
  validateStatusUpdate: (pdb) => {
    const status = obj(pdb, 'status') ?? {};
    return ['disruptionsAllowed', 'currentHealthy', 'desiredHealthy', 'expectedPods']
      .filter((name) => typeof status[name] === 'number' && (status[name] as number) < 0)
      .map((name) => invalidField(`status.${name}`, status[name], 'must be greater than or equal to 0'));
  },
  selectableFieldNames: [],
  table: {
    columns: [
      nameColumn(),
      column('Min Available', 'The minimum number of pods that must be available simultaneously.  This can be either an integer or percentage.'),
      column('Max Unavailable', 'The maximum number of pods that may be unavailable simultaneously.  This can be either an integer or percentage.'),
      column('Allowed Disruptions', 'Calculated number of pods that may be disrupted at this time.'),
      ageColumn(),
    ],
    cells: (pdb, now) => [
      pdb.metadata.name ?? '',
      intOrStringText(field(pdb, 'spec', 'minAvailable')),
      intOrStringText(field(pdb, 'spec', 'maxUnavailable')),
      statusCount(pdb, 'disruptionsAllowed'),
      age(pdb.metadata.creationTimestamp, now),
    ],
  },
};
