import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import https from 'node:https';
import { X509Certificate } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { ensurePki, signClientCertificate, type Pki } from '../auth/pki.ts';
import { ensureAdminToken, adminTokenPath, ADMIN_USER } from '../auth/admin-credential.ts';
import { StaticTokenAuthenticator, UnionAuthenticator, bearerToken } from '../auth/token-authenticator.ts';
import { renderKubeconfig, writeKubeconfig } from '../server/kubeconfig.ts';

const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'kubefacade-pki-'));
after(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));

function requestOverTls(pki: Pki, host: string, port: number, extra: https.RequestOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host, port, path: '/', ca: pki.caCertPem, agent: false, ...extra }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => { body += chunk; });
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.end();
  });
}

async function withHttpsServer<T>(options: https.ServerOptions, run: (port: number) => Promise<T>): Promise<T> {
  const server = https.createServer(options, (req, res) => {
    const socket = req.socket as import('node:tls').TLSSocket;
    const peer = socket.getPeerCertificate();
    res.end(peer && peer.subject ? `client:${peer.subject.CN}` : 'ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    return await run((server.address() as AddressInfo).port);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

describe('pki', () => {
  const pkiDir = path.join(tmpRoot, 'data', 'pki');
  let first: Pki;

  test('generates a CA and a serving certificate that Node TLS accepts for 127.0.0.1 and localhost', async () => {
    first = await ensurePki(pkiDir, { sans: ['kube.example.test', '10.1.2.3'] });
    for (const name of ['ca.crt', 'ca.key', 'apiserver.crt', 'apiserver.key']) {
      assert.ok(fs.existsSync(path.join(pkiDir, name)), name);
    }
    assert.equal(fs.statSync(path.join(pkiDir, 'ca.key')).mode & 0o777, 0o600);
    assert.equal(fs.statSync(path.join(pkiDir, 'apiserver.key')).mode & 0o777, 0o600);

    const ca = new X509Certificate(first.caCertPem);
    assert.match(ca.subject, /CN=kubefacade-ca/);
    assert.equal(ca.ca, true);
    const serving = new X509Certificate(first.servingCertPem);
    assert.match(serving.subject, /CN=kube-apiserver/);
    assert.ok(serving.checkIssued(ca));
    assert.ok(serving.checkHost('kube.example.test'));
    assert.ok(serving.checkIP('10.1.2.3'));
    assert.ok(serving.checkIP('::1'));
    assert.deepEqual(serving.keyUsage, ['1.3.6.1.5.5.7.3.1']);

    await withHttpsServer({ cert: first.servingCertPem, key: first.servingKeyPem }, async (port) => {
      assert.equal(await requestOverTls(first, '127.0.0.1', port), 'ok');
      assert.equal(await requestOverTls(first, 'localhost', port), 'ok');
    });
  });

  test('reuses the stored pair and regenerates only the serving certificate when SANs change', async () => {
    const again = await ensurePki(pkiDir, { sans: ['10.1.2.3', 'kube.example.test'] });
    assert.deepEqual(again, first);
    const changed = await ensurePki(pkiDir, { sans: ['other.example.test'] });
    assert.equal(changed.caCertPem, first.caCertPem);
    assert.equal(changed.caKeyPem, first.caKeyPem);
    assert.notEqual(changed.servingCertPem, first.servingCertPem);
    const serving = new X509Certificate(changed.servingCertPem);
    assert.ok(serving.checkHost('other.example.test'));
    assert.equal(serving.checkHost('kube.example.test'), undefined);
  });

  test('uses a bring-your-own serving pair but still creates the CA', async () => {
    const other = await ensurePki(path.join(tmpRoot, 'byo-source'), { sans: [] });
    const certFile = path.join(tmpRoot, 'byo.crt');
    const keyFile = path.join(tmpRoot, 'byo.key');
    fs.writeFileSync(certFile, other.servingCertPem);
    fs.writeFileSync(keyFile, other.servingKeyPem);
    const byoDir = path.join(tmpRoot, 'byo-pki');
    const pki = await ensurePki(byoDir, { sans: [], certFile, keyFile });
    assert.equal(pki.servingCertPem, other.servingCertPem);
    assert.ok(fs.existsSync(path.join(byoDir, 'ca.crt')));
    assert.ok(!fs.existsSync(path.join(byoDir, 'apiserver.crt')));
    await assert.rejects(ensurePki(byoDir, { sans: [], certFile }), /must be given together/);
  });

  test('signs client certificates that a TLS server requesting client certs accepts', async () => {
    const client = signClientCertificate(first, { commonName: 'alice', organizations: ['dev', 'ops'], days: 1 });
    const cert = new X509Certificate(client.certPem);
    assert.match(cert.subject, /CN=alice/);
    assert.match(cert.subject, /O=dev/);
    assert.match(cert.subject, /O=ops/);
    assert.deepEqual(cert.keyUsage, ['1.3.6.1.5.5.7.3.2']);
    await withHttpsServer({
      cert: first.servingCertPem, key: first.servingKeyPem, ca: first.caCertPem, requestCert: true, rejectUnauthorized: true,
    }, async (port) => {
      assert.equal(await requestOverTls(first, 'localhost', port, { cert: client.certPem, key: client.keyPem }), 'client:alice');
    });
  });
});

describe('admin credential and token authenticator', () => {
  test('creates a 256-bit token once, mode 0600, and reuses it', async () => {
    const dataDir = path.join(tmpRoot, 'token-data');
    const token = await ensureAdminToken(dataDir);
    assert.equal(Buffer.from(token, 'base64url').length, 32);
    assert.equal(fs.statSync(adminTokenPath(dataDir)).mode & 0o777, 0o600);
    assert.equal(await ensureAdminToken(dataDir), token);
  });

  test('authenticates Bearer tokens case-insensitively and rejects everything else', () => {
    const bob = { username: 'bob', groups: ['system:authenticated'] };
    const authenticator = new StaticTokenAuthenticator([{ token: 'admin-secret', user: ADMIN_USER }, { token: 'bob-secret', user: bob }]);
    const as = (authorization: string | undefined) => authenticator.authenticate({ authorization });
    assert.deepEqual(as('Bearer admin-secret'), { status: 'authenticated', user: ADMIN_USER });
    assert.deepEqual(as('bearer bob-secret'), { status: 'authenticated', user: bob });
    assert.deepEqual(as('Bearer admin-secre'), { status: 'unrecognised' });
    assert.deepEqual(as('Basic admin-secret'), { status: 'unrecognised' });
    assert.deepEqual(as(undefined), { status: 'unrecognised' });
    assert.equal(bearerToken('BEARER  x '), 'x');
    const union = new UnionAuthenticator([new StaticTokenAuthenticator([]), authenticator]);
    assert.deepEqual(union.authenticate({ authorization: 'Bearer bob-secret' }), { status: 'authenticated', user: bob });
    assert.deepEqual(ADMIN_USER.groups, ['system:masters', 'system:authenticated']);
  });
});

describe('kubeconfig', () => {
  test('client-node and kubectl read the written kubeconfig', async () => {
    const pki = await ensurePki(path.join(tmpRoot, 'kc-pki'), { sans: [] });
    const client = signClientCertificate(pki, { commonName: 'alice', organizations: ['dev'], days: 1 });
    const file = path.join(tmpRoot, 'kc', 'nested', 'admin.kubeconfig');
    await writeKubeconfig(file, {
      clusterName: 'kubefacade', server: 'https://127.0.0.1:6443', caCertPem: pki.caCertPem,
      users: [{ name: 'kubernetes-admin', token: 'tok123' }, { name: 'alice', clientCertificatePem: client.certPem, clientKeyPem: client.keyPem }],
      contextUser: 'kubernetes-admin', namespace: 'team-a',
    });
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);

    const kc = new KubeConfig();
    kc.loadFromFile(file);
    assert.equal(kc.getCurrentContext(), 'kubernetes-admin@kubefacade');
    assert.equal(kc.getCurrentCluster()?.server, 'https://127.0.0.1:6443');
    assert.equal(Buffer.from(kc.getCurrentCluster()?.caData ?? '', 'base64').toString(), pki.caCertPem);
    assert.equal(kc.getCurrentUser()?.token, 'tok123');
    assert.equal(kc.getContextObject(kc.getCurrentContext())?.namespace, 'team-a');
    assert.equal(Buffer.from(kc.getUser('alice')?.certData ?? '', 'base64').toString(), client.certPem);

    const cacheDir = fs.mkdtempSync(path.join(tmpRoot, 'kubectl-cache-'));
    const { stdout } = await promisify(execFile)('kubectl', [
      '--kubeconfig', file, '--cache-dir', cacheDir, 'config', 'view', '--minify', '--raw', '-o', 'json',
    ]);
    const view = JSON.parse(stdout) as {
      clusters: { cluster: { server: string } }[]; users: { name: string; user: { token: string } }[]; 'current-context': string;
    };
    assert.equal(view['current-context'], 'kubernetes-admin@kubefacade');
    assert.equal(view.clusters[0].cluster.server, 'https://127.0.0.1:6443');
    assert.deepEqual(view.users.map((u) => [u.name, u.user.token]), [['kubernetes-admin', 'tok123']]);
  });

  test('refuses a context user that is not listed', () => {
    assert.throws(() => renderKubeconfig({
      clusterName: 'c', server: 'https://x', caCertPem: 'x', users: [{ name: 'a', token: 't' }], contextUser: 'b',
    }), /not among the users/);
  });
});
