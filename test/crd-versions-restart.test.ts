// Several served versions with conversion None (apiVersion rewritten per request), defaulting on
// read after a default is added to the schema, OpenAPI following version changes, and custom
// resources served again after a restart, before the server answers its first request.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import request from 'supertest';
import { startApiServer, type RunningApiServer } from '../server/start.ts';
import { crdManifest, waitFor } from './helpers/crds.ts';

const CRDS = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';

function versioned(): Record<string, unknown> {
  const base = crdManifest({ group: 'multi.example.com', plural: 'gadgets', kind: 'Gadget' }) as { spec: { versions: Record<string, unknown>[] } };
  const v1 = base.spec.versions[0];
  base.spec.versions = [{ ...structuredClone(v1), name: 'v1beta1', storage: false }, v1];
  return base;
}

describe('CRD versions, read defaulting and restart', () => {
  let dir: string;
  let server: RunningApiServer;
  const call = (method: 'get' | 'post' | 'put' | 'patch' | 'delete', path: string) => request(server.url)[method](path).ca(server.caCertPem).set('Authorization', `Bearer ${server.adminToken}`);
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kubefacade-crd-restart-'));
    server = await startApiServer({ dataDir: dir, bind: '127.0.0.1', port: 0, tlsSans: [] });
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('an object written through v1beta1 is read through v1 with apiVersion rewritten', async () => {
    await call('post', CRDS).send(versioned()).expect(201);
    await waitFor('v1beta1 served', async () => ((await call('get', '/apis/multi.example.com/v1beta1/namespaces/default/gadgets')).status === 200 ? true : undefined));
    const created = await call('post', '/apis/multi.example.com/v1beta1/namespaces/default/gadgets')
      .send({ apiVersion: 'multi.example.com/v1beta1', kind: 'Gadget', metadata: { name: 'g1' }, spec: { image: 'x' } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.apiVersion, 'multi.example.com/v1beta1');
    const v1 = await call('get', '/apis/multi.example.com/v1/namespaces/default/gadgets/g1').expect(200);
    assert.equal(v1.body.apiVersion, 'multi.example.com/v1');
    const list = await call('get', '/apis/multi.example.com/v1/namespaces/default/gadgets').expect(200);
    assert.equal(list.body.items[0].apiVersion, 'multi.example.com/v1');
    const group = await call('get', '/apis/multi.example.com').expect(200);
    assert.deepEqual(group.body.versions.map((v: { version: string }) => v.version), ['v1', 'v1beta1']);
    assert.equal(group.body.preferredVersion.version, 'v1');
    const crd = await call('get', `${CRDS}/gadgets.multi.example.com`).expect(200);
    assert.deepEqual(crd.body.status.storedVersions, ['v1']);
  });

  test('no longer serving a version removes it from discovery and OpenAPI', async () => {
    const crd = await call('get', `${CRDS}/gadgets.multi.example.com`).expect(200);
    crd.body.spec.versions[0].served = false;
    await call('put', `${CRDS}/gadgets.multi.example.com`).send(crd.body).expect(200);
    await waitFor('v1beta1 gone', async () => ((await call('get', '/apis/multi.example.com/v1beta1/namespaces/default/gadgets')).status === 404 ? true : undefined));
    const root = await call('get', '/openapi/v3').expect(200);
    assert.equal(root.body.paths['apis/multi.example.com/v1beta1'], undefined);
    assert.ok(root.body.paths['apis/multi.example.com/v1']);
  });

  test('a default added to the schema later shows on reads of stored objects', async () => {
    const crd = await call('get', `${CRDS}/gadgets.multi.example.com`).expect(200);
    const schema = crd.body.spec.versions[1].schema.openAPIV3Schema.properties.spec.properties;
    schema.colour = { type: 'string', default: 'blue' };
    await call('put', `${CRDS}/gadgets.multi.example.com`).send(crd.body).expect(200);
    const read = await waitFor('default on read', async () => {
      const res = await call('get', '/apis/multi.example.com/v1/namespaces/default/gadgets/g1');
      return res.body.spec?.colour === 'blue' ? res.body : undefined;
    });
    assert.equal(read.spec.image, 'x');
  });

  test('after a restart custom resources are served at once', async () => {
    await server.close();
    server = await startApiServer({ dataDir: dir, bind: '127.0.0.1', port: 0, tlsSans: [] });
    await call('get', '/readyz').expect(200);
    const got = await call('get', '/apis/multi.example.com/v1/namespaces/default/gadgets/g1');
    assert.equal(got.status, 200, JSON.stringify(got.body));
    const resources = await call('get', '/apis/multi.example.com/v1').expect(200);
    assert.equal(resources.body.resources[0].name, 'gadgets');
    const root = await call('get', '/openapi/v3').expect(200);
    assert.ok(root.body.paths['apis/multi.example.com/v1']);
  });
});
