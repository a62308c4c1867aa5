import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig, type V1Node } from '@kubernetes/client-node';
import { startApiServer } from '../server/start.ts';
import { runKubelets, type RunningKubelets } from '../kubelet/index.ts';
import { runNodeLifecycleController, type RunningController } from '../controllers/node-lifecycle.ts';

const quiet = { info: () => undefined, warn: () => undefined };

async function untilNode(core: CoreV1Api, check: (node: V1Node) => boolean, what: string): Promise<V1Node> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const node = await core.readNode({ name: 'node01' }).catch(() => undefined);
    if (node && check(node)) return node;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const ready = (node: V1Node) => node.status?.conditions?.find((c) => c.type === 'Ready');
const taintNames = (node: V1Node) => (node.spec?.taints ?? []).map((t) => `${t.key}:${t.effect}`).sort();

describe('node lifecycle controller', () => {
  let dir: string;
  let server: Awaited<ReturnType<typeof startApiServer>>;
  let controller: RunningController;
  let kubelets: RunningKubelets | undefined;
  let core: CoreV1Api;
  const kubeletOptions = () => ({
    kubeconfigPath: server.adminKubeconfigPath, nodeCount: 1, kubeletPort: 0, imagePullDelayMs: 10,
    leaseRenewIntervalMs: 100, statusUpdateIntervalMs: 100, logger: quiet,
  });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kubefacade-nlc-'));
    server = await startApiServer({ dataDir: dir, bind: '127.0.0.1', port: 0, tlsSans: [] });
    const config = new KubeConfig();
    config.loadFromFile(server.adminKubeconfigPath);
    core = config.makeApiClient(CoreV1Api);
    controller = await runNodeLifecycleController({ kubeconfigPath: server.adminKubeconfigPath, gracePeriodSeconds: 1, monitorPeriodSeconds: 0.1, logger: quiet });
  });

  after(async () => {
    await kubelets?.stop();
    await controller?.stop();
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('a silent kubelet makes its node Unknown and unreachable; it recovers when the kubelet returns', async () => {
    kubelets = await runKubelets(kubeletOptions());
    await untilNode(core, (node) => ready(node)?.status === 'True', 'node Ready');
    await kubelets.stop();
    kubelets = undefined;

    const silent = await untilNode(core, (node) => ready(node)?.status === 'Unknown' && taintNames(node).length === 2, 'node Unknown and tainted');
    assert.equal(ready(silent)?.reason, 'NodeStatusUnknown');
    assert.equal(ready(silent)?.message, 'Kubelet stopped posting node status.');
    for (const type of ['MemoryPressure', 'DiskPressure', 'PIDPressure']) {
      assert.equal(silent.status?.conditions?.find((c) => c.type === type)?.status, 'Unknown', type);
    }
    assert.deepEqual(taintNames(silent), ['node.kubernetes.io/unreachable:NoExecute', 'node.kubernetes.io/unreachable:NoSchedule']);
    assert.ok(silent.spec?.taints?.find((t) => t.effect === 'NoExecute')?.timeAdded, 'NoExecute taint has timeAdded');

    kubelets = await runKubelets(kubeletOptions());
    const recovered = await untilNode(core, (node) => ready(node)?.status === 'True' && taintNames(node).length === 0, 'node Ready and untainted');
    assert.equal(ready(recovered)?.reason, 'KubeletReady');
  });
});
