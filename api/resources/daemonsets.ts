// apps/v1 DaemonSet: SetDefaults_DaemonSet, ValidateDaemonSet*, printDaemonSet; status subresource.

import type { FieldError } from '../errors.ts';
import { forbiddenField, invalidField, notSupportedField, requiredField } from '../errors.ts';
import { isPlainObject, type KubeObject } from '../object.ts';
import type { ResourceStrategy } from '../resource.ts';
import { nameIsDNSSubdomain } from '../validation/names.ts';
import { applyPodTemplateDefaults } from './pod-defaults.ts';
import { age, ageColumn, column, nameColumn, obj } from './printing.ts';
import { formatLabelMap, formatLabelSelector, statusCount, templateContainerCells, wideTemplateColumns } from './workload-printing.ts';
import {
  intOrPercentValue, validateIntOrPercent, validateNonnegative, validateNotMoreThan100Percent,
  validateSelectorAndTemplate, validateSelectorUnchanged,
} from './workload-validation.ts';

type Json = Record<string, unknown>;

function specOf(object: KubeObject): Json {
  if (!isPlainObject(object.spec)) object.spec = {};
  return object.spec as Json;
}

export function applyDaemonSetDefaults(set: KubeObject): void {
  const spec = specOf(set);
  const strategy = (isPlainObject(spec.updateStrategy) ? spec.updateStrategy : (spec.updateStrategy = {})) as Json;
  strategy.type ??= 'RollingUpdate';
  if (strategy.type === 'RollingUpdate') {
    const rolling = (isPlainObject(strategy.rollingUpdate) ? strategy.rollingUpdate : (strategy.rollingUpdate = {})) as Json;
    rolling.maxUnavailable ??= 1;
    rolling.maxSurge ??= 0;
  }
  spec.revisionHistoryLimit ??= 10;
  applyPodTemplateDefaults(spec.template);
}

function validateDaemonSetSpec(spec: Json): FieldError[] {
  const errs = validateSelectorAndTemplate(spec, 'spec', 'daemonset', { restartAlways: true });
  errs.push(...validateNonnegative(spec.minReadySeconds, 'spec.minReadySeconds'));
  errs.push(...validateNonnegative(spec.revisionHistoryLimit, 'spec.revisionHistoryLimit'));
  const strategy = isPlainObject(spec.updateStrategy) ? spec.updateStrategy : {};
  if (strategy.type === 'RollingUpdate') {
    const rolling = strategy.rollingUpdate;
    if (!isPlainObject(rolling)) {
      errs.push(requiredField('spec.updateStrategy.rollingUpdate'));
    } else {
      errs.push(...validateIntOrPercent(rolling.maxUnavailable, 'spec.updateStrategy.rollingUpdate.maxUnavailable'));
      errs.push(...validateIntOrPercent(rolling.maxSurge, 'spec.updateStrategy.rollingUpdate.maxSurge'));
      errs.push(...validateNotMoreThan100Percent(rolling.maxUnavailable, 'spec.updateStrategy.rollingUpdate.maxUnavailable'));
      errs.push(...validateNotMoreThan100Percent(rolling.maxSurge, 'spec.updateStrategy.rollingUpdate.maxSurge'));
      const unavailable = intOrPercentValue(rolling.maxUnavailable);
      const surge = intOrPercentValue(rolling.maxSurge);
      if ((unavailable?.amount ?? 0) === 0 && (surge?.amount ?? 0) === 0) {
        errs.push(invalidField('spec.updateStrategy.rollingUpdate.maxUnavailable', rolling.maxUnavailable ?? 0, 'may not be 0 when `maxSurge` is 0'));
      }
      if ((unavailable?.amount ?? 0) !== 0 && (surge?.amount ?? 0) !== 0) {
        errs.push(invalidField('spec.updateStrategy.rollingUpdate.maxSurge', rolling.maxSurge, 'may not be set when maxUnavailable is non-zero'));
      }
    }
  } else if (strategy.type === 'OnDelete') {
    if (strategy.rollingUpdate !== undefined && strategy.rollingUpdate !== null) {
      errs.push(forbiddenField('spec.updateStrategy.rollingUpdate', "may not be specified when strategy `type` is 'OnDelete'"));
    }
  } else {
    errs.push(notSupportedField('spec.updateStrategy.type', strategy.type ?? '', ['OnDelete', 'RollingUpdate']));
  }
  return errs;
}

export const daemonSetStrategy: ResourceStrategy = {
  group: 'apps',
  version: 'v1',
  kind: 'DaemonSet',
  listKind: 'DaemonSetList',
  resource: 'daemonsets',
  singular: 'daemonset',
  shortNames: ['ds'],
  categories: ['all'],
  namespaced: true,
  verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
  storageResource: 'daemonsets',
  hasStatus: true,
  subresources: [],
  tracksGeneration: true,

  prepareForCreate(set) {
    set.status = { currentNumberScheduled: 0, desiredNumberScheduled: 0, numberMisscheduled: 0, numberReady: 0 };
  },
  applyDefaults: applyDaemonSetDefaults,
  validateName: nameIsDNSSubdomain,
  validate: (set) => validateDaemonSetSpec(specOf(set)),
  validateUpdate: (set, old) => [...validateDaemonSetSpec(specOf(set)), ...validateSelectorUnchanged(set, old)],
  validateStatusUpdate: (set) => {
    const status = obj(set, 'status') ?? {};
    return ['currentNumberScheduled', 'numberMisscheduled', 'desiredNumberScheduled', 'numberReady', 'observedGeneration',
      'updatedNumberScheduled', 'numberAvailable', 'numberUnavailable', 'collisionCount']
      .flatMap((name) => validateNonnegative(status[name], `status.${name}`));
  },
  selectableFieldNames: [],
  table: {
    columns: [
      nameColumn(),
      column('Desired', 'The total number of nodes that should be running the daemon pod (including nodes correctly running the daemon pod). More info: https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/'),
      column('Current', 'The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod. More info: https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/'),
      column('Ready', 'numberReady is the number of nodes that should be running the daemon pod and have one or more of the daemon pod running with a Ready Condition.'),
      column('Up-to-date', 'The total number of nodes that are running updated daemon pod'),
      column('Available', 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available (ready for at least spec.minReadySeconds)'),
      column('Node Selector', 'NodeSelector is a selector which must be true for the pod to fit on a node. Selector which must match a node\'s labels for the pod to be scheduled on that node. More info: https://kubernetes.io/docs/concepts/configuration/assign-pod-node/'),
      ageColumn(),
      ...wideTemplateColumns('A label query over pods that are managed by the daemon set. Must match in order to be controlled. It must match the pod template\'s labels. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors'),
    ],
    cells: (set, now) => [
      set.metadata.name ?? '',
      statusCount(set, 'desiredNumberScheduled'),
      statusCount(set, 'currentNumberScheduled'),
      statusCount(set, 'numberReady'),
      statusCount(set, 'updatedNumberScheduled'),
      statusCount(set, 'numberAvailable'),
      formatLabelMap(obj(set, 'spec', 'template', 'spec', 'nodeSelector')),
      age(set.metadata.creationTimestamp, now),
      ...templateContainerCells(obj(set, 'spec', 'template')),
      formatLabelSelector(obj(set, 'spec', 'selector')),
    ],
  },
};
