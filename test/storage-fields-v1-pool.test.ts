// Held objects share equal managedFields field sets (storage/fields-v1-pool.ts): the sharing is
// invisible (same JSON, same answers), and writes through the API never modify a shared set.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { JsonObject, KubeObject } from '../api/object.ts';
import { objectJson } from '../storage/object-json.ts';
import { FieldsV1Pool } from '../storage/fields-v1-pool.ts';
import { LevelDbStorage } from '../storage/leveldb.ts';
import { WatchCache } from '../storage/watch-cache.ts';
import { json, podManifest, startTestServer } from './helpers/api-server.ts';

const creatorSet = { 'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } }, 'f:spec': { 'f:containers': { 'k:{"name":"web"}': { '.': {}, 'f:image': {}, 'f:name': {} } } } };

function pod(name: string, fieldsV1: JsonObject = structuredClone(creatorSet)): KubeObject {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, namespace: 'ns', labels: { app: 'web' }, managedFields: [{ manager: 'kubectl', operation: 'Update', apiVersion: 'v1', fieldsType: 'FieldsV1', fieldsV1 }] },
    spec: { containers: [{ name: 'web', image: 'nginx' }] },
  };
}

function fieldsOf(object: KubeObject, entry = 0): unknown {
  return (object.metadata as { managedFields: { fieldsV1: unknown }[] }).managedFields[entry].fieldsV1;
}

test('equal field sets become one frozen instance; the objects serialize as before', () => {
  const pool = new FieldsV1Pool();
  const a = pod('a');
  const b = pod('b');
  const before = [JSON.stringify(a), JSON.stringify(b)];
  pool.shareFieldSets(a);
  pool.shareFieldSets(b);
  assert.equal(fieldsOf(a), fieldsOf(b), 'one instance');
  assert.ok(Object.isFrozen(fieldsOf(a)));
  assert.ok(Object.isFrozen((fieldsOf(a) as typeof creatorSet)['f:metadata']['f:labels']['.']), 'frozen to the leaves');
  assert.deepEqual([JSON.stringify(a), JSON.stringify(b)], before);
  assert.equal(pool.size, 1);
  assert.throws(() => { (fieldsOf(b) as Record<string, unknown>)['f:status'] = {}; }, TypeError, 'a write to a shared set throws');
});

test('sets that differ, even only in key order, are not shared', () => {
  const pool = new FieldsV1Pool();
  const a = pod('a');
  const reordered = pod('b', { 'f:spec': structuredClone(creatorSet['f:spec']), 'f:metadata': structuredClone(creatorSet['f:metadata']) });
  const other = pod('c', { 'f:spec': {} });
  for (const object of [a, reordered, other]) pool.shareFieldSets(object);
  assert.notEqual(fieldsOf(a), fieldsOf(reordered));
  assert.notEqual(fieldsOf(a), fieldsOf(other));
  assert.deepEqual(Object.keys(fieldsOf(reordered) as object), ['f:spec', 'f:metadata']);
  assert.equal(pool.size, 3);
});

test('frozen metadata, entries or sets, and odd shapes are left as they are', () => {
  const pool = new FieldsV1Pool();
  const frozenSet = Object.freeze({ 'f:spec': {} });
  const kept = pod('a', frozenSet);
  pool.shareFieldSets(kept);
  assert.equal(fieldsOf(kept), frozenSet);
  for (const odd of [null, 'text', {}, { metadata: null }, { metadata: { managedFields: 'x' } }, { metadata: { managedFields: [null, 7, { fieldsV1: 'x' }] } }]) {
    assert.doesNotThrow(() => pool.shareFieldSets(odd));
  }
  assert.equal(pool.size, 0);
});

test('the pool never holds more than its capacity, and still shares after starting over', () => {
  const pool = new FieldsV1Pool(10);
  for (let i = 0; i < 100; i++) pool.shareFieldSets(pod(`p${i}`, { [`f:field${i}`]: {} }));
  assert.ok(pool.size <= 10, `size ${pool.size}`);
  const a = pod('a');
  const b = pod('b');
  pool.shareFieldSets(a);
  pool.shareFieldSets(b);
  assert.equal(fieldsOf(a), fieldsOf(b));
});

test('the watch cache holds equal field sets once, from the initial list and from writes', async () => {
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
      assert.equal(JSON.parse(objectJson(written)).metadata.managedFields[0].fieldsV1['f:metadata']['f:labels']['f:app'] !== undefined, true);
    } finally {
      await cache.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('through the API: pods that share field sets are patched, applied and status-updated independently', async () => {
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
  } finally {
    await t.close();
  }
});
