// API Priority and Fairness' bootstrap configuration, as kube-apiserver creates it
// (k8s.io/apiserver/pkg/apis/flowcontrol/bootstrap/default.go): the mandatory and suggested
// PriorityLevelConfigurations and the FlowSchemas that map a request to one of them, checked in
// matchingPrecedence order. The served flowcontrol.apiserver.k8s.io objects do not feed it yet, so this
// configuration is fixed; the matching rules are written as predicates instead of PolicyRules.

import type { UserInfo } from '../../auth/user.ts';
import {
  ALL_AUTHENTICATED_GROUP, ALL_SERVICE_ACCOUNTS_GROUP, ALL_UNAUTHENTICATED_GROUP, KUBE_CONTROLLER_MANAGER_USER,
  KUBE_SCHEDULER_USER, NODES_GROUP, SERVICE_ACCOUNT_USER_PREFIX, SYSTEM_MASTERS_GROUP,
} from '../../auth/well-known.ts';
import type { RequestInfo } from '../request-info.ts';

export interface LimitedPriorityLevel {
  name: string;
  /** nominalConcurrencyShares: the level's part of the server's concurrency limit. */
  shares: number;
  /** 'queue': wait in one of `queues` queues; 'reject': 429 at once when all seats are taken. */
  limitResponse: { type: 'queue'; queues: number; handSize: number; queueLengthLimit: number } | { type: 'reject' };
}

export type PriorityLevel = { name: 'exempt'; exempt: true } | (LimitedPriorityLevel & { exempt?: false });

export type FlowDistinguisher = 'ByUser' | 'ByNamespace' | undefined;

export interface FlowSchema {
  name: string;
  priorityLevel: string;
  matchingPrecedence: number;
  distinguisher: FlowDistinguisher;
  matches(user: UserInfo, info: RequestInfo): boolean;
}

const queued = (queues: number, handSize: number, queueLengthLimit = 50) =>
  ({ type: 'queue', queues, handSize, queueLengthLimit }) as const;

export const PRIORITY_LEVELS: readonly PriorityLevel[] = [
  { name: 'exempt', exempt: true },
  { name: 'system', shares: 30, limitResponse: queued(64, 6) },
  { name: 'node-high', shares: 40, limitResponse: queued(64, 6) },
  { name: 'leader-election', shares: 10, limitResponse: queued(16, 4) },
  { name: 'workload-high', shares: 40, limitResponse: queued(128, 6) },
  { name: 'workload-low', shares: 100, limitResponse: queued(128, 6) },
  { name: 'global-default', shares: 20, limitResponse: queued(128, 6) },
  { name: 'catch-all', shares: 5, limitResponse: { type: 'reject' } },
];

const inGroup = (user: UserInfo, ...groups: string[]): boolean => user.groups.some((group) => groups.includes(group));
const isUser = (user: UserInfo, ...names: string[]): boolean => names.includes(user.username);
const isKubeSystemServiceAccount = (user: UserInfo): boolean => user.username.startsWith(`${SERVICE_ACCOUNT_USER_PREFIX}kube-system:`);
const everything = (): boolean => true;

/** Resource requests with one of the verbs, on one of the (group, resource) pairs, in a namespace (not cluster scope). */
function namespacedRule(verbs: string[], targets: [string, string][], namespaces?: string[]) {
  return (info: RequestInfo): boolean =>
    info.isResourceRequest && info.namespace !== '' && verbs.includes(info.verb)
    && targets.some(([group, resource]) => info.apiGroup === group && info.resource === resource && info.subresource === '')
    && (namespaces === undefined || namespaces.includes(info.namespace));
}

const leaderElectionInKubeSystem = namespacedRule(['get', 'create', 'update'], [['', 'endpoints'], ['', 'configmaps']], ['kube-system']);
const leaderElectionAnywhere = namespacedRule(['get', 'create', 'update'], [['', 'endpoints'], ['', 'configmaps']]);
const leaseElection = namespacedRule(['get', 'create', 'update'], [['coordination.k8s.io', 'leases']]);

/** system-node-high: a node's own Node object and status (cluster scope) and its Lease. */
function nodeHeartbeat(info: RequestInfo): boolean {
  if (!info.isResourceRequest) return false;
  if (info.apiGroup === '' && info.resource === 'nodes' && (info.subresource === '' || info.subresource === 'status')) return true;
  return info.apiGroup === 'coordination.k8s.io' && info.resource === 'leases' && info.namespace !== '' && info.subresource === '';
}

const isProbe = (info: RequestInfo): boolean =>
  !info.isResourceRequest && info.verb === 'get' && ['/healthz', '/readyz', '/livez'].includes(info.path);

/** In matchingPrecedence order; the first match classifies the request. */
export const FLOW_SCHEMAS: readonly FlowSchema[] = [
  { name: 'exempt', priorityLevel: 'exempt', matchingPrecedence: 1, distinguisher: undefined, matches: (user) => inGroup(user, SYSTEM_MASTERS_GROUP) },
  {
    name: 'probes', priorityLevel: 'exempt', matchingPrecedence: 2, distinguisher: undefined,
    matches: (user, info) => inGroup(user, ALL_AUTHENTICATED_GROUP, ALL_UNAUTHENTICATED_GROUP) && isProbe(info),
  },
  {
    name: 'system-leader-election', priorityLevel: 'leader-election', matchingPrecedence: 100, distinguisher: 'ByUser',
    matches: (user, info) => (isUser(user, KUBE_CONTROLLER_MANAGER_USER, KUBE_SCHEDULER_USER) || isKubeSystemServiceAccount(user))
      && (leaderElectionInKubeSystem(info) || leaseElection(info)),
  },
  {
    name: 'endpoint-controller', priorityLevel: 'workload-high', matchingPrecedence: 150, distinguisher: 'ByUser',
    matches: (user, info) => (isUser(user, KUBE_CONTROLLER_MANAGER_USER)
      || isUser(user, `${SERVICE_ACCOUNT_USER_PREFIX}kube-system:endpoint-controller`, `${SERVICE_ACCOUNT_USER_PREFIX}kube-system:endpointslicemirroring-controller`))
      && namespacedRule(['get', 'create', 'update'], [['', 'endpoints']])(info),
  },
  {
    name: 'workload-leader-election', priorityLevel: 'leader-election', matchingPrecedence: 200, distinguisher: 'ByUser',
    matches: (user, info) => isKubeSystemServiceAccount(user) && (leaderElectionAnywhere(info) || leaseElection(info)),
  },
  {
    name: 'system-node-high', priorityLevel: 'node-high', matchingPrecedence: 400, distinguisher: 'ByUser',
    matches: (user, info) => inGroup(user, NODES_GROUP) && nodeHeartbeat(info),
  },
  { name: 'system-nodes', priorityLevel: 'system', matchingPrecedence: 500, distinguisher: 'ByUser', matches: (user) => inGroup(user, NODES_GROUP) },
  {
    name: 'kube-controller-manager', priorityLevel: 'workload-high', matchingPrecedence: 800, distinguisher: 'ByNamespace',
    matches: (user) => isUser(user, KUBE_CONTROLLER_MANAGER_USER),
  },
  { name: 'kube-scheduler', priorityLevel: 'workload-high', matchingPrecedence: 800, distinguisher: 'ByNamespace', matches: (user) => isUser(user, KUBE_SCHEDULER_USER) },
  {
    name: 'kube-system-service-accounts', priorityLevel: 'workload-high', matchingPrecedence: 900, distinguisher: 'ByNamespace',
    matches: isKubeSystemServiceAccount,
  },
  {
    name: 'service-accounts', priorityLevel: 'workload-low', matchingPrecedence: 9000, distinguisher: 'ByUser',
    matches: (user) => inGroup(user, ALL_SERVICE_ACCOUNTS_GROUP),
  },
  {
    name: 'global-default', priorityLevel: 'global-default', matchingPrecedence: 9900, distinguisher: 'ByUser',
    matches: (user) => inGroup(user, ALL_AUTHENTICATED_GROUP, ALL_UNAUTHENTICATED_GROUP),
  },
  { name: 'catch-all', priorityLevel: 'catch-all', matchingPrecedence: 10000, distinguisher: 'ByUser', matches: everything },
];

export interface Classification {
  flowSchema: FlowSchema;
  /** The flow within the priority level: schema name plus the distinguisher's value. */
  flowKey: string;
}

export function classify(user: UserInfo, info: RequestInfo): Classification {
  const flowSchema = FLOW_SCHEMAS.find((schema) => schema.matches(user, info)) as FlowSchema;
  const distinguished = flowSchema.distinguisher === 'ByUser' ? user.username
    : flowSchema.distinguisher === 'ByNamespace' ? (info.isResourceRequest ? info.namespace : '') : '';
  return { flowSchema, flowKey: `${flowSchema.name}\u0000${distinguished}` };
}
