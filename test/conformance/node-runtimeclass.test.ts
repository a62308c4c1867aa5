// Conformance entries of sig-node about RuntimeClass: the node.k8s.io API, pods refused for a missing or
// deleted class, and pods with a class scheduled, with and without overhead, on `up`'s cluster.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startConformanceCluster, podManifest, until, type ConformanceCluster, type Json } from './helpers/cluster.ts';

const RCS = '/apis/node.k8s.io/v1/runtimeclasses';

describe('conformance: RuntimeClass', () => {
  let c: ConformanceCluster;
  let namespaceCount = 0;
  before(async () => { c = await startConformanceCluster('node-runtimeclass', { nodes: 1 }); });
  after(async () => { await c.stop(); });

  /** A namespace of its own per test, as the e2e framework gives each test. */
  const namespace = async (): Promise<string> => {
    const name = `runtimeclass-${++namespaceCount}`;
    await c.api('post', '/api/v1/namespaces', { body: { metadata: { name } }, expect: 201 });
    return name;
  };
  const createClass = (name: string, handler: string, overhead?: Json) =>
    c.api('post', RCS, { body: { apiVersion: 'node.k8s.io/v1', kind: 'RuntimeClass', metadata: { name }, handler, ...(overhead ? { overhead } : {}) }, expect: 201 });
  const rejected = async (ns: string, runtimeClassName: string) => {
    const res = await c.api('post', `/api/v1/namespaces/${ns}/pods`, { body: podManifest('test-runtimeclass-pod', { spec: { runtimeClassName } }), expect: 403 });
    assert.equal(res.reason, 'Forbidden');
    assert.equal(res.message, `pods "test-runtimeclass-pod" is forbidden: pod rejected: RuntimeClass "${runtimeClassName}" not found`);
  };
  const scheduledPods = (ns: string) => until(async () => {
    const list = await c.api('get', `/api/v1/namespaces/${ns}/pods`);
    return list.items.length > 0 && list.items.every((p: Json) => p.spec.nodeName) ? list.items as Json[] : undefined;
  }, `the pods of ${ns} to be scheduled`);

  test('Pod with the non-existing RuntimeClass is rejected.', async () => {
    const ns = await namespace();
    await rejected(ns, `${ns}-nonexistent`);
  });

  test('Pod with the deleted RuntimeClass is rejected.', async () => {
    const ns = await namespace();
    const name = `${ns}-delete-me`;
    await createClass(name, 'runc');
    await c.api('delete', `${RCS}/${name}`);
    await until(async () => ((await c.raw('get', `${RCS}/${name}`)).status === 404 ? true : undefined), 'the RuntimeClass to disappear');
    await rejected(ns, name);
  });

  test('Can schedule a pod requesting existing RuntimeClass.', async () => {
    const ns = await namespace();
    const name = `${ns}-preconfigured-handler`;
    await createClass(name, 'test-handler');
    const pod = await c.api('post', `/api/v1/namespaces/${ns}/pods`, { body: podManifest('with-class', { spec: { runtimeClassName: name } }), expect: 201 });
    const pods = await scheduledPods(ns);
    assert.equal(pods.length, 1);
    assert.equal(pods[0].metadata.name, pod.metadata.name);
    // No overhead in the class: none on the pod.
    assert.equal(pods[0].spec.overhead, undefined);
    await c.api('delete', `${RCS}/${name}`);
  });

  test('RuntimeClass Overhead field must be respected.', async () => {
    const ns = await namespace();
    const name = `${ns}-preconfigured-handler`;
    await createClass(name, 'test-handler', { podFixed: { cpu: '10m', memory: '1Mi' } });
    const pod = await c.api('post', `/api/v1/namespaces/${ns}/pods`, { body: podManifest('with-overhead', { spec: { runtimeClassName: name } }), expect: 201 });
    const pods = await scheduledPods(ns);
    assert.equal(pods.length, 1);
    assert.equal(pods[0].metadata.name, pod.metadata.name);
    assert.deepEqual(pods[0].spec.overhead, { cpu: '10m', memory: '1Mi' });
    await c.api('delete', `${RCS}/${name}`);
  });

  test('RuntimeClass API', async () => {
    const unique = 'rc-api';
    const groups = await c.api('get', '/apis');
    const group = groups.groups.find((g: Json) => g.name === 'node.k8s.io');
    assert.ok(group?.versions.some((v: Json) => v.version === 'v1'), 'node.k8s.io/v1 in /apis');
    const groupDocument = await c.api('get', '/apis/node.k8s.io');
    assert.ok(groupDocument.versions.some((v: Json) => v.version === 'v1'), 'v1 in /apis/node.k8s.io');
    const resources = await c.api('get', '/apis/node.k8s.io/v1');
    const resource = resources.resources.find((r: Json) => r.name === 'runtimeclasses');
    assert.ok(resource, 'runtimeclasses in /apis/node.k8s.io/v1');
    assert.deepEqual([...resource.verbs].sort(), ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch']);

    const body = (n: number) => ({ metadata: { name: `${unique}-conformance-runtime-class${n}`, labels: { test: unique } }, handler: `${unique}-handler${n}` });
    const created = await c.api('post', RCS, { body: body(1), expect: 201 });
    await c.api('post', RCS, { body: body(1), expect: 409 });
    await c.api('post', RCS, { body: body(2), expect: 201 });

    // A watch from now on sees the third class added, then the patch and the update.
    const list = await c.api('get', `${RCS}?labelSelector=test=${unique}`);
    const watch = c.raw('get', `${RCS}?watch=true&labelSelector=test=${unique}&resourceVersion=${list.metadata.resourceVersion}&timeoutSeconds=5`)
      .buffer(true).parse((res, done) => {
        let text = '';
        res.on('data', (chunk: Buffer) => { text += chunk.toString(); });
        res.on('end', () => done(null, text));
      });
    const watched = watch.then((res) => String(res.body).split('\n').filter(Boolean).map((line) => JSON.parse(line) as Json));
    await c.api('post', RCS, { body: body(3), expect: 201 });

    const got = await c.api('get', `${RCS}/${created.metadata.name}`);
    assert.equal(got.metadata.uid, created.metadata.uid);
    assert.equal((await c.api('get', `${RCS}?labelSelector=test=${unique}`)).items.length, 3);
    const patched = await c.api('patch', `${RCS}/${created.metadata.name}`, { body: { metadata: { annotations: { patched: 'true' } } }, contentType: 'application/merge-patch+json' });
    assert.equal(patched.metadata.annotations.patched, 'true');
    const updated = await c.api('put', `${RCS}/${created.metadata.name}`, { body: { ...patched, metadata: { ...patched.metadata, annotations: { ...patched.metadata.annotations, updated: 'true' } } } });
    assert.equal(updated.metadata.annotations.updated, 'true');
    const events = await watched;
    assert.ok(events.some((e) => e.type === 'ADDED' && e.object.kind === 'RuntimeClass'), 'an ADDED event');
    assert.ok(events.some((e) => e.type === 'MODIFIED' && e.object.metadata.annotations?.patched === 'true'), 'the patch watched');
    assert.ok(events.some((e) => e.type === 'MODIFIED' && e.object.metadata.annotations?.updated === 'true'), 'the update watched');

    await c.api('delete', `${RCS}/${created.metadata.name}`);
    await c.api('get', `${RCS}/${created.metadata.name}`, { expect: 404 });
    assert.equal((await c.api('get', `${RCS}?labelSelector=test=${unique}`)).items.length, 2);
    await c.api('delete', `${RCS}?labelSelector=test=${unique}`);
    assert.equal((await c.api('get', `${RCS}?labelSelector=test=${unique}`)).items.length, 0);
  });
});
