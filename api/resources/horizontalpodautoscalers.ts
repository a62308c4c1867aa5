// autoscaling HorizontalPodAutoscaler, served as autoscaling/v2 (the storage version, preferred) and autoscaling/v1
// (converted at the storage boundary, hpa-conversion.ts), with the status subresource. Defaulting is
// pkg/apis/autoscaling/v2/defaults.go (minReplicas 1, an 80 % CPU target when no metric is given, behavior's unset
// fields filled from the defaults once a behavior is given), validation hpa-validation.ts, and the table
// printHorizontalPodAutoscaler (NAME REFERENCE TARGETS MINPODS MAXPODS REPLICAS AGE). The scaling itself is the
// horizontal pod autoscaler controller's (controllers/podautoscaler/).

import type { KubeObject } from '../object.ts';
import { isPlainObject } from '../object.ts';
import type { ResourceStrategy } from '../resource.ts';
import { nameIsDNSSubdomain } from '../validation/names.ts';
import { DEFAULT_CPU_UTILIZATION, hpaV1ToV2, hpaV2ToV1 } from './hpa-conversion.ts';
import { validateHpaSpec, validateHpaStatus } from './hpa-validation.ts';
import { age, ageColumn, column, list, nameColumn, num, obj } from './printing.ts';

type Json = Record<string, unknown>;

function specOf(object: KubeObject): Json {
  if (!isPlainObject(object.spec)) object.spec = {};
  return object.spec as Json;
}

/** GenerateHPAScaleUpRules / GenerateHPAScaleDownRules: the given fields over the defaults. */
function scalingRules(given: unknown, up: boolean): Json {
  const defaults: Json = up
    ? {
      stabilizationWindowSeconds: 0, selectPolicy: 'Max',
      policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }],
    }
    : { selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] };
  if (!isPlainObject(given)) return defaults;
  const rules = given as Json;
  return {
    ...defaults,
    ...(rules.selectPolicy !== undefined ? { selectPolicy: rules.selectPolicy } : {}),
    ...(rules.stabilizationWindowSeconds !== undefined ? { stabilizationWindowSeconds: rules.stabilizationWindowSeconds } : {}),
    ...(rules.policies !== undefined && rules.policies !== null ? { policies: rules.policies } : {}),
  };
}

export function applyHpaV2Defaults(hpa: KubeObject): void {
  const spec = specOf(hpa);
  spec.minReplicas ??= 1;
  if (!Array.isArray(spec.metrics) || spec.metrics.length === 0) {
    spec.metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: DEFAULT_CPU_UTILIZATION } } }];
  }
  if (isPlainObject(spec.behavior)) {
    const behavior = spec.behavior as Json;
    spec.behavior = { scaleUp: scalingRules(behavior.scaleUp, true), scaleDown: scalingRules(behavior.scaleDown, false) };
  }
}

function minReplicasLowerBound(old: KubeObject | undefined): number {
  return old !== undefined && isPlainObject(old.spec) && (old.spec as Json).minReplicas === 0 ? 0 : 1;
}

function quantityText(value: unknown): string {
  return typeof value === 'number' ? String(value) : typeof value === 'string' ? value : '<unknown>';
}

/** formatHPAMetrics (1.32): `cpu: 42%/50%`, `<unknown>` before the controller has measured; two shown, then `+ N more...`. */
export function formatHpaMetrics(specs: Json[], statuses: Json[]): string {
  if (specs.length === 0) return '<none>';
  const shown: string[] = [];
  specs.forEach((spec, i) => {
    const status = statuses[i];
    // The status entry at the same index, when it is of the same source (upstream indexes statuses by position).
    const current = (source: string): Json | undefined => (obj(status, source) ? obj(status, source, 'current') ?? {} : undefined);
    switch (spec.type) {
      case 'External':
      case 'Object': {
        const source = spec.type === 'External' ? 'external' : 'object';
        const target = obj(spec, source, 'target') ?? {};
        const now = current(source);
        if (target.averageValue !== undefined) {
          shown.push(`${now?.averageValue !== undefined ? quantityText(now.averageValue) : '<unknown>'}/${quantityText(target.averageValue)} (avg)`);
        } else {
          shown.push(`${now ? quantityText(now.value) : '<unknown>'}/${quantityText(target.value)}`);
        }
        break;
      }
      case 'Pods': {
        const now = current('pods');
        shown.push(`${now ? quantityText(now.averageValue) : '<unknown>'}/${quantityText(obj(spec, 'pods', 'target')?.averageValue)}`);
        break;
      }
      case 'Resource':
      case 'ContainerResource': {
        const source = spec.type === 'Resource' ? 'resource' : 'containerResource';
        const name = String(obj(spec, source)?.name ?? '');
        const target = obj(spec, source, 'target') ?? {};
        const now = current(source);
        if (target.averageValue !== undefined) {
          shown.push(`${name}: ${now ? quantityText(now.averageValue) : '<unknown>'}/${quantityText(target.averageValue)}`);
        } else {
          const currentText = typeof now?.averageUtilization === 'number' ? `${now.averageUtilization}%` : '<unknown>';
          const targetText = typeof target.averageUtilization === 'number' ? `${target.averageUtilization}%` : '<auto>';
          shown.push(`${name}: ${currentText}/${targetText}`);
        }
        break;
      }
      default:
        shown.push('<unknown type>');
    }
  });
  if (shown.length > 2) return `${shown.slice(0, 2).join(', ')} + ${shown.length - 2} more...`;
  return shown.join(', ');
}

function hpaCells(hpa: KubeObject, now: Date): (string | number)[] {
  const ref = obj(hpa, 'spec', 'scaleTargetRef') ?? {};
  const min = num(hpa, 'spec', 'minReplicas');
  return [
    hpa.metadata.name ?? '',
    `${String(ref.kind ?? '')}/${String(ref.name ?? '')}`,
    formatHpaMetrics(list(hpa, 'spec', 'metrics'), list(hpa, 'status', 'currentMetrics')),
    min === undefined ? '<unset>' : String(min),
    num(hpa, 'spec', 'maxReplicas') ?? 0,
    num(hpa, 'status', 'currentReplicas') ?? 0,
    age(hpa.metadata.creationTimestamp, now),
  ];
}

const HPA_COLUMNS = [
  nameColumn(),
  column('Reference', 'scaleTargetRef points to the target resource to scale, and is used to the pods for which metrics should be collected, as well as to actually change the replica count.'),
  column('Targets', 'metrics contains the specifications for which to use to calculate the desired replica count (the maximum replica count across all metrics will be used).  The desired replica count is calculated multiplying the ratio between the target value and the current value by the current number of pods.  Ergo, metrics used must decrease as the pod count is increased, and vice-versa.  See the individual metric source types for more information about how each type of metric must respond. If not set, the default metric will be set to 80% average CPU utilization.'),
  column('MinPods', 'minReplicas is the lower limit for the number of replicas to which the autoscaler can scale down.  It defaults to 1 pod.  minReplicas is allowed to be 0 if the alpha feature gate HPAScaleToZero is enabled and at least one Object or External metric is configured.  Scaling is active as long as at least one metric value is available.'),
  column('MaxPods', 'maxReplicas is the upper limit for the number of replicas to which the autoscaler can scale up. It cannot be less that minReplicas.'),
  column('Replicas', 'currentReplicas is current number of replicas of pods managed by this autoscaler, as last seen by the autoscaler.'),
  ageColumn(),
];

export const horizontalPodAutoscalerStrategy: ResourceStrategy = {
  group: 'autoscaling',
  version: 'v2',
  kind: 'HorizontalPodAutoscaler',
  listKind: 'HorizontalPodAutoscalerList',
  resource: 'horizontalpodautoscalers',
  singular: 'horizontalpodautoscaler',
  shortNames: ['hpa'],
  categories: ['all'],
  namespaced: true,
  verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
  storageResource: 'horizontalpodautoscalers',
  hasStatus: true,
  subresources: [],
  tracksGeneration: true,

  prepareForCreate(hpa) {
    hpa.status = {};
  },
  applyDefaults: applyHpaV2Defaults,
  validateName: nameIsDNSSubdomain,
  validate: (hpa) => validateHpaSpec(specOf(hpa), 1),
  validateUpdate: (hpa, old) => validateHpaSpec(specOf(hpa), minReplicasLowerBound(old)),
  validateStatusUpdate: (hpa) => validateHpaStatus(isPlainObject(hpa.status) ? hpa.status as Json : {}),
  selectableFieldNames: [],
  table: { columns: HPA_COLUMNS, cells: hpaCells },
};

/** autoscaling/v1: the same objects, converted to and from the stored autoscaling/v2 form. */
export const horizontalPodAutoscalerV1Strategy: ResourceStrategy = {
  ...horizontalPodAutoscalerStrategy,
  version: 'v1',
  storageConversion: { toStorage: hpaV1ToV2, fromStorage: hpaV2ToV1 },
  applyDefaults(hpa) {
    specOf(hpa).minReplicas ??= 1;
  },
  validate: (hpa) => validateHpaSpec(specOf(hpaV1ToV2(hpa)), 1),
  validateUpdate: (hpa, old) => validateHpaSpec(specOf(hpaV1ToV2(hpa)), minReplicasLowerBound(old)),
  table: { columns: HPA_COLUMNS, cells: (hpa, now) => hpaCells(hpaV1ToV2(hpa), now) },
};
