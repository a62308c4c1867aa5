// One backend-agnostic conformance suite for the Storage contract, run against every backend
// (raw LevelDB, watch cache over LevelDB, raw etcd, watch cache over etcd). Assertions only use
// the Storage interface. The etcd suites share one etcd started on a free loopback port; each
// store gets its own key prefix (derived from its data dir, so reopening finds the same data).

import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { KubeObject } from '../api/object.ts';
import {
  KeyExistsError, KeyNotFoundError, PreconditionError, RevisionCompactedError,
  type Storage, type StorageEvent, type WatchCallbacks, type WatchHandle, type WatchOptions,
} from '../storage/interface.ts';
import { LevelDbStorage, memoryDatabase } from '../storage/leveldb.ts';
import type { StringLevel } from '../storage/leveldb-list.ts';
import { SortedKeySet } from '../storage/sorted-key-set.ts';
import { WatchCache } from '../storage/watch-cache.ts';
import { openStorage } from '../storage/index.ts';
import { EtcdStorage } from '../storage/etcd.ts';
import { startEtcdCluster, type EtcdCluster } from './helpers/etcd.ts';

/** Opens a store over `dataDir`; `history` bounds how many recent revisions it must keep (small, to test compaction). */
type StorageFactory = (dataDir: string, options: { history?: number }) => Promise<Storage>;

const tempDirs: string[] = [];
after(() => {
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

let etcdCluster: Promise<EtcdCluster> | undefined;
/** Started on first use, so a missing etcd fails the etcd suites (loudly) and nothing else. */
function sharedEtcd(): Promise<EtcdCluster> {
  etcdCluster ??= startEtcdCluster(1);
  return etcdCluster;
}
after(async () => {
  await (await etcdCluster?.catch(() => undefined))?.stop();
});

async function openEtcd(dataDir: string, history: number | undefined): Promise<EtcdStorage> {
  const { endpoints } = await sharedEtcd();
  return EtcdStorage.open({
    endpoints, prefix: `/kubefacade-test/${path.basename(dataDir)}`, compactionIntervalMs: 0, historyRevisions: history,
  });
}

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kubefacade-storage-'));
  tempDirs.push(dir);
  return dir;
}

function pod(namespace: string, name: string, extra: Record<string, unknown> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { namespace, name, uid: `uid-${namespace}-${name}` }, ...extra };
}

const rv = (object: KubeObject): number => Number(object.metadata.resourceVersion);
const names = (items: KubeObject[]): string[] => items.map((item) => item.metadata.name as string);

/** Collects watch events; `until(n)` resolves once n events arrived (fails instead of hanging). */
function collect(storage: Storage, prefix: string, fromRevision: number) {
  const events: StorageEvent[] = [];
  let wanted = Infinity;
  let wake: (() => void) | undefined;
  const handle: WatchHandle = storage.watch(prefix, { fromRevision }, {
    onEvent(event) {
      events.push(event);
      if (events.length >= wanted) wake?.();
    },
  });
  return {
    events,
    handle,
    until(count: number): Promise<void> {
      if (events.length >= count) return Promise.resolve();
      wanted = count;
      return new Promise((resolve, reject) => {
        const guard = setTimeout(() => reject(new Error(`watch got ${events.length} of ${count} events`)), 10_000);
        wake = () => { clearTimeout(guard); resolve(); };
      });
    },
  };
}

/** Resolves once `condition` holds (checked every 10 ms); fails after 10 s instead of hanging. */
async function eventually(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function suite(name: string, makeStorage: StorageFactory): void {
  describe(`storage conformance: ${name}`, () => {
    async function withStorage(run: (storage: Storage, dataDir: string) => Promise<void>, history?: number): Promise<void> {
      const dataDir = tempDir();
      const storage = await makeStorage(dataDir, { history });
      try {
        await run(storage, dataDir);
      } finally {
        await storage.close();
      }
    }

    test('create, get, and create of an existing key', () => withStorage(async (storage) => {
      const created = await storage.create('/registry/pods/default/a', pod('default', 'a', { spec: { x: 1 } }));
      assert.equal(created.metadata.name, 'a');
      assert.equal(rv(created), await storage.currentRevision());
      assert.deepEqual(await storage.get('/registry/pods/default/a'), created);
      assert.equal(await storage.get('/registry/pods/default/missing'), undefined);
      await assert.rejects(storage.create('/registry/pods/default/a', pod('default', 'a')), KeyExistsError);
      assert.equal(await storage.currentRevision(), rv(created));
    }));

    test('revisions strictly increase and equal resourceVersion', () => withStorage(async (storage) => {
      const start = await storage.currentRevision();
      const created = await Promise.all(Array.from({ length: 20 }, (_, i) => storage.create(`/registry/pods/ns/p${i}`, pod('ns', `p${i}`))));
      const revisions = created.map(rv).sort((a, b) => a - b);
      assert.deepEqual(revisions, Array.from({ length: 20 }, (_, i) => start + i + 1));
      for (const object of created) assert.equal(rv((await storage.get(`/registry/pods/ns/${object.metadata.name}`))!), rv(object));
      const updated = await storage.guaranteedUpdate('/registry/pods/ns/p0', (current) => ({ ...current, status: { phase: 'Running' } }));
      assert.equal(rv(updated), start + 21);
      assert.equal(await storage.currentRevision(), start + 21);
    }));

    test('guaranteedUpdate loses no update under 50 concurrent updaters', () => withStorage(async (storage) => {
      const key = '/registry/pods/ns/counter';
      await storage.create(key, pod('ns', 'counter', { count: 0 }));
      const results = await Promise.all(Array.from({ length: 50 }, () => storage.guaranteedUpdate(key, async (current) => {
        await new Promise((resolve) => setImmediate(resolve));
        return { ...current, count: (current.count as number) + 1 };
      })));
      assert.equal((await storage.get(key))!.count, 50);
      assert.equal(new Set(results.map(rv)).size, 50);
      assert.deepEqual(results.map((r) => r.count as number).sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i + 1));
    }));

    test('an update that changes nothing writes nothing', () => withStorage(async (storage) => {
      const key = '/registry/pods/ns/same';
      const created = await storage.create(key, pod('ns', 'same', { spec: { a: 1 } }));
      const before = await storage.currentRevision();
      const sameRef = await storage.guaranteedUpdate(key, (current) => current);
      const sameContent = await storage.guaranteedUpdate(key, (current) => ({ ...current, spec: { a: 1 } }));
      assert.equal(rv(sameRef), rv(created));
      assert.equal(rv(sameContent), rv(created));
      assert.equal(await storage.currentRevision(), before);
    }));

    test('preconditions, missing keys and refused updates', () => withStorage(async (storage) => {
      const key = '/registry/pods/ns/p';
      const created = await storage.create(key, pod('ns', 'p'));
      await assert.rejects(storage.guaranteedUpdate(key, (c) => ({ ...c, x: 1 }), { uid: 'other' }),
        (error: unknown) => error instanceof PreconditionError && error.field === 'uid' && error.expected === 'other' && error.actual === 'uid-ns-p');
      await assert.rejects(storage.guaranteedUpdate(key, (c) => ({ ...c, x: 1 }), { resourceVersion: '999999' }),
        (error: unknown) => error instanceof PreconditionError && error.field === 'resourceVersion' && error.actual === String(rv(created)));
      await assert.rejects(storage.delete(key, { preconditions: { uid: 'other' } }), PreconditionError);
      await assert.rejects(storage.guaranteedUpdate(key, () => { throw new Error('refused'); }), /refused/);
      await assert.rejects(storage.delete(key, { validateDeletion: () => { throw new Error('keep it'); } }), /keep it/);
      assert.equal(await storage.currentRevision(), rv(created));
      const ok = await storage.guaranteedUpdate(key, (c) => ({ ...c, x: 1 }), { uid: 'uid-ns-p', resourceVersion: String(rv(created)) });
      assert.equal(ok.x, 1);
      await assert.rejects(storage.guaranteedUpdate('/registry/pods/ns/none', (c) => c), KeyNotFoundError);
      await assert.rejects(storage.delete('/registry/pods/ns/none'), KeyNotFoundError);
    }));

    test('delete returns the last state at the deletion revision', () => withStorage(async (storage) => {
      const key = '/registry/pods/ns/d';
      await storage.create(key, pod('ns', 'd'));
      const updated = await storage.guaranteedUpdate(key, (c) => ({ ...c, status: { phase: 'Succeeded' } }));
      const deleted = await storage.delete(key, { preconditions: { resourceVersion: String(rv(updated)) } });
      assert.deepEqual(deleted.status, { phase: 'Succeeded' });
      assert.equal(rv(deleted), rv(updated) + 1);
      assert.equal(await storage.currentRevision(), rv(deleted));
      assert.equal(await storage.get(key), undefined);
      await assert.rejects(storage.delete(key), KeyNotFoundError);
      await storage.create(key, pod('ns', 'd'));
    }));

    test('list is key-ordered and isolated by prefix; count', () => withStorage(async (storage) => {
      for (const [ns, n] of [['ab', 'x'], ['a', 'c'], ['a', 'a'], ['b', 'z'], ['a', 'b']]) await storage.create(`/registry/pods/${ns}/${n}`, pod(ns, n));
      await storage.create('/registry/nodes/n1', { kind: 'Node', metadata: { name: 'n1' } });
      const inA = await storage.list('/registry/pods/a/');
      assert.deepEqual(names(inA.items), ['a', 'b', 'c']);
      assert.equal(inA.revision, await storage.currentRevision());
      assert.equal(inA.lastKey, undefined);
      const all = await storage.list('/registry/pods/');
      assert.deepEqual(all.items.map((p) => `${p.metadata.namespace}/${p.metadata.name}`), ['a/a', 'a/b', 'a/c', 'ab/x', 'b/z']);
      const filtered = await storage.list('/registry/pods/', { predicate: (p) => p.metadata.name !== 'b', limit: 2 });
      assert.deepEqual(names(filtered.items), ['a', 'c']);
      assert.equal(filtered.lastKey, '/registry/pods/a/c');
      assert.equal(await storage.count('/registry/pods/a/'), 3);
      assert.equal(await storage.count('/registry/pods/'), 5);
      assert.equal(await storage.count('/registry/'), 6);
      assert.equal(await storage.count('/registry/services/'), 0);
    }));

    test('paging at a fixed revision gives a consistent snapshot while writes happen', () => withStorage(async (storage) => {
      for (let i = 0; i < 10; i++) await storage.create(`/registry/pods/ns/p${i}`, pod('ns', `p${i}`, { v: 0 }));
      const first = await storage.list('/registry/pods/ns/', { limit: 4 });
      assert.deepEqual(names(first.items), ['p0', 'p1', 'p2', 'p3']);
      assert.equal(first.lastKey, '/registry/pods/ns/p3');
      // Between pages: modify a later item, delete one, add one, and delete an already-returned one.
      await storage.guaranteedUpdate('/registry/pods/ns/p5', (c) => ({ ...c, v: 1 }));
      await storage.delete('/registry/pods/ns/p6');
      await storage.create('/registry/pods/ns/p45', pod('ns', 'p45'));
      await storage.delete('/registry/pods/ns/p1');
      const seen = [...first.items];
      let lastKey: string | undefined = first.lastKey;
      while (lastKey) {
        const page = await storage.list('/registry/pods/ns/', { limit: 4, startAfterKey: lastKey, revision: first.revision });
        assert.equal(page.revision, first.revision);
        seen.push(...page.items);
        lastKey = page.lastKey;
      }
      assert.deepEqual(names(seen), Array.from({ length: 10 }, (_, i) => `p${i}`));
      assert.ok(seen.every((item) => item.v === 0 && rv(item) <= first.revision));
      const latest = await storage.list('/registry/pods/ns/');
      assert.deepEqual(names(latest.items), ['p0', 'p2', 'p3', 'p4', 'p45', 'p5', 'p7', 'p8', 'p9']);
    }));

    test('two lists paged at once at old revisions, with random writes between pages, each equal the list at its revision', () => withStorage(async (storage) => {
      let seed = 7;
      const random = (n: number) => {
        seed = (seed * 1103515245 + 12345) % 2147483648;
        return seed % n;
      };
      const key = (i: number) => `/registry/pods/ns/p${String(i).padStart(3, '0')}`;
      const live = new Set<number>();
      const write = async () => {
        const i = random(30);
        if (!live.has(i)) {
          await storage.create(key(i), pod('ns', `p${i}`, { v: 0 }));
          live.add(i);
        } else if (random(4) === 0) {
          await storage.delete(key(i));
          live.delete(i);
        } else {
          await storage.guaranteedUpdate(key(i), (c) => ({ ...c, v: (c.v as number) + 1 }));
        }
      };
      for (let n = 0; n < 40; n++) await write();
      const firstPageA = await storage.list('/registry/pods/ns/', { limit: 4 });
      const expectedA = (await storage.list('/registry/pods/ns/', { revision: firstPageA.revision })).items;
      for (let n = 0; n < 20; n++) await write();
      const firstPageB = await storage.list('/registry/pods/ns/', { limit: 5 });
      const expectedB = (await storage.list('/registry/pods/ns/', { revision: firstPageB.revision })).items;
      const paging = [{ seen: [...firstPageA.items], last: firstPageA.lastKey, revision: firstPageA.revision, limit: 4 },
        { seen: [...firstPageB.items], last: firstPageB.lastKey, revision: firstPageB.revision, limit: 5 }];
      while (paging.some((p) => p.last)) {
        for (const p of paging) {
          if (!p.last) continue;
          for (let n = 0; n < 8; n++) await write();
          const page = await storage.list('/registry/pods/ns/', { limit: p.limit, startAfterKey: p.last, revision: p.revision });
          assert.equal(page.revision, p.revision);
          p.seen.push(...page.items);
          p.last = page.lastKey;
        }
      }
      assert.deepEqual(paging[0].seen, expectedA);
      assert.deepEqual(paging[1].seen, expectedB);
      assert.notDeepEqual(expectedA, expectedB, 'the writes changed what the two revisions hold');
    }));

    test('list at an old revision', () => withStorage(async (storage) => {
      await storage.create('/registry/pods/ns/a', pod('ns', 'a', { v: 1 }));
      await storage.create('/registry/pods/ns/b', pod('ns', 'b'));
      await storage.create('/registry/pods/other/a', pod('other', 'a'));
      const then = await storage.currentRevision();
      await storage.guaranteedUpdate('/registry/pods/ns/a', (c) => ({ ...c, v: 2 }));
      await storage.delete('/registry/pods/ns/b');
      await storage.create('/registry/pods/ns/c', pod('ns', 'c'));
      await storage.delete('/registry/pods/other/a');
      const old = await storage.list('/registry/pods/ns/', { revision: then });
      assert.equal(old.revision, then);
      assert.deepEqual(names(old.items), ['a', 'b']);
      assert.equal(old.items[0].v, 1);
      const oldAll = await storage.list('/registry/pods/', { revision: then });
      assert.deepEqual(oldAll.items.map((p) => `${p.metadata.namespace}/${p.metadata.name}`), ['ns/a', 'ns/b', 'other/a']);
      const now = await storage.list('/registry/pods/');
      assert.deepEqual(now.items.map((p) => `${p.metadata.namespace}/${p.metadata.name}`), ['ns/a', 'ns/c']);
    }));

    test('revisions older than the kept history are compacted', () => withStorage(async (storage) => {
      const early = await storage.create('/registry/pods/ns/x', pod('ns', 'x', { n: 0 }));
      for (let i = 1; i <= 60; i++) await storage.guaranteedUpdate('/registry/pods/ns/x', (c) => ({ ...c, n: i }));
      await assert.rejects(storage.list('/registry/pods/', { revision: rv(early) }), RevisionCompactedError);
      assert.throws(() => storage.watch('/registry/pods/', { fromRevision: rv(early) }, { onEvent() {} }), RevisionCompactedError);
      const recent = (await storage.currentRevision()) - 2;
      const listed = await storage.list('/registry/pods/', { revision: recent });
      assert.equal(listed.items[0].n, 58);
      const watch = collect(storage, '/registry/pods/', recent);
      await watch.until(2);
      watch.handle.stop();
      assert.deepEqual(watch.events.map((e) => e.object.n), [59, 60]);
    }, 10));

    test('watch replays from a revision, then follows live writes without gaps', () => withStorage(async (storage) => {
      for (let i = 0; i < 5; i++) await storage.create(`/registry/pods/ns/old${i}`, pod('ns', `old${i}`));
      const from = (await storage.currentRevision()) - 3;
      const pending = Array.from({ length: 200 }, (_, i) => storage.create(`/registry/pods/ns/new${i}`, pod('ns', `new${i}`)));
      // Registered once some of those writes are committed and while the rest are in flight.
      await Promise.race(pending);
      const watch = collect(storage, '/registry/pods/', from);
      const created = await Promise.all(pending);
      await watch.until(203);
      watch.handle.stop();
      const revisions = watch.events.map((e) => e.revision);
      assert.deepEqual(revisions, Array.from({ length: 203 }, (_, i) => from + 1 + i));
      assert.deepEqual(new Set(watch.events.slice(3).map((e) => e.revision)), new Set(created.map(rv)));
      for (const event of watch.events) {
        assert.equal(event.type, 'ADDED');
        assert.equal(rv(event.object), event.revision);
        assert.equal(event.prevObject, undefined);
      }
    }));

    test('watch filters by prefix and reports MODIFIED and DELETED with previous state', () => withStorage(async (storage) => {
      const start = await storage.currentRevision();
      const watch = collect(storage, '/registry/pods/a/', start);
      const created = await storage.create('/registry/pods/a/p', pod('a', 'p', { v: 1 }));
      await storage.create('/registry/pods/ab/p', pod('ab', 'p'));
      await storage.create('/registry/nodes/a', { kind: 'Node', metadata: { name: 'a' } });
      const updated = await storage.guaranteedUpdate('/registry/pods/a/p', (c) => ({ ...c, v: 2 }));
      await storage.guaranteedUpdate('/registry/pods/ab/p', (c) => ({ ...c, v: 2 }));
      const deleted = await storage.delete('/registry/pods/a/p');
      await watch.until(3);
      const late = collect(storage, '/registry/pods/a/', start);
      await late.until(3);
      watch.handle.stop();
      late.handle.stop();
      for (const events of [watch.events, late.events]) {
        assert.deepEqual(events.map((e) => [e.type, e.key]), [
          ['ADDED', '/registry/pods/a/p'], ['MODIFIED', '/registry/pods/a/p'], ['DELETED', '/registry/pods/a/p'],
        ]);
        const [added, modified, removed] = events;
        assert.deepEqual(added.object, created);
        assert.deepEqual(modified.object, updated);
        assert.deepEqual(modified.prevObject, created);
        assert.equal(removed.revision, rv(deleted));
        assert.deepEqual(removed.object, deleted);
        assert.equal(removed.object.v, 2);
        assert.deepEqual(removed.prevObject, updated);
      }
      assert.equal(watch.events.length, 3);
    }));

    test('a watch started from inside another watch callback gets no duplicates', () => withStorage(async (storage) => {
      const start = await storage.currentRevision();
      const inner: StorageEvent[] = [];
      let innerStarted = false;
      let innerHandle: WatchHandle | undefined;
      const outer = collect(storage, '/registry/pods/', start);
      const trigger = storage.watch('/registry/pods/', { fromRevision: start }, {
        onEvent(event) {
          if (innerStarted) return;
          innerStarted = true;
          innerHandle = storage.watch('/registry/pods/', { fromRevision: event.revision - 1 }, { onEvent: (e) => inner.push(e) });
        },
      });
      await Promise.all(Array.from({ length: 30 }, (_, i) => storage.create(`/registry/pods/ns/p${i}`, pod('ns', `p${i}`))));
      await outer.until(30);
      await storage.create('/registry/pods/ns/last', pod('ns', 'last'));
      await outer.until(31);
      // A backend with its own stream per watch (etcd) may deliver the inner watch's events later.
      await eventually(() => inner.length >= 31, 'the inner watch to catch up');
      trigger.stop();
      outer.handle.stop();
      innerHandle?.stop();
      assert.deepEqual(inner.map((e) => e.revision), Array.from({ length: 31 }, (_, i) => start + 1 + i));
    }));

    test('reopening the same data continues revisions with data intact', async () => {
      const dataDir = tempDir();
      const first = await makeStorage(dataDir, {});
      await first.create('/registry/pods/ns/a', pod('ns', 'a'));
      const b = await first.create('/registry/pods/ns/b', pod('ns', 'b'));
      await first.guaranteedUpdate('/registry/pods/ns/a', (c) => ({ ...c, v: 1 }));
      await first.delete('/registry/pods/ns/b');
      const last = await first.currentRevision();
      await first.close();
      const second = await makeStorage(dataDir, {});
      try {
        assert.equal(await second.currentRevision(), last);
        const listed = await second.list('/registry/pods/');
        assert.deepEqual(names(listed.items), ['a']);
        assert.equal(listed.items[0].v, 1);
        assert.equal(listed.revision, last);
        const old = await second.list('/registry/pods/', { revision: rv(b) });
        assert.deepEqual(names(old.items), ['a', 'b']);
        const next = await second.create('/registry/pods/ns/c', pod('ns', 'c'));
        assert.equal(rv(next), last + 1);
      } finally {
        await second.close();
      }
    });
  });
}

suite('leveldb', (dataDir, { history }) => LevelDbStorage.open(dataDir, history ? { historyRevisions: history, historyMs: 0 } : {}));
suite('watch cache over leveldb', async (dataDir, { history }) => {
  if (!history) return openStorage({ kind: 'leveldb', dataDir });
  const backend = await LevelDbStorage.open(dataDir, { historyRevisions: history, historyMs: 0 });
  return WatchCache.start(backend, { historyCapacity: history });
});

// The same backend code on memory-level (--storage memory). A "data dir" names one in-memory database,
// so closing and reopening the store on it is the reopen of the same engine.
const memoryDatabases = new Map<string, StringLevel>();
function memoryEngine(dataDir: string): StringLevel {
  let db = memoryDatabases.get(dataDir);
  if (!db) memoryDatabases.set(dataDir, db = memoryDatabase());
  return db;
}
suite('leveldb on memory-level', (dataDir, { history }) => LevelDbStorage.openInMemory(history ? { historyRevisions: history, historyMs: 0 } : {}, memoryEngine(dataDir)));
suite('watch cache over leveldb on memory-level', async (dataDir, { history }) => {
  const backend = await LevelDbStorage.openInMemory(history ? { historyRevisions: history, historyMs: 0 } : {}, memoryEngine(dataDir));
  return WatchCache.start(backend, history ? { historyCapacity: history } : {});
});

test('openStorage({ kind: "memory" }) writes nothing to disk and starts empty each time', async () => {
  const first = await openStorage({ kind: 'memory' });
  await first.create('/registry/pods/ns/a', pod('ns', 'a'));
  assert.equal((await first.list('/registry/pods/')).items.length, 1);
  await first.close();
  const second = await openStorage({ kind: 'memory' });
  try {
    assert.deepEqual([(await second.list('/registry/pods/')).items.length, await second.currentRevision()], [0, 0]);
  } finally {
    await second.close();
  }
});

suite('etcd', (dataDir, { history }) => openEtcd(dataDir, history));
suite('watch cache over etcd', async (dataDir, { history }) => {
  const backend = await openEtcd(dataDir, history);
  return WatchCache.start(backend, { consistentReads: true, ...(history ? { historyCapacity: history } : {}) });
});

describe('sorted key set', () => {
  test('matches a sorted array under random adds and deletes', () => {
    const set = new SortedKeySet();
    const reference = new Set<string>();
    let seed = 7;
    const random = (n: number): number => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n; };
    for (let i = 0; i < 6000; i++) {
      const key = `/registry/pods/ns${random(5)}/p${random(1500)}`;
      if (random(3) === 0) assert.equal(set.delete(key), reference.delete(key));
      else {
        assert.equal(set.add(key), !reference.has(key));
        reference.add(key);
      }
    }
    const sorted = [...reference].sort();
    assert.equal(set.size, sorted.length);
    assert.deepEqual([...set.from('')], sorted);
    const probe = '/registry/pods/ns2/p7';
    assert.equal(set.rank(probe), sorted.filter((k) => k < probe).length);
    assert.deepEqual([...set.from(probe, true)], sorted.filter((k) => k > probe));
    assert.equal(set.has(sorted[10]), true);
  });
});

describe('watch cache specifics', () => {
  /** A LevelDB backend whose watch stream the test can break. */
  async function breakableBackend(dataDir: string) {
    const inner = await LevelDbStorage.open(dataDir);
    let breakStream: ((error: Error) => void) | undefined;
    const backend: Storage = {
      get: (key) => inner.get(key),
      list: (prefix, options) => inner.list(prefix, options),
      create: (key, object) => inner.create(key, object),
      guaranteedUpdate: (key, tryUpdate, preconditions) => inner.guaranteedUpdate(key, tryUpdate, preconditions),
      delete: (key, options) => inner.delete(key, options),
      currentRevision: () => inner.currentRevision(),
      count: (prefix) => inner.count(prefix),
      close: () => inner.close(),
      watch(prefix: string, options: WatchOptions, callbacks: WatchCallbacks): WatchHandle {
        const handle = inner.watch(prefix, options, callbacks);
        breakStream = (error) => { handle.stop(); callbacks.onError?.(error); };
        return handle;
      },
    };
    return { backend, breakStream: (error: Error) => breakStream?.(error) };
  }

  test('serves old revisions from the backend, counts remaining items, reports progress', async () => {
    const backend = await LevelDbStorage.open(tempDir());
    const cache = await WatchCache.start(backend, { historyCapacity: 5, progressIntervalMs: 5 });
    try {
      for (let i = 0; i < 10; i++) await cache.create(`/registry/pods/ns/p${i}`, pod('ns', `p${i}`));
      const early = 3;
      for (let i = 0; i < 10; i++) await cache.guaranteedUpdate('/registry/pods/ns/p0', (c) => ({ ...c, n: i }));
      const old = await cache.list('/registry/pods/', { revision: early });
      assert.deepEqual(names(old.items), ['p0', 'p1', 'p2']);
      assert.throws(() => cache.watch('/registry/pods/', { fromRevision: early }, { onEvent() {} }), RevisionCompactedError);
      const page = await cache.list('/registry/pods/', { limit: 4 });
      assert.equal(page.remainingItemCount, 6);
      assert.equal(page.lastKey, '/registry/pods/ns/p3');
      const current = await cache.currentRevision();
      // The cache's timers do not hold the process open; this one does while we wait.
      const keepAlive = setInterval(() => {}, 1_000);
      const progressed = await new Promise<number>((resolve) => {
        const handle = cache.watch('/registry/pods/', { fromRevision: current }, {
          onEvent() {},
          onProgress(revision) { handle.stop(); resolve(revision); },
        });
      }).finally(() => clearInterval(keepAlive));
      assert.equal(progressed, current);
    } finally {
      await cache.close();
    }
  });

  test('ends watches and reloads when the backend stream breaks', async () => {
    const { backend, breakStream } = await breakableBackend(tempDir());
    const cache = await WatchCache.start(backend);
    try {
      await cache.create('/registry/pods/ns/a', pod('ns', 'a'));
      const from = await cache.currentRevision();
      const ended = new Promise<Error>((resolve) => {
        cache.watch('/registry/pods/', { fromRevision: from }, { onEvent() {}, onError: resolve });
      });
      breakStream(new Error('stream lost'));
      assert.equal((await ended).message, 'stream lost');
      const created = await cache.create('/registry/pods/ns/b', pod('ns', 'b'));
      assert.deepEqual(names((await cache.list('/registry/pods/')).items), ['a', 'b']);
      assert.equal(await cache.currentRevision(), rv(created));
    } finally {
      await cache.close();
    }
  });
});

