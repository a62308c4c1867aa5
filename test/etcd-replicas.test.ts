// Two API server replicas (`kubefacade server --storage etcd` processes) on a three-member etcd
// cluster serve one cluster: real kubectl applies a pod through replica A while the scheduler and
// the simulated kubelets talk only to replica B, and `kubectl get pods -w` on B sees every change
// in order, with the resourceVersions a watch through A sees. Writes through either replica are
// read back through the other at once, and optimistic concurrency holds across them.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig, Watch, type V1Pod } from '@kubernetes/client-node';
import { runKubelets, type RunningKubelets } from '../kubelet/index.ts';
import { runScheduler, type RunningScheduler } from '../scheduler/index.ts';
import { eventually } from './helpers/cluster-processes.ts';
import { startEtcdCluster, type EtcdCluster } from './helpers/etcd.ts';
import { startReplicas, type Replicas } from './helpers/etcd-replicas.ts';
import { Kubectl, parseColumns } from './helpers/kubectl.ts';

const WEB_POD = `apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: {app: web}
spec:
  containers:
  - name: nginx
    image: nginx:1.27
    ports: [{containerPort: 80}]
  - name: redis
    image: redis:7
`;

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

function coreApi(kubeconfigPath: string): CoreV1Api {
  const config = new KubeConfig();
  config.loadFromFile(kubeconfigPath);
  return config.makeApiClient(CoreV1Api);
}

function statusCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'number' ? code : undefined;
}

describe('two API server replicas on a three-member etcd cluster', () => {
  let etcd: EtcdCluster | undefined;
  let servers: Replicas | undefined;
  let kubectlA: Kubectl | undefined;
  let kubectlB: Kubectl | undefined;
  let scheduler: RunningScheduler | undefined;
  let kubelets: RunningKubelets | undefined;

  before(async () => {
    etcd = await startEtcdCluster(3);
    servers = await startReplicas(2, etcd.endpoints);
    kubectlA = await Kubectl.create(servers.replicas[0].kubeconfigPath);
    kubectlB = await Kubectl.create(servers.replicas[1].kubeconfigPath);
  });

  after(async () => {
    await scheduler?.stop();
    await kubelets?.stop();
    await kubectlA?.dispose();
    await kubectlB?.dispose();
    await servers?.stop();
    await etcd?.stop();
  });

  test('both replicas serve one CA, one admin token and one resourceVersion sequence', async () => {
    const [a, b] = servers!.replicas;
    assert.notEqual(a.url, b.url);
    const nsA = await kubectlA!.ok(['get', 'namespace', 'default', '-o', 'jsonpath={.metadata.uid} {.metadata.resourceVersion}']);
    const nsB = await kubectlB!.ok(['get', 'namespace', 'default', '-o', 'jsonpath={.metadata.uid} {.metadata.resourceVersion}']);
    assert.equal(nsA, nsB);
  });

  test('kubectl apply on A; scheduler and kubelets on B run the pod; get -w on B sees every change in order', async () => {
    const [a, b] = servers!.replicas;
    kubelets = await runKubelets({
      kubeconfigPath: b.kubeconfigPath, nodeCount: 2, kubeletPort: 0, imagePullDelayMs: 50, stepDelayMs: 5,
      leaseRenewIntervalMs: 500, statusUpdateIntervalMs: 500, logger: quiet,
    });
    scheduler = await runScheduler({ kubeconfigPath: b.kubeconfigPath, logger: quiet });

    // The reference: every pod event as a watch through replica A reports it.
    const throughA: { type: string; rv: string }[] = [];
    const watchA = await new Watch(kubeConfigOf(a.kubeconfigPath)).watch('/api/v1/namespaces/default/pods', {},
      (type: string, pod: V1Pod) => throughA.push({ type, rv: pod.metadata?.resourceVersion ?? '' }), () => undefined);
    // -v=6 logs each request on stderr: once the watch request is answered, every later change shows.
    const table = kubectlB!.stream(['get', 'pods', '-w', '-v=6']);
    const versions = kubectlB!.stream(['get', 'pods', '-w', '-v=6', '-o', 'custom-columns=NAME:.metadata.name,RV:.metadata.resourceVersion,PHASE:.status.phase']);
    try {
      for (const stream of [table, versions]) {
        await eventually('get -w on B to open its watch', async () => (/pods\?resourceVersion=\d+&watch=true 200 OK/.test(stream.stderr()) ? true : undefined));
      }
      const manifest = join(a.dataDir, 'web.yaml');
      await writeFile(manifest, WEB_POD);
      assert.equal(await kubectlA!.ok(['apply', '-f', manifest]), 'pod/web created\n');
      await table.waitFor(/^web\s+2\/2\s+Running\s/m, 30_000);
      const finalRv = await kubectlA!.ok(['get', 'pod', 'web', '-o', 'jsonpath={.metadata.resourceVersion}']);
      await versions.waitFor(new RegExp(`^web\\s+${finalRv}\\s`, 'm'));
      await eventually('the watch through A to see the last change', async () => (throughA.some((event) => event.rv === finalRv) ? true : undefined));
    } finally {
      await table.stop();
      await versions.stop();
      watchA.abort();
    }

    const rows = parseColumns(table.stdout());
    assert.deepEqual(rows[0], ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE']);
    const statuses = rows.slice(1).map((row) => row[2]).filter((status, i, all) => i === 0 || all[i - 1] !== status);
    assert.deepEqual(statuses, ['Pending', 'ContainerCreating', 'Running'], table.stdout());
    assert.deepEqual(rows.at(-1)?.slice(0, 4), ['web', '2/2', 'Running', '0']);

    // B's watch printed exactly the revisions A's watch delivered, strictly increasing: one history.
    const seenOnB = parseColumns(versions.stdout()).slice(1).map((row) => row[1]);
    assert.deepEqual(seenOnB, throughA.map((event) => event.rv));
    assert.ok(seenOnB.every((rv, i) => i === 0 || Number(rv) > Number(seenOnB[i - 1])), seenOnB.join(' '));
    assert.ok(seenOnB.length >= 4, `bind, container creating and running are separate changes: ${seenOnB.join(' ')}`);

    const running = await coreApi(a.kubeconfigPath).readNamespacedPod({ name: 'web', namespace: 'default' });
    assert.ok(kubelets.nodes.includes(running.spec?.nodeName ?? ''), `placed on ${running.spec?.nodeName}`);
    assert.deepEqual(running.status?.containerStatuses?.map((c) => [c.name, c.ready]), [['nginx', true], ['redis', true]]);
    const events = await coreApi(a.kubeconfigPath).listNamespacedEvent({ namespace: 'default', fieldSelector: 'involvedObject.name=web,reason=Scheduled' });
    assert.equal(events.items[0]?.source?.component, 'default-scheduler');
  });

  test('a write through either replica is read back through the other at once', async () => {
    const [a, b] = servers!.replicas;
    const apis = [coreApi(a.kubeconfigPath), coreApi(b.kubeconfigPath)];
    for (let i = 0; i < 30; i++) {
      const writer = apis[i % 2];
      const reader = apis[(i + 1) % 2];
      const created = await writer.createNamespacedPod({ namespace: 'default', body: {
        metadata: { name: `rw-${i}` }, spec: { nodeName: 'elsewhere', containers: [{ name: 'c', image: 'busybox:1.36' }] },
      } });
      const own = await writer.readNamespacedPod({ name: `rw-${i}`, namespace: 'default' });
      const other = await reader.readNamespacedPod({ name: `rw-${i}`, namespace: 'default' });
      assert.equal(own.metadata?.resourceVersion, created.metadata?.resourceVersion);
      assert.equal(other.metadata?.uid, created.metadata?.uid);
      assert.equal(other.metadata?.resourceVersion, created.metadata?.resourceVersion);
    }
    const listed = await apis[1].listNamespacedPod({ namespace: 'default' });
    assert.equal(listed.items.filter((pod) => pod.metadata?.name?.startsWith('rw-')).length, 30);
  });

  test('optimistic concurrency holds across replicas', async () => {
    const [a, b] = servers!.replicas;
    const apiA = coreApi(a.kubeconfigPath);
    const apiB = coreApi(b.kubeconfigPath);
    const seen = await apiB.readNamespacedPod({ name: 'rw-0', namespace: 'default' });
    const labelled = (pod: V1Pod, value: string): V1Pod => ({ ...pod, metadata: { ...pod.metadata, labels: { ...pod.metadata?.labels, edit: value } } });
    await apiA.replaceNamespacedPod({ name: 'rw-0', namespace: 'default', body: labelled(seen, 'a') });
    await assert.rejects(apiB.replaceNamespacedPod({ name: 'rw-0', namespace: 'default', body: labelled(seen, 'b') }), (error: unknown) => statusCode(error) === 409);

    // Read-modify-write increments through both replicas at once, retrying on conflict: none is lost.
    const increment = async (api: CoreV1Api): Promise<void> => {
      for (;;) {
        const pod = await api.readNamespacedPod({ name: 'rw-1', namespace: 'default' });
        const count = Number(pod.metadata?.annotations?.count ?? '0');
        try {
          await api.replaceNamespacedPod({ name: 'rw-1', namespace: 'default', body: {
            ...pod, metadata: { ...pod.metadata, annotations: { ...pod.metadata?.annotations, count: String(count + 1) } },
          } });
          return;
        } catch (error) {
          if (statusCode(error) !== 409) throw error;
        }
      }
    };
    await Promise.all(Array.from({ length: 20 }, (_, i) => increment(i % 2 === 0 ? apiA : apiB)));
    const final = await apiA.readNamespacedPod({ name: 'rw-1', namespace: 'default' });
    assert.equal(final.metadata?.annotations?.count, '20');
  });
});

function kubeConfigOf(path: string): KubeConfig {
  const config = new KubeConfig();
  config.loadFromFile(path);
  return config;
}
