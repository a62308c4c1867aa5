// ServiceAccounts over HTTPS: the `default` accounts of the built-in namespaces, TokenRequest
// (claims, defaults, bounds, binding to a pod), bearer authentication with the tokens (groups,
// RBAC with a ServiceAccount subject, TokenReview) until the account or pod is deleted, and the
// ServiceAccount admission plugin on pod creation.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import jwt from 'jsonwebtoken';
import { json, podManifest, startTestServer, type TestServer } from './helpers/api-server.ts';

const NS = '/api/v1/namespaces/default';

describe('service accounts', () => {
  let t: TestServer;
  before(async () => { t = await startTestServer('service-accounts', { disableAdmissionPlugins: [] }); });
  after(async () => { await t.close(); });

  const requestToken = (name: string, spec: Record<string, unknown> = {}) =>
    json(t.call('post', `${NS}/serviceaccounts/${name}/token`), { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec });
  const as = (token: string, method: 'get' | 'post', path: string) => t.anonymous(method, path).set('Authorization', `Bearer ${token}`);

  test('the built-in namespaces have a default service account', async () => {
    for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
      await t.call('get', `/api/v1/namespaces/${ns}/serviceaccounts/default`).expect(200);
    }
  });

  test('TokenRequest: upstream claims, defaults and bounds; tokens authenticate until the account is deleted', async () => {
    const account = (await json(t.call('post', `${NS}/serviceaccounts`), { metadata: { name: 'bot' } }).expect(201)).body;
    const res = await requestToken('bot', { expirationSeconds: 1200 }).expect(201);
    assert.equal(res.body.kind, 'TokenRequest');
    assert.equal(res.body.spec.expirationSeconds, 1200);
    assert.deepEqual(res.body.spec.audiences, ['kubefacade']);
    const token: string = res.body.status.token;
    const claims = jwt.decode(token, { json: true })!;
    assert.equal(claims.sub, 'system:serviceaccount:default:bot');
    assert.equal(claims.iss, 'https://kubefacade.local');
    assert.deepEqual(claims.aud, ['kubefacade']);
    assert.equal(claims.exp! - claims.iat!, 1200);
    assert.equal(claims.nbf, claims.iat);
    assert.deepEqual(claims['kubernetes.io'], { namespace: 'default', serviceaccount: { name: 'bot', uid: account.metadata.uid } });
    assert.equal(Date.parse(res.body.status.expirationTimestamp) / 1000, claims.exp);

    const short = await requestToken('bot', { expirationSeconds: 60 }).expect(422);
    assert.equal(short.body.message, 'TokenRequest.authentication.k8s.io "bot" is invalid: spec.expirationSeconds: Invalid value: 60: may not specify a duration less than 10 minutes');
    const missing = await requestToken('ghost').expect(404);
    assert.equal(missing.body.message, 'serviceaccounts "ghost" not found');

    const whoami = await json(as(token, 'post', '/apis/authentication.k8s.io/v1/selfsubjectreviews'), { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' }).expect(201);
    assert.equal(whoami.body.status.userInfo.username, 'system:serviceaccount:default:bot');
    assert.equal(whoami.body.status.userInfo.uid, account.metadata.uid);
    assert.deepEqual(whoami.body.status.userInfo.groups, ['system:serviceaccounts', 'system:serviceaccounts:default', 'system:authenticated']);

    // RBAC with a ServiceAccount subject.
    await as(token, 'get', `${NS}/configmaps`).expect(403);
    await json(t.call('post', '/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles'), {
      metadata: { name: 'cm-reader' }, rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list'] }],
    }).expect(201);
    await json(t.call('post', '/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings'), {
      metadata: { name: 'bot-reads' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'cm-reader' },
      subjects: [{ kind: 'ServiceAccount', name: 'bot', namespace: 'default' }],
    }).expect(201);
    await as(token, 'get', `${NS}/configmaps`).expect(200);

    const review = async () => (await json(t.call('post', '/apis/authentication.k8s.io/v1/tokenreviews'), {
      apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token },
    }).expect(201)).body.status;
    assert.equal((await review()).authenticated, true);

    await t.call('delete', `${NS}/serviceaccounts/bot`).expect(200);
    await waitFor(async () => (await as(token, 'get', `${NS}/configmaps`)).status === 401);
    assert.notEqual((await review()).authenticated, true);
    // A new account of the same name has another uid: the old token stays rejected.
    await json(t.call('post', `${NS}/serviceaccounts`), { metadata: { name: 'bot' } }).expect(201);
    await new Promise((r) => setTimeout(r, 200));
    await as(token, 'get', `${NS}/configmaps`).expect(401);
  });

  test('a token bound to a pod carries the pod and dies with it', async () => {
    await json(t.call('post', `${NS}/serviceaccounts`), { metadata: { name: 'runner' } }).expect(201);
    const pod = (await json(t.call('post', `${NS}/pods`), podManifest('worker', { spec: { serviceAccountName: 'runner' } })).expect(201)).body;
    const res = await requestToken('runner', { boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'worker' } }).expect(201);
    const claims = jwt.decode(res.body.status.token, { json: true })!;
    assert.deepEqual(claims['kubernetes.io'].pod, { name: 'worker', uid: pod.metadata.uid });
    assert.equal(claims.exp! - claims.iat!, 3600);
    const wrongUid = await requestToken('runner', { boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'worker', uid: 'nope' } }).expect(409);
    assert.match(wrongUid.body.message, /the UID in the bound object reference \(nope\) does not match the UID in record/);
    await requestToken('runner', { boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'absent' } }).expect(404);

    const token: string = res.body.status.token;
    await json(as(token, 'post', '/apis/authentication.k8s.io/v1/selfsubjectreviews'), { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' }).expect(201);
    await t.call('delete', `${NS}/pods/worker?gracePeriodSeconds=0`).expect(200);
    await waitFor(async () => (await json(as(token, 'post', '/apis/authentication.k8s.io/v1/selfsubjectreviews'), { kind: 'SelfSubjectReview', apiVersion: 'authentication.k8s.io/v1' })).status === 401);
  });

  test('ServiceAccount admission: default name, missing account refused, projected token volume unless opted out', async () => {
    const pod = (await json(t.call('post', `${NS}/pods`), podManifest('web')).expect(201)).body;
    assert.equal(pod.spec.serviceAccountName, 'default');
    const volume = pod.spec.volumes[0];
    assert.match(volume.name, /^kube-api-access-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    assert.deepEqual(volume.projected, {
      defaultMode: 420,
      sources: [
        { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
        { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
      ],
    });
    assert.deepEqual(pod.spec.containers[0].volumeMounts, [{ name: volume.name, readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' }]);

    const refused = await json(t.call('post', `${NS}/pods`), podManifest('lost', { spec: { serviceAccountName: 'nobody' } })).expect(403);
    assert.equal(refused.body.message, 'pods "lost" is forbidden: error looking up service account default/nobody: serviceaccount "nobody" not found');
    await t.call('get', `${NS}/pods/lost`).expect(404);

    const optOut = (await json(t.call('post', `${NS}/pods`), podManifest('quiet', { spec: { automountServiceAccountToken: false } })).expect(201)).body;
    assert.equal(optOut.spec.volumes, undefined);
    await json(t.call('post', `${NS}/serviceaccounts`), { metadata: { name: 'silent' }, automountServiceAccountToken: false }).expect(201);
    const bySa = (await json(t.call('post', `${NS}/pods`), podManifest('quiet2', { spec: { serviceAccountName: 'silent' } })).expect(201)).body;
    assert.equal(bySa.spec.volumes, undefined);
  });

  test('ServiceAccount admission: a pod without imagePullSecrets takes its account\'s', async () => {
    await json(t.call('post', `${NS}/serviceaccounts`), { metadata: { name: 'puller' }, imagePullSecrets: [{ name: 'registry-a' }, { name: 'registry-b' }] }).expect(201);
    const inherits = (await json(t.call('post', `${NS}/pods`), podManifest('pulls', { spec: { serviceAccountName: 'puller' } })).expect(201)).body;
    assert.deepEqual(inherits.spec.imagePullSecrets, [{ name: 'registry-a' }, { name: 'registry-b' }]);
    const own = (await json(t.call('post', `${NS}/pods`), podManifest('pulls-own', { spec: { serviceAccountName: 'puller', imagePullSecrets: [{ name: 'mine' }] } })).expect(201)).body;
    assert.deepEqual(own.spec.imagePullSecrets, [{ name: 'mine' }]);
  });

  test('ServiceAccount admission: the default account of a new namespace is waited for, then the pod is refused until it exists', async () => {
    // A lone API server runs no service-account controller: the new namespace has no `default` account.
    await json(t.call('post', '/api/v1/namespaces'), { metadata: { name: 'fresh' } }).expect(201);
    const started = Date.now();
    const refused = await json(t.call('post', '/api/v1/namespaces/fresh/pods'), podManifest('early')).expect(403);
    // Ten lookups 100–200 ms apart before giving up, as upstream's plugin.
    assert.ok(Date.now() - started >= 900, `refused after ${Date.now() - started} ms`);
    assert.equal(refused.body.message, 'pods "early" is forbidden: error looking up service account fresh/default: serviceaccount "default" not found');
    await t.call('get', '/api/v1/namespaces/fresh/pods/early').expect(404);

    // The account appearing while a create waits (the controller's part in a cluster) admits the pod.
    // (`then` sends the request now; supertest sends it lazily otherwise.)
    const pending = json(t.call('post', '/api/v1/namespaces/fresh/pods'), podManifest('later')).expect(201).then((response) => response);
    await new Promise((r) => setTimeout(r, 300));
    await json(t.call('post', '/api/v1/namespaces/fresh/serviceaccounts'), { metadata: { name: 'default' } }).expect(201);
    const admitted = (await pending).body;
    assert.equal(admitted.spec.serviceAccountName, 'default');
    assert.match(admitted.spec.volumes[0].name, /^kube-api-access-/);
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
