// Conformance entries of sig-api-machinery that concern what kubefacade serves: discovery
// (legacy and aggregated), namespaces, table negotiation, the server version.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startConformanceCluster, podManifest, until, type ConformanceCluster, type Json } from './helpers/cluster.ts';

const AGGREGATED_V2 = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';
const AGGREGATED_V2BETA1 = 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList';
/** Built-in resources kubefacade serves, by group-version: each MUST be in every discovery form. */
const BUILT_IN: Record<string, string[]> = {
  v1: ['pods', 'nodes', 'namespaces', 'events', 'bindings'],
  'coordination.k8s.io/v1': ['leases'],
  'rbac.authorization.k8s.io/v1': ['roles', 'clusterroles', 'rolebindings', 'clusterrolebindings'],
  'authorization.k8s.io/v1': ['subjectaccessreviews', 'selfsubjectaccessreviews', 'selfsubjectrulesreviews'],
  'authentication.k8s.io/v1': ['tokenreviews', 'selfsubjectreviews'],
};

describe('conformance: api-machinery', () => {
  let c: ConformanceCluster;
  before(async () => { c = await startConformanceCluster('api-machinery'); });
  after(async () => { await c.stop(); });

  function aggregatedResources(lists: Json[]): Map<string, string[]> {
    const found = new Map<string, string[]>();
    for (const list of lists) {
      assert.equal(list.kind, 'APIGroupDiscoveryList');
      for (const group of list.items) {
        for (const version of group.versions) {
          const gv = group.metadata.name ? `${group.metadata.name}/${version.version}` : version.version;
          found.set(gv, version.resources.map((r: Json) => r.resource));
        }
      }
    }
    return found;
  }

  test('Aggregated Discovery Interface', async () => {
    // The client interface: /api and /apis in the aggregated form, as client-go's discovery asks for them.
    const accept = `${AGGREGATED_V2},${AGGREGATED_V2BETA1};q=0.9,application/json;q=0.8`;
    const core = await c.api('get', '/api', { accept });
    const groups = await c.api('get', '/apis', { accept });
    assert.equal(core.apiVersion, 'apidiscovery.k8s.io/v2');
    const found = aggregatedResources([core, groups]);
    for (const [gv, resources] of Object.entries(BUILT_IN)) {
      for (const resource of resources) assert.ok(found.get(gv)?.includes(resource), `${gv} ${resource} in aggregated discovery`);
    }
  });

  test('Aggregated Discovery Endpoint Accept Headers', async () => {
    for (const [accept, version] of [[AGGREGATED_V2, 'v2'], [AGGREGATED_V2BETA1, 'v2beta1']]) {
      for (const path of ['/api', '/apis']) {
        const res = await c.raw('get', path).set('Accept', accept).expect(200);
        assert.match(res.headers['content-type'], new RegExp(`v=${version}`), `${path} ${accept}`);
        assert.equal(res.body.apiVersion, `apidiscovery.k8s.io/${version}`);
      }
      const found = aggregatedResources([(await c.raw('get', '/api').set('Accept', accept)).body, (await c.raw('get', '/apis').set('Accept', accept)).body]);
      for (const [gv, resources] of Object.entries(BUILT_IN)) for (const resource of resources) assert.ok(found.get(gv)?.includes(resource), `${gv} ${resource}`);
    }
    // A client that does not ask for it gets the legacy documents.
    assert.equal((await c.api('get', '/apis', { accept: 'application/json' })).kind, 'APIGroupList');
  });

  test('Discovery, confirm the groupVersion and a resource from each apiGroup', async () => {
    const groups = await c.api('get', '/apis');
    assert.ok(groups.groups.length >= Object.keys(BUILT_IN).length - 1);
    for (const group of [{ name: '', versions: [{ groupVersion: 'v1' }] }, ...groups.groups]) {
      for (const { groupVersion } of group.versions) {
        const list = await c.api('get', group.name ? `/apis/${groupVersion}` : '/api/v1');
        assert.equal(list.kind, 'APIResourceList');
        assert.equal(list.groupVersion, groupVersion);
        assert.ok(list.resources.length > 0, `${groupVersion} lists resources`);
        for (const resource of list.resources) {
          assert.ok(resource.name && resource.kind && Array.isArray(resource.verbs), `${groupVersion} ${JSON.stringify(resource)}`);
        }
        for (const expected of BUILT_IN[groupVersion] ?? []) assert.ok(list.resources.some((r: Json) => r.name === expected), `${groupVersion} ${expected}`);
      }
    }
  });

  test('Discovery, confirm the PreferredVersion for each api group', async () => {
    const groups = await c.api('get', '/apis');
    for (const group of groups.groups) {
      if (group.name.endsWith('example.com')) continue;
      assert.ok(group.preferredVersion?.groupVersion, `${group.name} has a preferredVersion`);
      assert.ok(group.versions.some((v: Json) => v.groupVersion === group.preferredVersion.groupVersion && v.version === group.preferredVersion.version));
      const single = await c.api('get', `/apis/${group.name}`);
      assert.deepEqual(single.preferredVersion, group.preferredVersion);
    }
  });

  test('Namespace, apply finalizer to a namespace', async () => {
    await c.api('post', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ns-finalizer' } }, expect: 201 });
    const ns = await c.api('get', '/api/v1/namespaces/ns-finalizer');
    const finalizers = [...ns.spec.finalizers, 'e2e.example.com/fakeFinalizer'];
    const updated = await c.api('put', '/api/v1/namespaces/ns-finalizer/finalize', { body: { ...ns, spec: { finalizers } } });
    assert.ok(updated.spec.finalizers.includes('e2e.example.com/fakeFinalizer'));
    const removed = await c.api('put', '/api/v1/namespaces/ns-finalizer/finalize', { body: { ...updated, spec: { finalizers: ns.spec.finalizers } } });
    assert.ok(!removed.spec.finalizers.includes('e2e.example.com/fakeFinalizer'));
    assert.deepEqual((await c.api('get', '/api/v1/namespaces/ns-finalizer')).spec.finalizers, ['kubernetes']);
  });

  test('Namespace, apply update to a namespace', async () => {
    await c.api('post', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ns-update' } }, expect: 201 });
    const ns = await c.api('get', '/api/v1/namespaces/ns-update');
    ns.metadata.labels = { ...ns.metadata.labels, 'e2e-update': 'updated' };
    await c.api('put', '/api/v1/namespaces/ns-update', { body: ns });
    assert.equal((await c.api('get', '/api/v1/namespaces/ns-update')).metadata.labels['e2e-update'], 'updated');
  });

  test('Namespace, apply changes to a namespace status', async () => {
    await c.api('post', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ns-status' } }, expect: 201 });
    const status = await c.api('get', '/api/v1/namespaces/ns-status/status');
    assert.equal(status.status.phase, 'Active');
    const condition = { type: 'StatusPatch', status: 'True', reason: 'E2E', message: 'Patched by an e2e test' };
    const patched = await c.api('patch', '/api/v1/namespaces/ns-status/status', {
      body: { status: { conditions: [condition] } }, contentType: 'application/merge-patch+json',
    });
    assert.deepEqual(patched.status.conditions.map((x: Json) => ({ type: x.type, status: x.status, reason: x.reason, message: x.message })), [condition]);
    const replaced = { ...patched, status: { ...patched.status, conditions: [{ type: 'StatusUpdate', status: 'True', reason: 'E2E', message: 'Updated by an e2e test' }] } };
    const updated = await c.api('put', '/api/v1/namespaces/ns-status/status', { body: replaced });
    assert.equal(updated.status.conditions.find((x: Json) => x.type === 'StatusUpdate')?.message, 'Updated by an e2e test');
    assert.equal(updated.status.phase, 'Active');
  });

  test('namespace-deletion-removes-pods', async () => {
    await c.api('post', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ns-pods' } }, expect: 201 });
    await c.api('post', '/api/v1/namespaces/ns-pods/pods', { body: podManifest('test-pod'), expect: 201 });
    await c.api('delete', '/api/v1/namespaces/ns-pods');
    await until(async () => ((await c.raw('get', '/api/v1/namespaces/ns-pods')).status === 404 ? true : undefined), 'the namespace to go');
    await c.api('post', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ns-pods' } }, expect: 201 });
    const pods = await c.api('get', '/api/v1/namespaces/ns-pods/pods');
    assert.deepEqual(pods.items, []);
  });

  test('Namespace patching', async () => {
    await c.api('post', '/api/v1/namespaces', { body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ns-patch' } }, expect: 201 });
    await c.api('patch', '/api/v1/namespaces/ns-patch', { body: { metadata: { labels: { testLabel: 'testValue' } } }, contentType: 'application/strategic-merge-patch+json' });
    assert.equal((await c.api('get', '/api/v1/namespaces/ns-patch')).metadata.labels.testLabel, 'testValue');
  });

  test('API metadata HTTP return', async () => {
    // A backend that does not implement metadata (a review: no table, no partial metadata) answers a Table request with 406.
    const review = { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: { verb: 'list', resource: 'pods' } } };
    const res = await c.raw('post', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews')
      .set('Accept', 'application/json;as=Table;v=v1;g=meta.k8s.io').set('Content-Type', 'application/json').send(JSON.stringify(review)).expect(406);
    assert.equal(res.body.kind, 'Status');
    assert.equal(res.body.code, 406);
  });

  test('Confirm a server version', async () => {
    const version = await c.api('get', '/version');
    assert.match(version.major, /^\d+$/);
    assert.match(version.minor, /^\d+$/);
    assert.match(version.gitVersion, /^v\d+\.\d+\.\d+/);
  });
});
