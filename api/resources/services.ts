// core/v1 Service: defaulting and validation (service-validation.ts), status kept apart
// (services/status), printService's table (Type, Cluster-IP, External-IP, Port(s), Selector).
// Cluster IPs and node ports are allocated around the store (api/registry/service-allocation.ts).

import { isPlainObject, type KubeObject } from '../object.ts';
import type { ResourceStrategy } from '../resource.ts';
import { nameIsDNS1035Label } from '../validation/names.ts';
import { age, ageColumn, column, list, nameColumn, num, obj, str } from './printing.ts';
import { applyServiceDefaults, needsHealthCheck, validateService, validateServiceUpdate } from './service-validation.ts';

const LOAD_BALANCER_WIDTH = 16;

/** loadBalancerStatusStringer: ingress IPs or hostnames, truncated unless wide. */
function loadBalancerIngress(service: KubeObject): string {
  const ingress = list(service, 'status', 'loadBalancer', 'ingress').map((i) => str(i, 'ip') || str(i, 'hostname')).filter(Boolean);
  const text = ingress.join(',');
  return text.length > LOAD_BALANCER_WIDTH ? `${text.slice(0, LOAD_BALANCER_WIDTH - 3)}...` : text;
}

/** getServiceExternalIP. */
export function serviceExternalIP(service: KubeObject): string {
  const spec = isPlainObject(service.spec) ? service.spec : {};
  const externalIPs = Array.isArray(spec.externalIPs) ? spec.externalIPs.map(String) : [];
  switch (str(spec, 'type')) {
    case 'ClusterIP':
    case 'NodePort':
      return externalIPs.length > 0 ? externalIPs.join(',') : '<none>';
    case 'LoadBalancer': {
      const parts = [loadBalancerIngress(service), ...externalIPs].filter(Boolean);
      return parts.length > 0 ? parts.join(',') : '<pending>';
    }
    case 'ExternalName':
      return str(spec, 'externalName');
    default:
      return '<unknown>';
  }
}

/** makePortString: `80/TCP`, `80:30080/TCP`, joined with commas. */
export function servicePorts(service: KubeObject): string {
  const ports = list(service, 'spec', 'ports').map((port) => {
    const protocol = str(port, 'protocol');
    const nodePort = num(port, 'nodePort') ?? 0;
    return nodePort > 0 ? `${num(port, 'port') ?? 0}:${nodePort}/${protocol}` : `${num(port, 'port') ?? 0}/${protocol}`;
  });
  return ports.length > 0 ? ports.join(',') : '<none>';
}

/** labels.SelectorFromSet(...).String(): `app=web,tier=front` sorted; `<none>` when empty. */
function selectorText(selector: Record<string, unknown> | undefined): string {
  const keys = Object.keys(selector ?? {}).sort();
  return keys.length === 0 ? '<none>' : keys.map((k) => `${k}=${String(selector![k])}`).join(',');
}

/**
 * patchAllocatedValues of the Service REST storage: an update that leaves out what the server
 * allocated (a PUT or apply without clusterIP, nodePort, healthCheckNodePort) keeps the allocated values. The IP
 * family fields are not patched: the allocation step adopts the stored policy and infers families from clusterIPs.
 */
function patchAllocatedValues(service: KubeObject, old: KubeObject): void {
  if (!isPlainObject(service.spec) || !isPlainObject(old.spec)) return;
  const spec = service.spec;
  const oldSpec = old.spec;
  const keepsAddress = (s: Record<string, unknown>) => s.type !== 'ExternalName';
  if (keepsAddress(spec) && keepsAddress(oldSpec)) {
    if (!spec.clusterIP && oldSpec.clusterIP) spec.clusterIP = oldSpec.clusterIP;
    if ((!Array.isArray(spec.clusterIPs) || spec.clusterIPs.length === 0) && Array.isArray(oldSpec.clusterIPs)) spec.clusterIPs = [...oldSpec.clusterIPs];
  }
  const nodePorts = (s: Record<string, unknown>) => s.type === 'NodePort' || s.type === 'LoadBalancer';
  if (nodePorts(spec) && nodePorts(oldSpec)) {
    const oldPorts = list(oldSpec, 'ports');
    for (const port of list(spec, 'ports')) {
      if (typeof port.nodePort === 'number' && port.nodePort > 0) continue;
      const match = oldPorts.find((p) => p.port === port.port && (p.protocol ?? 'TCP') === (port.protocol ?? 'TCP') && (p.name ?? '') === (port.name ?? ''));
      if (match && typeof match.nodePort === 'number') port.nodePort = match.nodePort;
    }
  }
  if (needsHealthCheck(spec) && needsHealthCheck(oldSpec) && !spec.healthCheckNodePort && oldSpec.healthCheckNodePort) spec.healthCheckNodePort = oldSpec.healthCheckNodePort;
}

/** normalizeClusterIPs (update): clusterIPs follows a changed or cleared clusterIP the client left clusterIPs alone for. */
function normalizeClusterIPs(service: KubeObject, old: KubeObject): void {
  if (!isPlainObject(service.spec) || !isPlainObject(old.spec)) return;
  const spec = service.spec;
  const oldSpec = old.spec;
  const clusterIP = str(spec, 'clusterIP');
  const oldClusterIP = str(oldSpec, 'clusterIP');
  const ips = Array.isArray(spec.clusterIPs) ? spec.clusterIPs : [];
  const oldIPs = Array.isArray(oldSpec.clusterIPs) ? oldSpec.clusterIPs : [];
  if (oldIPs.length > 0 && ips.length === 0 && oldClusterIP === clusterIP) spec.clusterIPs = [...oldIPs];
  if (oldClusterIP === clusterIP || !same(spec.clusterIPs ?? [], oldIPs)) return;
  if (oldClusterIP && !clusterIP) delete spec.clusterIPs;
  else spec.clusterIPs = [clusterIP];
}

const needsClusterIP = (s: Record<string, unknown>) => s.type !== 'ExternalName';
const needsNodePorts = (s: Record<string, unknown>) => s.type === 'NodePort' || (s.type === 'LoadBalancer' && s.allocateLoadBalancerNodePorts !== false);
const externallyAccessible = (s: Record<string, unknown>) => s.type === 'NodePort' || s.type === 'LoadBalancer'
  || (Array.isArray(s.externalIPs) && s.externalIPs.length > 0);
const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/**
 * dropTypeDependentFields of the Service strategy: on a type change, what the old type had and the new one does
 * not use goes, if the client left it as it was (a changed value is the client's and meets validation): cluster
 * IPs and IP families when leaving for ExternalName, node ports when leaving NodePort/LoadBalancer, the traffic
 * policy when no longer externally reachable, the load balancer's class and status when no longer a LoadBalancer.
 */
function dropTypeDependentFields(service: KubeObject, old: KubeObject): void {
  if (!isPlainObject(service.spec) || !isPlainObject(old.spec)) return;
  const spec = service.spec;
  const oldSpec = old.spec;
  if (needsClusterIP(oldSpec) && !needsClusterIP(spec)) {
    if (same(spec.clusterIP, oldSpec.clusterIP) && same(spec.clusterIPs, oldSpec.clusterIPs)) { delete spec.clusterIP; delete spec.clusterIPs; }
    if (same(spec.ipFamilies, oldSpec.ipFamilies)) delete spec.ipFamilies;
    if (same(spec.ipFamilyPolicy, oldSpec.ipFamilyPolicy)) delete spec.ipFamilyPolicy;
  }
  if (needsNodePorts(oldSpec) && !needsNodePorts(spec)) {
    const nodePorts = (s: Record<string, unknown>) => list(s, 'ports').map((p) => p.nodePort ?? 0);
    if (same(nodePorts(spec), nodePorts(oldSpec))) for (const port of list(spec, 'ports')) delete port.nodePort;
  }
  if (needsHealthCheck(oldSpec) && !needsHealthCheck(spec) && same(spec.healthCheckNodePort, oldSpec.healthCheckNodePort)) delete spec.healthCheckNodePort;
  if (oldSpec.type === 'LoadBalancer' && spec.type !== 'LoadBalancer') {
    if (spec.allocateLoadBalancerNodePorts !== undefined && same(spec.allocateLoadBalancerNodePorts, oldSpec.allocateLoadBalancerNodePorts)) delete spec.allocateLoadBalancerNodePorts;
    if (same(spec.loadBalancerClass, oldSpec.loadBalancerClass)) delete spec.loadBalancerClass;
  }
  if (externallyAccessible(oldSpec) && !externallyAccessible(spec) && same(spec.externalTrafficPolicy, oldSpec.externalTrafficPolicy)) delete spec.externalTrafficPolicy;
  if (spec.type !== 'LoadBalancer' && isPlainObject(service.status)) service.status.loadBalancer = {};
}

export const serviceStrategy: ResourceStrategy = {
  group: '',
  version: 'v1',
  kind: 'Service',
  listKind: 'ServiceList',
  resource: 'services',
  singular: 'service',
  shortNames: ['svc'],
  categories: ['all'],
  namespaced: true,
  verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
  storageResource: 'services/specs',
  hasStatus: true,
  // serviceStatusStrategy resets only the spec: labels and annotations sent to /status are kept.
  statusUpdateMetadata: ['labels', 'annotations'],
  subresources: [],
  tracksGeneration: false,

  prepareForCreate(service) {
    service.status = { loadBalancer: {} };
  },
  prepareForUpdate(service, old) {
    patchAllocatedValues(service, old);
    normalizeClusterIPs(service, old);
    dropTypeDependentFields(service, old);
  },
  applyDefaults: applyServiceDefaults,
  validateName: nameIsDNS1035Label,
  validate: (service) => validateService(service),
  validateUpdate: (service, old) => validateServiceUpdate(service, old),
  selectableFieldNames: ['spec.clusterIP', 'spec.type'],
  selectableFields: (service) => ({ 'spec.clusterIP': str(service, 'spec', 'clusterIP'), 'spec.type': str(service, 'spec', 'type') }),
  table: {
    columns: [
      nameColumn(),
      column('Type', 'type determines how the Service is exposed. Defaults to ClusterIP. Valid options are ExternalName, ClusterIP, NodePort, and LoadBalancer. "ClusterIP" allocates a cluster-internal IP address for load-balancing to endpoints. Endpoints are determined by the selector or if that is not specified, by manual construction of an Endpoints object or EndpointSlice objects. If clusterIP is "None", no virtual IP is allocated and the endpoints are published as a set of endpoints rather than a virtual IP. "NodePort" builds on ClusterIP and allocates a port on every node which routes to the same endpoints as the clusterIP. "LoadBalancer" builds on NodePort and creates an external load-balancer (if supported in the current cloud) which routes to the same endpoints as the clusterIP. "ExternalName" aliases this service to the specified externalName. Several other fields do not apply to ExternalName services. More info: https://kubernetes.io/docs/concepts/services-networking/service/#publishing-services-service-types'),
      column('Cluster-IP', 'clusterIP is the IP address of the service and is usually assigned randomly. If an address is specified manually, is in-range (as per system configuration), and is not in use, it will be allocated to the service; otherwise creation of the service will fail. This field may not be changed through updates unless the type field is also being changed to ExternalName (which requires this field to be blank) or the type field is being changed from ExternalName (in which case this field may optionally be specified, as describe above).  Valid values are "None", empty string (""), or a valid IP address. Setting this to "None" makes a "headless service" (no virtual IP), which is useful when direct endpoint connections are preferred and proxying is not required.  Only applies to types ClusterIP, NodePort, and LoadBalancer. If this field is specified when creating a Service of type ExternalName, creation will fail. This field will be wiped when updating a Service to type ExternalName. More info: https://kubernetes.io/docs/concepts/services-networking/service/#virtual-ips-and-service-proxies'),
      column('External-IP', 'externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.  These IPs are not managed by Kubernetes.  The user is responsible for ensuring that traffic arrives at a node with this IP.  A common example is external load-balancers that are not part of the Kubernetes system.'),
      column('Port(s)', 'The list of ports that are exposed by this service. More info: https://kubernetes.io/docs/concepts/services-networking/service/#virtual-ips-and-service-proxies'),
      ageColumn(),
      column('Selector', 'Route service traffic to pods with label keys and values matching this selector. If empty or not present, the service is assumed to have an external process managing its endpoints, which Kubernetes will not modify. Only applies to types ClusterIP, NodePort, and LoadBalancer. Ignored if type is ExternalName. More info: https://kubernetes.io/docs/concepts/services-networking/service/', 1),
    ],
    cells: (service, now) => [
      service.metadata.name ?? '', str(service, 'spec', 'type'), str(service, 'spec', 'clusterIP') || '<none>',
      serviceExternalIP(service), servicePorts(service), age(service.metadata.creationTimestamp, now), selectorText(obj(service, 'spec', 'selector')),
    ],
  },
};
