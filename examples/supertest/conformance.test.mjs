// A conformance-style suite with supertest against the API server's request handler (createApp), the
// way express apps are tested: no port to manage, the same authentication, authorization, admission,
// validation and storage as over HTTPS. Run: node --test examples/supertest/

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import request from 'supertest';
import { createApp } from 'kubefacade';

let app;
const admin = (call) => call.set('Authorization', `Bearer ${app.adminToken}`);
before(async () => { app = await createApp(); });
after(async () => { await app.close(); });

test('Namespace lifecycle: create, get, list by label, delete', async () => {
  const created = await admin(request(app).post('/api/v1/namespaces'))
    .send({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'conformance', labels: { e2e: 'true' } } }).expect(201);
  assert.equal(created.body.status.phase, 'Active');
  const listed = await admin(request(app).get('/api/v1/namespaces?labelSelector=e2e%3Dtrue')).expect(200);
  assert.deepEqual(listed.body.items.map((ns) => ns.metadata.name), ['conformance']);
  await admin(request(app).delete('/api/v1/namespaces/conformance')).expect(200);
});

test('an invalid Pod is refused with a Kubernetes Status naming the field', async () => {
  const res = await admin(request(app).post('/api/v1/namespaces/default/pods'))
    .send({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'Bad_Name' }, spec: { containers: [{ name: 'c', image: 'nginx' }] } }).expect(422);
  assert.equal(res.body.kind, 'Status');
  assert.equal(res.body.reason, 'Invalid');
  assert.match(res.body.message, /metadata\.name/);
});

test('requests without credentials: 401, except the public health and version paths', async () => {
  await request(app).get('/api/v1/namespaces').expect(401);
  const readyz = await request(app).get('/readyz?verbose').expect(200);
  assert.match(readyz.text, /\[\+\]etcd ok\n[\s\S]*readyz check passed\n$/);
  const version = await request(app).get('/version').expect(200);
  assert.equal(version.body.major, '1');
});
