// Failover with two API server replicas on a three-member etcd cluster and two leader-elected
// scheduler processes (one per replica). In the middle of a stream of 1,000 creates through one
// replica, the etcd leader, the other replica and the scheduler holding the lease (the one on the
// other replica) are SIGKILLed at once. Every acknowledged create is stored (same uid), the stream
// completes, and the surviving scheduler process takes the lease and schedules.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CoordinationV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { Etcd3 } from 'etcd3';
import { runKubelets, type RunningKubelets } from '../kubelet/index.ts';
import { eventually, startCli, type CliProcess } from './helpers/cluster-processes.ts';
import { startEtcdCluster, type EtcdCluster } from './helpers/etcd.ts';
import { startReplicas, type Replicas } from './helpers/etcd-replicas.ts';

const TOTAL = 1_000;
const FAIL_AFTER = 300;
const IN_FLIGHT = 16;
const quiet = { info: () => undefined, warn: () => undefined };

function clients(kubeconfigPath: string) {
  const config = new KubeConfig();
  config.loadFromFile(kubeconfigPath);
  return { core: config.makeApiClient(CoreV1Api), coordination: config.makeApiClient(CoordinationV1Api) };
}

function statusCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'number' ? code : undefined;
}

function startScheduler(kubeconfigPath: string): CliProcess {
  return startCli([
    'scheduler', '--kubeconfig', kubeconfigPath, '--leader-elect',
    // Short so the takeover happens within seconds; the same protocol as the 15 s / 10 s / 2 s defaults.
    '--leader-elect-lease-duration', '3s', '--leader-elect-renew-deadline', '2s', '--leader-elect-retry-period', '500ms',
  ]);
}

describe('failover: an etcd member, an API server replica and the leading scheduler die mid-stream', () => {
  let etcd: EtcdCluster | undefined;
  let servers: Replicas | undefined;
  let kubelets: RunningKubelets | undefined;
  const schedulers: CliProcess[] = [];

  before(async () => {
    etcd = await startEtcdCluster(3);
    servers = await startReplicas(2, etcd.endpoints);
  });

  after(async () => {
    await kubelets?.stop();
    await Promise.all(schedulers.map((scheduler) => scheduler.kill('SIGKILL')));
    await servers?.stop();
    await etcd?.stop();
  });

  test('every acknowledged create is stored and the scheduler lease moves to the other process', async (t) => {
    // One scheduler process per replica; whichever takes the lease first is the holder, and its
    // replica is the one that dies. The other replica (b) carries the stream.
    const candidates = servers!.replicas.map((replica) => ({ replica, scheduler: startScheduler(replica.kubeconfigPath) }));
    schedulers.push(...candidates.map((candidate) => candidate.scheduler));
    const acquired = /successfully acquired lease kube-system\/kube-scheduler as (\S+)/;
    const winner = await Promise.any(candidates.map(async (candidate) => {
      const [, identity] = await candidate.scheduler.waitForOutput(acquired);
      return { ...candidate, identity };
    }));
    const loser = candidates.find((candidate) => candidate !== candidates.find((c) => c.scheduler === winner.scheduler))!;
    const [first, firstIdentity, a] = [winner.scheduler, winner.identity, winner.replica];
    const [second, b] = [loser.scheduler, loser.replica];
    await second.waitForOutput(/attempting to acquire leader lease kube-system\/kube-scheduler/);
    assert.doesNotMatch(second.output(), acquired);
    const viaB = clients(b.kubeconfigPath);
    kubelets = await runKubelets({
      kubeconfigPath: b.kubeconfigPath, nodeCount: 1, kubeletPort: 0, imagePullDelayMs: 10, stepDelayMs: 5,
      leaseRenewIntervalMs: 500, statusUpdateIntervalMs: 500, logger: quiet,
    });
    const bound = (name: string) => eventually(`${name} to be scheduled`, async () => {
      const pod = await viaB.core.readNamespacedPod({ name, namespace: 'default' });
      return pod.spec?.nodeName ? pod.spec.nodeName : undefined;
    });
    const pod = (name: string) => ({ metadata: { name }, spec: { containers: [{ name: 'c', image: 'nginx:1.27' }] } });
    await viaB.core.createNamespacedPod({ namespace: 'default', body: pod('before') });
    assert.equal(await bound('before'), 'node01');

    // The stream: creates through B, each retried until it lands (409 on a retry: an earlier
    // attempt landed although its reply was lost, so it was never acknowledged).
    const acknowledged = new Map<string, string>();
    const unacknowledged = new Set<string>();
    let failures = 0;
    let next = 0;
    let killed: Promise<void> | undefined;
    const createOne = async (name: string): Promise<void> => {
      for (let attempt = 0; ; attempt++) {
        try {
          const lease = await viaB.coordination.createNamespacedLease({ namespace: 'default', body: { metadata: { name }, spec: { holderIdentity: name } } });
          acknowledged.set(name, lease.metadata?.uid ?? '');
          return;
        } catch (error) {
          if (statusCode(error) === 409 && attempt > 0) {
            unacknowledged.add(name);
            return;
          }
          failures++;
          if (attempt > 50) throw error;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    };
    const etcdLeader = await etcd!.leader();
    const started = Date.now();
    await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
      while (next < TOTAL) {
        const index = next++;
        if (index === FAIL_AFTER) {
          killed = Promise.all([etcd!.kill(etcdLeader), a.process.kill('SIGKILL'), first.kill('SIGKILL')]).then(() => undefined);
        }
        await createOne(`stream-${String(index).padStart(4, '0')}`);
      }
    }));
    await killed;
    t.diagnostic(`${TOTAL} creates (${IN_FLIGHT} in flight) in ${((Date.now() - started) / 1000).toFixed(1)} s through failover`);
    t.diagnostic(`${acknowledged.size} creates acknowledged, ${unacknowledged.size} landed without an acknowledgement, ${failures} failed attempts retried`);

    const listed = await viaB.coordination.listNamespacedLease({ namespace: 'default' });
    const stored = new Map(listed.items.filter((lease) => lease.metadata?.name?.startsWith('stream-')).map((lease) => [lease.metadata?.name ?? '', lease.metadata?.uid ?? '']));
    for (const [name, uid] of acknowledged) assert.equal(stored.get(name), uid, `acknowledged ${name} is stored with its uid`);
    assert.equal(stored.size, TOTAL);
    assert.equal(acknowledged.size + unacknowledged.size, TOTAL);
    // etcd itself (the two surviving members) holds exactly those keys.
    const survivors = etcd!.endpoints.filter((_, i) => i !== etcdLeader);
    const raw = new Etcd3({ hosts: survivors });
    try {
      assert.equal(await raw.getAll().prefix('/registry/leases/default/stream-').count(), TOTAL);
    } finally {
      raw.close();
    }

    // The lease holder died: the scheduler on B takes over and schedules.
    const [, secondIdentity] = await second.waitForOutput(/successfully acquired lease kube-system\/kube-scheduler as (\S+)/);
    assert.notEqual(secondIdentity, firstIdentity);
    const lease = await viaB.coordination.readNamespacedLease({ name: 'kube-scheduler', namespace: 'kube-system' });
    assert.equal(lease.spec?.holderIdentity, secondIdentity);
    assert.ok((lease.spec?.leaseTransitions ?? 0) >= 1);
    await viaB.core.createNamespacedPod({ namespace: 'default', body: pod('after') });
    assert.equal(await bound('after'), 'node01');
  });
});
