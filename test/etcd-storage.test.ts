// What the etcd backend adds to the common storage contract (test/storage.test.ts): the key and
// value layout in etcd, several stores (API server replicas) sharing one etcd with compare-and-swap
// and consistent reads across them, the compaction loop, and watches that survive a lost member
// connection or report a compacted revision.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { Etcd3 } from 'etcd3';
import type { KubeObject } from '../api/object.ts';
import { EtcdStorage } from '../storage/etcd.ts';
import { RevisionCompactedError, type Storage, type StorageEvent, type WatchCallbacks, type WatchHandle } from '../storage/interface.ts';
import { WatchCache } from '../storage/watch-cache.ts';
import { startEtcdCluster, type EtcdCluster } from './helpers/etcd.ts';

function pod(name: string, extra: Record<string, unknown> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { namespace: 'ns', name, uid: `uid-${name}` }, ...extra };
}

const rv = (object: KubeObject): number => Number(object.metadata.resourceVersion);

async function eventually(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!(await condition())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A loopback TCP forwarder whose target can be switched and whose connections can be cut. */
async function startProxy(target: string) {
  let port = Number(new URL(target).port);
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(port, '127.0.0.1');
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}`,
    /** Drops every open connection; new ones go to `next`. */
    switchTo(next: string) {
      port = Number(new URL(next).port);
      for (const socket of sockets) socket.destroy();
    },
    close: () => new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    }),
  };
}

describe('etcd backend specifics', () => {
  let etcd: EtcdCluster | undefined;
  let raw: Etcd3 | undefined;
  const opened: Storage[] = [];
  let prefixes = 0;

  before(async () => {
    etcd = await startEtcdCluster(3);
    raw = new Etcd3({ hosts: etcd.endpoints });
  });
  after(async () => {
    for (const storage of opened) await storage.close().catch(() => undefined);
    raw?.close();
    await etcd?.stop();
  });

  async function open(options: { prefix?: string; endpoints?: string[]; compactionIntervalMs?: number; historyRevisions?: number } = {}): Promise<EtcdStorage> {
    const storage = await EtcdStorage.open({ endpoints: etcd!.endpoints, compactionIntervalMs: 0, ...options });
    opened.push(storage);
    return storage;
  }
  const freshPrefix = (): string => `/specifics-${++prefixes}`;

  test('the etcd health check fails while etcd does not answer (the /readyz `etcd` check)', async () => {
    const single = await startEtcdCluster(1);
    try {
      const storage = await EtcdStorage.open({ endpoints: single.endpoints, compactionIntervalMs: 0, healthCheckIntervalMs: 200, retryTimeoutMs: 1_000 });
      opened.push(storage);
      await new Promise((done) => setTimeout(done, 500));
      assert.deepEqual(storage.health(), { healthy: true });
      await single.kill(0);
      const deadline = Date.now() + 10_000;
      while (storage.health().healthy && Date.now() < deadline) await new Promise((done) => setTimeout(done, 100));
      const health = storage.health();
      assert.equal(health.healthy, false, 'unhealthy once etcd is gone');
      assert.match(health.healthy ? '' : health.reason, /etcd/);
    } finally {
      await single.stop();
    }
  });

  test('keys are laid out as kube-apiserver lays them out; values carry no resourceVersion', async () => {
    const storage = await open();
    const created = await storage.create('/registry/pods/ns/layout', pod('layout', { spec: { a: 1 } }));
    const stored = await raw!.get('/registry/pods/ns/layout').exec();
    assert.equal(stored.kvs.length, 1);
    assert.equal(Number(stored.kvs[0].mod_revision), rv(created));
    const value = JSON.parse(stored.kvs[0].value.toString()) as KubeObject;
    assert.equal(value.metadata.resourceVersion, undefined);
    assert.deepEqual(value.spec, { a: 1 });

    const prefixed = await open({ prefix: '/cluster-b' });
    await prefixed.create('/registry/pods/ns/layout', pod('layout'));
    assert.deepEqual((await raw!.getAll().prefix('/cluster-b/').keys()).sort(), ['/cluster-b/pods/ns/layout']);
    assert.equal(await prefixed.count('/registry/'), 1);
    assert.equal((await prefixed.list('')).keys?.[0], '/registry/pods/ns/layout');
  });

  test('compare-and-swap holds across two stores on one etcd', async () => {
    const prefix = freshPrefix();
    const [first, second] = [await open({ prefix }), await open({ prefix })];
    const key = '/registry/pods/ns/counter';
    await first.create(key, pod('counter', { count: 0 }));
    await assert.rejects(second.create(key, pod('counter')), /key exists/);
    const bump = (storage: Storage) => storage.guaranteedUpdate(key, async (current) => {
      await new Promise((resolve) => setImmediate(resolve));
      return { ...current, count: (current.count as number) + 1 };
    });
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => bump(i % 2 === 0 ? first : second)));
    assert.equal((await second.get(key))!.count, 40);
    assert.equal(new Set(results.map(rv)).size, 40);
  });

  test('an update or delete started from a stale cached copy is checked against etcd', async () => {
    const storage = await open({ prefix: freshPrefix() });
    const key = '/registry/pods/ns/stale';
    const stale = await storage.create(key, pod('stale', { count: 1 }));
    const fresh = await storage.guaranteedUpdate(key, (current) => ({ ...current, count: 2 }));
    // "Unchanged" relative to the stale copy is a real change relative to etcd.
    const back = await storage.guaranteedUpdate(key, (current) => ({ ...current, count: 1 }), undefined, stale);
    assert.equal(back.count, 1);
    assert.ok(rv(back) > rv(fresh));
    // A precondition that fails on the stale copy holds on the stored object.
    const checked = await storage.guaranteedUpdate(key, (current) => ({ ...current, count: 3 }), { resourceVersion: String(rv(back)) }, stale);
    assert.equal(checked.count, 3);
    await assert.rejects(storage.delete(key, { preconditions: { resourceVersion: String(rv(stale)) } }, stale), /Precondition failed/);
    const deleted = await storage.delete(key, { preconditions: { resourceVersion: String(rv(checked)) } }, stale);
    assert.equal(deleted.count, 3);
    assert.equal(await storage.get(key), undefined);
  });

  test('a watch cache reads a write made elsewhere even before its watch delivers it', async () => {
    const prefix = freshPrefix();
    const writer = await open({ prefix });
    const backend = await open({ prefix });
    // The cache's backend watch is held back until released, as if its etcd stream lagged.
    const held: { callbacks: WatchCallbacks; events: StorageEvent[] }[] = [];
    let holding = true;
    const lagging: Storage = {
      get: (key) => backend.get(key),
      list: (p, options) => backend.list(p, options),
      create: (key, object) => backend.create(key, object),
      guaranteedUpdate: (key, update, preconditions) => backend.guaranteedUpdate(key, update, preconditions),
      delete: (key, options) => backend.delete(key, options),
      currentRevision: () => backend.currentRevision(),
      count: (p) => backend.count(p),
      close: () => backend.close(),
      watch(p, options, callbacks): WatchHandle {
        const entry = { callbacks, events: [] as StorageEvent[] };
        held.push(entry);
        return backend.watch(p, options, { ...callbacks, onEvent: (event) => (holding ? entry.events.push(event) : callbacks.onEvent(event)) });
      },
    };
    const cache = await WatchCache.start(lagging, { consistentReads: true, consistentReadTimeoutMs: 200 });
    const created = await writer.create('/registry/pods/ns/elsewhere', pod('elsewhere'));
    // Not in the cache yet: the read goes to etcd instead of answering "not found".
    assert.equal(rv((await cache.get('/registry/pods/ns/elsewhere'))!), rv(created));
    assert.deepEqual((await cache.list('/registry/pods/')).items.map((item) => item.metadata.name), ['elsewhere']);
    // Once the stream catches up, reads are served from the cache at the same revision.
    const pending = cache.get('/registry/pods/ns/elsewhere');
    holding = false;
    for (const entry of held) for (const event of entry.events.splice(0)) entry.callbacks.onEvent(event);
    assert.equal(rv((await pending)!), rv(created));
    assert.equal(await cache.currentRevision(), rv(created));
    await cache.close();
  });

  test('the compaction loop compacts history one interval behind', async () => {
    const storage = await open({ prefix: freshPrefix(), compactionIntervalMs: 100 });
    const early = await storage.create('/registry/pods/ns/old', pod('old'));
    await storage.guaranteedUpdate('/registry/pods/ns/old', (current) => ({ ...current, v: 2 }));
    await eventually(async () => {
      try {
        await storage.list('/registry/pods/', { revision: rv(early) });
        return false;
      } catch (error) {
        return error instanceof RevisionCompactedError;
      }
    }, 'the early revision to be compacted');
    assert.throws(() => storage.watch('/registry/pods/', { fromRevision: rv(early) - 1 }, { onEvent() {} }), RevisionCompactedError);
    assert.equal((await storage.get('/registry/pods/ns/old'))!.v, 2);
    // Compaction is etcd-wide: stop it before the next tests.
    await storage.close();
  });

  test('a watch from a revision compacted by another store ends with RevisionCompactedError', async () => {
    const prefix = freshPrefix();
    const compacting = await open({ prefix, historyRevisions: 5 });
    const first = await compacting.create('/registry/pods/ns/c', pod('c', { n: 0 }));
    for (let i = 1; i <= 15; i++) await compacting.guaranteedUpdate('/registry/pods/ns/c', (current) => ({ ...current, n: i }));
    const unaware = await open({ prefix });
    const error = await new Promise<Error>((resolve) => {
      unaware.watch('/registry/pods/', { fromRevision: rv(first) }, { onEvent() {}, onError: resolve });
    });
    assert.ok(error instanceof RevisionCompactedError, String(error));
    assert.ok(error.oldest > rv(first));
  });

  test('a watch resumes without gaps or repeats when its member connection is lost', async () => {
    const [m0, m1, m2] = etcd!.endpoints;
    const proxy = await startProxy(m0);
    try {
      const prefix = freshPrefix();
      const watching = await open({ prefix, endpoints: [proxy.url] });
      const writer = await open({ prefix, endpoints: [m1, m2] });
      const start = await writer.currentRevision();
      const events: StorageEvent[] = [];
      let failed: Error | undefined;
      const handle = watching.watch('/registry/pods/', { fromRevision: start }, { onEvent: (event) => events.push(event), onError: (error) => { failed = error; } });
      const written: number[] = [];
      for (let i = 0; i < 20; i++) written.push(rv(await writer.create(`/registry/pods/ns/before-${i}`, pod(`before-${i}`))));
      await eventually(() => events.length === 20 || failed !== undefined, 'the first writes');
      // The connection dies; while the watch reconnects (now to another member) writes go on.
      proxy.switchTo(m1);
      for (let i = 0; i < 20; i++) written.push(rv(await writer.create(`/registry/pods/ns/after-${i}`, pod(`after-${i}`))));
      await eventually(() => events.length >= 40 || failed !== undefined, 'the writes made while reconnecting');
      await writer.create('/registry/pods/ns/last', pod('last')).then((object) => written.push(rv(object)));
      await eventually(() => events.length >= 41 || failed !== undefined, 'the last write');
      handle.stop();
      assert.equal(failed, undefined, 'the watch resumed instead of failing');
      assert.deepEqual(events.map((event) => event.revision), written);
      assert.ok(events.every((event) => event.type === 'ADDED'));
    } finally {
      await proxy.close();
    }
  });
});
