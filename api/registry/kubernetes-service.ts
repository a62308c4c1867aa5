// The `kubernetes` Service of the `default` namespace, which kube-apiserver maintains itself
// (pkg/controlplane/controller/kubernetesservice and the endpoint reconciler): ClusterIP the first address
// of the service range, port 443 named https targeting the server's port, and Endpoints and an
// EndpointSlice naming the server's address. The reconciler writes the endpoints straight to storage as
// upstream's does through its own storage, so a loopback address (the default bind) is accepted here.

import { randomUUID } from 'node:crypto';
import { StatusError } from '../errors.ts';
import type { KubeObject } from '../object.ts';
import type { RequestContext } from '../resource.ts';
import { KeyExistsError } from '../../storage/interface.ts';
import type { ApiRegistry } from './registry.ts';

export const KUBERNETES_SERVICE = 'kubernetes';

function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export async function reconcileKubernetesService(registry: ApiRegistry, ctx: RequestContext, clusterIP: string, address: string, port: number): Promise<void> {
  const services = registry.lookup('', 'v1', 'services');
  const endpoints = registry.lookup('', 'v1', 'endpoints');
  const slices = registry.lookup('discovery.k8s.io', 'v1', 'endpointslices');
  if (!services || !endpoints || !slices) return;
  const serviceCtx = { ...ctx, namespace: 'default' };
  const desiredPorts = [{ name: 'https', port: 443, protocol: 'TCP', targetPort: port }];
  const existing = await services.storage.get(services.key('default', KUBERNETES_SERVICE));
  try {
    if (existing) throw new StatusError(409, 'AlreadyExists', 'exists');
    await services.create(serviceCtx, {
      apiVersion: 'v1', kind: 'Service',
      metadata: { name: KUBERNETES_SERVICE, labels: { component: 'apiserver', provider: 'kubernetes' } },
      spec: { type: 'ClusterIP', clusterIP, ports: desiredPorts, sessionAffinity: 'None' },
    }, { dryRun: false, fieldValidation: 'Strict', internal: true });
  } catch (err) {
    if (!(err instanceof StatusError && err.reason === 'AlreadyExists')) throw err;
    // A restart on another port: the service follows (the cluster IP stays).
    await services.storage.guaranteedUpdate(services.key('default', KUBERNETES_SERVICE), (current) => {
      const spec = current.spec as Record<string, unknown>;
      if (JSON.stringify(spec.ports) === JSON.stringify(desiredPorts)) return current;
      return { ...current, spec: { ...spec, ports: desiredPorts } };
    });
  }
  const ipv6 = address.includes(':');
  const endpointPorts = [{ name: 'https', port, protocol: 'TCP' }];
  await upsert(registry, endpoints.key('default', KUBERNETES_SERVICE), {
    apiVersion: 'v1', kind: 'Endpoints',
    metadata: { name: KUBERNETES_SERVICE, namespace: 'default', labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } },
    subsets: [{ addresses: [{ ip: address }], ports: endpointPorts }],
  }, ctx.now);
  await upsert(registry, slices.key('default', KUBERNETES_SERVICE), {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: { name: KUBERNETES_SERVICE, namespace: 'default', labels: { 'kubernetes.io/service-name': KUBERNETES_SERVICE } },
    addressType: ipv6 ? 'IPv6' : 'IPv4',
    endpoints: [{ addresses: [address], conditions: { ready: true } }],
    ports: endpointPorts,
  }, ctx.now);
}

/** Creates or replaces the content (not the identity) of a server-maintained object. */
async function upsert(registry: ApiRegistry, key: string, desired: KubeObject, now: Date): Promise<void> {
  const content = (object: KubeObject) => JSON.stringify({ ...object, metadata: { labels: object.metadata.labels } });
  try {
    await registry.storage.create(key, { ...desired, metadata: { ...desired.metadata, uid: randomUUID(), creationTimestamp: rfc3339(now) } });
  } catch (err) {
    if (!(err instanceof KeyExistsError)) throw err;
    await registry.storage.guaranteedUpdate(key, (current) => (content(current) === content(desired)
      ? current : { ...desired, metadata: { ...current.metadata, labels: desired.metadata.labels } }));
  }
}
