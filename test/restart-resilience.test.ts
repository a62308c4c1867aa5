// The API server is SIGKILLed and restarted (same port, same data dir) under a running scheduler, kubelet process
// and node lifecycle controller, each its own `kubefacade` process as an operator would run them. They must carry on
// without being restarted themselves.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CoordinationV1Api, CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { startServerProcess, type ServerProcess } from './helpers/server-process.ts';
import { eventually, startCli, type CliProcess } from './helpers/cluster-processes.ts';

const NODES = ['node01', 'node02'];

describe('scheduler, kubelets and controller across an API server restart', () => {
  let server: ServerProcess;
  let components: CliProcess[] = [];
  let core: CoreV1Api;
  let coordination: CoordinationV1Api;
  const podIps = new Map<string, string>();

  function connect(): void {
    // Fresh clients after a restart, so no test call rides on a connection to the dead process.
    const config = server.kubeConfig();
    core = config.makeApiClient(CoreV1Api);
    coordination = config.makeApiClient(CoordinationV1Api);
  }

  async function createPods(names: string[]): Promise<void> {
    await Promise.all(names.map((name) => core.createNamespacedPod({ namespace: 'default', body: {
      metadata: { name }, spec: { containers: [{ name: 'c', image: 'nginx:1.27' }] } } })));
  }

  async function allRunning(names: string[]): Promise<V1Pod[]> {
    return eventually(`${names.join(', ')} Running`, async () => {
      const pods = (await core.listNamespacedPod({ namespace: 'default' })).items.filter((p) => names.includes(p.metadata?.name ?? ''));
      return pods.length === names.length && pods.every((p) => p.status?.phase === 'Running') ? pods : undefined;
    });
  }

  async function renewTimes(): Promise<string[]> {
    return Promise.all(NODES.map(async (name) => {
      const lease = await coordination.readNamespacedLease({ name, namespace: 'kube-node-lease' });
      return new Date(lease.spec!.renewTime!).toISOString();
    }));
  }

  before(async () => {
    server = await startServerProcess('kubefacade-restart-');
    connect();
    const kubeconfig = ['--kubeconfig', server.kubeconfigPath];
    const kubelet = startCli(['kubelet', ...kubeconfig, '--nodes', '2', '--kubelet-port', '0', '--image-pull-delay', '20ms',
      '--node-lease-renew-interval', '250ms', '--node-status-update-frequency', '250ms']);
    const scheduler = startCli(['scheduler', ...kubeconfig]);
    const controllers = startCli(['controllers', ...kubeconfig, '--node-monitor-grace-period', '30s']);
    components = [kubelet, scheduler, controllers];
    await Promise.all([kubelet.waitForOutput(/running nodes node01, node02/), scheduler.waitForOutput(/scheduler started/)]);
  });

  after(async () => {
    await Promise.all(components.map((component) => component.kill('SIGKILL')));
    await server?.dispose();
  });

  test('before the restart: pods are scheduled and run', async () => {
    const names = ['before-0', 'before-1', 'before-2', 'before-3'];
    await createPods(names);
    for (const pod of await allRunning(names)) {
      assert.ok(NODES.includes(pod.spec?.nodeName ?? ''), `${pod.metadata?.name} on ${pod.spec?.nodeName}`);
      podIps.set(pod.metadata!.name!, pod.status!.podIP!);
    }
  });

  test('after SIGKILL and restart: new pods run, deletions are confirmed, leases are renewed', async () => {
    const leasesBefore = await renewTimes();
    await server.kill('SIGKILL');
    await server.restart();
    connect();
    for (const component of components) assert.equal(component.child.exitCode, null, `component still running:\n${component.output()}`);

    const names = ['after-0', 'after-1', 'after-2', 'after-3'];
    await createPods(names);
    for (const pod of await allRunning(names)) assert.ok(NODES.includes(pod.spec?.nodeName ?? ''));
    // The scheduler records each binding made after the restart (the event follows the binding).
    await eventually('four Scheduled events', async () => ((await core.listNamespacedEvent({ namespace: 'default' })).items
      .filter((e) => e.reason === 'Scheduled' && names.includes(e.involvedObject.name ?? '')).length === 4 ? true : undefined));

    // Pods from before the restart kept running untouched, with the same IPs.
    for (const pod of await allRunning([...podIps.keys()])) {
      assert.equal(pod.status?.podIP, podIps.get(pod.metadata!.name!));
      assert.equal(pod.status?.containerStatuses?.[0]?.restartCount, 0);
    }

    // Graceful deletes (30 s grace) of old and new pods: only the kubelet's confirmation removes them this soon.
    const doomed = ['before-0', 'before-1', 'after-0'];
    await Promise.all(doomed.map((name) => core.deleteNamespacedPod({ name, namespace: 'default' })));
    await eventually('deleted pods gone', async () => {
      const left = (await core.listNamespacedPod({ namespace: 'default' })).items.map((p) => p.metadata?.name);
      return doomed.every((name) => !left.includes(name)) ? left : undefined;
    });
    const killing = await eventually('three Killing events', async () => {
      const items = (await core.listNamespacedEvent({ namespace: 'default' })).items.filter((e) => e.reason === 'Killing');
      return items.length >= 3 ? items : undefined;
    });
    assert.deepEqual(killing.map((e) => `${e.involvedObject.name} ${e.source?.component}`).sort(),
      ['after-0 kubelet', 'before-0 kubelet', 'before-1 kubelet']);

    const renewed = await eventually('leases renewed after the restart', async () => {
      const now = await renewTimes();
      return now.every((time, i) => time > leasesBefore[i]) ? now : undefined;
    });
    assert.equal(renewed.length, NODES.length);
    await eventually('leases renewed again', async () => {
      const now = await renewTimes();
      return now.every((time, i) => time > renewed[i]) ? true : undefined;
    });
    for (const name of NODES) {
      const node = await core.readNode({ name });
      assert.equal(node.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True', name);
      assert.deepEqual(node.spec?.taints ?? [], [], name);
    }
  });

  test('the components shut down cleanly on SIGTERM after all that', async () => {
    for (const component of components) {
      await component.kill('SIGTERM');
      assert.equal(await component.exited, 0, component.output());
    }
  });
});
