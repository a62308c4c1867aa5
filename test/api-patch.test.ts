// PATCH over HTTPS in the four formats kubectl sends: merge, JSON (RFC 6902), strategic merge and
// server-side apply, including field-manager conflicts and the defaulted list-map key case.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { json, podManifest, startTestServer, type TestServer } from './helpers/api-server.ts';

const PODS = '/api/v1/namespaces/default/pods';
const MERGE = 'application/merge-patch+json';
const JSON_PATCH = 'application/json-patch+json';
const STRATEGIC = 'application/strategic-merge-patch+json';
const APPLY = 'application/apply-patch+yaml';

type Pod = { metadata: Record<string, unknown> & { labels?: Record<string, string>; resourceVersion: string; managedFields?: { manager: string; operation: string }[] }; spec: { containers: { name: string; image: string; ports?: unknown[] }[] } };

describe('PATCH formats over HTTPS', () => {
  let t: TestServer;
  before(async () => { t = await startTestServer('api-patch'); });
  after(async () => { await t.close(); });

  const create = async (body: Record<string, unknown>): Promise<Pod> => (await json(t.call('post', PODS), body).expect(201)).body;
  const read = async (name: string): Promise<Pod> => (await t.call('get', `${PODS}/${name}`).expect(200)).body;
  const patch = (name: string, body: unknown, type: string, query = '') => json(t.call('patch', `${PODS}/${name}${query}`), body, type);

  test('merge patch adds and removes labels (null deletes)', async () => {
    await create(podManifest('merge', { labels: { a: '1', b: '2' } }));
    const res = await patch('merge', { metadata: { labels: { a: null, c: '3' } } }, MERGE, '?fieldManager=kubectl-label').expect(200);
    assert.deepEqual(res.body.metadata.labels, { b: '2', c: '3' });
    assert.ok(res.body.metadata.managedFields.some((m: { manager: string; operation: string }) => m.manager === 'kubectl-label' && m.operation === 'Update'));
  });

  test('merge patch with a stale metadata.resourceVersion is a Conflict', async () => {
    const pod = await create(podManifest('merge-rv'));
    await patch('merge-rv', { metadata: { labels: { x: '1' } } }, MERGE).expect(200);
    const res = await patch('merge-rv', { metadata: { resourceVersion: pod.metadata.resourceVersion, labels: { x: '2' } } }, MERGE).expect(409);
    assert.equal(res.body.message, 'Operation cannot be fulfilled on pods "merge-rv": the object has been modified; please apply your changes to the latest version and try again');
  });

  test('JSON patch: add, replace, remove, and a passing test', async () => {
    await create(podManifest('jp', { labels: { a: '1' } }));
    const res = await patch('jp', [
      { op: 'test', path: '/metadata/labels/a', value: '1' },
      { op: 'add', path: '/metadata/labels/b', value: '2' },
      { op: 'replace', path: '/spec/containers/0/image', value: 'nginx:1.28' },
      { op: 'remove', path: '/metadata/labels/a' },
    ], JSON_PATCH).expect(200);
    assert.deepEqual(res.body.metadata.labels, { b: '2' });
    assert.equal(res.body.spec.containers[0].image, 'nginx:1.28');
  });

  test('JSON patch: a failing test op is 422 and changes nothing', async () => {
    const before = await create(podManifest('jp-fail', { labels: { a: '1' } }));
    const res = await patch('jp-fail', [
      { op: 'add', path: '/metadata/labels/b', value: '2' },
      { op: 'test', path: '/metadata/labels/a', value: 'other' },
    ], JSON_PATCH).expect(422);
    assert.deepEqual(res.body, {
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure',
      message: 'the server rejected our request due to an error in our request', reason: 'Invalid', details: {}, code: 422,
    });
    assert.deepEqual(await read('jp-fail'), before);
    const notAList = await patch('jp-fail', { op: 'add' }, JSON_PATCH).expect(400);
    assert.equal(notAList.body.reason, 'BadRequest');
  });

  test('strategic merge: containers merge by name, $patch: delete removes one, $setElementOrder orders them', async () => {
    await create({
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'smp' },
      spec: { containers: [{ name: 'nginx', image: 'nginx:1.27' }, { name: 'redis', image: 'redis:7' }] },
    });
    const merged = await patch('smp', { spec: { containers: [{ name: 'redis', image: 'redis:7.2' }] } }, STRATEGIC, '?fieldManager=kubectl-edit').expect(200);
    assert.deepEqual(merged.body.spec.containers.map((c: { name: string; image: string }) => [c.name, c.image]), [['nginx', 'nginx:1.27'], ['redis', 'redis:7.2']]);

    // What kubectl edit/apply send: the order of every container, and the changed one.
    const edited = await patch('smp', {
      spec: { '$setElementOrder/containers': [{ name: 'nginx' }, { name: 'redis' }], containers: [{ name: 'nginx', image: 'nginx:1.28' }] },
    }, STRATEGIC).expect(200);
    assert.deepEqual(edited.body.spec.containers.map((c: { name: string; image: string }) => [c.name, c.image]), [['nginx', 'nginx:1.28'], ['redis', 'redis:7.2']]);

    // Removing a container is not an allowed pod update: the patch applies, validation refuses it.
    const removed = await patch('smp', { spec: { containers: [{ name: 'redis', $patch: 'delete' }] } }, STRATEGIC).expect(422);
    assert.equal(removed.body.reason, 'Invalid');
    assert.equal(removed.body.message, 'Pod "smp" is invalid: spec.containers: Forbidden: pod updates may not add or remove containers');
    assert.equal((await read('smp')).spec.containers.length, 2);

  });

  test('strategic merge: $setElementOrder reorders a merged list (node status conditions by type)', async () => {
    await json(t.call('post', '/api/v1/nodes'), { apiVersion: 'v1', kind: 'Node', metadata: { name: 'smp-node' } }).expect(201);
    const conditions = [
      { type: 'MemoryPressure', status: 'False' }, { type: 'DiskPressure', status: 'False' }, { type: 'Ready', status: 'True' },
    ];
    await json(t.call('patch', '/api/v1/nodes/smp-node/status'), { status: { conditions } }, STRATEGIC).expect(200);
    const res = await json(t.call('patch', '/api/v1/nodes/smp-node/status'), {
      status: {
        '$setElementOrder/conditions': [{ type: 'Ready' }, { type: 'MemoryPressure' }, { type: 'DiskPressure' }],
        conditions: [{ type: 'Ready', status: 'False' }],
      },
    }, STRATEGIC).expect(200);
    assert.deepEqual(res.body.status.conditions, [
      { type: 'Ready', status: 'False' }, { type: 'MemoryPressure', status: 'False' }, { type: 'DiskPressure', status: 'False' },
    ]);
    const deleted = await json(t.call('patch', '/api/v1/nodes/smp-node/status'), {
      status: { conditions: [{ type: 'DiskPressure', $patch: 'delete' }] },
    }, STRATEGIC).expect(200);
    assert.deepEqual(deleted.body.status.conditions.map((c: { type: string }) => c.type), ['Ready', 'MemoryPressure']);
  });

  test('strategic merge: $patch: delete on a label map entry and on a map', async () => {
    await create(podManifest('smp-map', { labels: { a: '1', b: '2' } }));
    const res = await patch('smp-map', { metadata: { labels: { a: null } } }, STRATEGIC).expect(200);
    assert.deepEqual(res.body.metadata.labels, { b: '2' });
    const replaced = await patch('smp-map', { metadata: { labels: { $patch: 'replace', z: '9' } } }, STRATEGIC).expect(200);
    assert.deepEqual(replaced.body.metadata.labels, { z: '9' });
  });

  test('server-side apply creates a missing object (201), then updates it (200)', async () => {
    const config = podManifest('ssa', { labels: { app: 'web' } });
    const created = await patch('ssa', config, APPLY, '?fieldManager=kubectl&fieldValidation=Strict').expect(201);
    assert.deepEqual(created.body.metadata.labels, { app: 'web' });
    assert.deepEqual(created.body.metadata.managedFields.map((m: { manager: string; operation: string }) => [m.manager, m.operation]), [['kubectl', 'Apply']]);
    const changed = await patch('ssa', podManifest('ssa', { labels: { app: 'web', tier: 'front' } }), APPLY, '?fieldManager=kubectl').expect(200);
    assert.deepEqual(changed.body.metadata.labels, { app: 'web', tier: 'front' });
    assert.equal(changed.body.metadata.uid, created.body.metadata.uid);
    const dropped = await patch('ssa', podManifest('ssa', { labels: { app: 'web' } }), APPLY, '?fieldManager=kubectl').expect(200);
    assert.deepEqual(dropped.body.metadata.labels, { app: 'web' });
  });

  test('server-side apply conflicts with a field another manager set, unless forced', async () => {
    await patch('ssa-conflict', podManifest('ssa-conflict', { labels: { app: 'web' } }), APPLY, '?fieldManager=kubectl').expect(201);
    await patch('ssa-conflict', { metadata: { labels: { app: 'other' } } }, MERGE, '?fieldManager=kubectl-label').expect(200);
    const conflict = await patch('ssa-conflict', podManifest('ssa-conflict', { labels: { app: 'web' } }), APPLY, '?fieldManager=kubectl').expect(409);
    assert.deepEqual(conflict.body, {
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure',
      message: 'Apply failed with 1 conflict: conflict with "kubectl-label" using v1: .metadata.labels.app',
      reason: 'Conflict',
      details: { causes: [{ reason: 'FieldManagerConflict', message: 'conflict with "kubectl-label" using v1', field: '.metadata.labels.app' }] },
      code: 409,
    });
    assert.deepEqual((await read('ssa-conflict')).metadata.labels, { app: 'other' });
    const forced = await patch('ssa-conflict', podManifest('ssa-conflict', { labels: { app: 'web' } }), APPLY, '?fieldManager=kubectl&force=true').expect(200);
    assert.deepEqual(forced.body.metadata.labels, { app: 'web' });
    const managers = forced.body.metadata.managedFields.map((m: { manager: string }) => m.manager);
    assert.deepEqual(managers, ['kubectl']);
  });

  test('server-side apply of the same pod twice with a port without protocol is a no-op the second time', async () => {
    const config = podManifest('ssa-ports', {
      spec: { containers: [{ name: 'nginx', image: 'nginx:1.27', ports: [{ containerPort: 80 }] }] },
    });
    const first = await patch('ssa-ports', config, APPLY, '?fieldManager=kubectl&fieldValidation=Strict').expect(201);
    assert.deepEqual(first.body.spec.containers[0].ports, [{ containerPort: 80, protocol: 'TCP' }]);
    const fields = first.body.metadata.managedFields[0].fieldsV1;
    assert.deepEqual(Object.keys(fields['f:spec']['f:containers']['k:{"name":"nginx"}']['f:ports']), ['k:{"containerPort":80,"protocol":"TCP"}']);
    const second = await patch('ssa-ports', config, APPLY, '?fieldManager=kubectl&fieldValidation=Strict').expect(200);
    assert.deepEqual(second.body.spec.containers[0].ports, [{ containerPort: 80, protocol: 'TCP' }]);
    assert.equal(second.body.metadata.resourceVersion, first.body.metadata.resourceVersion);
    const image = structuredClone(config) as { spec: { containers: { image: string }[] } };
    image.spec.containers[0].image = 'nginx:1.28';
    const third = await patch('ssa-ports', image, APPLY, '?fieldManager=kubectl').expect(200);
    assert.equal(third.body.spec.containers[0].image, 'nginx:1.28');
    assert.deepEqual(third.body.spec.containers[0].ports, [{ containerPort: 80, protocol: 'TCP' }]);
  });

  test('apply needs a fieldManager; force is refused on other patch types; unknown patch type is 415', async () => {
    await create(podManifest('opts'));
    const noManager = await patch('opts', podManifest('opts'), APPLY).expect(422);
    assert.deepEqual(noManager.body, {
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure',
      message: 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
      reason: 'Invalid',
      details: { group: 'meta.k8s.io', kind: 'PatchOptions', causes: [{ reason: 'FieldValueRequired', message: 'Required value: is required for apply patch', field: 'fieldManager' }] },
      code: 422,
    });
    const force = await patch('opts', { metadata: {} }, MERGE, '?force=true').expect(422);
    assert.equal(force.body.message, 'PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be specified for non-apply patch');
    const unsupported = await patch('opts', { metadata: {} }, 'application/json').expect(415);
    assert.deepEqual(unsupported.body, {
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure',
      message: 'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml',
      reason: 'UnsupportedMediaType', code: 415,
    });
  });

  test('patch of a missing object is NotFound', async () => {
    const res = await patch('ghost', { metadata: { labels: { a: '1' } } }, MERGE).expect(404);
    assert.equal(res.body.message, 'pods "ghost" not found');
  });
});
