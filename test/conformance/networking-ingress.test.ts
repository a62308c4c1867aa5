// Conformance entries for networking.k8s.io/v1 Ingress and IngressClass: discovery, and every verb
// the description names (create, get, list, watch, update, patch, delete, deletecollection, and
// the Ingress status subresource), against a running API server.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startConformanceCluster, type ConformanceCluster, type Json } from './helpers/cluster.ts';

const N = '/apis/networking.k8s.io/v1';
const MERGE = 'application/merge-patch+json';
const names = (list: Json): string[] => (list.items as Json[]).map((item) => item.metadata.name as string).sort();

describe('conformance: networking ingress', () => {
  let c: ConformanceCluster;
  before(async () => { c = await startConformanceCluster('networking-ingress'); });
  after(async () => { await c.stop(); });

  const discover = async (resource: string): Promise<Json> => {
    const groups = await c.api('get', '/apis');
    assert.ok((groups.groups as Json[]).some((g) => g.name === 'networking.k8s.io'), 'networking.k8s.io in /apis');
    const group = await c.api('get', '/apis/networking.k8s.io');
    assert.ok((group.versions as Json[]).some((v) => v.groupVersion === 'networking.k8s.io/v1'));
    const list = await c.api('get', N);
    const found = (list.resources as Json[]).find((r) => r.name === resource);
    assert.ok(found, `${resource} in ${N}`);
    return { list, found };
  };
  const watchText = async (path: string): Promise<string> => {
    const res = await c.raw('get', path).buffer(true).parse((response, done) => {
      let text = '';
      response.on('data', (chunk: Buffer) => { text += chunk.toString(); });
      response.on('end', () => done(null, text));
    });
    return String(res.body);
  };

  test('Ingress API', async () => {
    const { list } = await discover('ingresses');
    assert.ok((list.resources as Json[]).some((r) => r.name === 'ingresses/status'));
    const path = `${N}/namespaces/default/ingresses`;
    const ingress = (name: string) => ({
      metadata: { name, labels: { 'e2e-test': 'ingress' } },
      spec: { defaultBackend: { service: { name: 'default-backend', port: { number: 8080 } } },
        rules: [{ host: 'foo.bar.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'test-backend', port: { number: 8080 } } } }] } }] },
    });
    for (const name of ['ingress-1', 'ingress-2', 'ingress-3']) await c.api('post', path, { body: ingress(name), expect: 201 });
    assert.equal((await c.api('get', `${path}/ingress-1`)).spec.rules[0].host, 'foo.bar.com');
    assert.deepEqual(names(await c.api('get', `${path}?labelSelector=e2e-test%3Dingress`)), ['ingress-1', 'ingress-2', 'ingress-3']);
    assert.deepEqual(names(await c.api('get', `${N}/ingresses?labelSelector=e2e-test%3Dingress`)), ['ingress-1', 'ingress-2', 'ingress-3']);
    const started = await c.api('get', `${path}?labelSelector=e2e-test%3Dingress`);
    const patched = await c.api('patch', `${path}/ingress-1`, { body: { metadata: { annotations: { patched: 'true' } } }, contentType: MERGE });
    assert.equal(patched.metadata.annotations.patched, 'true');
    const current = await c.api('get', `${path}/ingress-1`);
    const updated = await c.api('put', `${path}/ingress-1`, { body: { ...current, metadata: { ...current.metadata, annotations: { ...current.metadata.annotations, updated: 'true' } } } });
    assert.equal(updated.metadata.annotations.updated, 'true');
    const events = await watchText(`${path}?watch=true&labelSelector=e2e-test%3Dingress&resourceVersion=${started.metadata.resourceVersion}&timeoutSeconds=1`);
    assert.match(events, /"type":"MODIFIED"/);
    const statusPatched = await c.api('patch', `${path}/ingress-1/status`, {
      body: { status: { loadBalancer: { ingress: [{ ip: '169.1.1.1' }] } } }, contentType: MERGE,
    });
    assert.equal(statusPatched.status.loadBalancer.ingress[0].ip, '169.1.1.1');
    const withStatus = await c.api('get', `${path}/ingress-1/status`);
    const statusUpdated = await c.api('put', `${path}/ingress-1/status`, {
      body: { ...withStatus, status: { loadBalancer: { ingress: [{ ip: '169.1.1.2' }] } } },
    });
    assert.equal(statusUpdated.status.loadBalancer.ingress[0].ip, '169.1.1.2');
    await c.api('delete', `${path}/ingress-1`);
    await c.api('get', `${path}/ingress-1`, { expect: 404 });
    await c.api('delete', `${path}?labelSelector=e2e-test%3Dingress`);
    assert.deepEqual(names(await c.api('get', `${path}?labelSelector=e2e-test%3Dingress`)), []);
  });

  test('IngressClass API', async () => {
    await discover('ingressclasses');
    const path = `${N}/ingressclasses`;
    const ingressClass = (name: string) => ({ metadata: { name, labels: { 'e2e-test': 'ingressclass' } }, spec: { controller: 'example.com/controller' } });
    for (const name of ['ic-1', 'ic-2', 'ic-3']) await c.api('post', path, { body: ingressClass(name), expect: 201 });
    assert.equal((await c.api('get', `${path}/ic-1`)).spec.controller, 'example.com/controller');
    const listed = await c.api('get', `${path}?labelSelector=e2e-test%3Dingressclass`);
    assert.deepEqual(names(listed), ['ic-1', 'ic-2', 'ic-3']);
    const patched = await c.api('patch', `${path}/ic-1`, { body: { metadata: { annotations: { patched: 'true' } } }, contentType: MERGE });
    assert.equal(patched.metadata.annotations.patched, 'true');
    const current = await c.api('get', `${path}/ic-1`);
    const updated = await c.api('put', `${path}/ic-1`, { body: { ...current, metadata: { ...current.metadata, annotations: { ...current.metadata.annotations, updated: 'true' } } } });
    assert.equal(updated.metadata.annotations.updated, 'true');
    const events = await watchText(`${path}?watch=true&labelSelector=e2e-test%3Dingressclass&resourceVersion=${listed.metadata.resourceVersion}&timeoutSeconds=1`);
    assert.match(events, /"type":"MODIFIED"/);
    await c.api('delete', `${path}/ic-1`);
    await c.api('get', `${path}/ic-1`, { expect: 404 });
    await c.api('delete', `${path}?labelSelector=e2e-test%3Dingressclass`);
    assert.deepEqual(names(await c.api('get', `${path}?labelSelector=e2e-test%3Dingressclass`)), []);
  });
});
