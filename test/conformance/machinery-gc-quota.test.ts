// Conformance entries of sig-api-machinery about the garbage collector (ReplicationControllers and
// their pods, dependency cycles, dependents with several owners), namespace deletion removing
// Services, and ResourceQuota object counts and scopes, against `up`'s cluster: API server,
// scheduler, simulated kubelets and the controller manager (replication, garbage collector, quota).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startConformanceCluster, podManifest, until, type ConformanceCluster, type Json } from './helpers/cluster.ts';

let c: ConformanceCluster;
const STRATEGIC = 'application/strategic-merge-patch+json';

async function createNamespace(name: string): Promise<string> {
  await c.api('post', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }, expect: 201 });
  return `/api/v1/namespaces/${name}`;
}

function replicationController(name: string, replicas: number, labels: Record<string, string>): Json {
  return {
    apiVersion: 'v1', kind: 'ReplicationController', metadata: { name, labels },
    spec: { replicas, selector: labels, template: { metadata: { labels }, spec: { containers: [{ name: 'nginx', image: 'registry.k8s.io/e2e-test-images/nginx:1.14-2' }] } } },
  };
}

async function podsOf(ns: string, selector: string): Promise<Json[]> {
  return (await c.api('get', `${ns}/pods?labelSelector=${encodeURIComponent(selector)}`)).items as Json[];
}

/** Creates the RC and waits until it has made all its pods (status.replicas, as the e2e test waits). */
async function createRcWithPods(ns: string, name: string, replicas: number): Promise<{ rc: Json; pods: Json[] }> {
  const labels = { name, app: 'gc-test' };
  const rc = await c.api('post', `${ns}/replicationcontrollers`, { body: replicationController(name, replicas, labels), expect: 201 });
  const pods = await until(async () => {
    const found = await podsOf(ns, `name=${name}`);
    return found.length === replicas ? found : undefined;
  }, `${replicas} pods of ${name}`);
  await until(async () => ((await c.api('get', `${ns}/replicationcontrollers/${name}`)).status?.replicas === replicas ? true : undefined), `${name} status.replicas`);
  return { rc, pods };
}

async function deleteWith(path: string, propagationPolicy: string): Promise<void> {
  await c.api('delete', path, { body: { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy } });
}

async function gone(path: string, what: string, timeoutMs = 60_000): Promise<void> {
  await until(async () => ((await c.raw('get', path)).status === 404 ? true : undefined), what, timeoutMs);
}

describe('conformance: api-machinery garbage collector and quota', () => {
  before(async () => { c = await startConformanceCluster('machinery-gc-quota', { nodes: 2 }); });
  after(async () => { await c.stop(); });

  test('Garbage Collector, delete replication controller, propagation policy background', async () => {
    const ns = await createNamespace('gc-background');
    await createRcWithPods(ns, 'simpletest.rc', 2);
    await deleteWith(`${ns}/replicationcontrollers/simpletest.rc`, 'Background');
    // The RC goes at once; the collector then deletes the pods it created.
    assert.equal((await c.raw('get', `${ns}/replicationcontrollers/simpletest.rc`)).status, 404);
    await until(async () => ((await podsOf(ns, 'name=simpletest.rc')).length === 0 ? true : undefined), 'the pods to be collected', 90_000);
  });

  test('Garbage Collector, delete replication controller, after owned pods', async () => {
    const ns = await createNamespace('gc-foreground');
    const replicas = 10;
    await createRcWithPods(ns, 'simpletest.rc', replicas);
    await deleteWith(`${ns}/replicationcontrollers/simpletest.rc`, 'Foreground');
    let sawWaiting = false;
    await until(async () => {
      const res = await c.raw('get', `${ns}/replicationcontrollers/simpletest.rc`);
      if (res.status === 200) {
        // While the RC is there, it waits for its dependents: deletionTimestamp and the foregroundDeletion finalizer.
        assert.ok(res.body.metadata.deletionTimestamp);
        assert.ok(res.body.metadata.finalizers?.includes('foregroundDeletion'));
        sawWaiting = true;
        return undefined;
      }
      assert.equal(res.status, 404, res.text);
      // Once the RC is gone, no pod it owned may be left.
      assert.deepEqual((await podsOf(ns, 'name=simpletest.rc')).map((p) => p.metadata.name), []);
      return true;
    }, 'the RC to be deleted after its pods', 90_000);
    assert.ok(sawWaiting, 'the RC was seen waiting for its pods');
  });

  test('Garbage Collector, delete replication controller, propagation policy orphan', async () => {
    const ns = await createNamespace('gc-orphan');
    const replicas = 10;
    const { rc } = await createRcWithPods(ns, 'simpletest.rc', replicas);
    await deleteWith(`${ns}/replicationcontrollers/simpletest.rc`, 'Orphan');
    await gone(`${ns}/replicationcontrollers/simpletest.rc`, 'the RC to go');
    // The pods stay, no longer owned by the RC (the e2e test watches them for 30 s; a few seconds here).
    for (let i = 0; i < 5; i++) {
      const pods = await podsOf(ns, 'name=simpletest.rc');
      assert.equal(pods.length, replicas);
      for (const pod of pods) {
        assert.equal(pod.metadata.deletionTimestamp, undefined);
        assert.ok(!(pod.metadata.ownerReferences ?? []).some((ref: Json) => ref.uid === rc.metadata.uid), `${pod.metadata.name} orphaned`);
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  });

  test('Garbage Collector, dependency cycle', async () => {
    const ns = await createNamespace('gc-cycle');
    const pods: Json[] = [];
    for (const name of ['pod1', 'pod2', 'pod3']) pods.push(await c.api('post', `${ns}/pods`, { body: podManifest(name), expect: 201 }));
    const ref = (pod: Json): Json => ({ apiVersion: 'v1', kind: 'Pod', name: pod.metadata.name, uid: pod.metadata.uid, controller: true, blockOwnerDeletion: true });
    // pod1 is owned by pod3, pod2 by pod1, pod3 by pod2.
    for (const [dependent, owner] of [[0, 2], [1, 0], [2, 1]]) {
      await c.api('patch', `${ns}/pods/${pods[dependent].metadata.name}`, { body: { metadata: { ownerReferences: [ref(pods[owner])] } }, contentType: STRATEGIC });
    }
    await c.api('delete', `${ns}/pods/pod1`, { body: { kind: 'DeleteOptions', apiVersion: 'v1', preconditions: { uid: pods[0].metadata.uid } } });
    await until(async () => ((await c.api('get', `${ns}/pods`)).items.length === 0 ? true : undefined), 'every pod of the cycle to be collected', 90_000);
  });

  test('Garbage Collector, multiple owners', async () => {
    const ns = await createNamespace('gc-owners');
    const replicas = 10;
    const half = replicas / 2;
    const { pods } = await createRcWithPods(ns, 'simpletest-rc-to-be-deleted', replicas);
    const stay = await c.api('post', `${ns}/replicationcontrollers`, {
      body: replicationController('simpletest-rc-to-stay', 0, { name: 'simpletest-rc-to-stay', app: 'gc-test-stay' }), expect: 201,
    });
    // Half of the pods get the second RC as another owner (a strategic merge patch appends by uid).
    const shared = pods.slice(0, half).map((p) => p.metadata.name as string);
    for (const name of shared) {
      await c.api('patch', `${ns}/pods/${name}`, {
        body: { metadata: { ownerReferences: [{ apiVersion: 'v1', kind: 'ReplicationController', name: 'simpletest-rc-to-stay', uid: stay.metadata.uid }] } }, contentType: STRATEGIC,
      });
      assert.equal((await c.api('get', `${ns}/pods/${name}`)).metadata.ownerReferences.length, 2);
    }
    await deleteWith(`${ns}/replicationcontrollers/simpletest-rc-to-be-deleted`, 'Foreground');
    await gone(`${ns}/replicationcontrollers/simpletest-rc-to-be-deleted`, 'the first RC to go', 90_000);
    const remaining = await until(async () => {
      const found = await podsOf(ns, 'name=simpletest-rc-to-be-deleted');
      return found.length === half ? found : undefined;
    }, 'only the pods with two owners to remain', 60_000);
    assert.deepEqual(remaining.map((p) => p.metadata.name).sort(), [...shared].sort());
    for (const pod of remaining) {
      assert.equal(pod.metadata.deletionTimestamp, undefined, `${pod.metadata.name} is not being deleted`);
      assert.deepEqual(pod.metadata.ownerReferences.map((r: Json) => r.name), ['simpletest-rc-to-stay']);
    }
  });

  test('namespace-deletion-removes-services', async () => {
    const ns = await createNamespace('nsdeletetest');
    await c.api('post', `${ns}/services`, {
      body: { apiVersion: 'v1', kind: 'Service', metadata: { name: 'test-service' }, spec: { selector: { foo: 'bar' }, ports: [{ port: 80, targetPort: 80 }] } }, expect: 201,
    });
    await c.api('delete', ns);
    await gone(ns, 'the namespace to be removed');
    await createNamespace('nsdeletetest');
    assert.deepEqual((await c.api('get', `${ns}/services`)).items, []);
  });

  // ---- ResourceQuota ----

  async function quota(ns: string, name: string, hard: Record<string, string>, scopes?: string[]): Promise<void> {
    await c.api('post', `${ns}/resourcequotas`, { body: { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name }, spec: { hard, ...(scopes ? { scopes } : {}) } }, expect: 201 });
  }

  async function usedIs(ns: string, name: string, expected: Record<string, string>): Promise<void> {
    await until(async () => {
      const status = (await c.api('get', `${ns}/resourcequotas/${name}`)).status ?? {};
      return Object.entries(expected).every(([k, v]) => status.used?.[k] === v && status.hard?.[k] !== undefined) ? true : undefined;
    }, `quota ${name} to use ${JSON.stringify(expected)}`);
  }

  test('ResourceQuota, object count quota, replicationController', async () => {
    const ns = await createNamespace('quota-rc');
    await quota(ns, 'test-quota', { replicationcontrollers: '10', resourcequotas: '1', pods: '5' });
    await usedIs(ns, 'test-quota', { replicationcontrollers: '0', resourcequotas: '1' });
    await c.api('post', `${ns}/replicationcontrollers`, { body: replicationController('test-rc', 0, { name: 'test-rc' }), expect: 201 });
    await usedIs(ns, 'test-quota', { replicationcontrollers: '1' });
    await c.api('delete', `${ns}/replicationcontrollers/test-rc`);
    await usedIs(ns, 'test-quota', { replicationcontrollers: '0' });
  });

  test('ResourceQuota, object count quota, replicaSet', async () => {
    const ns = await createNamespace('quota-rs');
    await quota(ns, 'test-quota', { 'count/replicasets.apps': '5', resourcequotas: '1' });
    await usedIs(ns, 'test-quota', { 'count/replicasets.apps': '0', resourcequotas: '1' });
    await c.api('post', `/apis/apps/v1/namespaces/quota-rs/replicasets`, {
      body: {
        apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'test-rs' },
        spec: { replicas: 0, selector: { matchLabels: { name: 'test-rs' } }, template: { metadata: { labels: { name: 'test-rs' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.27' }] } } },
      },
      expect: 201,
    });
    await usedIs(ns, 'test-quota', { 'count/replicasets.apps': '1' });
    await c.api('delete', '/apis/apps/v1/namespaces/quota-rs/replicasets/test-rs');
    await usedIs(ns, 'test-quota', { 'count/replicasets.apps': '0' });
  });

  const resources = { requests: { cpu: '500m', memory: '200Mi' }, limits: { cpu: '1', memory: '400Mi' } };
  const pod = (name: string, spec: Json = {}, withResources = true): Json => ({
    apiVersion: 'v1', kind: 'Pod', metadata: { name },
    spec: { containers: [{ name: 'pause', image: 'registry.k8s.io/pause:3.10', ...(withResources ? { resources } : {}) }], ...spec },
  });

  test('ResourceQuota, quota scope, BestEffort and NotBestEffort scope', async () => {
    const ns = await createNamespace('quota-besteffort');
    await quota(ns, 'quota-besteffort', { pods: '5' }, ['BestEffort']);
    await quota(ns, 'quota-not-besteffort', { pods: '5' }, ['NotBestEffort']);
    await usedIs(ns, 'quota-besteffort', { pods: '0' });
    await usedIs(ns, 'quota-not-besteffort', { pods: '0' });

    await c.api('post', `${ns}/pods`, { body: pod('best-effort', {}, false), expect: 201 });
    await usedIs(ns, 'quota-besteffort', { pods: '1' });
    await usedIs(ns, 'quota-not-besteffort', { pods: '0' });
    await c.api('delete', `${ns}/pods/best-effort?gracePeriodSeconds=0`);
    await usedIs(ns, 'quota-besteffort', { pods: '0' });

    await c.api('post', `${ns}/pods`, { body: pod('not-best-effort'), expect: 201 });
    await usedIs(ns, 'quota-not-besteffort', { pods: '1' });
    await usedIs(ns, 'quota-besteffort', { pods: '0' });
    await c.api('delete', `${ns}/pods/not-best-effort?gracePeriodSeconds=0`);
    await usedIs(ns, 'quota-not-besteffort', { pods: '0' });
  });

  test('ResourceQuota, quota scope, Terminating and NotTerminating scope', async () => {
    const ns = await createNamespace('quota-terminating');
    const hard = { pods: '5', 'requests.cpu': '1', 'requests.memory': '500Mi', 'limits.cpu': '2', 'limits.memory': '1Gi' };
    const zero = { pods: '0', 'requests.cpu': '0', 'requests.memory': '0', 'limits.cpu': '0', 'limits.memory': '0' };
    const onePod = { pods: '1', 'requests.cpu': '500m', 'requests.memory': '200Mi', 'limits.cpu': '1', 'limits.memory': '400Mi' };
    await quota(ns, 'quota-terminating', hard, ['Terminating']);
    await quota(ns, 'quota-not-terminating', hard, ['NotTerminating']);
    await usedIs(ns, 'quota-terminating', zero);
    await usedIs(ns, 'quota-not-terminating', zero);

    await c.api('post', `${ns}/pods`, { body: pod('test-pod'), expect: 201 });
    await usedIs(ns, 'quota-not-terminating', onePod);
    await usedIs(ns, 'quota-terminating', zero);
    await c.api('delete', `${ns}/pods/test-pod?gracePeriodSeconds=0`);
    await usedIs(ns, 'quota-not-terminating', zero);

    await c.api('post', `${ns}/pods`, { body: pod('terminating-pod', { activeDeadlineSeconds: 3600 }), expect: 201 });
    await usedIs(ns, 'quota-terminating', onePod);
    await usedIs(ns, 'quota-not-terminating', zero);
    await c.api('delete', `${ns}/pods/terminating-pod?gracePeriodSeconds=0`);
    await usedIs(ns, 'quota-terminating', zero);
  });
});
