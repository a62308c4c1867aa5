// The watch cache's history ring (bounded by count and age, compact, indexed by key), exact
// continue pages at old revisions, node-indexed watch dispatch, and the total watch buffer budget.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { KubeObject } from '../api/object.ts';
import { EventRing } from '../storage/event-ring.ts';
import { RevisionCompactedError, type StorageEvent } from '../storage/interface.ts';
import { LevelDbStorage } from '../storage/leveldb.ts';
import { WatchCache } from '../storage/watch-cache.ts';
import { WatcherIndex, type WatchIndexHint } from '../storage/watcher-index.ts';
import { WatchBufferBudget } from '../server/watch-stream.ts';

function pod(name: string, nodeName = '', revision = 0): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'ns', resourceVersion: String(revision) }, spec: { nodeName } };
}

function added(name: string, revision: number, nodeName = ''): StorageEvent {
  return { type: 'ADDED', key: `/registry/pods/ns/${name}`, object: pod(name, nodeName, revision), revision };
}

function modified(previous: StorageEvent, revision: number, nodeName = ''): StorageEvent {
  const name = previous.object.metadata.name as string;
  return { type: 'MODIFIED', key: previous.key, object: pod(name, nodeName, revision), prevObject: previous.object, revision };
}

async function openCache(options: Parameters<typeof WatchCache.start>[1] = {}): Promise<WatchCache> {
  const backend = await LevelDbStorage.open(mkdtempSync(join(tmpdir(), 'kubefacade-history-')), { sync: false });
  return WatchCache.start(backend, options);
}

describe('history ring', () => {
  test('grows while its events are fresh, up to the upper bound, and forgets by age down to the lower bound', () => {
    let now = 1_000_000;
    const ring = new EventRing({ lowerBound: 4, upperBound: 16, freshMs: 75_000 }, 0, () => now);
    let last = added('p', 1);
    ring.push(last);
    for (let revision = 2; revision <= 40; revision++) {
      last = modified(last, revision);
      ring.push(last);
    }
    assert.equal(ring.capacity, 16);
    assert.equal(ring.size, 16);
    assert.equal(ring.startRevision, 24);
    now += 80_000;
    ring.trimExpired();
    assert.equal(ring.size, 4);
    assert.equal(ring.startRevision, 36);
    // Old events arriving in a full ring of stale history: capacity halves.
    for (let revision = 41; revision <= 60; revision++) {
      now += 100_000;
      last = modified(last, revision);
      ring.push(last);
    }
    assert.equal(ring.capacity, 4);
  });

  test('replays superseded versions from their text with the previous state, and answers states at revisions', () => {
    const ring = new EventRing({ lowerBound: 100, upperBound: 100, freshMs: 75_000 }, 0);
    const a1 = added('a', 1, 'n1');
    const b2 = added('b', 2);
    const a3 = modified(a1, 3, 'n2');
    const b4: StorageEvent = { type: 'DELETED', key: b2.key, object: pod('b', '', 4), prevObject: b2.object, revision: 4 };
    for (const event of [a1, b2, a3, b4]) ring.push(event);
    const replay = ring.eventsAfter(1, '/registry/pods/');
    assert.deepEqual(replay.map((event) => [event.type, event.revision]), [['ADDED', 2], ['MODIFIED', 3], ['DELETED', 4]]);
    assert.deepEqual(replay[1].prevObject, a1.object);
    assert.deepEqual(replay[2].object, b4.object);
    assert.deepEqual(ring.stateAt(a1.key, 1), a1.object);
    assert.equal(ring.stateAt(a1.key, 3), undefined);
    assert.equal(ring.stateAt(b2.key, 1), null);
    assert.deepEqual(ring.stateAt(b2.key, 3), b2.object);
    assert.equal(ring.existedAt(b2.key, 3), true);
    assert.deepEqual([...ring.changedKeysFrom('/registry/pods/')], [a1.key, b2.key]);
  });
});

describe('watch cache history', () => {
  test('continue pages at an old revision equal a list taken at that revision', async () => {
    const cache = await openCache();
    try {
      for (let i = 0; i < 60; i++) await cache.create(`/registry/pods/ns/p${String(i).padStart(2, '0')}`, pod(`p${i}`));
      const snapshot = await cache.list('/registry/pods/');
      const first = await cache.list('/registry/pods/', { limit: 7 });
      // Changes after the first page: updates, deletes, re-creates, and new keys on both sides of it.
      for (let i = 0; i < 60; i += 3) await cache.guaranteedUpdate(`/registry/pods/ns/p${String(i).padStart(2, '0')}`, (c) => ({ ...c, touched: true }));
      for (let i = 1; i < 60; i += 5) await cache.delete(`/registry/pods/ns/p${String(i).padStart(2, '0')}`);
      await cache.create('/registry/pods/ns/p01', pod('p01-again'));
      await cache.create('/registry/pods/ns/p00a', pod('p00a'));
      await cache.create('/registry/pods/ns/p99', pod('p99'));
      const items = [...first.items];
      let lastKey = first.lastKey;
      let remaining = first.remainingItemCount;
      while (lastKey !== undefined) {
        const page = await cache.list('/registry/pods/', { limit: 7, revision: first.revision, startAfterKey: lastKey });
        assert.equal(page.revision, first.revision);
        assert.equal((remaining ?? 0) - page.items.length, page.remainingItemCount ?? 0);
        remaining = page.remainingItemCount;
        items.push(...page.items);
        lastKey = page.lastKey;
      }
      assert.deepEqual(items, snapshot.items);
    } finally {
      await cache.close();
    }
  });

  test('events are not held for replay: their watches follow the backend', async () => {
    const cache = await openCache();
    try {
      const from = await cache.currentRevision();
      await cache.create('/registry/events/ns/e1', { apiVersion: 'v1', kind: 'Event', metadata: { name: 'e1', namespace: 'ns' } });
      await cache.create('/registry/pods/ns/a', pod('a'));
      assert.equal(cache.historySize, 1);
      const seen = await new Promise<string[]>((resolve) => {
        const keys: string[] = [];
        const handle = cache.watch('/registry/events/', { fromRevision: from }, {
          onEvent(event) { keys.push(event.key); handle.stop(); resolve(keys); },
        });
      });
      assert.deepEqual(seen, ['/registry/events/ns/e1']);
    } finally {
      await cache.close();
    }
  });

  test('a watch from before the ring is 410 Gone', async () => {
    const cache = await openCache({ historyCapacity: 3 });
    try {
      const from = await cache.currentRevision();
      for (let i = 0; i < 5; i++) await cache.create(`/registry/pods/ns/p${i}`, pod(`p${i}`));
      assert.throws(() => cache.watch('/registry/pods/', { fromRevision: from }, { onEvent() {} }), RevisionCompactedError);
    } finally {
      await cache.close();
    }
  });
});

describe('node-indexed watch dispatch', () => {
  test('delivers exactly what unindexed dispatch delivers to node-selecting watchers', async () => {
    const nodes = ['', 'n1', 'n2', 'n3'];
    const valueOf = (object: KubeObject): string => (object.spec as { nodeName?: string } | undefined)?.nodeName ?? '';
    const run = async (indexed: boolean): Promise<string[][]> => {
      const index = new WatcherIndex();
      const received = nodes.map(() => [] as string[]);
      nodes.forEach((node, i) => {
        const hint: WatchIndexHint | undefined = indexed ? { name: 'spec.nodeName', value: node, valueOf } : undefined;
        // The watcher's own filter, as api/registry/watch.ts applies it: the object or its previous state is on the node.
        index.add('/registry/pods/', 0, {
          onEvent(event) {
            if (valueOf(event.object) === node || (event.prevObject && valueOf(event.prevObject) === node)) received[i].push(`${event.revision}`);
          },
        }, [], 0, hint);
      });
      await Promise.resolve();
      let seed = 11;
      const random = (n: number): number => { seed = (seed * 1103515245 + 12345) % 2147483648; return (seed >> 16) % n; };
      const latest = new Map<string, StorageEvent>();
      for (let revision = 1; revision <= 300; revision++) {
        const name = `p${random(20)}`;
        const previous = latest.get(name);
        const event = previous ? modified(previous, revision, nodes[random(nodes.length)]) : added(name, revision, nodes[random(nodes.length)]);
        latest.set(name, event);
        index.dispatch(event);
      }
      return received;
    };
    const plain = await run(false);
    assert.deepEqual(await run(true), plain);
    assert.ok(plain.every((events) => events.length > 0));
  });
});

describe('watch buffer budget', () => {
  test('drops the stream holding the most once all streams together pass the budget', () => {
    const budget = new WatchBufferBudget(100_000);
    const dropped: string[] = [];
    const streams = ['small', 'large', 'medium'].map((name) => {
      // A stream nobody reads: every write stays buffered.
      const output = new PassThrough({ highWaterMark: 1 });
      return { name, output, budgeted: budget.track(output, () => dropped.push(name)) };
    });
    const write = (index: number, bytes: number): void => {
      streams[index].output.write(Buffer.alloc(bytes));
      streams[index].budgeted.afterWrite();
    };
    write(0, 10_000);
    write(1, 50_000);
    write(2, 30_000);
    assert.deepEqual(dropped, []);
    write(0, 20_000);
    assert.deepEqual(dropped, ['large']);
    assert.equal(budget.bufferedBytes, 60_000);
    streams[2].budgeted.release();
    assert.equal(budget.bufferedBytes, 30_000);
    assert.equal(budget.droppedStreams, 1);
  });
});
