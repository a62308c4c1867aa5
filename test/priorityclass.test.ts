// scheduling.k8s.io/v1 PriorityClass over HTTPS: the bootstrap system classes, CRUD, defaulting,
// kube-apiserver's validation and Priority admission wording, the Table columns, and what the Priority
// plugin does to pods (resolution, globalDefault, unknown classes, disagreeing priority or policy).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { json, podManifest, startTestServer, type TestServer } from './helpers/api-server.ts';
import { decodeProtobufBody } from '../server/protobuf/decode.ts';
import { encodeObject } from '../server/protobuf/encode.ts';

const PCS = '/apis/scheduling.k8s.io/v1/priorityclasses';
const PODS = '/api/v1/namespaces/default/pods';
const TABLE = 'application/json;as=Table;v=v1;g=meta.k8s.io';
type Table = { columnDefinitions: { name: string; type: string }[]; rows: { cells: unknown[] }[] };

describe('PriorityClass', () => {
  let t: TestServer;
  before(async () => { t = await startTestServer('priorityclass'); });
  after(async () => { await t.close(); });

  const create = (path: string, body: unknown) => json(t.call('post', path), body);
  const message = async (res: { status: number; text: string; body: unknown }, status: number): Promise<string> => {
    assert.equal(res.status, status, res.text);
    return (res.body as { message: string }).message;
  };

  test('the system classes exist from the start and cannot be deleted', async () => {
    const node = await t.call('get', `${PCS}/system-node-critical`).expect(200);
    assert.equal(node.body.value, 2000001000);
    assert.equal(node.body.preemptionPolicy, 'PreemptLowerPriority');
    assert.equal(node.body.description, 'Used for system critical pods that must not be moved from their current node.');
    const cluster = await t.call('get', `${PCS}/system-cluster-critical`).expect(200);
    assert.equal(cluster.body.value, 2000000000);
    assert.equal(cluster.body.metadata.generation, 1);
    assert.equal(await message(await t.call('delete', `${PCS}/system-node-critical`), 403),
      'priorityclasses.scheduling.k8s.io "system-node-critical" is forbidden: this is a system priority class and cannot be deleted');
    await t.call('get', `${PCS}/system-node-critical`).expect(200);
  });

  test('CRUD, defaults, short name in discovery and the Table', async () => {
    const created = await create(PCS, { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'high' }, value: 1000, description: 'important' }).expect(201);
    assert.equal(created.body.preemptionPolicy, 'PreemptLowerPriority');
    assert.equal(created.body.globalDefault, undefined);
    const patched = await json(t.call('patch', `${PCS}/high`), { description: 'changed', metadata: { labels: { a: 'b' } } }, 'application/merge-patch+json').expect(200);
    assert.equal(patched.body.description, 'changed');
    assert.equal(patched.body.metadata.generation, 1);

    const discovery = await t.call('get', '/apis/scheduling.k8s.io/v1').expect(200);
    const resource = (discovery.body.resources as { name: string; shortNames?: string[]; namespaced: boolean }[]).find((r) => r.name === 'priorityclasses');
    assert.deepEqual(resource?.shortNames, ['pc']);
    assert.equal(resource?.namespaced, false);

    const table = JSON.parse((await t.call('get', PCS).set('Accept', TABLE).expect(200)).text) as Table;
    assert.deepEqual(table.columnDefinitions.map((c) => [c.name, c.type]),
      [['Name', 'string'], ['Value', 'integer'], ['Global-Default', 'boolean'], ['Age', 'string'], ['PreemptionPolicy', 'string']]);
    const row = table.rows.find((r) => r.cells[0] === 'high');
    assert.deepEqual([row?.cells[1], row?.cells[2], row?.cells[4]], [1000, false, 'PreemptLowerPriority']);

    await t.call('delete', `${PCS}/high`).expect(200);
    await t.call('get', `${PCS}/high`).expect(404);
  });

  test('protobuf bodies, as kubectl create priorityclass sends them, round-trip (a value of 0 included)', async () => {
    const body = encodeObject({ apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'zero' }, value: 0, preemptionPolicy: 'Never' });
    assert.deepEqual(decodeProtobufBody(body), { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'zero' }, value: 0, preemptionPolicy: 'Never' });
    const created = await t.call('post', PCS).set('Content-Type', 'application/vnd.kubernetes.protobuf').set('Accept', 'application/json').send(body).expect(201);
    assert.deepEqual([created.body.value, created.body.preemptionPolicy], [0, 'Never']);
    const runtimeClass = encodeObject({ apiVersion: 'node.k8s.io/v1', kind: 'RuntimeClass', metadata: { name: 'rc' }, handler: 'runc', overhead: { podFixed: { cpu: '10m' } } });
    assert.deepEqual(decodeProtobufBody(runtimeClass), { apiVersion: 'node.k8s.io/v1', kind: 'RuntimeClass', metadata: { name: 'rc' }, handler: 'runc', overhead: { podFixed: { cpu: '10m' } } });
    await t.call('delete', `${PCS}/zero`).expect(200);
  });

  test('validation: reserved names, the user-definable maximum, immutable value and policy, one globalDefault', async () => {
    assert.equal(await message(await create(PCS, { metadata: { name: 'system-mine' }, value: 10 }), 422),
      "PriorityClass.scheduling.k8s.io \"system-mine\" is invalid: metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: system-mine is not a known system priority class");
    assert.equal(await message(await create(PCS, { metadata: { name: 'too-high' }, value: 1000000001 }), 422),
      'PriorityClass.scheduling.k8s.io "too-high" is invalid: value: Forbidden: maximum allowed value of a user defined priority is 1000000000');
    assert.equal(await message(await create(PCS, { metadata: { name: 'policy' }, value: 1, preemptionPolicy: 'Sometimes' }), 422),
      'PriorityClass.scheduling.k8s.io "policy" is invalid: preemptionPolicy: Unsupported value: "Sometimes": supported values: "PreemptLowerPriority", "Never"');

    await create(PCS, { metadata: { name: 'fixed' }, value: 5 }).expect(201);
    assert.equal(await message(await json(t.call('patch', `${PCS}/fixed`), { value: 6 }, 'application/merge-patch+json'), 422),
      'PriorityClass.scheduling.k8s.io "fixed" is invalid: value: Forbidden: may not be changed in an update.');
    assert.equal(await message(await json(t.call('patch', `${PCS}/fixed`), { preemptionPolicy: 'Never' }, 'application/merge-patch+json'), 422),
      'PriorityClass.scheduling.k8s.io "fixed" is invalid: preemptionPolicy: Invalid value: "Never": field is immutable');

    await create(PCS, { metadata: { name: 'default-one' }, value: 7, globalDefault: true }).expect(201);
    assert.equal(await message(await create(PCS, { metadata: { name: 'default-two' }, value: 8, globalDefault: true }), 403),
      'priorityclasses.scheduling.k8s.io "default-two" is forbidden: PriorityClass default-one is already marked as default. Only one default can exist');
    assert.equal(await message(await json(t.call('patch', `${PCS}/fixed`), { globalDefault: true }, 'application/merge-patch+json'), 403),
      'priorityclasses.scheduling.k8s.io "fixed" is forbidden: PriorityClass default-one is already marked as default. Only one default can exist');
    await json(t.call('patch', `${PCS}/default-one`), { description: 'still the default' }, 'application/merge-patch+json').expect(200);
    await t.call('delete', `${PCS}/default-one`).expect(200);
    await t.call('delete', `${PCS}/fixed`).expect(200);
  });

  test('Priority admission resolves pods: class, globalDefault, unknown class, disagreeing priority or policy', async () => {
    const plain = await create(PODS, podManifest('plain')).expect(201);
    assert.equal(plain.body.spec.priority, 0);
    assert.equal(plain.body.spec.preemptionPolicy, 'PreemptLowerPriority');
    assert.equal(plain.body.spec.priorityClassName, undefined);

    const critical = await create(PODS, podManifest('critical', { spec: { priorityClassName: 'system-cluster-critical' } })).expect(201);
    assert.equal(critical.body.spec.priority, 2000000000);

    await create(PCS, { metadata: { name: 'polite' }, value: 300, preemptionPolicy: 'Never' }).expect(201);
    const polite = await create(PODS, podManifest('polite', { spec: { priorityClassName: 'polite' } })).expect(201);
    assert.deepEqual([polite.body.spec.priority, polite.body.spec.preemptionPolicy], [300, 'Never']);
    // Sending what admission would compute is accepted, as upstream.
    await create(PODS, podManifest('polite-explicit', { spec: { priorityClassName: 'polite', priority: 300, preemptionPolicy: 'Never' } })).expect(201);

    assert.equal(await message(await create(PODS, podManifest('unknown', { spec: { priorityClassName: 'nope' } })), 403),
      'pods "unknown" is forbidden: no PriorityClass with name nope was found');
    assert.equal(await message(await create(PODS, podManifest('wrong', { spec: { priorityClassName: 'polite', priority: 5 } })), 403),
      'pods "wrong" is forbidden: the integer value of priority (5) must not be provided in pod spec; priority admission controller computed 300 from the given PriorityClass name');
    assert.equal(await message(await create(PODS, podManifest('wrong-policy', { spec: { priorityClassName: 'polite', preemptionPolicy: 'PreemptLowerPriority' } })), 403),
      'pods "wrong-policy" is forbidden: the string value of PreemptionPolicy (PreemptLowerPriority) must not be provided in pod spec; priority admission controller computed Never from the given PriorityClass name');
    await t.call('get', `${PODS}/unknown`).expect(404);
    // With the plugin's checks passed, the pod's own validation still applies (a policy only the class may set is a 403 first).
    await create(PCS, { metadata: { name: 'loose' }, value: 1 }).expect(201);
    assert.equal(await message(await create(PODS, podManifest('bad-policy', { spec: { priorityClassName: 'loose', preemptionPolicy: 'Sometimes' } })), 403),
      'pods "bad-policy" is forbidden: the string value of PreemptionPolicy (Sometimes) must not be provided in pod spec; priority admission controller computed PreemptLowerPriority from the given PriorityClass name');
    assert.equal(await message(await create(PODS, podManifest('bad-runtime', { spec: { runtimeClassName: 'Not Valid' } })), 403),
      'pods "bad-runtime" is forbidden: pod rejected: RuntimeClass "Not Valid" not found');
    // Pod templates are validated like pods: names and the policy enum.
    const deployment = (spec: Record<string, unknown>) => ({
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' },
      spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'nginx' }], ...spec } } },
    });
    const invalidTemplate = await message(await create('/apis/apps/v1/namespaces/default/deployments',
      deployment({ priorityClassName: 'Not Valid', preemptionPolicy: 'Sometimes', overhead: { cpu: '-1' } })), 422);
    assert.ok(invalidTemplate.startsWith('Deployment.apps "d" is invalid: [spec.template.spec.priorityClassName: Invalid value: "Not Valid": a lowercase RFC 1123 subdomain'), invalidTemplate);
    assert.ok(invalidTemplate.includes('spec.template.spec.preemptionPolicy: Unsupported value: "Sometimes": supported values: "PreemptLowerPriority", "Never"'), invalidTemplate);
    assert.ok(invalidTemplate.includes('spec.template.spec.overhead[cpu]: Invalid value: "-1": must be greater than or equal to 0'), invalidTemplate);

    await create(PCS, { metadata: { name: 'everyone' }, value: 42, globalDefault: true }).expect(201);
    const defaulted = await create(PODS, podManifest('defaulted')).expect(201);
    assert.deepEqual([defaulted.body.spec.priorityClassName, defaulted.body.spec.priority], ['everyone', 42]);
    // An update that leaves the priority out keeps it.
    const replaced = { ...defaulted.body, spec: { ...defaulted.body.spec, priority: undefined, preemptionPolicy: undefined } };
    const updated = await json(t.call('put', `${PODS}/defaulted`), replaced).expect(200);
    assert.deepEqual([updated.body.spec.priority, updated.body.spec.preemptionPolicy], [42, 'PreemptLowerPriority']);
    await t.call('delete', `${PCS}/everyone`).expect(200);
  });
});
