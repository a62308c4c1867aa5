// Deletion and binding over HTTPS: graceful deletion of bound pods, immediate deletion of unbound
// ones, preconditions and propagationPolicy validation; pods/binding and the bindings resource.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { json, nodeManifest, podManifest, startTestServer, type TestServer } from './helpers/api-server.ts';

const PODS = '/api/v1/namespaces/default/pods';
const binding = (name: string, node: string) => ({ apiVersion: 'v1', kind: 'Binding', metadata: { name }, target: { apiVersion: 'v1', kind: 'Node', name: node } });

describe('deletion and binding over HTTPS', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer('api-delete');
    await json(t.call('post', '/api/v1/nodes'), nodeManifest('node-1')).expect(201);
  });
  after(async () => { await t.close(); });

  const createPod = async (name: string) => (await json(t.call('post', PODS), podManifest(name)).expect(201)).body;
  const del = (name: string, body?: unknown, query = '') => {
    const req = t.call('delete', `${PODS}/${name}${query}`);
    return body === undefined ? req : json(req, body);
  };

  test('pods/binding sets spec.nodeName once and marks PodScheduled; a second binding is a Conflict', async () => {
    await createPod('bind-me');
    const res = await json(t.call('post', `${PODS}/bind-me/binding`), binding('bind-me', 'node-1')).expect(201);
    assert.deepEqual(res.body, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
    const pod = (await t.call('get', `${PODS}/bind-me`).expect(200)).body;
    assert.equal(pod.spec.nodeName, 'node-1');
    const scheduled = pod.status.conditions.find((c: { type: string }) => c.type === 'PodScheduled');
    assert.equal(scheduled.status, 'True');
    assert.equal(scheduled.lastProbeTime, null);
    assert.match(scheduled.lastTransitionTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

    const again = await json(t.call('post', `${PODS}/bind-me/binding`), binding('bind-me', 'node-2')).expect(409);
    assert.deepEqual(again.body, {
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure',
      message: 'Operation cannot be fulfilled on pods/binding "bind-me": pod bind-me is already assigned to node "node-1"',
      reason: 'Conflict', details: { name: 'bind-me', kind: 'pods/binding' }, code: 409,
    });
    assert.equal((await t.call('get', `${PODS}/bind-me`).expect(200)).body.spec.nodeName, 'node-1');
  });

  test('POST namespaces/{ns}/bindings binds the pod named in metadata.name', async () => {
    await createPod('bind-two');
    await json(t.call('post', '/api/v1/namespaces/default/bindings'), binding('bind-two', 'node-1')).expect(201);
    assert.equal((await t.call('get', `${PODS}/bind-two`).expect(200)).body.spec.nodeName, 'node-1');
    const again = await json(t.call('post', '/api/v1/namespaces/default/bindings'), binding('bind-two', 'node-1')).expect(409);
    assert.equal(again.body.reason, 'Conflict');
    const missing = await json(t.call('post', '/api/v1/namespaces/default/bindings'), binding('ghost', 'node-1')).expect(404);
    assert.equal(missing.body.message, 'pods "ghost" not found');
    const noTarget = await json(t.call('post', `${PODS}/bind-two/binding`), { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'bind-two' }, target: {} }).expect(422);
    assert.equal(noTarget.body.message, 'Binding "bind-two" is invalid: target.name: Required value');
  });

  test('a bound pod is deleted gracefully: deletionTimestamp and grace period set, object kept', async () => {
    const pod = await createPod('graceful');
    await json(t.call('post', `${PODS}/graceful/binding`), binding('graceful', 'node-1')).expect(201);
    const res = await del('graceful', { propagationPolicy: 'Background' }).expect(200);
    assert.equal(res.body.kind, 'Pod');
    assert.equal(res.body.metadata.uid, pod.metadata.uid);
    assert.equal(res.body.metadata.deletionGracePeriodSeconds, 30);
    // The deadline is the deletion time plus the 30 s grace period, so at least 29 s after creation.
    const deadline = Date.parse(res.body.metadata.deletionTimestamp) - Date.parse(res.body.metadata.creationTimestamp);
    assert.ok(deadline >= 29_000, `deletionTimestamp ${res.body.metadata.deletionTimestamp}`);
    const still = await t.call('get', `${PODS}/graceful`).expect(200);
    assert.equal(still.body.metadata.deletionTimestamp, res.body.metadata.deletionTimestamp);

    // A second delete may shorten the period (never lengthen it); 0 removes the pod at once.
    const longer = await del('graceful', { gracePeriodSeconds: 60 }).expect(200);
    assert.equal(longer.body.metadata.deletionGracePeriodSeconds, 30);
    const shorter = await del('graceful', { gracePeriodSeconds: 10 }).expect(200);
    assert.equal(shorter.body.metadata.deletionGracePeriodSeconds, 10);
    assert.equal(Date.parse(shorter.body.metadata.deletionTimestamp), Date.parse(res.body.metadata.deletionTimestamp) - 20_000);
    const now = await del('graceful', { gracePeriodSeconds: 0 }).expect(200);
    assert.equal(now.body.metadata.name, 'graceful');
    await t.call('get', `${PODS}/graceful`).expect(404);
  });

  test('an unbound pod goes at once; the reply is the pod', async () => {
    const pod = await createPod('unbound');
    const res = await del('unbound').expect(200);
    assert.equal(res.body.kind, 'Pod');
    assert.equal(res.body.metadata.uid, pod.metadata.uid);
    assert.equal(res.body.metadata.deletionTimestamp, undefined);
    await t.call('get', `${PODS}/unbound`).expect(404);
  });

  test('gracePeriodSeconds=0 in the query deletes a bound pod at once (kubectl --force)', async () => {
    await createPod('forced');
    await json(t.call('post', `${PODS}/forced/binding`), binding('forced', 'node-1')).expect(201);
    await del('forced', undefined, '?gracePeriodSeconds=0').expect(200);
    await t.call('get', `${PODS}/forced`).expect(404);
  });

  test('precondition mismatches are Conflicts worded as kube-apiserver words them, and nothing is deleted', async () => {
    const pod = await createPod('precond');
    const uid = await del('precond', { preconditions: { uid: 'not-the-uid' } }).expect(409);
    assert.deepEqual(uid.body, {
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure',
      message: `Operation cannot be fulfilled on Pod "precond": the UID in the precondition (not-the-uid) does not match the UID in record (${pod.metadata.uid}). The object might have been deleted and then recreated`,
      reason: 'Conflict', details: { name: 'precond', kind: 'Pod' }, code: 409,
    });
    const rv = await del('precond', { preconditions: { resourceVersion: '1' } }).expect(409);
    assert.equal(rv.body.message, `Operation cannot be fulfilled on Pod "precond": the ResourceVersion in the precondition (1) does not match the ResourceVersion in record (${pod.metadata.resourceVersion}). The object might have been modified`);
    await t.call('get', `${PODS}/precond`).expect(200);
    await del('precond', { preconditions: { uid: pod.metadata.uid, resourceVersion: pod.metadata.resourceVersion } }).expect(200);
    await t.call('get', `${PODS}/precond`).expect(404);
  });

  test('an unknown propagationPolicy is 422 DeleteOptions and nothing is deleted', async () => {
    await createPod('policy');
    const res = await del('policy', { propagationPolicy: 'Sideways' }).expect(422);
    assert.deepEqual(res.body, {
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure',
      message: 'DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "Sideways": supported values: "Foreground", "Background", "Orphan", "nil"',
      reason: 'Invalid',
      details: { group: 'meta.k8s.io', kind: 'DeleteOptions', causes: [{ reason: 'FieldValueNotSupported', message: 'Unsupported value: "Sideways": supported values: "Foreground", "Background", "Orphan", "nil"', field: 'propagationPolicy' }] },
      code: 422,
    });
    const query = await del('policy', undefined, '?propagationPolicy=Sideways').expect(422);
    assert.equal(query.body.details.kind, 'DeleteOptions');
    for (const policy of ['Orphan', 'Foreground']) {
      await createPod(`policy-${policy.toLowerCase()}`);
      await del(`policy-${policy.toLowerCase()}`, { propagationPolicy: policy }).expect(200);
    }
    await t.call('get', `${PODS}/policy`).expect(200);
  });

  test('a binding for a pod being deleted is a Conflict', async () => {
    await createPod('leaving');
    await json(t.call('post', `${PODS}/leaving/binding`), binding('leaving', 'node-1')).expect(201);
    await del('leaving').expect(200);
    const res = await json(t.call('post', '/api/v1/namespaces/default/bindings'), binding('leaving', 'node-1')).expect(409);
    assert.equal(res.body.message, 'Operation cannot be fulfilled on pods/binding "leaving": pod leaving is being deleted, cannot be assigned to a host');
  });
});
