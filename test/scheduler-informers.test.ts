// The scheduler's memory-lean cache and its event queue (its informer is clients/lean-informer.ts, see test/lean-informer.test.ts).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { CoreV1Event, V1Pod } from '@kubernetes/client-node';
import { EventRecorder, type EventSink } from '../scheduler/event-recorder.ts';
import { SchedulerCache } from '../scheduler/cache.ts';

function podJson(name: string, resourceVersion: string): V1Pod {
  return { metadata: { namespace: 'ns', name, uid: `uid-${name}`, resourceVersion }, spec: { containers: [] } };
}

describe('scheduler cache memory', () => {
  test('placed pods keep their requests, not the pod object; a confirmed assumption keeps its accounting', () => {
    const cache = new SchedulerCache();
    cache.addOrUpdateNode({ metadata: { name: 'n' }, status: { allocatable: { cpu: '1', memory: '1Gi', pods: '10' } } });
    const pod: V1Pod = {
      metadata: { namespace: 'ns', name: 'p', uid: 'u1' },
      spec: { containers: [{ name: 'c', resources: { requests: { cpu: '250m', memory: '64Mi' } } }] },
    };
    cache.assumePod(pod, 'n');
    const info = cache.getNodeInfo('n')!;
    assert.equal(info.requested.milliCPU, 250);
    const entry = info.pods.get('u1')!;
    assert.equal(Object.values(entry).includes(pod as never), false);
    // What preemption needs of a placed pod (namespace, name, uid, labels, start) is kept, nothing of its spec.
    assert.equal(JSON.stringify(entry).includes('"containers"'), false, 'no pod spec retained');
    assert.deepEqual(Object.keys(entry.identity ?? {}).sort(), ['labels', 'name', 'namespace', 'startTime', 'terminating', 'terminatingByPreemption', 'uid']);
    cache.addOrUpdateAssignedPod({ ...pod, spec: { ...pod.spec!, nodeName: 'n' } });
    assert.equal(cache.isAssumed(pod), false);
    assert.equal(info.requested.milliCPU, 250);
    assert.equal(info.pods.size, 1);
  });
});

describe('scheduler event queue', () => {
  test('emitted events are sent with bounded concurrency, in order, and flushed', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const created: string[] = [];
    const sink: EventSink = {
      createNamespacedEvent: async ({ body }) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 2));
        inFlight--;
        created.push(body.message ?? '');
        return body;
      },
      patchNamespacedEvent: async () => ({} as CoreV1Event),
    };
    const recorder = new EventRecorder(sink, 'default-scheduler', { info: () => {}, error: () => {} });
    for (let i = 0; i < 20; i++) recorder.emitPodEvent(podJson(`p${i}`, '1'), 'Normal', 'Scheduled', 'Binding', `m${i}`);
    await recorder.flushed();
    assert.equal(created.length, 20);
    assert.ok(maxInFlight <= 4, `at most 4 in flight, saw ${maxInFlight}`);
    assert.deepEqual(created.slice(0, 4).sort(), ['m0', 'm1', 'm2', 'm3']);
  });
});

describe('scheduler event queue bound', () => {
  test('events beyond the queue bound are dropped and reported, and each queued event keeps only its reference', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => { release = resolve; });
    const created: CoreV1Event[] = [];
    const sink: EventSink = {
      createNamespacedEvent: async ({ body }) => {
        await gate;
        created.push(body);
        return body;
      },
      patchNamespacedEvent: async () => ({} as CoreV1Event),
    };
    const errors: string[] = [];
    const recorder = new EventRecorder(sink, 'default-scheduler', { info: () => {}, error: (message) => errors.push(message) }, undefined, 6);
    // 4 go out at once (and wait at the gate), 6 wait in the queue, 5 are dropped.
    for (let i = 0; i < 15; i++) {
      const pod = podJson(`p${i}`, '1');
      recorder.emitPodEvent(pod, 'Normal', 'Scheduled', 'Binding', `m${i}`);
      // Changing the pod afterwards does not change the queued event: it was taken when emitted.
      pod.metadata!.name = 'renamed';
    }
    assert.deepEqual(errors, ['too many queued events (6); dropping events until the queue has room']);
    release();
    await recorder.flushed();
    assert.deepEqual(created.map((event) => event.message), ['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7', 'm8', 'm9']);
    assert.deepEqual(created.map((event) => event.involvedObject.name), ['p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7', 'p8', 'p9']);
    recorder.emitPodEvent(podJson('late', '1'), 'Normal', 'Scheduled', 'Binding', 'late');
    await recorder.flushed();
    assert.equal(errors[1], 'dropped 5 events while the event queue was full');
    assert.equal(created.at(-1)?.message, 'late');
  });
});
