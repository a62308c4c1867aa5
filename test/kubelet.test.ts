import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import type { V1Pod } from '@kubernetes/client-node';
import { nodeLoopbackIp, nodeName, nodePodCidr, PodIpAllocator } from '../kubelet/node-addressing.ts';
import { formatGoDuration } from '../kubelet/go-duration.ts';
import { crashLoopMessage, podEvents, type EventText } from '../kubelet/event-text.ts';
import { decideRestart, shouldRestart, type BackOffEntry } from '../kubelet/crash-loop-backoff.ts';
import { containerBehaviour, parseDurationMs } from '../kubelet/container-behaviour.ts';
import { imageIdFor, normalizeImageReference, effectivePullPolicy, NodeImageStore } from '../kubelet/images.ts';
import { composeNodeConditions, composeNodeStatus, conditionsNeedUpdate, nodeAllocatable } from '../kubelet/node-object.ts';
import { composePodStatus, podPhase, qosClass } from '../kubelet/pod-status.ts';
import type { PodRuntimeState } from '../kubelet/pod-runtime-state.ts';
import { PodWorker, type PodRef, type PodSink } from '../kubelet/pod-worker.ts';
import type { PodStatusOut } from '../kubelet/pod-status.ts';
import { ImagePuller } from '../kubelet/image-puller.ts';
import { NodeLogStore } from '../kubelet/container-logs.ts';
import { startLogServer } from '../kubelet/log-server.ts';
import { createKubeletServingCert } from '../kubelet/serving-cert.ts';
import { isSilent, markConditionsUnknown, observeNode, reconcileTaints } from '../controllers/node-health.ts';

describe('node addressing', () => {
  test('names, loopback IPs and pod CIDRs follow the node index', () => {
    assert.equal(nodeName('node', 1), 'node01');
    assert.equal(nodeName('node', 123), 'node123');
    assert.equal(nodeLoopbackIp(1), '127.0.1.1');
    assert.equal(nodeLoopbackIp(254), '127.0.1.254');
    assert.equal(nodeLoopbackIp(255), '127.0.2.1');
    const ips = new Set(Array.from({ length: 5000 }, (_, i) => nodeLoopbackIp(i + 1)));
    assert.equal(ips.size, 5000);
    assert.ok(!ips.has('127.0.0.1'));
    assert.equal(nodePodCidr(1), '10.244.0.0/24');
    assert.equal(nodePodCidr(256), '10.244.255.0/24');
    assert.equal(nodePodCidr(257), '10.245.0.0/24');
  });

  test('pod IPs are stable per pod, skip the gateway and are reused after release', () => {
    const allocator = new PodIpAllocator('10.244.3.0/24');
    const a = allocator.allocate('a');
    assert.equal(a, '10.244.3.2');
    assert.equal(allocator.allocate('a'), a);
    assert.equal(allocator.allocate('b'), '10.244.3.3');
    allocator.release('a');
    const seen = new Set<string>();
    for (let i = 0; i < 252; i++) seen.add(allocator.allocate(`p${i}`));
    assert.ok(seen.has('10.244.3.2'));
    assert.throws(() => allocator.allocate('one-too-many'));
    assert.ok(!allocator.adopt('x', '10.244.3.3'), 'an address owned by another pod is not adopted');
  });
});

describe('event texts', () => {
  test('kubelet 1.32 wording', () => {
    assert.equal(formatGoDuration(1234), '1.234s');
    assert.equal(formatGoDuration(523), '523ms');
    assert.equal(formatGoDuration(160_000), '2m40s');
    assert.equal(formatGoDuration(10_000), '10s');
    assert.equal(formatGoDuration(300_000), '5m0s');
    assert.equal(podEvents.pulled('nginx', 1200, 1200, 12345678).message,
      'Successfully pulled image "nginx" in 1.2s (1.2s including waiting). Image size: 12345678 bytes.');
    assert.equal(podEvents.alreadyPresent('nginx').message, 'Container image "nginx" already present on machine');
    assert.equal(podEvents.created('nginx').message, 'Created container: nginx');
    assert.equal(podEvents.started('nginx').message, 'Started container nginx');
    assert.equal(podEvents.killing('nginx').message, 'Stopping container nginx');
    const pod = { name: 'web', namespace: 'default', uid: 'u-1' };
    assert.deepEqual(podEvents.backOff('app', pod), { type: 'Warning', reason: 'BackOff', message: 'Back-off restarting failed container app in pod web_default(u-1)' });
    assert.equal(crashLoopMessage(20_000, 'app', pod), 'back-off 20s restarting failed container=app pod=web_default(u-1)');
  });
});

describe('CrashLoopBackOff', () => {
  test('first restart is immediate, then 10s doubling to the 5m cap', () => {
    let entry: BackOffEntry | undefined;
    let now = 0;
    const delays: number[] = [];
    for (let i = 0; i < 8; i++) {
      const decision = decideRestart(entry, now);
      delays.push(decision.delayMs);
      entry = decision.next;
      now += decision.delayMs + 1000;
    }
    assert.deepEqual(delays, [0, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000]);
  });

  test('a container that ran longer than twice the cap starts over', () => {
    const entry = { backoffMs: 160_000, lastUpdateMs: 0 };
    assert.equal(decideRestart(entry, 600_001).delayMs, 0);
    assert.equal(decideRestart(entry, 599_000).delayMs, 160_000);
  });

  test('restart policies', () => {
    assert.equal(shouldRestart('Always', 0), true);
    assert.equal(shouldRestart('OnFailure', 0), false);
    assert.equal(shouldRestart('OnFailure', 2), true);
    assert.equal(shouldRestart('Never', 1), false);
  });
});

describe('container behaviour model', () => {
  const run = (command: string[] | undefined, extra: Partial<{ args: string[]; image: string; annotations: Record<string, string> }> = {}) =>
    containerBehaviour({ container: { name: 'app', image: extra.image ?? 'busybox:1.36', command, args: extra.args }, annotations: extra.annotations });

  test('well-known commands', () => {
    assert.deepEqual(run(['sh', '-c', 'exit 1']), { output: [], exit: { afterMs: 0, code: 1 } });
    assert.deepEqual(run(['true']).exit, { afterMs: 0, code: 0 });
    assert.deepEqual(run(['/bin/false']).exit, { afterMs: 0, code: 1 });
    assert.deepEqual(run(['sleep', '5']).exit, { afterMs: 5000, code: 0 });
    assert.equal(run(['sleep', 'infinity']).exit, undefined);
    assert.deepEqual(run(['sh', '-c', 'echo "hello world"; sleep 2 && exit 3']), { output: ['hello world'], exit: { afterMs: 2000, code: 3 } });
    assert.deepEqual(run(['sh', '-c', 'false && echo no || echo yes']), { output: ['yes'], exit: { afterMs: 0, code: 0 } });
    assert.equal(run(['sh', '-c', 'while true; do sleep 1; done']).exit, undefined);
    assert.equal(run(['nginx', '-g', 'daemon off;'], { image: 'nginx' }).exit, undefined);
    assert.equal(run(undefined, { image: 'nginx:1.27' }).exit, undefined);
    assert.deepEqual(run(undefined, { image: 'busybox' }).exit, { afterMs: 0, code: 0 }, 'a shell with empty stdin exits');
    assert.deepEqual(run(undefined, { args: ['sleep', '1m'] }).exit, { afterMs: 60_000, code: 0 });
  });

  test('annotations override the command, per container or for all', () => {
    assert.deepEqual(run(undefined, { image: 'nginx', annotations: { 'kubefacade.io/exit-after': '30s', 'kubefacade.io/exit-code': 'app=2,other=0' } }).exit,
      { afterMs: 30_000, code: 2 });
    assert.deepEqual(run(['sleep', '3600'], { annotations: { 'kubefacade.io/exit-code': '1' } }).exit, { afterMs: 0, code: 1 });
    assert.equal(run(undefined, { image: 'nginx', annotations: { 'kubefacade.io/exit-after': 'other=1s' } }).exit, undefined);
    assert.equal(run(['sh', '-c', 'exit 0'], { annotations: { 'kubefacade.io/fail-times': '1' } }).failingRuns, 1);
    assert.equal(run(['sh', '-c', 'exit 0'], { annotations: { 'kubefacade.io/fail-times': 'other=2' } }).failingRuns, undefined);
    assert.equal(parseDurationMs('1m30s'), 90_000);
    assert.equal(parseDurationMs('250ms'), 250);
    assert.equal(parseDurationMs('soon'), undefined);
  });

  test('init containers without a recognisable command complete', () => {
    const behaviour = containerBehaviour({ container: { name: 'init', image: 'alpine/git' }, isInitContainer: true, defaultInitRunMs: 7 });
    assert.deepEqual(behaviour.exit, { afterMs: 7, code: 0 });
  });
});

describe('images', () => {
  test('normalised references, digests and pull policies', () => {
    assert.equal(normalizeImageReference('nginx'), 'docker.io/library/nginx:latest');
    assert.equal(normalizeImageReference('bitnami/redis:7'), 'docker.io/bitnami/redis:7');
    assert.equal(normalizeImageReference('registry.k8s.io/pause:3.10'), 'registry.k8s.io/pause:3.10');
    assert.equal(normalizeImageReference('localhost:5000/app'), 'localhost:5000/app:latest');
    assert.match(imageIdFor('nginx:1.27'), /^docker\.io\/library\/nginx@sha256:[0-9a-f]{64}$/);
    assert.equal(imageIdFor('nginx:1.27'), imageIdFor('docker.io/library/nginx:1.27'));
    assert.equal(effectivePullPolicy('nginx', undefined), 'Always');
    assert.equal(effectivePullPolicy('nginx:1.27', undefined), 'IfNotPresent');
    const store = new NodeImageStore();
    store.add('nginx:1.27');
    assert.ok(store.has('docker.io/library/nginx:1.27'));
    assert.deepEqual(store.list()[0].names, [imageIdFor('nginx:1.27'), 'docker.io/library/nginx:1.27']);
  });
});

describe('node status', () => {
  const spec = { name: 'node01', index: 1, internalIp: '127.0.1.1', podCidr: '10.244.0.0/24', kubeletPort: 10250, cpu: '4', memory: '8Gi', pods: 110 };

  test('conditions carry the kubelet reasons and keep transition times', () => {
    const first = composeNodeConditions(undefined, Date.parse('2024-01-01T00:00:00Z'));
    assert.deepEqual(first.map((c) => [c.type, c.status, c.reason, c.message]), [
      ['MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'],
      ['DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'],
      ['PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'],
      ['Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'],
    ]);
    const later = composeNodeConditions(first as never, Date.parse('2024-01-01T00:01:00Z'));
    assert.equal(String(later[3].lastTransitionTime), '2024-01-01T00:00:00Z');
    assert.equal(String(later[3].lastHeartbeatTime), '2024-01-01T00:01:00Z');
    assert.equal(conditionsNeedUpdate(first as never), false);
    const unknown = markConditionsUnknown(first.map((c) => ({ ...c, lastHeartbeatTime: String(c.lastHeartbeatTime), lastTransitionTime: String(c.lastTransitionTime) })), 0)!;
    assert.equal(conditionsNeedUpdate(unknown), true);
    const relisted = composeNodeConditions(unknown, Date.parse('2024-01-01T00:02:00Z'));
    assert.equal(String(relisted[3].lastTransitionTime), '2024-01-01T00:02:00Z', 'Unknown → True is a transition');
  });

  test('capacity, allocatable, addresses and node info', () => {
    const status = composeNodeStatus({ spec, images: [], nowMs: 0 });
    assert.equal(status.capacity!.memory, '8388608Ki');
    assert.equal(nodeAllocatable(spec).memory, '8286208Ki');
    assert.equal(status.capacity!.pods, '110');
    assert.deepEqual(status.addresses, [{ type: 'InternalIP', address: '127.0.1.1' }, { type: 'Hostname', address: 'node01' }]);
    assert.equal(status.daemonEndpoints!.kubeletEndpoint!.Port, 10250);
    assert.match(status.nodeInfo!.kubeletVersion, /^v1\.32\./);
    assert.equal(status.nodeInfo!.osImage, 'kubefacade simulated node');
  });
});

function podState(overrides: Partial<PodRuntimeState> = {}): PodRuntimeState {
  return {
    uid: 'u', name: 'p', namespace: 'default', restartPolicy: 'Always', hostIp: '127.0.1.1', sandboxReady: true,
    initContainers: [], containers: [], terminal: false, conditions: new Map(), ...overrides,
  };
}

describe('pod status composition', () => {
  test('creating, then running', () => {
    const state = podState({
      podIp: '10.244.0.2', startTimeMs: 0,
      containers: [{ name: 'a', image: 'nginx', isInit: false, isSidecar: false, restartCount: 0, state: { kind: 'waiting', reason: 'ContainerCreating' }, imageResolved: false }],
    });
    const pending = composePodStatus(state, { nowMs: 0, qosClass: 'BestEffort', foreignConditions: [{ type: 'PodScheduled', status: 'True' }] });
    assert.equal(pending.phase, 'Pending');
    assert.deepEqual(pending.conditions.map((c) => c.type), ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled']);
    assert.equal(pending.conditions[2].message, 'containers with unready status: [a]');
    assert.deepEqual(pending.containerStatuses[0].state, { waiting: { reason: 'ContainerCreating' } });
    assert.equal(pending.containerStatuses[0].imageID, '');
    state.containers[0].state = { kind: 'running', startedAtMs: 5000 };
    state.containers[0].imageResolved = true;
    state.containers[0].containerId = 'containerd://abc';
    const running = composePodStatus(state, { nowMs: 5000, qosClass: 'BestEffort' });
    assert.equal(running.phase, 'Running');
    assert.equal(running.conditions[2].status, 'True');
    assert.equal(running.conditions[2].lastTransitionTime, '1970-01-01T00:00:05Z');
    assert.equal(running.conditions[0].lastTransitionTime, '1970-01-01T00:00:00Z');
    assert.equal(running.containerStatuses[0].image, 'docker.io/library/nginx:latest');
    assert.deepEqual(running.podIPs, [{ ip: '10.244.0.2' }]);
  });

  test('phases follow the restart policy', () => {
    const exited = (code: number) => ({ name: 'a', image: 'x', isInit: false, isSidecar: false, restartCount: 0, imageResolved: true,
      state: { kind: 'terminated' as const, terminated: { exitCode: code, reason: code ? 'Error' : 'Completed', startedAtMs: 0, finishedAtMs: 1, containerId: 'c' } } });
    assert.equal(podPhase(podState({ restartPolicy: 'Never', containers: [exited(1)] })), 'Failed');
    assert.equal(podPhase(podState({ restartPolicy: 'Never', containers: [exited(0)] })), 'Succeeded');
    assert.equal(podPhase(podState({ restartPolicy: 'OnFailure', containers: [exited(0)] })), 'Succeeded');
    assert.equal(podPhase(podState({ restartPolicy: 'Always', containers: [exited(1)] })), 'Running');
    const initPending = podState({ initContainers: [{ ...exited(0), state: { kind: 'running', startedAtMs: 0 }, isInit: true }], containers: [exited(0)] });
    assert.equal(podPhase(initPending), 'Pending');
  });

  test('QoS class', () => {
    assert.equal(qosClass([{}]), 'BestEffort');
    assert.equal(qosClass([{ resources: { limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '1000m', memory: '1Gi' } } }]), 'Guaranteed');
    assert.equal(qosClass([{ resources: { requests: { cpu: '100m' } } }]), 'Burstable');
  });
});

interface Recorded {
  events: { fieldPath?: string; text: EventText }[];
  statuses: PodStatusOut[];
  deleted: PodRef[];
  finished: PodRef[];
}

function fakeSink(): PodSink & Recorded {
  const recorded: Recorded = { events: [], statuses: [], deleted: [], finished: [] };
  return {
    ...recorded,
    async writeStatus(_pod, status) { recorded.statuses.push(structuredClone(status)); },
    async confirmDeletion(pod) { recorded.deleted.push(pod); },
    event(_pod, fieldPath, text) { recorded.events.push({ fieldPath, text }); },
    podFinished(pod) { recorded.finished.push(pod); },
  };
}

const quietLogger = { info: () => undefined, warn: () => undefined };
const fastTiming = { stepDelayMs: 1, stopDelayMs: 1, initContainerRunMs: 5, retryDelayMs: 5, backoff: { initialMs: 20, maxMs: 80 } };

function makePod(spec: Record<string, unknown>, metadata: Record<string, unknown> = {}): V1Pod {
  return { metadata: { name: 'web', namespace: 'default', uid: 'uid-1', ...metadata }, spec: spec as never };
}

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function workerFor(pod: V1Pod, sink: PodSink) {
  const logs = new NodeLogStore();
  const puller = new ImagePuller(new NodeImageStore(), 5);
  const worker = new PodWorker(pod, { name: 'node01', hostIp: '127.0.1.1', ips: new PodIpAllocator('10.244.0.0/24'), puller, logs }, sink, fastTiming, quietLogger);
  return { worker, logs, puller };
}

describe('pod worker', () => {
  test('init containers, then app containers, with the kubelet events in order', async () => {
    const sink = fakeSink();
    const pod = makePod({ restartPolicy: 'Always', initContainers: [{ name: 'setup', image: 'busybox:1.36', command: ['sh', '-c', 'echo ready'] }],
      containers: [{ name: 'nginx', image: 'nginx:1.27' }, { name: 'redis', image: 'redis:7', imagePullPolicy: 'IfNotPresent' }] });
    const { worker, logs, puller } = workerFor(pod, sink);
    puller.images.add('redis:7');
    worker.start();
    await until(() => sink.statuses.at(-1)?.phase === 'Running' && sink.statuses.at(-1)!.containerStatuses.every((c) => c.ready), 'Running');
    assert.deepEqual(sink.events.map((e) => `${e.fieldPath} ${e.text.reason}`), [
      'spec.initContainers{setup} Pulling', 'spec.initContainers{setup} Pulled', 'spec.initContainers{setup} Created', 'spec.initContainers{setup} Started',
      'spec.containers{nginx} Pulling', 'spec.containers{nginx} Pulled', 'spec.containers{nginx} Created', 'spec.containers{nginx} Started',
      'spec.containers{redis} Pulled', 'spec.containers{redis} Created', 'spec.containers{redis} Started',
    ]);
    assert.equal(sink.events[8].text.message, 'Container image "redis:7" already present on machine');
    assert.equal(sink.statuses[0].phase, 'Pending');
    const final = sink.statuses.at(-1)!;
    assert.equal(final.initContainerStatuses![0].state.terminated.reason, 'Completed');
    assert.equal(final.podIP, '10.244.0.2');
    assert.equal(final.conditions.find((c) => c.type === 'Initialized')!.status, 'True');
    assert.deepEqual(logs.get('default', 'web', 'setup', false)!.lines.map((l) => l.text).slice(1, 2), ['ready']);

    worker.update({ ...pod, metadata: { ...pod.metadata, deletionTimestamp: new Date(), deletionGracePeriodSeconds: 30 } });
    await until(() => sink.deleted.length === 1, 'deletion confirmed');
    assert.deepEqual(sink.events.filter((e) => e.text.reason === 'Killing').map((e) => e.text.message), ['Stopping container nginx', 'Stopping container redis']);
    const last = sink.statuses.at(-1)!;
    assert.equal(last.phase, 'Succeeded');
    assert.equal(last.containerStatuses[0].state.terminated.reason, 'Completed');
    worker.remove();
  });

  test('a failing container goes into CrashLoopBackOff', async () => {
    const sink = fakeSink();
    const { worker, logs } = workerFor(makePod({ restartPolicy: 'Always', containers: [{ name: 'app', image: 'busybox:1.36', imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', 'exit 1'] }] }), sink);
    worker.start();
    await until(() => sink.statuses.some((s) => s.containerStatuses[0].restartCount >= 2), 'two restarts');
    const backoff = sink.statuses.find((s) => s.containerStatuses[0].state.waiting?.reason === 'CrashLoopBackOff')!;
    assert.equal(backoff.containerStatuses[0].state.waiting.message, 'back-off 20ms restarting failed container=app pod=web_default(uid-1)');
    assert.equal(backoff.containerStatuses[0].lastState.terminated.exitCode, 1);
    assert.equal(backoff.containerStatuses[0].lastState.terminated.reason, 'Error');
    assert.equal(backoff.phase, 'Running');
    assert.ok(sink.events.some((e) => e.text.reason === 'BackOff' && e.text.message === 'Back-off restarting failed container app in pod web_default(uid-1)'));
    assert.ok(logs.get('default', 'web', 'app', true)!.lines.some((l) => l.text.includes('exited with code 1')));
    worker.remove();
  });

  test('restartPolicy Never ends in Failed or Succeeded', async () => {
    for (const [command, phase, reason] of [[['false'], 'Failed', 'Error'], [['sleep', '0.01'], 'Succeeded', 'Completed']] as const) {
      const sink = fakeSink();
      const { worker } = workerFor(makePod({ restartPolicy: 'Never', containers: [{ name: 'job', image: 'busybox:1.36', command: [...command] }] }), sink);
      worker.start();
      await until(() => sink.statuses.at(-1)?.phase === phase, phase);
      assert.equal(sink.statuses.at(-1)!.containerStatuses[0].state.terminated.reason, reason);
      assert.equal(sink.events.filter((e) => e.text.reason === 'Started').length, 1);
      worker.remove();
    }
  });
});

describe('kubelet log endpoint', () => {
  test('serves tail, timestamps, previous and follow over HTTPS on a node loopback IP', async () => {
    const host = nodeLoopbackIp(200);
    const logs = new NodeLogStore();
    const first = logs.startInstance('default', 'web', 'app');
    first.append('one');
    const current = logs.startInstance('default', 'web', 'app');
    for (const line of ['a', 'b', 'c']) current.append(line);
    const cert = createKubeletServingCert({ names: ['node200'], ips: [host] });
    // Tokens as the API server's TokenReview would answer them; only alice may use nodes/proxy of node200.
    const asked: string[] = [];
    const server = await startLogServer({
      host, port: 0, cert, clientCaPem: cert.certPem,
      node: {
        nodeName: 'node200',
        auth: {
          authenticateToken: async (token) => ({ 'alice-token': { username: 'alice', groups: [] }, 'bob-token': { username: 'bob', groups: [] } })[token],
          authorize: async (user, attributes) => {
            asked.push(`${user.username} ${attributes.verb} nodes/${attributes.subresource} ${attributes.nodeName}`);
            return user.username === 'alice';
          },
        },
        resolve: (ns, pod, container, previous) => {
          const instance = logs.get(ns, pod, container, previous);
          return instance ? { instance } : { status: 400, message: `container "${container}" in pod "${pod}" is waiting to start: ContainerCreating` };
        },
      },
    });
    const get = (path: string, onData?: (text: string) => void, onResponse?: () => void, token = 'alice-token') => new Promise<{ status: number; body: string }>((resolve, reject) => {
      https.get({ host, port: server.port, path, rejectUnauthorized: false, headers: token ? { Authorization: `Bearer ${token}` } : {} }, (response) => {
        onResponse?.();
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => { body += chunk; onData?.(body); });
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      }).on('error', reject);
    });
    try {
      assert.deepEqual(await get('/containerLogs/default/web/app', undefined, undefined, ''), { status: 401, body: 'Unauthorized\n' });
      assert.deepEqual(await get('/containerLogs/default/web/app', undefined, undefined, 'forged'), { status: 401, body: 'Unauthorized\n' });
      assert.deepEqual(await get('/containerLogs/default/web/app', undefined, undefined, 'bob-token'),
        { status: 403, body: 'Forbidden (user=bob, verb=get, resource=nodes, subresource=proxy)\n' });
      assert.deepEqual(await get('/containerLogs/default/web/app?tailLines=2'), { status: 200, body: 'b\nc\n' });
      assert.ok(asked.includes('alice get nodes/proxy node200'), asked.join('; '));
      assert.deepEqual(await get('/containerLogs/default/web/app?previous=true'), { status: 200, body: 'one\n' });
      assert.match((await get('/containerLogs/default/web/app?timestamps=true&tailLines=1')).body, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z c\n$/);
      assert.deepEqual(await get('/containerLogs/default/web/other'), { status: 400, body: 'container "other" in pod "web" is waiting to start: ContainerCreating' });
      const followed = get('/containerLogs/default/web/app?follow=true&tailLines=0', (body) => {
        if (body === '') return;
        if (body === 'd\n') current.finish();
      }, () => current.append('d'));
      assert.deepEqual(await followed, { status: 200, body: 'd\n' });
    } finally {
      await server.close();
    }
  });
});

describe('node lifecycle decisions', () => {
  test('silence is measured from the last observed change', () => {
    let observation = observeNode(undefined, '1', '1', 0);
    observation = observeNode(observation, '1', '1', 30_000);
    assert.equal(observation.probeMs, 0);
    assert.equal(isSilent(observation, 40_000, 40_000), false);
    assert.equal(isSilent(observation, 40_001, 40_000), true);
    observation = observeNode(observation, '2', '1', 41_000);
    assert.equal(isSilent(observation, 60_000, 40_000), false);
  });

  test('conditions go Unknown with the controller texts', () => {
    const marked = markConditionsUnknown([{ type: 'Ready', status: 'True', reason: 'KubeletReady', lastHeartbeatTime: 'h', lastTransitionTime: 't' }], 0)!;
    const ready = marked.find((c) => c.type === 'Ready')!;
    assert.deepEqual(ready, { type: 'Ready', status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.', lastHeartbeatTime: 'h', lastTransitionTime: '1970-01-01T00:00:00Z' });
    assert.equal(marked.find((c) => c.type === 'MemoryPressure')!.reason, 'NodeStatusNeverUpdated');
    assert.equal(markConditionsUnknown(marked, 1), undefined);
  });

  test('taints follow Ready', () => {
    const other = { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' };
    const unreachable = reconcileTaints([other], 'Unknown', 0)!;
    assert.deepEqual(unreachable, [other,
      { key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule' },
      { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: '1970-01-01T00:00:00Z' }]);
    assert.equal(reconcileTaints(unreachable, 'Unknown', 5), undefined);
    assert.deepEqual(reconcileTaints(unreachable, 'True', 5), [other]);
    assert.deepEqual(reconcileTaints(unreachable, 'False', 5)!.map((t) => `${t.key}:${t.effect}`),
      ['dedicated:NoSchedule', 'node.kubernetes.io/not-ready:NoSchedule', 'node.kubernetes.io/not-ready:NoExecute']);
  });
});
