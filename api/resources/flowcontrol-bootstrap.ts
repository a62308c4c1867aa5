// The FlowSchemas and PriorityLevelConfigurations kube-apiserver creates at start
// (k8s.io/apiserver/pkg/apis/flowcontrol/bootstrap/default.go, v1.32): the mandatory exempt and
// catch-all objects, whose specs may not be changed, and the suggested ones, all carrying the
// apf.kubernetes.io/autoupdate-spec annotation.

import type { KubeObject } from '../object.ts';

type Json = Record<string, unknown>;
export const AUTO_UPDATE_ANNOTATION = 'apf.kubernetes.io/autoupdate-spec';
const API_VERSION = 'flowcontrol.apiserver.k8s.io/v1';

const ALL = ['*'];
const groups = (...names: string[]): Json[] => names.map((name) => ({ kind: 'Group', group: { name } }));
const users = (...names: string[]): Json[] => names.map((name) => ({ kind: 'User', user: { name } }));
const kubeSystemServiceAccounts = (...names: string[]): Json[] => names.map((name) => ({ kind: 'ServiceAccount', serviceAccount: { name, namespace: 'kube-system' } }));
const resourceRule = (verbs: string[], apiGroups: string[], resources: string[], namespaces: string[], clusterScope: boolean): Json =>
  ({ verbs, apiGroups, resources, ...(clusterScope ? { clusterScope: true } : {}), namespaces });
const nonResourceRule = (verbs: string[], nonResourceURLs: string[]): Json => ({ verbs, nonResourceURLs });
const everything = (subjects: Json[]): Json => ({
  subjects, resourceRules: [resourceRule(ALL, ALL, ALL, ALL, true)], nonResourceRules: [nonResourceRule(ALL, ALL)],
});

function priorityLevel(name: string, spec: Json): KubeObject {
  return { apiVersion: API_VERSION, kind: 'PriorityLevelConfiguration', metadata: { name, annotations: { [AUTO_UPDATE_ANNOTATION]: 'true' } }, spec };
}

const queued = (shares: number, lendablePercent: number, queues: number, handSize: number): Json => ({
  type: 'Limited',
  limited: { nominalConcurrencyShares: shares, lendablePercent, limitResponse: { type: 'Queue', queuing: { queues, handSize, queueLengthLimit: 50 } } },
});

function flowSchema(name: string, level: string, matchingPrecedence: number, distinguisher: string, ...rules: Json[]): KubeObject {
  return {
    apiVersion: API_VERSION, kind: 'FlowSchema', metadata: { name, annotations: { [AUTO_UPDATE_ANNOTATION]: 'true' } },
    spec: {
      priorityLevelConfiguration: { name: level }, matchingPrecedence,
      ...(distinguisher ? { distinguisherMethod: { type: distinguisher } } : {}), rules,
    },
  };
}

export const MANDATORY_PRIORITY_LEVELS: readonly KubeObject[] = [
  priorityLevel('catch-all', {
    type: 'Limited', limited: { nominalConcurrencyShares: 5, lendablePercent: 0, limitResponse: { type: 'Reject' } },
  }),
  priorityLevel('exempt', { type: 'Exempt', exempt: { nominalConcurrencyShares: 0, lendablePercent: 0 } }),
];

export const MANDATORY_FLOW_SCHEMAS: readonly KubeObject[] = [
  flowSchema('exempt', 'exempt', 1, '', everything(groups('system:masters'))),
  flowSchema('catch-all', 'catch-all', 10000, 'ByUser', everything(groups('system:unauthenticated', 'system:authenticated'))),
];

export const SUGGESTED_PRIORITY_LEVELS: readonly KubeObject[] = [
  priorityLevel('system', queued(30, 33, 64, 6)),
  priorityLevel('node-high', queued(40, 25, 64, 6)),
  priorityLevel('leader-election', queued(10, 0, 16, 4)),
  priorityLevel('workload-high', queued(40, 50, 128, 6)),
  priorityLevel('workload-low', queued(100, 90, 128, 6)),
  priorityLevel('global-default', queued(20, 50, 128, 6)),
];

const leaderElection = (namespaces: string[]): Json[] => [
  resourceRule(['get', 'create', 'update'], [''], ['endpoints', 'configmaps'], namespaces, false),
  resourceRule(['get', 'create', 'update'], ['coordination.k8s.io'], ['leases'], ALL, false),
];

export const SUGGESTED_FLOW_SCHEMAS: readonly KubeObject[] = [
  flowSchema('system-nodes', 'system', 500, 'ByUser', everything(groups('system:nodes'))),
  flowSchema('system-node-high', 'node-high', 400, 'ByUser', {
    subjects: groups('system:nodes'),
    resourceRules: [
      resourceRule(ALL, [''], ['nodes', 'nodes/status'], ALL, true),
      resourceRule(ALL, ['coordination.k8s.io'], ['leases'], ALL, false),
    ],
  }),
  flowSchema('probes', 'exempt', 2, '', {
    subjects: groups('system:unauthenticated', 'system:authenticated'),
    nonResourceRules: [nonResourceRule(['get'], ['/healthz', '/readyz', '/livez'])],
  }),
  flowSchema('system-leader-election', 'leader-election', 100, 'ByUser', {
    subjects: [...users('system:kube-controller-manager', 'system:kube-scheduler'), ...kubeSystemServiceAccounts('*')],
    resourceRules: leaderElection(['kube-system']),
  }),
  flowSchema('endpoint-controller', 'workload-high', 150, 'ByUser', {
    subjects: [...users('system:kube-controller-manager'), ...kubeSystemServiceAccounts('endpoint-controller', 'endpointslicemirroring-controller')],
    resourceRules: [resourceRule(['get', 'create', 'update'], [''], ['endpoints'], ALL, false)],
  }),
  flowSchema('workload-leader-election', 'leader-election', 200, 'ByUser', {
    subjects: kubeSystemServiceAccounts('*'), resourceRules: leaderElection(ALL),
  }),
  flowSchema('kube-controller-manager', 'workload-high', 800, 'ByNamespace', everything(users('system:kube-controller-manager'))),
  flowSchema('kube-scheduler', 'workload-high', 800, 'ByNamespace', everything(users('system:kube-scheduler'))),
  flowSchema('kube-system-service-accounts', 'workload-high', 900, 'ByNamespace', everything(kubeSystemServiceAccounts('*'))),
  flowSchema('service-accounts', 'workload-low', 9000, 'ByUser', everything(groups('system:serviceaccounts'))),
  flowSchema('global-default', 'global-default', 9900, 'ByUser', everything(groups('system:unauthenticated', 'system:authenticated'))),
];

/** The fixed spec of a mandatory object, or undefined for any other name. */
export function mandatorySpec(kind: 'FlowSchema' | 'PriorityLevelConfiguration', name: string): unknown {
  const objects = kind === 'FlowSchema' ? MANDATORY_FLOW_SCHEMAS : MANDATORY_PRIORITY_LEVELS;
  return objects.find((object) => object.metadata.name === name)?.spec;
}
