// node.k8s.io/v1 RuntimeClass over HTTPS: CRUD, validation wording, the Table, and the RuntimeClass
// admission plugin (unknown class, overhead set and checked, scheduling constraints merged); then, on `up`'s
// cluster, what the scheduler and the kubelet do with a class: its nodeSelector honoured, its overhead counted
// in resource fit, and a pod whose class was deleted before its sandbox was made kept Pending with
// FailedCreatePodSandBox events, as the real kubelet does.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { json, podManifest, startTestServer, type TestServer } from './helpers/api-server.ts';
import { startConformanceCluster, until, type ConformanceCluster, type Json } from './conformance/helpers/cluster.ts';

const RCS = '/apis/node.k8s.io/v1/runtimeclasses';
const PODS = '/api/v1/namespaces/default/pods';
const TABLE = 'application/json;as=Table;v=v1;g=meta.k8s.io';
type Table = { columnDefinitions: { name: string }[]; rows: { cells: unknown[] }[] };

describe('RuntimeClass API and admission', () => {
  let t: TestServer;
  before(async () => { t = await startTestServer('runtimeclass'); });
  after(async () => { await t.close(); });

  const create = (path: string, body: unknown) => json(t.call('post', path), body);
  const message = async (res: { status: number; text: string; body: unknown }, status: number): Promise<string> => {
    assert.equal(res.status, status, res.text);
    return (res.body as { message: string }).message;
  };

  test('CRUD, the Table, validation and the immutable handler', async () => {
    const created = await create(RCS, { apiVersion: 'node.k8s.io/v1', kind: 'RuntimeClass', metadata: { name: 'gvisor' }, handler: 'runsc' }).expect(201);
    assert.equal(created.body.handler, 'runsc');
    const table = JSON.parse((await t.call('get', RCS).set('Accept', TABLE).expect(200)).text) as Table;
    assert.deepEqual(table.columnDefinitions.map((c) => c.name), ['Name', 'Handler', 'Age']);
    assert.deepEqual(table.rows[0].cells.slice(0, 2), ['gvisor', 'runsc']);

    // (The shared regexError's example list is checked where it is defined.)
    assert.ok((await message(await create(RCS, { metadata: { name: 'bad' }, handler: 'Not_A_Label' }), 422)).startsWith(
      'RuntimeClass.node.k8s.io "bad" is invalid: handler: Invalid value: "Not_A_Label": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or \'-\', and must start and end with an alphanumeric character (e.g. '));
    assert.equal(await message(await create(RCS, { metadata: { name: 'negative' }, handler: 'x', overhead: { podFixed: { cpu: '-1' } } }), 422),
      'RuntimeClass.node.k8s.io "negative" is invalid: overhead.limits[cpu]: Invalid value: "-1": must be greater than or equal to 0');
    assert.equal(await message(await create(RCS, { metadata: { name: 'tol' }, handler: 'x', scheduling: { tolerations: [{ key: 'a', operator: 'Exists', value: 'b' }] } }), 422),
      'RuntimeClass.node.k8s.io "tol" is invalid: scheduling.tolerations[0].operator: Invalid value: {"key":"a","operator":"Exists","value":"b"}: value must be empty when `operator` is \'Exists\'');
    assert.equal(await message(await json(t.call('patch', `${RCS}/gvisor`), { handler: 'kata' }, 'application/merge-patch+json'), 422),
      'RuntimeClass.node.k8s.io "gvisor" is invalid: handler: Invalid value: "kata": field is immutable');
    await json(t.call('patch', `${RCS}/gvisor`), { metadata: { labels: { sandboxed: 'true' } } }, 'application/merge-patch+json').expect(200);
    await t.call('delete', `${RCS}/gvisor`).expect(200);
    await t.call('get', `${RCS}/gvisor`).expect(404);
  });

  test('admission: unknown class refused, overhead copied and checked, scheduling merged', async () => {
    assert.equal(await message(await create(PODS, podManifest('nowhere', { spec: { runtimeClassName: 'missing' } })), 403),
      'pods "nowhere" is forbidden: pod rejected: RuntimeClass "missing" not found');

    await create(RCS, {
      metadata: { name: 'kata' }, handler: 'kata', overhead: { podFixed: { cpu: '250m', memory: '120Mi' } },
      scheduling: { nodeSelector: { 'runtime/kata': 'yes' }, tolerations: [{ key: 'sandbox', operator: 'Exists', effect: 'NoSchedule' }] },
    }).expect(201);
    const pod = await create(PODS, podManifest('sandboxed', { spec: { runtimeClassName: 'kata', nodeSelector: { disk: 'ssd' } } })).expect(201);
    assert.deepEqual(pod.body.spec.overhead, { cpu: '250m', memory: '120Mi' });
    assert.deepEqual(pod.body.spec.nodeSelector, { disk: 'ssd', 'runtime/kata': 'yes' });
    assert.ok((pod.body.spec.tolerations as Json[]).some((t) => t.key === 'sandbox' && t.effect === 'NoSchedule'));
    // The same overhead written differently is the same overhead.
    await create(PODS, podManifest('same-overhead', { spec: { runtimeClassName: 'kata', overhead: { cpu: '0.25', memory: '120Mi' } } })).expect(201);

    assert.equal(await message(await create(PODS, podManifest('other-overhead', { spec: { runtimeClassName: 'kata', overhead: { cpu: '1' } } })), 403),
      'pods "other-overhead" is forbidden: pod rejected: Pod\'s Overhead doesn\'t match RuntimeClass\'s defined Overhead');
    assert.equal(await message(await create(PODS, podManifest('conflict', { spec: { runtimeClassName: 'kata', nodeSelector: { 'runtime/kata': 'no' } } })), 403),
      'pods "conflict" is forbidden: conflict: runtimeClass.scheduling.nodeSelector[runtime/kata] = yes; pod.spec.nodeSelector[runtime/kata] = no');
    assert.equal(await message(await create(PODS, podManifest('stray-overhead', { spec: { overhead: { cpu: '1' } } })), 403),
      'pods "stray-overhead" is forbidden: pod rejected: Pod Overhead set without corresponding RuntimeClass defined Overhead');
  });
});

describe('RuntimeClass on a running cluster: scheduler and kubelet', () => {
  let c: ConformanceCluster;
  before(async () => { c = await startConformanceCluster('runtimeclass-cluster', { nodes: 2 }); });
  after(async () => { await c.stop(); });

  const pod = (name: string) => c.api('get', `${PODS}/${name}`);

  test("the class's nodeSelector places the pod and its overhead counts in resource fit", async () => {
    const nodes = (await until(async () => {
      const list = await c.api('get', '/api/v1/nodes');
      return list.items.length >= 2 ? list.items : undefined;
    }, 'two nodes')) as Json[];
    const target = nodes[1].metadata.name as string;
    await c.api('patch', `/api/v1/nodes/${target}`, { body: { metadata: { labels: { 'runtime/fast': 'yes' } } }, contentType: 'application/strategic-merge-patch+json' });
    await c.api('post', RCS, { body: { metadata: { name: 'fast' }, handler: 'fast', overhead: { podFixed: { cpu: '1' } }, scheduling: { nodeSelector: { 'runtime/fast': 'yes' } } }, expect: 201 });
    await c.api('post', PODS, { body: podManifest('placed', { spec: { runtimeClassName: 'fast' } }), expect: 201 });
    assert.equal(await until(async () => (await pod('placed')).spec.nodeName as string | undefined, 'placed to be scheduled'), target);
    // 4 CPUs: 1 of overhead already used by `placed`; 2.5 requested + 1 overhead no longer fits, 2.5 alone would.
    const resources = { requests: { cpu: '2500m' }, limits: { cpu: '2500m' } };
    await c.api('post', PODS, { body: podManifest('too-big', { spec: { runtimeClassName: 'fast', containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10', resources }] } }), expect: 201 });
    const condition = await until(async () => ((await pod('too-big')).status?.conditions ?? []).find((x: Json) => x.type === 'PodScheduled' && x.status === 'False') as Json | undefined, 'too-big to be unschedulable');
    assert.match(condition.message, /1 Insufficient cpu/);
  });

  test('a pod whose RuntimeClass was deleted after admission stays Pending with FailedCreatePodSandBox', async () => {
    await c.api('post', RCS, { body: { metadata: { name: 'ephemeral' }, handler: 'runc' }, expect: 201 });
    // Held off the nodes (no node matches) until the class is gone, then released by removing the selector's cause.
    await c.api('post', PODS, { body: podManifest('orphaned', { spec: { runtimeClassName: 'ephemeral', schedulerName: 'held' } }), expect: 201 });
    await c.api('delete', `${RCS}/ephemeral`);
    const nodes = (await c.api('get', '/api/v1/nodes')).items as Json[];
    await c.api('post', `${PODS}/orphaned/binding`, { body: { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'orphaned' }, target: { kind: 'Node', name: nodes[0].metadata.name } }, expect: 201 });
    const event = await until(async () => {
      const events = await c.api('get', '/api/v1/namespaces/default/events?fieldSelector=involvedObject.name=orphaned,reason=FailedCreatePodSandBox');
      return events.items[0] as Json | undefined;
    }, 'a FailedCreatePodSandBox event');
    assert.equal(event.type, 'Warning');
    assert.equal(event.message, 'Failed to create pod sandbox: runtimeclass.node.k8s.io "ephemeral" not found');
    const current = await pod('orphaned');
    assert.equal(current.status.phase, 'Pending');
    assert.equal(current.status.podIP, undefined);
    // Once the class exists again, the next retry creates the sandbox.
    await c.api('post', RCS, { body: { metadata: { name: 'ephemeral' }, handler: 'runc' }, expect: 201 });
    await until(async () => ((await pod('orphaned')).status.phase === 'Running' ? true : undefined), 'orphaned to run', 30_000);
  });
});
