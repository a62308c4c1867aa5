// Held objects share equal managedFields field sets and spec parts (storage/subtree-pool.ts): the
// sharing is invisible (same JSON, same answers), and writes through the API never modify a shared part.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { JsonObject, KubeObject } from '../api/object.ts';
import { objectJson } from '../storage/object-json.ts';
import { SubtreePool } from '../storage/subtree-pool.ts';
import { LevelDbStorage } from '../storage/leveldb.ts';
import { WatchCache } from '../storage/watch-cache.ts';
import { json, podManifest, startTestServer } from './helpers/api-server.ts';

const creatorSet = { 'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } }, 'f:spec': { 'f:containers': { 'k:{"name":"web"}': { '.': {}, 'f:image': {}, 'f:name': {} } } } };

function pod(name: string, fieldsV1: JsonObject = structuredClone(creatorSet)): KubeObject {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, namespace: 'ns', labels: { app: 'web' }, managedFields: [{ manager: 'kubectl', operation: 'Update', apiVersion: 'v1', fieldsType: 'FieldsV1', fieldsV1 }] },
    spec: { containers: [{ name: 'web', image: 'registry.k8s.io/nginx-slim:0.27', imagePullPolicy: 'IfNotPresent' }], nodeName: 'node01' },
  };
}

function specOf(object: KubeObject): { containers?: object[]; nodeName?: string } {
  return object.spec as { containers?: object[]; nodeName?: string };
}

function fieldsOf(object: KubeObject, entry = 0): unknown {
  return (object.metadata as { managedFields: { fieldsV1: unknown }[] }).managedFields[entry].fieldsV1;
}

test('equal field sets become one frozen instance; the objects serialize as before', () => {
  const pool = new SubtreePool();
  const a = pod('a');
  const b = pod('b');
  const before = [JSON.stringify(a), JSON.stringify(b)];
  pool.shareSubtrees(a);
  pool.shareSubtrees(b);
  assert.equal(fieldsOf(a), fieldsOf(b), 'one instance');
  assert.ok(Object.isFrozen(fieldsOf(a)));
  assert.ok(Object.isFrozen((fieldsOf(a) as typeof creatorSet)['f:metadata']['f:labels']['.']), 'frozen to the leaves');
  assert.deepEqual([JSON.stringify(a), JSON.stringify(b)], before);
  assert.equal(specOf(a).containers, specOf(b).containers, 'spec parts too');
  assert.ok(Object.isFrozen(specOf(a).containers?.[0]));
  assert.equal(specOf(b).nodeName, 'node01', 'scalars stay');
  assert.equal(pool.size, 2);
  assert.throws(() => { (fieldsOf(b) as Record<string, unknown>)['f:status'] = {}; }, TypeError, 'a write to a shared set throws');
});

test('sets that differ, even only in key order, are not shared', () => {
  const pool = new SubtreePool();
  const a = pod('a');
  const reordered = pod('b', { 'f:spec': structuredClone(creatorSet['f:spec']), 'f:metadata': structuredClone(creatorSet['f:metadata']) });
  const other = pod('c', { 'f:spec': { 'f:containers': { 'k:{"name":"other"}': { '.': {}, 'f:image': {} } } } });
  for (const object of [a, reordered, other]) pool.shareSubtrees(object);
  assert.notEqual(fieldsOf(a), fieldsOf(reordered));
  assert.notEqual(fieldsOf(a), fieldsOf(other));
  assert.deepEqual(Object.keys(fieldsOf(reordered) as object), ['f:spec', 'f:metadata']);
  assert.equal(pool.size, 4, 'three field sets and one containers list');
});

test('frozen metadata, entries, sets or specs, status, and odd shapes are left as they are', () => {
  const pool = new SubtreePool();
  const frozenSet = Object.freeze({ 'f:spec': {} });
  const kept = pod('a', frozenSet);
  kept.spec = Object.freeze({ containers: [{ name: 'web' }] });
  kept.status = { conditions: [{ type: 'Ready' }] };
  pool.shareSubtrees(kept);
  assert.equal(fieldsOf(kept), frozenSet);
  assert.ok(!Object.isFrozen((kept.spec as { containers: object[] }).containers), 'a frozen spec is not walked');
  assert.ok(!Object.isFrozen(kept.status), 'status is not pooled');
  const odd: unknown[] = [null, 'text', {}, { metadata: null }, { metadata: { managedFields: 'x' } }, { metadata: { managedFields: [null, 7, { fieldsV1: 'x' }] } },
    { spec: 'x' }, { spec: ['a', 'b'] }, { spec: { replicas: 3, paused: null } }, JSON.parse('{"spec":{"__proto__":{"polluted":true}}}')];
  for (const value of odd) assert.doesNotThrow(() => pool.shareSubtrees(value));
  assert.equal(pool.size, 0);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

test('parts with JSON shorter than 64 characters are left alone', () => {
  const pool = new SubtreePool();
  const shortParts = (): KubeObject => ({ metadata: { managedFields: [{ fieldsV1: { 'f:spec': {} } }] }, spec: { podCIDRs: ['10.244.1.0/24'], securityContext: {} } });
  const a = shortParts();
  const b = shortParts();
  pool.shareSubtrees(a);
  pool.shareSubtrees(b);
  assert.equal(pool.size, 0);
  assert.notEqual(fieldsOf(a), fieldsOf(b));
  assert.ok(!Object.isFrozen((a.spec as { podCIDRs: string[] }).podCIDRs));
});

test('the pool never holds more than its capacity, and still shares after starting over', () => {
  const pool = new SubtreePool(10);
  for (let i = 0; i < 100; i++) {
    pool.shareSubtrees({ metadata: { managedFields: [{ fieldsV1: { [`f:field${i}`]: { '.': {}, 'f:name': {}, 'f:value': {}, 'f:valueFrom': {}, 'f:fieldRef': {} } } }] } });
    assert.ok(pool.size > 0 && pool.size <= 10, `size ${pool.size}`);
  }
  const a = pod('a');
  const b = pod('b');
  pool.shareSubtrees(a);
  pool.shareSubtrees(b);
  assert.equal(fieldsOf(a), fieldsOf(b));
});

test('the watch cache holds equal field sets and spec parts once, from the initial list and from writes', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'kubefacade-fields-pool-'));
  try {
    const seeded = await LevelDbStorage.open(dir);
    await seeded.create('/registry/pods/ns/listed', pod('listed'));
    await seeded.close();
    const cache = await WatchCache.start(await LevelDbStorage.open(dir));
    try {
      await cache.create('/registry/pods/ns/written', pod('written'));
      const listed = await cache.get('/registry/pods/ns/listed');
      const written = await cache.get('/registry/pods/ns/written');
      assert.ok(listed && written);
      assert.equal(fieldsOf(listed), fieldsOf(written));
      assert.equal(specOf(listed).containers, specOf(written).containers);
      assert.equal(JSON.parse(objectJson(written)).metadata.managedFields[0].fieldsV1['f:metadata']['f:labels']['f:app'] !== undefined, true);
    } finally {
      await cache.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('through the API: pods that share field sets and containers are patched, applied and status-updated independently', async () => {
  const t = await startTestServer('fields-pool');
  try {
    const podsPath = '/api/v1/namespaces/default/pods';
    for (const name of ['one', 'two']) {
      const res = await json(t.call('post', `${podsPath}?fieldManager=creator`), podManifest(name, { labels: { app: 'web' } }));
      assert.equal(res.status, 201, JSON.stringify(res.body));
    }
    const managers = async (name: string): Promise<Record<string, unknown>> => {
      const res = await t.call('get', `${podsPath}/${name}`);
      assert.equal(res.status, 200);
      return Object.fromEntries((res.body.metadata.managedFields as { manager: string; fieldsV1: unknown }[]).map((e) => [e.manager, e.fieldsV1]));
    };
    const twoBefore = await managers('two');

    let res = await json(t.call('patch', `${podsPath}/one?fieldManager=labeller`), { metadata: { labels: { tier: 'front', app: 'web2' } } }, 'application/merge-patch+json');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    res = await json(t.call('patch', `${podsPath}/one/status?fieldManager=kubelet`), { status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } }, 'application/merge-patch+json');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    res = await json(t.call('patch', `${podsPath}/one?fieldManager=applier&force=true`),
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'one', labels: { owner: 'me' } } }, 'application/apply-patch+yaml');
    assert.equal(res.status, 200, JSON.stringify(res.body));

    const one = await managers('one');
    assert.deepEqual(Object.keys(one).sort(), ['applier', 'creator', 'kubelet', 'labeller']);
    // The labeller took app over from the creator; the creator's set on `two` is untouched.
    assert.equal((one.creator as { 'f:metadata': { 'f:labels': Record<string, unknown> } })['f:metadata']['f:labels']['f:app'], undefined);
    assert.deepEqual(await managers('two'), twoBefore);

    // The containers list `one` shares with `two`, changed by every kind of write that can change it.
    const image = async (name: string): Promise<string> => (await t.call('get', `${podsPath}/${name}`)).body.spec.containers[0].image;
    const twoSpec = (await t.call('get', `${podsPath}/two`)).body.spec;
    res = await json(t.call('patch', `${podsPath}/one`), { spec: { containers: [{ name: 'nginx', image: 'nginx:1.28' }] } }, 'application/strategic-merge-patch+json');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(await image('one'), 'nginx:1.28');
    res = await json(t.call('patch', `${podsPath}/one`), [{ op: 'replace', path: '/spec/containers/0/image', value: 'nginx:1.29' }], 'application/json-patch+json');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    res = await json(t.call('patch', `${podsPath}/one?fieldManager=applier&force=true`),
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'one' }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.30' }] } }, 'application/apply-patch+yaml');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(await image('one'), 'nginx:1.30');
    const current = (await t.call('get', `${podsPath}/one`)).body;
    current.spec.containers[0].image = 'nginx:1.31';
    current.spec.tolerations.push({ key: 'extra', operator: 'Exists', effect: 'NoSchedule' });
    res = await json(t.call('put', `${podsPath}/one`), current);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(await image('one'), 'nginx:1.31');
    assert.deepEqual((await t.call('get', `${podsPath}/two`)).body.spec, twoSpec);
  } finally {
    await t.close();
  }
});
