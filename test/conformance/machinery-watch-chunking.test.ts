// Conformance entries of sig-api-machinery about watches (on ConfigMaps) and API chunking (on
// PodTemplates), against an API server alone whose history is kept short (historyRevisions), so a
// continue token's snapshot can be compacted away within the test as etcd's compactor does.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { json, startTestServer, type TestServer } from '../helpers/api-server.ts';
import { openWatch, type OpenWatch, type WatchEvent } from '../helpers/watch-client.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const HISTORY = 60;
let t: TestServer;

async function createNamespace(name: string): Promise<void> {
  const res = await json(t.call('post', '/api/v1/namespaces'), { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  assert.equal(res.status, 201, res.text);
}

function configMaps(ns: string): string {
  return `/api/v1/namespaces/${ns}/configmaps`;
}

async function createConfigMap(ns: string, name: string, labels: Record<string, string>): Promise<Json> {
  const res = await json(t.call('post', configMaps(ns)), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels } });
  assert.equal(res.status, 201, res.text);
  return res.body as Json;
}

/** The e2e test's mutation: sets data.mutation to the next number. */
async function mutate(ns: string, name: string, value: number): Promise<Json> {
  const res = await json(t.call('patch', `${configMaps(ns)}/${name}`), { data: { mutation: String(value) } }, 'application/merge-patch+json');
  assert.equal(res.status, 200, res.text);
  return res.body as Json;
}

async function remove(ns: string, name: string): Promise<void> {
  const res = await t.call('delete', `${configMaps(ns)}/${name}`);
  assert.equal(res.status, 200, res.text);
}

const watchPath = (ns: string, query: string): string => `${configMaps(ns)}?watch=true&${query}`;

function summary(events: WatchEvent[]): [string, string, string | undefined][] {
  return events.map((e) => [e.type, String(e.object.metadata?.name), (e.object as Json).data?.mutation as string | undefined]);
}

/** No further event arrives on `watch` within a short while (the watch stays open meanwhile). */
async function expectNoEvent(watch: OpenWatch, what: string): Promise<void> {
  const before = watch.events.length;
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(watch.events.length, before, `${what}: ${JSON.stringify(summary(watch.events.slice(before)))}`);
}

describe('conformance: api-machinery watches and chunking', () => {
  before(async () => { t = await startTestServer('conformance-watch-chunking', { historyRevisions: HISTORY }); });
  after(async () => { await t.close(); });

  test('watch-configmaps-with-multiple-watchers', async () => {
    const ns = 'watch-multiple';
    await createNamespace(ns);
    const label = 'watch-this-configmap';
    const watchA = await openWatch(t, watchPath(ns, `labelSelector=${label}%3Dmultiple-watchers-A`));
    const watchB = await openWatch(t, watchPath(ns, `labelSelector=${label}%3Dmultiple-watchers-B`));
    const watchAB = await openWatch(t, watchPath(ns, `labelSelector=${label}%20in%20(multiple-watchers-A,multiple-watchers-B)`));
    try {
      await createConfigMap(ns, 'e2e-watch-test-configmap-a', { [label]: 'multiple-watchers-A' });
      await mutate(ns, 'e2e-watch-test-configmap-a', 1);
      await mutate(ns, 'e2e-watch-test-configmap-a', 2);
      await remove(ns, 'e2e-watch-test-configmap-a');
      await createConfigMap(ns, 'e2e-watch-test-configmap-b', { [label]: 'multiple-watchers-B' });
      await remove(ns, 'e2e-watch-test-configmap-b');
      await createConfigMap(ns, 'unwatched', { [label]: 'someone-else' });
      const a = [['ADDED', 'e2e-watch-test-configmap-a', undefined], ['MODIFIED', 'e2e-watch-test-configmap-a', '1'],
        ['MODIFIED', 'e2e-watch-test-configmap-a', '2'], ['DELETED', 'e2e-watch-test-configmap-a', '2']];
      const b = [['ADDED', 'e2e-watch-test-configmap-b', undefined], ['DELETED', 'e2e-watch-test-configmap-b', undefined]];
      assert.deepEqual(summary(await watchA.take(4)), a);
      assert.deepEqual(summary(await watchB.take(2)), b);
      assert.deepEqual(summary(await watchAB.take(6)), [...a, ...b]);
      for (const [watch, what] of [[watchA, 'A'], [watchB, 'B'], [watchAB, 'A or B']] as const) await expectNoEvent(watch, `watcher of ${what}`);
    } finally {
      for (const watch of [watchA, watchB, watchAB]) watch.close();
    }
  });

  test('watch-configmaps-from-resource-version', async () => {
    const ns = 'watch-from-rv';
    await createNamespace(ns);
    const name = 'e2e-watch-test-resource-version';
    await createConfigMap(ns, name, { 'watch-this-configmap': 'from-resource-version' });
    const first = await mutate(ns, name, 1);
    await mutate(ns, name, 2);
    await remove(ns, name);
    // Watching from the first update's resourceVersion shows only what came after it.
    const watch = await openWatch(t, watchPath(ns, `resourceVersion=${first.metadata.resourceVersion}&fieldSelector=metadata.name%3D${name}`));
    try {
      assert.equal(watch.statusCode, 200);
      assert.deepEqual(summary(await watch.take(2)), [['MODIFIED', name, '2'], ['DELETED', name, '2']]);
      await expectNoEvent(watch, 'events after the delete');
    } finally {
      watch.close();
    }
  });

  test('watch-configmaps-closed-and-restarted', async () => {
    const ns = 'watch-restart';
    await createNamespace(ns);
    const name = 'e2e-watch-test-watch-closed';
    const selector = 'labelSelector=watch-this-configmap%3Dwatch-closed-and-restarted';
    const first = await openWatch(t, watchPath(ns, selector));
    let lastSeen: string;
    try {
      await createConfigMap(ns, name, { 'watch-this-configmap': 'watch-closed-and-restarted' });
      await mutate(ns, name, 1);
      const seen = await first.take(2);
      assert.deepEqual(summary(seen), [['ADDED', name, undefined], ['MODIFIED', name, '1']]);
      lastSeen = String(seen[1].object.metadata?.resourceVersion);
    } finally {
      first.close();
    }
    // Changes made while no watch is open are delivered by a watch restarted from the last version seen.
    await mutate(ns, name, 2);
    await remove(ns, name);
    const restarted = await openWatch(t, watchPath(ns, `${selector}&resourceVersion=${lastSeen}`));
    try {
      assert.deepEqual(summary(await restarted.take(2)), [['MODIFIED', name, '2'], ['DELETED', name, '2']]);
      await expectNoEvent(restarted, 'the restarted watch');
    } finally {
      restarted.close();
    }
  });

  test('watch-configmaps-label-changed', async () => {
    const ns = 'watch-label';
    await createNamespace(ns);
    const name = 'e2e-watch-test-label-changed';
    const watch = await openWatch(t, watchPath(ns, 'labelSelector=watch-this-configmap%3Dlabel-changed-and-restored'));
    const relabel = async (value: string): Promise<void> => {
      const res = await json(t.call('patch', `${configMaps(ns)}/${name}`), { metadata: { labels: { 'watch-this-configmap': value } } }, 'application/merge-patch+json');
      assert.equal(res.status, 200, res.text);
    };
    try {
      await createConfigMap(ns, name, { 'watch-this-configmap': 'label-changed-and-restored' });
      await mutate(ns, name, 1);
      await relabel('wrong-value');
      assert.deepEqual(summary(await watch.take(3)), [['ADDED', name, undefined], ['MODIFIED', name, '1'], ['DELETED', name, '1']]);
      // No notification while the object does not match the selector.
      await mutate(ns, name, 2);
      await expectNoEvent(watch, 'a change of the unselected object');
      // Meeting the selector again is an ADDED, then changes and the delete follow.
      await relabel('label-changed-and-restored');
      await mutate(ns, name, 3);
      await remove(ns, name);
      assert.deepEqual(summary(await watch.take(3)), [['ADDED', name, '2'], ['MODIFIED', name, '3'], ['DELETED', name, '3']]);
    } finally {
      watch.close();
    }
  });

  test('watch-consistency', async () => {
    const ns = 'watch-consistency';
    await createNamespace(ns);
    // Writes run in the background while watches start from the versions the first watch reports.
    const start = (await t.call('get', configMaps(ns)).expect(200)).body.metadata.resourceVersion as string;
    const writes = (async () => {
      for (let i = 0; i < 60; i++) {
        const name = `cm-${i % 7}`;
        const res = await t.call('get', `${configMaps(ns)}/${name}`);
        if (res.status === 404) await createConfigMap(ns, name, { app: 'consistency' });
        else if (i % 5 === 0) await remove(ns, name);
        else await mutate(ns, name, i);
      }
    })();
    const firstWatch = await openWatch(t, watchPath(ns, `resourceVersion=${start}`));
    const watches: { from: number; watch: OpenWatch }[] = [{ from: 0, watch: firstWatch }];
    try {
      // Every 10th event of the first watch starts another watch at that event's resourceVersion.
      const first: WatchEvent[] = [];
      for (;;) {
        const done = await Promise.race([writes.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 20))]);
        while (firstWatch.events.length > first.length) {
          const event = firstWatch.events[first.length];
          first.push(event);
          if (first.length % 10 === 0) {
            watches.push({ from: first.length, watch: await openWatch(t, watchPath(ns, `resourceVersion=${String(event.object.metadata?.resourceVersion)}`)) });
          }
        }
        if (done) break;
      }
      const total = (await t.call('get', configMaps(ns)).expect(200)).body.metadata.resourceVersion as string;
      // The first watch ends at the last write; each other watch must show the same events in the same order.
      while (String(firstWatch.events.at(-1)?.object.metadata?.resourceVersion) !== total) await firstWatch.next();
      const versions = (events: WatchEvent[]): string[] => events.map((e) => `${e.type} ${String(e.object.metadata?.name)} ${String(e.object.metadata?.resourceVersion)}`);
      const expected = versions(firstWatch.events);
      assert.ok(expected.length >= 60, `${expected.length} events`);
      assert.ok(watches.length > 3);
      for (const { from, watch } of watches.slice(1)) {
        const wanted = expected.slice(from);
        await watch.take(wanted.length);
        assert.deepEqual(versions(watch.events), wanted, `the watch started after event ${from}`);
      }
    } finally {
      for (const { watch } of watches) watch.close();
    }
  });

  async function createPodTemplates(ns: string, count: number): Promise<void> {
    await createNamespace(ns);
    for (let i = 0; i < count; i += 10) {
      await Promise.all(Array.from({ length: Math.min(10, count - i) }, async (_, j) => {
        const name = `template-${String(i + j).padStart(4, '0')}`;
        const res = await json(t.call('post', `/api/v1/namespaces/${ns}/podtemplates`), {
          apiVersion: 'v1', kind: 'PodTemplate', metadata: { name },
          template: { metadata: { labels: { name } }, spec: { containers: [{ name: 'test', image: 'registry.k8s.io/pause:3.10' }] } },
        });
        assert.equal(res.status, 201, res.text);
      }));
    }
  }

  const listPage = async (ns: string, query: string): Promise<{ status: number; body: Json }> => {
    const res = await t.call('get', `/api/v1/namespaces/${ns}/podtemplates?${query}`);
    return { status: res.status, body: res.body as Json };
  };

  test('API Chunking, server should return chunks of results for list calls', async () => {
    const ns = 'chunking';
    const count = 53;
    const limit = 7;
    await createPodTemplates(ns, count);
    const names: string[] = [];
    let token = '';
    let resourceVersion: string | undefined;
    for (let page = 0; ; page++) {
      const { status, body } = await listPage(ns, `limit=${limit}${token ? `&continue=${encodeURIComponent(token)}` : ''}`);
      assert.equal(status, 200, JSON.stringify(body));
      assert.ok(body.items.length <= limit, `page ${page} has ${body.items.length} items`);
      names.push(...body.items.map((i: Json) => i.metadata.name as string));
      // Every page is read at the first page's resourceVersion.
      resourceVersion ??= body.metadata.resourceVersion;
      assert.equal(body.metadata.resourceVersion, resourceVersion);
      if (!body.metadata.continue) {
        assert.equal(body.metadata.remainingItemCount, undefined);
        break;
      }
      assert.equal(body.metadata.remainingItemCount, count - names.length, `remainingItemCount after page ${page}`);
      token = body.metadata.continue;
    }
    assert.equal(names.length, count);
    assert.deepEqual(names, [...names].sort());
    const all = await listPage(ns, '');
    assert.equal(all.status, 200);
    assert.equal(all.body.items.length, count);
    assert.equal(all.body.metadata.continue, undefined);
  });

  test('API Chunking, server should support continue listing from the last key even if the original version has been compacted away', async () => {
    const ns = 'chunking-compacted';
    const count = 40;
    const limit = 6;
    await createPodTemplates(ns, count);
    const first = await listPage(ns, `limit=${limit}`);
    assert.equal(first.status, 200);
    assert.equal(first.body.items.length, limit);
    assert.equal(first.body.metadata.remainingItemCount, count - limit);
    const firstToken = first.body.metadata.continue as string;
    // Writes elsewhere push the first page's revision out of the kept history (as etcd compaction does).
    let expired: Json | undefined;
    for (let round = 0; round < 20 && !expired; round++) {
      await Promise.all(Array.from({ length: HISTORY / 2 }, (_, i) => json(t.call('post', configMaps('default')), { metadata: { generateName: `churn-${round}-${i}-` } })));
      const second = await listPage(ns, `limit=${limit}&continue=${encodeURIComponent(firstToken)}`);
      if (second.status === 410) expired = second.body;
      else assert.equal(second.status, 200, JSON.stringify(second.body));
    }
    assert.ok(expired, 'the continue token expired');
    assert.equal(expired.kind, 'Status');
    assert.equal(expired.reason, 'Expired');
    assert.match(expired.message, /^The provided continue parameter is too old to display a consistent list result\./);
    const inconsistentToken = expired.metadata.continue as string;
    assert.ok(inconsistentToken, 'the 410 carries a continue token for an inconsistent list');

    // A template created after the first page shows up in the inconsistent remainder.
    await json(t.call('post', `/api/v1/namespaces/${ns}/podtemplates`), {
      apiVersion: 'v1', kind: 'PodTemplate', metadata: { name: 'template-zzzz' },
      template: { spec: { containers: [{ name: 'test', image: 'registry.k8s.io/pause:3.10' }] } },
    }).expect(201);
    const second = await listPage(ns, `limit=${limit}&continue=${encodeURIComponent(inconsistentToken)}`);
    assert.equal(second.status, 200, JSON.stringify(second.body));
    assert.equal(second.body.items.length, limit);
    assert.equal(second.body.items[0].metadata.name, `template-${String(limit).padStart(4, '0')}`);
    assert.ok(second.body.metadata.continue, 'a new continue token');
    assert.equal(second.body.metadata.remainingItemCount, count + 1 - 2 * limit);
    const inconsistentVersion = second.body.metadata.resourceVersion as string;
    assert.ok(Number(inconsistentVersion) > Number(first.body.metadata.resourceVersion));

    const names = [...first.body.items, ...second.body.items].map((i: Json) => i.metadata.name as string);
    let token = second.body.metadata.continue as string;
    while (token) {
      const page = await listPage(ns, `limit=${limit}&continue=${encodeURIComponent(token)}`);
      assert.equal(page.status, 200, JSON.stringify(page.body));
      assert.ok(page.body.items.length <= limit);
      assert.equal(page.body.metadata.resourceVersion, inconsistentVersion, 'the rest is read at the inconsistent list\'s version');
      names.push(...page.body.items.map((i: Json) => i.metadata.name as string));
      token = page.body.metadata.continue ?? '';
      if (token) assert.equal(page.body.metadata.remainingItemCount, count + 1 - names.length);
    }
    assert.equal(names.length, count + 1);
    assert.equal(names.at(-1), 'template-zzzz');
  });
});
