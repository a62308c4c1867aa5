// Conformance entries of sig-instrumentation: core/v1 Events and events.k8s.io/v1 Events (served
// over the same storage, with upstream's field mapping).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startConformanceCluster, until, type ConformanceCluster, type Json } from './helpers/cluster.ts';

const EVENTS = '/api/v1/namespaces/default/events';
const NEW_EVENTS = '/apis/events.k8s.io/v1/namespaces/default/events';

function newEventManifest(name: string, labels: Record<string, string>): Json {
  return {
    apiVersion: 'events.k8s.io/v1', kind: 'Event', metadata: { name, labels },
    eventTime: '2024-01-01T00:00:00.000000Z', reportingController: 'test-controller', reportingInstance: 'test-node',
    action: 'Do', reason: 'Test', type: 'Normal', note: 'This is a test event',
    regarding: { kind: 'Namespace', name: 'default', apiVersion: 'v1' },
  };
}

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

  test('New Event resource lifecycle, testing a single event', async () => {
    const created = await c.api('post', NEW_EVENTS, { body: newEventManifest('new-event', { 'new-event': 'true' }), expect: 201 });
    assert.equal(created.note, 'This is a test event');
    assert.deepEqual(created.regarding, { kind: 'Namespace', name: 'default', apiVersion: 'v1' });
    const read = await c.api('get', `${NEW_EVENTS}/new-event`);
    assert.equal(read.apiVersion, 'events.k8s.io/v1');
    assert.equal(read.reportingController, 'test-controller');
    // The same object through core/v1, with the core names.
    const core = await c.api('get', `${EVENTS}/new-event`);
    assert.equal(core.message, 'This is a test event');
    assert.equal(core.reportingComponent, 'test-controller');
    assert.deepEqual(core.involvedObject, { kind: 'Namespace', name: 'default', apiVersion: 'v1' });
    const patched = await c.api('patch', `${NEW_EVENTS}/new-event`, { body: { note: 'This is a test event - patched' }, contentType: 'application/strategic-merge-patch+json' });
    assert.equal(patched.note, 'This is a test event - patched');
    assert.equal((await c.api('get', `${NEW_EVENTS}/new-event`)).note, 'This is a test event - patched');
    const current = await c.api('get', `${NEW_EVENTS}/new-event`);
    const series = { count: 100, lastObservedTime: '2024-01-01T00:01:00.000000Z' };
    const updated = await c.api('put', `${NEW_EVENTS}/new-event`, { body: { ...current, series } });
    assert.deepEqual(updated.series, series);
    assert.deepEqual((await c.api('get', `${NEW_EVENTS}/new-event`)).series, series);
    await c.api('delete', `${NEW_EVENTS}/new-event`);
    assert.ok(!(await c.api('get', '/apis/events.k8s.io/v1/events')).items.some((e: Json) => e.metadata.name === 'new-event'));
  });

  test('New Event resource lifecycle, testing a list of events', async () => {
    for (const name of ['ev-1', 'ev-2', 'ev-3']) await c.api('post', NEW_EVENTS, { body: newEventManifest(name, { 'test-event-set': 'true' }), expect: 201 });
    const listed = await c.api('get', `${NEW_EVENTS}?labelSelector=test-event-set%3Dtrue`);
    assert.equal(listed.kind, 'EventList');
    assert.equal(listed.apiVersion, 'events.k8s.io/v1');
    assert.deepEqual(listed.items.map((e: Json) => e.metadata.name), ['ev-1', 'ev-2', 'ev-3']);
    assert.ok(listed.items.every((e: Json) => e.note === 'This is a test event' && e.regarding.name === 'default'));
    await c.api('delete', `${NEW_EVENTS}?labelSelector=test-event-set%3Dtrue`);
    await until(async () => ((await c.api('get', '/apis/events.k8s.io/v1/events?labelSelector=test-event-set%3Dtrue')).items.length === 0 ? true : undefined), 'the events to go');
  });
});
