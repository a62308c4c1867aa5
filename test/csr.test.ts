// certificates.k8s.io/v1 CertificateSigningRequests over HTTP and kubectl: the requester's identity
// stamped on create, upstream validation (request, usages, signer name, duration), /approval and
// /status rules, the Table, and the kube-apiserver-client signer issuing from the cluster CA after
// `kubectl certificate approve` (RSA and ECDSA requests).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import forge from 'node-forge';
import { everySigner, runCsrSigningController, type RunningCsrSigningController } from '../controllers/csr-signing.ts';
import { writeComponentKubeconfigs } from '../server/component-credentials.ts';
import { json, startTestServer, type TestServer } from './helpers/api-server.ts';
import { Kubectl } from './helpers/kubectl.ts';
import { readFile } from 'node:fs/promises';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const TABLE = 'application/json;as=Table;v=v1;g=meta.k8s.io';
const C = '/apis/certificates.k8s.io/v1/certificatesigningrequests';
const quiet = { info: () => undefined, warn: () => undefined };

function rsaRequest(commonName: string, organization: string): string {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
  const csr = forge.pki.createCertificationRequest();
  csr.publicKey = forge.pki.publicKeyFromPem(publicKey);
  csr.setSubject([{ name: 'commonName', value: commonName }, { name: 'organizationName', value: organization }]);
  csr.sign(forge.pki.privateKeyFromPem(privateKey), forge.md.sha256.create());
  return Buffer.from(forge.pki.certificationRequestToPem(csr)).toString('base64');
}

function ecdsaRequest(dir: string, commonName: string): string {
  const key = join(dir, `${commonName}.key`);
  execFileSync('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', key]);
  const pem = execFileSync('openssl', ['req', '-new', '-key', key, '-subj', `/CN=${commonName}/O=team-b`]);
  return pem.toString('base64');
}

describe('certificatesigningrequests', () => {
  let t: TestServer;
  let dir: string;
  let signer: RunningCsrSigningController;
  let kubectl: Kubectl;
  before(async () => {
    t = await startTestServer('csr');
    dir = await mkdtemp(join(tmpdir(), 'kubefacade-csr-'));
    const kubeconfigs = await writeComponentKubeconfigs(dir, t.url, t.server.credentials, []);
    const caKeyPem = await readFile(join(t.server.adminKubeconfigPath, '..', 'pki', 'ca.key'), 'utf8');
    signer = await runCsrSigningController({ kubeconfigPath: kubeconfigs.controllerManager, signers: everySigner({ certPem: t.server.caCertPem, keyPem: caKeyPem }), logger: quiet });
    kubectl = await Kubectl.create(t.server.adminKubeconfigPath);
  });
  after(async () => {
    await signer.stop();
    await t.close();
    await rm(dir, { recursive: true, force: true });
  });

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
  const until = async <T>(probe: () => Promise<T | undefined>): Promise<T> => {
    for (let i = 0; i < 200; i++) {
      const value = await probe();
      if (value !== undefined) return value;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('timed out');
  };

  test('create stamps the requester and clears status; validation is worded as upstream', async () => {
    const created = await send('post', C, {
      metadata: { name: 'alice' },
      spec: { request: rsaRequest('alice', 'team-a'), signerName: 'kubernetes.io/kube-apiserver-client', usages: ['client auth'], username: 'someone-else', expirationSeconds: 86400 },
      status: { certificate: 'Zm9v' },
    }, 201);
    assert.notEqual(created.spec.username, 'someone-else');
    assert.ok(created.spec.groups.includes('system:masters'));
    assert.deepEqual(created.status, {});
    const bad = await send('post', C, {
      metadata: { name: 'bad' }, spec: { request: Buffer.from('not a pem').toString('base64'), signerName: 'example', usages: ['client auth', 'flying', 'client auth'], expirationSeconds: 60 },
    }, 422);
    const message = bad.message as string;
    assert.match(message, /spec\.request: Invalid value: .*: PEM block type must be CERTIFICATE REQUEST/);
    assert.match(message, /spec\.usages\[1\]: Unsupported value: "flying": supported values: "any", "cert sign"/);
    assert.match(message, /spec\.usages\[2\]: Duplicate value: "client auth"/);
    assert.match(message, /spec\.signerName: Invalid value: "example": must be a fully qualified domain and path of the form 'example\.com\/signer-name'/);
    assert.match(message, /spec\.expirationSeconds: Invalid value: 60: may not specify a duration less than 600 seconds \(10 minutes\)/);
    const table = await get(`${C}/alice`, TABLE);
    assert.deepEqual(table.columnDefinitions.map((c: Json) => c.name), ['Name', 'Age', 'SignerName', 'Requestor', 'RequestedDuration', 'Condition']);
    assert.deepEqual([table.rows[0].cells[2], table.rows[0].cells[4], table.rows[0].cells[5]], ['kubernetes.io/kube-apiserver-client', '24h', 'Pending']);
  });

  test('approval only through /approval; the certificate only through /status', async () => {
    const csr = await get(`${C}/alice`);
    const approved = { type: 'Approved', status: 'True', reason: 'Test', message: 'ok' };
    const viaStatus = await send('put', `${C}/alice/status`, { ...csr, status: { conditions: [approved] } }, 422);
    assert.match(viaStatus.message, /status\.conditions: Forbidden: updates may not add a condition of type "Approved"/);
    const viaMain = await send('put', C + '/alice', { ...csr, spec: { ...csr.spec, usages: ['server auth'] }, status: { conditions: [approved] } }, 200);
    assert.deepEqual(viaMain.spec.usages, ['client auth']);
    assert.deepEqual(viaMain.status, {});
    const both = await send('put', `${C}/alice/approval`, { ...csr, status: { conditions: [approved, { type: 'Denied', status: 'True' }] } }, 422);
    assert.match(both.message, /status\.conditions\[1\]\.type: Invalid value: "Denied": Approved and Denied conditions are mutually exclusive/);
    const falseApproval = await send('put', `${C}/alice/approval`, { ...csr, status: { conditions: [{ type: 'Approved', status: 'False' }] } }, 422);
    assert.match(falseApproval.message, /status\.conditions\[0\]\.status: Unsupported value: "False": supported values: "True"/);
  });

  test('kubectl certificate approve, then the signer issues a client certificate from the cluster CA', async () => {
    const result = await kubectl.run(['certificate', 'approve', 'alice']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /certificatesigningrequest\.certificates\.k8s\.io\/alice approved/);
    const issued = await until(async () => {
      const csr = await get(`${C}/alice`);
      return csr.status.certificate ? csr : undefined;
    });
    const approved = issued.status.conditions.find((c: Json) => c.type === 'Approved');
    assert.equal(approved.reason, 'KubectlApprove');
    assert.ok(approved.lastUpdateTime && approved.lastTransitionTime);
    const cert = new X509Certificate(Buffer.from(issued.status.certificate, 'base64'));
    const ca = new X509Certificate(t.server.caCertPem);
    assert.ok(cert.verify(ca.publicKey), 'signed by the cluster CA');
    assert.ok(cert.checkIssued(ca));
    assert.match(cert.subject, /CN=alice/);
    assert.match(cert.subject, /O=team-a/);
    assert.ok(cert.keyUsage?.includes('1.3.6.1.5.5.7.3.2'), 'client auth');
    const lifetimeHours = (Date.parse(cert.validTo) - Date.now()) / 3_600_000;
    assert.ok(lifetimeHours > 23 && lifetimeHours <= 24, `requested one day, got ${lifetimeHours}h`);
    const table = await get(`${C}/alice`, TABLE);
    assert.equal(table.rows[0].cells[5], 'Approved,Issued');
    const reset = await send('put', `${C}/alice/status`, { ...issued, status: { ...issued.status, certificate: Buffer.from(t.server.caCertPem).toString('base64') } }, 422);
    assert.match(reset.message, /status\.certificate: Forbidden: updates may not modify existing certificate content/);
  });

  test('an ECDSA request is signed too; a request with server usages fails with SignerValidationFailure', async () => {
    await send('post', C, { metadata: { name: 'bob' }, spec: { request: ecdsaRequest(dir, 'bob'), signerName: 'kubernetes.io/kube-apiserver-client', usages: ['digital signature', 'client auth'] } }, 201);
    await send('post', C, { metadata: { name: 'server' }, spec: { request: rsaRequest('server', 'x'), signerName: 'kubernetes.io/kube-apiserver-client', usages: ['server auth'] } }, 201);
    const result = await kubectl.run(['certificate', 'approve', 'bob', 'server']);
    assert.equal(result.code, 0, result.stderr);
    const bob = await until(async () => {
      const csr = await get(`${C}/bob`);
      return csr.status.certificate ? csr : undefined;
    });
    const cert = new X509Certificate(Buffer.from(bob.status.certificate, 'base64'));
    assert.equal(cert.publicKey.asymmetricKeyType, 'ec');
    assert.ok(cert.verify(new X509Certificate(t.server.caCertPem).publicKey));
    const failed = await until(async () => {
      const csr = await get(`${C}/server`);
      return csr.status.conditions?.find((c: Json) => c.type === 'Failed');
    });
    assert.deepEqual([failed.status, failed.reason, failed.message], ['True', 'SignerValidationFailure', 'invalid usage for client certificate: server auth']);
  });
});
