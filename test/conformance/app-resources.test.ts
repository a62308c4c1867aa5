// Conformance entries for ConfigMaps, Secrets, ServiceAccounts, Services, Endpoints/EndpointSlices,
// LimitRange, ResourceQuota and PodTemplates that the API server and its controllers answer, each checking
// what the entry's description says against a running server (with the service-account, endpoints and
// EndpointSlice controllers running as in `kubefacade up`). Entries that need pods to consume ConfigMaps
// and Secrets (env, volumes) or the quota controller are not here yet.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runResourceQuotaController, type RunningResourceQuotaController } from '../../controllers/resource-quota.ts';
import { runServiceAccountController, type RunningServiceAccountController } from '../../controllers/service-account.ts';
import { runServiceEndpointControllers, type RunningServiceEndpointControllers } from '../../controllers/service-endpoints.ts';
import { writeComponentKubeconfigs } from '../../server/component-credentials.ts';
import { json, startTestServer, type TestServer } from '../helpers/api-server.ts';
import { openWatch } from '../helpers/watch-client.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const NS = '/api/v1/namespaces/default';
const quiet = { info: () => undefined, warn: () => undefined };

describe('conformance: application resources', () => {
  let t: TestServer;
  let dir: string;
  let serviceAccounts: RunningServiceAccountController;
  let endpoints: RunningServiceEndpointControllers;
  let quotas: RunningResourceQuotaController;
  before(async () => {
    t = await startTestServer('conformance-app', { disableAdmissionPlugins: [] });
    dir = await mkdtemp(join(tmpdir(), 'kubefacade-conformance-app-'));
    const kubeconfigs = await writeComponentKubeconfigs(dir, t.url, t.server.credentials, []);
    serviceAccounts = await runServiceAccountController({ kubeconfigPath: kubeconfigs.controllerManager, caCertPem: t.server.caCertPem, logger: quiet });
    endpoints = await runServiceEndpointControllers({ kubeconfigPath: kubeconfigs.controllerManager, logger: quiet });
    quotas = await runResourceQuotaController({ kubeconfigPath: kubeconfigs.controllerManager, logger: quiet });
  });
  after(async () => {
    await quotas.stop();
    await endpoints.stop();
    await serviceAccounts.stop();
    await t.close();
    await rm(dir, { recursive: true, force: true });
  });

  const api = async (method: 'get' | 'post' | 'put' | 'patch' | 'delete', path: string, body?: unknown, expect = method === 'post' ? 201 : 200, contentType?: string): Promise<Json> => {
    const req = t.call(method, path);
    const res = body === undefined ? await req : await json(req, body, contentType ?? (method === 'patch' ? 'application/merge-patch+json' : 'application/json'));
    assert.equal(res.status, expect, `${method} ${path}: ${res.text}`);
    return res.body as Json;
  };
  const until = async <T>(what: string, probe: () => Promise<T | undefined>): Promise<T> => {
    for (let i = 0; i < 200; i++) {
      const value = await probe();
      if (value !== undefined) return value;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`timed out waiting for ${what}`);
  };
  const names = (list: Json) => (list.items as Json[]).map((i) => i.metadata.name as string).sort();

  test('ConfigMap, with empty-key', async () => {
    const res = await api('post', `${NS}/configmaps`, { metadata: { name: 'empty-key' }, data: { '': 'value' } }, 422);
    assert.match(res.message, /data\[\]: Invalid value: "": a valid config key must consist of alphanumeric characters/);
  });

  test('ConfigMap lifecycle', async () => {
    await api('post', `${NS}/configmaps`, { metadata: { name: 'cm-life', labels: { 'test-configmap-static': 'true' } }, data: { valueName: 'value' } });
    await api('patch', `${NS}/configmaps/cm-life`, { metadata: { labels: { 'test-configmap': 'patched' } }, data: { valueName: 'value1' } });
    const got = await api('get', `${NS}/configmaps/cm-life`);
    assert.deepEqual([got.metadata.labels['test-configmap'], got.data.valueName], ['patched', 'value1']);
    const listed = await api('get', '/api/v1/configmaps?labelSelector=test-configmap-static=true');
    assert.deepEqual(names(listed), ['cm-life']);
    assert.equal(listed.items[0].data.valueName, 'value1');
    await api('delete', `${NS}/configmaps?labelSelector=test-configmap-static=true`);
    assert.deepEqual(names(await api('get', '/api/v1/configmaps?labelSelector=test-configmap-static=true')), []);
  });

  test('Secrets, with empty-key', async () => {
    const res = await api('post', `${NS}/secrets`, { metadata: { name: 'empty-key' }, data: { '': Buffer.from('value-1').toString('base64') } }, 422);
    assert.match(res.message, /data\[\]: Invalid value: ""/);
  });

  test('Secret patching', async () => {
    await api('post', `${NS}/secrets`, { metadata: { name: 'secret-patch', labels: { testsecret: 'true' } }, data: { key: Buffer.from('value').toString('base64') } });
    assert.deepEqual(names(await api('get', '/api/v1/secrets?labelSelector=testsecret=true')), ['secret-patch']);
    const patchedData = Buffer.from('value1').toString('base64');
    await api('patch', `${NS}/secrets/secret-patch`, { metadata: { labels: { testsecret: 'true', 'testsecret-constant': 'true' } }, data: { key: patchedData } });
    const got = await api('get', `${NS}/secrets/secret-patch`);
    assert.deepEqual([got.data.key, got.metadata.labels['testsecret-constant']], [patchedData, 'true']);
    await api('delete', `${NS}/secrets?labelSelector=testsecret-constant=true`);
    assert.deepEqual(names(await api('get', '/api/v1/secrets?labelSelector=testsecret=true')), []);
  });

  test('ServiceAccount lifecycle test', async () => {
    const list = await api('get', `${NS}/serviceaccounts`);
    const watch = await openWatch(t, `${NS}/serviceaccounts?watch=true&labelSelector=test-serviceaccount-static=true&resourceVersion=${list.metadata.resourceVersion}`);
    try {
      await api('post', `${NS}/serviceaccounts`, { metadata: { name: 'sa-life', labels: { 'test-serviceaccount-static': 'true' } } });
      const added = await watch.next();
      assert.deepEqual([added.type, added.object.metadata?.name], ['ADDED', 'sa-life']);
      const patched = await api('patch', `${NS}/serviceaccounts/sa-life`, { automountServiceAccountToken: false });
      assert.equal(patched.automountServiceAccountToken, false);
      const listed = await api('get', '/api/v1/serviceaccounts?labelSelector=test-serviceaccount-static=true');
      assert.equal(listed.items[0].automountServiceAccountToken, false);
      await api('delete', `${NS}/serviceaccounts?labelSelector=test-serviceaccount-static=true`);
      const events = [await watch.next(), await watch.next()];
      assert.deepEqual(events.map((e) => e.type), ['MODIFIED', 'DELETED']);
    } finally {
      watch.close();
    }
  });

  test('ServiceAccount, update a ServiceAccount', async () => {
    const created = await api('post', `${NS}/serviceaccounts`, { metadata: { name: 'sa-update' } });
    const updated = await api('put', `${NS}/serviceaccounts/sa-update`, { ...created, automountServiceAccountToken: true });
    assert.equal(updated.automountServiceAccountToken, true);
    assert.equal((await api('get', `${NS}/serviceaccounts/sa-update`)).automountServiceAccountToken, true);
  });

  test('RootCA ConfigMap test', async () => {
    await api('post', '/api/v1/namespaces', { metadata: { name: 'root-ca' } });
    const path = '/api/v1/namespaces/root-ca/configmaps/kube-root-ca.crt';
    const present = () => until('kube-root-ca.crt', async () => {
      const res = await t.call('get', path);
      return res.status === 200 && res.body.data['ca.crt'] === t.server.caCertPem ? res.body as Json : undefined;
    });
    const first = await present();
    await api('delete', path);
    const recreated = await present();
    assert.notEqual(recreated.metadata.uid, first.metadata.uid);
    await api('patch', path, { data: { 'ca.crt': 'modified' } });
    await present();
  });

  const template = (name: string, labels: Record<string, string>) => ({
    metadata: { name, labels }, template: { spec: { containers: [{ name: 'token-test', image: 'registry.k8s.io/e2e-test-images/agnhost:2.52' }] } },
  });

  test('PodTemplate, delete a collection', async () => {
    for (const name of ['podtemplate-1', 'podtemplate-2', 'podtemplate-3']) await api('post', `${NS}/podtemplates`, template(name, { podtemplate: 'set' }));
    assert.equal((await api('get', `${NS}/podtemplates?labelSelector=podtemplate=set`)).items.length, 3);
    await api('delete', `${NS}/podtemplates?labelSelector=podtemplate=set`);
    assert.equal((await api('get', `${NS}/podtemplates?labelSelector=podtemplate=set`)).items.length, 0);
  });

  test('PodTemplate, replace', async () => {
    const created = await api('post', `${NS}/podtemplates`, template('podtemplate-replace', {}));
    await api('put', `${NS}/podtemplates/podtemplate-replace`, { ...created, metadata: { ...created.metadata, annotations: { updated: 'true' } } });
    assert.equal((await api('get', `${NS}/podtemplates/podtemplate-replace`)).metadata.annotations.updated, 'true');
  });

  test('PodTemplate lifecycle', async () => {
    await api('post', `${NS}/podtemplates`, template('podtemplate-life', { 'podtemplate-static': 'true' }));
    await api('patch', `${NS}/podtemplates/podtemplate-life`, { metadata: { labels: { podtemplate: 'patched' } } });
    const listed = await api('get', `${NS}/podtemplates?labelSelector=podtemplate-static=true`);
    assert.deepEqual([names(listed), listed.items[0].metadata.labels.podtemplate], [['podtemplate-life'], 'patched']);
    await api('delete', `${NS}/podtemplates/podtemplate-life`);
    await api('get', `${NS}/podtemplates/podtemplate-life`, undefined, 404);
  });

  test('LimitRange, resources', async () => {
    await api('post', '/api/v1/namespaces', { metadata: { name: 'limitrange-resources' } });
    const path = '/api/v1/namespaces/limitrange-resources';
    const created = await api('post', `${path}/limitranges`, { metadata: { name: 'limit-range' }, spec: { limits: [{
      type: 'Container', min: { cpu: '100m', memory: '10Mi' }, max: { cpu: '500m', memory: '500Mi' },
      defaultRequest: { cpu: '100m', memory: '200Mi' }, default: { cpu: '500m', memory: '500Mi' }, maxLimitRequestRatio: { cpu: '5' },
    }] } });
    assert.deepEqual(created.spec.limits[0].defaultRequest, { cpu: '100m', memory: '200Mi' });
    // A pod without resources gets the defaults.
    const plain = await api('post', `${path}/pods`, { metadata: { name: 'pod-no-resources' }, spec: { containers: [{ name: 'pause', image: 'registry.k8s.io/pause:3.10' }] } });
    assert.deepEqual(plain.spec.containers[0].resources, { limits: { cpu: '500m', memory: '500Mi' }, requests: { cpu: '100m', memory: '200Mi' } });
    // Partial requests keep theirs and get the rest.
    const partial = await api('post', `${path}/pods`, { metadata: { name: 'pod-partial-resources' }, spec: { containers: [{ name: 'pause', image: 'registry.k8s.io/pause:3.10', resources: { requests: { cpu: '300m' }, limits: { cpu: '300m' } } }] } });
    assert.deepEqual(partial.spec.containers[0].resources, { limits: { cpu: '300m', memory: '500Mi' }, requests: { cpu: '300m', memory: '200Mi' } });
    // Beyond max: refused (the defaulted 500m limit makes the 600m request invalid before LimitRanger's check, as upstream).
    await api('post', `${path}/pods`, { metadata: { name: 'pod-too-big' }, spec: { containers: [{ name: 'pause', image: 'registry.k8s.io/pause:3.10', resources: { requests: { cpu: '600m', memory: '600Mi' } } }] } }, 422);
    // Updated range: new pods follow it.
    await api('patch', `${path}/limitranges/limit-range`, { spec: { limits: [{ type: 'Container', min: { cpu: '100m', memory: '10Mi' }, max: { cpu: '800m', memory: '800Mi' }, defaultRequest: { cpu: '100m', memory: '200Mi' }, default: { cpu: '800m', memory: '800Mi' } }] } });
    await api('post', `${path}/pods`, { metadata: { name: 'pod-now-fits' }, spec: { containers: [{ name: 'pause', image: 'registry.k8s.io/pause:3.10', resources: { requests: { cpu: '600m', memory: '600Mi' } } }] } });
    await api('delete', `${path}/limitranges/limit-range`);
    await api('post', `${path}/pods`, { metadata: { name: 'pod-unbounded' }, spec: { containers: [{ name: 'pause', image: 'registry.k8s.io/pause:3.10', resources: { requests: { cpu: '2' } } }] } });
  });

  test('LimitRange, list, patch and delete a LimitRange by collection', async () => {
    await api('post', '/api/v1/namespaces', { metadata: { name: 'limits-b' } });
    const limitRange = (name: string) => ({ metadata: { name, labels: { 'e2e-limitrange': 'set' } }, spec: { limits: [{ type: 'Container', default: { cpu: '500m' }, defaultRequest: { cpu: '100m' } }] } });
    await api('post', `${NS}/limitranges`, limitRange('limits-a'));
    await api('post', '/api/v1/namespaces/limits-b/limitranges', limitRange('limits-b'));
    assert.equal((await api('get', '/api/v1/limitranges?labelSelector=e2e-limitrange=set')).items.length, 2);
    const patched = await api('patch', `${NS}/limitranges/limits-a`, { metadata: { labels: { patched: 'true' } }, spec: { limits: [{ type: 'Container', default: { cpu: '1' }, defaultRequest: { cpu: '200m' } }] } });
    assert.deepEqual([patched.metadata.labels.patched, patched.spec.limits[0].default.cpu], ['true', '1']);
    await api('delete', `${NS}/limitranges?labelSelector=e2e-limitrange=set`);
    assert.deepEqual(names(await api('get', '/api/v1/limitranges?labelSelector=e2e-limitrange=set')), ['limits-b']);
  });

  const quota = (name: string, labels: Record<string, string> = {}) => ({ metadata: { name, labels }, spec: { hard: { cpu: '500m', memory: '500Mi' } } });

  test('ResourceQuota, apply changes to a ResourceQuota status', async () => {
    await api('post', `${NS}/resourcequotas`, quota('quota-status'));
    const status = await until('the status update', async () => {
      const current = await api('get', `${NS}/resourcequotas/quota-status`);
      const res = await json(t.call('put', `${NS}/resourcequotas/quota-status/status`), { ...current, status: { hard: { cpu: '500m', memory: '500Mi' } } });
      return res.status === 200 ? res.body as Json : undefined;
    });
    assert.deepEqual(status.status.hard, status.spec.hard);
    await api('patch', `${NS}/resourcequotas/quota-status`, { spec: { hard: { cpu: '1', memory: '1Gi' } } });
    const patched = await api('patch', `${NS}/resourcequotas/quota-status/status`, { status: { hard: { cpu: '1', memory: '1Gi' } } });
    assert.deepEqual(patched.status.hard, patched.spec.hard);
    assert.deepEqual((await api('get', `${NS}/resourcequotas/quota-status/status`)).status.hard, { cpu: '1', memory: '1Gi' });
  });

  test('ResourceQuota, update and delete', async () => {
    await api('post', `${NS}/resourcequotas`, quota('quota-update'));
    // The quota controller writes the status meanwhile: get and update until no conflict, as clients do.
    const updated = await until('the update', async () => {
      const current = await api('get', `${NS}/resourcequotas/quota-update`);
      const res = await json(t.call('put', `${NS}/resourcequotas/quota-update`), { ...current, spec: { hard: { cpu: '1', memory: '1Gi' } } });
      return res.status === 200 ? res.body as Json : undefined;
    });
    assert.deepEqual(updated.spec.hard, { cpu: '1', memory: '1Gi' });
    await api('delete', `${NS}/resourcequotas/quota-update`);
    await api('get', `${NS}/resourcequotas/quota-update`, undefined, 404);
  });

  test('ResourceQuota, manage lifecycle of a ResourceQuota', async () => {
    await api('post', `${NS}/resourcequotas`, quota('quota-life', { 'e2e-rq-label': 'quota-life' }));
    assert.equal((await api('get', '/api/v1/resourcequotas?labelSelector=e2e-rq-label=quota-life')).items.length, 1);
    const patched = await api('patch', `${NS}/resourcequotas/quota-life`, { metadata: { labels: { 'e2e-rq-label': 'quota-life', patched: 'true' } }, spec: { hard: { cpu: '1', memory: '1Gi' } } });
    assert.deepEqual([patched.metadata.labels.patched, patched.spec.hard.cpu], ['true', '1']);
    await api('delete', `${NS}/resourcequotas?labelSelector=e2e-rq-label=quota-life`);
    assert.equal((await api('get', '/api/v1/resourcequotas?labelSelector=e2e-rq-label=quota-life')).items.length, 0);
  });

  // newTestResourceQuota of the e2e suite.
  const HARD = {
    pods: '5', services: '10', 'services.nodeports': '5', 'services.loadbalancers': '2', configmaps: '10', secrets: '10',
    resourcequotas: '1', 'requests.cpu': '1', 'requests.memory': '500Mi', 'limits.cpu': '2', 'limits.memory': '1Gi',
  };
  const countQuota = async (namespace: string): Promise<string> => {
    await api('post', '/api/v1/namespaces', { metadata: { name: namespace } });
    const path = `/api/v1/namespaces/${namespace}`;
    await api('post', `${path}/resourcequotas`, { metadata: { name: 'test-quota' }, spec: { hard: HARD } });
    await usedIs(path, { resourcequotas: '1' });
    return path;
  };
  const usedIs = (path: string, expected: Record<string, string>) => until(`quota usage ${JSON.stringify(expected)}`, async () => {
    const used = (await api('get', `${path}/resourcequotas/test-quota`)).status?.used ?? {};
    return Object.entries(expected).every(([k, v]) => used[k] === v) ? true : undefined;
  });

  test('ResourceQuota, object count quota, resourcequotas', async () => {
    const path = await countQuota('quota-rq');
    const quota = await api('get', `${path}/resourcequotas/test-quota`);
    assert.deepEqual(quota.status.hard, HARD);
    assert.equal(quota.status.used.pods, '0');
  });

  test('ResourceQuota, object count quota, configmap', async () => {
    const path = await countQuota('quota-cm');
    // The root CA publisher's kube-root-ca.crt is there too (upstream's test counts it the same way).
    await until('kube-root-ca.crt', async () => ((await t.call('get', `${path}/configmaps/kube-root-ca.crt`)).status === 200 ? true : undefined));
    await usedIs(path, { configmaps: '1' });
    await api('post', `${path}/configmaps`, { metadata: { name: 'test-configmap' }, data: { a: 'b' } });
    await usedIs(path, { configmaps: '2', resourcequotas: '1' });
    await api('delete', `${path}/configmaps/test-configmap`);
    await usedIs(path, { configmaps: '1' });
  });

  test('ResourceQuota, object count quota, secret', async () => {
    const path = await countQuota('quota-secret');
    await api('post', `${path}/secrets`, { metadata: { name: 'test-secret' }, data: { a: Buffer.from('b').toString('base64') } });
    await usedIs(path, { secrets: '1', resourcequotas: '1' });
    await api('delete', `${path}/secrets/test-secret`);
    await usedIs(path, { secrets: '0' });
  });

  test('ResourceQuota, object count quota, service', async () => {
    const path = await countQuota('quota-service');
    await api('post', `${path}/services`, { metadata: { name: 'test-service' }, spec: { ports: [{ port: 80 }] } });
    await api('post', `${path}/services`, { metadata: { name: 'test-service-np' }, spec: { type: 'NodePort', ports: [{ port: 80 }] } });
    await usedIs(path, { services: '2', 'services.nodeports': '1', resourcequotas: '1' });
    await api('delete', `${path}/services/test-service`);
    await api('delete', `${path}/services/test-service-np`);
    await usedIs(path, { services: '0', 'services.nodeports': '0' });
  });

  test('ResourceQuota, object count quota, pod', async () => {
    const path = await countQuota('quota-pod');
    const resources = { requests: { cpu: '500m', memory: '252Mi' }, limits: { cpu: '1', memory: '400Mi' } };
    await api('post', `${path}/pods`, { metadata: { name: 'test-pod' }, spec: { containers: [{ name: 'pause', image: 'registry.k8s.io/pause:3.10', resources }] } });
    await usedIs(path, { pods: '1', 'requests.cpu': '500m', 'requests.memory': '252Mi', 'limits.cpu': '1', 'limits.memory': '400Mi' });
    const refused = await api('post', `${path}/pods`, { metadata: { name: 'fail-pod' }, spec: { containers: [{ name: 'pause', image: 'registry.k8s.io/pause:3.10', resources: { requests: { cpu: '600m', memory: '100Mi' }, limits: { cpu: '600m', memory: '100Mi' } } }] } }, 403);
    assert.match(refused.message, /exceeded quota: test-quota, requested: requests.cpu=600m, used: requests.cpu=500m, limited: requests.cpu=1/);
    const current = await api('get', `${path}/pods/test-pod`);
    current.spec.containers[0].resources.requests.cpu = '100m';
    await api('put', `${path}/pods/test-pod`, current, 422);
    await api('delete', `${path}/pods/test-pod?gracePeriodSeconds=0`);
    await usedIs(path, { pods: '0', 'requests.cpu': '0', 'requests.memory': '0' });
  });

  test('Find Kubernetes Service in default Namespace', async () => {
    const all = await api('get', '/api/v1/services');
    assert.ok((all.items as Json[]).some((s) => s.metadata.name === 'kubernetes' && s.metadata.namespace === 'default'));
  });

  test('Endpoint resource lifecycle', async () => {
    await api('post', `${NS}/endpoints`, { metadata: { name: 'e2e-endpoint', labels: { 'test-endpoint-static': 'true' } }, subsets: [{ addresses: [{ ip: '10.0.0.24' }], ports: [{ name: 'http', port: 80, protocol: 'TCP' }] }] });
    const got = await api('get', `${NS}/endpoints/e2e-endpoint`);
    await api('put', `${NS}/endpoints/e2e-endpoint`, { ...got, metadata: { ...got.metadata, labels: { ...got.metadata.labels, 'test-service': 'updated' } } });
    assert.equal((await api('get', `${NS}/endpoints/e2e-endpoint`)).metadata.labels['test-service'], 'updated');
    const patched = await api('patch', `${NS}/endpoints/e2e-endpoint`, { subsets: [{ addresses: [{ ip: '10.0.0.25' }], ports: [{ name: 'http-test', port: 8080, protocol: 'TCP' }] }] });
    assert.deepEqual([patched.subsets[0].addresses[0].ip, patched.subsets[0].ports[0].port], ['10.0.0.25', 8080]);
    const list = await api('get', `${NS}/endpoints?labelSelector=test-endpoint-static=true`);
    const watch = await openWatch(t, `${NS}/endpoints?watch=true&labelSelector=test-endpoint-static=true&resourceVersion=${list.metadata.resourceVersion}`);
    try {
      await api('delete', `${NS}/endpoints?labelSelector=test-endpoint-static=true`);
      assert.equal((await watch.next()).type, 'DELETED');
    } finally {
      watch.close();
    }
  });

  const discoveryChecks = async () => {
    const groups = await api('get', '/apis');
    assert.ok((groups.groups as Json[]).some((g) => g.name === 'discovery.k8s.io'));
    const group = await api('get', '/apis/discovery.k8s.io');
    assert.ok((group.versions as Json[]).some((v) => v.groupVersion === 'discovery.k8s.io/v1'));
    const resources = await api('get', '/apis/discovery.k8s.io/v1');
    assert.ok((resources.resources as Json[]).some((r) => r.name === 'endpointslices'));
  };
  const SLICES = '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices';
  const readyPod = async (name: string, ip: string, labels: Record<string, string>) => {
    await api('post', `${NS}/pods`, { metadata: { name, labels }, spec: { containers: [{ name: 'c', image: 'nginx', ports: [{ name: 'example', containerPort: 3000 }] }] } });
    await api('post', `${NS}/pods/${name}/binding`, { apiVersion: 'v1', kind: 'Binding', metadata: { name }, target: { kind: 'Node', name: 'node-1' } }, 201);
    await api('patch', `${NS}/pods/${name}/status`, { status: { phase: 'Running', podIP: ip, podIPs: [{ ip }], conditions: [{ type: 'Ready', status: 'True' }] } });
  };
  const slicesFor = async (service: string) => (await api('get', `${SLICES}?labelSelector=kubernetes.io/service-name=${service}`)).items as Json[];

  test('EndpointSlice API', async () => {
    // ... for Pods matching a Service: the controller creates EndpointSlices for them.
    await discoveryChecks();
    await api('post', `${NS}/services`, { metadata: { name: 'example-int-port' }, spec: { selector: { 'example-int-port': 'yes' }, ports: [{ name: 'example', port: 80, targetPort: 3000 }] } });
    await api('post', `${NS}/services`, { metadata: { name: 'example-named-port' }, spec: { selector: { 'example-named-port': 'yes' }, ports: [{ name: 'http', port: 80, targetPort: 'example' }] } });
    await readyPod('pod1', '10.244.5.1', { 'example-int-port': 'yes', 'example-named-port': 'yes' });
    for (const service of ['example-int-port', 'example-named-port']) {
      const slices = await until(`slices of ${service}`, async () => {
        const found = await slicesFor(service);
        return found.some((s) => (s.endpoints as Json[] | undefined)?.some((e) => e.addresses[0] === '10.244.5.1')) ? found : undefined;
      });
      assert.deepEqual(slices[0].ports, [{ name: service === 'example-int-port' ? 'example' : 'http', port: 3000, protocol: 'TCP' }]);
    }
  });

  test('EndpointSlice API', async () => {
    // ... for a Service with a selector: slices are created, then deleted with the service.
    await discoveryChecks();
    await api('post', `${NS}/services`, { metadata: { name: 'example-empty-selector' }, spec: { selector: { 'does-not-match-anything': 'endpoints-and-endpoint-slices' }, ports: [{ name: 'example', port: 80 }] } });
    await until('a slice for the service', async () => ((await slicesFor('example-empty-selector')).length > 0 ? true : undefined));
    await until('endpoints for the service', async () => ((await t.call('get', `${NS}/endpoints/example-empty-selector`)).status === 200 ? true : undefined));
    await api('delete', `${NS}/services/example-empty-selector`);
    await until('the slices to go', async () => ((await slicesFor('example-empty-selector')).length === 0 ? true : undefined));
    await until('the endpoints to go', async () => ((await t.call('get', `${NS}/endpoints/example-empty-selector`)).status === 404 ? true : undefined));
  });

  test('EndpointSlice API', async () => {
    // ... pointing to the API server: the kubernetes service with Endpoints and EndpointSlices.
    await discoveryChecks();
    const service = await api('get', `${NS}/services/kubernetes`);
    const ep = await api('get', `${NS}/endpoints/kubernetes`);
    const slice = await api('get', `${SLICES}/kubernetes`);
    assert.equal(service.spec.ports[0].targetPort, t.server.port);
    assert.deepEqual(ep.subsets[0].ports[0].port, t.server.port);
    assert.deepEqual([slice.endpoints[0].addresses, slice.ports[0].port], [[ep.subsets[0].addresses[0].ip], t.server.port]);
  });

  test('EndpointSlice API', async () => {
    // ... operations: create, get, list, watch, update, patch, delete and deletecollection.
    await discoveryChecks();
    const body = (name: string) => ({ apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name, labels: { 'e2e-endpointslice': 'ops' } }, addressType: 'IPv4', endpoints: [{ addresses: ['1.2.3.4'] }] });
    const list = await api('get', `${SLICES}?labelSelector=e2e-endpointslice=ops`);
    const watch = await openWatch(t, `${SLICES}?watch=true&labelSelector=e2e-endpointslice=ops&resourceVersion=${list.metadata.resourceVersion}`);
    try {
      for (const name of ['e2e-es-1', 'e2e-es-2', 'e2e-es-3']) await api('post', SLICES, body(name));
      assert.deepEqual((await watch.take(3)).map((e) => e.type), ['ADDED', 'ADDED', 'ADDED']);
      const got = await api('get', `${SLICES}/e2e-es-1`);
      assert.equal((await api('get', `/apis/discovery.k8s.io/v1/endpointslices?labelSelector=e2e-endpointslice=ops`)).items.length, 3);
      const patched = await api('patch', `${SLICES}/e2e-es-1`, { metadata: { annotations: { patched: 'true' } } });
      assert.equal(patched.metadata.annotations.patched, 'true');
      const updated = await api('put', `${SLICES}/e2e-es-1`, { ...patched, metadata: { ...patched.metadata, annotations: { updated: 'true' } } });
      assert.equal(updated.metadata.annotations.updated, 'true');
      assert.notEqual(updated.metadata.resourceVersion, got.metadata.resourceVersion);
      await api('delete', `${SLICES}/e2e-es-1`);
      await api('get', `${SLICES}/e2e-es-1`, undefined, 404);
      await api('delete', `${SLICES}?labelSelector=e2e-endpointslice=ops`);
      assert.equal((await api('get', `${SLICES}?labelSelector=e2e-endpointslice=ops`)).items.length, 0);
    } finally {
      watch.close();
    }
  });

  test('Service, endpoints', async () => {
    await api('post', `${NS}/services`, { metadata: { name: 'endpoint-test2' }, spec: { selector: { 'endpoint-test2': 'yes' }, ports: [{ port: 80, targetPort: 80 }] } });
    const addresses = async () => ((await api('get', `${NS}/endpoints/endpoint-test2`)).subsets?.[0]?.addresses ?? []).map((a: Json) => a.ip as string).sort();
    await until('endpoints of the service', async () => ((await t.call('get', `${NS}/endpoints/endpoint-test2`)).status === 200 ? true : undefined));
    assert.deepEqual(await addresses(), []);
    await readyPod('pod-ep-1', '10.244.6.1', { 'endpoint-test2': 'yes' });
    await until('pod-ep-1 in the endpoints', async () => (JSON.stringify(await addresses()) === '["10.244.6.1"]' ? true : undefined));
    await readyPod('pod-ep-2', '10.244.6.2', { 'endpoint-test2': 'yes' });
    await until('both pods', async () => (JSON.stringify(await addresses()) === '["10.244.6.1","10.244.6.2"]' ? true : undefined));
    await api('delete', `${NS}/pods/pod-ep-1?gracePeriodSeconds=0`);
    await until('pod-ep-1 gone', async () => (JSON.stringify(await addresses()) === '["10.244.6.2"]' ? true : undefined));
    await api('delete', `${NS}/pods/pod-ep-2?gracePeriodSeconds=0`);
    await until('no pods', async () => ((await addresses()).length === 0 ? true : undefined));
  });
});
