import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig, PatchStrategy, setHeaderOptions, type CoreV1Event, type V1Pod } from '@kubernetes/client-node';
import { startApiServer, type RunningApiServer } from '../server/start.ts';
import { runScheduler, type RunningScheduler } from '../scheduler/index.ts';
import { quantityMilliValue, quantityValue } from '../scheduler/quantity.ts';
import { runKubelets, type RunKubeletsOptions, type RunningKubelets } from '../kubelet/index.ts';
import { ipInCidr } from './helpers/cluster-processes.ts';

const quiet = { info: () => {}, error: () => {} };
const quietKubelet = { info: () => {}, warn: () => {} };

async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('scheduler against a real kubefacade API server', () => {
  let dataDir: string;
  let server: RunningApiServer;
  let scheduler: RunningScheduler;
  let core: CoreV1Api;

  async function createNode(name: string, opts: { cpu: string; memory?: string; pods?: string; labels?: Record<string, string>;
    taints?: Array<{ key: string; value?: string; effect: string }> }): Promise<void> {
    await core.createNode({ body: { metadata: { name, labels: opts.labels }, spec: { taints: opts.taints } } });
    await core.patchNodeStatus({ name, body: { status: {
      allocatable: { cpu: opts.cpu, memory: opts.memory ?? '8Gi', pods: opts.pods ?? '110' },
      capacity: { cpu: opts.cpu, memory: opts.memory ?? '8Gi', pods: opts.pods ?? '110' },
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' }],
    } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
  }

  async function createPod(namespace: string, name: string, spec: Partial<V1Pod['spec']> = {}, cpu?: string): Promise<void> {
    await core.createNamespacedPod({ namespace, body: { metadata: { name }, spec: {
      containers: [{ name: 'c', image: 'nginx', resources: cpu ? { requests: { cpu } } : undefined }], ...spec,
    } } });
  }

  async function boundNode(namespace: string, name: string): Promise<string> {
    return eventually(`${name} bound`, async () => (await core.readNamespacedPod({ name, namespace })).spec?.nodeName || undefined);
  }

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'kubefacade-sched-'));
    server = await startApiServer({ dataDir, bind: '127.0.0.1', port: 0, tlsSans: [], disableAdmissionPlugins: ['ServiceAccount'] });
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(server.adminKubeconfigPath);
    core = kubeConfig.makeApiClient(CoreV1Api);
    scheduler = await runScheduler({ kubeconfigPath: server.adminKubeconfigPath, logger: quiet });
  });

  after(async () => {
    await scheduler?.stop();
    await server?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  test('selectors, affinity, taints and tolerations decide placement; Scheduled event is recorded', async () => {
    await core.createNamespace({ body: { metadata: { name: 'placement' } } });
    await createNode('zone-a', { cpu: '4', labels: { zone: 'a' } });
    await createNode('gpu', { cpu: '4', labels: { zone: 'b' }, taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] });
    await createNode('plain', { cpu: '4' });
    await createPod('placement', 'by-selector', { nodeSelector: { zone: 'a' } });
    await createPod('placement', 'tolerating', { nodeSelector: { zone: 'b' }, tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }] });
    await createPod('placement', 'by-name', { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: {
      nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['plain'] }] }] } } } });
    for (let i = 0; i < 6; i++) await createPod('placement', `any-${i}`);
    assert.equal(await boundNode('placement', 'by-selector'), 'zone-a');
    assert.equal(await boundNode('placement', 'tolerating'), 'gpu');
    assert.equal(await boundNode('placement', 'by-name'), 'plain');
    for (let i = 0; i < 6; i++) assert.notEqual(await boundNode('placement', `any-${i}`), 'gpu');
    const event = await eventually('Scheduled event', async () => (await core.listNamespacedEvent({ namespace: 'placement' })).items
      .find((e) => e.reason === 'Scheduled' && e.involvedObject.name === 'by-selector'));
    assert.equal(event.type, 'Normal');
    assert.equal(event.message, 'Successfully assigned placement/by-selector to zone-a');
    assert.equal(event.source?.component, 'default-scheduler');
    assert.equal(event.reportingComponent, 'default-scheduler');
    assert.equal(event.count, 1);
    assert.equal(event.involvedObject.kind, 'Pod');
    assert.ok(event.involvedObject.uid);
  });

  test('an impossible pod gets FailedScheduling and PodScheduled=False, then lands once a node fits', async () => {
    await core.createNamespace({ body: { metadata: { name: 'impossible' } } });
    await createPod('impossible', 'huge', {}, '64');
    const expected = '0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 2 Insufficient cpu. '
      + 'preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.';
    const event = await eventually<CoreV1Event>('FailedScheduling', async () => (await core.listNamespacedEvent({ namespace: 'impossible' })).items
      .find((e) => e.reason === 'FailedScheduling'));
    assert.equal(event.type, 'Warning');
    assert.equal(event.message, expected);
    const condition = await eventually('PodScheduled condition', async () => (await core.readNamespacedPod({ name: 'huge', namespace: 'impossible' }))
      .status?.conditions?.find((c) => c.type === 'PodScheduled'));
    assert.deepEqual([condition.status, condition.reason, condition.message], ['False', 'Unschedulable', expected]);
    // The condition is recorded under the scheduler's field manager, named from its User-Agent as upstream.
    const managers = (await core.readNamespacedPod({ name: 'huge', namespace: 'impossible' })).metadata?.managedFields ?? [];
    assert.ok(managers.some((m) => m.manager === 'kube-scheduler' && m.subresource === 'status'), JSON.stringify(managers.map((m) => m.manager)));
    await createNode('big', { cpu: '128' });
    assert.equal(await boundNode('impossible', 'huge'), 'big');
    const failures = (await core.listNamespacedEvent({ namespace: 'impossible' })).items.filter((e) => e.reason === 'FailedScheduling');
    assert.equal(failures.length, 1, 'repeated identical failures are aggregated into one event');
  });
});

// 38 simulated nodes from four kubelet groups with different labels, taints and capacity (plus one added later),
// all running their pods for real: placement is checked against what the kubelets actually run.
describe('scheduler with many simulated kubelet nodes', () => {
  let dataDir: string;
  let server: RunningApiServer;
  let scheduler: RunningScheduler;
  const kubelets: RunningKubelets[] = [];
  let core: CoreV1Api;
  const gpuToleration = { key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' };
  const burstToleration = { key: 'pool', operator: 'Equal', value: 'burst', effect: 'NoSchedule' };

  async function addKubelets(options: Omit<RunKubeletsOptions, 'kubeconfigPath'>): Promise<string[]> {
    const running = await runKubelets({
      kubeconfigPath: server.adminKubeconfigPath, kubeletPort: 0, imagePullDelayMs: 20, stepDelayMs: 5, stopDelayMs: 20,
      logger: quietKubelet, ...options,
    });
    kubelets.push(running);
    return running.nodes;
  }

  async function createPods(namespace: string, prefix: string, count: number, spec: Partial<V1Pod['spec']>,
    requests?: Record<string, string>): Promise<void> {
    await Promise.all(Array.from({ length: count }, (_, i) => core.createNamespacedPod({ namespace, body: {
      metadata: { name: `${prefix}-${i}` },
      spec: { containers: [{ name: 'c', image: 'nginx:1.27', resources: requests ? { requests } : undefined }], ...spec },
    } })));
  }

  /** Waits until `count` pods of the namespace are Running and returns namespace's pods. */
  async function running(namespace: string, count: number): Promise<V1Pod[]> {
    return eventually(`${count} pods Running in ${namespace}`, async () => {
      const items = (await core.listNamespacedPod({ namespace })).items;
      return items.filter((p) => p.status?.phase === 'Running').length >= count ? items : undefined;
    }, 90_000);
  }

  async function failedScheduling(namespace: string, name: string): Promise<string> {
    const event = await eventually(`FailedScheduling for ${name}`, async () => (await core.listNamespacedEvent({ namespace })).items
      .find((e) => e.reason === 'FailedScheduling' && e.involvedObject.name === name));
    assert.deepEqual([event.type, event.source?.component], ['Warning', 'default-scheduler']);
    // The event goes out first, the pod's condition right after it.
    const pod = await eventually(`PodScheduled condition of ${name}`, async () => {
      const current = await core.readNamespacedPod({ name, namespace });
      return current.status?.conditions?.some((c) => c.type === 'PodScheduled') ? current : undefined;
    });
    const condition = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
    assert.deepEqual([condition?.status, condition?.reason, condition?.message], ['False', 'Unschedulable', event.message]);
    assert.equal(pod.spec?.nodeName, undefined);
    return event.message ?? '';
  }

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'kubefacade-sched-nodes-'));
    server = await startApiServer({ dataDir, bind: '127.0.0.1', port: 0, tlsSans: [], disableAdmissionPlugins: ['ServiceAccount'] });
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(server.adminKubeconfigPath);
    core = kubeConfig.makeApiClient(CoreV1Api);
    await addKubelets({ namePrefix: 'small-', firstIndex: 1, nodeCount: 16, cpu: '2', memory: '4Gi', nodeLabels: { tier: 'small', zone: 'zone-a' } });
    await addKubelets({ namePrefix: 'large-', firstIndex: 17, nodeCount: 8, cpu: '8', memory: '32Gi', nodeLabels: { tier: 'large', zone: 'zone-b' } });
    await addKubelets({ namePrefix: 'gpu-', firstIndex: 25, nodeCount: 4, cpu: '4', memory: '16Gi',
      nodeLabels: { accelerator: 'gpu', zone: 'zone-b' }, registerWithTaints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] });
    await addKubelets({ namePrefix: 'burst-', firstIndex: 29, nodeCount: 10, cpu: '2', memory: '4Gi',
      nodeLabels: { pool: 'burst' }, registerWithTaints: [{ key: 'pool', value: 'burst', effect: 'NoSchedule' }] });
    scheduler = await runScheduler({ kubeconfigPath: server.adminKubeconfigPath, logger: quiet });
  });

  after(async () => {
    await scheduler?.stop();
    await Promise.all(kubelets.map((k) => k.stop()));
    await server?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  test('nodeSelector, required node affinity, taints/tolerations and resource fit place pods only where allowed', async () => {
    await core.createNamespace({ body: { metadata: { name: 'placement' } } });
    await createPods('placement', 'zone-b', 12, { nodeSelector: { zone: 'zone-b' } });
    await createPods('placement', 'affinity', 12, { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: {
      nodeSelectorTerms: [{ matchExpressions: [
        { key: 'tier', operator: 'In', values: ['small'] },
        { key: 'kubernetes.io/hostname', operator: 'NotIn', values: ['small-01', 'small-02'] },
      ] }] } } } });
    await createPods('placement', 'gpu', 8, { nodeSelector: { accelerator: 'gpu' }, tolerations: [gpuToleration] });
    await createPods('placement', 'big', 12, {}, { cpu: '3' });
    await createPods('placement', 'any', 20, {});
    const pods = await running('placement', 64);
    const nodeOf = (name: string): string => pods.find((p) => p.metadata?.name === name)?.spec?.nodeName ?? '';
    const placedOn = (prefix: string, count: number): string[] => Array.from({ length: count }, (_, i) => nodeOf(`${prefix}-${i}`));
    for (const node of placedOn('zone-b', 12)) assert.match(node, /^large-/, 'zone-b without toleration: large nodes only');
    for (const node of placedOn('affinity', 12)) assert.match(node, /^small-(0[3-9]|1[0-6])$/);
    for (const node of placedOn('gpu', 8)) assert.match(node, /^gpu-/);
    for (const node of placedOn('big', 12)) assert.match(node, /^large-/, 'only large nodes have 3 cpu to spare');
    for (const node of placedOn('any', 20)) assert.match(node, /^(small|large)-/, 'tainted nodes take no untolerating pods');
    assert.ok(new Set(placedOn('affinity', 12)).size > 1, 'pods spread over the allowed nodes');
    // Each node really runs what it was given: host IP and a pod IP from that node's CIDR.
    const nodes = new Map((await core.listNode()).items.map((n) => [n.metadata!.name!, n]));
    for (const pod of pods) {
      const node = nodes.get(pod.spec!.nodeName!)!;
      assert.equal(pod.status?.hostIP, node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address);
      assert.ok(ipInCidr(pod.status!.podIP!, node.spec!.podCIDR!), `${pod.metadata?.name} ${pod.status?.podIP} in ${node.spec?.podCIDR}`);
    }
  });

  test('impossible pods get the exact FailedScheduling message; a node added later unblocks them', async () => {
    await core.createNamespace({ body: { metadata: { name: 'impossible' } } });
    await createPods('impossible', 'huge', 1, {}, { cpu: '16' });
    await createPods('impossible', 'zone-c', 1, { nodeSelector: { zone: 'zone-c' } });
    assert.equal(await failedScheduling('impossible', 'huge-0'), '0/38 nodes are available: '
      + '10 node(s) had untolerated taint {pool: burst}, 24 Insufficient cpu, 4 node(s) had untolerated taint {dedicated: gpu}. '
      + 'preemption: 0/38 nodes are available: 14 Preemption is not helpful for scheduling, 24 No preemption victims found for incoming pod.');
    assert.equal(await failedScheduling('impossible', 'zone-c-0'), '0/38 nodes are available: '
      + "10 node(s) had untolerated taint {pool: burst}, 24 node(s) didn't match Pod's node affinity/selector, "
      + '4 node(s) had untolerated taint {dedicated: gpu}. preemption: 0/38 nodes are available: 38 Preemption is not helpful for scheduling.');

    assert.deepEqual(await addKubelets({ namePrefix: 'late-', firstIndex: 39, nodeCount: 1, cpu: '32', memory: '64Gi', nodeLabels: { zone: 'zone-c' } }), ['late-39']);
    const pods = await running('impossible', 2);
    assert.deepEqual(pods.map((p) => p.spec?.nodeName), ['late-39', 'late-39']);
    const scheduled = await eventually('two Scheduled events', async () => {
      const items = (await core.listNamespacedEvent({ namespace: 'impossible' })).items.filter((e) => e.reason === 'Scheduled');
      return items.length >= 2 ? items : undefined;
    });
    assert.deepEqual(scheduled.map((e) => e.message).sort(), ['Successfully assigned impossible/huge-0 to late-39', 'Successfully assigned impossible/zone-c-0 to late-39']);
  });

  test('500 concurrent creates never over-commit allocatable; the pods that fit run, the rest stay pending', async () => {
    await core.createNamespace({ body: { metadata: { name: 'burst' } } });
    // Burst nodes: 2 cpu, 4Gi - 100Mi eviction reserve. 100m/256Mi pods: cpu would take 20 a node, memory takes 15.
    await createPods('burst', 'p', 500, { nodeSelector: { pool: 'burst' }, tolerations: [burstToleration] }, { cpu: '100m', memory: '256Mi' });
    const pods = await running('burst', 150);
    const nodes = new Map((await core.listNode({ labelSelector: 'pool=burst' })).items.map((n) => [n.metadata!.name!, n]));
    const used = new Map<string, { milliCpu: number; memory: number; pods: number }>();
    for (const pod of pods.filter((p) => p.spec?.nodeName)) {
      const entry = used.get(pod.spec!.nodeName!) ?? { milliCpu: 0, memory: 0, pods: 0 };
      const requests = pod.spec!.containers[0].resources!.requests!;
      entry.milliCpu += quantityMilliValue(requests.cpu);
      entry.memory += quantityValue(requests.memory);
      entry.pods++;
      used.set(pod.spec!.nodeName!, entry);
    }
    assert.deepEqual([...used.keys()].sort(), [...nodes.keys()].sort(), 'burst pods only on burst nodes, and on all of them');
    for (const [name, entry] of used) {
      const allocatable = nodes.get(name)!.status!.allocatable!;
      assert.ok(entry.milliCpu <= quantityMilliValue(allocatable.cpu), `${name} cpu over-committed: ${entry.milliCpu}m`);
      assert.ok(entry.memory <= quantityValue(allocatable.memory), `${name} memory over-committed: ${entry.memory}`);
      assert.ok(entry.pods <= quantityValue(allocatable.pods), `${name} pods over-committed: ${entry.pods}`);
      assert.equal(entry.pods, 15, `${name} is filled to its memory`);
    }
    const runningPods = pods.filter((p) => p.status?.phase === 'Running');
    assert.equal(runningPods.length, 150);
    assert.equal(new Set(runningPods.map((p) => p.status?.podIP)).size, 150, 'every running pod has its own IP');
    const pending = await eventually('350 pods marked unschedulable', async () => {
      const items = (await core.listNamespacedPod({ namespace: 'burst' })).items.filter((p) => !p.spec?.nodeName);
      const marked = items.filter((p) => p.status?.conditions?.some((c) => c.type === 'PodScheduled' && c.status === 'False'));
      return marked.length === 350 ? marked : undefined;
    }, 90_000);
    assert.equal(pending[0].status?.conditions?.find((c) => c.type === 'PodScheduled')?.message, '0/39 nodes are available: '
      + "10 Insufficient memory, 25 node(s) didn't match Pod's node affinity/selector, 4 node(s) had untolerated taint {dedicated: gpu}. "
      + 'preemption: 0/39 nodes are available: 10 No preemption victims found for incoming pod, 29 Preemption is not helpful for scheduling.');
    assert.equal((await core.listNamespacedPod({ namespace: 'burst' })).items.filter((p) => p.spec?.nodeName).length, 150);
  });
});
