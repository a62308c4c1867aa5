// The workload controllers' roles from controller_policy.go (1.32), bound as upstream binds them (to
// the kube-system service account named after each controller) and, because kubefacade's controller
// manager runs every controller under the one system:kube-controller-manager user (as
// kube-controller-manager does without --use-service-account-credentials), to that user as well.

import type { KubeObject } from '../../api/object.ts';
import { KUBE_CONTROLLER_MANAGER_USER } from '../well-known.ts';
import { AUTOUPDATE_ANNOTATION, BOOTSTRAP_LABELS } from './bootstrap-roles.ts';
import { RBAC_GROUP, type PolicyRule, type Subject } from './policy-rule.ts';

const PREFIX = 'system:controller:';
const APPS = ['apps'];
const APPS_EXT = ['extensions', 'apps'];

function rule(verbs: string[], apiGroups: string[], resources: string[]): PolicyRule {
  return { apiGroups, resources, verbs };
}

const EVENTS_RULE = rule(['create', 'patch', 'update'], ['', 'events.k8s.io'], ['events']);

/** Controller name (the service account's) → rules. */
const CONTROLLER_RULES: Record<string, PolicyRule[]> = {
  'cronjob-controller': [
    rule(['get', 'list', 'watch', 'update'], ['batch'], ['cronjobs']),
    rule(['get', 'list', 'watch', 'create', 'update', 'delete', 'patch'], ['batch'], ['jobs']),
    rule(['update'], ['batch'], ['cronjobs/status']),
    rule(['update'], ['batch'], ['cronjobs/finalizers']),
    rule(['list', 'watch', 'delete'], [''], ['pods']),
    EVENTS_RULE,
  ],
  'daemon-set-controller': [
    rule(['get', 'list', 'watch'], APPS_EXT, ['daemonsets']),
    rule(['update'], APPS_EXT, ['daemonsets/status']),
    rule(['update'], APPS_EXT, ['daemonsets/finalizers']),
    rule(['list', 'watch'], [''], ['nodes']),
    rule(['list', 'watch', 'create', 'delete', 'patch'], [''], ['pods']),
    rule(['create'], [''], ['pods/binding']),
    rule(['get', 'list', 'watch', 'create', 'delete', 'update', 'patch'], APPS, ['controllerrevisions']),
    EVENTS_RULE,
  ],
  'deployment-controller': [
    rule(['get', 'list', 'watch', 'update'], APPS_EXT, ['deployments']),
    rule(['update'], APPS_EXT, ['deployments/status']),
    rule(['update'], APPS_EXT, ['deployments/finalizers']),
    rule(['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'], ['apps', 'extensions'], ['replicasets']),
    rule(['get', 'list', 'watch', 'update'], [''], ['pods']),
    EVENTS_RULE,
  ],
  'disruption-controller': [
    rule(['get', 'list', 'watch'], APPS_EXT, ['deployments']),
    rule(['get', 'list', 'watch'], ['apps', 'extensions'], ['replicasets']),
    rule(['get', 'list', 'watch'], [''], ['replicationcontrollers']),
    rule(['get', 'list', 'watch'], ['policy'], ['poddisruptionbudgets']),
    rule(['get', 'list', 'watch'], APPS, ['statefulsets']),
    rule(['update'], ['policy'], ['poddisruptionbudgets/status']),
    rule(['patch', 'update'], [''], ['pods/status']),
    rule(['get'], ['*'], ['*/scale']),
    EVENTS_RULE,
  ],
  'generic-garbage-collector': [
    rule(['get', 'list', 'watch', 'patch', 'update', 'delete'], ['*'], ['*']),
    EVENTS_RULE,
  ],
  'horizontal-pod-autoscaler': [
    rule(['get', 'list', 'watch'], ['autoscaling'], ['horizontalpodautoscalers']),
    rule(['update'], ['autoscaling'], ['horizontalpodautoscalers/status']),
    rule(['get', 'update'], ['*'], ['*/scale']),
    rule(['list'], [''], ['pods']),
    rule(['list'], ['metrics.k8s.io'], ['pods']),
    rule(['get', 'list'], ['custom.metrics.k8s.io'], ['*']),
    rule(['get', 'list'], ['external.metrics.k8s.io'], ['*']),
    EVENTS_RULE,
  ],
  'job-controller': [
    rule(['get', 'list', 'watch', 'update', 'patch'], ['batch'], ['jobs']),
    rule(['update'], ['batch'], ['jobs/status']),
    rule(['update'], ['batch'], ['jobs/finalizers']),
    rule(['list', 'watch', 'create', 'delete', 'patch'], [''], ['pods']),
    EVENTS_RULE,
  ],
  'replicaset-controller': [
    rule(['get', 'list', 'watch', 'update'], ['apps', 'extensions'], ['replicasets']),
    rule(['update'], ['apps', 'extensions'], ['replicasets/status']),
    rule(['update'], ['apps', 'extensions'], ['replicasets/finalizers']),
    rule(['list', 'watch', 'patch', 'create', 'delete'], [''], ['pods']),
    EVENTS_RULE,
  ],
  'replication-controller': [
    rule(['get', 'list', 'watch', 'update'], [''], ['replicationcontrollers']),
    rule(['update'], [''], ['replicationcontrollers/status']),
    rule(['update'], [''], ['replicationcontrollers/finalizers']),
    rule(['list', 'watch', 'patch', 'create', 'delete'], [''], ['pods']),
    EVENTS_RULE,
  ],
  'statefulset-controller': [
    rule(['list', 'watch'], [''], ['pods']),
    rule(['get', 'list', 'watch'], APPS, ['statefulsets']),
    rule(['update'], APPS, ['statefulsets/status']),
    rule(['update'], APPS, ['statefulsets/finalizers']),
    rule(['get', 'create', 'delete', 'update', 'patch'], [''], ['pods']),
    rule(['get', 'create', 'delete', 'update', 'patch', 'list', 'watch'], APPS, ['controllerrevisions']),
    rule(['get', 'create', 'list', 'watch'], [''], ['persistentvolumeclaims']),
    rule(['update', 'delete'], [''], ['persistentvolumeclaims']),
    rule(['update'], [''], ['pods/finalizers']),
    EVENTS_RULE,
  ],
  'ttl-after-finished-controller': [
    rule(['get', 'list', 'watch', 'delete'], ['batch'], ['jobs']),
    EVENTS_RULE,
  ],
  'certificate-controller': [
    rule(['get', 'list', 'watch', 'delete'], ['certificates.k8s.io'], ['certificatesigningrequests']),
    rule(['update'], ['certificates.k8s.io'], ['certificatesigningrequests/status', 'certificatesigningrequests/approval']),
    { ...rule(['approve'], ['certificates.k8s.io'], ['signers']), resourceNames: ['kubernetes.io/kube-apiserver-client-kubelet'] },
    {
      ...rule(['sign'], ['certificates.k8s.io'], ['signers']),
      resourceNames: ['kubernetes.io/legacy-unknown', 'kubernetes.io/kube-apiserver-client', 'kubernetes.io/kube-apiserver-client-kubelet', 'kubernetes.io/kubelet-serving'],
    },
    rule(['create'], ['authorization.k8s.io'], ['subjectaccessreviews']),
    EVENTS_RULE,
  ],
  'persistent-volume-binder': [
    rule(['get', 'list', 'watch', 'update', 'create', 'delete'], [''], ['persistentvolumes']),
    rule(['update'], [''], ['persistentvolumes/status']),
    rule(['get', 'list', 'watch', 'update'], [''], ['persistentvolumeclaims']),
    rule(['update'], [''], ['persistentvolumeclaims/status']),
    rule(['list', 'watch', 'get', 'create', 'delete'], [''], ['pods']),
    rule(['get', 'list', 'watch'], ['storage.k8s.io'], ['storageclasses']),
    rule(['get', 'create', 'update', 'delete'], [''], ['endpoints']),
    rule(['get', 'create', 'delete'], [''], ['services']),
    rule(['get'], [''], ['secrets']),
    rule(['get', 'list'], [''], ['nodes']),
    rule(['watch'], [''], ['events']),
    EVENTS_RULE,
  ],
  'validatingadmissionpolicy-status-controller': [
    rule(['get', 'list', 'watch'], ['admissionregistration.k8s.io'], ['validatingadmissionpolicies']),
    rule(['get', 'patch', 'update'], ['admissionregistration.k8s.io'], ['validatingadmissionpolicies/status']),
  ],
};

/** The controllers kubefacade's controller manager runs, by their upstream service account names. */
export const WORKLOAD_CONTROLLER_NAMES = Object.keys(CONTROLLER_RULES);

function metadata(name: string): KubeObject['metadata'] {
  return { name, labels: { ...BOOTSTRAP_LABELS }, annotations: { [AUTOUPDATE_ANNOTATION]: 'true' } };
}

export function workloadControllerRoles(): KubeObject[] {
  return Object.entries(CONTROLLER_RULES).map(([name, rules]) => ({
    apiVersion: `${RBAC_GROUP}/v1`, kind: 'ClusterRole', metadata: metadata(`${PREFIX}${name}`), rules,
  }));
}

export function workloadControllerRoleBindings(): KubeObject[] {
  const bind = (bindingName: string, role: string, subject: Subject): KubeObject => ({
    apiVersion: `${RBAC_GROUP}/v1`, kind: 'ClusterRoleBinding', metadata: metadata(bindingName),
    roleRef: { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name: role }, subjects: [subject],
  });
  return WORKLOAD_CONTROLLER_NAMES.flatMap((name) => [
    bind(`${PREFIX}${name}`, `${PREFIX}${name}`, { kind: 'ServiceAccount', name, namespace: 'kube-system' }),
    bind(`kubefacade:${name}`, `${PREFIX}${name}`, { apiGroup: RBAC_GROUP, kind: 'User', name: KUBE_CONTROLLER_MANAGER_USER }),
  ]);
}
