// The default ClusterRoleBindings (bootstrappolicy clusterRoleBindings and controller role bindings,
// 1.32), trimmed like the roles, plus kubefacade's bindings for the identities `kubefacade up` gives its
// components (server/up.ts): the node lifecycle controller runs as system:kube-controller-manager and
// gets the node controller's role; the many-node kubelet process gets its read-only watcher role.
// system:node keeps its upstream binding without subjects: nodes are authorized by the Node authorizer.

import type { KubeObject } from '../../api/object.ts';
import {
  ALL_AUTHENTICATED_GROUP, ALL_SERVICE_ACCOUNTS_GROUP, ALL_UNAUTHENTICATED_GROUP, KUBE_CONTROLLER_MANAGER_USER, KUBE_PROXY_USER,
  KUBE_SCHEDULER_USER, MONITORING_GROUP, SYSTEM_MASTERS_GROUP,
} from '../well-known.ts';
import { AUTOUPDATE_ANNOTATION, BOOTSTRAP_LABELS, KUBELET_WATCHER_ROLE } from './bootstrap-roles.ts';
import { RBAC_GROUP, type Subject } from './policy-rule.ts';
import { workloadControllerRoleBindings } from './bootstrap-controller-roles.ts';

/** The user the kubelet process's shared watches authenticate as. */
export const KUBELET_WATCHER_USER = KUBELET_WATCHER_ROLE;

const group = (name: string): Subject => ({ apiGroup: RBAC_GROUP, kind: 'Group', name });
const user = (name: string): Subject => ({ apiGroup: RBAC_GROUP, kind: 'User', name });
const serviceAccount = (namespace: string, name: string): Subject => ({ kind: 'ServiceAccount', name, namespace });

function binding(name: string, role: string, subjects: Subject[]): KubeObject {
  return {
    apiVersion: `${RBAC_GROUP}/v1`,
    kind: 'ClusterRoleBinding',
    metadata: { name, labels: { ...BOOTSTRAP_LABELS }, annotations: { [AUTOUPDATE_ANNOTATION]: 'true' } },
    roleRef: { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name: role },
    ...(subjects.length ? { subjects } : {}),
  };
}

export function bootstrapClusterRoleBindings(): KubeObject[] {
  return [
    binding('cluster-admin', 'cluster-admin', [group(SYSTEM_MASTERS_GROUP)]),
    binding('system:monitoring', 'system:monitoring', [group(MONITORING_GROUP)]),
    binding('system:discovery', 'system:discovery', [group(ALL_AUTHENTICATED_GROUP)]),
    binding('system:basic-user', 'system:basic-user', [group(ALL_AUTHENTICATED_GROUP)]),
    binding('system:public-info-viewer', 'system:public-info-viewer', [group(ALL_AUTHENTICATED_GROUP), group(ALL_UNAUTHENTICATED_GROUP)]),
    binding('system:node-proxier', 'system:node-proxier', [user(KUBE_PROXY_USER)]),
    binding('system:kube-controller-manager', 'system:kube-controller-manager', [user(KUBE_CONTROLLER_MANAGER_USER)]),
    binding('system:kube-scheduler', 'system:kube-scheduler', [user(KUBE_SCHEDULER_USER)]),
    binding('system:volume-scheduler', 'system:volume-scheduler', [user(KUBE_SCHEDULER_USER)]),
    binding('system:node', 'system:node', []),
    binding('system:controller:node-controller', 'system:controller:node-controller', [serviceAccount('kube-system', 'node-controller')]),
    binding('kubefacade:node-controller', 'system:controller:node-controller', [user(KUBE_CONTROLLER_MANAGER_USER)]),
    binding('system:controller:service-account-controller', 'system:controller:service-account-controller', [serviceAccount('kube-system', 'service-account-controller')]),
    binding('kubefacade:service-account-controller', 'system:controller:service-account-controller', [user(KUBE_CONTROLLER_MANAGER_USER)]),
    binding('system:controller:endpoint-controller', 'system:controller:endpoint-controller', [serviceAccount('kube-system', 'endpoint-controller')]),
    binding('kubefacade:endpoint-controller', 'system:controller:endpoint-controller', [user(KUBE_CONTROLLER_MANAGER_USER)]),
    binding('system:controller:endpointslice-controller', 'system:controller:endpointslice-controller', [serviceAccount('kube-system', 'endpointslice-controller')]),
    binding('kubefacade:endpointslice-controller', 'system:controller:endpointslice-controller', [user(KUBE_CONTROLLER_MANAGER_USER)]),
    binding('system:controller:endpointslicemirroring-controller', 'system:controller:endpointslicemirroring-controller', [serviceAccount('kube-system', 'endpointslicemirroring-controller')]),
    binding('kubefacade:endpointslicemirroring-controller', 'system:controller:endpointslicemirroring-controller', [user(KUBE_CONTROLLER_MANAGER_USER)]),
    binding('system:service-account-issuer-discovery', 'system:service-account-issuer-discovery', [group(ALL_SERVICE_ACCOUNTS_GROUP)]),
    binding('system:controller:resourcequota-controller', 'system:controller:resourcequota-controller', [serviceAccount('kube-system', 'resourcequota-controller')]),
    binding('kubefacade:resourcequota-controller', 'system:controller:resourcequota-controller', [user(KUBE_CONTROLLER_MANAGER_USER)]),
    binding('system:controller:service-controller', 'system:controller:service-controller', [serviceAccount('kube-system', 'service-controller')]),
    binding('kubefacade:service-controller', 'system:controller:service-controller', [user(KUBE_CONTROLLER_MANAGER_USER)]),
    binding('system:controller:root-ca-cert-publisher', 'system:controller:root-ca-cert-publisher', [serviceAccount('kube-system', 'root-ca-cert-publisher')]),
    binding('kubefacade:root-ca-cert-publisher', 'system:controller:root-ca-cert-publisher', [user(KUBE_CONTROLLER_MANAGER_USER)]),
    binding(KUBELET_WATCHER_ROLE, KUBELET_WATCHER_ROLE, [user(KUBELET_WATCHER_USER)]),
    ...workloadControllerRoleBindings(),
  ];
}
