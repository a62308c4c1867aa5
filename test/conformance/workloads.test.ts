// Conformance catalogue entries for the workload kinds (../shared/k8s-conformance/conformance.yaml),
// each test named exactly after its `testname` and checking what its description says, against a
// running cluster: the API server, scheduler, simulated kubelets and controller manager of `up`.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { startCluster, type RunningCluster } from '../../server/up.ts';
import { eventually } from '../helpers/cluster-processes.ts';

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let cluster: RunningCluster;
let dataDir: string;

function call(method: Method, path: string, body?: unknown, contentType = 'application/json'): Promise<request.Response> {
  const test = request(cluster.apiServer.url)[method](path).ca(cluster.apiServer.caCertPem)
    .set('Authorization', `Bearer ${cluster.apiServer.adminToken}`);
  return body === undefined ? test : test.set('Content-Type', contentType).send(JSON.stringify(body));
}

async function ok(method: Method, path: string, body?: unknown, contentType?: string): Promise<Json> {
  const res = await call(method, path, body, contentType);
  assert.ok(res.status >= 200 && res.status < 300, `${method.toUpperCase()} ${path}: ${res.status} ${res.text}`);
  return res.body as Json;
}


/** GET, change, PUT — again on a conflict (the controllers write status concurrently), as the e2e framework retries. */
async function update(path: string, change: (current: Json) => Json): Promise<Json> {
  for (let attempt = 0; ; attempt++) {
    const current = await ok('get', path);
    const res = await call('put', path, change(current));
    if (res.status === 409 && attempt < 10) continue;
    assert.ok(res.status === 200, `PUT ${path}: ${res.status} ${res.text}`);
    return res.body as Json;
  }
}

const APPS = '/apis/apps/v1/namespaces/default';
const CORE = '/api/v1/namespaces/default';
const BATCH = '/apis/batch/v1/namespaces/default';
const POLICY = '/apis/policy/v1/namespaces/default';
const MERGE = 'application/merge-patch+json';

function podTemplate(labels: Record<string, string>, image = 'registry.k8s.io/e2e-test-images/agnhost:2.52'): Json {
  return { metadata: { labels }, spec: { containers: [{ name: 'main', image }] } };
}

function deployment(name: string, replicas: number, extra: Json = {}): Json {
  return {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name },
    spec: { replicas, selector: { matchLabels: { name } }, template: podTemplate({ name }), ...extra },
  };
}

async function pods(selector: string): Promise<Json[]> {
  return (await ok('get', `${CORE}/pods?labelSelector=${encodeURIComponent(selector)}`)).items as Json[];
}

async function runningPods(selector: string, count: number): Promise<Json[]> {
  return eventually(`${count} running pods for ${selector}`, async () => {
    const found = (await pods(selector)).filter((p) => p.status?.phase === 'Running' && !p.metadata.deletionTimestamp);
    return found.length === count ? found : undefined;
  }, 60_000);
}

async function deploymentDone(name: string): Promise<Json> {
  return eventually(`deployment ${name} rolled out`, async () => {
    const d = await ok('get', `${APPS}/deployments/${name}`);
    const s = d.status ?? {};
    return s.observedGeneration >= d.metadata.generation && s.updatedReplicas === d.spec.replicas && s.availableReplicas === d.spec.replicas
      && (s.replicas ?? 0) === d.spec.replicas ? d : undefined;
  }, 90_000);
}

async function replicaSetsOf(name: string): Promise<Json[]> {
  return (await ok('get', `${APPS}/replicasets?labelSelector=name%3D${name}`)).items as Json[];
}

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'kubefacade-conformance-workloads-'));
  cluster = await startCluster({
    dataDir, bind: '127.0.0.1', port: 0, tlsSans: [], nodes: 2, nodeCpu: '8', nodeMemory: '16Gi', nodePods: 110,
    imagePullDelayMs: 50, kubeletPort: 0, nodeMonitorGracePeriodSeconds: 40, quiet: true,
  });
});

after(async () => {
  await cluster?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

describe('apps: Deployments', () => {
  test('Deployment, completes the scaling of a Deployment subresource', async () => {
    await ok('post', `${APPS}/deployments`, deployment('scaled', 1));
    await runningPods('name=scaled', 1);
    const scale = await ok('get', `${APPS}/deployments/scaled/scale`);
    assert.equal(scale.spec.replicas, 1);
    const updated = await update(`${APPS}/deployments/scaled/scale`, (current) => ({ ...current, spec: { replicas: 2 } }));
    assert.equal(updated.spec.replicas, 2);
    assert.equal((await ok('get', `${APPS}/deployments/scaled`)).spec.replicas, 2);
    const patched = await ok('patch', `${APPS}/deployments/scaled/scale`, { spec: { replicas: 4 } }, MERGE);
    assert.equal(patched.spec.replicas, 4);
    assert.equal((await ok('get', `${APPS}/deployments/scaled`)).spec.replicas, 4);
  });

  test('Deployment Recreate', async () => {
    await ok('post', `${APPS}/deployments`, deployment('recreate', 2, { strategy: { type: 'Recreate' } }));
    await deploymentDone('recreate');
    const before = new Set((await pods('name=recreate')).map((p) => p.metadata.name));
    await ok('patch', `${APPS}/deployments/recreate`, { spec: { template: { spec: { containers: [{ name: 'main', image: 'nginx:1.28' }] } } } },
      'application/strategic-merge-patch+json');
    await deploymentDone('recreate');
    const after = await runningPods('name=recreate', 2);
    assert.ok(after.every((p) => !before.has(p.metadata.name)), 'every old pod replaced');
    const events = (await ok('get', `${CORE}/events?fieldSelector=involvedObject.name%3Drecreate`)).items as Json[];
    const messages = events.filter((e) => e.reason === 'ScalingReplicaSet').map((e) => e.message as string);
    const down = messages.findIndex((m) => / from 2 to 0$/.test(m));
    const up = messages.map((m) => / from 0 to 2$/.test(m)).lastIndexOf(true);
    assert.ok(down >= 0 && up > down, `old ReplicaSet scaled to zero before the new one grew: ${messages.join('; ')}`);
  });

  test('Deployment RollingUpdate', async () => {
    await ok('post', `${APPS}/deployments`, deployment('rolling', 3));
    await deploymentDone('rolling');
    await ok('patch', `${APPS}/deployments/rolling`, { spec: { template: { spec: { containers: [{ name: 'main', image: 'nginx:1.28' }] } } } },
      'application/strategic-merge-patch+json');
    const done = await deploymentDone('rolling');
    assert.equal(done.metadata.annotations['deployment.kubernetes.io/revision'], '2');
    const sets = await replicaSetsOf('rolling');
    assert.equal(sets.length, 2);
    assert.deepEqual(sets.map((rs) => rs.spec.replicas).sort(), [0, 3]);
  });

  test('Deployment RevisionHistoryLimit', async () => {
    await ok('post', `${APPS}/deployments`, deployment('history', 1, { revisionHistoryLimit: 1 }));
    for (const tag of ['1.25', '1.26', '1.27']) {
      await deploymentDone('history');
      await ok('patch', `${APPS}/deployments/history`, { spec: { template: { spec: { containers: [{ name: 'main', image: `nginx:${tag}` }] } } } },
        'application/strategic-merge-patch+json');
    }
    await deploymentDone('history');
    // The new ReplicaSet plus revisionHistoryLimit old ones.
    await eventually('old ReplicaSets trimmed', async () => ((await replicaSetsOf('history')).length === 2 ? true : undefined), 30_000);
  });

  test('Deployment, status sub-resource', async () => {
    await ok('post', `${APPS}/deployments`, deployment('status', 1));
    const updated = await update(`${APPS}/deployments/status/status`, (current) => ({
      ...current,
      status: { ...current.status, conditions: [...(current.status?.conditions ?? []), { type: 'StatusUpdate', status: 'True', reason: 'E2E', message: 'Set from e2e test' }] },
    }));
    assert.ok(updated.status.conditions.some((c: Json) => c.type === 'StatusUpdate'));
    await ok('patch', `${APPS}/deployments/status/status`, { status: { conditions: [{ type: 'StatusPatched', status: 'True' }] } }, MERGE);
    const read = await ok('get', `${APPS}/deployments/status/status`);
    assert.ok(read.status.conditions.some((c: Json) => c.type === 'StatusPatched'));
  });
});

describe('apps: ReplicaSets and ReplicationControllers', () => {
  const replicaSet = (name: string, replicas: number): Json => ({
    apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name },
    spec: { replicas, selector: { matchLabels: { name } }, template: podTemplate({ name }) },
  });

  test('Replica Set, run basic image', async () => {
    await ok('post', `${APPS}/replicasets`, replicaSet('basic', 1));
    const [pod] = await runningPods('name=basic', 1);
    assert.equal(pod.metadata.ownerReferences[0].kind, 'ReplicaSet');
    const logs = await call('get', `${CORE}/pods/${pod.metadata.name}/log`);
    assert.equal(logs.status, 200, 'the pod answers through its kubelet');
  });

  test('ReplicaSet, completes the scaling of a ReplicaSet subresource', async () => {
    await ok('post', `${APPS}/replicasets`, replicaSet('rs-scale', 1));
    await runningPods('name=rs-scale', 1);
    const scale = await ok('get', `${APPS}/replicasets/rs-scale/scale`);
    assert.equal(scale.spec.replicas, 1);
    assert.equal((await update(`${APPS}/replicasets/rs-scale/scale`, (current) => ({ ...current, spec: { replicas: 2 } }))).spec.replicas, 2);
    assert.equal((await ok('patch', `${APPS}/replicasets/rs-scale/scale`, { spec: { replicas: 3 } }, MERGE)).spec.replicas, 3);
    await runningPods('name=rs-scale', 3);
  });

  test('ReplicaSet, status sub-resource', async () => {
    await ok('post', `${APPS}/replicasets`, replicaSet('rs-status', 0));
    const updated = await update(`${APPS}/replicasets/rs-status/status`,
      (current) => ({ ...current, status: { ...current.status, conditions: [{ type: 'StatusUpdate', status: 'True', reason: 'E2E', message: 'Set from e2e test' }] } }));
    assert.equal(updated.status.conditions[0].type, 'StatusUpdate');
    await ok('patch', `${APPS}/replicasets/rs-status/status`, { status: { conditions: [{ type: 'StatusPatched', status: 'True' }] } }, MERGE);
    assert.equal((await ok('get', `${APPS}/replicasets/rs-status/status`)).status.conditions[0].type, 'StatusPatched');
  });

  test('Replica Set, adopt matching pods and release non matching pods', async () => {
    await ok('post', `${CORE}/pods`, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'pod-adoption-release', labels: { name: 'pod-adoption-release' } }, spec: podTemplate({}).spec });
    await ok('post', `${APPS}/replicasets`, replicaSet('pod-adoption-release', 1));
    const adopted = await eventually('the pod adopted', async () => {
      const pod = await ok('get', `${CORE}/pods/pod-adoption-release`);
      return pod.metadata.ownerReferences?.[0]?.name === 'pod-adoption-release' ? pod : undefined;
    });
    assert.equal(adopted.metadata.ownerReferences[0].controller, true);
    await ok('patch', `${CORE}/pods/pod-adoption-release`, { metadata: { labels: { name: 'not-matching' } } }, MERGE);
    await eventually('the pod released', async () => {
      const pod = await ok('get', `${CORE}/pods/pod-adoption-release`);
      return !pod.metadata.ownerReferences?.length ? true : undefined;
    });
    await runningPods('name=pod-adoption-release', 1);
  });

  test('Replication Controller, get and update ReplicationController scale', async () => {
    await ok('post', `${CORE}/replicationcontrollers`, {
      apiVersion: 'v1', kind: 'ReplicationController', metadata: { name: 'rc-scale' },
      spec: { replicas: 1, selector: { name: 'rc-scale' }, template: podTemplate({ name: 'rc-scale' }) },
    });
    const scale = await ok('get', `${CORE}/replicationcontrollers/rc-scale/scale`);
    assert.equal(scale.spec.replicas, 1);
    await update(`${CORE}/replicationcontrollers/rc-scale/scale`, (current) => ({ ...current, spec: { replicas: 2 } }));
    assert.equal((await ok('get', `${CORE}/replicationcontrollers/rc-scale`)).spec.replicas, 2);
    await runningPods('name=rc-scale', 2);
  });
});

describe('garbage collection', () => {
  test('Garbage Collector, delete deployment,  propagation policy background', async () => {
    await ok('post', `${APPS}/deployments`, deployment('gc-background', 2));
    await deploymentDone('gc-background');
    await ok('delete', `${APPS}/deployments/gc-background`, { propagationPolicy: 'Background' });
    await eventually('ReplicaSets and pods deleted', async () => (
      (await replicaSetsOf('gc-background')).length === 0 && (await pods('name=gc-background')).length === 0 ? true : undefined), 60_000);
  });

  test('Garbage Collector, delete deployment, propagation policy orphan', async () => {
    await ok('post', `${APPS}/deployments`, deployment('gc-orphan', 2));
    await deploymentDone('gc-orphan');
    await ok('delete', `${APPS}/deployments/gc-orphan`, { propagationPolicy: 'Orphan' });
    await eventually('the Deployment gone', async () => ((await call('get', `${APPS}/deployments/gc-orphan`)).status === 404 ? true : undefined));
    const [rs] = await eventually('the ReplicaSet orphaned', async () => {
      const sets = await replicaSetsOf('gc-orphan');
      return sets.length === 1 && !sets[0].metadata.ownerReferences?.length ? sets : undefined;
    });
    assert.equal(rs.spec.replicas, 2);
    assert.equal((await pods('name=gc-orphan')).length, 2, 'the pods stay (owned by the ReplicaSet)');
  });
});

describe('apps: DaemonSets, StatefulSets and ControllerRevisions', () => {
  const daemonSet = (name: string, nodeSelector?: Record<string, string>): Json => ({
    apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name },
    spec: { selector: { matchLabels: { daemon: name } }, template: { ...podTemplate({ daemon: name }), spec: { ...podTemplate({}).spec, ...(nodeSelector ? { nodeSelector } : {}) } } },
  });

  test('DaemonSet-Creation', async () => {
    await ok('post', `${APPS}/daemonsets`, daemonSet('daemon-set'));
    const running = await runningPods('daemon=daemon-set', 2);
    assert.deepEqual(running.map((p) => p.spec.nodeName).sort(), [...cluster.nodes].sort());
    await ok('delete', `${CORE}/pods/${running[0].metadata.name}`, { gracePeriodSeconds: 0 });
    await eventually('a replacement pod', async () => {
      const found = (await pods('daemon=daemon-set')).filter((p) => p.status?.phase === 'Running' && !p.metadata.deletionTimestamp);
      return found.length === 2 && !found.some((p) => p.metadata.name === running[0].metadata.name) ? true : undefined;
    }, 60_000);
  });

  test('DaemonSet-NodeSelection', async () => {
    await ok('post', `${APPS}/daemonsets`, daemonSet('daemon-selector', { color: 'blue' }));
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal((await pods('daemon=daemon-selector')).length, 0, 'no node is blue yet');
    await ok('patch', `/api/v1/nodes/${cluster.nodes[0]}`, { metadata: { labels: { color: 'blue' } } }, MERGE);
    const [pod] = await runningPods('daemon=daemon-selector', 1);
    assert.equal(pod.spec.nodeName, cluster.nodes[0]);
    await ok('patch', `/api/v1/nodes/${cluster.nodes[0]}`, { metadata: { labels: { color: 'green' } } }, MERGE);
    await eventually('the pod unscheduled from the relabelled node', async () => (
      (await pods('daemon=daemon-selector')).filter((p) => !p.metadata.deletionTimestamp).length === 0 ? true : undefined), 60_000);
  });

  test('ControllerRevision, resource lifecycle', async () => {
    await ok('post', `${APPS}/daemonsets`, daemonSet('revisions'));
    const [revision] = await eventually('one ControllerRevision', async () => {
      const list = (await ok('get', `${APPS}/controllerrevisions?labelSelector=daemon%3Drevisions`)).items as Json[];
      return list.length === 1 ? list : undefined;
    });
    await ok('patch', `${APPS}/controllerrevisions/${revision.metadata.name}`, { metadata: { labels: { patched: 'true' } } }, MERGE);
    assert.equal((await ok('get', `${APPS}/controllerrevisions/${revision.metadata.name}`)).metadata.labels.patched, 'true');
    const second = await ok('post', `${APPS}/controllerrevisions`, {
      apiVersion: 'apps/v1', kind: 'ControllerRevision',
      metadata: { name: 'revisions-second', labels: { daemon: 'revisions' }, ownerReferences: revision.metadata.ownerReferences },
      data: revision.data, revision: revision.revision + 1,
    });
    assert.equal(second.revision, revision.revision + 1);
    await ok('delete', `${APPS}/controllerrevisions/${revision.metadata.name}`);
    const left = (await ok('get', `${APPS}/controllerrevisions?labelSelector=daemon%3Drevisions`)).items as Json[];
    assert.deepEqual(left.map((r) => r.metadata.name), ['revisions-second']);
  });

  test('StatefulSet, Scaling', async () => {
    await ok('post', `${APPS}/statefulsets`, {
      apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'ss' },
      spec: { replicas: 3, serviceName: 'test', selector: { matchLabels: { sts: 'ss' } }, template: podTemplate({ sts: 'ss' }) },
    });
    const created = await runningPods('sts=ss', 3);
    const byCreation = [...created].sort((a, b) => Date.parse(a.metadata.creationTimestamp) - Date.parse(b.metadata.creationTimestamp)
      || a.metadata.name.localeCompare(b.metadata.name));
    assert.deepEqual(byCreation.map((p) => p.metadata.name), ['ss-0', 'ss-1', 'ss-2']);
    await ok('patch', `${APPS}/statefulsets/ss/scale`, { spec: { replicas: 0 } }, MERGE);
    await eventually('scaled to zero', async () => ((await pods('sts=ss')).length === 0 ? true : undefined), 60_000);
  });
});

describe('collections and status sub-resources', () => {
  test('ReplicaSet, list and delete a collection of ReplicaSets', async () => {
    for (const name of ['coll-a', 'coll-b']) {
      await ok('post', `${APPS}/replicasets`, {
        apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name, labels: { collection: 'rs' } },
        spec: { replicas: 1, selector: { matchLabels: { name } }, template: podTemplate({ name }) },
      });
    }
    assert.equal(((await ok('get', `${APPS}/replicasets?labelSelector=collection%3Drs`)).items as Json[]).length, 2);
    await ok('delete', `${APPS}/replicasets?labelSelector=collection%3Drs`);
    await eventually('the collection gone', async () => (
      ((await ok('get', `${APPS}/replicasets?labelSelector=collection%3Drs`)).items as Json[]).length === 0 ? true : undefined));
  });

  test('DaemonSet, list and delete a collection of DaemonSets', async () => {
    await ok('post', `${APPS}/daemonsets`, {
      apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'coll-ds', labels: { collection: 'ds' } },
      spec: { selector: { matchLabels: { daemon: 'coll-ds' } }, template: podTemplate({ daemon: 'coll-ds' }) },
    });
    assert.equal(((await ok('get', '/apis/apps/v1/daemonsets?labelSelector=collection%3Dds')).items as Json[]).length, 1);
    await ok('delete', `${APPS}/daemonsets?labelSelector=collection%3Dds`);
    await eventually('the DaemonSet and its pods gone', async () => (
      ((await ok('get', `${APPS}/daemonsets?labelSelector=collection%3Dds`)).items as Json[]).length === 0
        && (await pods('daemon=coll-ds')).filter((p) => !p.metadata.deletionTimestamp).length === 0 ? true : undefined), 60_000);
  });

  for (const [testname, resource, body] of [
    ['DaemonSet, status sub-resource', 'daemonsets', {
      apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'status-ds' },
      spec: { selector: { matchLabels: { daemon: 'status-ds' } }, template: podTemplate({ daemon: 'status-ds' }) },
    }],
    ['StatefulSet, status sub-resource', 'statefulsets', {
      apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'status-ss' },
      spec: { replicas: 1, serviceName: 'x', selector: { matchLabels: { sts: 'status-ss' } }, template: podTemplate({ sts: 'status-ss' }) },
    }],
  ] as [string, string, Json][]) {
    test(testname, async () => {
      await ok('post', `${APPS}/${resource}`, body);
      const path = `${APPS}/${resource}/${body.metadata.name}/status`;
      const condition = { type: 'StatusUpdate', status: 'True', reason: 'E2E', message: 'Set from e2e test' };
      const updated = await update(path, (current) => ({ ...current, status: { ...current.status, conditions: [condition] } }));
      assert.equal(updated.status.conditions[0].type, 'StatusUpdate');
      assert.equal((await ok('get', path)).status.conditions.some((c: Json) => c.type === 'StatusUpdate'), true);
      await ok('patch', path, { status: { conditions: [{ type: 'StatusPatched', status: 'True', reason: 'E2E', message: 'patched' }] } }, MERGE);
      assert.equal((await ok('get', path)).status.conditions[0].type, 'StatusPatched');
    });
  }

  test('StatefulSet, Rolling Update with Partition', async () => {
    await ok('post', `${APPS}/statefulsets`, {
      apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'canary' },
      spec: {
        replicas: 3, serviceName: 'x', selector: { matchLabels: { sts: 'canary' } }, template: podTemplate({ sts: 'canary' }, 'nginx:1.27'),
        updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 3 } },
      },
    });
    await runningPods('sts=canary', 3);
    const image = async (name: string): Promise<string> => (await ok('get', `${CORE}/pods/${name}`)).spec.containers[0].image as string;
    await ok('patch', `${APPS}/statefulsets/canary`, { spec: { template: { spec: { containers: [{ name: 'main', image: 'nginx:1.28' }] } } } },
      'application/strategic-merge-patch+json');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.deepEqual(await Promise.all(['canary-0', 'canary-1', 'canary-2'].map(image)), ['nginx:1.27', 'nginx:1.27', 'nginx:1.27'], 'partition 3 holds every pod');
    // Canary: partition 2 updates only the highest ordinal.
    await ok('patch', `${APPS}/statefulsets/canary`, { spec: { updateStrategy: { rollingUpdate: { partition: 2 } } } }, MERGE);
    await eventually('canary-2 updated', async () => ((await call('get', `${CORE}/pods/canary-2`)).body?.spec?.containers?.[0]?.image === 'nginx:1.28'
      && (await runningPods('sts=canary', 3)).length === 3 ? true : undefined), 60_000);
    assert.deepEqual(await Promise.all(['canary-0', 'canary-1'].map(image)), ['nginx:1.27', 'nginx:1.27']);
    // A pod below the partition deleted mid-rollout comes back at the old revision.
    await ok('delete', `${CORE}/pods/canary-0`, { gracePeriodSeconds: 0 });
    await eventually('canary-0 restored', async () => {
      const res = await call('get', `${CORE}/pods/canary-0`);
      return res.status === 200 && !res.body.metadata.deletionTimestamp ? true : undefined;
    }, 60_000);
    assert.equal(await image('canary-0'), 'nginx:1.27');
    // Phased rollout: partition 0 updates the rest, highest ordinal first.
    await ok('patch', `${APPS}/statefulsets/canary`, { spec: { updateStrategy: { rollingUpdate: { partition: 0 } } } }, MERGE);
    await eventually('every pod updated', async () => {
      const set = await ok('get', `${APPS}/statefulsets/canary`);
      return set.status.updatedReplicas === 3 && set.status.readyReplicas === 3 && set.status.currentRevision === set.status.updateRevision ? true : undefined;
    }, 90_000);
    assert.deepEqual(await Promise.all(['canary-0', 'canary-1', 'canary-2'].map(image)), ['nginx:1.28', 'nginx:1.28', 'nginx:1.28']);
  });
});

describe('batch and policy', () => {
  test('CronJob API Operations', async () => {
    const cronJob = (name: string): Json => ({
      apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name, labels: { special: 'cron' } },
      spec: { schedule: '@hourly', jobTemplate: { spec: { template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'c', image: 'busybox' }] } } } } },
    });
    await ok('post', `${BATCH}/cronjobs`, cronJob('cj-one'));
    await ok('post', `${BATCH}/cronjobs`, cronJob('cj-two'));
    assert.equal((await ok('get', `${BATCH}/cronjobs/cj-one`)).spec.schedule, '@hourly');
    assert.equal(((await ok('get', `${BATCH}/cronjobs?labelSelector=special%3Dcron`)).items as Json[]).length, 2);
    assert.ok(((await ok('get', '/apis/batch/v1/cronjobs?labelSelector=special%3Dcron')).items as Json[]).length >= 2);
    const watch = await request(cluster.apiServer.url).get(`${BATCH}/cronjobs?watch=true&labelSelector=special%3Dcron&timeoutSeconds=1`)
      .ca(cluster.apiServer.caCertPem).set('Authorization', `Bearer ${cluster.apiServer.adminToken}`)
      .buffer(true).parse((res, done) => {
        let text = '';
        res.on('data', (chunk: Buffer) => { text += chunk.toString(); });
        res.on('end', () => done(null, text));
      });
    assert.equal(watch.status, 200);
    assert.equal((watch.body as string).trim().split('\n').filter((line) => JSON.parse(line).type === 'ADDED').length, 2);
    assert.equal((await ok('patch', `${BATCH}/cronjobs/cj-one`, { metadata: { annotations: { patched: 'true' } } }, MERGE)).metadata.annotations.patched, 'true');
    assert.equal((await update(`${BATCH}/cronjobs/cj-one`, (current) => ({ ...current, metadata: { ...current.metadata, annotations: { updated: 'true' } } }))).metadata.annotations.updated, 'true');
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    assert.equal((await update(`${BATCH}/cronjobs/cj-one/status`, (current) => ({ ...current, status: { lastScheduleTime: now } }))).status.lastScheduleTime, now);
    assert.ok((await ok('patch', `${BATCH}/cronjobs/cj-one/status`, { status: { lastSuccessfulTime: now } }, MERGE)).status.lastSuccessfulTime);
    await ok('delete', `${BATCH}/cronjobs/cj-one`);
    await ok('delete', `${BATCH}/cronjobs?labelSelector=special%3Dcron`);
    assert.equal(((await ok('get', `${BATCH}/cronjobs?labelSelector=special%3Dcron`)).items as Json[]).length, 0);
  });

  test('Jobs, manage lifecycle', async () => {
    await ok('post', `${BATCH}/jobs`, {
      apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'lifecycle', labels: { jobs: 'manage' } },
      spec: { suspend: true, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } },
    });
    assert.equal((await ok('patch', `${BATCH}/jobs/lifecycle`, { metadata: { labels: { patched: 'yes' } } }, MERGE)).metadata.labels.patched, 'yes');
    const replaced = await update(`${BATCH}/jobs/lifecycle`, (current) => ({ ...current, metadata: { ...current.metadata, annotations: { updated: 'yes' } } }));
    assert.equal(replaced.metadata.annotations.updated, 'yes');
    assert.equal(((await ok('get', '/apis/batch/v1/jobs?labelSelector=patched%3Dyes')).items as Json[]).length, 1);
    await ok('delete', `${BATCH}/jobs?labelSelector=patched%3Dyes`);
    await eventually('the job collection deleted', async () => (
      ((await ok('get', `${BATCH}/jobs?labelSelector=patched%3Dyes`)).items as Json[]).length === 0 ? true : undefined));
  });

  test('PodDisruptionBudget: create, update, patch, and delete object', async () => {
    await ok('post', `${POLICY}/poddisruptionbudgets`, {
      apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'pdb-crud' }, spec: { minAvailable: 1, selector: { matchLabels: { foo: 'bar' } } },
    });
    const updated = await update(`${POLICY}/poddisruptionbudgets/pdb-crud`, (current) => ({ ...current, spec: { ...current.spec, minAvailable: 2 } }));
    assert.equal(updated.spec.minAvailable, 2);
    assert.equal((await ok('patch', `${POLICY}/poddisruptionbudgets/pdb-crud`, { spec: { minAvailable: 3 } }, MERGE)).spec.minAvailable, 3);
    await ok('delete', `${POLICY}/poddisruptionbudgets/pdb-crud`);
    assert.equal((await call('get', `${POLICY}/poddisruptionbudgets/pdb-crud`)).status, 404);
  });

  test('PodDisruptionBudget: block an eviction until the PDB is updated to allow it', async () => {
    await ok('post', `${APPS}/replicasets`, {
      apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'evictable' },
      spec: { replicas: 1, selector: { matchLabels: { evict: 'me' } }, template: podTemplate({ evict: 'me' }) },
    });
    const [pod] = await runningPods('evict=me', 1);
    await ok('post', `${POLICY}/poddisruptionbudgets`, {
      apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'pdb-block' }, spec: { minAvailable: 1, selector: { matchLabels: { evict: 'me' } } },
    });
    await eventually('the budget observed', async () => (
      (await ok('get', `${POLICY}/poddisruptionbudgets/pdb-block`)).status?.currentHealthy === 1 ? true : undefined));
    const eviction = { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: pod.metadata.name, namespace: 'default' } };
    const refused = await call('post', `${CORE}/pods/${pod.metadata.name}/eviction`, eviction);
    assert.equal(refused.status, 429);
    assert.equal(refused.body.message, "Cannot evict pod as it would violate the pod's disruption budget.");
    await ok('patch', `${POLICY}/poddisruptionbudgets/pdb-block`, { spec: { minAvailable: 0 } }, MERGE);
    await eventually('a disruption allowed', async () => (
      (await ok('get', `${POLICY}/poddisruptionbudgets/pdb-block`)).status?.disruptionsAllowed === 1 ? true : undefined));
    assert.equal((await call('post', `${CORE}/pods/${pod.metadata.name}/eviction`, eviction)).status, 201);
  });
});
