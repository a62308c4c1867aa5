// The service environment variables the kubelet gives every container (pkg/kubelet/envvars FromServices and
// kubelet_pods.go getServiceEnvVarMap): for each service with a cluster IP in the pod's namespace (unless the pod
// sets enableServiceLinks: false) and always for the `kubernetes` service of `default`,
// {NAME}_SERVICE_HOST, {NAME}_SERVICE_PORT, {NAME}_SERVICE_PORT_{PORTNAME} and the Docker link variables
// {NAME}_PORT, {NAME}_PORT_{port}_{PROTO}[_PROTO|_PORT|_ADDR]. The kubelet computes them when it creates a
// container, from its service informer, so a service created after the container started is not in its
// environment; here each container start takes a snapshot (shared between starts while no service changes).

import type { KubernetesObject } from '@kubernetes/client-node';

interface ServicePortView { name: string; port: number; protocol: string }
interface ServiceView { namespace: string; name: string; clusterIP: string; ports: ServicePortView[] }

type Json = Record<string, unknown>;
const MASTER_SERVICES = new Set(['kubernetes']);

/** makeEnvVariableName: upper case, dashes to underscores. */
function envName(name: string): string {
  return name.replaceAll('-', '_').toUpperCase();
}

/** IsServiceIPSet: a cluster IP that is neither empty nor None. */
function viewOf(service: KubernetesObject): ServiceView | undefined {
  const spec = ((service as Json).spec ?? {}) as Json;
  const clusterIP = typeof spec.clusterIP === 'string' ? spec.clusterIP : '';
  if (!clusterIP || clusterIP === 'None') return undefined;
  const ports = (Array.isArray(spec.ports) ? spec.ports : []).filter((p): p is Json => Boolean(p) && typeof p === 'object').map((p) => ({
    name: typeof p.name === 'string' ? p.name : '', port: typeof p.port === 'number' ? p.port : 0, protocol: typeof p.protocol === 'string' && p.protocol ? p.protocol : 'TCP',
  }));
  if (ports.length === 0) return undefined;
  return { namespace: service.metadata?.namespace ?? '', name: service.metadata?.name ?? '', clusterIP, ports };
}

/** FromServices, appended in the services' order. */
export function serviceVariables(services: Iterable<ServiceView>): Map<string, string> {
  const env = new Map<string, string>();
  for (const service of services) {
    const prefix = envName(service.name);
    env.set(`${prefix}_SERVICE_HOST`, service.clusterIP);
    env.set(`${prefix}_SERVICE_PORT`, String(service.ports[0].port));
    for (const port of service.ports) if (port.name) env.set(`${prefix}_SERVICE_PORT_${envName(port.name)}`, String(port.port));
    const host = service.clusterIP.includes(':') ? `[${service.clusterIP}]` : service.clusterIP;
    service.ports.forEach((port, i) => {
      const proto = port.protocol.toLowerCase();
      const url = `${proto}://${host}:${port.port}`;
      if (i === 0) env.set(`${prefix}_PORT`, url);
      const portPrefix = `${prefix}_PORT_${port.port}_${port.protocol.toUpperCase()}`;
      env.set(portPrefix, url);
      env.set(`${portPrefix}_PROTO`, proto);
      env.set(`${portPrefix}_PORT`, String(port.port));
      env.set(`${portPrefix}_ADDR`, service.clusterIP);
    });
  }
  return env;
}

/** The services a kubelet process has seen (fed by its service watch), and the variables they give a namespace. */
export class ServiceEnvironment {
  private readonly services = new Map<string, ServiceView>();
  /** `namespace links` → variables, until a service changes: containers started meanwhile share one map. */
  private readonly snapshots = new Map<string, ReadonlyMap<string, string>>();

  changed(service: KubernetesObject): void {
    const key = `${service.metadata?.namespace}/${service.metadata?.name}`;
    const view = viewOf(service);
    const before = this.services.get(key);
    if (view) this.services.set(key, view);
    else this.services.delete(key);
    if (JSON.stringify(before) !== JSON.stringify(view)) this.snapshots.clear();
  }

  deleted(service: KubernetesObject): void {
    if (this.services.delete(`${service.metadata?.namespace}/${service.metadata?.name}`)) this.snapshots.clear();
  }

  /** getServiceEnvVarMap: the namespace's services (with service links) and the master services of `default`. */
  variablesFor(namespace: string, enableServiceLinks: boolean): ReadonlyMap<string, string> {
    const cacheKey = `${namespace} ${enableServiceLinks}`;
    const cached = this.snapshots.get(cacheKey);
    if (cached) return cached;
    const picked = new Map<string, ServiceView>();
    for (const service of this.services.values()) {
      if (service.namespace === 'default' && MASTER_SERVICES.has(service.name)) {
        if (!picked.has(service.name)) picked.set(service.name, service);
      } else if (service.namespace === namespace && enableServiceLinks) {
        picked.set(service.name, service);
      }
    }
    const variables = serviceVariables([...picked.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)));
    this.snapshots.set(cacheKey, variables);
    return variables;
  }
}
