// Watches of a custom resource through a version other than the one its objects were written in,
// with conversion.strategy Webhook: every event's object (initial state, live events, the last
// state of a deleted object) goes through the test's conversion webhook (HTTPS, its own CA), in
// order, bookmarks behind the events they follow; a failed conversion ends the watch with an
// ERROR event carrying the Status.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { json, startTestServer, type TestServer } from './helpers/api-server.ts';
import { crdManifest, waitEstablished } from './helpers/crds.ts';
import { openWatch, type OpenWatch, type WatchEvent } from './helpers/watch-client.ts';
import { startWebhookServer, type WebhookServer } from './helpers/webhook-server.ts';
import { convertingWatchSink, MAX_WATCH_CONVERSION_BATCH } from '../api/registry/watch-conversion.ts';
import type { StatusError } from '../api/errors.ts';
import type { KubeObject } from '../api/object.ts';

const CRDS = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';
const MERGE = 'application/merge-patch+json';

interface ConversionRequest { desiredAPIVersion: string; objects: { apiVersion: string; metadata: { name: string }; spec?: Record<string, unknown> }[] }
interface Review { desired: string; names: string[] }

let t: TestServer;
let hook: WebhookServer;
let counter = 0;
const reviews: Review[] = [];
/** While set, a review waits for it before answering (to let events pile up behind it). */
let gate: Promise<void> | undefined;

/** v1 has spec.hostPort "host:port"; v2 has spec.host and spec.port. */
function convert(object: ConversionRequest['objects'][number], desired: string): Record<string, unknown> {
  const spec = object.spec ?? {};
  const converted = desired.endsWith('/v2')
    ? { host: String(spec.hostPort ?? '').split(':')[0], port: String(spec.hostPort ?? '').split(':')[1] }
    : { hostPort: `${String(spec.host)}:${String(spec.port)}` };
  return { ...object, apiVersion: desired, spec: converted };
}

async function conversionCrd(): Promise<string> {
  const group = `watch${++counter}.example.com`;
  const schema = (properties: Record<string, unknown>) => ({ openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties } } } });
  const manifest = crdManifest({
    group,
    versions: [
      { name: 'v1', served: true, storage: true, schema: schema({ hostPort: { type: 'string' } }) },
      {
        name: 'v2', served: true, storage: false, schema: schema({ host: { type: 'string' }, port: { type: 'string' } }),
        additionalPrinterColumns: [{ name: 'Host', type: 'string', jsonPath: '.spec.host' }],
      },
    ],
  });
  (manifest.spec as Record<string, unknown>).conversion = {
    strategy: 'Webhook',
    webhook: { conversionReviewVersions: ['v1'], clientConfig: { url: `${hook.url}/convert`, caBundle: hook.caBundle } },
  };
  await json(t.call('post', CRDS), manifest).expect(201);
  await waitEstablished(t, `crontabs.${group}`);
  return group;
}

const path = (group: string, version: string, name = ''): string => `/apis/${group}/${version}/namespaces/default/crontabs${name ? `/${name}` : ''}`;

async function createV1(group: string, name: string, hostPort: string): Promise<string> {
  const res = await json(t.call('post', path(group, 'v1')), { apiVersion: `${group}/v1`, kind: 'CronTab', metadata: { name }, spec: { hostPort } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.metadata.resourceVersion as string;
}

const summary = (e: WatchEvent): [string, unknown, unknown, unknown] => [e.type, e.object.apiVersion, e.object.metadata?.name, e.object.spec];

describe('watch through a conversion webhook', () => {
  before(async () => {
    t = await startTestServer('crd-watch-conversion');
    hook = await startWebhookServer(async (request) => {
      const review = request as unknown as ConversionRequest;
      reviews.push({ desired: review.desiredAPIVersion, names: review.objects.map((o) => o.metadata.name) });
      if (gate) await gate;
      const broken = review.objects.find((o) => o.spec?.hostPort === 'broken');
      if (broken) return { convertedObjects: [], result: { status: 'Failure', message: `cannot convert ${broken.metadata.name}` } };
      if (review.objects.some((o) => o.spec?.hostPort === 'unconverted')) return { convertedObjects: review.objects, result: { status: 'Success' } };
      if (review.objects.some((o) => o.spec?.hostPort === 'renamed')) return { convertedObjects: review.objects.map((o) => ({ ...convert(o, review.desiredAPIVersion), metadata: { ...o.metadata, name: 'other' } })), result: { status: 'Success' } };
      return { convertedObjects: review.objects.map((o) => convert(o, review.desiredAPIVersion)), result: { status: 'Success' } };
    });
  });
  after(async () => {
    await t.close();
    await hook.close();
  });

  test('initial state, created, modified and deleted objects come converted; objects already in the version need no review', async () => {
    const group = await conversionCrd();
    await createV1(group, 'a1', 'one:1');
    await createV1(group, 'a2', 'two:2');
    reviews.length = 0;
    const watch = await openWatch(t, `${path(group, 'v2')}?watch=true`);
    try {
      assert.equal(watch.statusCode, 200);
      const initial = await watch.take(2);
      assert.deepEqual(initial.map(summary), [
        ['ADDED', `${group}/v2`, 'a1', { host: 'one', port: '1' }],
        ['ADDED', `${group}/v2`, 'a2', { host: 'two', port: '2' }],
      ]);
      // The initial state is one ConversionReview, as a LIST is.
      assert.deepEqual(reviews, [{ desired: `${group}/v2`, names: ['a1', 'a2'] }]);

      const created = await createV1(group, 'a3', 'three:3');
      const added = await watch.next();
      assert.deepEqual(summary(added), ['ADDED', `${group}/v2`, 'a3', { host: 'three', port: '3' }]);
      assert.equal(added.object.metadata?.resourceVersion, created);

      await json(t.call('patch', path(group, 'v1', 'a3')), { spec: { hostPort: 'three:33' } }, MERGE).expect(200);
      assert.deepEqual(summary(await watch.next()), ['MODIFIED', `${group}/v2`, 'a3', { host: 'three', port: '33' }]);

      // Written through v2, stored in v2: sent as it is.
      const before = reviews.length;
      await json(t.call('post', path(group, 'v2')), { apiVersion: `${group}/v2`, kind: 'CronTab', metadata: { name: 'b' }, spec: { host: 'bee', port: '9' } }).expect(201);
      assert.deepEqual(summary(await watch.next()), ['ADDED', `${group}/v2`, 'b', { host: 'bee', port: '9' }]);
      assert.equal(reviews.length, before);

      await t.call('delete', path(group, 'v1', 'a3')).expect(200);
      assert.deepEqual(summary(await watch.next()), ['DELETED', `${group}/v2`, 'a3', { host: 'three', port: '33' }]);
      assert.ok(reviews.every((r) => r.desired === `${group}/v2`));
    } finally {
      watch.close();
    }
  });

  test('sendInitialEvents: converted initial events, then the initial-events-end bookmark in the served version', async () => {
    const group = await conversionCrd();
    await createV1(group, 'c1', 'alpha:1');
    await createV1(group, 'c2', 'beta:2');
    let release = (): void => undefined;
    gate = new Promise((r) => { release = r; });
    let watch: OpenWatch | undefined;
    try {
      watch = await openWatch(t, `${path(group, 'v2')}?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true`);
      // The review is held: neither the events nor the bookmark behind them may be sent yet.
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(watch.events, []);
      release();
      gate = undefined;
      const [first, second, bookmark] = await watch.take(3);
      assert.deepEqual([first, second].map(summary), [
        ['ADDED', `${group}/v2`, 'c1', { host: 'alpha', port: '1' }],
        ['ADDED', `${group}/v2`, 'c2', { host: 'beta', port: '2' }],
      ]);
      assert.equal(bookmark.type, 'BOOKMARK');
      assert.equal(bookmark.object.apiVersion, `${group}/v2`);
      assert.equal(bookmark.object.kind, 'CronTab');
      assert.deepEqual((bookmark.object.metadata as { annotations?: unknown }).annotations, { 'k8s.io/initial-events-end': 'true' });
      assert.ok(Number(bookmark.object.metadata?.resourceVersion) >= Number(second.object.metadata?.resourceVersion));
    } finally {
      release();
      gate = undefined;
      watch?.close();
    }
  });

  test('events written while a review is in flight wait behind it, keep their order and share the next review', async () => {
    const group = await conversionCrd();
    const watch = await openWatch(t, `${path(group, 'v2')}?watch=true`);
    let release = (): void => undefined;
    try {
      reviews.length = 0;
      gate = new Promise((r) => { release = r; });
      const versions = [await createV1(group, 'o0', 'h:0')];
      // o0's review is held by the webhook; o1..o4 are written meanwhile.
      for (let i = 1; i < 5; i++) versions.push(await createV1(group, `o${i}`, `h:${i}`));
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(watch.events, []);
      release();
      gate = undefined;
      const events = await watch.take(5);
      assert.deepEqual(events.map((e) => [e.type, e.object.metadata?.name, e.object.metadata?.resourceVersion, e.object.spec]),
        versions.map((rv, i) => ['ADDED', `o${i}`, rv, { host: 'h', port: String(i) }]));
      assert.deepEqual(reviews.map((r) => r.names), [['o0'], ['o1', 'o2', 'o3', 'o4']]);
    } finally {
      release();
      gate = undefined;
      watch.close();
    }
  });

  test('a conversion failure ends the watch with an ERROR event carrying the Status', async () => {
    const group = await conversionCrd();
    const watch = await openWatch(t, `${path(group, 'v2')}?watch=true`);
    try {
      await createV1(group, 'fine', 'ok:1');
      assert.deepEqual(summary(await watch.next()), ['ADDED', `${group}/v2`, 'fine', { host: 'ok', port: '1' }]);
      await createV1(group, 'bad', 'broken');
      const error = await watch.next();
      assert.equal(error.type, 'ERROR');
      // Worded as the apiextensions-apiserver's webhook converter: the input object's GroupVersionKind.
      const message = `conversion webhook for ${group}/v1, Kind=CronTab failed: cannot convert bad`;
      assert.deepEqual(error.object, {
        kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure',
        message: `Internal error occurred: ${message}`, reason: 'InternalError', details: { causes: [{ message }] }, code: 500,
      });
      await watch.ended;
      assert.equal(watch.events.length, 2);
    } finally {
      watch.close();
    }
    // The same failure in a watch's initial state.
    const again = await openWatch(t, `${path(group, 'v2')}?watch=true`);
    try {
      const first = await again.next();
      assert.equal(first.type, 'ERROR');
      assert.equal(first.object.reason, 'InternalError');
      await again.ended;
    } finally {
      again.close();
    }
    // The storage version's watch needs no conversion and goes on.
    const v1 = await openWatch(t, `${path(group, 'v1')}?watch=true`);
    try {
      assert.deepEqual((await v1.take(2)).map((e) => [e.type, e.object.metadata?.name]), [['ADDED', 'bad'], ['ADDED', 'fine']]);
    } finally {
      v1.close();
    }
  });

  test('a webhook answer upstream refuses is a 500 worded as upstream: wrong version, changed name', async () => {
    const group = await conversionCrd();
    await createV1(group, 'unconverted', 'unconverted');
    await createV1(group, 'renamed', 'renamed');
    const wrongVersion = await t.call('get', path(group, 'v2', 'unconverted'));
    assert.equal(wrongVersion.status, 500);
    assert.equal(wrongVersion.body.message, `Internal error occurred: conversion webhook for ${group}/v1, Kind=CronTab returned invalid object at index 0: invalid groupVersion (expected ${group}/v2, received ${group}/v1)`);
    const renamed = await t.call('get', path(group, 'v2', 'renamed'));
    assert.equal(renamed.status, 500);
    assert.equal(renamed.body.message, `Internal error occurred: conversion webhook for ${group}/v1, Kind=CronTab returned invalid object: must have the same name: renamed != other`);
  });

  test('a Table watch (kubectl get -w) prints the columns of the converted object', async () => {
    const group = await conversionCrd();
    await createV1(group, 'row', 'printed:7');
    const watch = await openWatch(t, `${path(group, 'v2')}?watch=true`, { Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' });
    try {
      const event = await watch.next();
      assert.equal(event.type, 'ADDED');
      assert.equal(event.object.kind, 'Table');
      const rows = event.object.rows as { cells: unknown[] }[];
      assert.deepEqual(rows[0].cells, ['row', 'printed']);
    } finally {
      watch.close();
    }
  });
});

describe('the converting watch sink', () => {
  const object = (name: string, apiVersion = 'g/v1'): KubeObject => ({ apiVersion, kind: 'K', metadata: { name } });
  const recorder = () => {
    const out: string[] = [];
    return {
      out,
      sink: {
        event: (type: string, o: KubeObject) => out.push(`${type} ${o.metadata.name} ${o.apiVersion}`),
        bookmark: (rv: string, end: boolean) => out.push(`BOOKMARK ${rv}${end ? ' end' : ''}`),
        error: (status: StatusError) => out.push(`ERROR ${status.toStatus().reason} ${status.message}`),
      },
    };
  };
  const settle = () => new Promise((r) => setImmediate(r));

  test('a large initial state goes in reviews of at most 500 objects, in order, the bookmark last', async () => {
    const batches: number[] = [];
    const { out, sink } = recorder();
    const converting = convertingWatchSink('g/v2', async (objects) => {
      batches.push(objects.filter((o) => o.apiVersion !== 'g/v2').length);
      return objects.map((o) => ({ ...o, apiVersion: 'g/v2' }));
    }, sink);
    for (let i = 0; i < 1200; i++) converting.event('ADDED', object(`o${i}`, i === 7 ? 'g/v2' : 'g/v1'));
    converting.bookmark('99', true);
    assert.deepEqual(out, []);
    for (let i = 0; i < 10; i++) await settle();
    assert.deepEqual(batches, [MAX_WATCH_CONVERSION_BATCH, MAX_WATCH_CONVERSION_BATCH, 1199 - 2 * MAX_WATCH_CONVERSION_BATCH]);
    assert.deepEqual(out, [...Array.from({ length: 1200 }, (_, i) => `ADDED o${i} g/v2`), 'BOOKMARK 99 end']);
  });

  test('events already in the version pass at once while nothing waits; a converter failure ends the stream and drops what follows', async () => {
    const { out, sink } = recorder();
    const converting = convertingWatchSink('g/v2', async () => { throw new Error('boom'); }, sink);
    converting.event('ADDED', object('ready', 'g/v2'));
    assert.deepEqual(out, ['ADDED ready g/v2']);
    converting.event('MODIFIED', object('old'));
    converting.event('ADDED', object('after', 'g/v2'));
    converting.bookmark('5', false);
    for (let i = 0; i < 5; i++) await settle();
    assert.deepEqual(out, ['ADDED ready g/v2', 'ERROR InternalError Internal error occurred: boom']);
    converting.event('ADDED', object('late', 'g/v2'));
    assert.equal(out.length, 2);
  });

  test('stop() drops the queue, even with a review in flight', async () => {
    const { out, sink } = recorder();
    let finish = (): void => undefined;
    const converting = convertingWatchSink('g/v2', (objects) => new Promise((resolve) => {
      finish = () => resolve(objects.map((o) => ({ ...o, apiVersion: 'g/v2' })));
    }), sink);
    converting.event('ADDED', object('a'));
    converting.event('ADDED', object('b'));
    await settle();
    converting.stop();
    finish();
    for (let i = 0; i < 5; i++) await settle();
    assert.deepEqual(out, []);
  });
});
