// Conformance entries for exec over WebSocket and ephemeral containers, checked against a running server with a
// simulated node, the way the upstream e2e tests drive them (a raw channel.k8s.io WebSocket; pods/ephemeralcontainers
// updates through the API).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { CoreV1Api, KubeConfig, type V1EphemeralContainer } from '@kubernetes/client-node';
import { startApiServer } from '../../server/start.ts';
import { runKubelets, type RunningKubelets } from '../../kubelet/index.ts';

const quiet = { info: () => undefined, warn: () => undefined };

describe('conformance: pods streaming and ephemeral containers', () => {
  let dir: string;
  let server: Awaited<ReturnType<typeof startApiServer>>;
  let kubelets: RunningKubelets;
  let core: CoreV1Api;

  async function until(what: string, probe: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + 20_000;
    while (!(await probe())) {
      if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kubefacade-conf-streaming-'));
    server = await startApiServer({ dataDir: dir, bind: '127.0.0.1', port: 0, tlsSans: [], disableAdmissionPlugins: ['ServiceAccount'] });
    kubelets = await runKubelets({
      kubeconfigPath: server.adminKubeconfigPath, nodeCount: 1, kubeletPort: 0, imagePullDelayMs: 20, stepDelayMs: 5,
      stopDelayMs: 20, leaseRenewIntervalMs: 200, statusUpdateIntervalMs: 200, logger: quiet,
    });
    const config = new KubeConfig();
    config.loadFromFile(server.adminKubeconfigPath);
    core = config.makeApiClient(CoreV1Api);
    await core.createNamespacedPod({ namespace: 'default', body: { metadata: { name: 'target' }, spec: { nodeName: 'node01', containers: [{ name: 'main', image: 'busybox', command: ['sleep', 'infinity'] }] } } });
    await until('pod running', async () => (await core.readNamespacedPod({ namespace: 'default', name: 'target' })).status?.phase === 'Running');
  });

  after(async () => {
    await kubelets?.stop();
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('Pods, remote command execution over websocket', async () => {
    const url = `${server.url.replace('https', 'wss')}/api/v1/namespaces/default/pods/target/exec?command=echo&command=remote%20execution%20test&container=main&stderr=true&stdout=true`;
    const ws = new WebSocket(url, ['channel.k8s.io'], { ca: server.caCertPem, headers: { Authorization: `Bearer ${server.adminToken}` } });
    let stdout = '';
    await new Promise<void>((resolve, reject) => {
      ws.on('message', (data: Buffer) => { if (data[0] === 1) stdout += data.subarray(1).toString(); });
      ws.on('close', () => resolve());
      ws.on('error', reject);
    });
    assert.equal(ws.protocol, 'channel.k8s.io');
    assert.equal(stdout, 'remote execution test\n');
  });

  test('Ephemeral Container Creation', async () => {
    const pod = await core.readNamespacedPod({ namespace: 'default', name: 'target' });
    const debugger1: V1EphemeralContainer = { name: 'debugger', image: 'busybox', command: ['/bin/sh'], stdin: true, tty: true };
    await core.replaceNamespacedPodEphemeralcontainers({ namespace: 'default', name: 'target', body: { ...pod, spec: { ...pod.spec!, ephemeralContainers: [debugger1] } } });
    await until('the ephemeral container running', async () => Boolean((await core.readNamespacedPod({ namespace: 'default', name: 'target' })).status?.ephemeralContainerStatuses?.find((s) => s.name === 'debugger')?.state?.running));
  });

  test('Ephemeral Container, update ephemeral containers', async () => {
    let pod = await core.readNamespacedPodEphemeralcontainers({ namespace: 'default', name: 'target' });
    assert.equal(pod.spec?.ephemeralContainers?.length, 1);
    pod.spec!.ephemeralContainers!.push({ name: 'debugger2', image: 'busybox', command: ['/bin/sh'], stdin: true, tty: true });
    await core.replaceNamespacedPodEphemeralcontainers({ namespace: 'default', name: 'target', body: pod });
    pod = await core.readNamespacedPodEphemeralcontainers({ namespace: 'default', name: 'target' });
    assert.deepEqual(pod.spec?.ephemeralContainers?.map((c) => c.name), ['debugger', 'debugger2']);
    await until('both ephemeral containers running', async () => (await core.readNamespacedPod({ namespace: 'default', name: 'target' })).status?.ephemeralContainerStatuses?.filter((s) => s.state?.running).length === 2);
  });
});
