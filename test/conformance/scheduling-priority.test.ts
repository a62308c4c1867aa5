// Conformance entries of sig-scheduling about priority: the PriorityClass endpoints and the scheduler's
// preemption (basic, by a critical pod, the DisruptionTarget condition, ReplicaSets of four priorities),
// against `up`'s cluster with one simulated node of 4 CPUs.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startConformanceCluster, podManifest, until, type ConformanceCluster, type Json } from './helpers/cluster.ts';

const PCS = '/apis/scheduling.k8s.io/v1/priorityclasses';
const MERGE = 'application/merge-patch+json';

describe('conformance: scheduling priority and preemption', () => {
  let c: ConformanceCluster;
  let nodeName: string;
  before(async () => {
    c = await startConformanceCluster('scheduling-priority', { nodes: 1 });
    nodeName = await until(async () => (await c.api('get', '/api/v1/nodes')).items[0]?.metadata.name as string | undefined, 'the node');
    for (const [name, value] of [['low', 1], ['medium', 100], ['high', 1000]] as const) {
      await c.api('post', PCS, { body: { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name }, value }, expect: 201 });
    }
  });
  after(async () => { await c.stop(); });

  const podsPath = (namespace: string) => `/api/v1/namespaces/${namespace}/pods`;
  const get = (namespace: string, name: string) => c.raw('get', `${podsPath(namespace)}/${name}`);
  const withCpu = (name: string, cpu: string, priorityClassName: string, extra: Json = {}) => podManifest(name, { spec: {
    priorityClassName, containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10', resources: { requests: { cpu }, limits: { cpu } } }], ...extra,
  } });
  const running = (namespace: string, name: string) => until(async () => {
    const pod = (await get(namespace, name)).body as Json;
    return pod.status?.phase === 'Running' ? pod : undefined;
  }, `pod ${namespace}/${name} to run`);
  const gone = (namespace: string, name: string) => until(async () => ((await get(namespace, name)).status === 404 ? true : undefined), `pod ${namespace}/${name} to be deleted`);
  const preemptedOrGone = (namespace: string, name: string) => until(async () => {
    const res = await get(namespace, name);
    return res.status === 404 || (res.body as Json).metadata?.deletionTimestamp ? true : undefined;
  }, `pod ${namespace}/${name} to be preempted`);
  const removeAll = async (namespace: string, names: string[]) => {
    for (const name of names) {
      const res = await c.raw('delete', `${podsPath(namespace)}/${name}`).set('Content-Type', 'application/json').send({ gracePeriodSeconds: 0 });
      assert.ok([200, 404].includes(res.status), res.text);
    }
    for (const name of names) await gone(namespace, name);
  };
  const preemptedEvent = (namespace: string, name: string) => until(async () => {
    const events = await c.api('get', `/api/v1/namespaces/${namespace}/events?fieldSelector=involvedObject.name=${name},reason=Preempted`);
    return events.items[0] as Json | undefined;
  }, `a Preempted event for ${name}`);

  test('Scheduler, Verify PriorityClass endpoints', async () => {
    for (let i = 1; i <= 3; i++) {
      await c.api('post', PCS, { body: { metadata: { name: `p${i}`, labels: { e2e: 'endpoints' } }, value: i, description: 'first' }, expect: 201 });
    }
    const listed = await c.api('get', `${PCS}?labelSelector=e2e=endpoints`);
    assert.deepEqual(listed.items.map((pc: Json) => pc.metadata.name), ['p1', 'p2', 'p3']);
    // Mutable fields change by patch and by update.
    const patched = await c.api('patch', `${PCS}/p1`, { body: { description: 'patched' }, contentType: MERGE });
    assert.equal(patched.description, 'patched');
    const current = await c.api('get', `${PCS}/p2`);
    const updated = await c.api('put', `${PCS}/p2`, { body: { ...current, description: 'updated' } });
    assert.equal(updated.description, 'updated');
    // The value is immutable: patch and update fail, and nothing changes.
    const badPatch = await c.api('patch', `${PCS}/p3`, { body: { value: 30 }, contentType: MERGE, expect: 422 });
    assert.equal(badPatch.message, 'PriorityClass.scheduling.k8s.io "p3" is invalid: value: Forbidden: may not be changed in an update.');
    const p3 = await c.api('get', `${PCS}/p3`);
    await c.api('put', `${PCS}/p3`, { body: { ...p3, value: 31 }, expect: 422 });
    assert.equal((await c.api('get', `${PCS}/p3`)).value, 3);
    await c.raw('delete', `${PCS}?labelSelector=e2e=endpoints`).expect(200);
    assert.equal((await c.api('get', `${PCS}?labelSelector=e2e=endpoints`)).items.length, 0);
  });

  test('Scheduler, Basic Preemption', async () => {
    await c.api('post', podsPath('default'), { body: withCpu('low-pod', '2', 'low'), expect: 201 });
    await c.api('post', podsPath('default'), { body: withCpu('medium-pod', '1500m', 'medium'), expect: 201 });
    await running('default', 'low-pod');
    await running('default', 'medium-pod');
    const high = await c.api('post', podsPath('default'), { body: withCpu('high-pod', '2', 'high'), expect: 201 });
    await preemptedOrGone('default', 'low-pod');
    const scheduled = await running('default', 'high-pod');
    assert.equal(scheduled.spec.nodeName, nodeName);
    assert.equal(scheduled.status.nominatedNodeName, nodeName);
    // Only as many victims as needed: the medium pod was reprieved.
    assert.equal((await running('default', 'medium-pod')).metadata.deletionTimestamp, undefined);
    const event = await preemptedEvent('default', 'low-pod');
    assert.equal(event.message, `Preempted by pod ${high.metadata.uid} on node ${nodeName}`);
    assert.equal(event.source?.component ?? event.reportingComponent, 'default-scheduler');
    await removeAll('default', ['low-pod', 'medium-pod', 'high-pod']);
  });

  test('Scheduler, Preemption for critical pod', async () => {
    await c.api('post', podsPath('default'), { body: withCpu('low-pod-2', '3', 'low'), expect: 201 });
    await running('default', 'low-pod-2');
    const critical = await c.api('post', podsPath('kube-system'), { body: withCpu('critical-pod', '2', 'system-cluster-critical'), expect: 201 });
    assert.equal(critical.spec.priority, 2000000000);
    await preemptedOrGone('default', 'low-pod-2');
    assert.equal((await running('kube-system', 'critical-pod')).spec.nodeName, nodeName);
    await removeAll('default', ['low-pod-2']);
    await removeAll('kube-system', ['critical-pod']);
  });

  test('Verify the DisruptionTarget condition is added to the preempted pod', async () => {
    const finalizer = 'example.com/test-finalizer';
    const victim = withCpu('victim-pod', '3900m', 'low');
    victim.metadata.finalizers = [finalizer];
    await c.api('post', podsPath('default'), { body: victim, expect: 201 });
    await running('default', 'victim-pod');
    await c.api('post', podsPath('default'), { body: withCpu('preemptor-pod', '3', 'high'), expect: 201 });
    const condition = await until(async () => {
      const pod = (await get('default', 'victim-pod')).body as Json;
      return (pod.status?.conditions ?? []).find((x: Json) => x.type === 'DisruptionTarget') as Json | undefined;
    }, 'the DisruptionTarget condition');
    assert.equal(condition.status, 'True');
    assert.equal(condition.reason, 'PreemptionByScheduler');
    assert.equal(condition.message, 'default-scheduler: preempting to accommodate a higher priority pod');
    await preemptedOrGone('default', 'victim-pod');
    // The finalizer keeps the victim; removing it lets it go, and the preemptor gets its room.
    await c.api('patch', `${podsPath('default')}/victim-pod`, { body: { metadata: { finalizers: null } }, contentType: MERGE });
    await gone('default', 'victim-pod');
    assert.equal((await running('default', 'preemptor-pod')).spec.nodeName, nodeName);
    await removeAll('default', ['preemptor-pod']);
  });

  test('Pod preemption verification', async () => {
    const classes = ['p1', 'p2', 'p3', 'p4'];
    for (const [i, name] of classes.entries()) {
      await c.api('post', PCS, { body: { metadata: { name: `rs-${name}` }, value: (i + 1) * 10 }, expect: 201 });
    }
    const replicaSet = (name: string, cpu: string) => ({
      apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name },
      spec: {
        replicas: 1, selector: { matchLabels: { rs: name } },
        template: { metadata: { labels: { rs: name } }, spec: {
          priorityClassName: `rs-${name}`, terminationGracePeriodSeconds: 0,
          containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10', resources: { requests: { cpu }, limits: { cpu } } }],
        } },
      },
    });
    const rsPath = '/apis/apps/v1/namespaces/default/replicasets';
    const available = (name: string, want: number) => until(async () => {
      const rs = await c.api('get', `${rsPath}/${name}`);
      return (rs.status?.availableReplicas ?? 0) === want ? true : undefined;
    }, `ReplicaSet ${name} to have ${want} available`, 60_000);
    // Priorities 1 to 3 fill 3.8 of the node's 4 CPUs and run first.
    for (const [name, cpu] of [['p1', '800m'], ['p2', '1200m'], ['p3', '1800m']]) await c.api('post', rsPath, { body: replicaSet(name, cpu), expect: 201 });
    for (const name of ['p1', 'p2', 'p3']) await available(name, 1);
    // Priority 4 needs 2 CPUs: p3 stays (it still fits beside it), p2 and p1 are preempted and their replacements wait.
    await c.api('post', rsPath, { body: replicaSet('p4', '2'), expect: 201 });
    await available('p4', 1);
    await available('p3', 1);
    for (const name of ['p1', 'p2']) await available(name, 0);
    const pending = await c.api('get', `${podsPath('default')}?labelSelector=rs in (p1,p2)`);
    assert.ok(pending.items.length >= 2);
    for (const pod of pending.items) if (!pod.metadata.deletionTimestamp) assert.equal(pod.spec.nodeName, undefined);
    for (const name of ['p1', 'p2', 'p3', 'p4']) await c.api('delete', `${rsPath}/${name}`);
  });
});
