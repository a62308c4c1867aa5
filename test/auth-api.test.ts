// The security APIs over HTTPS: RBAC objects through the generic registry (validation, escalation
// prevention), the review resources, impersonation, and the audit log.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApiServer, type RunningApiServer } from '../server/start.ts';
import { callApi, type Credentials } from './helpers/auth-client.ts';

const RBAC = '/apis/rbac.authorization.k8s.io/v1';
const AUTHZ = '/apis/authorization.k8s.io/v1';
const AUTHN = '/apis/authentication.k8s.io/v1';

describe('security APIs', () => {
  let dir: string;
  let server: RunningApiServer;
  let admin: Credentials;
  let alice: Credentials;
  let bob: Credentials;
  const call = (method: string, path: string, credentials: Credentials, body?: unknown) => callApi(server, method, path, credentials, body);
  const ok = async (method: string, path: string, credentials: Credentials, body?: unknown) => {
    const res = await call(method, path, credentials, body);
    assert.ok(res.status < 300, `${method} ${path}: ${res.status} ${res.text}`);
    return res.body as Record<string, unknown>;
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kubefacade-authapi-'));
    server = await startApiServer({ dataDir: dir, bind: '127.0.0.1', port: 0, tlsSans: [], disableAdmissionPlugins: ['ServiceAccount'], auditLogPath: join(dir, 'audit.log') });
    admin = { token: server.adminToken };
    alice = { token: server.credentials.token({ username: 'alice', groups: ['dev'] }, 3600) };
    bob = { token: server.credentials.token({ username: 'bob', groups: [] }, 3600) };
    await ok('POST', `${RBAC}/namespaces/default/roles`, admin, {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'pod-reader' },
      rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] }],
    });
    await ok('POST', `${RBAC}/namespaces/default/rolebindings`, admin, {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'alice-reads' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'pod-reader' }, subjects: [{ kind: 'User', name: 'alice' }],
    });
    // bob administers namespace team: he may manage roles there, within what he holds.
    await ok('POST', '/api/v1/namespaces', admin, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team' } });
    await ok('POST', `${RBAC}/namespaces/team/rolebindings`, admin, {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'bob-admin' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'admin' }, subjects: [{ kind: 'User', name: 'bob', apiGroup: 'rbac.authorization.k8s.io' }],
    });
  });

  after(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('bindings are defaulted and in force for the very next request', async () => {
    const binding = await ok('GET', `${RBAC}/namespaces/default/rolebindings/alice-reads`, admin);
    assert.deepEqual([binding.roleRef, binding.subjects], [
      { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'pod-reader' },
      [{ kind: 'User', name: 'alice', apiGroup: 'rbac.authorization.k8s.io' }],
    ]);
    assert.equal((await call('GET', '/api/v1/namespaces/default/pods', alice)).status, 200);
    await ok('DELETE', `${RBAC}/namespaces/default/rolebindings/alice-reads`, admin);
    const denied = await call('GET', '/api/v1/namespaces/default/pods', alice);
    assert.equal((denied.body as { message: string }).message, 'pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "default"');
    await ok('POST', `${RBAC}/namespaces/default/rolebindings`, admin, { ...binding, metadata: { name: 'alice-reads' } });
  });

  test('validation as upstream: roleRef is immutable, rules need verbs, namespaced roles have no URLs', async () => {
    const binding = await ok('GET', `${RBAC}/namespaces/default/rolebindings/alice-reads`, admin);
    const changed = await call('PUT', `${RBAC}/namespaces/default/rolebindings/alice-reads`, admin, { ...binding, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'other' } });
    assert.equal(changed.status, 422);
    assert.equal((changed.body as { message: string }).message,
      'RoleBinding.rbac.authorization.k8s.io "alice-reads" is invalid: roleRef: Invalid value: rbac.RoleRef{APIGroup:"rbac.authorization.k8s.io", Kind:"Role", Name:"other"}: cannot change roleRef');
    const bad = await call('POST', `${RBAC}/namespaces/default/roles`, admin, {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'bad' },
      rules: [{ apiGroups: [''], resources: ['pods'], verbs: [] }, { verbs: ['get'], nonResourceURLs: ['/healthz'] }],
    });
    assert.equal((bad.body as { message: string }).message,
      'Role.rbac.authorization.k8s.io "bad" is invalid: [rules[0].verbs: Required value: verbs must contain at least one value, rules[1].nonResourceURLs: Invalid value: []string{"/healthz"}: namespaced rules cannot apply to non-resource URLs]');
    const crb = await call('POST', `${RBAC}/clusterrolebindings`, admin, {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'x' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'pod-reader' }, subjects: [{ kind: 'ServiceAccount', name: 'sa' }],
    });
    assert.equal((crb.body as { message: string }).message,
      'ClusterRoleBinding.rbac.authorization.k8s.io "x" is invalid: [roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole", subjects[0].namespace: Required value]');
  });

  test('escalation prevention through the API: 403 worded as kube, unless the rules are held', async () => {
    const role = (name: string, verbs: string[]) => ({
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name }, rules: [{ apiGroups: [''], resources: ['pods', 'secrets'], verbs }],
    });
    assert.equal((await call('POST', `${RBAC}/namespaces/team/roles`, bob, role('readers', ['get', 'list']))).status, 201);
    const refused = await call('POST', `${RBAC}/namespaces/team/roles`, bob, role('escalated', ['escalate', 'get']));
    assert.equal(refused.status, 403);
    assert.deepEqual(refused.body, {
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure',
      message: 'roles.rbac.authorization.k8s.io "escalated" is forbidden: user "bob" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n'
        + '{APIGroups:[""], Resources:["pods"], Verbs:["escalate"]}\n{APIGroups:[""], Resources:["secrets"], Verbs:["escalate"]}',
      reason: 'Forbidden', details: { name: 'escalated', group: 'rbac.authorization.k8s.io', kind: 'roles' }, code: 403,
    });
    assert.equal((await call('GET', `${RBAC}/namespaces/team/roles/escalated`, admin)).status, 404);
    const bind = await call('POST', `${RBAC}/namespaces/team/rolebindings`, bob, {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'root' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' }, subjects: [{ kind: 'User', name: 'bob', apiGroup: 'rbac.authorization.k8s.io' }],
    });
    assert.equal(bind.status, 403);
    assert.equal((bind.body as { message: string }).message, 'rolebindings.rbac.authorization.k8s.io "root" is forbidden: user "bob" (groups=["system:authenticated"]) '
      + 'is attempting to grant RBAC permissions not currently held:\n{APIGroups:["*"], Resources:["*"], Verbs:["*"]}\n{NonResourceURLs:["*"], Verbs:["*"]}');
  });

  test('access reviews answer with the request authorizer, for oneself or (with rights) anyone', async () => {
    const ssar = await call('POST', `${AUTHZ}/selfsubjectaccessreviews`, alice, {
      apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview',
      spec: { resourceAttributes: { namespace: 'default', verb: 'list', resource: 'pods' } },
    });
    assert.deepEqual([ssar.status, ssar.body], [201, {
      apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', metadata: {},
      spec: { resourceAttributes: { namespace: 'default', verb: 'list', resource: 'pods' } },
      status: { allowed: true, reason: 'RBAC: allowed by RoleBinding "alice-reads/default" of Role "pod-reader" to User "alice"' },
    }]);
    const denied = await ok('POST', `${AUTHZ}/selfsubjectaccessreviews`, alice, {
      apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { nonResourceAttributes: { path: '/metrics', verb: 'get' } },
    });
    assert.deepEqual(denied.status, { allowed: false });
    const invalid = await call('POST', `${AUTHZ}/selfsubjectaccessreviews`, alice, { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: {} });
    assert.deepEqual([invalid.status, (invalid.body as { message: string }).message], [422,
      'SelfSubjectAccessReview.authorization.k8s.io "" is invalid: spec.resourceAttributes: Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified']);
    const sar = { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec: { user: 'alice', groups: ['dev'], resourceAttributes: { namespace: 'default', verb: 'get', resource: 'pods' } } };
    assert.deepEqual((await ok('POST', `${AUTHZ}/subjectaccessreviews`, admin, sar)).status, {
      allowed: true, reason: 'RBAC: allowed by RoleBinding "alice-reads/default" of Role "pod-reader" to User "alice"',
    });
    const forbidden = await call('POST', `${AUTHZ}/subjectaccessreviews`, alice, sar);
    assert.equal((forbidden.body as { message: string }).message,
      'subjectaccessreviews.authorization.k8s.io is forbidden: User "alice" cannot create resource "subjectaccessreviews" in API group "authorization.k8s.io" at the cluster scope');
    const local = await ok('POST', `${AUTHZ}/namespaces/team/localsubjectaccessreviews`, bob, {
      apiVersion: 'authorization.k8s.io/v1', kind: 'LocalSubjectAccessReview', spec: { user: 'carol', resourceAttributes: { namespace: 'team', verb: 'get', resource: 'pods' } },
    });
    assert.deepEqual(local.status, { allowed: false });
    assert.equal((await call('GET', `${AUTHZ}/selfsubjectaccessreviews`, admin)).status, 405);
  });

  test('rules review and token review', async () => {
    const rules = await ok('POST', `${AUTHZ}/selfsubjectrulesreviews`, alice, { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectRulesReview', spec: { namespace: 'default' } });
    const status = rules.status as { resourceRules: { resources: string[]; verbs: string[] }[]; incomplete: boolean };
    assert.equal(status.incomplete, false);
    assert.deepEqual(status.resourceRules.find((r) => r.resources.includes('pods')), { verbs: ['get', 'list', 'watch'], apiGroups: [''], resources: ['pods'] });
    const token = server.credentials.token({ username: 'dora', groups: ['qa'] }, 60);
    const review = await ok('POST', `${AUTHN}/tokenreviews`, admin, { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } });
    assert.deepEqual(review.status, { authenticated: true, user: { username: 'dora', groups: ['qa', 'system:authenticated'] }, audiences: ['kubefacade'] });
    const bad = await ok('POST', `${AUTHN}/tokenreviews`, admin, { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: 'nope' } });
    assert.deepEqual(bad.status, { user: {}, error: 'invalid bearer token' });
  });

  test('impersonation: allowed for admins, refused for others in kube\'s words', async () => {
    const asAlice = await ok('POST', `${AUTHN}/selfsubjectreviews`, { ...admin, headers: { 'Impersonate-User': 'alice', 'Impersonate-Extra-Scopes': ['a', 'b'] } },
      { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' });
    assert.deepEqual((asAlice.status as { userInfo: unknown }).userInfo, { username: 'alice', groups: ['system:authenticated'], extra: { scopes: ['a', 'b'] } });
    const asGroup = await ok('POST', `${AUTHN}/selfsubjectreviews`, { ...admin, headers: { 'Impersonate-User': 'alice', 'Impersonate-Group': ['dev', 'system:authenticated'], 'Impersonate-Uid': 'u-1' } },
      { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' });
    assert.deepEqual((asGroup.status as { userInfo: unknown }).userInfo, { username: 'alice', uid: 'u-1', groups: ['dev', 'system:authenticated'] });
    // Impersonated groups come with system:authenticated (system:unauthenticated for system:anonymous).
    const withGroup = await ok('POST', `${AUTHN}/selfsubjectreviews`, { ...admin, headers: { 'Impersonate-User': 'alice', 'Impersonate-Group': 'dev' } },
      { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' });
    assert.deepEqual((withGroup.status as { userInfo: unknown }).userInfo, { username: 'alice', groups: ['dev', 'system:authenticated'] });
    const anonymous = await call('POST', `${AUTHN}/selfsubjectreviews`, { ...admin, headers: { 'Impersonate-User': 'system:anonymous' } },
      { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' });
    assert.deepEqual([anonymous.status, (anonymous.body as { message: string }).message], [403,
      'selfsubjectreviews.authentication.k8s.io is forbidden: User "system:anonymous" cannot create resource "selfsubjectreviews" in API group "authentication.k8s.io" at the cluster scope']);
    const asSa = await ok('POST', `${AUTHN}/selfsubjectreviews`, { ...admin, headers: { 'Impersonate-User': 'system:serviceaccount:team:builder' } },
      { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' });
    assert.deepEqual((asSa.status as { userInfo: unknown }).userInfo, {
      username: 'system:serviceaccount:team:builder', groups: ['system:serviceaccounts', 'system:serviceaccounts:team', 'system:authenticated'],
    });
    const refused = await call('GET', '/api/v1/namespaces/default/pods', { ...alice, headers: { 'Impersonate-User': 'bob' } });
    assert.deepEqual([refused.status, refused.body], [403, {
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure',
      message: 'users "bob" is forbidden: User "alice" cannot impersonate resource "users" in API group "" at the cluster scope',
      reason: 'Forbidden', details: { name: 'bob', kind: 'users' }, code: 403,
    }]);
    // bob (admin, so edit, in team) may impersonate service accounts of team, but not groups.
    assert.equal((await call('GET', '/api/v1/namespaces/team/pods', { ...bob, headers: { 'Impersonate-User': 'system:serviceaccount:team:builder' } })).status, 403);
    const group = await call('GET', '/api/v1/namespaces/team/pods', { ...bob, headers: { 'Impersonate-User': 'system:serviceaccount:team:builder', 'Impersonate-Group': 'system:masters' } });
    assert.equal((group.body as { message: string }).message, 'groups "system:masters" is forbidden: User "bob" cannot impersonate resource "groups" in API group "" at the cluster scope');
  });

  test('the audit log has one audit.k8s.io/v1 event per request', async () => {
    await call('GET', '/api/v1/namespaces/team/pods/web', { ...admin, headers: { 'Impersonate-User': 'alice', 'User-Agent': 'audit-test/1.0' } });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const events = (await readFile(join(dir, 'audit.log'), 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    // RequestReceived then ResponseComplete, one auditID.
    const stages = events.filter((e) => e.userAgent === 'audit-test/1.0');
    assert.deepEqual(stages.map((e) => e.stage), ['RequestReceived', 'ResponseComplete']);
    assert.equal(stages[0].auditID, stages[1].auditID);
    assert.equal(stages[0].responseStatus, undefined);
    const event = stages[1];
    assert.match(event.auditID as string, /^[0-9a-f-]{36}$/);
    assert.match(event.requestReceivedTimestamp as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    assert.ok((event.stageTimestamp as string) >= (event.requestReceivedTimestamp as string));
    const { auditID: _id, requestReceivedTimestamp: _r, stageTimestamp: _s, ...rest } = event;
    assert.deepEqual(rest, {
      kind: 'Event', apiVersion: 'audit.k8s.io/v1', level: 'Metadata', stage: 'ResponseComplete',
      requestURI: '/api/v1/namespaces/team/pods/web', verb: 'get',
      user: { username: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] },
      impersonatedUser: { username: 'alice', groups: ['system:authenticated'] },
      sourceIPs: ['127.0.0.1'], userAgent: 'audit-test/1.0',
      objectRef: { resource: 'pods', namespace: 'team', name: 'web', apiVersion: 'v1' },
      responseStatus: {
        metadata: {}, status: 'Failure', reason: 'Forbidden', code: 403,
        message: 'pods "web" is forbidden: User "alice" cannot get resource "pods" in API group "" in the namespace "team"',
      },
      annotations: { 'authorization.k8s.io/decision': 'forbid', 'authorization.k8s.io/reason': '' },
    });
    const created = events.find((e) => e.verb === 'create' && e.stage === 'ResponseComplete' && (e.objectRef as { name?: string; resource?: string })?.resource === 'roles')!;
    assert.deepEqual(created.responseStatus, { metadata: {}, code: 201 });
    // The created object's name, which the URL of a create does not carry.
    const { name: createdName, ...ref } = created.objectRef as { name?: string };
    assert.ok(createdName, 'objectRef.name of a create');
    assert.deepEqual(ref, { resource: 'roles', namespace: 'default', apiGroup: 'rbac.authorization.k8s.io', apiVersion: 'v1' });
  });
});

describe('bootstrap policy reconciliation at start', () => {
  test('missing defaults come back, additions stay, autoupdate=false is respected', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kubefacade-reconcile-'));
    const start = () => startApiServer({ dataDir: dir, bind: '127.0.0.1', port: 0, tlsSans: [], disableAdmissionPlugins: ['ServiceAccount'] });
    let server = await start();
    try {
      const admin = () => ({ token: server.adminToken });
      const get = async (path: string) => (await callApi(server, 'GET', path, admin())).body as Record<string, unknown> & { metadata: Record<string, unknown> };
      const put = async (path: string, body: unknown) => assert.equal((await callApi(server, 'PUT', path, admin(), body)).status, 200);
      const basicUser = await get(`${RBAC}/clusterroles/system:basic-user`);
      await put(`${RBAC}/clusterroles/system:basic-user`, {
        ...basicUser, metadata: { ...basicUser.metadata, labels: { ...(basicUser.metadata.labels as object), mine: 'yes' } },
        rules: [{ apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews'], verbs: ['create'] }, { apiGroups: [''], resources: ['configmaps'], verbs: ['get'] }],
      });
      const discovery = await get(`${RBAC}/clusterroles/system:discovery`);
      const pinned = { ...discovery, metadata: { ...discovery.metadata, annotations: { 'rbac.authorization.kubernetes.io/autoupdate': 'false' } }, rules: [{ nonResourceURLs: ['/version'], verbs: ['get'] }] };
      await put(`${RBAC}/clusterroles/system:discovery`, pinned);
      assert.equal((await callApi(server, 'DELETE', `${RBAC}/clusterrolebindings/system:public-info-viewer`, admin())).status, 200);
      await server.close();
      server = await start();

      const restored = await get(`${RBAC}/clusterroles/system:basic-user`);
      assert.equal((restored.metadata.labels as Record<string, string>).mine, 'yes');
      assert.deepEqual(restored.rules, [
        { apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews'], verbs: ['create'] },
        { apiGroups: [''], resources: ['configmaps'], verbs: ['get'] },
        { apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectrulesreviews'], verbs: ['create'] },
        { apiGroups: ['authentication.k8s.io'], resources: ['selfsubjectreviews'], verbs: ['create'] },
      ]);
      assert.deepEqual((await get(`${RBAC}/clusterroles/system:discovery`)).rules, pinned.rules);
      const binding = await get(`${RBAC}/clusterrolebindings/system:public-info-viewer`);
      assert.deepEqual(binding.subjects, [
        { apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'system:authenticated' },
        { apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'system:unauthenticated' },
      ]);
    } finally {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
