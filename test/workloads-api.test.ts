// The workload kinds over HTTP: apps/v1 (deployments, replicasets, statefulsets, daemonsets,
// controllerrevisions), batch/v1 (jobs, cronjobs), policy/v1 (poddisruptionbudgets, pods/eviction),
// core/v1 replicationcontrollers and the autoscaling/v1 Scale subresource. CRUD, defaulting,
// validation wording (nothing stored on a rejection), Tables, field selectors, protobuf bodies.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { json, podManifest, startTestServer, type TestServer } from './helpers/api-server.ts';
import { kubernetesProtoRoot, PROTOBUF_MAGIC } from '../server/protobuf/decode.ts';

const NS = '/apis/apps/v1/namespaces/default';
const BATCH = '/apis/batch/v1/namespaces/default';
const POLICY = '/apis/policy/v1/namespaces/default';
const CORE = '/api/v1/namespaces/default';
const TABLE = 'application/json;as=Table;v=v1;g=meta.k8s.io';

function template(labels: Record<string, string>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { metadata: { labels }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.27' }], ...extra } };
}

function deployment(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name },
    spec: { replicas: 3, selector: { matchLabels: { app: name } }, template: template({ app: name }), ...extra },
  };
}

let t: TestServer;
before(async () => {
  t = await startTestServer('workloads-api');
});
after(async () => {
  await t.close();
});

describe('discovery', () => {
  test('apps/v1 lists the workload kinds with short names, the all category and scale', async () => {
    const res = await t.call('get', '/apis/apps/v1').expect(200);
    const byName = new Map((res.body.resources as { name: string }[]).map((r) => [r.name, r as Record<string, unknown>]));
    assert.deepEqual(byName.get('deployments')?.shortNames, ['deploy']);
    assert.deepEqual(byName.get('deployments')?.categories, ['all']);
    assert.deepEqual(byName.get('statefulsets')?.shortNames, ['sts']);
    assert.deepEqual(byName.get('daemonsets')?.shortNames, ['ds']);
    assert.deepEqual(byName.get('replicasets')?.shortNames, ['rs']);
    assert.equal(byName.get('deployments/scale')?.kind, 'Scale');
    assert.ok(byName.has('deployments/status'));
    assert.ok(byName.has('controllerrevisions'));
    const batch = await t.call('get', '/apis/batch/v1').expect(200);
    assert.deepEqual((batch.body.resources as { name: string; shortNames?: string[] }[]).find((r) => r.name === 'cronjobs')?.shortNames, ['cj']);
    const core = await t.call('get', '/api/v1').expect(200);
    const names = (core.body.resources as { name: string }[]).map((r) => r.name);
    assert.ok(names.includes('replicationcontrollers/scale'));
    assert.ok(names.includes('pods/eviction'));
  });

  test('the OpenAPI v3 document of apps/v1 is served (kubectl explain)', async () => {
    const root = await t.call('get', '/openapi/v3').expect(200);
    assert.ok(root.body.paths['apis/apps/v1']);
    const doc = await t.call('get', '/openapi/v3/apis/apps/v1').expect(200);
    assert.ok(doc.body.components.schemas['io.k8s.api.apps.v1.DeploymentStrategy']);
  });
});

describe('deployments', () => {
  test('create applies kube-apiserver defaults', async () => {
    const res = await json(t.call('post', `${NS}/deployments`), deployment('web')).expect(201);
    assert.deepEqual(res.body.spec.strategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } });
    assert.equal(res.body.spec.revisionHistoryLimit, 10);
    assert.equal(res.body.spec.progressDeadlineSeconds, 600);
    assert.equal(res.body.metadata.generation, 1);
    const podSpec = res.body.spec.template.spec;
    assert.equal(podSpec.restartPolicy, 'Always');
    assert.equal(podSpec.dnsPolicy, 'ClusterFirst');
    assert.equal(podSpec.containers[0].imagePullPolicy, 'IfNotPresent');
    // Admission defaults belong to pods, not to templates.
    assert.equal(podSpec.serviceAccountName, undefined);
    assert.equal(podSpec.tolerations, undefined);
  });

  test('a selector that does not match the template is rejected with upstream wording, and nothing is stored', async () => {
    const body = deployment('bad', { selector: { matchLabels: { app: 'y' } }, template: template({ app: 'x' }) });
    const res = await json(t.call('post', `${NS}/deployments`), body).expect(422);
    assert.equal(res.body.message,
      'Deployment.apps "bad" is invalid: spec.template.metadata.labels: Invalid value: map[string]string{"app":"x"}: `selector` does not match template `labels`');
    await t.call('get', `${NS}/deployments/bad`).expect(404);
  });

  test('other rejections: negative replicas, both surge and unavailable 0, Recreate with rollingUpdate', async () => {
    let res = await json(t.call('post', `${NS}/deployments`), deployment('neg', { replicas: -1 })).expect(422);
    assert.match(res.body.message, /spec\.replicas: Invalid value: -1: must be greater than or equal to 0/);
    res = await json(t.call('post', `${NS}/deployments`), deployment('zero', { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 0 } } })).expect(422);
    assert.match(res.body.message, /spec\.strategy\.rollingUpdate\.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0/);
    res = await json(t.call('post', `${NS}/deployments`), deployment('rec', { strategy: { type: 'Recreate', rollingUpdate: { maxSurge: 1 } } })).expect(422);
    assert.match(res.body.message, /spec\.strategy\.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'/);
    res = await json(t.call('post', `${NS}/deployments`), deployment('pct', { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 'x%' } } })).expect(422);
    assert.match(res.body.message, /maxSurge: Invalid value: "x%": a valid percent string must be a numeric string followed by an ending '%'/);
    res = await json(t.call('post', `${NS}/deployments`), deployment('never', { template: template({ app: 'never' }, { restartPolicy: 'Never' }) })).expect(422);
    assert.match(res.body.message, /spec\.template\.spec\.restartPolicy: Unsupported value: "Never": supported values: "Always"/);
  });

  test('the selector is immutable; spec changes bump generation, status changes do not', async () => {
    const res = await json(t.call('patch', `${NS}/deployments/web`), { spec: { selector: { matchLabels: { app: 'other' } }, template: { metadata: { labels: { app: 'other' } } } } }, 'application/merge-patch+json').expect(422);
    assert.match(res.body.message, /spec\.selector: Invalid value: v1\.LabelSelector\{MatchLabels:map\[string\]string\{"app":"other"\}, MatchExpressions:\[\]v1\.LabelSelectorRequirement\(nil\)\}: field is immutable/);
    const updated = await json(t.call('patch', `${NS}/deployments/web`), { spec: { template: { spec: { containers: [{ name: 'nginx', image: 'nginx:1.28' }] } } } }, 'application/strategic-merge-patch+json').expect(200);
    assert.equal(updated.body.metadata.generation, 2);
    const status = await json(t.call('patch', `${NS}/deployments/web/status`), { status: { replicas: 3, readyReplicas: 2, availableReplicas: 2, updatedReplicas: 3, observedGeneration: 2 } }, 'application/merge-patch+json').expect(200);
    assert.equal(status.body.metadata.generation, 2);
    assert.equal(status.body.status.readyReplicas, 2);
    // The main resource ignores status.
    const ignored = await json(t.call('patch', `${NS}/deployments/web`), { status: { readyReplicas: 0 } }, 'application/merge-patch+json').expect(200);
    assert.equal(ignored.body.status.readyReplicas, 2);
  });

  test('Table columns as kubectl get deploy shows them', async () => {
    const res = await t.call('get', `${NS}/deployments`).set('Accept', TABLE).expect(200);
    assert.deepEqual(res.body.columnDefinitions.map((c: { name: string }) => c.name),
      ['Name', 'Ready', 'Up-to-date', 'Available', 'Age', 'Containers', 'Images', 'Selector']);
    const row = res.body.rows.find((r: { cells: unknown[] }) => r.cells[0] === 'web');
    assert.deepEqual(row.cells.slice(0, 4), ['web', '2/3', 3, 2]);
    assert.deepEqual(row.cells.slice(5), ['nginx', 'nginx:1.28', 'app=web']);
  });

  test('scale subresource: GET, merge PATCH (kubectl scale), PUT with a stale resourceVersion', async () => {
    const scale = await t.call('get', `${NS}/deployments/web/scale`).expect(200);
    assert.equal(scale.body.kind, 'Scale');
    assert.equal(scale.body.apiVersion, 'autoscaling/v1');
    assert.deepEqual(scale.body.spec, { replicas: 3 });
    assert.deepEqual(scale.body.status, { replicas: 3, selector: 'app=web' });
    const patched = await json(t.call('patch', `${NS}/deployments/web/scale`), { spec: { replicas: 5 } }, 'application/merge-patch+json').expect(200);
    assert.equal(patched.body.spec.replicas, 5);
    const stored = await t.call('get', `${NS}/deployments/web`).expect(200);
    assert.equal(stored.body.spec.replicas, 5);
    await json(t.call('put', `${NS}/deployments/web/scale`), { ...scale.body, spec: { replicas: 1 } }).expect(409);
    const negative = await json(t.call('put', `${NS}/deployments/web/scale`), { kind: 'Scale', apiVersion: 'autoscaling/v1', metadata: { name: 'web' }, spec: { replicas: -2 } }).expect(422);
    assert.match(negative.body.message, /Scale.autoscaling "web" is invalid: spec.replicas: Invalid value: -2: must be greater than or equal to 0/);
  });

  test('field selectors: metadata.name works, unknown fields are refused', async () => {
    const res = await t.call('get', `${NS}/deployments?fieldSelector=metadata.name%3Dweb`).expect(200);
    assert.equal(res.body.items.length, 1);
    const bad = await t.call('get', `${NS}/deployments?fieldSelector=spec.replicas%3D3`).expect(400);
    assert.match(bad.body.message, /"spec.replicas" is not a known field selector/);
  });

  test('a protobuf body (as kubectl create deployment sends) keeps replicas: 0', async () => {
    const root = kubernetesProtoRoot();
    const type = root.lookupType('k8s.io.api.apps.v1.Deployment');
    const raw = type.encode(type.fromObject({
      metadata: { name: 'proto' },
      spec: {
        replicas: 0, selector: { matchLabels: { app: 'proto' } },
        template: { metadata: { labels: { app: 'proto' } }, spec: { containers: [{ name: 'nginx', image: 'nginx' }] } },
        strategy: {},
      },
    })).finish();
    const unknownType = root.lookupType('k8s.io.apimachinery.pkg.runtime.Unknown');
    const envelope = unknownType.encode(unknownType.create({ typeMeta: { apiVersion: 'apps/v1', kind: 'Deployment' }, raw, contentEncoding: '', contentType: '' })).finish();
    const res = await t.call('post', `${NS}/deployments`).set('Content-Type', 'application/vnd.kubernetes.protobuf')
      .send(Buffer.concat([PROTOBUF_MAGIC, envelope])).expect(201);
    assert.equal(res.body.spec.replicas, 0);
    assert.equal(res.body.spec.strategy.type, 'RollingUpdate');
  });
});

describe('replicasets, statefulsets, daemonsets, controllerrevisions', () => {
  test('replicaset: defaults, Table, scale', async () => {
    const rs = { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'front' }, spec: { selector: { matchLabels: { tier: 'front' } }, template: template({ tier: 'front' }) } };
    const res = await json(t.call('post', `${NS}/replicasets`), rs).expect(201);
    assert.equal(res.body.spec.replicas, 1);
    const table = await t.call('get', `${NS}/replicasets/front`).set('Accept', TABLE).expect(200);
    assert.deepEqual(table.body.columnDefinitions.map((c: { name: string }) => c.name), ['Name', 'Desired', 'Current', 'Ready', 'Age', 'Containers', 'Images', 'Selector']);
    await json(t.call('patch', `${NS}/replicasets/front/scale`), { spec: { replicas: 4 } }, 'application/merge-patch+json').expect(200);
    const scaled = await t.call('get', `${NS}/replicasets/front`).expect(200);
    assert.equal(scaled.body.spec.replicas, 4);
    const empty = await json(t.call('post', `${NS}/replicasets`), { ...rs, metadata: { name: 'empty' }, spec: { selector: {}, template: template({ tier: 'front' }) } }).expect(422);
    assert.match(empty.body.message, /spec\.selector: Invalid value: v1\.LabelSelector\{MatchLabels:map\[string\]string\(nil\), MatchExpressions:\[\]v1\.LabelSelectorRequirement\(nil\)\}: empty selector is invalid for replicaset/);
  });

  test('statefulset: defaults (OrderedReady, RollingUpdate partition 0), forbidden spec updates, Table', async () => {
    const sts = { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'db' }, spec: { serviceName: 'db', selector: { matchLabels: { app: 'db' } }, template: template({ app: 'db' }) } };
    const res = await json(t.call('post', `${NS}/statefulsets`), sts).expect(201);
    assert.equal(res.body.spec.podManagementPolicy, 'OrderedReady');
    assert.deepEqual(res.body.spec.updateStrategy, { type: 'RollingUpdate', rollingUpdate: { partition: 0 } });
    assert.equal(res.body.spec.replicas, 1);
    assert.deepEqual(res.body.spec.persistentVolumeClaimRetentionPolicy, { whenDeleted: 'Retain', whenScaled: 'Retain' });
    const bad = await json(t.call('patch', `${NS}/statefulsets/db`), { spec: { serviceName: 'other' } }, 'application/merge-patch+json').expect(422);
    assert.match(bad.body.message, /spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden/);
    const table = await t.call('get', `${NS}/statefulsets`).set('Accept', TABLE).expect(200);
    assert.deepEqual(table.body.columnDefinitions.map((c: { name: string }) => c.name), ['Name', 'Ready', 'Age', 'Containers', 'Images']);
    assert.deepEqual(table.body.rows[0].cells.slice(0, 2), ['db', '0/1']);
  });

  test('daemonset: defaults (RollingUpdate maxUnavailable 1, maxSurge 0) and Table', async () => {
    const ds = { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'agent' }, spec: { selector: { matchLabels: { app: 'agent' } }, template: template({ app: 'agent' }, { nodeSelector: { disk: 'ssd' } }) } };
    const res = await json(t.call('post', `${NS}/daemonsets`), ds).expect(201);
    assert.deepEqual(res.body.spec.updateStrategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } });
    const table = await t.call('get', `${NS}/daemonsets`).set('Accept', TABLE).expect(200);
    assert.deepEqual(table.body.columnDefinitions.map((c: { name: string }) => c.name),
      ['Name', 'Desired', 'Current', 'Ready', 'Up-to-date', 'Available', 'Node Selector', 'Age', 'Containers', 'Images', 'Selector']);
    assert.equal(table.body.rows[0].cells[6], 'disk=ssd');
  });

  test('controllerrevision: data is immutable; Table shows the controller', async () => {
    const revision = {
      apiVersion: 'apps/v1', kind: 'ControllerRevision',
      metadata: { name: 'db-1', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'db', uid: 'u1', controller: true }] },
      data: { spec: { template: {} } }, revision: 1,
    };
    await json(t.call('post', `${NS}/controllerrevisions`), revision).expect(201);
    const res = await json(t.call('patch', `${NS}/controllerrevisions/db-1`), { data: { spec: { x: 1 } } }, 'application/merge-patch+json').expect(422);
    assert.match(res.body.message, /data: Invalid value: "": field is immutable/);
    const table = await t.call('get', `${NS}/controllerrevisions`).set('Accept', TABLE).expect(200);
    assert.deepEqual(table.body.rows[0].cells.slice(0, 3), ['db-1', 'statefulset.apps/db', 1]);
  });
});

describe('jobs and cronjobs', () => {
  test('job /status keeps label and annotation changes (jobStatusStrategy resets only the spec); a deployment\'s does not', async () => {
    await json(t.call('post', `${BATCH}/jobs`), { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'status-meta' }, spec: { suspend: true, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } } }).expect(201);
    const patched = await json(t.call('patch', `${BATCH}/jobs/status-meta/status`), { metadata: { annotations: { patchedstatus: 'true' } }, status: { active: 0 } }, 'application/merge-patch+json').expect(200);
    assert.equal(patched.body.metadata.annotations.patchedstatus, 'true');
    await json(t.call('post', `${NS}/deployments`), deployment('status-meta')).expect(201);
    const ignored = await json(t.call('patch', `${NS}/deployments/status-meta/status`), { metadata: { annotations: { patchedstatus: 'true' } }, status: { replicas: 0 } }, 'application/merge-patch+json').expect(200);
    assert.equal(ignored.body.metadata.annotations?.patchedstatus, undefined);
    await t.call('delete', `${BATCH}/jobs/status-meta?propagationPolicy=Background`).expect(200);
    await t.call('delete', `${NS}/deployments/status-meta`).expect(200);
  });

  test('job: generated selector and labels, defaults, Table, field selector status.successful', async () => {
    const job = { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'pi' }, spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'pi', image: 'perl' }] } } } };
    const res = await json(t.call('post', `${BATCH}/jobs`), job).expect(201);
    const uid = res.body.metadata.uid;
    assert.deepEqual(res.body.spec.selector, { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } });
    assert.deepEqual(res.body.spec.template.metadata.labels, {
      'batch.kubernetes.io/controller-uid': uid, 'batch.kubernetes.io/job-name': 'pi', 'controller-uid': uid, 'job-name': 'pi',
    });
    for (const [key, value] of Object.entries({ completions: 1, parallelism: 1, backoffLimit: 6, completionMode: 'NonIndexed', suspend: false, manualSelector: false, podReplacementPolicy: 'TerminatingOrFailed' })) {
      assert.deepEqual(res.body.spec[key], value, key);
    }
    const table = await t.call('get', `${BATCH}/jobs`).set('Accept', TABLE).expect(200);
    assert.deepEqual(table.body.columnDefinitions.map((c: { name: string }) => c.name), ['Name', 'Status', 'Completions', 'Duration', 'Age', 'Containers', 'Images', 'Selector']);
    assert.deepEqual(table.body.rows[0].cells.slice(0, 4), ['pi', 'Running', '0/1', '']);
    const selected = await t.call('get', `${BATCH}/jobs?fieldSelector=status.successful%3D0`).expect(200);
    assert.equal(selected.body.items.length, 1);
    const none = await t.call('get', `${BATCH}/jobs?fieldSelector=status.successful%3D1`).expect(200);
    assert.equal(none.body.items.length, 0);
  });

  test('job rejections: completions < 0, restartPolicy Always, immutable template', async () => {
    const job = (spec: Record<string, unknown>, name = 'bad') => ({ apiVersion: 'batch/v1', kind: 'Job', metadata: { name }, spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } }, ...spec } });
    let res = await json(t.call('post', `${BATCH}/jobs`), job({ completions: -1 })).expect(422);
    assert.match(res.body.message, /spec\.completions: Invalid value: -1: must be greater than or equal to 0/);
    res = await json(t.call('post', `${BATCH}/jobs`), job({ template: { spec: { containers: [{ name: 'c', image: 'busybox' }] } } })).expect(422);
    assert.match(res.body.message, /spec\.template\.spec\.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"/);
    await t.call('get', `${BATCH}/jobs/bad`).expect(404);
    res = await json(t.call('patch', `${BATCH}/jobs/pi`), { spec: { template: { spec: { containers: [{ name: 'pi', image: 'perl:2' }] } } } }, 'application/strategic-merge-patch+json').expect(422);
    assert.match(res.body.message, /spec\.template: Invalid value: .*field is immutable/);
  });

  test('cronjob: defaults, schedule wording, Table', async () => {
    const cj = (schedule: string, name = 'tick') => ({
      apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name },
      spec: { schedule, jobTemplate: { spec: { template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'c', image: 'busybox' }] } } } } },
    });
    const res = await json(t.call('post', `${BATCH}/cronjobs`), cj('*/1 * * * *')).expect(201);
    assert.equal(res.body.spec.concurrencyPolicy, 'Allow');
    assert.equal(res.body.spec.successfulJobsHistoryLimit, 3);
    assert.equal(res.body.spec.failedJobsHistoryLimit, 1);
    assert.equal(res.body.spec.suspend, false);
    let bad = await json(t.call('post', `${BATCH}/cronjobs`), cj('*/x * * * *', 'bad')).expect(422);
    assert.equal(bad.body.message, 'CronJob.batch "bad" is invalid: spec.schedule: Invalid value: "*/x * * * *": failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax');
    bad = await json(t.call('post', `${BATCH}/cronjobs`), cj('* * *', 'bad')).expect(422);
    assert.match(bad.body.message, /spec\.schedule: Invalid value: "\* \* \*": expected exactly 5 fields, found 3: \[\* \* \*\]/);
    bad = await json(t.call('post', `${BATCH}/cronjobs`), cj('0 24 * * *', 'bad')).expect(422);
    assert.match(bad.body.message, /end of range \(24\) above maximum \(23\): 24/);
    await json(t.call('post', `${BATCH}/cronjobs`), cj('@hourly', 'hourly')).expect(201);
    await json(t.call('post', `${BATCH}/cronjobs`), { ...cj('0 9 * * mon-fri', 'tz'), spec: { ...cj('0 9 * * mon-fri').spec, timeZone: 'Europe/Paris' } }).expect(201);
    bad = await json(t.call('post', `${BATCH}/cronjobs`), { ...cj('0 9 * * *', 'badtz'), spec: { ...cj('0 9 * * *').spec, timeZone: 'Mars/Olympus' } }).expect(422);
    assert.match(bad.body.message, /spec\.timeZone: Invalid value: "Mars\/Olympus": unknown time zone Mars\/Olympus/);
    const table = await t.call('get', `${BATCH}/cronjobs/tz`).set('Accept', TABLE).expect(200);
    assert.deepEqual(table.body.columnDefinitions.map((c: { name: string }) => c.name),
      ['Name', 'Schedule', 'Timezone', 'Suspend', 'Active', 'Last Schedule', 'Age', 'Containers', 'Images', 'Selector']);
    assert.deepEqual(table.body.rows[0].cells.slice(0, 6), ['tz', '0 9 * * mon-fri', 'Europe/Paris', 'False', 0, '<none>']);
  });
});

describe('replicationcontrollers', () => {
  test('the selector and labels default to the template labels; scale; field selector status.replicas', async () => {
    const rc = { apiVersion: 'v1', kind: 'ReplicationController', metadata: { name: 'legacy' }, spec: { replicas: 2, template: template({ app: 'legacy' }) } };
    const res = await json(t.call('post', `${CORE}/replicationcontrollers`), rc).expect(201);
    assert.deepEqual(res.body.spec.selector, { app: 'legacy' });
    assert.deepEqual(res.body.metadata.labels, { app: 'legacy' });
    const scale = await t.call('get', `${CORE}/replicationcontrollers/legacy/scale`).expect(200);
    assert.deepEqual(scale.body.status, { replicas: 0, selector: 'app=legacy' });
    const selected = await t.call('get', `${CORE}/replicationcontrollers?fieldSelector=status.replicas%3D0`).expect(200);
    assert.equal(selected.body.items.length, 1);
    const table = await t.call('get', `${CORE}/replicationcontrollers`).set('Accept', TABLE).expect(200);
    assert.deepEqual(table.body.rows[0].cells.slice(0, 4), ['legacy', 2, 0, 0]);
    assert.equal(table.body.rows[0].cells[7], 'app=legacy');
  });
});

describe('poddisruptionbudgets and evictions', () => {
  test('PDB Table, both minAvailable and maxUnavailable refused', async () => {
    await json(t.call('post', `${POLICY}/poddisruptionbudgets`), { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'guard' }, spec: { minAvailable: 1, selector: { matchLabels: { app: 'guarded' } } } }).expect(201);
    const table = await t.call('get', `${POLICY}/poddisruptionbudgets`).set('Accept', TABLE).expect(200);
    assert.deepEqual(table.body.columnDefinitions.map((c: { name: string }) => c.name), ['Name', 'Min Available', 'Max Unavailable', 'Allowed Disruptions', 'Age']);
    assert.deepEqual(table.body.rows[0].cells.slice(0, 4), ['guard', '1', 'N/A', 0]);
    const bad = await json(t.call('post', `${POLICY}/poddisruptionbudgets`), { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'both' }, spec: { minAvailable: 1, maxUnavailable: 1, selector: { matchLabels: { a: 'b' } } } }).expect(422);
    assert.match(bad.body.message, /minAvailable and maxUnavailable cannot be both set/);
  });

  test('an eviction a budget forbids is a 429 with upstream wording; an allowed one deletes the pod', async () => {
    const pod = podManifest('guarded-1', { labels: { app: 'guarded' } });
    await json(t.call('post', `${CORE}/pods`), pod).expect(201);
    // Running and ready, so the budget applies (a Pending pod is evicted regardless).
    await json(t.call('patch', `${CORE}/pods/guarded-1/status`), { status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } }, 'application/merge-patch+json').expect(200);
    const pdbStatus = { observedGeneration: 1, disruptionsAllowed: 0, currentHealthy: 1, desiredHealthy: 1, expectedPods: 1 };
    await json(t.call('patch', `${POLICY}/poddisruptionbudgets/guard/status`), { status: pdbStatus }, 'application/merge-patch+json').expect(200);
    const eviction = { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'guarded-1', namespace: 'default' } };
    const refused = await json(t.call('post', `${CORE}/pods/guarded-1/eviction`), eviction).expect(429);
    assert.equal(refused.body.message, "Cannot evict pod as it would violate the pod's disruption budget.");
    assert.equal(refused.body.reason, 'TooManyRequests');
    assert.deepEqual(refused.body.details.causes, [{ reason: 'DisruptionBudget', message: 'The disruption budget guard needs 1 healthy pods and has 1 currently' }]);
    await t.call('get', `${CORE}/pods/guarded-1`).expect(200);

    await json(t.call('patch', `${POLICY}/poddisruptionbudgets/guard/status`), { status: { ...pdbStatus, disruptionsAllowed: 1, currentHealthy: 2 } }, 'application/merge-patch+json').expect(200);
    const allowed = await json(t.call('post', `${CORE}/pods/guarded-1/eviction`), eviction).expect(201);
    assert.equal(allowed.body.status, 'Success');
    await t.call('get', `${CORE}/pods/guarded-1`).expect(404);
    const pdb = await t.call('get', `${POLICY}/poddisruptionbudgets/guard`).expect(200);
    assert.equal(pdb.body.status.disruptionsAllowed, 0);
    assert.ok(pdb.body.status.disruptedPods['guarded-1']);
    // A bound pod is deleted gracefully: until its kubelet confirms, it shows the DisruptionTarget condition.
    await json(t.call('post', `${CORE}/pods`), podManifest('bound-1', { spec: { nodeName: 'node-x' } })).expect(201);
    await json(t.call('post', `${CORE}/pods/bound-1/eviction`), { ...eviction, metadata: { name: 'bound-1', namespace: 'default' } }).expect(201);
    const evicted = await t.call('get', `${CORE}/pods/bound-1`).expect(200);
    assert.ok(evicted.body.metadata.deletionTimestamp);
    const target = (evicted.body.status.conditions as { type: string }[]).find((c) => c.type === 'DisruptionTarget');
    assert.deepEqual({ ...target, lastTransitionTime: undefined }, {
      type: 'DisruptionTarget', status: 'True', reason: 'EvictionByEvictionAPI', message: 'Eviction API: evicting', lastTransitionTime: undefined,
    });
    const mismatch = await json(t.call('post', `${CORE}/pods/other/eviction`), eviction).expect(400);
    assert.equal(mismatch.body.message, 'name in URL does not match name in Eviction object');
  });
});

describe('deletion with propagationPolicy (the garbage collector finishes the job)', () => {
  const rs = (name: string) => ({ apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name }, spec: { replicas: 0, selector: { matchLabels: { gc: name } }, template: template({ gc: name }) } });

  test('Foreground and Orphan keep the object with a finalizer and a deletionTimestamp; Background removes it', async () => {
    await json(t.call('post', `${NS}/replicasets`), rs('fg')).expect(201);
    const fg = await json(t.call('delete', `${NS}/replicasets/fg`), { propagationPolicy: 'Foreground' }).expect(200);
    assert.deepEqual(fg.body.metadata.finalizers, ['foregroundDeletion']);
    assert.ok(fg.body.metadata.deletionTimestamp);
    assert.equal(fg.body.metadata.deletionGracePeriodSeconds, 0);
    // A second delete does not change the pending deletion's finalizers.
    const again = await json(t.call('delete', `${NS}/replicasets/fg`), { propagationPolicy: 'Orphan' }).expect(200);
    assert.deepEqual(again.body.metadata.finalizers, ['foregroundDeletion']);

    await json(t.call('post', `${NS}/replicasets`), rs('orph')).expect(201);
    const orphan = await t.call('delete', `${NS}/replicasets/orph?propagationPolicy=Orphan`).expect(200);
    assert.deepEqual(orphan.body.metadata.finalizers, ['orphan']);

    await json(t.call('post', `${NS}/replicasets`), rs('bg')).expect(201);
    const bg = await json(t.call('delete', `${NS}/replicasets/bg`), { propagationPolicy: 'Background' }).expect(200);
    assert.equal(bg.body.status, 'Success');
    await t.call('get', `${NS}/replicasets/bg`).expect(404);

    // Removing the finalizer completes the deletion.
    const released = await json(t.call('patch', `${NS}/replicasets/fg`), { metadata: { finalizers: null } }, 'application/merge-patch+json');
    assert.equal(released.status, 200, released.text);
    await t.call('get', `${NS}/replicasets/fg`).expect(404);
  });

  test('a batch/v1 Job deleted without a policy orphans its pods, as upstream keeps for that API', async () => {
    const job = { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'orphaning' }, spec: { suspend: true, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } } };
    await json(t.call('post', `${BATCH}/jobs`), job).expect(201);
    const res = await t.call('delete', `${BATCH}/jobs/orphaning`).expect(200);
    assert.deepEqual(res.body.metadata.finalizers, ['orphan']);
  });
});
