// Conformance entries of SIG apps for StatefulSets, DaemonSets and PodDisruptionBudgets
// (../shared/k8s-conformance/conformance.yaml), each named exactly after its `testname`, against `up`'s cluster
// (API server, scheduler, controller manager, two simulated kubelets), shared by the file. A readiness probe is
// broken the way the kubelet simulation allows (the kubefacade.io/fail-probes pod annotation, where upstream moves
// the file its HTTP probe reads); a node fails a pod through activeDeadlineSeconds (DeadlineExceeded), where
// upstream provokes a host-port conflict.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startConformanceCluster, until, type ConformanceCluster, type Json } from './helpers/cluster.ts';

const APPS = '/apis/apps/v1/namespaces/default';
const CORE = '/api/v1/namespaces/default';
const POLICY = '/apis/policy/v1/namespaces/default';
const MERGE = 'application/merge-patch+json';
const STRATEGIC = 'application/strategic-merge-patch+json';
const IMAGE = 'registry.k8s.io/e2e-test-images/httpd:2.4.38-4';
const NEW_IMAGE = 'registry.k8s.io/e2e-test-images/httpd:2.4.39-4';

let cluster: ConformanceCluster;

before(async () => {
  cluster = await startConformanceCluster('apps-sets', { nodes: 2 });
});

after(async () => {
  await cluster?.stop();
});

async function pods(selector: string): Promise<Json[]> {
  return (await cluster.api('get', `${CORE}/pods?labelSelector=${encodeURIComponent(selector)}`)).items as Json[];
}

async function runningPods(selector: string, count: number, ready = true): Promise<Json[]> {
  return until(async () => {
    const found = (await pods(selector)).filter((p) => p.status?.phase === 'Running' && !p.metadata.deletionTimestamp
      && (!ready || (p.status.conditions as Json[] | undefined)?.some((c) => c.type === 'Ready' && c.status === 'True')));
    return found.length === count ? found : undefined;
  }, `${count} running pods for ${selector}`, 60_000);
}

async function update(path: string, change: (current: Json) => Json): Promise<Json> {
  for (let attempt = 0; ; attempt++) {
    const current = await cluster.api('get', path);
    const res = await cluster.raw('put', path).set('Content-Type', 'application/json').send(JSON.stringify(change(current)));
    if (res.status === 409 && attempt < 10) continue;
    assert.equal(res.status, 200, `PUT ${path}: ${res.text}`);
    return res.body as Json;
  }
}

async function eventSeen(name: string, reason: string): Promise<Json> {
  return until(async () => ((await cluster.api('get', `${CORE}/events?fieldSelector=${encodeURIComponent(`involvedObject.name=${name}`)}`)).items as Json[])
    .find((e) => e.reason === reason), `a ${reason} event for ${name}`);
}

function imageOf(pod: Json): string {
  return pod.spec.containers[0].image;
}

describe('apps: StatefulSets', () => {
  function statefulSet(name: string, replicas: number, spec: Json = {}, podSpec: Json = {}): Json {
    return {
      apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name, labels: { 'test-ss': name } },
      spec: {
        replicas, serviceName: 'test', selector: { matchLabels: { app: name } },
        template: { metadata: { labels: { app: name } }, spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'webserver', image: IMAGE }], ...podSpec } },
        ...spec,
      },
    };
  }

  test('StatefulSet, Burst Scaling', async () => {
    await cluster.api('post', `${APPS}/statefulsets`, {
      body: statefulSet('burst', 1, { podManagementPolicy: 'Parallel' }, {
        containers: [{ name: 'webserver', image: IMAGE, readinessProbe: { httpGet: { path: '/index.html', port: 80 }, periodSeconds: 1, successThreshold: 1, failureThreshold: 1 } }],
      }),
    });
    const [first] = await runningPods('app=burst', 1);
    // Break the readiness probe of the running pod: it becomes unready.
    await cluster.api('patch', `${CORE}/pods/${first.metadata.name}`, { body: { metadata: { annotations: { 'kubefacade.io/fail-probes': 'readiness' } } }, contentType: MERGE });
    await until(async () => ((await cluster.api('get', `${APPS}/statefulsets/burst`)).status?.readyReplicas ?? 0) === 0 ? true : undefined, 'no ready replica');
    // Burst scaling up does not wait for burst-0 to be ready.
    await update(`${APPS}/statefulsets/burst/scale`, (scale) => ({ ...scale, spec: { replicas: 3 } }));
    const scaledUp = await until(async () => {
      const found = await pods('app=burst');
      return found.length === 3 && found.every((p) => p.status?.phase === 'Running') ? found : undefined;
    }, 'three pods while burst-0 is unready');
    assert.deepEqual(scaledUp.map((p) => p.metadata.name).sort(), ['burst-0', 'burst-1', 'burst-2']);
    assert.ok(!(await cluster.api('get', `${CORE}/pods/burst-0`)).status.conditions.some((c: Json) => c.type === 'Ready' && c.status === 'True'));
    // Nor does scaling down to 0 wait for anything.
    await Promise.all(scaledUp.map((p) => cluster.api('patch', `${CORE}/pods/${p.metadata.name}`, { body: { metadata: { annotations: { 'kubefacade.io/fail-probes': 'readiness' } } }, contentType: MERGE })));
    await update(`${APPS}/statefulsets/burst/scale`, (scale) => ({ ...scale, spec: { replicas: 0 } }));
    await until(async () => ((await pods('app=burst')).length === 0 ? true : undefined), 'all pods gone while unready');
    await cluster.api('delete', `${APPS}/statefulsets/burst`);
  });

  test('StatefulSet, Recreate Failed Pod', async () => {
    await cluster.api('post', `${APPS}/statefulsets`, { body: statefulSet('recreate', 1) });
    const [first] = await runningPods('app=recreate', 1);
    // The node reports the pod Failed (as a kubelet does when it rejects or evicts a pod): the StatefulSet must
    // delete it and create recreate-0 again.
    await cluster.api('patch', `${CORE}/pods/recreate-0/status`, {
      body: { status: { phase: 'Failed', reason: 'Evicted', message: 'The node was low on resource: memory.' } }, contentType: MERGE,
    });
    const event = await eventSeen('recreate', 'RecreatingFailedPod');
    assert.equal(event.type, 'Warning');
    assert.equal(event.message, 'StatefulSet default/recreate is recreating failed Pod recreate-0');
    const [recreated] = await runningPods('app=recreate', 1);
    assert.equal(recreated.metadata.name, 'recreate-0');
    assert.notEqual(recreated.metadata.uid, first.metadata.uid);
    await cluster.api('delete', `${APPS}/statefulsets/recreate`);
  });

  test('StatefulSet resource Replica scaling', async () => {
    await cluster.api('post', `${APPS}/statefulsets`, { body: statefulSet('scaled', 1) });
    await runningPods('app=scaled', 1);
    const scale = await cluster.api('get', `${APPS}/statefulsets/scaled/scale`);
    assert.equal(scale.kind, 'Scale');
    assert.equal(scale.spec.replicas, 1);
    const updated = await update(`${APPS}/statefulsets/scaled/scale`, (current) => ({ ...current, spec: { replicas: 2 } }));
    assert.equal(updated.spec.replicas, 2);
    assert.equal((await cluster.api('get', `${APPS}/statefulsets/scaled`)).spec.replicas, 2);
    await runningPods('app=scaled', 2);
    assert.equal((await cluster.api('get', `${APPS}/statefulsets/scaled/scale`)).status.replicas, 2);
    await cluster.api('delete', `${APPS}/statefulsets/scaled`);
  });

  test('StatefulSet, list, patch and delete a collection of StatefulSets', async () => {
    await cluster.api('post', `${APPS}/statefulsets`, { body: statefulSet('collection', 1) });
    await runningPods('app=collection', 1);
    const listed = await cluster.api('get', `/apis/apps/v1/statefulsets?labelSelector=${encodeURIComponent('test-ss=collection')}`);
    assert.deepEqual((listed.items as Json[]).map((item) => item.metadata.name), ['collection']);
    const patched = await cluster.api('patch', `${APPS}/statefulsets/collection`, {
      body: { metadata: { labels: { 'test-ss': 'patched' } }, spec: { template: { spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'webserver', image: NEW_IMAGE }] } } } },
      contentType: STRATEGIC,
    });
    assert.equal(patched.metadata.labels['test-ss'], 'patched');
    assert.equal(patched.spec.template.spec.containers[0].image, NEW_IMAGE);
    await cluster.api('delete', `${APPS}/statefulsets?labelSelector=${encodeURIComponent('test-ss=patched')}`);
    await until(async () => ((await cluster.api('get', `${APPS}/statefulsets?labelSelector=${encodeURIComponent('test-ss=patched')}`)).items.length === 0 ? true : undefined),
      'the collection deleted');
  });

  test('StatefulSet, Rolling Update', async () => {
    await cluster.api('post', `${APPS}/statefulsets`, { body: statefulSet('ss2', 3) });
    await runningPods('app=ss2', 3);
    const before = await until(async () => {
      const s = await cluster.api('get', `${APPS}/statefulsets/ss2`);
      return s.status?.readyReplicas === 3 && s.status.currentRevision ? s : undefined;
    }, 'ss2 ready');
    const firstRevision = before.status.currentRevision;
    assert.equal(before.status.updateRevision, firstRevision);
    // A template change: pods are replaced one at a time, from the highest ordinal.
    await update(`${APPS}/statefulsets/ss2`, (s) => { s.spec.template.spec.containers[0].image = NEW_IMAGE; return s; });
    const replaced: string[] = [];
    const rolled = await until(async () => {
      const current = await pods('app=ss2');
      const terminating = current.filter((p) => p.metadata.deletionTimestamp).length;
      assert.ok(terminating <= 1, 'one pod at a time');
      for (const p of current) if (imageOf(p) === NEW_IMAGE && !replaced.includes(p.metadata.name)) replaced.push(p.metadata.name);
      const s = await cluster.api('get', `${APPS}/statefulsets/ss2`);
      return s.status?.observedGeneration === s.metadata.generation && s.status.updatedReplicas === 3 && s.status.readyReplicas === 3
        && s.status.currentRevision === s.status.updateRevision ? s : undefined;
    }, 'the rolling update done', 90_000);
    assert.notEqual(rolled.status.updateRevision, firstRevision);
    assert.deepEqual(replaced, ['ss2-2', 'ss2-1', 'ss2-0']);
    for (const p of await pods('app=ss2')) {
      assert.equal(imageOf(p), NEW_IMAGE);
      assert.equal(p.metadata.labels['controller-revision-hash'], rolled.status.updateRevision);
    }
    // Back to the first template: a rollback to the first revision, not a new one.
    await update(`${APPS}/statefulsets/ss2`, (s) => { s.spec.template.spec.containers[0].image = IMAGE; return s; });
    const rolledBack = await until(async () => {
      const s = await cluster.api('get', `${APPS}/statefulsets/ss2`);
      return s.status?.observedGeneration === s.metadata.generation && s.status.updatedReplicas === 3 && s.status.readyReplicas === 3
        && s.status.currentRevision === s.status.updateRevision ? s : undefined;
    }, 'the rollback done', 90_000);
    assert.equal(rolledBack.status.updateRevision, firstRevision);
    for (const p of await pods('app=ss2')) assert.equal(imageOf(p), IMAGE);
    const revisions = ((await cluster.api('get', `${APPS}/controllerrevisions`)).items as Json[])
      .filter((r) => (r.metadata.ownerReferences as Json[] | undefined)?.some((o) => o.name === 'ss2'));
    assert.equal(revisions.length, 2, 'no third revision');
    const first = revisions.find((r) => r.metadata.name === firstRevision)!;
    assert.equal(first.revision, 3, 'the rolled-back revision is the newest');
    assert.equal(first.metadata.labels['controller.kubernetes.io/hash'], firstRevision.slice('ss2-'.length));
    await cluster.api('delete', `${APPS}/statefulsets/ss2`);
  });
});

describe('apps: DaemonSets', () => {
  function daemonSet(name: string, image = IMAGE): Json {
    return {
      apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name },
      spec: {
        selector: { matchLabels: { 'daemonset-name': name } },
        updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } },
        template: { metadata: { labels: { 'daemonset-name': name } }, spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'app', image }] } },
      },
    };
  }

  async function nodesOf(found: Json[]): Promise<string[]> {
    return found.map((p) => p.spec.nodeName).sort();
  }

  test('DaemonSet-FailedPodCreation', async () => {
    await cluster.api('post', `${APPS}/daemonsets`, { body: daemonSet('failed-pod') });
    const running = await runningPods('daemonset-name=failed-pod', 2);
    assert.deepEqual(await nodesOf(running), cluster.nodes);
    // A daemon pod fails: the controller deletes it and creates another on that node.
    const victim = running[0];
    await cluster.api('patch', `${CORE}/pods/${victim.metadata.name}/status`, { body: { status: { phase: 'Failed' } }, contentType: MERGE });
    const revived = await until(async () => {
      const found = (await pods('daemonset-name=failed-pod')).filter((p) => p.status?.phase === 'Running' && !p.metadata.deletionTimestamp);
      return found.length === 2 && !found.some((p) => p.metadata.uid === victim.metadata.uid) ? found : undefined;
    }, 'the failed daemon pod revived');
    assert.deepEqual(await nodesOf(revived), cluster.nodes);
    const event = await eventSeen('failed-pod', 'FailedDaemonPod');
    assert.equal(event.type, 'Warning');
    assert.equal(event.message, `Found failed daemon pod default/${victim.metadata.name} on node ${victim.spec.nodeName}, will try to kill it`);
    await cluster.api('delete', `${APPS}/daemonsets/failed-pod`);
  });

  test('DaemonSet-RollingUpdate', async () => {
    await cluster.api('post', `${APPS}/daemonsets`, { body: daemonSet('rolling') });
    const first = await runningPods('daemonset-name=rolling', 2);
    await update(`${APPS}/daemonsets/rolling`, (ds) => { ds.spec.template.spec.containers[0].image = NEW_IMAGE; return ds; });
    const updated = await until(async () => {
      const found = (await pods('daemonset-name=rolling')).filter((p) => !p.metadata.deletionTimestamp);
      return found.length === 2 && found.every((p) => imageOf(p) === NEW_IMAGE && p.status?.phase === 'Running') ? found : undefined;
    }, 'every daemon pod on the new image', 60_000);
    assert.deepEqual(await nodesOf(updated), cluster.nodes);
    assert.ok(updated.every((p) => !first.some((f) => f.metadata.uid === p.metadata.uid)), 'every pod replaced');
    const ds = await until(async () => {
      const current = await cluster.api('get', `${APPS}/daemonsets/rolling`);
      return current.status?.updatedNumberScheduled === 2 && current.status.numberAvailable === 2 && current.status.observedGeneration === current.metadata.generation ? current : undefined;
    }, 'the DaemonSet status up to date');
    assert.equal(ds.status.desiredNumberScheduled, 2);
    assert.equal(new Set(updated.map((p) => p.metadata.labels['controller-revision-hash'])).size, 1);
    assert.equal(updated[0].metadata.labels['pod-template-generation'], String(ds.metadata.generation));
    await cluster.api('delete', `${APPS}/daemonsets/rolling`);
  });

  test('DaemonSet-Rollback', async () => {
    await cluster.api('post', `${APPS}/daemonsets`, { body: daemonSet('rollback') });
    const original = await runningPods('daemonset-name=rollback', 2);
    // An update that cannot finish: the new image is not on the nodes and may not be pulled.
    await update(`${APPS}/daemonsets/rollback`, (ds) => {
      ds.spec.template.spec.containers[0] = { name: 'app', image: 'foo:non-existent', imagePullPolicy: 'Never' };
      return ds;
    });
    const stuck = await until(async () => {
      const found = (await pods('daemonset-name=rollback')).filter((p) => !p.metadata.deletionTimestamp);
      const bad = found.filter((p) => imageOf(p) === 'foo:non-existent');
      return found.length === 2 && bad.length === 1 ? found : undefined;
    }, 'one daemon pod on the new image (maxUnavailable 1)');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const survivors = stuck.filter((p) => imageOf(p) === IMAGE);
    assert.equal(survivors.length, 1, 'the rollout is stuck with one old pod left');
    // Roll back: the new pod is replaced, the old pod that was never updated keeps running untouched.
    await update(`${APPS}/daemonsets/rollback`, (ds) => {
      ds.spec.template.spec.containers[0] = { name: 'app', image: IMAGE };
      return ds;
    });
    const after = await until(async () => {
      const found = (await pods('daemonset-name=rollback')).filter((p) => !p.metadata.deletionTimestamp);
      return found.length === 2 && found.every((p) => imageOf(p) === IMAGE && p.status?.phase === 'Running') ? found : undefined;
    }, 'every daemon pod back on the first image', 60_000);
    assert.ok(after.some((p) => p.metadata.uid === survivors[0].metadata.uid), 'the pod that was never updated is not restarted');
    assert.equal(after.find((p) => p.metadata.uid === survivors[0].metadata.uid)!.status.containerStatuses[0].restartCount, 0);
    assert.ok(original.some((p) => p.metadata.uid === survivors[0].metadata.uid));
    await cluster.api('delete', `${APPS}/daemonsets/rollback`);
  });
});

describe('policy: PodDisruptionBudgets', () => {
  function pdb(name: string, spec: Json, labels: Record<string, string> = {}): Json {
    return { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name, labels }, spec };
  }

  test('PodDisruptionBudget: list and delete collection', async () => {
    for (const name of ['pdb-a', 'pdb-b', 'pdb-c']) {
      await cluster.api('post', `${POLICY}/poddisruptionbudgets`, { body: pdb(name, { minAvailable: 1, selector: { matchLabels: { foo: name } } }, { 'pdb-collection': 'true' }) });
    }
    const listed = await cluster.api('get', `${POLICY}/poddisruptionbudgets?labelSelector=${encodeURIComponent('pdb-collection=true')}`);
    assert.deepEqual((listed.items as Json[]).map((item) => item.metadata.name), ['pdb-a', 'pdb-b', 'pdb-c']);
    assert.ok(((await cluster.api('get', '/apis/policy/v1/poddisruptionbudgets')).items as Json[]).length >= 3);
    await cluster.api('delete', `${POLICY}/poddisruptionbudgets?labelSelector=${encodeURIComponent('pdb-collection=true')}`);
    assert.equal((await cluster.api('get', `${POLICY}/poddisruptionbudgets?labelSelector=${encodeURIComponent('pdb-collection=true')}`)).items.length, 0);
  });

  test('PodDisruptionBudget: Status updates', async () => {
    await cluster.api('post', `${POLICY}/poddisruptionbudgets`, { body: pdb('pdb-status', { minAvailable: 1, selector: { matchLabels: { foo: 'bar' } } }) });
    for (let i = 0; i < 3; i++) {
      await cluster.api('post', `${CORE}/pods`, { body: { apiVersion: 'v1', kind: 'Pod', metadata: { name: `pod-${i}`, labels: { foo: 'bar' } }, spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: IMAGE }] } } });
    }
    await runningPods('foo=bar', 3);
    const observed = await until(async () => {
      const current = await cluster.api('get', `${POLICY}/poddisruptionbudgets/pdb-status`);
      return current.status?.currentHealthy === 3 && current.status.observedGeneration === current.metadata.generation ? current : undefined;
    }, 'the budget to observe 3 healthy pods');
    assert.equal(observed.status.desiredHealthy, 1);
    assert.equal(observed.status.expectedPods, 3);
    assert.equal(observed.status.disruptionsAllowed, 2);
    assert.equal(((observed.status.conditions ?? []) as Json[]).find((c) => c.type === 'DisruptionAllowed')?.status, 'True');
    await cluster.api('delete', `${CORE}/pods?labelSelector=foo%3Dbar`);
    await cluster.api('delete', `${POLICY}/poddisruptionbudgets/pdb-status`);
  });

  test('PodDisruptionBudget: update and patch status', async () => {
    await cluster.api('post', `${POLICY}/poddisruptionbudgets`, { body: pdb('pdb-status-write', { minAvailable: 1, selector: { matchLabels: { foo: 'status-write' } } }) });
    await until(async () => ((await cluster.api('get', `${POLICY}/poddisruptionbudgets/pdb-status-write`)).status?.observedGeneration === 1 ? true : undefined), 'the budget observed');
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const updated = await update(`${POLICY}/poddisruptionbudgets/pdb-status-write/status`, (current) => ({
      ...current, status: { ...current.status, disruptedPods: { 'pod-x': now } },
    }));
    assert.deepEqual(updated.status.disruptedPods, { 'pod-x': now });
    const patched = await cluster.api('patch', `${POLICY}/poddisruptionbudgets/pdb-status-write/status`, {
      body: { status: { disruptedPods: { 'pod-y': now } } }, contentType: MERGE,
    });
    assert.equal(patched.status.disruptedPods['pod-y'], now);
    const read = await cluster.api('get', `${POLICY}/poddisruptionbudgets/pdb-status-write/status`);
    assert.equal(read.kind, 'PodDisruptionBudget');
    assert.equal(read.metadata.name, 'pdb-status-write');
    await cluster.api('delete', `${POLICY}/poddisruptionbudgets/pdb-status-write`);
  });
});
