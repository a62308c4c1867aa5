// Conformance entries of sig-network for Services, Endpoints and EndpointSlices, checked against `up`'s cluster
// (API server, scheduler, controllers and two simulated nodes). What these entries check of real traffic (DNS
// answers for an ExternalName, reaching a ClusterIP or NodePort from a pod) is not simulated: kubefacade proxies no
// packets. The entries whose point is traffic (session affinity, NodePort reachability, TCP and UDP on one port) are
// not here; test/service-networking-api.test.ts checks the API side of them.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startConformanceCluster, until, type ConformanceCluster, type Json } from './helpers/cluster.ts';

const NODE_PORT_RANGE = { first: 30000, last: 32767 };
const SERVICE_CIDR_PREFIX = /^10\.(9[6-9]|10\d|11[01])\./;

describe('conformance: network services', () => {
  let c: ConformanceCluster;
  before(async () => {
    c = await startConformanceCluster('network', { nodes: 2 });
  });
  after(async () => {
    await c?.stop();
  });

  let namespaces = 0;
  const namespace = async (): Promise<string> => {
    const name = `svc-e2e-${++namespaces}`;
    await c.api('post', '/api/v1/namespaces', { body: { metadata: { name } } });
    return name;
  };
  const services = (ns: string) => `/api/v1/namespaces/${ns}/services`;
  const assertClusterIP = (service: Json) => {
    assert.match(service.spec.clusterIP, SERVICE_CIDR_PREFIX, `clusterIP ${service.spec.clusterIP}`);
    assert.deepEqual(service.spec.clusterIPs, [service.spec.clusterIP]);
  };
  const assertNodePorts = (service: Json, expected: boolean) => {
    for (const port of service.spec.ports as Json[]) {
      if (!expected) assert.equal(port.nodePort, undefined, `nodePort of ${JSON.stringify(port)}`);
      else assert.ok(port.nodePort >= NODE_PORT_RANGE.first && port.nodePort <= NODE_PORT_RANGE.last, `nodePort ${port.nodePort}`);
    }
  };
  /** Whether a node port is free: a service asking for it gets it (then it is deleted again). */
  const nodePortFree = async (ns: string, nodePort: number): Promise<boolean> => {
    const res = await c.raw('post', services(ns)).set('Content-Type', 'application/json').send(JSON.stringify({
      metadata: { name: `probe-${nodePort}` }, spec: { type: 'NodePort', ports: [{ port: 80, nodePort }] },
    }));
    if (res.status === 201) {
      await c.api('delete', `${services(ns)}/probe-${nodePort}`);
      return true;
    }
    assert.equal(res.status, 422, res.text);
    assert.match(res.body.message, /provided port is already allocated/);
    return false;
  };

  /**
   * What makes a service reachable that the API server and controllers do (the packets themselves are not
   * simulated): two pods its selector picks run, and its Endpoints and EndpointSlice list both, ready, on port 80.
   */
  const servedByPods = async (ns: string, service: string) => {
    for (const i of [1, 2]) {
      await c.api('post', `/api/v1/namespaces/${ns}/pods`, { body: { metadata: { name: `${service}-${i}`, labels: { app: service } }, spec: {
        containers: [{ name: 'agnhost', image: 'registry.k8s.io/e2e-test-images/agnhost:2.53', args: ['netexec', '--http-port=80'], ports: [{ containerPort: 80 }] }],
      } } });
    }
    await until(async () => {
      const endpoints = await c.api('get', `/api/v1/namespaces/${ns}/endpoints/${service}`);
      const subset = endpoints.subsets?.[0];
      return subset?.addresses?.length === 2 && subset.ports[0].port === 80 ? true : undefined;
    }, `endpoints of ${service} listing its two pods`);
    await until(async () => {
      const slices = await c.api('get', `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3D${service}`);
      const ready = (slices.items as Json[]).flatMap((s) => (s.endpoints ?? []) as Json[]).filter((e) => e.conditions.ready);
      return ready.length === 2 ? true : undefined;
    }, `EndpointSlice of ${service} listing its two pods`);
  };

  test('Kubernetes Service', async () => {
    const service = await c.api('get', '/api/v1/namespaces/default/services/kubernetes');
    assert.equal(service.spec.type, 'ClusterIP');
    assert.deepEqual(service.spec.ports.map((p: Json) => [p.name, p.port, p.protocol]), [['https', 443, 'TCP']]);
    assert.equal(service.spec.clusterIP, '10.96.0.1');
    const endpoints = await c.api('get', '/api/v1/namespaces/default/endpoints/kubernetes');
    assert.deepEqual(endpoints.subsets[0].addresses.map((a: Json) => a.ip), ['127.0.0.1']);
    assert.equal(endpoints.subsets[0].ports[0].port, Number(new URL(c.server.url).port));
  });

  test('Service, deletes a collection of services', async () => {
    const ns = await namespace();
    for (const name of ['e2e-svc-a', 'e2e-svc-b', 'e2e-svc-c']) {
      await c.api('post', services(ns), { body: { metadata: { name, labels: { 'e2e-test-service': 'delete' } }, spec: { ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 80 }] } } });
    }
    await c.api('post', services(ns), { body: { metadata: { name: 'e2e-svc-keep' }, spec: { ports: [{ port: 80 }] } } });
    const labelled = await c.api('get', `${services(ns)}?labelSelector=e2e-test-service%3Ddelete`);
    assert.equal(labelled.items.length, 3);
    const ips = (labelled.items as Json[]).map((s) => s.spec.clusterIP as string);
    await c.api('delete', `${services(ns)}?labelSelector=e2e-test-service%3Ddelete`);
    const left = await c.api('get', services(ns));
    assert.deepEqual((left.items as Json[]).map((s) => s.metadata.name), ['e2e-svc-keep']);
    // The deleted services' addresses are free again: each can be asked for by a new service.
    await until(async () => {
      for (const [i, ip] of ips.entries()) {
        const res = await c.raw('post', services(ns)).set('Content-Type', 'application/json').send(JSON.stringify({ metadata: { name: `reuse-${i}` }, spec: { clusterIP: ip, ports: [{ port: 80 }] } }));
        if (res.status !== 201 && res.status !== 409) return undefined;
      }
      return true;
    }, 'cluster IPs released');
  });

  test('Service, complete ServiceStatus lifecycle', async () => {
    const ns = await namespace();
    const name = 'test-service-status';
    await c.api('post', services(ns), { body: {
      metadata: { name, labels: { 'test-service-static': 'true' } },
      spec: { type: 'LoadBalancer', loadBalancerClass: 'example.com/internal-vip', ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 80 }] },
    } });
    const listed = await c.api('get', `${services(ns)}?labelSelector=test-service-static%3Dtrue`);
    assert.deepEqual((listed.items as Json[]).map((s) => s.metadata.name), [name]);
    const status = await c.api('get', `${services(ns)}/${name}/status`);
    assert.equal(status.kind, 'Service');
    assert.deepEqual(status.status.loadBalancer, {});
    // A merge patch of /status: the annotation and the load balancer's ingress are kept, a spec change is not.
    const patched = await c.api('patch', `${services(ns)}/${name}/status`, {
      contentType: 'application/merge-patch+json',
      body: { metadata: { annotations: { patchedstatus: 'true' } }, spec: { ports: [{ name: 'http', port: 81 }] }, status: { loadBalancer: { ingress: [{ ip: '203.0.113.1' }] } } },
    });
    assert.equal(patched.metadata.annotations.patchedstatus, 'true');
    assert.deepEqual(patched.status.loadBalancer.ingress, [{ ip: '203.0.113.1' }]);
    assert.equal(patched.spec.ports[0].port, 80);
    // An update of /status adds a condition.
    const current = await c.api('get', `${services(ns)}/${name}/status`);
    current.status.conditions = [{ type: 'StatusUpdate', status: 'True', reason: 'E2E', message: 'Set from e2e test', lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') }];
    const updated = await c.api('put', `${services(ns)}/${name}/status`, { body: current });
    assert.deepEqual(updated.status.conditions.map((x: Json) => [x.type, x.status, x.reason]), [['StatusUpdate', 'True', 'E2E']]);
    assert.deepEqual(updated.status.loadBalancer.ingress, [{ ip: '203.0.113.1' }]);
    // A patch of the service itself leaves the status alone.
    const relabelled = await c.api('patch', `${services(ns)}/${name}`, { contentType: 'application/strategic-merge-patch+json', body: { metadata: { labels: { 'test-service': 'patched' } } } });
    assert.equal(relabelled.metadata.labels['test-service'], 'patched');
    assert.equal(relabelled.status.conditions[0].type, 'StatusUpdate');
    const spec = await c.api('patch', `${services(ns)}/${name}`, { contentType: 'application/merge-patch+json', body: { status: { loadBalancer: { ingress: [{ ip: '198.51.100.9' }] } } } });
    assert.deepEqual(spec.status.loadBalancer.ingress, [{ ip: '203.0.113.1' }]);
    await c.api('delete', `${services(ns)}/${name}`);
    await c.api('get', `${services(ns)}/${name}`, { expect: 404 });
  });

  test('Service, change type, ClusterIP to ExternalName', async () => {
    const ns = await namespace();
    const created = await c.api('post', services(ns), { body: { metadata: { name: 'clusterip-service' }, spec: { type: 'ClusterIP', ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }] } } });
    assertClusterIP(created);
    // As the e2e jig does: a GET, then type and externalName changed, clusterIP left as it was read.
    const changed = await c.api('put', `${services(ns)}/clusterip-service`, { body: { ...created, spec: { ...created.spec, type: 'ExternalName', externalName: `externalsvc.${ns}.svc.cluster.local` } } });
    assert.equal(changed.spec.type, 'ExternalName');
    assert.equal(changed.spec.externalName, `externalsvc.${ns}.svc.cluster.local`);
    assert.equal(changed.spec.clusterIP, undefined);
    assert.equal(changed.spec.clusterIPs, undefined);
    assert.equal(changed.spec.ipFamilies, undefined);
    assert.equal(changed.spec.ipFamilyPolicy, undefined);
    // The address went back to the range: another service can have it.
    await until(async () => {
      const res = await c.raw('post', services(ns)).set('Content-Type', 'application/json').send(JSON.stringify({ metadata: { name: 'takes-ip' }, spec: { clusterIP: created.spec.clusterIP, ports: [{ port: 80 }] } }));
      return res.status === 201 ? true : undefined;
    }, 'released cluster IP');
    // Changing the address together with the type to ExternalName is refused, as upstream validation words it.
    const other = await c.api('post', services(ns), { body: { metadata: { name: 'clusterip-2' }, spec: { ports: [{ port: 80 }] } } });
    const res = await c.raw('put', `${services(ns)}/clusterip-2`).set('Content-Type', 'application/json')
      .send(JSON.stringify({ ...other, spec: { ...other.spec, type: 'ExternalName', externalName: 'example.com', clusterIP: '10.96.200.200', clusterIPs: ['10.96.200.200'] } }));
    assert.equal(res.status, 422, res.text);
  });

  test('Service, change type, ExternalName to ClusterIP', async () => {
    const ns = await namespace();
    const created = await c.api('post', services(ns), { body: { metadata: { name: 'externalname-service' }, spec: { type: 'ExternalName', externalName: 'foo.example.com', selector: { app: 'externalname-service' } } } });
    assert.equal(created.spec.clusterIP, undefined);
    assert.equal(created.spec.type, 'ExternalName');
    const changed = await c.api('put', `${services(ns)}/externalname-service`, { body: {
      ...created, spec: { ...created.spec, type: 'ClusterIP', externalName: '', ports: [{ port: 80, name: 'http', protocol: 'TCP', targetPort: 80 }] },
    } });
    assert.equal(changed.spec.type, 'ClusterIP');
    assertClusterIP(changed);
    assert.equal(changed.spec.externalName, undefined);
    assertNodePorts(changed, false);
    assert.deepEqual([changed.spec.ipFamilies, changed.spec.ipFamilyPolicy, changed.spec.internalTrafficPolicy], [['IPv4'], 'SingleStack', 'Cluster']);
    await servedByPods(ns, 'externalname-service');
  });

  test('Service, change type, ExternalName to NodePort', async () => {
    const ns = await namespace();
    const created = await c.api('post', services(ns), { body: { metadata: { name: 'externalname-service' }, spec: { type: 'ExternalName', externalName: 'foo.example.com', selector: { app: 'externalname-service' } } } });
    assert.equal(created.spec.clusterIP, undefined);
    const changed = await c.api('put', `${services(ns)}/externalname-service`, { body: {
      ...created, spec: { ...created.spec, type: 'NodePort', externalName: '', ports: [{ port: 80, name: 'http', protocol: 'TCP', targetPort: 80 }] },
    } });
    assert.equal(changed.spec.type, 'NodePort');
    assertClusterIP(changed);
    assertNodePorts(changed, true);
    assert.equal(changed.spec.externalTrafficPolicy, 'Cluster');
    assert.equal(await nodePortFree(ns, changed.spec.ports[0].nodePort), false);
    await servedByPods(ns, 'externalname-service');
  });

  test('Service, change type, NodePort to ExternalName', async () => {
    const ns = await namespace();
    const created = await c.api('post', services(ns), { body: { metadata: { name: 'nodeport-service' }, spec: { type: 'NodePort', ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }] } } });
    assertClusterIP(created);
    assertNodePorts(created, true);
    const nodePort = created.spec.ports[0].nodePort as number;
    const changed = await c.api('put', `${services(ns)}/nodeport-service`, { body: { ...created, spec: { ...created.spec, type: 'ExternalName', externalName: `externalsvc.${ns}.svc.cluster.local` } } });
    assert.equal(changed.spec.type, 'ExternalName');
    assert.equal(changed.spec.clusterIP, undefined);
    assertNodePorts(changed, false);
    assert.equal(changed.spec.externalTrafficPolicy, undefined);
    // The node port was released.
    await until(async () => (await nodePortFree(ns, nodePort)) ? true : undefined, `node port ${nodePort} released`);
  });

  test('Service, endpoints with multiple ports', async () => {
    const ns = await namespace();
    await c.api('post', services(ns), { body: { metadata: { name: 'multi-endpoint-test' }, spec: {
      selector: { app: 'multiport' },
      ports: [{ name: 'portname1', port: 80, targetPort: 'svc1' }, { name: 'portname2', port: 81, targetPort: 'svc2' }],
    } } });
    const ep = `/api/v1/namespaces/${ns}/endpoints/multi-endpoint-test`;
    const slices = `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3Dmulti-endpoint-test`;
    /** pod name → its ports, from the Endpoints and (checked to agree) from the EndpointSlices. */
    const portsByPod = async (): Promise<Record<string, number[]>> => {
      const endpoints = await c.api('get', ep);
      const fromEndpoints: Record<string, number[]> = {};
      for (const subset of (endpoints.subsets ?? []) as Json[]) {
        for (const address of (subset.addresses ?? []) as Json[]) {
          fromEndpoints[address.targetRef.name] = [...(fromEndpoints[address.targetRef.name] ?? []), ...(subset.ports as Json[]).map((p) => p.port as number)].sort();
        }
      }
      const fromSlices: Record<string, number[]> = {};
      for (const slice of (await c.api('get', slices)).items as Json[]) {
        for (const endpoint of (slice.endpoints ?? []) as Json[]) {
          if (!endpoint.conditions.ready) continue;
          fromSlices[endpoint.targetRef.name] = [...(fromSlices[endpoint.targetRef.name] ?? []), ...((slice.ports ?? []) as Json[]).map((p) => p.port as number)].sort();
        }
      }
      assert.deepEqual(fromSlices, fromEndpoints, 'EndpointSlices and Endpoints agree');
      return fromEndpoints;
    };
    let last = '';
    const expectPorts = (expected: Record<string, number[]>) => until(async () => {
      const got = await portsByPod();
      last = JSON.stringify(got);
      return last === JSON.stringify(expected) ? got : undefined;
    }, `endpoints ${JSON.stringify(expected)}`).catch((err: Error) => assert.fail(`${err.message}; last seen ${last}`));
    await expectPorts({});
    const pod = (name: string, portName: string, port: number) => ({
      metadata: { name, labels: { app: 'multiport' } },
      spec: { containers: [{ name: 'agnhost', image: 'registry.k8s.io/e2e-test-images/agnhost:2.53', args: ['netexec', `--http-port=${port}`], ports: [{ name: portName, containerPort: port }] }] },
    });
    await c.api('post', `/api/v1/namespaces/${ns}/pods`, { body: pod('pod1', 'svc1', 100) });
    await expectPorts({ pod1: [100] });
    await c.api('post', `/api/v1/namespaces/${ns}/pods`, { body: pod('pod2', 'svc2', 101) });
    await expectPorts({ pod1: [100], pod2: [101] });
    await c.api('delete', `/api/v1/namespaces/${ns}/pods/pod1?gracePeriodSeconds=0`);
    await expectPorts({ pod2: [101] });
    await c.api('delete', `/api/v1/namespaces/${ns}/pods/pod2?gracePeriodSeconds=0`);
    await expectPorts({});
  });

  test('EndpointSlice Mirroring', async () => {
    const groups = await c.api('get', '/apis');
    assert.ok((groups.groups as Json[]).some((g) => g.name === 'discovery.k8s.io'));
    const group = await c.api('get', '/apis/discovery.k8s.io');
    assert.ok((group.versions as Json[]).some((v) => v.groupVersion === 'discovery.k8s.io/v1'));
    const resources = await c.api('get', '/apis/discovery.k8s.io/v1');
    assert.ok((resources.resources as Json[]).some((r) => r.name === 'endpointslices'));

    const ns = await namespace();
    const svc = await c.api('post', services(ns), { body: { metadata: { name: 'example-custom-endpoints' }, spec: { ports: [{ name: 'example', port: 80, protocol: 'TCP' }] } } });
    await c.api('post', `/api/v1/namespaces/${ns}/endpoints`, { body: {
      metadata: { name: 'example-custom-endpoints' },
      subsets: [{ ports: [{ name: 'example', port: 80, protocol: 'TCP' }], addresses: [{ ip: '10.1.2.3' }] }],
    } });
    const slices = `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3Dexample-custom-endpoints`;
    const mirrored = (predicate: (slice: Json) => boolean) => until(async () => {
      const items = (await c.api('get', slices)).items as Json[];
      return items.length === 1 && predicate(items[0]) ? items[0] : undefined;
    }, 'mirrored EndpointSlice');
    const slice = await mirrored((s) => s.endpoints?.[0]?.addresses?.[0] === '10.1.2.3');
    assert.equal(slice.metadata.labels['endpointslice.kubernetes.io/managed-by'], 'endpointslicemirroring-controller.k8s.io');
    assert.equal(slice.metadata.labels['kubernetes.io/service-name'], 'example-custom-endpoints');
    assert.equal(slice.addressType, 'IPv4');
    assert.deepEqual(slice.ports, [{ name: 'example', port: 80, protocol: 'TCP' }]);
    assert.deepEqual(slice.endpoints[0].conditions, { ready: true });
    assert.deepEqual(slice.metadata.ownerReferences.map((o: Json) => [o.kind, o.name, o.uid, o.controller]), [['Endpoints', 'example-custom-endpoints', (await c.api('get', `/api/v1/namespaces/${ns}/endpoints/example-custom-endpoints`)).metadata.uid, true]]);
    assert.ok(svc.metadata.uid);

    // Update: the new address and port reach the mirrored slice.
    await c.api('patch', `/api/v1/namespaces/${ns}/endpoints/example-custom-endpoints`, { contentType: 'application/merge-patch+json', body: {
      subsets: [{ ports: [{ name: 'example', port: 8090, protocol: 'TCP' }], addresses: [{ ip: '10.2.3.4' }] }],
    } });
    await mirrored((s) => s.endpoints?.[0]?.addresses?.[0] === '10.2.3.4' && s.ports?.[0]?.port === 8090);

    // Delete: the mirrored slice goes with the Endpoints.
    await c.api('delete', `/api/v1/namespaces/${ns}/endpoints/example-custom-endpoints`);
    await until(async () => ((await c.api('get', slices)).items as Json[]).length === 0 ? true : undefined, 'mirrored slice deleted');
  });
});
