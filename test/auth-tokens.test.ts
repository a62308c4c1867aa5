// Authentication over HTTPS as kube-apiserver does it: kubefacade JWTs (every way a token can be bad is a
// 401 that changes nothing), the static token file, client certificates, and anonymous requests.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jwt from 'jsonwebtoken';
import { ensureSigningKey, type SigningKey } from '../auth/signing-key.ts';
import { issueToken, TOKEN_AUDIENCE, TOKEN_ISSUER } from '../auth/jwt-tokens.ts';
import { ensureCertificateAuthority, signClientCertificate } from '../auth/pki.ts';
import { parseTokenFile } from '../auth/token-file.ts';
import { startApiServer, type RunningApiServer } from '../server/start.ts';
import { callApi, UNAUTHORIZED, type Credentials } from './helpers/auth-client.ts';

const WHOAMI = '/apis/authentication.k8s.io/v1/selfsubjectreviews';
const REVIEW = { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' };

function b64(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

describe('authentication', () => {
  let dir: string;
  let server: RunningApiServer;
  let key: SigningKey;
  const call = (method: string, path: string, credentials?: Credentials, body?: unknown) => callApi(server, method, path, credentials, body);
  const whoami = async (credentials: Credentials) => {
    const res = await call('POST', WHOAMI, credentials, REVIEW);
    return res.status === 201 ? (res.body as { status: { userInfo: unknown } }).status.userInfo : res;
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kubefacade-authn-'));
    await writeFile(join(dir, 'tokens.csv'), 'tok-bob,bob,uid-bob,"dev,ops"\ntok-carol,carol,uid-carol\n');
    server = await startApiServer({ dataDir: join(dir, 'data'), bind: '127.0.0.1', port: 0, tlsSans: [], disableAdmissionPlugins: ['ServiceAccount'], tokenAuthFile: join(dir, 'tokens.csv') });
    key = await ensureSigningKey(join(dir, 'data'));
  });

  after(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('a kubefacade JWT authenticates as sub with its groups, plus system:authenticated', async () => {
    const token = issueToken(key, { username: 'alice', groups: ['dev'], ttlSeconds: 600 });
    const claims = jwt.decode(token, { complete: true });
    // A new data dir's key is ECDSA P-256 (auth/signing-key.ts).
    assert.equal(claims?.header.alg, 'ES256');
    assert.equal(claims?.header.kid, key.keyId);
    assert.deepEqual(Object.keys(claims?.payload as object), ['iss', 'aud', 'sub', 'groups', 'iat', 'nbf', 'exp', 'jti']);
    assert.deepEqual([(claims?.payload as jwt.JwtPayload).iss, (claims?.payload as jwt.JwtPayload).aud], [TOKEN_ISSUER, [TOKEN_AUDIENCE]]);
    assert.deepEqual(await whoami({ token }), { username: 'alice', groups: ['dev', 'system:authenticated'] });
  });

  test('every bad token is a 401 Unauthorized, and nothing is written', async () => {
    const now = Math.floor(Date.now() / 1000);
    const claims = { iss: TOKEN_ISSUER, aud: [TOKEN_AUDIENCE], sub: 'mallory', groups: ['system:masters'], iat: now, nbf: now, exp: now + 600 };
    const sign = (payload: object) => jwt.sign(payload, key.privateKeyPem, { algorithm: 'ES256', noTimestamp: true });
    const good = sign(claims);
    const [header, payload, signature] = good.split('.');
    const other = generateKeyPairSync('ec', { namedCurve: 'prime256v1', privateKeyEncoding: { type: 'sec1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
    const otherRsa = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
    const hs256Header = b64({ alg: 'HS256', typ: 'JWT' });
    const hs256 = `${hs256Header}.${payload}.${createHmac('sha256', key.publicKeyPem).update(`${hs256Header}.${payload}`).digest('base64url')}`;
    const bad: Record<string, string> = {
      expired: sign({ ...claims, iat: now - 7200, nbf: now - 7200, exp: now - 3600 }),
      'not yet valid': sign({ ...claims, nbf: now + 3600, exp: now + 7200 }),
      'no exp': sign({ iss: claims.iss, aud: claims.aud, sub: claims.sub, groups: claims.groups }),
      'no sub': sign({ ...claims, sub: undefined }),
      'wrong issuer': sign({ ...claims, iss: 'https://kubernetes.default.svc' }),
      'wrong audience': sign({ ...claims, aud: ['someone-else'] }),
      'alg none': `${b64({ alg: 'none', typ: 'JWT' })}.${payload}.`,
      'HS256 keyed with the public key': hs256,
      'tampered payload': `${header}.${b64({ ...claims, sub: 'kubernetes-admin' })}.${signature}`,
      'tampered signature': `${header}.${payload}.${signature.slice(0, -4)}${signature.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`,
      'signed by another key': jwt.sign(claims, other.privateKey, { algorithm: 'ES256', noTimestamp: true }),
      'RS256, signed by another RSA key': jwt.sign(claims, otherRsa.privateKey, { algorithm: 'RS256', noTimestamp: true }),
      'not a token at all': 'garbage',
      'unknown static token': 'tok-nobody',
    };
    const before = await call('GET', '/api/v1/namespaces', { token: server.adminToken });
    const revision = (before.body as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
    for (const [why, token] of Object.entries(bad)) {
      const res = await call('POST', '/api/v1/namespaces', { token }, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'mallory' } });
      assert.equal(res.status, 401, why);
      assert.deepEqual(res.body, UNAUTHORIZED, why);
    }
    const missing = await call('POST', '/api/v1/namespaces', {}, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'mallory' } });
    assert.deepEqual([missing.status, missing.body], [401, UNAUTHORIZED]);
    assert.equal((await call('GET', '/api/v1/namespaces/mallory', { token: server.adminToken })).status, 404);
    const afterwards = await call('GET', '/api/v1/namespaces', { token: server.adminToken });
    assert.equal((afterwards.body as { metadata: { resourceVersion: string } }).metadata.resourceVersion, revision);
    // The control: the same claims, properly signed, do get through.
    assert.equal((await call('POST', '/api/v1/namespaces', { token: good }, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'mallory' } })).status, 201);
  });

  test('expiry is honoured to the second', async () => {
    const token = issueToken(key, { username: 'brief', groups: [], ttlSeconds: 1 });
    const exp = (jwt.decode(token) as jwt.JwtPayload).exp!;
    assert.deepEqual(await whoami({ token }), { username: 'brief', groups: ['system:authenticated'] });
    await new Promise((resolve) => setTimeout(resolve, exp * 1000 - Date.now() + 50));
    const res = await call('POST', WHOAMI, { token }, REVIEW);
    assert.deepEqual([res.status, res.body], [401, UNAUTHORIZED]);
  });

  test('the token file: user, uid and groups; kube-apiserver\'s CSV rules', async () => {
    assert.deepEqual(await whoami({ token: 'tok-bob' }), { username: 'bob', uid: 'uid-bob', groups: ['dev', 'ops', 'system:authenticated'] });
    assert.deepEqual(await whoami({ token: 'tok-carol' }), { username: 'carol', uid: 'uid-carol', groups: ['system:authenticated'] });
    assert.throws(() => parseTokenFile('tok,user\n', 'tokens.csv'), { message: "token file 'tokens.csv' must have at least 3 columns (token, user name, user uid), found 2" });
    assert.deepEqual(parseTokenFile('\n,skipped,1\nt,u,1,"a,b"\nt,v,2\n', 'f').map((e) => [e.token, e.user.username]), [['t', 'u'], ['t', 'v']]);
  });

  test('client certificates signed by the cluster CA: CN is the user, O the groups', async () => {
    const ca = await ensureCertificateAuthority(join(dir, 'data', 'pki'));
    const cert = signClientCertificate(ca, { commonName: 'carl', organizations: ['ops', 'qa'], days: 1 });
    assert.deepEqual(await whoami({ cert: cert.certPem, key: cert.keyPem }), { username: 'carl', groups: ['ops', 'qa', 'system:authenticated'] });
    // A certificate from another CA is a failed credential, not an absent one.
    const foreign = await ensureCertificateAuthority(join(dir, 'other-pki'));
    const forged = signClientCertificate(foreign, { commonName: 'kubernetes-admin', organizations: ['system:masters'], days: 1 });
    const res = await call('POST', WHOAMI, { cert: forged.certPem, key: forged.keyPem }, REVIEW);
    assert.deepEqual([res.status, res.body], [401, UNAUTHORIZED]);
  });

  test('without --anonymous-auth a request with no credentials is refused, except the public-info paths', async () => {
    for (const path of ['/api', '/api/v1/namespaces/default/pods', '/healthz/etcd', '/readyz/ping', '/version/', '/openapi/v2']) {
      const res = await call('GET', path);
      assert.deepEqual([res.status, res.body], [401, UNAUTHORIZED], path);
    }
    // kube-apiserver's system:public-info-viewer binding lets system:unauthenticated read these.
    for (const path of ['/version', '/healthz', '/livez', '/readyz', '/readyz?verbose']) assert.equal((await call('GET', path)).status, 200, path);
    // A bad credential is never downgraded to anonymous, even there.
    assert.equal((await call('GET', '/readyz', { token: 'nope' })).status, 401);
  });
});

describe('anonymous authentication (--anonymous-auth)', () => {
  let dir: string;
  let server: RunningApiServer;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kubefacade-anon-'));
    server = await startApiServer({ dataDir: dir, bind: '127.0.0.1', port: 0, tlsSans: [], disableAdmissionPlugins: ['ServiceAccount'], anonymousAuth: true });
  });

  after(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('system:anonymous may read /version, /healthz, /livez, /readyz and nothing else', async () => {
    for (const path of ['/version', '/healthz', '/livez', '/readyz']) assert.equal((await callApi(server, 'GET', path)).status, 200, path);
    const api = await callApi(server, 'GET', '/api');
    assert.deepEqual([api.status, api.body], [403, {
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure',
      message: 'forbidden: User "system:anonymous" cannot get path "/api"', reason: 'Forbidden', details: {}, code: 403,
    }]);
    const pods = await callApi(server, 'GET', '/api/v1/namespaces/default/pods');
    assert.deepEqual([pods.status, (pods.body as { message: string }).message],
      [403, 'pods is forbidden: User "system:anonymous" cannot list resource "pods" in API group "" in the namespace "default"']);
    assert.equal((await callApi(server, 'GET', '/healthz/etcd')).status, 403);
  });

  test('a bad token is still a 401, never anonymous', async () => {
    const res = await callApi(server, 'GET', '/version', { token: 'nope' });
    assert.deepEqual([res.status, res.body], [401, UNAUTHORIZED]);
  });
});

describe('public-info paths closed (--anonymous-public-info=false)', () => {
  let dir: string;
  let server: RunningApiServer;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kubefacade-nopublic-'));
    server = await startApiServer({ dataDir: dir, bind: '127.0.0.1', port: 0, tlsSans: [], disableAdmissionPlugins: ['ServiceAccount'], anonymousPublicInfo: false });
  });

  after(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('every request without credentials is a 401, /readyz and /version included', async () => {
    for (const path of ['/version', '/healthz', '/livez', '/readyz']) {
      const res = await callApi(server, 'GET', path);
      assert.deepEqual([res.status, res.body], [401, UNAUTHORIZED], path);
    }
    assert.equal((await callApi(server, 'GET', '/readyz', { token: server.adminToken })).status, 200);
  });
});
