// The watch cache's two memory and CPU savings: writes start from the cached object instead of
// re-reading the backend (a stale copy is caught and retried), and events are not held in memory
// (reads of them go to the backend, watches still see them).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { KubeObject } from '../api/object.ts';
import { LevelDbStorage } from '../storage/leveldb.ts';
import { WatchCache } from '../storage/watch-cache.ts';
import type { StorageEvent } from '../storage/interface.ts';

async function withBackend(body: (backend: LevelDbStorage) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'kubefacade-hints-'));
  const backend = await LevelDbStorage.open(dir);
  try {
    await body(backend);
  } finally {
    await backend.close();
    await rm(dir, { recursive: true, force: true });
  }
}

function pod(name: string, phase: string): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'ns' }, status: { phase } };
}

const KEY = '/registry/pods/ns/a';

test('a stale cached copy loses the compare-and-swap and the update is redone on the stored object', async () => {
  await withBackend(async (backend) => {
    const first = await backend.create(KEY, pod('a', 'Pending'));
    await backend.guaranteedUpdate(KEY, (current) => ({ ...current, status: { phase: 'Running' } }));
    const seen: string[] = [];
    const result = await backend.guaranteedUpdate(KEY, (current) => {
      seen.push(String((current.status as { phase: string }).phase));
      return { ...current, metadata: { ...current.metadata, labels: { touched: 'yes' } } };
    }, undefined, first);
    assert.deepEqual(seen, ['Pending', 'Running']);
    assert.equal((result.status as { phase: string }).phase, 'Running');
    assert.equal(result.metadata.labels?.touched, 'yes');
  });
});

test('an error computed from a stale copy is retried against the stored object', async () => {
  await withBackend(async (backend) => {
    const first = await backend.create(KEY, pod('a', 'Pending'));
    const second = await backend.guaranteedUpdate(KEY, (current) => ({ ...current, status: { phase: 'Running' } }));
    const result = await backend.guaranteedUpdate(KEY, (current) => {
      if (current.metadata.resourceVersion !== second.metadata.resourceVersion) throw new Error('conflict');
      return { ...current, status: { phase: 'Succeeded' } };
    }, { resourceVersion: second.metadata.resourceVersion }, first);
    assert.equal((result.status as { phase: string }).phase, 'Succeeded');
    // A real error still surfaces once the stored object confirms it.
    await assert.rejects(backend.guaranteedUpdate(KEY, () => { throw new Error('always'); }, undefined, first), /always/);
  });
});

test('"unchanged" against a stale copy is checked against the stored object', async () => {
  await withBackend(async (backend) => {
    const first = await backend.create(KEY, pod('a', 'Pending'));
    await backend.guaranteedUpdate(KEY, (current) => ({ ...current, status: { phase: 'Running' } }));
    // Setting Pending is a no-op for the stale copy but a real change for the stored object.
    const result = await backend.guaranteedUpdate(KEY, (current) => ({ ...current, status: { phase: 'Pending' } }), undefined, first);
    assert.equal((result.status as { phase: string }).phase, 'Pending');
    assert.equal(((await backend.get(KEY))?.status as { phase: string }).phase, 'Pending');
  });
});

test('delete with a stale cached copy checks preconditions against the stored object', async () => {
  await withBackend(async (backend) => {
    const first = await backend.create(KEY, pod('a', 'Pending'));
    const second = await backend.guaranteedUpdate(KEY, (current) => ({ ...current, status: { phase: 'Running' } }));
    const deleted = await backend.delete(KEY, { preconditions: { resourceVersion: second.metadata.resourceVersion } }, first);
    assert.equal((deleted.status as { phase: string }).phase, 'Running');
    assert.equal(await backend.get(KEY), undefined);
  });
});

test('the watch cache hands its object to the backend, so a MODIFIED event shares the cached previous object', async () => {
  await withBackend(async (backend) => {
    const cache = await WatchCache.start(backend);
    try {
      await cache.create(KEY, pod('a', 'Pending'));
      const cached = await cache.get(KEY);
      const events: StorageEvent[] = [];
      const handle = cache.watch('/registry/pods/', { fromRevision: await cache.currentRevision() }, { onEvent: (event) => events.push(event) });
      await cache.guaranteedUpdate(KEY, (current) => ({ ...current, status: { phase: 'Running' } }));
      handle.stop();
      assert.equal(events.length, 1);
      assert.equal(events[0].prevObject, cached);
    } finally {
      await cache.close();
    }
  });
});

test('events are not held by the watch cache but read, listed, counted and watched through it', async () => {
  await withBackend(async (backend) => {
    const cache = await WatchCache.start(backend);
    try {
      const eventKey = '/registry/events/ns/a.1';
      const seen: StorageEvent[] = [];
      const handle = cache.watch('/registry/events/', { fromRevision: await cache.currentRevision() }, { onEvent: (event) => seen.push(event) });
      const event = await cache.create(eventKey, { apiVersion: 'v1', kind: 'Event', metadata: { name: 'a.1', namespace: 'ns' }, reason: 'Started' });
      await cache.create(KEY, pod('a', 'Pending'));
      assert.equal(seen.length, 1);
      handle.stop();
      const read = await cache.get(eventKey);
      assert.equal(read?.metadata.resourceVersion, event.metadata.resourceVersion);
      // A fresh copy from the backend, not a held one.
      assert.notEqual(read, event);
      assert.equal((await cache.list('/registry/events/ns/')).items.length, 1);
      assert.equal(await cache.count('/registry/events/'), 1);
      // A list over everything includes both kinds.
      assert.equal((await cache.list('/registry/')).items.length, 2);
      // Paging through a namespace's events at a revision works (served by the backend).
      const paged = await cache.list('/registry/events/ns/', { limit: 1, revision: Number(event.metadata.resourceVersion) });
      assert.equal(paged.items.length, 1);
    } finally {
      await cache.close();
    }
  });
});
