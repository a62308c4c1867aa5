// Discovery, version, health and OpenAPI endpoints over HTTPS, as kubectl 1.32 reads them.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from './helpers/api-server.ts';

const CRUD = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const STATUS = ['get', 'patch', 'update'];
const AGGREGATED_V2 = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';
const AGGREGATED_V2BETA1 = 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList';
const KUBECTL_DISCOVERY_ACCEPT = `${AGGREGATED_V2},${AGGREGATED_V2BETA1},application/json`;

describe('discovery and non-resource endpoints', () => {
  let t: TestServer;
  before(async () => { t = await startTestServer('api-discovery'); });
  after(async () => { await t.close(); });

  test('/version reports 1.32', async () => {
    const res = await t.call('get', '/version?timeout=5s').expect(200);
    assert.equal(res.body.major, '1');
    assert.equal(res.body.minor, '32');
    assert.match(res.body.gitVersion, /^v1\.32\.\d+/);
    assert.match(res.body.platform, /^linux\/|^\w+\//);
  });

  for (const path of ['/healthz', '/livez', '/readyz']) {
    test(`${path} answers ok`, async () => {
      const res = await t.call('get', path).expect(200);
      assert.equal(res.text, 'ok');
      assert.equal(res.headers['content-type'], 'text/plain; charset=utf-8');
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
    });
  }

  test('?verbose lists each check as k8s.io/apiserver healthz does', async () => {
    const readyz = await t.anonymous('get', '/readyz?verbose').expect(200);
    assert.equal(readyz.text, '[+]ping ok\n[+]log ok\n[+]etcd ok\nreadyz check passed\n');
    // /livez leaves the store out: a restart does not help a full disk (README, Security and reliability).
    const livez = await t.anonymous('get', '/livez?verbose').expect(200);
    assert.equal(livez.text, '[+]ping ok\n[+]log ok\nlivez check passed\n');
    const healthz = await t.call('get', '/healthz?verbose=1').expect(200);
    assert.equal(healthz.text, '[+]ping ok\n[+]log ok\n[+]etcd ok\nhealthz check passed\n');
  });

  test('?exclude skips a check and warns about names that match none', async () => {
    const res = await t.call('get', '/readyz?verbose&exclude=etcd&exclude=nope&exclude=alsonope').expect(200);
    assert.equal(res.text, '[+]ping ok\n[+]log ok\n[+]etcd excluded: ok\n'
      + 'warn: some health checks cannot be excluded: no matches for "alsonope","nope"\nreadyz check passed\n');
  });

  test('/readyz/<check> runs one check; an unknown check is 404', async () => {
    for (const path of ['/readyz/ping', '/readyz/etcd', '/livez/log', '/healthz/etcd']) {
      const res = await t.call('get', path).expect(200);
      assert.equal(res.text, 'ok', path);
    }
    const missing = await t.call('get', '/readyz/nope').expect(404);
    assert.equal(missing.body.reason, 'NotFound');
    await t.call('get', '/livez/etcd').expect(404);
  });

  test('/api (legacy) lists v1 with the address clients use', async () => {
    const res = await t.call('get', '/api').set('Accept', 'application/json').expect(200);
    assert.deepEqual(res.body, {
      kind: 'APIVersions', versions: ['v1'],
      serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: new URL(t.url).host }],
    });
  });

  test('/api/v1 lists every core resource with verbs, short names, categories and subresources', async () => {
    const res = await t.call('get', '/api/v1?timeout=32s').expect(200);
    assert.equal(res.body.kind, 'APIResourceList');
    assert.equal(res.body.groupVersion, 'v1');
    assert.deepEqual(res.body.resources, [
      { name: 'bindings', singularName: 'binding', namespaced: true, kind: 'Binding', verbs: ['create'] },
      { name: 'componentstatuses', singularName: 'componentstatus', namespaced: false, kind: 'ComponentStatus', verbs: ['get', 'list'], shortNames: ['cs'] },
      { name: 'configmaps', singularName: 'configmap', namespaced: true, kind: 'ConfigMap', verbs: CRUD, shortNames: ['cm'] },
      { name: 'endpoints', singularName: 'endpoints', namespaced: true, kind: 'Endpoints', verbs: CRUD, shortNames: ['ep'] },
      { name: 'events', singularName: 'event', namespaced: true, kind: 'Event', verbs: CRUD, shortNames: ['ev'] },
      { name: 'limitranges', singularName: 'limitrange', namespaced: true, kind: 'LimitRange', verbs: CRUD, shortNames: ['limits'] },
      { name: 'namespaces', singularName: 'namespace', namespaced: false, kind: 'Namespace', verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'], shortNames: ['ns'] },
      { name: 'namespaces/finalize', singularName: '', namespaced: false, kind: 'Namespace', verbs: ['update'] },
      { name: 'namespaces/status', singularName: '', namespaced: false, kind: 'Namespace', verbs: STATUS },
      { name: 'nodes', singularName: 'node', namespaced: false, kind: 'Node', verbs: CRUD, shortNames: ['no'] },
      { name: 'nodes/status', singularName: '', namespaced: false, kind: 'Node', verbs: STATUS },
      { name: 'persistentvolumeclaims', singularName: 'persistentvolumeclaim', namespaced: true, kind: 'PersistentVolumeClaim', verbs: CRUD, shortNames: ['pvc'] },
      { name: 'persistentvolumeclaims/status', singularName: '', namespaced: true, kind: 'PersistentVolumeClaim', verbs: STATUS },
      { name: 'persistentvolumes', singularName: 'persistentvolume', namespaced: false, kind: 'PersistentVolume', verbs: CRUD, shortNames: ['pv'] },
      { name: 'persistentvolumes/status', singularName: '', namespaced: false, kind: 'PersistentVolume', verbs: STATUS },
      { name: 'pods', singularName: 'pod', namespaced: true, kind: 'Pod', verbs: CRUD, shortNames: ['po'], categories: ['all'] },
      { name: 'pods/attach', singularName: '', namespaced: true, kind: 'PodAttachOptions', verbs: ['create', 'get'] },
      { name: 'pods/binding', singularName: '', namespaced: true, kind: 'Binding', verbs: ['create'] },
      { name: 'pods/ephemeralcontainers', singularName: '', namespaced: true, kind: 'Pod', verbs: ['get', 'patch', 'update'] },
      { name: 'pods/eviction', singularName: '', namespaced: true, group: 'policy', version: 'v1', kind: 'Eviction', verbs: ['create'] },
      { name: 'pods/exec', singularName: '', namespaced: true, kind: 'PodExecOptions', verbs: ['create', 'get'] },
      { name: 'pods/log', singularName: '', namespaced: true, kind: 'Pod', verbs: ['get'] },
      { name: 'pods/portforward', singularName: '', namespaced: true, kind: 'PodPortForwardOptions', verbs: ['create', 'get'] },
      { name: 'pods/status', singularName: '', namespaced: true, kind: 'Pod', verbs: STATUS },
      { name: 'podtemplates', singularName: 'podtemplate', namespaced: true, kind: 'PodTemplate', verbs: CRUD },
      { name: 'replicationcontrollers', singularName: 'replicationcontroller', namespaced: true, kind: 'ReplicationController', verbs: CRUD, shortNames: ['rc'], categories: ['all'] },
      { name: 'replicationcontrollers/scale', singularName: '', namespaced: true, group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: STATUS },
      { name: 'replicationcontrollers/status', singularName: '', namespaced: true, kind: 'ReplicationController', verbs: STATUS },
      { name: 'resourcequotas', singularName: 'resourcequota', namespaced: true, kind: 'ResourceQuota', verbs: CRUD, shortNames: ['quota'] },
      { name: 'resourcequotas/status', singularName: '', namespaced: true, kind: 'ResourceQuota', verbs: STATUS },
      { name: 'secrets', singularName: 'secret', namespaced: true, kind: 'Secret', verbs: CRUD },
      { name: 'serviceaccounts', singularName: 'serviceaccount', namespaced: true, kind: 'ServiceAccount', verbs: CRUD, shortNames: ['sa'] },
      { name: 'serviceaccounts/token', singularName: '', namespaced: true, group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest', verbs: ['create'] },
      { name: 'services', singularName: 'service', namespaced: true, kind: 'Service', verbs: CRUD, shortNames: ['svc'], categories: ['all'] },
      { name: 'services/status', singularName: '', namespaced: true, kind: 'Service', verbs: STATUS },
    ]);
  });

  test('/apis and /apis/coordination.k8s.io/v1', async () => {
    const groups = await t.call('get', '/apis').set('Accept', 'application/json').expect(200);
    assert.equal(groups.body.kind, 'APIGroupList');
    const coordination = groups.body.groups.find((g: { name: string }) => g.name === 'coordination.k8s.io');
    assert.deepEqual(coordination, {
      name: 'coordination.k8s.io',
      versions: [{ groupVersion: 'coordination.k8s.io/v1', version: 'v1' }],
      preferredVersion: { groupVersion: 'coordination.k8s.io/v1', version: 'v1' },
    });
    const group = await t.call('get', '/apis/coordination.k8s.io').expect(200);
    assert.deepEqual(group.body, { kind: 'APIGroup', apiVersion: 'v1', ...coordination });
    const leases = await t.call('get', '/apis/coordination.k8s.io/v1').expect(200);
    assert.deepEqual(leases.body, {
      kind: 'APIResourceList', apiVersion: 'v1', groupVersion: 'coordination.k8s.io/v1',
      resources: [{ name: 'leases', singularName: 'lease', namespaced: true, kind: 'Lease', verbs: CRUD }],
    });
  });

  test('aggregated discovery answers kubectl\'s Accept with the exact v2 media type', async () => {
    const res = await t.call('get', '/api?timeout=32s').set('Accept', KUBECTL_DISCOVERY_ACCEPT).expect(200);
    assert.equal(res.headers['content-type'], AGGREGATED_V2);
    const body = JSON.parse(res.text);
    assert.equal(body.kind, 'APIGroupDiscoveryList');
    assert.equal(body.apiVersion, 'apidiscovery.k8s.io/v2');
    assert.deepEqual(body.items[0].metadata, { creationTimestamp: null });
    const [v1] = body.items[0].versions;
    assert.equal(v1.version, 'v1');
    assert.equal(v1.freshness, 'Current');
    const pods = v1.resources.find((r: { resource: string }) => r.resource === 'pods');
    assert.deepEqual(pods, {
      resource: 'pods', responseKind: { group: '', version: 'v1', kind: 'Pod' }, scope: 'Namespaced',
      singularResource: 'pod', verbs: CRUD, shortNames: ['po'], categories: ['all'],
      subresources: [
        { subresource: 'attach', responseKind: { group: '', version: 'v1', kind: 'PodAttachOptions' }, verbs: ['create', 'get'] },
        { subresource: 'binding', responseKind: { group: '', version: 'v1', kind: 'Binding' }, verbs: ['create'] },
        { subresource: 'ephemeralcontainers', responseKind: { group: '', version: 'v1', kind: 'Pod' }, verbs: ['get', 'patch', 'update'] },
        { subresource: 'eviction', responseKind: { group: 'policy', version: 'v1', kind: 'Eviction' }, verbs: ['create'] },
        { subresource: 'exec', responseKind: { group: '', version: 'v1', kind: 'PodExecOptions' }, verbs: ['create', 'get'] },
        { subresource: 'log', responseKind: { group: '', version: 'v1', kind: 'Pod' }, verbs: ['get'] },
        { subresource: 'portforward', responseKind: { group: '', version: 'v1', kind: 'PodPortForwardOptions' }, verbs: ['create', 'get'] },
        { subresource: 'status', responseKind: { group: '', version: 'v1', kind: 'Pod' }, verbs: STATUS },
      ],
    });
    const scopes = Object.fromEntries(v1.resources.map((r: { resource: string; scope: string; shortNames?: string[] }) => [r.resource, [r.scope, r.shortNames ?? []]]));
    assert.deepEqual(scopes.nodes, ['Cluster', ['no']]);
    assert.deepEqual(scopes.namespaces, ['Cluster', ['ns']]);
    assert.deepEqual(scopes.events, ['Namespaced', ['ev']]);
  });

  test('aggregated /apis names each group; a v2beta1-only client gets v2beta1', async () => {
    const v2 = await t.call('get', '/apis').set('Accept', KUBECTL_DISCOVERY_ACCEPT).expect(200);
    assert.equal(v2.headers['content-type'], AGGREGATED_V2);
    const item = JSON.parse(v2.text).items.find((i: { metadata: { name?: string } }) => i.metadata.name === 'coordination.k8s.io');
    assert.deepEqual(item.versions[0].resources, [{
      resource: 'leases', responseKind: { group: 'coordination.k8s.io', version: 'v1', kind: 'Lease' },
      scope: 'Namespaced', singularResource: 'lease', verbs: CRUD,
    }]);
    const beta = await t.call('get', '/apis').set('Accept', `${AGGREGATED_V2BETA1},application/json`).expect(200);
    assert.equal(beta.headers['content-type'], AGGREGATED_V2BETA1);
    assert.equal(JSON.parse(beta.text).apiVersion, 'apidiscovery.k8s.io/v2beta1');
  });

  test('discovery documents carry an ETag and answer If-None-Match with 304', async () => {
    const first = await t.call('get', '/api/v1').expect(200);
    const etag = first.headers.etag;
    assert.ok(etag);
    const again = await t.call('get', '/api/v1').set('If-None-Match', etag).expect(304);
    assert.equal(again.text, '');
  });

  test('/openapi/v3 lists group versions; a matching hash is immutable, a stale one redirects', async () => {
    const root = await t.call('get', '/openapi/v3?timeout=32s').expect(200);
    const paths = root.body.paths as Record<string, { serverRelativeURL: string }>;
    assert.ok(paths['api/v1']);
    assert.ok(paths['apis/coordination.k8s.io/v1']);
    const relative = paths['api/v1'].serverRelativeURL;
    const hash = new URL(relative, t.url).searchParams.get('hash')!;
    assert.match(hash, /^[0-9A-F]{128}$/);

    const doc = await t.call('get', `${relative}&timeout=32s`).set('Accept', 'application/json').expect(200);
    assert.equal(doc.headers.etag, `"${hash}"`);
    assert.equal(doc.headers['cache-control'], 'public, immutable');
    assert.ok(Date.parse(doc.headers.expires) > Date.now());
    const patchPod = doc.body.paths['/api/v1/namespaces/{namespace}/pods/{name}'].patch;
    assert.deepEqual(patchPod['x-kubernetes-group-version-kind'], { group: '', version: 'v1', kind: 'Pod' });
    assert.ok(patchPod.parameters.some((p: { name: string; in: string }) => p.name === 'fieldValidation' && p.in === 'query'));

    const unhashed = await t.call('get', '/openapi/v3/api/v1').expect(200);
    assert.equal(unhashed.headers.etag, `"${hash}"`);
    assert.equal(unhashed.headers['cache-control'], undefined);

    const stale = await t.call('get', '/openapi/v3/api/v1?hash=0123').redirects(0).expect(301);
    assert.equal(stale.headers.location, relative);

    const leases = await t.call('get', paths['apis/coordination.k8s.io/v1'].serverRelativeURL).expect(200);
    assert.ok(leases.body.paths['/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases/{name}']);

    await t.call('get', '/openapi/v3/apis/nope.example.com/v1').expect(404);
  });

  test('/openapi/v2 is served as JSON and as gnostic protobuf (test/unserved-kinds.test.ts decodes it)', async () => {
    const doc = await t.call('get', '/openapi/v2').set('Accept', 'application/json').expect(200);
    assert.equal(doc.body.swagger, '2.0');
    assert.ok(doc.body.definitions['io.k8s.api.core.v1.Pod']);
    const proto = await t.call('get', '/openapi/v2').set('Accept', 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf').expect(200);
    assert.equal(proto.headers['content-type'], 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf');
  });

  test('an unknown group version or resource is a NotFound Status', async () => {
    for (const path of ['/apis/nope.example.com/v1', '/api/v2', '/api/v1/widgets', '/apis/coordination.k8s.io/v1/namespaces/default/widgets']) {
      const res = await t.call('get', path).expect(404);
      assert.deepEqual(res.body, {
        kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure',
        message: 'the server could not find the requested resource', reason: 'NotFound', code: 404, details: {},
      }, path);
    }
  });
});
