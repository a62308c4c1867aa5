// The kubelet's costs per pod: how many status writes a start takes, and how event writes are bounded and ordered.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import { NodeLogStore } from '../kubelet/container-logs.ts';
import { EventRecorder } from '../kubelet/event-recorder.ts';
import type { EventText } from '../kubelet/event-text.ts';
import { ImagePuller } from '../kubelet/image-puller.ts';
import { NodeImageStore } from '../kubelet/images.ts';
import type { KubeletWrites } from '../kubelet/kube-client.ts';
import { MAX_SIMULATED_NODES, nodeLoopbackIp, nodePodCidr, PodIpAllocator } from '../kubelet/node-addressing.ts';
import type { PodStatusOut } from '../kubelet/pod-status.ts';
import { PodWorker, type PodSink } from '../kubelet/pod-worker.ts';

const quietLogger = { info: () => undefined, warn: () => undefined };

function pod(containers: number): V1Pod {
  return {
    metadata: { name: 'web', namespace: 'default', uid: 'uid-1', resourceVersion: '7' },
    spec: {
      restartPolicy: 'Always',
      containers: Array.from({ length: containers }, (_, i) => ({ name: `c${i}`, image: `registry.k8s.io/app${i}:1.0`, imagePullPolicy: 'IfNotPresent' })),
    },
    status: { conditions: [{ type: 'PodScheduled', status: 'True', lastTransitionTime: new Date(0) }] },
  };
}

async function startAndSettle(stepDelayMs: number, pullDelayMs: number, preloaded: boolean) {
  const statuses: PodStatusOut[] = [];
  const events: string[] = [];
  let release!: () => void;
  const settled = new Promise<void>((resolve) => { release = resolve; });
  const sink: PodSink = {
    async writeStatus(_pod, status) {
      statuses.push(structuredClone(status));
      if (status.phase === 'Running') release();
    },
    async confirmDeletion() {},
    event(_pod, fieldPath, text: EventText) { events.push(`${fieldPath} ${text.reason}`); },
    podFinished() {},
  };
  const images = new NodeImageStore();
  if (preloaded) for (let i = 0; i < 2; i++) images.add(`registry.k8s.io/app${i}:1.0`);
  const timing = { stepDelayMs, stopDelayMs: 0, initContainerRunMs: 0, retryDelayMs: 5, backoff: { initialMs: 20, maxMs: 80 } };
  const worker = new PodWorker(pod(2), {
    name: 'node01', hostIp: '127.0.1.1', ips: new PodIpAllocator('10.244.0.0/24'), puller: new ImagePuller(images, pullDelayMs), logs: new NodeLogStore(),
  }, sink, timing, quietLogger);
  worker.start();
  await settled;
  await new Promise((resolve) => setTimeout(resolve, 30));
  worker.remove();
  return { statuses, events };
}

describe('status writes per pod start', () => {
  test('instant pulls and steps: Pending to Running in one write, every event still sent', async () => {
    const { statuses, events } = await startAndSettle(0, 0, false);
    assert.deepEqual(statuses.map((s) => s.phase), ['Running']);
    assert.equal(statuses[0].podIP, '10.244.0.2');
    assert.deepEqual(statuses[0].conditions.find((c) => c.type === 'PodScheduled')?.lastTransitionTime, '1970-01-01T00:00:00Z');
    assert.deepEqual(events, [
      'spec.containers{c0} Pulling', 'spec.containers{c0} Pulled', 'spec.containers{c0} Created', 'spec.containers{c0} Started',
      'spec.containers{c1} Pulling', 'spec.containers{c1} Pulled', 'spec.containers{c1} Created', 'spec.containers{c1} Started',
    ]);
  });

  test('images present and a step delay: Pending, then Running once every container started', async () => {
    const { statuses, events } = await startAndSettle(20, 0, true);
    assert.deepEqual(statuses.map((s) => s.phase), ['Pending', 'Running']);
    assert.ok(events.every((e) => !e.endsWith('Pulling')));
  });

  test('a pull still ahead: the first container is reported running before it', async () => {
    const { statuses } = await startAndSettle(0, 30, false);
    assert.deepEqual(statuses.map((s) => s.containerStatuses.map((c) => c.ready)), [[false, false], [true, false], [true, true]]);
  });
});

describe('event recorder', () => {
  test('bounded writes in flight, per-object order kept, record() never waits', async () => {
    let inFlight = 0;
    let peak = 0;
    const written: string[] = [];
    const writes: KubeletWrites = {
      async patchPodStatus() {},
      async createEvent(_namespace, body) {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 2));
        const event = body as { involvedObject: { name: string }; reason: string };
        written.push(`${event.involvedObject.name} ${event.reason}`);
        inFlight--;
      },
      async patchEvent() {},
      async confirmPodDeletion() {},
    };
    const recorder = new EventRecorder(writes, 'kubelet', quietLogger, 4);
    for (let i = 0; i < 20; i++) {
      for (const reason of ['Pulled', 'Created', 'Started']) {
        recorder.record('node01', { kind: 'Pod', name: `p${i}`, namespace: 'default', uid: `u${i}` }, { type: 'Normal', reason, message: reason });
      }
    }
    await recorder.flush();
    assert.equal(written.length, 60);
    assert.ok(peak <= 4, `peak ${peak}`);
    for (let i = 0; i < 20; i++) {
      assert.deepEqual(written.filter((w) => w.startsWith(`p${i} `)), [`p${i} Pulled`, `p${i} Created`, `p${i} Started`]);
    }
  });
});

describe('event queue bound', () => {
  test('events beyond the queue bound are dropped (and reported), the queued ones still written', async () => {
    const written: string[] = [];
    const warnings: string[] = [];
    let release: () => void = () => {};
    const blocked = new Promise<void>((resolve) => {
      release = resolve;
    });
    const writes: KubeletWrites = {
      async patchPodStatus() {},
      async createEvent(_namespace, body) {
        await blocked;
        written.push((body as { reason: string }).reason);
      },
      async patchEvent() {},
      async confirmPodDeletion() {},
    };
    const recorder = new EventRecorder(writes, 'kubelet', { info: () => {}, warn: (message) => warnings.push(message) }, 1, 3);
    for (let i = 0; i < 6; i++) recorder.record('node01', { kind: 'Pod', name: `p${i}`, namespace: 'default', uid: `u${i}` }, { type: 'Normal', reason: `r${i}`, message: 'm' });
    release();
    await recorder.flush();
    // One in flight, three queued, two dropped.
    assert.deepEqual(written, ['r0', 'r1', 'r2', 'r3']);
    recorder.record('node01', { kind: 'Pod', name: 'late', namespace: 'default', uid: 'u-late' }, { type: 'Normal', reason: 'late', message: 'm' });
    await recorder.flush();
    assert.equal(written.at(-1), 'late');
    assert.equal(warnings.length, 2);
    assert.match(warnings[1], /dropped 2 events/);
  });
});

describe('pod network', () => {
  test('at least 20,000 nodes get distinct pod CIDRs outside the service range, and distinct loopback IPs', () => {
    assert.ok(MAX_SIMULATED_NODES >= 20_000);
    const cidrs = new Set<string>();
    const ips = new Set<string>();
    for (let index = 1; index <= MAX_SIMULATED_NODES; index++) {
      const cidr = nodePodCidr(index);
      const second = Number(cidr.split('.')[1]);
      assert.ok(second < 96 || second > 111, `${cidr} is in the service range 10.96.0.0/12`);
      cidrs.add(cidr);
      ips.add(nodeLoopbackIp(index));
    }
    assert.equal(cidrs.size, MAX_SIMULATED_NODES);
    assert.equal(ips.size, MAX_SIMULATED_NODES);
    assert.equal(nodePodCidr(3073), '10.0.0.0/24');
    assert.throws(() => nodePodCidr(MAX_SIMULATED_NODES + 1));
  });
});
