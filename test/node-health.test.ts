// A node whose kubelet dies: kubelets run as separate `kubefacade kubelet` processes, one of them is SIGKILLed, and
// the node lifecycle controller (short grace period) and the scheduler react as a cluster's would.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig, type V1Node, type V1Pod } from '@kubernetes/client-node';
import { startApiServer, type RunningApiServer } from '../server/start.ts';
import { runScheduler, type RunningScheduler } from '../scheduler/index.ts';
import { runNodeLifecycleController, type RunningController } from '../controllers/node-lifecycle.ts';
import { eventually, startCli, type CliProcess } from './helpers/cluster-processes.ts';
import { Kubectl, parseColumns } from './helpers/kubectl.ts';

const GRACE_PERIOD_SECONDS = 2;

const ready = (node: V1Node) => node.status?.conditions?.find((c) => c.type === 'Ready');
const taints = (node: V1Node) => (node.spec?.taints ?? []).map((t) => `${t.key}=${t.value ?? ''}:${t.effect}`).sort();

describe('a killed kubelet process', () => {
  let dataDir: string;
  let server: RunningApiServer;
  let scheduler: RunningScheduler;
  let controller: RunningController;
  let kubectl: Kubectl;
  let core: CoreV1Api;
  let healthy: CliProcess;
  let doomed: CliProcess;

  function startKubelet(args: string[]): CliProcess {
    return startCli(['kubelet', '--kubeconfig', server.adminKubeconfigPath, '--kubelet-port', '0', '--image-pull-delay', '20ms',
      '--node-lease-renew-interval', '200ms', '--node-status-update-frequency', '200ms', ...args]);
  }

  async function createPod(name: string, spec: Partial<V1Pod['spec']> = {}): Promise<void> {
    await core.createNamespacedPod({ namespace: 'default', body: { metadata: { name }, spec: {
      containers: [{ name: 'c', image: 'nginx:1.27' }], ...spec } } });
  }

  async function runningPod(name: string): Promise<V1Pod> {
    return eventually(`${name} Running`, async () => {
      const pod = await core.readNamespacedPod({ name, namespace: 'default' });
      return pod.status?.phase === 'Running' ? pod : undefined;
    });
  }

  async function nodeWhere(name: string, what: string, check: (node: V1Node) => boolean): Promise<V1Node> {
    return eventually(what, async () => {
      const node = await core.readNode({ name });
      return check(node) ? node : undefined;
    }, 30_000);
  }

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'kubefacade-node-health-'));
    server = await startApiServer({ dataDir, bind: '127.0.0.1', port: 0, tlsSans: [], disableAdmissionPlugins: ['ServiceAccount'] });
    const config = new KubeConfig();
    config.loadFromFile(server.adminKubeconfigPath);
    core = config.makeApiClient(CoreV1Api);
    kubectl = await Kubectl.create(server.adminKubeconfigPath);
    const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
    scheduler = await runScheduler({ kubeconfigPath: server.adminKubeconfigPath, logger: quiet });
    controller = await runNodeLifecycleController({
      kubeconfigPath: server.adminKubeconfigPath, gracePeriodSeconds: GRACE_PERIOD_SECONDS, monitorPeriodSeconds: 0.2, logger: quiet,
    });
    healthy = startKubelet(['--nodes', '2', '--first-index', '1']);
    doomed = startKubelet(['--nodes', '1', '--name-prefix', 'doomed-', '--first-index', '3', '--node-labels', 'role=doomed']);
    await Promise.all([healthy.waitForOutput(/running nodes node01, node02/), doomed.waitForOutput(/running nodes doomed-03/)]);
  });

  after(async () => {
    await Promise.all([healthy?.kill('SIGKILL'), doomed?.kill('SIGKILL')]);
    await scheduler?.stop();
    await controller?.stop();
    await kubectl?.dispose();
    await server?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  test('while its kubelet runs, the node is Ready and takes pods', async () => {
    for (const name of ['node01', 'node02', 'doomed-03']) await nodeWhere(name, `${name} Ready`, (node) => ready(node)?.status === 'True');
    await createPod('pinned', { nodeSelector: { role: 'doomed' } });
    assert.equal((await runningPod('pinned')).spec?.nodeName, 'doomed-03');
  });

  test('SIGKILL: the node turns Unknown and unreachable-tainted, kubectl shows NotReady', async () => {
    await doomed.kill('SIGKILL');
    const dead = await nodeWhere('doomed-03', 'doomed-03 Unknown and tainted', (node) => ready(node)?.status === 'Unknown' && taints(node).length === 2);
    assert.deepEqual(taints(dead), ['node.kubernetes.io/unreachable=:NoExecute', 'node.kubernetes.io/unreachable=:NoSchedule']);
    assert.deepEqual([ready(dead)?.reason, ready(dead)?.message], ['NodeStatusUnknown', 'Kubelet stopped posting node status.']);
    for (const type of ['MemoryPressure', 'DiskPressure', 'PIDPressure']) {
      assert.equal(dead.status?.conditions?.find((c) => c.type === type)?.status, 'Unknown', type);
    }
    const rows = parseColumns(await kubectl.ok(['get', 'nodes']));
    assert.deepEqual(rows.slice(1).map((row) => [row[0], row[1]]), [['doomed-03', 'NotReady'], ['node01', 'Ready'], ['node02', 'Ready']]);
    // The healthy process's nodes are untouched.
    for (const name of ['node01', 'node02']) {
      const node = await core.readNode({ name });
      assert.deepEqual([ready(node)?.status, taints(node)], ['True', []], name);
    }
  });

  test('the scheduler places nothing on the dead node and says why', async () => {
    await Promise.all(Array.from({ length: 12 }, (_, i) => createPod(`after-${i}`)));
    for (let i = 0; i < 12; i++) assert.match((await runningPod(`after-${i}`)).spec?.nodeName ?? '', /^node0[12]$/);
    await createPod('wants-dead', { nodeSelector: { role: 'doomed' } });
    const event = await eventually('FailedScheduling', async () => (await core.listNamespacedEvent({ namespace: 'default' })).items
      .find((e) => e.reason === 'FailedScheduling' && e.involvedObject.name === 'wants-dead'));
    assert.equal(event.message, "0/3 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/unreachable: }, "
      + "2 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.");
  });

  test('a restarted kubelet brings the node back; the waiting pod lands on it', async () => {
    doomed = startKubelet(['--nodes', '1', '--name-prefix', 'doomed-', '--first-index', '3', '--node-labels', 'role=doomed']);
    await doomed.waitForOutput(/running nodes doomed-03/);
    const back = await nodeWhere('doomed-03', 'doomed-03 Ready and untainted', (node) => ready(node)?.status === 'True' && taints(node).length === 0);
    assert.equal(ready(back)?.reason, 'KubeletReady');
    assert.equal((await runningPod('wants-dead')).spec?.nodeName, 'doomed-03');
  });
});
