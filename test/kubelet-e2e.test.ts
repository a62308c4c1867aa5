import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoordinationV1Api, CoreV1Api, KubeConfig, type CoreV1Event, type V1Pod } from '@kubernetes/client-node';
import { startApiServer } from '../server/start.ts';
import { runKubelets, type RunningKubelets } from '../kubelet/index.ts';

const quiet = { info: () => undefined, warn: () => undefined };

async function until<T>(probe: () => Promise<T | undefined>, what: string): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('simulated kubelets against a real API server', () => {
  let dir: string;
  let server: Awaited<ReturnType<typeof startApiServer>>;
  let kubelets: RunningKubelets;
  let core: CoreV1Api;
  let coordination: CoordinationV1Api;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kubefacade-kubelet-'));
    server = await startApiServer({ dataDir: dir, bind: '127.0.0.1', port: 0, tlsSans: [], disableAdmissionPlugins: ['ServiceAccount'] });
    kubelets = await runKubelets({
      kubeconfigPath: server.adminKubeconfigPath, nodeCount: 2, kubeletPort: 0, imagePullDelayMs: 50, stepDelayMs: 5,
      stopDelayMs: 20, leaseRenewIntervalMs: 200, statusUpdateIntervalMs: 200, logger: quiet,
    });
    const config = new KubeConfig();
    config.loadFromFile(server.adminKubeconfigPath);
    core = config.makeApiClient(CoreV1Api);
    coordination = config.makeApiClient(CoordinationV1Api);
  });

  after(async () => {
    await kubelets?.stop();
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('nodes register with addresses, capacity, conditions and a lease', async () => {
    assert.deepEqual(kubelets.nodes, ['node01', 'node02']);
    const node = await core.readNode({ name: 'node01' });
    assert.equal(node.metadata?.labels?.['kubernetes.io/hostname'], 'node01');
    assert.equal(node.spec?.podCIDR, '10.244.0.0/24');
    assert.deepEqual(node.status?.addresses?.map((a) => ({ type: a.type, address: a.address })), [{ type: 'InternalIP', address: '127.0.1.1' }, { type: 'Hostname', address: 'node01' }]);
    assert.ok((node.status?.daemonEndpoints?.kubeletEndpoint?.Port ?? 0) > 0);
    assert.equal(node.status?.capacity?.pods, '110');
    const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
    assert.equal(ready?.status, 'True');
    assert.equal(ready?.reason, 'KubeletReady');
    const lease = await coordination.readNamespacedLease({ name: 'node01', namespace: 'kube-node-lease' });
    assert.equal(lease.spec?.holderIdentity, 'node01');
    assert.equal(lease.spec?.leaseDurationSeconds, 40);
    assert.equal(lease.metadata?.ownerReferences?.[0]?.uid, node.metadata?.uid);
    const second = await core.readNode({ name: 'node02' });
    assert.equal(second.status?.addresses?.[0]?.address, '127.0.1.2');
  });

  test('a two-container pod reaches Running with the kubelet events in order, serves logs, and is deleted', async () => {
    await core.createNamespacedPod({ namespace: 'default', body: {
      metadata: { name: 'web' },
      spec: { nodeName: 'node01', containers: [{ name: 'nginx', image: 'nginx:1.27' }, { name: 'redis', image: 'redis:7' }] },
    } });
    const running = await until(async () => {
      const pod = await core.readNamespacedPod({ name: 'web', namespace: 'default' });
      return pod.status?.phase === 'Running' && pod.status.containerStatuses?.every((c) => c.ready) ? pod : undefined;
    }, 'pod Running');
    assert.equal(running.status?.hostIP, '127.0.1.1');
    assert.match(running.status?.podIP ?? '', /^10\.244\.0\.\d+$/);
    assert.equal(running.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
    assert.match(running.status?.containerStatuses?.[0]?.containerID ?? '', /^containerd:\/\/[0-9a-f]{64}$/);
    // Status writes are recorded under the field manager "kubelet" (from its User-Agent), as a real kubelet's are.
    assert.deepEqual(running.metadata?.managedFields?.filter((m) => m.subresource === 'status').map((m) => m.manager), ['kubelet']);

    const events = await until(async () => {
      const list = await core.listNamespacedEvent({ namespace: 'default', fieldSelector: 'involvedObject.name=web' });
      return list.items.length >= 8 ? list.items : undefined;
    }, 'eight pod events');
    const ordered = [...events].sort((a: CoreV1Event, b: CoreV1Event) => (a.metadata.name! < b.metadata.name! ? -1 : 1));
    assert.deepEqual(ordered.map((e) => `${e.involvedObject.fieldPath} ${e.reason}`), [
      'spec.containers{nginx} Pulling', 'spec.containers{nginx} Pulled', 'spec.containers{nginx} Created', 'spec.containers{nginx} Started',
      'spec.containers{redis} Pulling', 'spec.containers{redis} Pulled', 'spec.containers{redis} Created', 'spec.containers{redis} Started',
    ]);
    assert.equal(ordered[2].message, 'Created container: nginx');
    assert.equal(ordered[3].message, 'Started container nginx');
    assert.equal(ordered[0].source?.component, 'kubelet');
    assert.equal(ordered[0].source?.host, 'node01');
    assert.equal(ordered[0].reportingComponent, 'kubelet');

    const log = await core.readNamespacedPodLog({ name: 'web', namespace: 'default', container: 'redis' });
    assert.match(log, /kubefacade: simulated container "redis" \(image redis:7\) started/);

    await core.deleteNamespacedPod({ name: 'web', namespace: 'default' });
    await until(async () => {
      try {
        await core.readNamespacedPod({ name: 'web', namespace: 'default' });
        return undefined;
      } catch (error) {
        return (error as { code?: number }).code === 404 ? true : undefined;
      }
    }, 'pod deleted');
    const killing = await core.listNamespacedEvent({ namespace: 'default', fieldSelector: 'involvedObject.name=web,reason=Killing' })
      .catch(() => core.listNamespacedEvent({ namespace: 'default', fieldSelector: 'involvedObject.name=web' }));
    assert.deepEqual(killing.items.filter((e) => e.reason === 'Killing').map((e) => e.message).sort(), ['Stopping container nginx', 'Stopping container redis']);
  });

  test('a pod that exits with restartPolicy Never ends Failed', async () => {
    await core.createNamespacedPod({ namespace: 'default', body: {
      metadata: { name: 'job' },
      spec: { nodeName: 'node02', restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox:1.36', command: ['sh', '-c', 'echo bye; exit 3'] }] },
    } });
    const failed: V1Pod = await until(async () => {
      const pod = await core.readNamespacedPod({ name: 'job', namespace: 'default' });
      return pod.status?.phase === 'Failed' ? pod : undefined;
    }, 'pod Failed');
    assert.equal(failed.status?.containerStatuses?.[0]?.state?.terminated?.exitCode, 3);
    assert.equal(failed.status?.containerStatuses?.[0]?.state?.terminated?.reason, 'Error');
    assert.equal(failed.status?.podIP?.startsWith('10.244.1.'), true);
    const log = await core.readNamespacedPodLog({ name: 'job', namespace: 'default', container: 'main' });
    assert.match(log, /^kubefacade: simulated container "main".*\nbye\nkubefacade: simulated container "main" exited with code 3\n$/);
  });
});

describe('simulated kubelets across an API server restart', () => {
  test('the pod watch and lease resume, and new pods still run', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kubefacade-kubelet-restart-'));
    let server = await startApiServer({ dataDir: dir, bind: '127.0.0.1', port: 0, tlsSans: [], disableAdmissionPlugins: ['ServiceAccount'] });
    const port = server.port;
    const kubelets = await runKubelets({
      kubeconfigPath: server.adminKubeconfigPath, nodeCount: 1, kubeletPort: 0, imagePullDelayMs: 10, stepDelayMs: 5,
      leaseRenewIntervalMs: 100, statusUpdateIntervalMs: 100, logger: quiet,
    });
    try {
      const config = new KubeConfig();
      config.loadFromFile(server.adminKubeconfigPath);
      const core = config.makeApiClient(CoreV1Api);
      const coordination = config.makeApiClient(CoordinationV1Api);
      const runningPod = (name: string) => until(async () => {
        const pod = await core.readNamespacedPod({ name, namespace: 'default' });
        return pod.status?.phase === 'Running' ? pod : undefined;
      }, `${name} Running`);
      await core.createNamespacedPod({ namespace: 'default', body: { metadata: { name: 'before' }, spec: { nodeName: 'node01', containers: [{ name: 'c', image: 'nginx:1.27' }] } } });
      const before = await runningPod('before');

      await server.close();
      server = await startApiServer({ dataDir: dir, bind: '127.0.0.1', port, tlsSans: [], disableAdmissionPlugins: ['ServiceAccount'] });
      const renewedBefore = String((await until(() => coordination.readNamespacedLease({ name: 'node01', namespace: 'kube-node-lease' }), 'lease')).spec?.renewTime);

      await core.createNamespacedPod({ namespace: 'default', body: { metadata: { name: 'after' }, spec: { nodeName: 'node01', containers: [{ name: 'c', image: 'nginx:1.27' }] } } });
      const after = await runningPod('after');
      assert.notEqual(after.status?.podIP, before.status?.podIP);
      await until(async () => {
        const lease = await coordination.readNamespacedLease({ name: 'node01', namespace: 'kube-node-lease' });
        return String(lease.spec?.renewTime) !== renewedBefore ? true : undefined;
      }, 'lease renewed after the restart');
      const still = await core.readNamespacedPod({ name: 'before', namespace: 'default' });
      assert.equal(still.status?.containerStatuses?.[0]?.restartCount, 0);
      assert.equal(still.status?.phase, 'Running');
    } finally {
      await kubelets.stop();
      await server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
