// WATCH over HTTPS: event order, bookmarks, the watch-list protocol, 410 for expired versions,
// timeouts, selectors on events, Table events, legacy and single-object paths, and delivery to
// many watchers under concurrent writes.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { churn, json, podManifest, startTestServer, type TestServer } from './helpers/api-server.ts';
import { openWatch, type OpenWatch, type WatchEvent } from './helpers/watch-client.ts';

const TABLE_ACCEPT = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';
const MERGE = 'application/merge-patch+json';

const summary = (events: WatchEvent[]) => events.map((e) => `${e.type} ${String(e.object.metadata?.name ?? '')}`);

describe('WATCH over HTTPS', () => {
  let t: TestServer;
  const open: OpenWatch[] = [];
  before(async () => { t = await startTestServer('api-watch', { bookmarkIntervalMs: 200, historyRevisions: 40 }); });
  after(async () => {
    for (const w of open) w.close();
    await t.close();
  });

  const watch = async (path: string, headers?: Record<string, string>) => {
    const w = await openWatch(t, path, headers);
    open.push(w);
    return w;
  };
  const namespace = async (name: string) => {
    await json(t.call('post', '/api/v1/namespaces'), { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }).expect(201);
    return `/api/v1/namespaces/${name}/pods`;
  };
  const listRv = async (path: string) => (await t.call('get', path).expect(200)).body.metadata.resourceVersion as string;

  test('headers arrive at once; a watch from a list RV sends ADDED, MODIFIED, DELETED in order and no replay', async () => {
    const pods = await namespace('w-order');
    await json(t.call('post', pods), podManifest('before')).expect(201);
    const rv = await listRv(pods);
    const w = await watch(`${pods}?watch=true&resourceVersion=${rv}`);
    assert.equal(w.statusCode, 200);
    assert.equal(w.headers['content-type'], 'application/json');
    assert.equal(w.headers['transfer-encoding'], 'chunked');
    assert.equal(w.events.length, 0);

    const created = (await json(t.call('post', pods), podManifest('p', { labels: { a: '1' } })).expect(201)).body;
    await json(t.call('patch', `${pods}/p`), { metadata: { labels: { a: '2' } } }, MERGE).expect(200);
    await t.call('delete', `${pods}/p`).expect(200);
    const events = await w.take(3);
    assert.deepEqual(summary(events), ['ADDED p', 'MODIFIED p', 'DELETED p']);
    assert.equal(events[0].object.kind, 'Pod');
    assert.equal(events[0].object.apiVersion, 'v1');
    assert.equal(events[0].object.metadata?.resourceVersion, created.metadata.resourceVersion);
    const versions = events.map((e) => Number(e.object.metadata?.resourceVersion));
    assert.ok(versions[0] < versions[1] && versions[1] < versions[2], `${versions}`);
    assert.deepEqual(events[1].object.metadata?.labels, { a: '2' });
  });

  test('without a resourceVersion, or with 0, the watch starts with synthetic ADDED events', async () => {
    const pods = await namespace('w-initial');
    for (const name of ['a', 'b']) await json(t.call('post', pods), podManifest(name)).expect(201);
    const first = await watch(`${pods}?watch=true`);
    assert.deepEqual(summary(await first.take(2)), ['ADDED a', 'ADDED b']);
    await json(t.call('post', pods), podManifest('c')).expect(201);
    assert.deepEqual(summary([await first.next()]), ['ADDED c']);
    const second = await watch(`${pods}?watch=1&resourceVersion=0`);
    assert.deepEqual(summary(await second.take(3)), ['ADDED a', 'ADDED b', 'ADDED c']);
    await json(t.call('post', pods), podManifest('d')).expect(201);
    assert.deepEqual(summary([await second.next()]), ['ADDED d']);
  });

  test('allowWatchBookmarks brings periodic BOOKMARK events carrying the current resourceVersion', async () => {
    const pods = await namespace('w-bookmark');
    const rv = await listRv(pods);
    const w = await watch(`${pods}?watch=true&allowWatchBookmarks=true&resourceVersion=${rv}`);
    const bookmark = await w.next();
    assert.equal(bookmark.type, 'BOOKMARK');
    assert.equal(bookmark.object.kind, 'Pod');
    assert.equal(bookmark.object.apiVersion, 'v1');
    assert.ok(Number(bookmark.object.metadata?.resourceVersion) >= Number(rv));
    assert.equal(bookmark.object.metadata?.annotations, undefined);
  });

  test('sendInitialEvents: initial ADDED events, then a BOOKMARK marked k8s.io/initial-events-end', async () => {
    const pods = await namespace('w-list');
    for (const name of ['x', 'y']) await json(t.call('post', pods), podManifest(name)).expect(201);
    const rv = await listRv(pods);
    const w = await watch(`${pods}?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&resourceVersion=`);
    const [a, b, end] = await w.take(3);
    assert.deepEqual(summary([a, b]), ['ADDED x', 'ADDED y']);
    assert.equal(end.type, 'BOOKMARK');
    assert.deepEqual(end.object.metadata?.annotations, { 'k8s.io/initial-events-end': 'true' });
    assert.ok(Number(end.object.metadata?.resourceVersion) >= Number(rv));
    await json(t.call('post', pods), podManifest('z')).expect(201);
    let next = await w.next();
    while (next.type === 'BOOKMARK') next = await w.next();
    assert.deepEqual(summary([next]), ['ADDED z']);
  });

  test('a resourceVersion older than the history is an ERROR event with a 410 Expired Status, then the end', async () => {
    const pods = await namespace('w-expired');
    const old = await listRv(pods);
    await churn(t, pods, 60);
    const w = await watch(`${pods}?watch=true&resourceVersion=${old}`);
    assert.equal(w.statusCode, 200);
    const error = await w.next();
    assert.equal(error.type, 'ERROR');
    assert.equal(error.object.kind, 'Status');
    assert.equal(error.object.status, 'Failure');
    assert.equal(error.object.reason, 'Expired');
    assert.equal(error.object.code, 410);
    assert.match(String(error.object.message), new RegExp(`^too old resource version: ${old} \\(\\d+\\)$`));
    await w.ended;
    assert.equal(w.events.length, 1);
  });

  test('timeoutSeconds ends the stream', async () => {
    const pods = await namespace('w-timeout');
    const w = await watch(`${pods}?watch=true&timeoutSeconds=1&resourceVersion=${await listRv(pods)}`);
    await w.ended;
    assert.deepEqual(w.events, []);
  });

  test('selectors apply to events: leaving the selector is DELETED, entering it is ADDED', async () => {
    const pods = await namespace('w-selector');
    const rv = await listRv(pods);
    const w = await watch(`${pods}?watch=true&labelSelector=app%3Dweb&resourceVersion=${rv}`);
    await json(t.call('post', pods), podManifest('s', { labels: { app: 'db' } })).expect(201);
    await json(t.call('patch', `${pods}/s`), { metadata: { labels: { app: 'web' } } }, MERGE).expect(200);
    await json(t.call('patch', `${pods}/s`), { metadata: { labels: { app: 'web', v: '2' } } }, MERGE).expect(200);
    await json(t.call('patch', `${pods}/s`), { metadata: { labels: { app: 'db' } } }, MERGE).expect(200);
    await json(t.call('post', pods), podManifest('other', { labels: { app: 'db' } })).expect(201);
    await json(t.call('post', pods), podManifest('s2', { labels: { app: 'web' } })).expect(201);
    const events = await w.take(4);
    assert.deepEqual(summary(events), ['ADDED s', 'MODIFIED s', 'DELETED s', 'ADDED s2']);
    // cacheWatcher.convertToWatchEvent: the last state that matched, at the event's resourceVersion.
    assert.deepEqual(events[2].object.metadata?.labels, { app: 'web', v: '2' });
    const current = (await t.call('get', `${pods}/s`).expect(200)).body;
    assert.equal(events[2].object.metadata?.resourceVersion, current.metadata.resourceVersion);

    const fields = await watch(`${pods}?watch=true&fieldSelector=spec.nodeName%3Dn1&resourceVersion=${rv}`);
    await json(t.call('post', `${pods}/s2/binding`), { apiVersion: 'v1', kind: 'Binding', metadata: { name: 's2' }, target: { kind: 'Node', name: 'n1' } }).expect(201);
    const bound = await fields.next();
    assert.deepEqual(summary([bound]), ['ADDED s2']);
  });

  test('Table Accept: each event carries a one-row Table', async () => {
    const pods = await namespace('w-table');
    const w = await watch(`${pods}?watch=true&resourceVersion=${await listRv(pods)}`, { Accept: TABLE_ACCEPT });
    assert.equal(w.headers['content-type'], 'application/json;as=Table;v=v1;g=meta.k8s.io');
    await json(t.call('post', pods), podManifest('tbl')).expect(201);
    await json(t.call('patch', `${pods}/tbl`), { metadata: { labels: { a: '1' } } }, MERGE).expect(200);
    const [added, modified] = await w.take(2);
    assert.equal(added.type, 'ADDED');
    assert.equal(added.object.kind, 'Table');
    assert.equal(added.object.apiVersion, 'meta.k8s.io/v1');
    const columns = (added.object.columnDefinitions as { name: string }[]).map((c) => c.name);
    assert.deepEqual(columns.slice(0, 5), ['Name', 'Ready', 'Status', 'Restarts', 'Age']);
    const rows = added.object.rows as { cells: unknown[]; object: { kind: string; metadata: { name: string } } }[];
    assert.equal(rows.length, 1);
    assert.deepEqual(rows[0].cells.slice(0, 4), ['tbl', '0/1', 'Pending', '0']);
    assert.equal(rows[0].object.kind, 'PartialObjectMetadata');
    assert.equal(rows[0].object.metadata.name, 'tbl');
    assert.equal(modified.type, 'MODIFIED');
    assert.equal((modified.object.rows as unknown[]).length, 1);
  });

  test('the legacy /api/v1/watch path and a single-object watch', async () => {
    const pods = await namespace('w-legacy');
    await json(t.call('post', pods), podManifest('one')).expect(201);
    await json(t.call('post', pods), podManifest('two')).expect(201);
    const legacy = await watch('/api/v1/watch/namespaces/w-legacy/pods');
    assert.deepEqual(summary(await legacy.take(2)), ['ADDED one', 'ADDED two']);

    const single = await watch(`${pods}/one?watch=true`);
    assert.deepEqual(summary([await single.next()]), ['ADDED one']);
    const legacySingle = await watch('/api/v1/watch/namespaces/w-legacy/pods/two');
    assert.deepEqual(summary([await legacySingle.next()]), ['ADDED two']);
    await json(t.call('patch', `${pods}/two`), { metadata: { labels: { t: '1' } } }, MERGE).expect(200);
    await json(t.call('patch', `${pods}/one`), { metadata: { labels: { o: '1' } } }, MERGE).expect(200);
    assert.deepEqual(summary([await single.next()]), ['MODIFIED one']);
    assert.deepEqual(summary([await legacySingle.next()]), ['MODIFIED two']);
    assert.equal(single.events.length, 2);
  });

  test('many concurrent writers: every watcher sees every event exactly once, in resourceVersion order', async () => {
    const pods = await namespace('w-many');
    const rv = await listRv(pods);
    const watchers = await Promise.all([0, 1, 2, 3].map(() => watch(`${pods}?watch=true&resourceVersion=${rv}`)));
    const writers = 6;
    const perWriter = 8;
    await Promise.all(Array.from({ length: writers }, async (_, w) => {
      for (let i = 0; i < perWriter; i++) {
        const name = `m-${w}-${i}`;
        await json(t.call('post', pods), podManifest(name)).expect(201);
        await json(t.call('patch', `${pods}/${name}`), { metadata: { labels: { n: String(i) } } }, MERGE).expect(200);
        if (i % 2 === 0) await t.call('delete', `${pods}/${name}`).expect(200);
      }
    }));
    const expected = writers * perWriter * 2 + writers * (perWriter / 2);
    for (const w of watchers) {
      const events = await w.take(expected);
      const versions = events.map((e) => Number(e.object.metadata?.resourceVersion));
      for (let i = 1; i < versions.length; i++) assert.ok(versions[i] > versions[i - 1], `order at ${i}`);
      const seen = new Set(summary(events));
      assert.equal(seen.size, expected);
      for (let w2 = 0; w2 < writers; w2++) {
        for (let i = 0; i < perWriter; i++) {
          assert.ok(seen.has(`ADDED m-${w2}-${i}`));
          assert.ok(seen.has(`MODIFIED m-${w2}-${i}`));
          assert.equal(seen.has(`DELETED m-${w2}-${i}`), i % 2 === 0);
        }
      }
    }
  });

  test('nodes, namespaces, leases and events are watchable too', async () => {
    const rv = await listRv('/api/v1/nodes');
    const nodes = await watch(`/api/v1/nodes?watch=true&resourceVersion=${rv}`);
    const namespaces = await watch(`/api/v1/namespaces?watch=true&resourceVersion=${rv}`);
    const leases = await watch(`/apis/coordination.k8s.io/v1/leases?watch=true&resourceVersion=${rv}`);
    const events = await watch(`/api/v1/events?watch=true&resourceVersion=${rv}&fieldSelector=reason%3DTested`);
    await json(t.call('post', '/api/v1/nodes'), { apiVersion: 'v1', kind: 'Node', metadata: { name: 'wn' } }).expect(201);
    await json(t.call('patch', '/api/v1/nodes/wn/status'), { status: { conditions: [{ type: 'Ready', status: 'True' }] } }, MERGE).expect(200);
    await t.call('delete', '/api/v1/nodes/wn').expect(200);
    await namespace('w-kinds');
    await json(t.call('post', '/apis/coordination.k8s.io/v1/namespaces/w-kinds/leases'), { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'wl' } }).expect(201);
    await json(t.call('post', '/api/v1/namespaces/w-kinds/events'), {
      apiVersion: 'v1', kind: 'Event', metadata: { name: 'we' }, involvedObject: { kind: 'Pod', name: 'p', namespace: 'w-kinds' }, reason: 'Tested', message: 'm',
    }).expect(201);
    assert.deepEqual(summary(await nodes.take(3)), ['ADDED wn', 'MODIFIED wn', 'DELETED wn']);
    assert.deepEqual(summary([await namespaces.next()]), ['ADDED w-kinds']);
    const lease = await leases.next();
    assert.deepEqual(summary([lease]), ['ADDED wl']);
    assert.equal(lease.object.apiVersion, 'coordination.k8s.io/v1');
    assert.deepEqual(summary([await events.next()]), ['ADDED we']);
  });

  test('sendInitialEvents without allowWatchBookmarks streams the initial state without the end bookmark', async () => {
    const pods = await namespace('w-list-nobookmark');
    await json(t.call('post', pods), podManifest('only')).expect(201);
    const w = await watch(`${pods}?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan`);
    assert.deepEqual(summary([await w.next()]), ['ADDED only']);
    await json(t.call('post', pods), podManifest('next')).expect(201);
    assert.deepEqual(summary([await w.next()]), ['ADDED next']);
  });

  test('bad watch options fail before streaming', async () => {
    const bad = await t.call('get', '/api/v1/namespaces/default/pods?watch=true&resourceVersion=abc').expect(400);
    assert.equal(bad.body.reason, 'BadRequest');
    const tooNew = await t.call('get', '/api/v1/namespaces/default/pods?watch=true&resourceVersion=99999999&sendInitialEvents=true&resourceVersionMatch=NotOlderThan').expect(504);
    assert.equal(tooNew.body.reason, 'Timeout');
  });
});
