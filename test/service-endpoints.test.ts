// The endpoints and EndpointSlice controllers against a real server, with the controller-manager
// identity: ready and not-ready pods, named target ports, the per-slice limit, service deletion.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runServiceEndpointControllers, type RunningServiceEndpointControllers } from '../controllers/service-endpoints.ts';
import { writeComponentKubeconfigs } from '../server/component-credentials.ts';
import { json, startTestServer, type TestServer } from './helpers/api-server.ts';

const NS = '/api/v1/namespaces/default';
const SLICES = '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices';
const quiet = { info: () => undefined, warn: () => undefined };

type Slice = { metadata: { name: string; labels: Record<string, string>; ownerReferences: { kind: string; name: string }[] }; endpoints: { addresses: string[]; conditions: Record<string, boolean>; targetRef: { name: string } }[]; ports: { name: string; port: number; protocol: string }[] };

describe('endpoints and EndpointSlice controllers', () => {
  let t: TestServer;
  let dir: string;
  let controllers: RunningServiceEndpointControllers;
  before(async () => {
    t = await startTestServer('service-endpoints');
    dir = await mkdtemp(join(tmpdir(), 'kubefacade-service-endpoints-'));
    const kubeconfigs = await writeComponentKubeconfigs(dir, t.url, t.server.credentials, []);
    controllers = await runServiceEndpointControllers({ kubeconfigPath: kubeconfigs.controllerManager, maxEndpointsPerSlice: 2, logger: quiet });
  });
  after(async () => {
    await controllers.stop();
    await t.close();
    await rm(dir, { recursive: true, force: true });
  });

  const runningPod = async (name: string, ip: string, ready: boolean, labels: Record<string, string> = { app: 'web' }) => {
    await json(t.call('post', `${NS}/pods`), {
      metadata: { name, labels }, spec: { containers: [{ name: 'c', image: 'nginx', ports: [{ name: 'http', containerPort: 8080 }] }] },
    }).expect(201);
    await json(t.call('post', `${NS}/pods/${name}/binding`), { apiVersion: 'v1', kind: 'Binding', metadata: { name }, target: { kind: 'Node', name: 'node-1' } }).expect(201);
    await setReady(name, ip, ready);
  };
  const setReady = (name: string, ip: string, ready: boolean) => json(t.call('patch', `${NS}/pods/${name}/status`), {
    status: { phase: 'Running', podIP: ip, podIPs: [{ ip }], conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  }, 'application/merge-patch+json').expect(200);
  const slices = async (service: string): Promise<Slice[]> =>
    (await t.call('get', `${SLICES}?labelSelector=kubernetes.io/service-name=${service}`).expect(200)).body.items as Slice[];
  const settle = async () => {
    await new Promise((r) => setTimeout(r, 100));
    await controllers.idle();
  };
  const eventually = async (check: () => Promise<boolean>) => {
    for (let i = 0; i < 100; i++) {
      if (await check()) return;
      await settle();
    }
    assert.fail('condition not reached');
  };

  test('ready pods in addresses, others in notReadyAddresses; slices with conditions and named ports', async () => {
    await json(t.call('post', `${NS}/services`), { metadata: { name: 'web', labels: { tier: 'front' } }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } }).expect(201);
    await runningPod('web-1', '10.244.0.11', true);
    await runningPod('web-2', '10.244.0.12', false);
    await runningPod('other', '10.244.0.13', true, { app: 'other' });

    await eventually(async () => {
      const ep = (await t.call('get', `${NS}/endpoints/web`)).body;
      return JSON.stringify(ep.subsets?.[0]?.notReadyAddresses?.map((a: { ip: string }) => a.ip)) === '["10.244.0.12"]';
    });
    const ep = (await t.call('get', `${NS}/endpoints/web`).expect(200)).body;
    assert.deepEqual(ep.metadata.labels, { tier: 'front' });
    assert.deepEqual(ep.subsets, [{
      addresses: [{ ip: '10.244.0.11', nodeName: 'node-1', targetRef: { kind: 'Pod', namespace: 'default', name: 'web-1', uid: ep.subsets[0].addresses[0].targetRef.uid } }],
      notReadyAddresses: [{ ip: '10.244.0.12', nodeName: 'node-1', targetRef: { kind: 'Pod', namespace: 'default', name: 'web-2', uid: ep.subsets[0].notReadyAddresses[0].targetRef.uid } }],
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    }]);

    const [slice] = await slices('web');
    assert.match(slice.metadata.name, /^web-[a-z0-9]{5}$/);
    assert.equal(slice.metadata.labels['endpointslice.kubernetes.io/managed-by'], 'endpointslice-controller.k8s.io');
    assert.equal(slice.metadata.labels.tier, 'front');
    assert.deepEqual(slice.metadata.ownerReferences.map((o) => `${o.kind}/${o.name}`), ['Service/web']);
    assert.deepEqual(slice.ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
    const conditions = Object.fromEntries(slice.endpoints.map((e) => [e.targetRef.name, e.conditions]));
    assert.deepEqual(conditions, {
      'web-1': { ready: true, serving: true, terminating: false },
      'web-2': { ready: false, serving: false, terminating: false },
    });

    // Readiness changes reach both.
    await setReady('web-1', '10.244.0.11', false);
    await eventually(async () => (await slices('web'))[0].endpoints.every((e) => !e.conditions.ready));
    await eventually(async () => (await t.call('get', `${NS}/endpoints/web`)).body.subsets?.[0]?.addresses === undefined);
  });

  test('at most maxEndpointsPerSlice endpoints per slice; endpoints keep their slice; deleting the service removes all', async () => {
    await json(t.call('post', `${NS}/services`), { metadata: { name: 'many' }, spec: { selector: { app: 'many' }, ports: [{ port: 80, targetPort: 8080 }] } }).expect(201);
    for (let i = 1; i <= 5; i++) await runningPod(`many-${i}`, `10.244.1.${i}`, true, { app: 'many' });
    await eventually(async () => (await slices('many')).reduce((n, s) => n + s.endpoints.length, 0) === 5);
    const before = await slices('many');
    assert.equal(before.length, 3);
    assert.ok(before.every((s) => s.endpoints.length <= 2));
    const home = new Map(before.flatMap((s) => s.endpoints.map((e) => [e.targetRef.name, s.metadata.name])));

    await t.call('delete', `${NS}/pods/many-1?gracePeriodSeconds=0`).expect(200);
    await eventually(async () => (await slices('many')).reduce((n, s) => n + s.endpoints.length, 0) === 4);
    for (const slice of await slices('many')) for (const e of slice.endpoints) assert.equal(home.get(e.targetRef.name), slice.metadata.name);

    await t.call('delete', `${NS}/services/many`).expect(200);
    await eventually(async () => (await slices('many')).length === 0);
    await eventually(async () => (await t.call('get', `${NS}/endpoints/many`)).status === 404);
  });

  test('a service selecting nothing gets one placeholder slice and empty endpoints', async () => {
    await json(t.call('post', `${NS}/services`), { metadata: { name: 'empty' }, spec: { selector: { app: 'none' }, ports: [{ port: 80 }] } }).expect(201);
    await eventually(async () => (await slices('empty')).length === 1);
    const [slice] = await slices('empty');
    assert.deepEqual([slice.endpoints, slice.ports], [[], []]);
    await eventually(async () => (await t.call('get', `${NS}/endpoints/empty`)).status === 200);
    assert.equal((await t.call('get', `${NS}/endpoints/empty`)).body.subsets, undefined);
  });
});
