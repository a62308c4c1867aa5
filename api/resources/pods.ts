// core/v1 Pod: defaulting, validation, status reset on create, graceful deletion and printing.
// Modelled on pkg/registry/core/pod/strategy.go.

import { isPlainObject, type KubeObject } from '../object.ts';
import type { ResourceStrategy } from '../resource.ts';
import { applyPodDefaults } from './pod-defaults.ts';
import { podTable } from './pod-printer.ts';
import { computePodQOS } from './pod-qos.ts';
import { validatePod, validatePodUpdate } from './pod-validation.ts';
import { list, num, str } from './printing.ts';
import { nameIsDNSSubdomain } from '../validation/names.ts';

export { assignPodToNode, setPodCondition, validateBinding } from './pod-binding.ts';
export { applyPodDefaults } from './pod-defaults.ts';
export { computePodQOS } from './pod-qos.ts';

const SCHEDULING_GATED_MESSAGE = 'Scheduling is blocked due to non-empty scheduling gates';

export const POD_SELECTABLE_FIELD_NAMES = [
  'spec.nodeName', 'spec.restartPolicy', 'spec.schedulerName', 'spec.serviceAccountName', 'spec.hostNetwork',
  'status.phase', 'status.podIP', 'status.nominatedNodeName',
];

/** pod.ToSelectableFields, minus metadata.name/namespace which the store adds. */
export function podSelectableFields(pod: KubeObject): Record<string, string> {
  return {
    'spec.nodeName': str(pod, 'spec', 'nodeName'),
    'spec.restartPolicy': str(pod, 'spec', 'restartPolicy'),
    'spec.schedulerName': str(pod, 'spec', 'schedulerName'),
    'spec.serviceAccountName': str(pod, 'spec', 'serviceAccountName'),
    'spec.hostNetwork': String(isPlainObject(pod.spec) && pod.spec.hostNetwork === true),
    'status.phase': str(pod, 'status', 'phase'),
    'status.podIP': str(pod, 'status', 'podIPs', 0, 'ip') || str(pod, 'status', 'podIP'),
    'status.nominatedNodeName': str(pod, 'status', 'nominatedNodeName'),
  };
}

/** podStrategy.CheckGracefulDelete. */
export function podDeletionGracePeriodSeconds(pod: KubeObject, requested: number | undefined): number {
  if (!str(pod, 'spec', 'nodeName')) return 0; // never scheduled: nothing runs that needs to stop
  const phase = str(pod, 'status', 'phase');
  if (phase === 'Failed' || phase === 'Succeeded') return 0;
  const period = requested ?? num(pod, 'spec', 'terminationGracePeriodSeconds') ?? 30;
  // A negative period is treated as 1s, as upstream does for bad client values.
  return period < 0 ? 1 : period;
}

export const podStrategy: ResourceStrategy = {
  group: '',
  version: 'v1',
  kind: 'Pod',
  listKind: 'PodList',
  resource: 'pods',
  singular: 'pod',
  shortNames: ['po'],
  categories: ['all'],
  namespaced: true,
  verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
  storageResource: 'pods',
  hasStatus: true,
  subresources: [
    // Alphabetical, as kube-apiserver's discovery lists them.
    { name: 'attach', kind: 'PodAttachOptions', verbs: ['create', 'get'] },
    { name: 'binding', kind: 'Binding', verbs: ['create'] },
    { name: 'ephemeralcontainers', kind: 'Pod', verbs: ['get', 'patch', 'update'] },
    { name: 'eviction', kind: 'Eviction', group: 'policy', verbs: ['create'] },
    { name: 'exec', kind: 'PodExecOptions', verbs: ['create', 'get'] },
    { name: 'log', kind: 'Pod', verbs: ['get'] },
    { name: 'portforward', kind: 'PodPortForwardOptions', verbs: ['create', 'get'] },
  ],
  tracksGeneration: false,

  prepareForCreate(pod) {
    pod.status = { phase: 'Pending', qosClass: computePodQOS(pod) };
    if (list(pod, 'spec', 'schedulingGates').length > 0) {
      (pod.status as Record<string, unknown>).conditions = [{
        type: 'PodScheduled', status: 'False', lastProbeTime: null, lastTransitionTime: null,
        reason: 'SchedulingGated', message: SCHEDULING_GATED_MESSAGE,
      }];
    }
  },
  prepareForStatusUpdate(pod, old) {
    // qosClass is immutable once computed (the kubelet may not change it).
    const oldQos = str(old, 'status', 'qosClass');
    if (oldQos && isPlainObject(pod.status)) pod.status.qosClass = oldQos;
  },
  applyDefaults: applyPodDefaults,
  validate: (pod) => validatePod(pod),
  validateUpdate: (pod, old) => validatePodUpdate(pod, old),
  selectableFields: podSelectableFields,
  selectableFieldNames: POD_SELECTABLE_FIELD_NAMES,
  validateName: nameIsDNSSubdomain,
  deletionGracePeriodSeconds: podDeletionGracePeriodSeconds,
  returnDeletedObject: true,
  table: podTable,
};
