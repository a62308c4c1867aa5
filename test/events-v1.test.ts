// events.k8s.io/v1 over the core/v1 events' storage: what one API version writes the other reads
// with upstream's field mapping, in GET, LIST, WATCH and validation, and kubectl reads both.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { json, startTestServer, type TestServer } from './helpers/api-server.ts';
import { eventCoreToV1, eventV1ToCore } from '../api/resources/events-v1.ts';
import type { KubeObject } from '../api/object.ts';

const CORE = '/api/v1/namespaces/default/events';
const V1 = '/apis/events.k8s.io/v1/namespaces/default/events';

describe('events.k8s.io/v1', () => {
  let t: TestServer;
  before(async () => { t = await startTestServer('events-v1'); });
  after(async () => { await t.close(); });

  test('the field mapping both ways', () => {
    const v1 = {
      apiVersion: 'events.k8s.io/v1', kind: 'Event', metadata: { name: 'e' }, regarding: { kind: 'Pod', name: 'p' }, related: { kind: 'Node', name: 'n' },
      note: 'n', reportingController: 'c', reportingInstance: 'i', deprecatedSource: { component: 's' }, deprecatedFirstTimestamp: 'f',
      deprecatedLastTimestamp: 'l', deprecatedCount: 3, eventTime: 't', series: { count: 2 }, action: 'a', reason: 'r', type: 'Normal',
    } as unknown as KubeObject;
    const core = eventV1ToCore(v1);
    assert.deepEqual(core, {
      apiVersion: 'v1', kind: 'Event', metadata: { name: 'e' }, involvedObject: { kind: 'Pod', name: 'p' }, related: { kind: 'Node', name: 'n' },
      message: 'n', reportingComponent: 'c', reportingInstance: 'i', source: { component: 's' }, firstTimestamp: 'f',
      lastTimestamp: 'l', count: 3, eventTime: 't', series: { count: 2 }, action: 'a', reason: 'r', type: 'Normal',
    });
    assert.deepEqual(eventCoreToV1(core), v1);
  });

  test('a core event is read as events.k8s.io/v1, in a watch too, and validation names v1 fields', async () => {
    const watch = t.call('get', `${V1}?watch=true&timeoutSeconds=2`).buffer(true).parse((res, done) => {
      let text = '';
      res.on('data', (chunk: Buffer) => { text += chunk.toString(); });
      res.on('end', () => done(null, text));
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await json(t.call('post', CORE), {
      apiVersion: 'v1', kind: 'Event', metadata: { name: 'old-style' }, involvedObject: { kind: 'Pod', namespace: 'default', name: 'web' },
      reason: 'Started', message: 'Started container web', type: 'Normal', count: 2, source: { component: 'kubelet', host: 'node01' },
      firstTimestamp: '2024-01-01T00:00:00Z', lastTimestamp: '2024-01-01T00:00:05Z',
    }).expect(201);
    const read = (await t.call('get', `${V1}/old-style`).expect(200)).body;
    assert.equal(read.apiVersion, 'events.k8s.io/v1');
    assert.equal(read.note, 'Started container web');
    assert.equal(read.deprecatedCount, 2);
    assert.deepEqual(read.deprecatedSource, { component: 'kubelet', host: 'node01' });
    assert.equal(read.regarding.name, 'web');
    assert.equal(read.message, undefined);
    const byField = (await t.call('get', `${V1}?fieldSelector=${encodeURIComponent('involvedObject.name=web')}`).expect(200)).body;
    assert.deepEqual(byField.items.map((e: { metadata: { name: string } }) => e.metadata.name), ['old-style']);
    const events = ((await watch).body as string).trim().split('\n').map((line) => JSON.parse(line));
    assert.equal(events[0].type, 'ADDED');
    assert.equal(events[0].object.apiVersion, 'events.k8s.io/v1');
    assert.equal(events[0].object.note, 'Started container web');

    const invalid = await json(t.call('post', V1), {
      apiVersion: 'events.k8s.io/v1', kind: 'Event', metadata: { name: 'bad' }, eventTime: '2024-01-01T00:00:00.000000Z',
      regarding: { kind: 'Pod', namespace: 'default', name: 'web' }, action: 'Do', reason: 'Test', type: 'Normal',
    }).expect(422);
    assert.match(invalid.body.message, /reportingController: Required value/);
    assert.match(invalid.body.message, /reportingInstance: Required value/);
    await t.call('get', `${CORE}/bad`).expect(404);
  });

  test('discovery lists events.k8s.io/v1 events', async () => {
    const list = (await t.call('get', '/apis/events.k8s.io/v1').expect(200)).body;
    assert.deepEqual(list.resources.map((r: { name: string; kind: string }) => `${r.name}/${r.kind}`), ['events/Event']);
  });
});
