// Namespaces over HTTPS: the four defaults, creating into a missing namespace, and the life of a
// deleted namespace (Terminating, no new content, contents removed, then gone).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { json, podManifest, startTestServer, type TestServer } from './helpers/api-server.ts';

/** Polls GET until it answers `status` (the namespace controller works in the background). */
async function until(t: TestServer, path: string, status: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const res = await t.call('get', path);
    if (res.status === status) return;
    if (Date.now() > deadline) assert.fail(`${path} still answers ${res.status}, waiting for ${status}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('namespaces over HTTPS', () => {
  let t: TestServer;
  before(async () => { t = await startTestServer('api-namespaces'); });
  after(async () => { await t.close(); });

  test('default, kube-system, kube-public and kube-node-lease exist and are Active', async () => {
    for (const name of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
      const res = await t.call('get', `/api/v1/namespaces/${name}`).expect(200);
      assert.equal(res.body.metadata.name, name);
      assert.deepEqual(res.body.metadata.labels, { 'kubernetes.io/metadata.name': name });
      assert.deepEqual(res.body.spec, { finalizers: ['kubernetes'] });
      assert.deepEqual(res.body.status, { phase: 'Active' });
    }
  });

  test('creating into a missing namespace is 404 naming the namespace', async () => {
    const res = await json(t.call('post', '/api/v1/namespaces/x/pods'), podManifest('p')).expect(404);
    assert.deepEqual(res.body, {
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure',
      message: 'namespaces "x" not found', reason: 'NotFound', details: { name: 'x', kind: 'namespaces' }, code: 404,
    });
    const lease = await json(t.call('post', '/apis/coordination.k8s.io/v1/namespaces/x/leases'), { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'l' } }).expect(404);
    assert.equal(lease.body.message, 'namespaces "x" not found');
    await t.call('get', '/api/v1/namespaces/x/pods/p').expect(404);
  });

  test('namespace names must be DNS labels; a namespace-scoped path for a namespace is 404', async () => {
    const res = await json(t.call('post', '/api/v1/namespaces'), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'Bad.Name' } }).expect(422);
    assert.equal(res.body.reason, 'Invalid');
    assert.match(res.body.message, /^Namespace "Bad.Name" is invalid: metadata.name: Invalid value: "Bad.Name": a lowercase RFC 1123 label must consist of/);
  });

  test('a deleted namespace turns Terminating, refuses new content, loses its contents, then goes', async () => {
    const created = (await json(t.call('post', '/api/v1/namespaces'), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'doomed' } }).expect(201)).body;
    await json(t.call('post', '/api/v1/namespaces/doomed/pods'), podManifest('inside')).expect(201);
    await json(t.call('post', '/apis/coordination.k8s.io/v1/namespaces/doomed/leases'), { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'l' }, spec: { holderIdentity: 'me' } }).expect(201);
    await json(t.call('post', '/api/v1/namespaces/doomed/events'), {
      apiVersion: 'v1', kind: 'Event', metadata: { name: 'e' }, involvedObject: { kind: 'Pod', name: 'inside', namespace: 'doomed' }, reason: 'R', message: 'm',
    }).expect(201);

    const deleted = await t.call('delete', '/api/v1/namespaces/doomed').set('Content-Type', 'application/json').send('{"propagationPolicy":"Background"}').expect(200);
    assert.equal(deleted.body.kind, 'Namespace');
    assert.equal(deleted.body.metadata.uid, created.metadata.uid);
    assert.ok(deleted.body.metadata.deletionTimestamp);
    assert.equal(deleted.body.status.phase, 'Terminating');

    const refused = await json(t.call('post', '/api/v1/namespaces/doomed/pods'), podManifest('late')).expect(403);
    assert.deepEqual(refused.body, {
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure',
      message: 'pods "late" is forbidden: unable to create new content in namespace doomed because it is being terminated',
      reason: 'Forbidden', details: { name: 'late', kind: 'pods' }, code: 403,
    });
    const refusedLease = await json(t.call('post', '/apis/coordination.k8s.io/v1/namespaces/doomed/leases'), { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'l2' } }).expect(403);
    assert.equal(refusedLease.body.message, 'leases.coordination.k8s.io "l2" is forbidden: unable to create new content in namespace doomed because it is being terminated');

    await until(t, '/api/v1/namespaces/doomed', 404);
    const pods = await t.call('get', '/api/v1/namespaces/doomed/pods').expect(200);
    assert.deepEqual(pods.body.items, []);
    const leases = await t.call('get', '/apis/coordination.k8s.io/v1/namespaces/doomed/leases').expect(200);
    assert.deepEqual(leases.body.items, []);
    const events = await t.call('get', '/api/v1/namespaces/doomed/events').expect(200);
    assert.deepEqual(events.body.items, []);
    const gone = await t.call('get', '/api/v1/namespaces/doomed').expect(404);
    assert.equal(gone.body.message, 'namespaces "doomed" not found');
  });

  test('deleting a Terminating namespace again is a Conflict while its finalizer remains', async () => {
    await json(t.call('post', '/api/v1/namespaces'), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'twice' } }).expect(201);
    // A pod bound to a node that has no kubelet keeps the namespace terminating (graceful deletion never completes).
    await json(t.call('post', '/api/v1/namespaces/twice/pods'), podManifest('held')).expect(201);
    await json(t.call('post', '/api/v1/namespaces/twice/pods/held/binding'), { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'held' }, target: { kind: 'Node', name: 'nowhere' } }).expect(201);
    await t.call('delete', '/api/v1/namespaces/twice').expect(200);
    const again = await t.call('delete', '/api/v1/namespaces/twice').expect(409);
    assert.deepEqual(again.body, {
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure',
      message: 'Operation cannot be fulfilled on namespaces "twice": The system is ensuring all content is removed from this namespace.  Upon completion, this namespace will automatically be purged by the system.',
      reason: 'Conflict', details: { name: 'twice', kind: 'namespaces' }, code: 409,
    });
    // Finish the pod's graceful deletion as its kubelet would; the namespace then goes.
    await t.call('get', '/api/v1/namespaces/twice/pods/held').expect(200);
    await t.call('delete', '/api/v1/namespaces/twice/pods/held?gracePeriodSeconds=0').expect(200);
    await until(t, '/api/v1/namespaces/twice', 404);
  });
});
