// Users and groups with a fixed meaning, as k8s.io/apiserver/pkg/authentication/user and
// .../serviceaccount name them. Authentication, authorization and the bootstrap policy all agree on
// these strings, so they live in one place.

/** Members are superusers: the privileged-group authorizer allows them everything. */
export const SYSTEM_MASTERS_GROUP = 'system:masters';
export const ALL_AUTHENTICATED_GROUP = 'system:authenticated';
export const ALL_UNAUTHENTICATED_GROUP = 'system:unauthenticated';
export const ANONYMOUS_USER = 'system:anonymous';
export const NODES_GROUP = 'system:nodes';
export const NODE_USER_PREFIX = 'system:node:';
export const MONITORING_GROUP = 'system:monitoring';
export const KUBE_SCHEDULER_USER = 'system:kube-scheduler';
export const KUBE_CONTROLLER_MANAGER_USER = 'system:kube-controller-manager';
export const KUBE_PROXY_USER = 'system:kube-proxy';

export const SERVICE_ACCOUNT_USER_PREFIX = 'system:serviceaccount:';
export const ALL_SERVICE_ACCOUNTS_GROUP = 'system:serviceaccounts';

export function serviceAccountUsername(namespace: string, name: string): string {
  return `${SERVICE_ACCOUNT_USER_PREFIX}${namespace}:${name}`;
}

/** The groups a service account's identity carries (serviceaccount.MakeGroupNames). */
export function serviceAccountGroups(namespace: string): string[] {
  return [ALL_SERVICE_ACCOUNTS_GROUP, `${ALL_SERVICE_ACCOUNTS_GROUP}:${namespace}`];
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * serviceaccount.SplitUsername: `system:serviceaccount:<namespace>:<name>` with a valid namespace
 * (DNS label) and name (DNS subdomain), or undefined for any other user name.
 */
export function splitServiceAccountUsername(username: string): { namespace: string; name: string } | undefined {
  if (!username.startsWith(SERVICE_ACCOUNT_USER_PREFIX)) return undefined;
  const parts = username.slice(SERVICE_ACCOUNT_USER_PREFIX.length).split(':');
  if (parts.length !== 2) return undefined;
  const [namespace, name] = parts;
  if (namespace.length > 63 || !DNS_LABEL.test(namespace)) return undefined;
  if (name.length > 253 || !DNS_SUBDOMAIN.test(name)) return undefined;
  return { namespace, name };
}
