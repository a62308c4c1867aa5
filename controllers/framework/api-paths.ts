// URL paths of the kinds the controllers read and write, as the API server routes them.

export interface KindInfo {
  group: string;
  version: string;
  resource: string;
  kind: string;
}

export const PODS: KindInfo = { group: '', version: 'v1', resource: 'pods', kind: 'Pod' };
export const PERSISTENT_VOLUME_CLAIMS: KindInfo = { group: '', version: 'v1', resource: 'persistentvolumeclaims', kind: 'PersistentVolumeClaim' };
export const NODES: KindInfo = { group: '', version: 'v1', resource: 'nodes', kind: 'Node' };
export const REPLICATION_CONTROLLERS: KindInfo = { group: '', version: 'v1', resource: 'replicationcontrollers', kind: 'ReplicationController' };
export const DEPLOYMENTS: KindInfo = { group: 'apps', version: 'v1', resource: 'deployments', kind: 'Deployment' };
export const REPLICA_SETS: KindInfo = { group: 'apps', version: 'v1', resource: 'replicasets', kind: 'ReplicaSet' };
export const STATEFUL_SETS: KindInfo = { group: 'apps', version: 'v1', resource: 'statefulsets', kind: 'StatefulSet' };
export const DAEMON_SETS: KindInfo = { group: 'apps', version: 'v1', resource: 'daemonsets', kind: 'DaemonSet' };
export const CONTROLLER_REVISIONS: KindInfo = { group: 'apps', version: 'v1', resource: 'controllerrevisions', kind: 'ControllerRevision' };
export const JOBS: KindInfo = { group: 'batch', version: 'v1', resource: 'jobs', kind: 'Job' };
export const CRON_JOBS: KindInfo = { group: 'batch', version: 'v1', resource: 'cronjobs', kind: 'CronJob' };
export const POD_DISRUPTION_BUDGETS: KindInfo = { group: 'policy', version: 'v1', resource: 'poddisruptionbudgets', kind: 'PodDisruptionBudget' };

export function apiVersionOf(kind: KindInfo): string {
  return kind.group ? `${kind.group}/${kind.version}` : kind.version;
}

function prefix(kind: KindInfo): string {
  return kind.group ? `/apis/${kind.group}/${kind.version}` : `/api/${kind.version}`;
}

/** All namespaces when `namespace` is undefined. */
export function collectionPath(kind: KindInfo, namespace?: string): string {
  return namespace ? `${prefix(kind)}/namespaces/${encodeURIComponent(namespace)}/${kind.resource}` : `${prefix(kind)}/${kind.resource}`;
}

export function objectPath(kind: KindInfo, namespace: string | undefined, name: string, subresource?: string): string {
  return `${collectionPath(kind, namespace)}/${encodeURIComponent(name)}${subresource ? `/${subresource}` : ''}`;
}
