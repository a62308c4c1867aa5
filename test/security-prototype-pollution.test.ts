// Issue 13 item 1: request data must never reach Object.prototype. The exploit as filed: mallory, who
// may only patch pods in one namespace, sends a strategic merge patch with a `__proto__` member; if it
// pollutes Object.prototype, the JWT reader finds `groups` through the prototype and every token minted
// without groups becomes system:masters. The labels variant made every unlabelled pod match a selector.
// This file runs the server WITHOUT the start-up freeze (server/harden-intrinsics.ts), so it tests the
// first wall: the decoders and patch engines themselves.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApiServer, type RunningApiServer } from '../server/start.ts';
import { callApi, type Credentials } from './helpers/auth-client.ts';
import { intrinsicsSnapshot, type IntrinsicsSnapshot } from './helpers/intrinsics.ts';

const RBAC = '/apis/rbac.authorization.k8s.io/v1';
const POD = '/api/v1/namespaces/t1/pods/p1';

async function sendRaw(server: RunningApiServer, method: string, path: string, credentials: Credentials, body: string, contentType: string) {
  const { request } = await import('node:https');
  return new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = request(`${server.url}${path}`, {
      method, ca: server.caCertPem, agent: false,
      headers: { Authorization: `Bearer ${credentials.token}`, 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body), Accept: 'application/json' },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('prototype pollution through request data (issue 13, item 1)', () => {
  let dir: string;
  let server: RunningApiServer;
  let admin: Credentials;
  let mallory: Credentials;
  let bob: Credentials;
  let pristine: IntrinsicsSnapshot;

  before(async () => {
    pristine = intrinsicsSnapshot();
    dir = await mkdtemp(join(tmpdir(), 'kubefacade-proto-'));
    server = await startApiServer({ dataDir: dir, bind: '127.0.0.1', port: 0, tlsSans: [], disableAdmissionPlugins: ['ServiceAccount'] });
    admin = { token: server.adminToken };
    mallory = { token: server.credentials.token({ username: 'mallory', groups: ['dev'] }, 3600) };
    const ok = async (method: string, path: string, body: unknown) => {
      const res = await callApi(server, method, path, admin, body);
      assert.ok(res.status < 300, `${method} ${path}: ${res.status} ${res.text}`);
    };
    await ok('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 't1' } });
    await ok('POST', '/api/v1/namespaces/t1/pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p1' }, spec: { containers: [{ name: 'c', image: 'nginx' }] } });
    await ok('POST', '/api/v1/namespaces/t1/pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'unlabelled' }, spec: { containers: [{ name: 'c', image: 'nginx' }] } });
    await ok('POST', `${RBAC}/namespaces/t1/roles`, {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'pp' },
      rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'patch'] }],
    });
    await ok('POST', `${RBAC}/namespaces/t1/rolebindings`, {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'm' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'pp' }, subjects: [{ kind: 'User', name: 'mallory' }],
    });
  });

  after(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test("mallory's strategic merge patch does not make a token without groups system:masters", async () => {
    const res = await sendRaw(server, 'PATCH', POD, mallory, '{"metadata":{"__proto__":{"groups":["system:masters"]}}}', 'application/strategic-merge-patch+json');
    assert.ok(res.status < 500, res.text);
    assert.deepEqual(intrinsicsSnapshot(), pristine, 'Object.prototype and friends must be untouched');
    // A token minted after the patch, for a user without groups.
    bob = { token: server.credentials.token({ username: 'bob', groups: [] }, 3600) };
    const review = await callApi(server, 'POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', bob,
      { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' });
    assert.equal(review.status, 201, review.text);
    const groups = (review.body as { status: { userInfo: { groups: string[] } } }).status.userInfo.groups;
    assert.deepEqual(groups, ['system:authenticated']);
    const escalate = await callApi(server, 'POST', `${RBAC}/clusterrolebindings`, bob, {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'bob-admin' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' }, subjects: [{ kind: 'User', name: 'bob' }],
    });
    assert.equal(escalate.status, 403, escalate.text);
  });

  test('the labels variant does not make unlabelled pods match a selector', async () => {
    for (const body of [
      '{"metadata":{"__proto__":{"labels":{"evil3":"1"}}}}',
      '{"metadata":{"labels":{"__proto__":{"evil3":"1"}}}}',
    ]) {
      const res = await sendRaw(server, 'PATCH', POD, mallory, body, 'application/strategic-merge-patch+json');
      assert.ok(res.status < 500, res.text);
    }
    assert.deepEqual(intrinsicsSnapshot(), pristine);
    const list = await callApi(server, 'GET', '/api/v1/namespaces/t1/pods?labelSelector=evil3%3D1', admin);
    assert.equal(list.status, 200);
    assert.deepEqual((list.body as { items: unknown[] }).items, []);
  });

  test('no body format or patch type reaches a prototype through __proto__, constructor or prototype keys', async () => {
    const payloads = [
      '{"metadata":{"__proto__":{"polluted":"yes"}}}',
      '{"__proto__":{"polluted":"yes"},"metadata":{"labels":{"__proto__":{"polluted":"yes"}}}}',
      '{"metadata":{"constructor":{"prototype":{"polluted":"yes"}}}}',
      '{"metadata":{"labels":{"constructor":{"prototype":{"polluted":"yes"}}}}}',
      '{"spec":{"containers":[{"name":"c","__proto__":{"polluted":"yes"}}]}}',
      '{"spec":{"containers":[{"name":"c","constructor":{"prototype":{"polluted":"yes"}}}]}}',
      '{"spec":{"nodeSelector":{"__proto__":{"polluted":"yes"}}}}',
      '{"metadata":{"annotations":{"toString":"x","valueOf":"y","hasOwnProperty":"z"}}}',
      '{"$setElementOrder/__proto__":[{"polluted":"yes"}],"__proto__":[{"polluted":"yes"}]}',
      '{"metadata":{"$retainKeys":["__proto__"],"__proto__":{"polluted":"yes"}}}',
    ];
    const types = ['application/strategic-merge-patch+json', 'application/merge-patch+json'];
    for (const body of payloads) {
      for (const type of types) {
        const res = await sendRaw(server, 'PATCH', POD, admin, body, type);
        assert.ok(res.status < 500, `${type} ${body}: ${res.status} ${res.text}`);
      }
      const apply = await sendRaw(server, 'PATCH', `${POD}?fieldManager=fuzz&force=true`, admin,
        JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p1' } }).slice(0, -1) + ',' + body.slice(1), 'application/apply-patch+yaml');
      assert.ok(apply.status < 500, `apply ${body}: ${apply.status} ${apply.text}`);
    }
    for (const ops of [
      '[{"op":"add","path":"/metadata/__proto__/polluted","value":"yes"}]',
      '[{"op":"add","path":"/metadata/constructor/prototype/polluted","value":"yes"}]',
      '[{"op":"copy","from":"/metadata","path":"/__proto__"}]',
    ]) {
      const res = await sendRaw(server, 'PATCH', POD, admin, ops, 'application/json-patch+json');
      assert.ok(res.status < 500, `${ops}: ${res.status} ${res.text}`);
    }
    const yaml = 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: y1\n  __proto__:\n    polluted: "yes"\n  labels:\n    __proto__: {polluted: "yes"}\n    constructor: {prototype: {polluted: "yes"}}\nspec:\n  containers: [{name: c, image: nginx}]\n';
    const created = await sendRaw(server, 'POST', '/api/v1/namespaces/t1/pods', admin, yaml, 'application/yaml');
    assert.ok(created.status < 500, created.text);
    for (const review of [
      { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: { verb: 'get', resource: 'pods' } }, __proto__: { polluted: 'yes' } },
    ]) {
      const res = await sendRaw(server, 'POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', mallory,
        JSON.stringify(review).replace('"spec"', '"__proto__":{"groups":["system:masters"]},"spec"'), 'application/json');
      assert.ok(res.status < 500, res.text);
    }
    assert.deepEqual(intrinsicsSnapshot(), pristine);
    const pod = await callApi(server, 'GET', POD, admin);
    assert.equal(pod.status, 200);
    assert.ok(!pod.text.includes('polluted'), pod.text);
  });
});
