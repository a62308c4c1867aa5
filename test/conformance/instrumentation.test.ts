// Conformance entries of sig-instrumentation for core/v1 Events.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startConformanceCluster, until, type ConformanceCluster, type Json } from './helpers/cluster.ts';

const EVENTS = '/api/v1/namespaces/default/events';

function eventManifest(name: string, labels: Record<string, string>): Json {
  return {
    apiVersion: 'v1', kind: 'Event', metadata: { name, labels },
    involvedObject: { kind: 'Pod', namespace: 'default', name: 'test-pod', apiVersion: 'v1' },
    reason: 'Testing', message: 'This is a test event', type: 'Normal', count: 1,
    source: { component: 'e2e' }, firstTimestamp: '2024-01-01T00:00:00Z', lastTimestamp: '2024-01-01T00:00:00Z',
  };
}

describe('conformance: instrumentation', () => {
  let c: ConformanceCluster;
  before(async () => { c = await startConformanceCluster('instrumentation'); });
  after(async () => { await c.stop(); });

  test('Event, delete a collection', async () => {
    for (const name of ['event-1', 'event-2', 'event-3']) await c.api('post', EVENTS, { body: eventManifest(name, { 'testevent-set': 'true' }), expect: 201 });
    assert.equal((await c.api('get', `${EVENTS}?labelSelector=testevent-set%3Dtrue`)).items.length, 3);
    await c.api('delete', `${EVENTS}?labelSelector=testevent-set%3Dtrue`);
    await until(async () => ((await c.api('get', `${EVENTS}?labelSelector=testevent-set%3Dtrue`)).items.length === 0 ? true : undefined), 'the events to go');
  });

  test('Event, manage lifecycle of an Event', async () => {
    await c.api('post', EVENTS, { body: eventManifest('event-test', { 'testevent-constant': 'true' }), expect: 201 });
    const listed = await c.api('get', `/api/v1/events?labelSelector=testevent-constant%3Dtrue`);
    assert.deepEqual(listed.items.map((e: Json) => e.metadata.name), ['event-test']);
    const patched = await c.api('patch', `${EVENTS}/event-test`, { body: { message: 'This is a test event - patched' }, contentType: 'application/strategic-merge-patch+json' });
    assert.equal(patched.message, 'This is a test event - patched');
    const current = await c.api('get', `${EVENTS}/event-test`);
    const series = { count: 100, lastObservedTime: '2024-01-01T00:01:00.000000Z' };
    const updated = await c.api('put', `${EVENTS}/event-test`, { body: { ...current, series } });
    assert.deepEqual(updated.series, series);
    assert.deepEqual((await c.api('get', `${EVENTS}/event-test`)).series, series);
    await c.api('delete', `${EVENTS}/event-test`);
    const after = await c.api('get', '/api/v1/events');
    assert.ok(!after.items.some((e: Json) => e.metadata.name === 'event-test'));
  });
});
