// The Node authorizer's graph beyond pods: a node reads the secrets and configmaps, and requests tokens
// for the service accounts, that pods bound to it reference — and nothing else.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { json, startTestServer, type TestServer } from './helpers/api-server.ts';

const NS = '/api/v1/namespaces/default';

describe('node authorizer graph: secrets, configmaps, service accounts', () => {
  let t: TestServer;
  let node1: string;
  let node2: string;
  before(async () => {
    t = await startTestServer('node-graph');
    node1 = t.server.credentials.token({ username: 'system:node:node-1', groups: ['system:nodes'] }, 600);
    node2 = t.server.credentials.token({ username: 'system:node:node-2', groups: ['system:nodes'] }, 600);
  });
  after(async () => { await t.close(); });

  const as = (token: string, method: 'get' | 'post', path: string) => t.anonymous(method, path).set('Authorization', `Bearer ${token}`);

  test('a node reads what its pods reference, only while they do', async () => {
    await json(t.call('post', `${NS}/secrets`), { metadata: { name: 'db' }, stringData: { password: 'x' } }).expect(201);
    await json(t.call('post', `${NS}/secrets`), { metadata: { name: 'pull' }, type: 'kubernetes.io/dockerconfigjson', stringData: { '.dockerconfigjson': '{}' } }).expect(201);
    await json(t.call('post', `${NS}/configmaps`), { metadata: { name: 'settings' }, data: { a: 'b' } }).expect(201);
    await json(t.call('post', `${NS}/configmaps`), { metadata: { name: 'unrelated' }, data: { a: 'b' } }).expect(201);
    await json(t.call('post', `${NS}/serviceaccounts`), { metadata: { name: 'runner' } }).expect(201);
    await json(t.call('post', `${NS}/pods`), {
      metadata: { name: 'app' },
      spec: {
        serviceAccountName: 'runner', imagePullSecrets: [{ name: 'pull' }],
        containers: [{ name: 'c', image: 'nginx', env: [{ name: 'P', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } }] }],
        volumes: [{ name: 'v', projected: { sources: [{ configMap: { name: 'settings' } }] } }],
      },
    }).expect(201);
    // Not bound yet: no edge to any node.
    await as(node1, 'get', `${NS}/secrets/db`).expect(403);
    await json(t.call('post', `${NS}/pods/app/binding`), { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'app' }, target: { kind: 'Node', name: 'node-1' } }).expect(201);
    const allowed = async (token: string, path: string) => {
      for (let i = 0; i < 50; i++) {
        const res = await as(token, 'get', path);
        if (res.status !== 403) return res.status;
        await new Promise((r) => setTimeout(r, 20));
      }
      return 403;
    };
    assert.equal(await allowed(node1, `${NS}/secrets/db`), 200);
    assert.equal(await allowed(node1, `${NS}/secrets/pull`), 200);
    assert.equal(await allowed(node1, `${NS}/configmaps/settings`), 200);
    assert.equal(await allowed(node1, `${NS}/serviceaccounts/runner`), 403);
    const denied = await as(node1, 'get', `${NS}/configmaps/unrelated`).expect(403);
    assert.match(denied.body.message, /configmaps "unrelated" is forbidden: User "system:node:node-1" cannot get resource "configmaps"/);
    assert.match(denied.body.message, /no relationship found between node 'node-1' and this object/);
    await as(node2, 'get', `${NS}/secrets/db`).expect(403);
    await json(as(node1, 'post', `${NS}/serviceaccounts/runner/token`), { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: {} }).expect(201);
    await json(as(node2, 'post', `${NS}/serviceaccounts/runner/token`), { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: {} }).expect(403);

    await t.call('delete', `${NS}/pods/app?gracePeriodSeconds=0`).expect(200);
    let status = 200;
    for (let i = 0; i < 50 && status === 200; i++) {
      status = (await as(node1, 'get', `${NS}/secrets/db`)).status;
      if (status === 200) await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(status, 403);
  });
});
