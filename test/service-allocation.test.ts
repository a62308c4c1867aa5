// Service address allocation over HTTPS: cluster IPs from --service-cluster-ip-range (the first one the
// `kubernetes` service's, with its Endpoints and EndpointSlice), node ports from --service-node-port-range,
// upstream's errors (already allocated, out of range, range full), release on delete, and allocations
// kept across a restart on the same data directory (the bitmaps live in the store).

import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { startApiServer, type RunningApiServer } from '../server/start.ts';

const SVC = '/api/v1/namespaces/default/services';

describe('service allocation', () => {
  const dirs: string[] = [];
  let server: RunningApiServer | undefined;
  after(async () => {
    await server?.close();
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  const start = async (dir: string) => {
    server = await startApiServer({
      dataDir: dir, bind: '127.0.0.1', port: 0, tlsSans: [], disableAdmissionPlugins: ['ServiceAccount'],
      serviceClusterIpRange: '10.0.0.0/29', serviceNodePortRange: '30000-30002',
    });
    return server;
  };
  const call = (method: 'get' | 'post' | 'put' | 'delete' | 'patch', path: string) =>
    request(server!.url)[method](path).ca(server!.caCertPem).set('Authorization', `Bearer ${server!.adminToken}`);
  const create = (name: string, spec: Record<string, unknown>) =>
    call('post', SVC).set('Content-Type', 'application/json').send(JSON.stringify({ metadata: { name }, spec: { ports: [{ port: 80 }], ...spec } }));
  /** A deleted service's addresses are released as the store reports the deletion: a few ms later. */
  const createOnceReleased = async (name: string, spec: Record<string, unknown>) => {
    for (let i = 0; ; i++) {
      const res = await create(name, spec);
      if (!(res.status === 500 && /range is full/.test(res.text)) || i === 50) return res;
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  test('allocates, refuses with upstream wording, releases on delete, survives restart', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kubefacade-svc-alloc-'));
    dirs.push(dir);
    await start(dir);

    // The kubernetes service holds the first address; its endpoints name the server.
    const kubernetes = (await call('get', `${SVC}/kubernetes`).expect(200)).body;
    assert.equal(kubernetes.spec.clusterIP, '10.0.0.1');
    assert.deepEqual(kubernetes.spec.ports, [{ name: 'https', port: 443, protocol: 'TCP', targetPort: server!.port }]);
    assert.deepEqual(kubernetes.metadata.labels, { component: 'apiserver', provider: 'kubernetes' });
    const endpoints = (await call('get', '/api/v1/namespaces/default/endpoints/kubernetes').expect(200)).body;
    assert.deepEqual(endpoints.subsets, [{ addresses: [{ ip: '127.0.0.1' }], ports: [{ name: 'https', port: server!.port, protocol: 'TCP' }] }]);
    const slice = (await call('get', '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/kubernetes').expect(200)).body;
    assert.equal(slice.metadata.labels['kubernetes.io/service-name'], 'kubernetes');

    // 10.0.0.0/29: six usable addresses, .1 taken.
    const a = (await create('a', {}).expect(201)).body;
    assert.match(a.spec.clusterIP, /^10\.0\.0\.[2-6]$/);
    assert.deepEqual(a.spec.clusterIPs, [a.spec.clusterIP]);
    assert.deepEqual(a.spec.ipFamilies, ['IPv4']);
    assert.equal(a.spec.ipFamilyPolicy, 'SingleStack');
    const taken = await create('dup', { clusterIP: a.spec.clusterIP }).expect(422);
    assert.equal(taken.body.message, `Service "dup" is invalid: spec.clusterIPs: Invalid value: []string{"${a.spec.clusterIP}"}: failed to allocate IP ${a.spec.clusterIP}: provided IP is already allocated`);
    const outside = await create('outside', { clusterIP: '10.96.0.10' }).expect(422);
    assert.equal(outside.body.message, 'Service "outside" is invalid: spec.clusterIPs: Invalid value: []string{"10.96.0.10"}: failed to allocate IP 10.96.0.10: the provided IP (10.96.0.10) is not in the valid range. The range of valid IPs is 10.0.0.0/29');
    const headless = (await create('headless', { clusterIP: 'None', selector: { app: 'x' } }).expect(201)).body;
    assert.deepEqual(headless.spec.clusterIPs, ['None']);
    const external = (await create('external', { type: 'ExternalName', externalName: 'db.example.com', ports: [] }).expect(201)).body;
    assert.equal(external.spec.clusterIP, undefined);

    const names = ['b', 'c', 'd', 'e'];
    for (const name of names) await create(name, {}).expect(201);
    const full = await create('full', {}).expect(500);
    assert.equal(full.body.message, 'Internal error occurred: failed to allocate a serviceIP: range is full');

    // Node ports: 30000-30002.
    await call('delete', `${SVC}/e`).expect(200);
    const created = await createOnceReleased('np', { type: 'NodePort', ports: [{ name: 'a', port: 80 }, { name: 'b', port: 81, nodePort: 30001 }] });
    assert.equal(created.status, 201, created.text);
    const nodePort = created.body;
    assert.equal(nodePort.spec.ports[1].nodePort, 30001);
    assert.ok([30000, 30002].includes(nodePort.spec.ports[0].nodePort));
    assert.equal(nodePort.spec.externalTrafficPolicy, 'Cluster');
    const portTaken = await create('np2', { type: 'NodePort', clusterIP: 'None' }).expect(422);
    assert.match(portTaken.body.message, /may not be set to 'None' for NodePort services/);
    await call('delete', `${SVC}/d`).expect(200);
    const outOfRange = await createOnceReleased('np3', { type: 'NodePort', ports: [{ port: 80, nodePort: 31000 }] });
    assert.equal(outOfRange.status, 422);
    assert.equal(outOfRange.body.message, 'Service "np3" is invalid: spec.ports[0].nodePort: Invalid value: 31000: provided port is not in the valid range. The range of valid ports is 30000-30002');
    const reused = await create('np4', { type: 'NodePort', ports: [{ port: 80, nodePort: 30001 }] }).expect(422);
    assert.equal(reused.body.message, 'Service "np4" is invalid: spec.ports[0].nodePort: Invalid value: 30001: provided port is already allocated');
    // The failed creates freed what they had taken: d's address is free again.
    const retry = (await createOnceReleased('retry', {})).body;
    assert.match(retry.spec.clusterIP, /^10\.0\.0\.[2-6]$/);

    // A PUT without clusterIP or nodePort keeps them.
    const put = await call('put', `${SVC}/np`).set('Content-Type', 'application/json')
      .send(JSON.stringify({ metadata: { name: 'np', resourceVersion: nodePort.metadata.resourceVersion }, spec: { type: 'NodePort', ports: [{ name: 'a', port: 80 }, { name: 'b', port: 81 }] } })).expect(200);
    assert.equal(put.body.spec.clusterIP, nodePort.spec.clusterIP);
    assert.deepEqual(put.body.spec.ports.map((p: { nodePort: number }) => p.nodePort), nodePort.spec.ports.map((p: { nodePort: number }) => p.nodePort));
    const changed = await call('patch', `${SVC}/np`).set('Content-Type', 'application/merge-patch+json').send(JSON.stringify({ spec: { clusterIP: '10.0.0.9' } })).expect(422);
    assert.match(changed.body.message, /spec.clusterIPs\[0\]: Invalid value: \[\]string\{"10.0.0.9"\}: may not change once set/);

    // Restart on the same data: the same addresses stay taken, deletion releases them.
    await server!.close();
    await start(dir);
    const again = await create('again', { clusterIP: retry.spec.clusterIP }).expect(422);
    assert.match(again.body.message, /provided IP is already allocated/);
    await call('delete', `${SVC}/retry`).expect(200);
    // Released by the deletion watch.
    let reuse = await create('again', { clusterIP: retry.spec.clusterIP });
    for (let i = 0; i < 50 && reuse.status === 422; i++) {
      await new Promise((r) => setTimeout(r, 50));
      reuse = await create('again', { clusterIP: retry.spec.clusterIP });
    }
    assert.equal(reuse.status, 201, reuse.text);
    // Node ports are kept too (a frees an address first, so np5 gets as far as its port).
    await call('delete', `${SVC}/a`).expect(200);
    const reusedPort = await createOnceReleased('np5', { type: 'NodePort', ports: [{ port: 80, nodePort: 30001 }] });
    assert.equal(reusedPort.status, 422);
    assert.match(reusedPort.body.message, /provided port is already allocated/);
  });

  test('a bad range refuses to start', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kubefacade-svc-range-'));
    dirs.push(dir);
    await assert.rejects(startApiServer({ dataDir: dir, bind: '127.0.0.1', port: 0, tlsSans: [], serviceClusterIpRange: '10.0.0.0/8' }),
      /for 32-bit addresses, the mask must be >= 12/);
  });

  test('concurrent creates on the default /12 range all get distinct addresses (allocations are queued, not retried)', async () => {
    await server?.close();
    const dir = await mkdtemp(join(tmpdir(), 'kubefacade-svc-alloc-'));
    dirs.push(dir);
    server = await startApiServer({ dataDir: dir, bind: '127.0.0.1', port: 0, tlsSans: [], disableAdmissionPlugins: ['ServiceAccount'] });
    const responses = await Promise.all(Array.from({ length: 40 }, (_, i) => create(`c${i}`, { type: 'NodePort' })));
    assert.deepEqual(responses.map((r) => r.status), responses.map(() => 201));
    const ips = new Set(responses.map((r) => r.body.spec.clusterIP as string));
    const ports = new Set(responses.map((r) => r.body.spec.ports[0].nodePort as number));
    assert.equal(ips.size, 40);
    assert.equal(ports.size, 40);
  });
});
