// healthCheckNodePort, as kube-apiserver's Service REST storage handles it: allocated from
// --service-node-port-range for `type: LoadBalancer` with `externalTrafficPolicy: Local`, a requested value
// honoured (or refused with upstream's internal errors), validated as ValidateService words it, kept by a PUT that
// leaves it out, and released when the policy or the type changes, when the service is deleted; kept across a restart.

import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { startApiServer, type RunningApiServer } from '../server/start.ts';

const SVC = '/api/v1/namespaces/default/services';

describe('healthCheckNodePort', () => {
  let dir = '';
  let server: RunningApiServer | undefined;
  after(async () => {
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const start = async () => {
    server = await startApiServer({
      dataDir: dir, bind: '127.0.0.1', port: 0, tlsSans: [], disableAdmissionPlugins: ['ServiceAccount'],
      serviceClusterIpRange: '10.0.0.0/24', serviceNodePortRange: '30000-30009',
    });
  };
  const call = (method: 'get' | 'post' | 'put' | 'delete' | 'patch', path: string) =>
    request(server!.url)[method](path).ca(server!.caCertPem).set('Authorization', `Bearer ${server!.adminToken}`);
  const create = (name: string, spec: Record<string, unknown>) =>
    call('post', SVC).set('Content-Type', 'application/json')
      .send(JSON.stringify({ metadata: { name }, spec: { type: 'LoadBalancer', externalTrafficPolicy: 'Local', selector: { app: name }, ports: [{ port: 80 }], ...spec } }));
  const patch = (name: string, spec: Record<string, unknown>) =>
    call('patch', `${SVC}/${name}`).set('Content-Type', 'application/merge-patch+json').send(JSON.stringify({ spec }));
  /** Ports of a deleted service or of a dropped field go back a few ms after the write. */
  const eventually = async (attempt: () => Promise<request.Response>, status: number) => {
    for (let i = 0; ; i++) {
      const res = await attempt();
      if (res.status === status || i === 50) return res;
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  test('allocated, honoured, validated, released on policy, type and delete, kept across a restart', async () => {
    dir = await mkdtemp(join(tmpdir(), 'kubefacade-hcnp-'));
    await start();

    // Allocated beside the port's node port, from the same range.
    const lb = (await create('lb', {}).expect(201)).body.spec;
    assert.equal(typeof lb.healthCheckNodePort, 'number');
    assert.ok(lb.healthCheckNodePort >= 30000 && lb.healthCheckNodePort <= 30009);
    assert.notEqual(lb.healthCheckNodePort, lb.ports[0].nodePort);
    // Cluster policy and other types get none.
    const cluster = (await create('cluster', { externalTrafficPolicy: 'Cluster', allocateLoadBalancerNodePorts: false }).expect(201)).body.spec;
    assert.equal(cluster.healthCheckNodePort, undefined);

    // A requested port is honoured, once (P: one the first service's dynamic picks left free).
    const P = [30009, 30008, 30007].find((p) => p !== lb.healthCheckNodePort && p !== lb.ports[0].nodePort)!;
    const pinned = (await create('pinned', { healthCheckNodePort: P, allocateLoadBalancerNodePorts: false }).expect(201)).body.spec;
    assert.equal(pinned.healthCheckNodePort, P);
    const taken = await create('taken', { healthCheckNodePort: P, allocateLoadBalancerNodePorts: false }).expect(500);
    assert.equal(taken.body.message, `Internal error occurred: failed to allocate requested HealthCheck NodePort ${P}: provided port is already allocated`);
    assert.equal(taken.body.reason, 'InternalError');
    const outside = await create('outside', { healthCheckNodePort: 31000, allocateLoadBalancerNodePorts: false }).expect(500);
    assert.equal(outside.body.message, 'Internal error occurred: failed to allocate requested HealthCheck NodePort 31000: provided port is not in the valid range. The range of valid ports is 30000-30009');
    // The node port a refused request had taken for its port went back.
    const clash = await create('clash', { healthCheckNodePort: lb.ports[0].nodePort }).expect(500);
    assert.equal(clash.body.message, `Internal error occurred: failed to allocate requested HealthCheck NodePort ${lb.ports[0].nodePort}: provided port is already allocated`);

    // Validation, word for word, nothing stored.
    const notLocal = await create('not-local', { externalTrafficPolicy: 'Cluster', healthCheckNodePort: 30008 }).expect(422);
    assert.equal(notLocal.body.message, "Service \"not-local\" is invalid: spec.healthCheckNodePort: Invalid value: 30008: may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'");
    const notLB = await create('not-lb', { type: 'NodePort', healthCheckNodePort: 30008 }).expect(422);
    assert.match(notLB.body.message, /spec.healthCheckNodePort: Invalid value: 30008: may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'/);
    const badPort = await create('bad-port', { healthCheckNodePort: 70000 }).expect(422);
    assert.equal(badPort.body.message, 'Service "bad-port" is invalid: spec.healthCheckNodePort: Invalid value: 70000: must be between 1 and 65535, inclusive');
    for (const name of ['not-local', 'not-lb', 'bad-port', 'taken', 'outside', 'clash']) await call('get', `${SVC}/${name}`).expect(404);

    // A PUT that leaves it out keeps it.
    const current = (await call('get', `${SVC}/lb`).expect(200)).body;
    const put = (await call('put', `${SVC}/lb`).set('Content-Type', 'application/json')
      .send(JSON.stringify({ metadata: { name: 'lb', resourceVersion: current.metadata.resourceVersion }, spec: { type: 'LoadBalancer', externalTrafficPolicy: 'Local', selector: { app: 'lb' }, ports: [{ port: 80 }] } })).expect(200)).body.spec;
    assert.equal(put.healthCheckNodePort, lb.healthCheckNodePort);

    // Policy Local → Cluster: dropped and released; Cluster → Local: allocated again.
    const toCluster = (await patch('pinned', { externalTrafficPolicy: 'Cluster' }).expect(200)).body.spec;
    assert.equal(toCluster.healthCheckNodePort, undefined);
    const reuse = await eventually(() => create('reuse', { healthCheckNodePort: P, allocateLoadBalancerNodePorts: false }), 201);
    assert.equal(reuse.status, 201, reuse.text);
    const toLocal = (await patch('cluster', { externalTrafficPolicy: 'Local' }).expect(200)).body.spec;
    assert.equal(typeof toLocal.healthCheckNodePort, 'number');
    // Changing it with a policy that does not use it is refused.
    const kept = await patch('pinned', { healthCheckNodePort: 30007 }).expect(422);
    assert.match(kept.body.message, /spec.healthCheckNodePort: Invalid value: 30007: may only be set when/);

    // LoadBalancer → NodePort: dropped and released.
    const toNodePort = (await patch('reuse', { type: 'NodePort' }).expect(200)).body.spec;
    assert.equal(toNodePort.healthCheckNodePort, undefined);
    assert.equal(toNodePort.externalTrafficPolicy, 'Local');
    const again = await eventually(() => create('again', { healthCheckNodePort: P, allocateLoadBalancerNodePorts: false }), 201);
    assert.equal(again.status, 201, again.text);

    // Deleted: released.
    await call('delete', `${SVC}/again`).expect(200);
    const afterDelete = await eventually(() => create('after-delete', { healthCheckNodePort: P, allocateLoadBalancerNodePorts: false }), 201);
    assert.equal(afterDelete.status, 201, afterDelete.text);

    // A restart keeps it marked.
    await server!.close();
    server = undefined;
    await start();
    const held = await create('held', { healthCheckNodePort: P, allocateLoadBalancerNodePorts: false }).expect(500);
    assert.match(held.body.message, new RegExp(`failed to allocate requested HealthCheck NodePort ${P}: provided port is already allocated`));

    // A full range: upstream's message for a dynamic pick.
    const used = new Set<number>();
    for (const item of (await call('get', SVC).expect(200)).body.items as { spec: { ports?: { nodePort?: number }[]; healthCheckNodePort?: number } }[]) {
      for (const port of item.spec.ports ?? []) if (port.nodePort) used.add(port.nodePort);
      if (item.spec.healthCheckNodePort) used.add(item.spec.healthCheckNodePort);
    }
    let filler = 0;
    for (let port = 30000; port <= 30009; port++) {
      if (!used.has(port)) await create(`filler-${filler++}`, { healthCheckNodePort: port, allocateLoadBalancerNodePorts: false }).expect(201);
    }
    const full = await create('full', { allocateLoadBalancerNodePorts: false }).expect(500);
    assert.equal(full.body.message, 'Internal error occurred: failed to allocate a HealthCheck NodePort 0: range is full');
  });
});
