import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  DiscoveryDocuments, chooseDiscoveryForm, discoveryResourceFromStrategy, CORE_BINDINGS_RESOURCE, type DiscoveryResource,
} from '../server/discovery.ts';
import type { ResourceStrategy } from '../api/resource.ts';

const KUBECTL_ACCEPT = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json';

const podStrategy: ResourceStrategy = {
  group: '', version: 'v1', kind: 'Pod', listKind: 'PodList', resource: 'pods', singular: 'pod',
  shortNames: ['po'], categories: ['all'], namespaced: true,
  verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'],
  storageResource: 'pods', hasStatus: true, tracksGeneration: false,
  subresources: [{ name: 'binding', kind: 'Binding', verbs: ['create'] }, { name: 'log', kind: 'Pod', verbs: ['get'] }],
  table: { columns: [], cells: () => [] },
};

const roles: DiscoveryResource = {
  group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'roles', singular: 'role', kind: 'Role',
  namespaced: true, verbs: ['create', 'get'], shortNames: [], categories: [], subresources: [],
};
const leases: DiscoveryResource = {
  group: 'coordination.k8s.io', version: 'v1', resource: 'leases', singular: 'lease', kind: 'Lease',
  namespaced: true, verbs: ['get'], shortNames: [], categories: [], subresources: [],
};

const docs = new DiscoveryDocuments(
  [discoveryResourceFromStrategy(podStrategy), CORE_BINDINGS_RESOURCE, leases, roles],
  { serverAddress: '127.0.0.1:6443' },
);

describe('discovery form selection', () => {
  test('picks aggregated v2, v2beta1 or legacy from Accept', () => {
    assert.deepEqual(chooseDiscoveryForm(KUBECTL_ACCEPT), {
      form: 'aggregated', version: 'v2', contentType: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList',
    });
    assert.equal(chooseDiscoveryForm('application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json').contentType,
      'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList');
    for (const accept of [undefined, 'application/json, */*', 'application/json;g=apidiscovery.k8s.io;v=v3;as=APIGroupDiscoveryList,application/json']) {
      assert.deepEqual(chooseDiscoveryForm(accept), { form: 'legacy', contentType: 'application/json' });
    }
  });
});

describe('legacy documents', () => {
  test('/api is APIVersions with serverAddressByClientCIDRs', () => {
    const doc = docs.root('/api', 'application/json, */*');
    assert.equal(doc.contentType, 'application/json');
    assert.deepEqual(JSON.parse(doc.body), {
      kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1:6443' }],
    });
    assert.match(doc.etag, /^"[0-9a-f]+"$/);
  });

  test('/apis is APIGroupList in first-seen order; /apis/<g> is APIGroup', () => {
    const list = JSON.parse(docs.root('/apis', 'application/json').body) as { kind: string; groups: { name: string; preferredVersion: unknown }[] };
    assert.equal(list.kind, 'APIGroupList');
    assert.deepEqual(list.groups.map((g) => g.name), ['coordination.k8s.io', 'rbac.authorization.k8s.io']);
    assert.deepEqual(list.groups[1], {
      name: 'rbac.authorization.k8s.io',
      versions: [{ groupVersion: 'rbac.authorization.k8s.io/v1', version: 'v1' }],
      preferredVersion: { groupVersion: 'rbac.authorization.k8s.io/v1', version: 'v1' },
    });
    assert.equal(JSON.parse(docs.group('coordination.k8s.io')!.body).kind, 'APIGroup');
    assert.equal(docs.group('apps'), undefined);
  });

  test('/api/v1 lists resources by name with subresources as separate entries', () => {
    const list = JSON.parse(docs.resourceList('v1')!.body) as { kind: string; groupVersion: string; resources: Record<string, unknown>[] };
    assert.equal(list.kind, 'APIResourceList');
    assert.equal(list.groupVersion, 'v1');
    assert.deepEqual(list.resources.map((r) => r.name), ['bindings', 'pods', 'pods/binding', 'pods/log', 'pods/status']);
    assert.deepEqual(list.resources[1], {
      name: 'pods', singularName: 'pod', namespaced: true, kind: 'Pod',
      verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
      shortNames: ['po'], categories: ['all'],
    });
    assert.deepEqual(list.resources[4], { name: 'pods/status', singularName: '', namespaced: true, kind: 'Pod', verbs: ['get', 'patch', 'update'] });
    assert.deepEqual(list.resources[0], { name: 'bindings', singularName: 'binding', namespaced: true, kind: 'Binding', verbs: ['create'] });
    assert.equal(JSON.parse(docs.resourceList('rbac.authorization.k8s.io/v1')!.body).groupVersion, 'rbac.authorization.k8s.io/v1');
    assert.equal(docs.resourceList('apps/v1'), undefined);
  });
});

describe('aggregated documents', () => {
  test('/api v2: core item without a name, freshness Current, subresources with responseKind', () => {
    const doc = docs.root('/api', KUBECTL_ACCEPT);
    assert.equal(doc.contentType, 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList');
    const body = JSON.parse(doc.body);
    assert.equal(body.kind, 'APIGroupDiscoveryList');
    assert.equal(body.apiVersion, 'apidiscovery.k8s.io/v2');
    assert.deepEqual(body.metadata, {});
    assert.equal(body.items.length, 1);
    assert.deepEqual(body.items[0].metadata, { creationTimestamp: null });
    const version = body.items[0].versions[0];
    assert.equal(version.version, 'v1');
    assert.equal(version.freshness, 'Current');
    assert.deepEqual(version.resources.map((r: { resource: string }) => r.resource), ['bindings', 'pods']);
    assert.deepEqual(version.resources[1], {
      resource: 'pods', responseKind: { group: '', version: 'v1', kind: 'Pod' }, scope: 'Namespaced', singularResource: 'pod',
      verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'], shortNames: ['po'], categories: ['all'],
      subresources: [
        { subresource: 'binding', responseKind: { group: '', version: 'v1', kind: 'Binding' }, verbs: ['create'] },
        { subresource: 'log', responseKind: { group: '', version: 'v1', kind: 'Pod' }, verbs: ['get'] },
        { subresource: 'status', responseKind: { group: '', version: 'v1', kind: 'Pod' }, verbs: ['get', 'patch', 'update'] },
      ],
    });
    assert.deepEqual(version.resources[0], {
      resource: 'bindings', responseKind: { group: '', version: 'v1', kind: 'Binding' }, scope: 'Namespaced', singularResource: 'binding', verbs: ['create'],
    });
  });

  test('/apis v2beta1: one named item per group, same body apart from apiVersion', () => {
    const accept = 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json';
    const doc = docs.root('/apis', accept);
    assert.equal(doc.contentType, 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList');
    const body = JSON.parse(doc.body);
    assert.equal(body.apiVersion, 'apidiscovery.k8s.io/v2beta1');
    assert.deepEqual(body.items.map((i: { metadata: { name: string } }) => i.metadata), [
      { name: 'coordination.k8s.io', creationTimestamp: null }, { name: 'rbac.authorization.k8s.io', creationTimestamp: null },
    ]);
    const v2 = JSON.parse(docs.root('/apis', KUBECTL_ACCEPT).body);
    assert.deepEqual(body.items, v2.items);
  });

  test('a resource listed twice is a programming error', () => {
    assert.throws(() => new DiscoveryDocuments([roles, roles], { serverAddress: 'x' }), /listed twice/);
  });
});
