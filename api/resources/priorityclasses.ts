// scheduling.k8s.io/v1 PriorityClass (cluster-scoped): the value a pod's spec.priorityClassName resolves to
// (the Priority admission plugin, api/admission-plugins/priority.ts). Validation worded as
// pkg/apis/scheduling/validation (reserved `system-` names, the user-definable maximum, immutable value
// and preemptionPolicy), defaulting as SetDefaults_PriorityClass, Table as printPriorityClass.

import { forbiddenField, invalidField, notSupportedField, requiredField, type FieldError } from '../errors.ts';
import type { KubeObject } from '../object.ts';
import type { ResourceStrategy, TableColumnDefinition } from '../resource.ts';
import { FIELD_IMMUTABLE_MESSAGE } from '../validation/object-meta.ts';
import { nameIsDNSSubdomain } from '../validation/names.ts';
import { age, ageColumn, column, nameColumn } from './printing.ts';

export const SYSTEM_PRIORITY_CLASS_PREFIX = 'system-';
/** scheduling.HighestUserDefinablePriority. */
export const HIGHEST_USER_DEFINABLE_PRIORITY = 1_000_000_000;
/** scheduling.SystemCriticalPriority. */
export const SYSTEM_CRITICAL_PRIORITY = 2 * HIGHEST_USER_DEFINABLE_PRIORITY;
export const PREEMPTION_POLICIES = ['PreemptLowerPriority', 'Never'];

export interface SystemPriorityClass {
  name: string;
  value: number;
  description: string;
}

/** The classes kube-apiserver creates at bootstrap (scheduling.SystemPriorityClasses), node-critical first as upstream lists them. */
export const SYSTEM_PRIORITY_CLASSES: readonly SystemPriorityClass[] = [
  {
    name: 'system-node-critical',
    value: SYSTEM_CRITICAL_PRIORITY + 1000,
    description: 'Used for system critical pods that must not be moved from their current node.',
  },
  {
    name: 'system-cluster-critical',
    value: SYSTEM_CRITICAL_PRIORITY,
    description: 'Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.',
  },
];

export function systemPriorityClassObject(pc: SystemPriorityClass): KubeObject {
  return {
    apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass',
    metadata: { name: pc.name }, value: pc.value, description: pc.description, preemptionPolicy: 'PreemptLowerPriority',
  };
}

/** IsKnownSystemPriorityClass: the error text after "error: ", or undefined when the class is one of the system classes. */
function systemPriorityClassError(name: string, value: unknown, globalDefault: boolean): string | undefined {
  const known = SYSTEM_PRIORITY_CLASSES.find((pc) => pc.name === name);
  if (!known) return `${name} is not a known system priority class`;
  if (known.value !== value) return `value of ${known.name} PriorityClass must be ${known.value}`;
  if (globalDefault) return `globalDefault of ${known.name} PriorityClass must be false`;
  return undefined;
}

function validatePriorityClass(pc: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const name = pc.metadata.name ?? '';
  if (typeof pc.value !== 'number') errs.push(requiredField('value'));
  if (name.startsWith(SYSTEM_PRIORITY_CLASS_PREFIX)) {
    const why = systemPriorityClassError(name, pc.value, pc.globalDefault === true);
    if (why) errs.push(forbiddenField('metadata.name', `priority class names with '${SYSTEM_PRIORITY_CLASS_PREFIX}' prefix are reserved for system use only. error: ${why}`));
  } else if (typeof pc.value === 'number' && pc.value > HIGHEST_USER_DEFINABLE_PRIORITY) {
    errs.push(forbiddenField('value', `maximum allowed value of a user defined priority is ${HIGHEST_USER_DEFINABLE_PRIORITY}`));
  }
  const policy = pc.preemptionPolicy;
  if (policy === '') errs.push(requiredField('preemptionPolicy'));
  else if (policy !== undefined && !PREEMPTION_POLICIES.includes(String(policy))) errs.push(notSupportedField('preemptionPolicy', policy, PREEMPTION_POLICIES));
  return errs;
}

function validatePriorityClassUpdate(pc: KubeObject, old: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  if (pc.value !== old.value) errs.push(forbiddenField('value', 'may not be changed in an update.'));
  if (pc.preemptionPolicy !== old.preemptionPolicy) errs.push(invalidField('preemptionPolicy', pc.preemptionPolicy, FIELD_IMMUTABLE_MESSAGE));
  return errs;
}

function typedColumn(name: string, type: TableColumnDefinition['type'], description: string): TableColumnDefinition {
  return { ...column(name, description), type };
}

export const priorityClassStrategy: ResourceStrategy = {
  group: 'scheduling.k8s.io',
  version: 'v1',
  kind: 'PriorityClass',
  listKind: 'PriorityClassList',
  resource: 'priorityclasses',
  singular: 'priorityclass',
  shortNames: ['pc'],
  categories: [],
  namespaced: false,
  verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
  storageResource: 'priorityclasses',
  hasStatus: false,
  subresources: [],
  // The strategy sets generation 1 on create and never bumps it (there is no spec).
  tracksGeneration: false,

  prepareForCreate(pc) {
    pc.metadata.generation = 1;
  },
  applyDefaults(pc) {
    pc.preemptionPolicy ??= 'PreemptLowerPriority';
  },
  validateName: nameIsDNSSubdomain,
  validate: (pc) => validatePriorityClass(pc),
  validateUpdate: (pc, old) => [...validatePriorityClass(pc), ...validatePriorityClassUpdate(pc, old)],
  selectableFieldNames: [],
  table: {
    columns: [
      nameColumn(),
      typedColumn('Value', 'integer', 'value represents the integer value of this priority class. This is the actual priority that pods receive when they have the name of this class in their pod spec.'),
      typedColumn('Global-Default', 'boolean', 'globalDefault specifies whether this PriorityClass should be considered as the default priority for pods that do not have any priority class. Only one PriorityClass can be marked as `globalDefault`. However, if more than one PriorityClasses exists with their `globalDefault` field set to true, the smallest value of such global default PriorityClasses will be used as the default priority.'),
      ageColumn(),
      column('PreemptionPolicy', 'preemptionPolicy is the Policy for preempting pods with lower priority. One of Never, PreemptLowerPriority. Defaults to PreemptLowerPriority if unset.'),
    ],
    cells: (pc, now) => [
      pc.metadata.name ?? '',
      typeof pc.value === 'number' ? pc.value : 0,
      pc.globalDefault === true,
      age(pc.metadata.creationTimestamp, now),
      typeof pc.preemptionPolicy === 'string' ? pc.preemptionPolicy : '',
    ],
  },
};
