// networking.k8s.io/v1 Ingress and IngressClass over HTTP: validation wording (defaultBackend or
// rules, paths, backends, hosts, class name vs annotation), status, the DefaultIngressClass and
// DefaultStorageClass admission plugins, and the Table columns kubectl prints.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { json, startTestServer, type TestServer } from './helpers/api-server.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const TABLE = 'application/json;as=Table;v=v1;g=meta.k8s.io';
const N = '/apis/networking.k8s.io/v1';
const ING = `${N}/namespaces/default/ingresses`;
const backend = { service: { name: 'web', port: { number: 80 } } };

describe('ingresses', () => {
  let t: TestServer;
  before(async () => { t = await startTestServer('ingress'); });
  after(async () => { await t.close(); });

  const send = async (method: 'post' | 'put' | 'patch', path: string, body: unknown, expect: number): Promise<Json> => {
    const res = await json(t.call(method, path), body, method === 'patch' ? 'application/merge-patch+json' : 'application/json');
    assert.equal(res.status, expect, `${method} ${path}: ${res.text}`);
    return res.body as Json;
  };
  const get = async (path: string, accept = 'application/json'): Promise<Json> => {
    const res = await t.call('get', path).set('Accept', accept);
    assert.equal(res.status, 200, res.text);
    return res.body as Json;
  };

  test('an Ingress needs a defaultBackend or rules', async () => {
    const res = await send('post', ING, { metadata: { name: 'empty' }, spec: {} }, 422);
    assert.equal(res.message, 'Ingress.networking.k8s.io "empty" is invalid: spec: Invalid value: null: either `defaultBackend` or `rules` must be specified');
  });

  test('rules, paths and backends are checked as upstream', async () => {
    const res = await send('post', ING, {
      metadata: { name: 'bad' },
      spec: {
        rules: [
          { host: '10.0.0.1', http: { paths: [{ path: 'nope', pathType: 'Prefix', backend }] } },
          { host: '*.example.com', http: { paths: [{ path: '/a//b', pathType: 'Exact', backend: { service: { name: 'web', port: { name: 'http', number: 80 } } } }] } },
          { http: { paths: [{ path: '/x', pathType: 'Glob', backend: {} }] } },
        ],
      },
    }, 422);
    const message = res.message as string;
    assert.match(message, /spec\.rules\[0\]\.host: Invalid value: "10\.0\.0\.1": must be a DNS name, not an IP address/);
    assert.match(message, /spec\.rules\[0\]\.http\.paths\[0\]\.path: Invalid value: "nope": must be an absolute path/);
    assert.match(message, /spec\.rules\[1\]\.http\.paths\[0\]\.path: Invalid value: "\/a\/\/b": must not contain '\/\/'/);
    assert.match(message, /spec\.rules\[1\]\.http\.paths\[0\]\.backend: Invalid value: "": cannot set both port name & port number/);
    assert.match(message, /spec\.rules\[2\]\.http\.paths\[0\]\.pathType: Unsupported value: "Glob": supported values: "Exact", "ImplementationSpecific", "Prefix"/);
    assert.match(message, /spec\.rules\[2\]\.http\.paths\[0\]\.backend: Invalid value: "": resource or service backend is required/);
  });

  test('the legacy class annotation must match ingressClassName', async () => {
    const res = await send('post', ING, {
      metadata: { name: 'mismatch', annotations: { 'kubernetes.io/ingress.class': 'nginx' } }, spec: { ingressClassName: 'traefik', defaultBackend: backend },
    }, 422);
    assert.match(res.message, /annotations\.kubernetes\.io\/ingress\.class: Invalid value: "nginx": must match `ingressClassName` when both are specified/);
  });

  test('IngressClass: controller checks, immutability, parameters scope default, Table', async () => {
    const bad = await send('post', `${N}/ingressclasses`, { metadata: { name: 'bad' }, spec: { controller: 'nginx' } }, 422);
    assert.equal(bad.message, 'IngressClass.networking.k8s.io "bad" is invalid: spec.controller: Invalid value: "nginx": must be a domain-prefixed path (such as "acme.io/foo")');
    const created = await send('post', `${N}/ingressclasses`, {
      metadata: { name: 'nginx', annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } },
      spec: { controller: 'k8s.io/ingress-nginx', parameters: { apiGroup: 'k8s.example.com', kind: 'IngressParameters', name: 'external-lb' } },
    }, 201);
    assert.equal(created.spec.parameters.scope, 'Cluster');
    assert.equal(created.metadata.generation, 1);
    const changed = await send('patch', `${N}/ingressclasses/nginx`, { spec: { controller: 'example.com/other' } }, 422);
    assert.match(changed.message, /spec\.controller: Invalid value: "example\.com\/other": field is immutable/);
    const table = await get(`${N}/ingressclasses`, TABLE);
    assert.deepEqual(table.columnDefinitions.map((c: Json) => c.name), ['Name', 'Controller', 'Parameters', 'Age']);
    assert.deepEqual(table.rows[0].cells.slice(0, 3), ['nginx', 'k8s.io/ingress-nginx', 'IngressParameters.k8s.example.com/external-lb']);
  });

  test('a new Ingress without a class gets the default IngressClass; status and Table', async () => {
    const created = await send('post', ING, {
      metadata: { name: 'web' },
      spec: { tls: [{ hosts: ['a.example.com'], secretName: 'tls' }], rules: [{ host: 'a.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend }] } }, { host: 'b.example.com' }] },
      status: { loadBalancer: { ingress: [{ ip: '1.2.3.4' }] } },
    }, 201);
    assert.equal(created.spec.ingressClassName, 'nginx');
    assert.deepEqual(created.status, { loadBalancer: {} });
    const badStatus = await send('patch', `${ING}/web/status`, { status: { loadBalancer: { ingress: [{ hostname: '1.2.3.4' }] } } }, 422);
    assert.match(badStatus.message, /status\.loadBalancer\.ingress\[0\]\.hostname: Invalid value: "1\.2\.3\.4": must be a DNS name, not an IP address/);
    await send('patch', `${ING}/web/status`, { status: { loadBalancer: { ingress: [{ ip: '192.0.2.10' }, { hostname: 'lb.example.com' }] } } }, 200);
    const table = await get(ING, TABLE);
    assert.deepEqual(table.columnDefinitions.map((c: Json) => c.name), ['Name', 'Class', 'Hosts', 'Address', 'Ports', 'Age']);
    assert.deepEqual(table.rows[0].cells.slice(0, 5), ['web', 'nginx', 'a.example.com,b.example.com', '192.0.2.10,lb.example.com', '80, 443']);
  });

  test('a new claim without a class gets the default StorageClass', async () => {
    await send('post', '/apis/storage.k8s.io/v1/storageclasses', {
      metadata: { name: 'standard', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } }, provisioner: 'example.com/standard',
    }, 201);
    const claim = await send('post', '/api/v1/namespaces/default/persistentvolumeclaims', {
      metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
    }, 201);
    assert.equal(claim.spec.storageClassName, 'standard');
    const explicit = await send('post', '/api/v1/namespaces/default/persistentvolumeclaims', {
      metadata: { name: 'static' }, spec: { storageClassName: '', accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
    }, 201);
    assert.equal(explicit.spec.storageClassName, '');
  });

  test('discovery: ingresses (ing) with status, ingressclasses', async () => {
    const list = await get(N);
    const byName = new Map((list.resources as Json[]).map((r) => [r.name, r]));
    assert.deepEqual(byName.get('ingresses')?.shortNames, ['ing']);
    assert.ok(byName.has('ingresses/status'));
    assert.equal(byName.get('ingressclasses')?.namespaced, false);
  });
});
