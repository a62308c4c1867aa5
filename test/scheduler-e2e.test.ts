import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig, PatchStrategy, setHeaderOptions, type CoreV1Event, type V1Pod } from '@kubernetes/client-node';
import { startApiServer, type RunningApiServer } from '../server/start.ts';
import { runScheduler, type RunningScheduler } from '../scheduler/index.ts';
import { quantityMilliValue } from '../scheduler/quantity.ts';

const quiet = { info: () => {}, error: () => {} };

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
    server = await startApiServer({ dataDir, bind: '127.0.0.1', port: 0, tlsSans: [] });
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
    await createNode('big', { cpu: '128' });
    assert.equal(await boundNode('impossible', 'huge'), 'big');
    const failures = (await core.listNamespacedEvent({ namespace: 'impossible' })).items.filter((e) => e.reason === 'FailedScheduling');
    assert.equal(failures.length, 1, 'repeated identical failures are aggregated into one event');
  });

  test('500 concurrent creates never over-commit allocatable', async () => {
    await core.createNamespace({ body: { metadata: { name: 'burst' } } });
    // Keep earlier tests' nodes out of the way so the arithmetic is exact.
    for (const name of ['zone-a', 'gpu', 'plain', 'big']) {
      await core.patchNode({ name, body: { spec: { unschedulable: true } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    }
    for (let i = 0; i < 8; i++) await createNode(`burst-${i}`, { cpu: '10', labels: { pool: 'burst' } });
    const creates: Array<Promise<void>> = [];
    for (let i = 0; i < 500; i++) creates.push(createPod('burst', `p-${i}`, { nodeSelector: { pool: 'burst' } }, '250m'));
    await Promise.all(creates);
    // 8 nodes × 10 cpu / 250m = 320 pods fit; the other 180 must stay pending.
    const pods = await eventually('320 pods bound', async () => {
      const list = (await core.listNamespacedPod({ namespace: 'burst' })).items;
      return list.filter((p) => p.spec?.nodeName).length >= 320 ? list : undefined;
    }, 120_000);
    const perNode = new Map<string, number>();
    for (const p of pods) {
      if (!p.spec?.nodeName) continue;
      const cpu = quantityMilliValue(p.spec.containers[0].resources!.requests!.cpu);
      perNode.set(p.spec.nodeName, (perNode.get(p.spec.nodeName) ?? 0) + cpu);
    }
    for (const [nodeName, milli] of perNode) assert.ok(milli <= 10_000, `${nodeName} over-committed: ${milli}m`);
    const pending = await eventually('180 pods marked unschedulable', async () => {
      const list = (await core.listNamespacedPod({ namespace: 'burst' })).items.filter((p) => !p.spec?.nodeName);
      const marked = list.filter((p) => p.status?.conditions?.some((c) => c.type === 'PodScheduled' && c.status === 'False'));
      return marked.length === 180 ? list : undefined;
    }, 120_000);
    assert.equal(pending.length, 180);
    assert.equal((await core.listNamespacedPod({ namespace: 'burst' })).items.filter((p) => p.spec?.nodeName).length, 320);
  });
});
