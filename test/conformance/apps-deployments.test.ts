// Conformance entries of SIG apps for Deployments, ReplicaSets and ReplicationControllers
// (../shared/k8s-conformance/conformance.yaml), each named exactly after its `testname`, against `up`'s cluster
// (API server, scheduler, controller manager with the quota controller, simulated kubelets), shared by the file.
// Pods that must never become available use an image that is not on the node with imagePullPolicy Never
// (ErrImageNeverPull), where upstream's tests name an image that does not exist.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startConformanceCluster, until, type ConformanceCluster, type Json } from './helpers/cluster.ts';

const APPS = '/apis/apps/v1/namespaces/default';
const CORE = '/api/v1/namespaces/default';
const MERGE = 'application/merge-patch+json';
const STRATEGIC = 'application/strategic-merge-patch+json';
const IMAGE = 'registry.k8s.io/e2e-test-images/httpd:2.4.38-4';
const OTHER_IMAGE = 'registry.k8s.io/e2e-test-images/agnhost:2.52';

let cluster: ConformanceCluster;

before(async () => {
  cluster = await startConformanceCluster('apps-deployments', { nodes: 2 });
});

after(async () => {
  await cluster?.stop();
});

function container(image = IMAGE, extra: Json = {}): Json {
  return { name: 'httpd', image, ...extra };
}

function template(labels: Record<string, string>, image = IMAGE, extra: Json = {}): Json {
  return { metadata: { labels }, spec: { terminationGracePeriodSeconds: 1, containers: [container(image, extra)] } };
}

const NEVER_AVAILABLE = { image: 'webserver:404', extra: { imagePullPolicy: 'Never' } };

async function pods(selector: string): Promise<Json[]> {
  return (await cluster.api('get', `${CORE}/pods?labelSelector=${encodeURIComponent(selector)}`)).items as Json[];
}

async function runningPods(selector: string, count: number): Promise<Json[]> {
  return until(async () => {
    const found = (await pods(selector)).filter((p) => p.status?.phase === 'Running' && !p.metadata.deletionTimestamp);
    return found.length === count ? found : undefined;
  }, `${count} running pods for ${selector}`, 60_000);
}

/** GET, change, PUT, again on a conflict (the controllers write too), as the e2e framework's update helpers do. */
async function update(path: string, change: (current: Json) => Json): Promise<Json> {
  for (let attempt = 0; ; attempt++) {
    const current = await cluster.api('get', path);
    const res = await cluster.raw('put', path).set('Content-Type', 'application/json').send(JSON.stringify(change(current)));
    if (res.status === 409 && attempt < 10) continue;
    assert.equal(res.status, 200, `PUT ${path}: ${res.text}`);
    return res.body as Json;
  }
}

async function deploymentComplete(name: string, timeoutMs = 90_000): Promise<Json> {
  return until(async () => {
    const d = await cluster.api('get', `${APPS}/deployments/${name}`);
    const s = d.status ?? {};
    return s.observedGeneration >= d.metadata.generation && s.updatedReplicas === d.spec.replicas && s.availableReplicas === d.spec.replicas
      && (s.replicas ?? 0) === d.spec.replicas ? d : undefined;
  }, `deployment ${name} complete`, timeoutMs);
}

async function replicaSetsOf(deploymentName: string): Promise<Json[]> {
  return ((await cluster.api('get', `${APPS}/replicasets`)).items as Json[])
    .filter((rs) => (rs.metadata.ownerReferences as Json[] | undefined)?.some((r) => r.kind === 'Deployment' && r.name === deploymentName));
}

function imageOf(obj: Json): string {
  return obj.spec.template.spec.containers[0].image;
}

function condition(obj: Json, type: string): Json | undefined {
  return ((obj.status?.conditions ?? []) as Json[]).find((c) => c.type === type);
}

describe('apps: Deployments', () => {
  test('Deployment Proportional Scaling', async () => {
    await cluster.api('post', `${APPS}/deployments`, {
      body: {
        apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'webserver-deployment' },
        spec: {
          replicas: 10, selector: { matchLabels: { name: 'httpd' } }, template: template({ name: 'httpd' }),
          strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 3, maxUnavailable: 2 } },
        },
      },
    });
    await deploymentComplete('webserver-deployment');
    const [first] = await replicaSetsOf('webserver-deployment');
    // A rollout that cannot finish: the new pods never become available.
    await update(`${APPS}/deployments/webserver-deployment`, (d) => {
      d.spec.template.spec.containers[0] = container(NEVER_AVAILABLE.image, NEVER_AVAILABLE.extra);
      return d;
    });
    const stuck = await until(async () => {
      const sets = await replicaSetsOf('webserver-deployment');
      const second = sets.find((rs) => rs.metadata.uid !== first.metadata.uid);
      const old = sets.find((rs) => rs.metadata.uid === first.metadata.uid);
      return second && old && old.spec.replicas === 8 && second.spec.replicas === 5 && (second.status?.availableReplicas ?? 0) === 0 ? { old, second } : undefined;
    }, 'the first replica set at 10 - maxUnavailable = 8 and the second at 10 + maxSurge - 8 = 5');
    assert.equal(imageOf(stuck.second), NEVER_AVAILABLE.image);
    // Scaling to 30 spreads the 20 extra replicas in proportion: 8 → 20 and 5 → 13 (the leftover goes to the newest).
    await update(`${APPS}/deployments/webserver-deployment/scale`, (scale) => ({ ...scale, spec: { replicas: 30 } }));
    await until(async () => {
      const sets = await replicaSetsOf('webserver-deployment');
      const old = sets.find((rs) => rs.metadata.uid === stuck.old.metadata.uid);
      const second = sets.find((rs) => rs.metadata.uid === stuck.second.metadata.uid);
      return old?.spec.replicas === 20 && second?.spec.replicas === 13 ? true : undefined;
    }, 'the replica sets scaled proportionally to 20 and 13');
    await cluster.api('delete', `${APPS}/deployments/webserver-deployment?propagationPolicy=Background`);
  });

  test('Deployment Rollover', async () => {
    const podLabels = { name: 'rollover-pod' };
    // A ReplicaSet not owned by the Deployment, with its pod: the Deployment adopts it.
    await cluster.api('post', `${APPS}/replicasets`, {
      body: { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'test-rollover-controller', labels: { ...podLabels, pod: 'httpd' } }, spec: { replicas: 1, selector: { matchLabels: { ...podLabels, pod: 'httpd' } }, template: template({ ...podLabels, pod: 'httpd' }) } },
    });
    await runningPods('name=rollover-pod', 1);
    await cluster.api('post', `${APPS}/deployments`, {
      body: {
        apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'test-rollover-deployment' },
        spec: {
          replicas: 1, minReadySeconds: 10, selector: { matchLabels: podLabels },
          template: { metadata: { labels: podLabels }, spec: { containers: [{ name: 'redis-slave', image: NEVER_AVAILABLE.image, ...NEVER_AVAILABLE.extra }] } },
          strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
        },
      },
    });
    const badRs = await until(async () => {
      const rs = (await replicaSetsOf('test-rollover-deployment')).find((r) => imageOf(r) === NEVER_AVAILABLE.image);
      return rs?.metadata.annotations?.['deployment.kubernetes.io/revision'] === '1' && rs.spec.replicas === 1 ? rs : undefined;
    }, 'revision 1 with the unavailable image');
    // Roll over before that rollout finishes.
    await update(`${APPS}/deployments/test-rollover-deployment`, (d) => {
      d.spec.template.spec.containers[0] = { name: 'agnhost', image: OTHER_IMAGE };
      return d;
    });
    await until(async () => {
      const d = await cluster.api('get', `${APPS}/deployments/test-rollover-deployment`);
      return d.metadata.annotations?.['deployment.kubernetes.io/revision'] === '2' && imageOf(d) === OTHER_IMAGE ? true : undefined;
    }, 'revision 2 with the new image');
    const done = await deploymentComplete('test-rollover-deployment');
    assert.equal(done.status.updatedReplicas, 1);
    const adoptedRs = await cluster.api('get', `${APPS}/replicasets/test-rollover-controller`);
    assert.equal(adoptedRs.spec.replicas, 0, 'the adopted replica set scaled down');
    assert.equal(adoptedRs.metadata.ownerReferences?.[0]?.name, 'test-rollover-deployment');
    assert.equal((await cluster.api('get', `${APPS}/replicasets/${badRs.metadata.name}`)).spec.replicas, 0, 'the unfinished rollout scaled down');
    await cluster.api('delete', `${APPS}/deployments/test-rollover-deployment?propagationPolicy=Background`);
  });

  test('Deployment, completes the lifecycle of a Deployment', async () => {
    const labels = { 'test-deployment-static': 'true' };
    await cluster.api('post', `${APPS}/deployments`, {
      body: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'test-deployment', labels }, spec: { replicas: 2, selector: { matchLabels: labels }, template: template(labels) } },
    });
    await deploymentComplete('test-deployment');
    const listed = await cluster.api('get', `/apis/apps/v1/deployments?labelSelector=${encodeURIComponent('test-deployment-static=true')}`);
    assert.equal(listed.items.length, 1);
    const patched = await cluster.api('patch', `${APPS}/deployments/test-deployment`, {
      body: { metadata: { labels: { 'test-deployment': 'patched' } }, spec: { replicas: 1, template: { spec: { containers: [{ name: 'httpd', image: OTHER_IMAGE }] } } } },
      contentType: STRATEGIC,
    });
    assert.equal(patched.metadata.labels['test-deployment'], 'patched');
    await deploymentComplete('test-deployment');
    assert.equal(imageOf(await cluster.api('get', `${APPS}/deployments/test-deployment`)), OTHER_IMAGE);
    await update(`${APPS}/deployments/test-deployment/scale`, (scale) => ({ ...scale, spec: { replicas: 2 } }));
    const scaled = await deploymentComplete('test-deployment');
    assert.equal(scaled.status.readyReplicas, 2);
    // Status: read, replace and patch it.
    const status = await cluster.api('get', `${APPS}/deployments/test-deployment/status`);
    assert.equal(status.kind, 'Deployment');
    assert.equal(status.status.replicas, 2);
    const updated = await update(`${APPS}/deployments/test-deployment/status`, (d) => ({
      ...d, status: { ...d.status, conditions: [...d.status.conditions, { type: 'StatusUpdate', status: 'True', reason: 'E2E', message: 'Set from e2e test' }] },
    }));
    assert.equal(condition(updated, 'StatusUpdate')?.reason, 'E2E');
    const statusPatched = await cluster.api('patch', `${APPS}/deployments/test-deployment/status`, {
      body: { status: { conditions: [{ type: 'StatusPatched', status: 'True' }] } }, contentType: MERGE,
    });
    assert.equal(condition(statusPatched, 'StatusPatched')?.status, 'True');
    await cluster.api('delete', `${APPS}/deployments?labelSelector=${encodeURIComponent('test-deployment-static=true')}`);
    await until(async () => ((await cluster.raw('get', `${APPS}/deployments/test-deployment`)).status === 404 ? true : undefined), 'the deployment deleted');
  });
});

describe('apps: ReplicaSets', () => {
  test('ReplicaSet, is created, Replaced and Patched', async () => {
    const labels = { name: 'test-rs' };
    await cluster.api('post', `${APPS}/replicasets`, {
      body: { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'test-rs', labels }, spec: { replicas: 1, selector: { matchLabels: labels }, template: template(labels) } },
    });
    await runningPods('name=test-rs', 1);
    const replaced = await update(`${APPS}/replicasets/test-rs`, (rs) => ({ ...rs, spec: { ...rs.spec, replicas: 2 } }));
    assert.equal(replaced.spec.replicas, 2);
    await until(async () => ((await cluster.api('get', `${APPS}/replicasets/test-rs`)).status?.readyReplicas === 2 ? true : undefined), 'two ready replicas');
    const patched = await cluster.api('patch', `${APPS}/replicasets/test-rs`, {
      body: { metadata: { labels: { 'test-rs': 'patched' } }, spec: { replicas: 3, template: { spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'httpd', image: IMAGE }] } } } },
      contentType: STRATEGIC,
    });
    assert.equal(patched.metadata.labels['test-rs'], 'patched');
    assert.equal(patched.spec.replicas, 3);
    const ready = await until(async () => {
      const rs = await cluster.api('get', `${APPS}/replicasets/test-rs`);
      return rs.status?.readyReplicas === 3 && rs.status?.availableReplicas === 3 ? rs : undefined;
    }, 'three ready replicas');
    assert.equal(ready.metadata.labels['test-rs'], 'patched');
    await cluster.api('delete', `${APPS}/replicasets/test-rs`);
  });
});

describe('core: ReplicationControllers', () => {
  function rc(name: string, replicas: number, labels: Record<string, string>, extra: Json = {}): Json {
    return { apiVersion: 'v1', kind: 'ReplicationController', metadata: { name, ...extra.metadata }, spec: { replicas, selector: labels, template: template(labels) } };
  }

  test('Replication Controller, adopt matching pods', async () => {
    await cluster.api('post', `${CORE}/pods`, { body: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'pod-adoption', labels: { name: 'pod-adoption' } }, spec: { containers: [container()] } } });
    await runningPods('name=pod-adoption', 1);
    const created = await cluster.api('post', `${CORE}/replicationcontrollers`, { body: rc('pod-adoption', 1, { name: 'pod-adoption' }) });
    const adopted = await until(async () => {
      const pod = await cluster.api('get', `${CORE}/pods/pod-adoption`);
      return ((pod.metadata.ownerReferences ?? []) as Json[]).find((r) => r.controller);
    }, 'the orphan pod adopted');
    assert.deepEqual([adopted.kind, adopted.name, adopted.uid], ['ReplicationController', 'pod-adoption', created.metadata.uid]);
    // The RC runs that pod: it made no other.
    assert.deepEqual((await pods('name=pod-adoption')).map((p) => p.metadata.name), ['pod-adoption']);
    await cluster.api('delete', `${CORE}/replicationcontrollers/pod-adoption`);
  });

  test('Replication Controller, release pods', async () => {
    await cluster.api('post', `${CORE}/replicationcontrollers`, { body: rc('pod-release', 1, { name: 'pod-release' }) });
    const [pod] = await runningPods('name=pod-release', 1);
    await update(`${CORE}/pods/${pod.metadata.name}`, (p) => ({ ...p, metadata: { ...p.metadata, labels: { name: 'pod-release-changed' } } }));
    await until(async () => {
      const current = await cluster.api('get', `${CORE}/pods/${pod.metadata.name}`);
      return ((current.metadata.ownerReferences ?? []) as Json[]).some((r) => r.controller) ? undefined : true;
    }, 'the pod released');
    // And the RC replaced it.
    const [replacement] = await runningPods('name=pod-release', 1);
    assert.notEqual(replacement.metadata.name, pod.metadata.name);
    await cluster.api('delete', `${CORE}/replicationcontrollers/pod-release`);
    await cluster.api('delete', `${CORE}/pods/${pod.metadata.name}?gracePeriodSeconds=0`);
  });

  test('Replication Controller, check for issues like exceeding allocated quota', async () => {
    // A namespace of its own: the quota counts every pod in it.
    await cluster.api('post', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'rc-quota' } } });
    const NS = '/api/v1/namespaces/rc-quota';
    await cluster.api('post', `${NS}/resourcequotas`, { body: { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'condition-test' }, spec: { hard: { pods: '2' } } } });
    await until(async () => ((await cluster.api('get', `${NS}/resourcequotas/condition-test`)).status?.hard?.pods === '2' ? true : undefined), 'the quota observed');
    await cluster.api('post', `${NS}/replicationcontrollers`, { body: rc('condition-test', 3, { name: 'condition-test' }) });
    const failing = await until(async () => {
      const current = await cluster.api('get', `${NS}/replicationcontrollers/condition-test`);
      const failure = condition(current, 'ReplicaFailure');
      return failure?.status === 'True' ? failure : undefined;
    }, 'the ReplicaFailure condition');
    assert.equal(failing.reason, 'FailedCreate');
    assert.match(failing.message, /exceeded quota: condition-test, requested: pods=1, used: pods=2, limited: pods=2/);
    await update(`${NS}/replicationcontrollers/condition-test`, (current) => ({ ...current, spec: { ...current.spec, replicas: 2 } }));
    await until(async () => (condition(await cluster.api('get', `${NS}/replicationcontrollers/condition-test`), 'ReplicaFailure') ? undefined : true),
      'the ReplicaFailure condition removed');
    await cluster.api('delete', `${NS}/replicationcontrollers/condition-test`);
    await cluster.api('delete', '/api/v1/namespaces/rc-quota');
  });

  test('Replication Controller, lifecycle', async () => {
    const labels = { 'test-rc-static': 'true' };
    await cluster.api('post', `${CORE}/replicationcontrollers`, { body: rc('rc-test', 1, labels, { metadata: { labels } }) });
    await until(async () => ((await cluster.api('get', `${CORE}/replicationcontrollers/rc-test`)).status?.readyReplicas === 1 ? true : undefined), 'one ready replica');
    const read = await cluster.api('get', `${CORE}/replicationcontrollers/rc-test`);
    assert.equal(read.spec.replicas, 1);
    const patched = await cluster.api('patch', `${CORE}/replicationcontrollers/rc-test`, { body: { metadata: { labels: { 'rc': 'patched' } } }, contentType: STRATEGIC });
    assert.equal(patched.metadata.labels.rc, 'patched');
    const statusPatched = await cluster.api('patch', `${CORE}/replicationcontrollers/rc-test/status`, { body: { status: { readyReplicas: 0, availableReplicas: 0 } }, contentType: STRATEGIC });
    assert.equal(statusPatched.status.readyReplicas, 0);
    const scale = await cluster.api('get', `${CORE}/replicationcontrollers/rc-test/scale`);
    assert.equal(scale.spec.replicas, 1);
    await update(`${CORE}/replicationcontrollers/rc-test/scale`, (current) => ({ ...current, spec: { replicas: 2 } }));
    await until(async () => ((await cluster.api('get', `${CORE}/replicationcontrollers/rc-test`)).status?.readyReplicas === 2 ? true : undefined), 'two ready replicas');
    const replaced = await update(`${CORE}/replicationcontrollers/rc-test`, (current) => ({ ...current, metadata: { ...current.metadata, labels: { ...current.metadata.labels, rc: 'updated' } } }));
    assert.equal(replaced.metadata.labels.rc, 'updated');
    const all = await cluster.api('get', `/api/v1/replicationcontrollers?labelSelector=${encodeURIComponent('test-rc-static=true')}`);
    assert.deepEqual((all.items as Json[]).map((item) => item.metadata.name), ['rc-test']);
    await cluster.api('delete', `${CORE}/replicationcontrollers?labelSelector=${encodeURIComponent('test-rc-static=true')}`);
    await until(async () => ((await cluster.raw('get', `${CORE}/replicationcontrollers/rc-test`)).status === 404 ? true : undefined), 'the rc deleted');
  });
});
