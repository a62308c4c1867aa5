// meta.k8s.io/v1 Table replies (what `kubectl get` prints) for pods, nodes, events, namespaces and
// leases: columns, cells, rows[].object as PartialObjectMetadata or the whole object.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { json, nodeManifest, podManifest, startTestServer, type TestServer } from './helpers/api-server.ts';

const TABLE = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';
const PODS = '/api/v1/namespaces/default/pods';

type Column = { name: string; type: string; format: string; priority: number; description: string };
type Row = { cells: unknown[]; object?: { kind: string; apiVersion: string; metadata: Record<string, unknown>; spec?: unknown } };
type Table = { kind: string; apiVersion: string; metadata: Record<string, unknown>; columnDefinitions: Column[]; rows: Row[] };

const header = (table: Table) => table.columnDefinitions.map((c) => `${c.name}${c.priority ? '*' : ''}`);
const AGE = /^(\d+s|\d+m\d*s?|\d+h\d*m?|\d+d\d*h?|\d+y\d*d?)$/;

describe('Table output over HTTPS', () => {
  let t: TestServer;
  before(async () => { t = await startTestServer('api-table'); });
  after(async () => { await t.close(); });

  const table = async (path: string, accept = TABLE): Promise<Table> => {
    const res = await t.call('get', path).set('Accept', accept).expect(200);
    assert.equal(res.headers['content-type'], 'application/json;as=Table;v=v1;g=meta.k8s.io');
    return JSON.parse(res.text) as Table;
  };

  test('pods: NAME READY STATUS RESTARTS AGE plus the wide columns, for pending, bound and running pods', async () => {
    await json(t.call('post', PODS), podManifest('pending')).expect(201);
    await json(t.call('post', PODS), { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'running' }, spec: { containers: [{ name: 'a', image: 'a' }, { name: 'b', image: 'b' }] } }).expect(201);
    await json(t.call('post', `${PODS}/running/binding`), { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'running' }, target: { kind: 'Node', name: 'node-1' } }).expect(201);
    await json(t.call('patch', `${PODS}/running/status`), {
      status: {
        phase: 'Running', podIP: '10.0.0.7', podIPs: [{ ip: '10.0.0.7' }],
        containerStatuses: [
          { name: 'a', ready: true, restartCount: 2, image: 'a', imageID: '', state: { running: { startedAt: '2025-01-01T00:00:00Z' } } },
          { name: 'b', ready: false, restartCount: 0, image: 'b', imageID: '', state: { waiting: { reason: 'ImagePullBackOff' } } },
        ],
      },
    }, 'application/merge-patch+json').expect(200);

    const result = await table(PODS);
    assert.equal(result.kind, 'Table');
    assert.equal(result.apiVersion, 'meta.k8s.io/v1');
    assert.match(String(result.metadata.resourceVersion), /^\d+$/);
    assert.deepEqual(header(result), ['Name', 'Ready', 'Status', 'Restarts', 'Age', 'IP*', 'Node*', 'Nominated Node*', 'Readiness Gates*']);
    assert.deepEqual(result.columnDefinitions[0], {
      name: 'Name', type: 'string', format: 'name', priority: 0,
      description: 'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names',
    });
    const byName = new Map(result.rows.map((r) => [r.cells[0], r]));
    const pending = byName.get('pending')!;
    assert.deepEqual([...pending.cells.slice(0, 4), ...pending.cells.slice(5)], ['pending', '0/1', 'Pending', '0', '<none>', '<none>', '<none>', '<none>']);
    assert.match(String(pending.cells[4]), AGE);
    const running = byName.get('running')!;
    assert.deepEqual([...running.cells.slice(0, 3), ...running.cells.slice(5)], ['running', '1/2', 'ImagePullBackOff', '10.0.0.7', 'node-1', '<none>', '<none>']);
    assert.equal(running.cells[3], '2');

    assert.equal(pending.object?.kind, 'PartialObjectMetadata');
    assert.equal(pending.object?.apiVersion, 'meta.k8s.io/v1');
    assert.equal(pending.object?.metadata.name, 'pending');
    assert.equal(pending.object?.metadata.namespace, 'default');
    assert.ok(pending.object?.metadata.uid);
    assert.equal(pending.object?.spec, undefined);
  });

  test('a single GET as Table, includeObject=Object and None, and paging metadata', async () => {
    const one = await table(`${PODS}/pending`);
    assert.equal(one.rows.length, 1);
    assert.equal(one.rows[0].cells[0], 'pending');
    const pod = (await t.call('get', `${PODS}/pending`).expect(200)).body;
    assert.equal(one.metadata.resourceVersion, pod.metadata.resourceVersion);

    const full = await table(`${PODS}?includeObject=Object`);
    const object = full.rows.find((r) => r.cells[0] === 'pending')!.object!;
    assert.equal(object.kind, 'Pod');
    assert.equal(object.apiVersion, 'v1');
    assert.ok(object.spec);
    const none = await table(`${PODS}?includeObject=None`);
    assert.ok(none.rows.every((r) => r.object === undefined));
    const bad = await t.call('get', `${PODS}?includeObject=All`).set('Accept', TABLE).expect(400);
    assert.equal(bad.body.reason, 'BadRequest');

    const paged = await table(`${PODS}?limit=1`);
    assert.equal(paged.rows.length, 1);
    assert.ok(paged.metadata.continue);
    assert.equal(paged.metadata.remainingItemCount, 1);
  });

  test('nodes: NAME STATUS ROLES AGE VERSION plus wide columns', async () => {
    await json(t.call('post', '/api/v1/nodes'), nodeManifest('node-1', { 'node-role.kubernetes.io/control-plane': '' })).expect(201);
    await json(t.call('patch', '/api/v1/nodes/node-1/status'), {
      status: {
        conditions: [{ type: 'Ready', status: 'True' }],
        addresses: [{ type: 'InternalIP', address: '10.1.0.1' }],
        nodeInfo: { kubeletVersion: 'v1.32.4', osImage: 'Debian', kernelVersion: '6.1', containerRuntimeVersion: 'containerd://1.7', machineID: '', systemUUID: '', bootID: '', kubeProxyVersion: '', operatingSystem: 'linux', architecture: 'amd64' },
      },
    }, 'application/merge-patch+json').expect(200);
    await json(t.call('patch', '/api/v1/nodes/node-1'), { spec: { unschedulable: true } }, 'application/strategic-merge-patch+json').expect(200);
    const result = await table('/api/v1/nodes');
    assert.deepEqual(header(result), ['Name', 'Status', 'Roles', 'Age', 'Version', 'Internal-IP*', 'External-IP*', 'OS-Image*', 'Kernel-Version*', 'Container-Runtime*']);
    const cells = result.rows[0].cells;
    assert.deepEqual([...cells.slice(0, 3), ...cells.slice(4)], ['node-1', 'Ready,SchedulingDisabled', 'control-plane', 'v1.32.4', '10.1.0.1', '<none>', 'Debian', '6.1', 'containerd://1.7']);
  });

  test('events: LAST SEEN TYPE REASON OBJECT MESSAGE plus wide columns', async () => {
    await json(t.call('post', '/api/v1/namespaces/default/events'), {
      apiVersion: 'v1', kind: 'Event', metadata: { name: 'pending.1' },
      involvedObject: { kind: 'Pod', name: 'pending', namespace: 'default', fieldPath: 'spec.containers{nginx}' },
      reason: 'Pulling', message: 'Pulling image "nginx:1.27"  ', type: 'Normal',
      source: { component: 'kubelet', host: 'node-1' }, count: 3,
      // Ages in ranges whose printed form does not change within a few seconds (12m, 20h).
      firstTimestamp: new Date(Date.now() - 20 * 3600_000 - 60_000).toISOString().replace(/\.\d+Z$/, 'Z'),
      lastTimestamp: new Date(Date.now() - 12 * 60_000 - 20_000).toISOString().replace(/\.\d+Z$/, 'Z'),
    }).expect(201);
    const result = await table('/api/v1/namespaces/default/events');
    assert.deepEqual(header(result), ['Last Seen', 'Type', 'Reason', 'Object', 'Subobject*', 'Source*', 'Message', 'First Seen*', 'Count*', 'Name*']);
    const cells = result.rows[0].cells;
    assert.deepEqual(cells, ['12m', 'Normal', 'Pulling', 'pod/pending', 'spec.containers{nginx}', 'kubelet, node-1', 'Pulling image "nginx:1.27"', '20h', 3, 'pending.1']);
  });

  test('namespaces and leases', async () => {
    const namespaces = await table('/api/v1/namespaces');
    assert.deepEqual(header(namespaces), ['Name', 'Status', 'Age']);
    const names = namespaces.rows.map((r) => r.cells[0]);
    for (const ns of ['default', 'kube-node-lease', 'kube-public', 'kube-system']) assert.ok(names.includes(ns), ns);
    assert.deepEqual(namespaces.rows.find((r) => r.cells[0] === 'default')!.cells.slice(0, 2), ['default', 'Active']);

    await json(t.call('post', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases'), {
      apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'node-1' }, spec: { holderIdentity: 'node-1', leaseDurationSeconds: 40 },
    }).expect(201);
    const leases = await table('/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases');
    assert.deepEqual(header(leases), ['Name', 'Holder', 'Age']);
    assert.deepEqual(leases.rows[0].cells.slice(0, 2), ['node-1', 'node-1']);
    assert.equal(leases.rows[0].object?.kind, 'PartialObjectMetadata');
  });

  test('PartialObjectMetadata and YAML replies; an unacceptable Accept is 406', async () => {
    const partial = await t.call('get', PODS).set('Accept', 'application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io').expect(200);
    const body = JSON.parse(partial.text);
    assert.equal(body.kind, 'PartialObjectMetadataList');
    assert.equal(body.items[0].kind, 'PartialObjectMetadata');
    const yaml = await t.call('get', `${PODS}/pending`).set('Accept', 'application/yaml').expect(200);
    assert.equal(yaml.headers['content-type'], 'application/yaml');
    assert.match(yaml.text, /^apiVersion: v1\nkind: Pod\n/);
    const refused = await t.call('get', PODS).set('Accept', 'text/html').expect(406);
    assert.equal(refused.body.reason, 'NotAcceptable');
  });
});
