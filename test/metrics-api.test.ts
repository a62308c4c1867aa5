// metrics.k8s.io/v1beta1: `kubectl top nodes` and `kubectl top pods --containers` (kubectl 1.30, 1.33, the dispatcher)
// against simulated usage; the usage annotations, the deterministic wave's bounds, and the Warning event for an
// annotation that does not parse.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { startApiServer } from '../server/start.ts';
import { runKubelets, type RunningKubelets } from '../kubelet/index.ts';
import { containerUsage } from '../kubelet/simulated-usage.ts';

const quiet = { info: () => undefined, warn: () => undefined };
const KUBECTLS = ['/usr/lib/google-cloud-sdk/bin/kubectl.1.30', '/usr/lib/google-cloud-sdk/bin/kubectl.1.33', '/usr/bin/kubectl'];

describe('metrics.k8s.io and kubectl top', () => {
  let dir: string;
  let server: Awaited<ReturnType<typeof startApiServer>>;
  let kubelets: RunningKubelets;
  let core: CoreV1Api;

  const kubectl = (binary: string, args: string[]) => new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(binary, ['--kubeconfig', server.adminKubeconfigPath, '--cache-dir', join(dir, 'cache'), ...args], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
    child.on('error', (error) => reject(new Error(`${binary} is needed for these tests: ${error.message}`)));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kubefacade-top-'));
    server = await startApiServer({ dataDir: dir, bind: '127.0.0.1', port: 0, tlsSans: [], disableAdmissionPlugins: ['ServiceAccount'] });
    kubelets = await runKubelets({
      kubeconfigPath: server.adminKubeconfigPath, nodeCount: 1, kubeletPort: 0, imagePullDelayMs: 20, stepDelayMs: 5,
      stopDelayMs: 20, leaseRenewIntervalMs: 200, statusUpdateIntervalMs: 200, logger: quiet,
    });
    const config = new KubeConfig();
    config.loadFromFile(server.adminKubeconfigPath);
    core = config.makeApiClient(CoreV1Api);
    await core.createNamespacedPod({
      namespace: 'default',
      body: {
        metadata: { name: 'busy', annotations: { 'kubefacade.io/cpu-usage': 'app=750m', 'kubefacade.io/memory-usage': 'lots' } },
        spec: {
          nodeName: 'node01',
          containers: [
            { name: 'app', image: 'nginx', resources: { requests: { cpu: '1', memory: '200Mi' }, limits: { memory: '256Mi' } } },
            { name: 'side', image: 'redis', resources: { requests: { cpu: '200m', memory: '100Mi' } } },
          ],
        },
      },
    });
    const deadline = Date.now() + 20_000;
    while ((await core.readNamespacedPod({ namespace: 'default', name: 'busy' })).status?.containerStatuses?.filter((s) => s.state?.running).length !== 2) {
      if (Date.now() > deadline) throw new Error('pod busy did not start');
      await new Promise((r) => setTimeout(r, 50));
    }
  });

  after(async () => {
    await kubelets?.stop();
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('the wave stays within its bounds and under the limit, and is deterministic', () => {
    for (let t = 0; t < 600_000; t += 15_000) {
      const usage = containerUsage('uid-1', { name: 'c', resources: { requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '400m' } } }, t, {});
      assert.ok(usage.cpuCores >= 0.1 - 1e-9 && usage.cpuCores <= 0.4 + 1e-9, `cpu ${usage.cpuCores}`);
      assert.ok(usage.memoryBytes >= 0.45 * 2 ** 30 && usage.memoryBytes <= 0.55 * 2 ** 30);
      assert.deepEqual(usage, containerUsage('uid-1', { name: 'c', resources: { requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '400m' } } }, t, {}));
    }
  });

  for (const binary of KUBECTLS) {
    const version = binary.split('/').pop();
    test(`${version}: top pods --containers and top nodes`, async () => {
      const pods = await kubectl(binary, ['top', 'pods', '--containers']);
      assert.equal(pods.code, 0, pods.stderr);
      const rows = pods.stdout.trim().split('\n').slice(1).map((line) => line.trim().split(/\s+/));
      const app = rows.find((r) => r[1] === 'app');
      const side = rows.find((r) => r[1] === 'side');
      assert.ok(app && side, pods.stdout);
      assert.equal(app[2], '750m', 'the annotation sets app\'s CPU');
      const sideCpu = Number(side[2].replace(/m$/, ''));
      assert.ok(sideCpu >= 20 && sideCpu <= 100, `side uses 10–50 % of its 200m request: ${side[2]}`);
      const appMemory = Number(app[3].replace(/Mi$/, ''));
      assert.ok(appMemory >= 90 && appMemory <= 110, `app's memory follows the wave around half its request (the bad annotation is ignored): ${app[3]}`);
      const nodes = await kubectl(binary, ['top', 'nodes']);
      assert.equal(nodes.code, 0, nodes.stderr);
      const node = nodes.stdout.trim().split('\n')[1].trim().split(/\s+/);
      assert.equal(node[0], 'node01');
      // The node uses its pods plus the 100m system reserve (side's share may have moved to the next 15 s window).
      const nodeCpu = Number(node[1].replace(/m$/, ''));
      assert.ok(nodeCpu >= 750 + 20 + 100 && nodeCpu <= 750 + 100 + 100, `node CPU ${node[1]}`);
    });
  }

  test('an invalid usage annotation is ignored with a Warning event', async () => {
    const events = await core.listNamespacedEvent({ namespace: 'default', fieldSelector: 'reason=InvalidUsageAnnotation' });
    assert.equal(events.items.length, 1);
    assert.equal(events.items[0].type, 'Warning');
    assert.equal(events.items[0].involvedObject.name, 'busy');
    assert.match(events.items[0].message ?? '', /kubefacade.io\/memory-usage="lots": invalid quantity "lots"/);
  });

  test('discovery lists metrics.k8s.io/v1beta1 with nodes and pods, read-only', async () => {
    const run = await kubectl('/usr/bin/kubectl', ['get', '--raw', '/apis/metrics.k8s.io/v1beta1']);
    const list = JSON.parse(run.stdout) as { resources: { name: string; kind: string; verbs: string[] }[] };
    assert.deepEqual(list.resources.map((r) => [r.name, r.kind, r.verbs]), [['nodes', 'NodeMetrics', ['get', 'list']], ['pods', 'PodMetrics', ['get', 'list']]]);
    const one = JSON.parse((await kubectl('/usr/bin/kubectl', ['get', '--raw', '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/busy'])).stdout) as { kind: string; window: string };
    assert.equal(one.kind, 'PodMetrics');
    assert.equal(one.window, '15s');
    const missing = await kubectl('/usr/bin/kubectl', ['get', '--raw', '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/nope']);
    assert.match(missing.stderr, /NotFound|not found/);
  });
});
