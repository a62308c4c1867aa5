// CRUD verbs over HTTPS on pods, nodes, namespaces, events and leases: create, get, list, update
// (PUT), patch, delete, deletecollection; server-set metadata; the status subresource split; pod
// defaulting and immutability; dryRun.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { json, nodeManifest, podManifest, startTestServer, type TestServer } from './helpers/api-server.ts';

const RFC3339_SECONDS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const PODS = '/api/v1/namespaces/default/pods';

describe('CRUD over HTTPS', () => {
  let t: TestServer;
  before(async () => { t = await startTestServer('api-crud'); });
  after(async () => { await t.close(); });

  const createPod = async (body: Record<string, unknown>, path = PODS) => (await json(t.call('post', path), body).expect(201)).body;

  test('create fills server metadata and the pod defaults kube-apiserver applies', async () => {
    const pod = await createPod(podManifest('defaults', { spec: { containers: [{ name: 'nginx', image: 'nginx:1.27', ports: [{ containerPort: 80 }] }, { name: 'tools', image: 'busybox' }] } }));
    assert.equal(pod.apiVersion, 'v1');
    assert.equal(pod.kind, 'Pod');
    assert.equal(pod.metadata.namespace, 'default');
    assert.match(pod.metadata.uid, UUID);
    assert.match(pod.metadata.creationTimestamp, RFC3339_SECONDS);
    assert.match(pod.metadata.resourceVersion, /^[1-9]\d*$/);
    assert.equal(pod.metadata.generation, undefined);
    assert.deepEqual(pod.status, { phase: 'Pending', qosClass: 'BestEffort' });
    const { containers, ...spec } = pod.spec;
    assert.deepEqual(spec, {
      restartPolicy: 'Always', terminationGracePeriodSeconds: 30, dnsPolicy: 'ClusterFirst',
      serviceAccountName: 'default', serviceAccount: 'default', securityContext: {}, schedulerName: 'default-scheduler',
      tolerations: [
        { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
        { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      ],
      priority: 0, enableServiceLinks: true, preemptionPolicy: 'PreemptLowerPriority',
    });
    assert.deepEqual(containers, [
      {
        name: 'nginx', image: 'nginx:1.27', ports: [{ containerPort: 80, protocol: 'TCP' }], resources: {},
        terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File', imagePullPolicy: 'IfNotPresent',
      },
      {
        name: 'tools', image: 'busybox', resources: {},
        terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File', imagePullPolicy: 'Always',
      },
    ]);
    const read = await t.call('get', `${PODS}/defaults`).expect(200);
    assert.deepEqual(read.body, pod);
  });

  test('client-set uid and creationTimestamp are replaced; resourceVersion on create is refused', async () => {
    const body = podManifest('sysfields');
    (body.metadata as Record<string, unknown>).uid = 'client-uid';
    (body.metadata as Record<string, unknown>).creationTimestamp = '2001-01-01T00:00:00Z';
    const pod = await createPod(body);
    assert.notEqual(pod.metadata.uid, 'client-uid');
    assert.notEqual(pod.metadata.creationTimestamp, '2001-01-01T00:00:00Z');

    const withVersion = podManifest('with-rv');
    (withVersion.metadata as Record<string, unknown>).resourceVersion = '12';
    const res = await json(t.call('post', PODS), withVersion).expect(500);
    assert.deepEqual(res.body, {
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure',
      message: 'resourceVersion should not be set on objects to be created', code: 500,
    });
    await t.call('get', `${PODS}/with-rv`).expect(404);
  });

  test('generateName makes a name with a 5-character random suffix', async () => {
    const body = podManifest('');
    body.metadata = { generateName: 'web-' };
    const first = await createPod(body);
    const second = await createPod(body);
    assert.match(first.metadata.name, /^web-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    assert.equal(first.metadata.generateName, 'web-');
    assert.notEqual(first.metadata.name, second.metadata.name);
  });

  test('a name or generateName is required', async () => {
    const res = await json(t.call('post', PODS), { apiVersion: 'v1', kind: 'Pod', metadata: {}, spec: { containers: [{ name: 'a', image: 'a' }] } }).expect(422);
    assert.equal(res.body.message, 'Pod "" is invalid: metadata.name: Required value: name or generateName is required');
  });

  test('PUT replaces the object, bumps resourceVersion, keeps uid and creationTimestamp', async () => {
    const pod = await createPod(podManifest('put', { labels: { a: '1' } }));
    const changed = { ...pod, metadata: { ...pod.metadata, labels: { a: '2' }, uid: undefined, creationTimestamp: '2001-01-01T00:00:00Z' } };
    const res = await json(t.call('put', `${PODS}/put`), changed).expect(200);
    assert.deepEqual(res.body.metadata.labels, { a: '2' });
    assert.equal(res.body.metadata.uid, pod.metadata.uid);
    assert.equal(res.body.metadata.creationTimestamp, pod.metadata.creationTimestamp);
    assert.ok(Number(res.body.metadata.resourceVersion) > Number(pod.metadata.resourceVersion));
  });

  test('PUT with a stale resourceVersion is a Conflict with kube\'s wording; without one it is unconditional', async () => {
    const pod = await createPod(podManifest('nginx'));
    await json(t.call('put', `${PODS}/nginx`), { ...pod, metadata: { ...pod.metadata, labels: { v: '1' } } }).expect(200);
    const stale = await json(t.call('put', `${PODS}/nginx`), { ...pod, metadata: { ...pod.metadata, labels: { v: 'stale' } } }).expect(409);
    assert.deepEqual(stale.body, {
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure',
      message: 'Operation cannot be fulfilled on pods "nginx": the object has been modified; please apply your changes to the latest version and try again',
      reason: 'Conflict', details: { name: 'nginx', kind: 'pods' }, code: 409,
    });
    const unconditional = { ...pod, metadata: { ...pod.metadata, resourceVersion: undefined, labels: { v: '2' } } };
    const res = await json(t.call('put', `${PODS}/nginx`), unconditional).expect(200);
    assert.deepEqual(res.body.metadata.labels, { v: '2' });
  });

  test('PUT with a different uid is refused as a precondition conflict', async () => {
    const pod = await createPod(podManifest('uid-put'));
    const res = await json(t.call('put', `${PODS}/uid-put`), { ...pod, metadata: { ...pod.metadata, uid: 'other' } }).expect(409);
    assert.equal(res.body.reason, 'Conflict');
    assert.match(res.body.message, /^Operation cannot be fulfilled on pods "uid-put": /);
    assert.match(res.body.message, /Precondition failed: UID in precondition: other, UID in object meta: /);
  });

  test('a patch that changes metadata.uid is refused: the uid is immutable', async () => {
    const pod = await createPod(podManifest('uid-patch'));
    const res = await json(t.call('patch', `${PODS}/uid-patch`), { metadata: { uid: 'other' } }, 'application/merge-patch+json').expect(422);
    assert.equal(res.body.message, 'Pod "uid-patch" is invalid: metadata.uid: Invalid value: "other": field is immutable');
    assert.equal((await t.call('get', `${PODS}/uid-patch`).expect(200)).body.metadata.uid, pod.metadata.uid);
  });

  test('PUT of a missing pod is NotFound (pods cannot be created by PUT)', async () => {
    const res = await json(t.call('put', `${PODS}/ghost`), podManifest('ghost')).expect(404);
    assert.equal(res.body.message, 'pods "ghost" not found');
  });

  test('status subresource: the main resource ignores status, /status ignores spec and metadata', async () => {
    const pod = await createPod(podManifest('split', { labels: { a: '1' } }));
    const viaMain = await json(t.call('put', `${PODS}/split`), { ...pod, status: { phase: 'Running' } }).expect(200);
    assert.equal(viaMain.body.status.phase, 'Pending');
    const patchedMain = await json(t.call('patch', `${PODS}/split`), { status: { phase: 'Failed' } }, 'application/merge-patch+json').expect(200);
    assert.equal(patchedMain.body.status.phase, 'Pending');

    const current = (await t.call('get', `${PODS}/split/status`).expect(200)).body;
    assert.deepEqual(current, viaMain.body);
    const viaStatus = await json(t.call('put', `${PODS}/split/status`), {
      ...current,
      metadata: { ...current.metadata, labels: { a: 'changed' } },
      spec: { ...current.spec, activeDeadlineSeconds: 5 },
      status: { ...current.status, phase: 'Running' },
    }).expect(200);
    assert.equal(viaStatus.body.status.phase, 'Running');
    assert.deepEqual(viaStatus.body.metadata.labels, { a: '1' });
    assert.equal(viaStatus.body.spec.activeDeadlineSeconds, undefined);
    const statusPatch = await json(t.call('patch', `${PODS}/split/status`), { metadata: { labels: { b: '2' } }, status: { phase: 'Succeeded' } }, 'application/merge-patch+json').expect(200);
    assert.equal(statusPatch.body.status.phase, 'Succeeded');
    assert.deepEqual(statusPatch.body.metadata.labels, { a: '1' });
  });

  test('immutable pod fields: an update that changes more than the image is 422 with causes', async () => {
    const pod = await createPod(podManifest('immutable'));
    const changed = structuredClone(pod);
    changed.spec.restartPolicy = 'Never';
    const res = await json(t.call('put', `${PODS}/immutable`), changed).expect(422);
    assert.equal(res.body.reason, 'Invalid');
    assert.deepEqual(res.body.details.name, 'immutable');
    assert.equal(res.body.details.kind, 'Pod');
    assert.equal(res.body.details.causes.length, 1);
    assert.equal(res.body.details.causes[0].reason, 'FieldValueForbidden');
    assert.equal(res.body.details.causes[0].field, 'spec');
    assert.match(res.body.message, /^Pod "immutable" is invalid: spec: Forbidden: pod updates may not change fields other than `spec.containers\[\*\].image`/);

    const image = structuredClone(pod);
    image.spec.containers[0].image = 'nginx:1.28';
    const ok = await json(t.call('put', `${PODS}/immutable`), image).expect(200);
    assert.equal(ok.body.spec.containers[0].image, 'nginx:1.28');
  });

  test('dryRun=All validates and answers as if written but changes nothing', async () => {
    const created = await json(t.call('post', `${PODS}?dryRun=All`), podManifest('dry')).expect(201);
    assert.equal(created.body.metadata.name, 'dry');
    assert.match(created.body.metadata.uid, UUID);
    await t.call('get', `${PODS}/dry`).expect(404);

    const pod = await createPod(podManifest('dry2', { labels: { a: '1' } }));
    const patched = await json(t.call('patch', `${PODS}/dry2?dryRun=All`), { metadata: { labels: { a: '2' } } }, 'application/merge-patch+json').expect(200);
    assert.deepEqual(patched.body.metadata.labels, { a: '2' });
    const deleted = await t.call('delete', `${PODS}/dry2?dryRun=All`).expect(200);
    assert.equal(deleted.body.metadata.name, 'dry2');
    const after = await t.call('get', `${PODS}/dry2`).expect(200);
    assert.deepEqual(after.body, pod);
    const bad = await json(t.call('post', `${PODS}?dryRun=Some`), podManifest('dry3')).expect(422);
    assert.deepEqual(bad.body, {
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure',
      message: 'CreateOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: []string{"Some"}: supported values: "All"',
      reason: 'Invalid',
      details: { group: 'meta.k8s.io', kind: 'CreateOptions', causes: [{ reason: 'FieldValueNotSupported', message: 'Unsupported value: []string{"Some"}: supported values: "All"', field: 'dryRun' }] },
      code: 422,
    });
    await t.call('get', `${PODS}/dry3`).expect(404);
  });

  test('list, deletecollection with a selector, and delete of a missing object', async () => {
    await json(t.call('post', '/api/v1/namespaces'), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'coll' } }).expect(201);
    for (const [name, tier] of [['c1', 'a'], ['c2', 'a'], ['c3', 'b']]) {
      await createPod(podManifest(name, { labels: { tier } }), '/api/v1/namespaces/coll/pods');
    }
    const list = await t.call('get', '/api/v1/namespaces/coll/pods').expect(200);
    assert.equal(list.body.kind, 'PodList');
    assert.equal(list.body.apiVersion, 'v1');
    assert.match(list.body.metadata.resourceVersion, /^\d+$/);
    assert.deepEqual(list.body.items.map((p: { metadata: { name: string } }) => p.metadata.name), ['c1', 'c2', 'c3']);

    const removed = await t.call('delete', '/api/v1/namespaces/coll/pods?labelSelector=tier%3Da').expect(200);
    assert.equal(removed.body.kind, 'PodList');
    assert.deepEqual(removed.body.items.map((p: { metadata: { name: string } }) => p.metadata.name).sort(), ['c1', 'c2']);
    const left = await t.call('get', '/api/v1/namespaces/coll/pods').expect(200);
    assert.deepEqual(left.body.items.map((p: { metadata: { name: string } }) => p.metadata.name), ['c3']);

    const missing = await t.call('delete', `${PODS}/nope`).expect(404);
    assert.deepEqual(missing.body, {
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'pods "nope" not found',
      reason: 'NotFound', details: { name: 'nope', kind: 'pods' }, code: 404,
    });
  });

  test('nodes: create, status subresource, patch, list, delete', async () => {
    const node = (await json(t.call('post', '/api/v1/nodes'), nodeManifest('n1', { zone: 'a' })).expect(201)).body;
    assert.equal(node.metadata.namespace, undefined);
    assert.match(node.metadata.uid, UUID);
    const status = await json(t.call('patch', '/api/v1/nodes/n1/status'), {
      status: { capacity: { cpu: '4', memory: '8Gi', pods: '110' }, conditions: [{ type: 'Ready', status: 'True' }] },
    }, 'application/strategic-merge-patch+json').expect(200);
    assert.deepEqual(status.body.status.allocatable, { cpu: '4', memory: '8Gi', pods: '110' });
    const cordoned = await json(t.call('patch', '/api/v1/nodes/n1'), { spec: { unschedulable: true } }, 'application/strategic-merge-patch+json').expect(200);
    assert.equal(cordoned.body.spec.unschedulable, true);
    const list = await t.call('get', '/api/v1/nodes?labelSelector=zone%3Da').expect(200);
    assert.equal(list.body.kind, 'NodeList');
    assert.deepEqual(list.body.items.map((n: { metadata: { name: string } }) => n.metadata.name), ['n1']);
    await t.call('get', '/api/v1/namespaces/default/nodes/n1').expect(404);
    // Nodes are not a ReturnDeletedObject kind: the reply is a Success Status naming the node.
    const deleted = await t.call('delete', '/api/v1/nodes/n1').expect(200);
    assert.deepEqual(deleted.body, {
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name: 'n1', kind: 'nodes', uid: node.metadata.uid },
    });
    await t.call('get', '/api/v1/nodes/n1').expect(404);
  });

  test('events: create with involvedObject, get, list, update, delete', async () => {
    const event = {
      apiVersion: 'v1', kind: 'Event', metadata: { name: 'web.1' },
      involvedObject: { kind: 'Pod', namespace: 'default', name: 'web', uid: 'u1' },
      reason: 'Scheduled', message: 'Successfully assigned default/web to n1', type: 'Normal',
      source: { component: 'default-scheduler' }, count: 1,
      firstTimestamp: '2025-01-01T00:00:00Z', lastTimestamp: '2025-01-01T00:00:00Z',
    };
    const created = (await json(t.call('post', '/api/v1/namespaces/default/events'), event).expect(201)).body;
    assert.equal(created.reason, 'Scheduled');
    const updated = await json(t.call('put', '/api/v1/namespaces/default/events/web.1'), { ...created, count: 2 }).expect(200);
    assert.equal(updated.body.count, 2);
    const list = await t.call('get', '/api/v1/events').expect(200);
    assert.equal(list.body.kind, 'EventList');
    assert.ok(list.body.items.some((e: { metadata: { name: string } }) => e.metadata.name === 'web.1'));
    const deleted = await t.call('delete', '/api/v1/namespaces/default/events/web.1').expect(200);
    assert.deepEqual(deleted.body, {
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name: 'web.1', kind: 'events', uid: created.metadata.uid },
    });
    await t.call('get', '/api/v1/namespaces/default/events/web.1').expect(404);
  });

  test('leases: create, update renewTime, patch, deletecollection; names qualified with the group', async () => {
    const base = '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases';
    const lease = {
      apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'n1' },
      spec: { holderIdentity: 'n1', leaseDurationSeconds: 40, renewTime: '2025-01-01T00:00:00.000000Z' },
    };
    const created = (await json(t.call('post', base), lease).expect(201)).body;
    assert.equal(created.apiVersion, 'coordination.k8s.io/v1');
    const renewed = await json(t.call('put', `${base}/n1`), { ...created, spec: { ...created.spec, renewTime: '2025-01-01T00:00:10.000000Z' } }).expect(200);
    assert.equal(renewed.body.spec.renewTime, '2025-01-01T00:00:10.000000Z');
    const patched = await json(t.call('patch', `${base}/n1`), { spec: { leaseDurationSeconds: 20 } }, 'application/merge-patch+json').expect(200);
    assert.equal(patched.body.spec.leaseDurationSeconds, 20);
    const invalid = await json(t.call('patch', `${base}/n1`), { spec: { leaseDurationSeconds: 0 } }, 'application/merge-patch+json').expect(422);
    assert.equal(invalid.body.message, 'Lease.coordination.k8s.io "n1" is invalid: spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0');
    assert.deepEqual({ group: invalid.body.details.group, kind: invalid.body.details.kind }, { group: 'coordination.k8s.io', kind: 'Lease' });
    const dup = await json(t.call('post', base), lease).expect(409);
    assert.equal(dup.body.message, 'leases.coordination.k8s.io "n1" already exists');
    assert.deepEqual(dup.body.details, { name: 'n1', group: 'coordination.k8s.io', kind: 'leases' });
    const one = (await json(t.call('post', base), { ...lease, metadata: { name: 'n2' } }).expect(201)).body;
    const single = await t.call('delete', `${base}/n2`).expect(200);
    assert.deepEqual(single.body.details, { name: 'n2', group: 'coordination.k8s.io', kind: 'leases', uid: one.metadata.uid });
    const removed = await t.call('delete', base).expect(200);
    assert.equal(removed.body.kind, 'LeaseList');
    assert.equal(removed.body.items.length, 1);
    const missing = await t.call('get', `${base}/n1`).expect(404);
    assert.equal(missing.body.message, 'leases.coordination.k8s.io "n1" not found');
  });

  test('namespaces: create, get with defaults, list, update labels', async () => {
    const ns = (await json(t.call('post', '/api/v1/namespaces'), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a' } }).expect(201)).body;
    assert.deepEqual(ns.metadata.labels, { 'kubernetes.io/metadata.name': 'team-a' });
    assert.deepEqual(ns.spec, { finalizers: ['kubernetes'] });
    assert.deepEqual(ns.status, { phase: 'Active' });
    const labelled = await json(t.call('patch', '/api/v1/namespaces/team-a'), { metadata: { labels: { env: 'dev' } } }, 'application/merge-patch+json').expect(200);
    assert.deepEqual(labelled.body.metadata.labels, { env: 'dev', 'kubernetes.io/metadata.name': 'team-a' });
    const list = await t.call('get', '/api/v1/namespaces').expect(200);
    assert.equal(list.body.kind, 'NamespaceList');
    await t.call('delete', '/api/v1/namespaces').expect(405);
  });
});
