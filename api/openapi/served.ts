// The group versions, resources and subresources whose OpenAPI paths kubefacade publishes. The
// generator trims the upstream documents with this list; documents.ts serves one v3 document per
// entry. Upstream paths for things this server does not do (exec, attach, proxy, resize,
// finalize, the deprecated /watch/ prefix) are left out so clients are not told they exist.

export interface ServedGroupVersion {
  /** '' for the core group. */
  group: string;
  version: string;
  /** The path after `/openapi/v3/`: `api/v1`, `apis/coordination.k8s.io/v1`. */
  openApiPath: string;
  /** Upstream file name without `_openapi.json`, also the generated file name: `api__v1`. */
  fileStem: string;
  /** Resource name → served subresources. */
  resources: Record<string, string[]>;
}

function groupVersion(group: string, version: string, resources: Record<string, string[]>): ServedGroupVersion {
  const openApiPath = group ? `apis/${group}/${version}` : `api/${version}`;
  return { group, version, openApiPath, fileStem: openApiPath.replaceAll('/', '__'), resources };
}

export const SERVED_GROUP_VERSIONS: readonly ServedGroupVersion[] = [
  groupVersion('', 'v1', {
    pods: ['status', 'binding', 'log', 'eviction'],
    nodes: ['status'],
    namespaces: ['status'],
    events: [],
    bindings: [],
    replicationcontrollers: ['status', 'scale'],
    configmaps: [],
    secrets: [],
    serviceaccounts: ['token'],
    services: ['status'],
    endpoints: [],
    podtemplates: [],
    limitranges: [],
    resourcequotas: ['status'],
    persistentvolumes: ['status'],
    persistentvolumeclaims: ['status'],
  }),
  groupVersion('discovery.k8s.io', 'v1', { endpointslices: [] }),
  groupVersion('coordination.k8s.io', 'v1', { leases: [] }),
  groupVersion('rbac.authorization.k8s.io', 'v1', {
    roles: [], clusterroles: [], rolebindings: [], clusterrolebindings: [],
  }),
  groupVersion('authorization.k8s.io', 'v1', {
    selfsubjectaccessreviews: [], subjectaccessreviews: [], selfsubjectrulesreviews: [],
  }),
  groupVersion('authentication.k8s.io', 'v1', { selfsubjectreviews: [], tokenreviews: [] }),
  groupVersion('events.k8s.io', 'v1', { events: [] }),
  groupVersion('apps', 'v1', {
    deployments: ['status', 'scale'], replicasets: ['status', 'scale'], statefulsets: ['status', 'scale'],
    daemonsets: ['status'], controllerrevisions: [],
  }),
  groupVersion('batch', 'v1', { jobs: ['status'], cronjobs: ['status'] }),
  groupVersion('policy', 'v1', { poddisruptionbudgets: ['status'] }),
  groupVersion('autoscaling', 'v2', { horizontalpodautoscalers: ['status'] }),
  groupVersion('autoscaling', 'v1', { horizontalpodautoscalers: ['status'] }),
  groupVersion('apiextensions.k8s.io', 'v1', { customresourcedefinitions: ['status'] }),
  groupVersion('admissionregistration.k8s.io', 'v1', {
    mutatingwebhookconfigurations: [], validatingwebhookconfigurations: [],
    validatingadmissionpolicies: ['status'], validatingadmissionpolicybindings: [],
  }),
  groupVersion('scheduling.k8s.io', 'v1', { priorityclasses: [] }),
  groupVersion('node.k8s.io', 'v1', { runtimeclasses: [] }),
  groupVersion('storage.k8s.io', 'v1', {
    storageclasses: [], csidrivers: [], csinodes: [], csistoragecapacities: [], volumeattachments: ['status'],
  }),
  groupVersion('networking.k8s.io', 'v1', { ingresses: ['status'], ingressclasses: [], networkpolicies: [] }),
  groupVersion('flowcontrol.apiserver.k8s.io', 'v1', { flowschemas: ['status'], prioritylevelconfigurations: ['status'] }),
  groupVersion('certificates.k8s.io', 'v1', { certificatesigningrequests: ['status', 'approval'] }),
];

/**
 * Whether an upstream URL path (`/api/v1/namespaces/{namespace}/pods/{name}/status`) belongs to a
 * served resource of `gv`. The group version's own discovery path (`/api/v1/`) is served too.
 */
export function isServedPath(gv: ServedGroupVersion, urlPath: string): boolean {
  const prefix = `/${gv.openApiPath}/`;
  if (!urlPath.startsWith(prefix)) return false;
  let rest = urlPath.slice(prefix.length);
  if (rest === '') return true;
  if (rest.startsWith('watch/')) return false;
  if (rest.startsWith('namespaces/{namespace}/')) rest = rest.slice('namespaces/{namespace}/'.length);
  const [resource, name, subresource, ...extra] = rest.split('/');
  const subresources = gv.resources[resource];
  if (!subresources || extra.length > 0) return false;
  if (name === undefined) return true;
  if (name !== '{name}') return false;
  return subresource === undefined || subresources.includes(subresource);
}
