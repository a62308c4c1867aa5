// The kubernetes.io signers beyond kube-apiserver-client (kubelet-serving, kube-apiserver-client-kubelet)
// against a running server: failures with upstream's messages, SANs, subjects and durations of issued
// certificates, the csrapproving controller's SubjectAccessReview-based approval of kubelet client
// requests, the csrcleaner, and the CertificateApproval,
// CertificateSigning and CertificateSubjectRestriction admission plugins (with a real kubectl), and all
// of it wired into `up`'s controller manager.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { runCsrApprovingController, type RunningCsrApprovingController } from '../controllers/csr-approving.ts';
import { runCsrCleanerController } from '../controllers/csr-cleaner.ts';
import { everySigner, runCsrSigningController, type RunningCsrSigningController } from '../controllers/csr-signing.ts';
import { writeComponentKubeconfigs } from '../server/component-credentials.ts';
import { writeKubeconfig } from '../server/kubeconfig.ts';
import { startCluster } from '../server/up.ts';
import { json, startTestServer, type TestServer } from './helpers/api-server.ts';
import { certificateRequest } from './helpers/certificate-requests.ts';
import { Kubectl } from './helpers/kubectl.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const C = '/apis/certificates.k8s.io/v1/certificatesigningrequests';
const CRB = '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings';
const CR = '/apis/rbac.authorization.k8s.io/v1/clusterroles';
const quiet = { info: () => undefined, warn: () => undefined };
const SIGNING_HOURS = 2;

describe('the kubernetes.io signers, csrapproving and the certificate admission plugins', () => {
  let t: TestServer;
  let dir: string;
  let signer: RunningCsrSigningController;
  let approver: RunningCsrApprovingController;
  let admin: Kubectl;
  let carol: Kubectl;
  before(async () => {
    t = await startTestServer('csr-signers');
    dir = await mkdtemp(join(tmpdir(), 'kubefacade-csr-signers-'));
    const kubeconfigs = await writeComponentKubeconfigs(dir, t.url, t.server.credentials, []);
    const keyPem = await readFile(join(t.server.adminKubeconfigPath, '..', 'pki', 'ca.key'), 'utf8');
    signer = await runCsrSigningController({
      kubeconfigPath: kubeconfigs.controllerManager, signers: everySigner({ certPem: t.server.caCertPem, keyPem }), signingDurationSeconds: SIGNING_HOURS * 3600, logger: quiet,
    });
    approver = await runCsrApprovingController({ kubeconfigPath: kubeconfigs.controllerManager, logger: quiet });
    admin = await Kubectl.create(t.server.adminKubeconfigPath);
    await t.server.credentials.writeTokenKubeconfig(join(dir, 'carol.kubeconfig'), t.url, { username: 'carol', groups: [] }, 3600);
    carol = await Kubectl.create(join(dir, 'carol.kubeconfig'));
  });
  after(async () => {
    await approver?.stop();
    await signer?.stop();
    await t?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const send = async (method: 'post' | 'put', path: string, body: unknown, expect: number, token?: string): Promise<Json> => {
    let call = json(t.call(method, path), body);
    if (token) call = call.set('Authorization', `Bearer ${token}`);
    const res = await call;
    assert.equal(res.status, expect, `${method} ${path}: ${res.text}`);
    return res.body as Json;
  };
  const get = async (name: string): Promise<Json> => {
    const res = await t.call('get', `${C}/${name}`);
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
  const issued = (name: string) => until(async () => {
    const csr = await get(name);
    return csr.status.certificate ? new X509Certificate(Buffer.from(csr.status.certificate, 'base64')) : undefined;
  });
  const failure = (name: string) => until(async () => (await get(name)).status.conditions?.find((c: Json) => c.type === 'Failed') as Json | undefined);
  const tokenFor = (username: string, groups: string[]) => t.server.credentials.token({ username, groups }, 3600);
  const createCsr = (name: string, signerName: string, request: string, usages: string[], extra: Json = {}, token?: string) =>
    send('post', C, { metadata: { name }, spec: { request, signerName, usages, ...extra } }, 201, token);
  const bind = (name: string, role: string, subject: Json) =>
    send('post', CRB, { metadata: { name }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role }, subjects: [subject] }, 201);
  const group = (name: string) => ({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name });
  const user = (name: string) => ({ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name });

  test('kubelet-serving: a valid request is signed with its SANs and server auth for the signing duration', async () => {
    const request = certificateRequest('system:node:n1', { organizations: ['system:nodes'], dnsNames: ['n1.example'], ipAddresses: ['10.0.0.1'] });
    await createCsr('serving', 'kubernetes.io/kubelet-serving', request, ['digital signature', 'key encipherment', 'server auth']);
    await createCsr('serving-short', 'kubernetes.io/kubelet-serving', request, ['digital signature', 'server auth'], { expirationSeconds: 600 });
    await createCsr('serving-no-san', 'kubernetes.io/kubelet-serving', certificateRequest('system:node:n1', { organizations: ['system:nodes'] }), ['digital signature', 'key encipherment', 'server auth']);
    await admin.ok(['certificate', 'approve', 'serving', 'serving-short', 'serving-no-san']);
    const cert = await issued('serving');
    const ca = new X509Certificate(t.server.caCertPem);
    assert.ok(cert.checkIssued(ca) && cert.verify(ca.publicKey));
    assert.match(cert.subject, /O=system:nodes/);
    assert.match(cert.subject, /CN=system:node:n1/);
    assert.equal(cert.subjectAltName, 'DNS:n1.example, IP Address:10.0.0.1');
    assert.deepEqual(cert.keyUsage, ['1.3.6.1.5.5.7.3.1']);
    assert.equal(cert.ca, false);
    const hours = (Date.parse(cert.validTo) - Date.now()) / 3_600_000;
    assert.ok(hours > SIGNING_HOURS - 0.1 && hours <= SIGNING_HOURS, `the signer's duration (${SIGNING_HOURS}h), got ${hours}h`);
    const backdated = (Date.now() - Date.parse(cert.validFrom)) / 60_000;
    assert.ok(backdated >= 4 && backdated <= 6, `backdated five minutes, got ${backdated}`);
    const short = await issued('serving-short');
    const minutes = (Date.parse(short.validTo) - Date.now()) / 60_000;
    assert.ok(minutes > 9 && minutes <= 10, `expirationSeconds 600: ten minutes, got ${minutes}`);
    const failed = await failure('serving-no-san');
    assert.deepEqual([failed.status, failed.reason, failed.message], ['True', 'SignerValidationFailure', 'DNS or IP subjectAltName is required']);
    assert.equal((await get('serving-no-san')).status.certificate, undefined);
  });

  test('the issued subject is the request\'s as Go writes it; the certificate authenticates its user and groups', async () => {
    const key = join(dir, 'ann.key');
    execFileSync('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', key]);
    const request = execFileSync('openssl', ['req', '-new', '-key', key, '-subj', '/CN=ann/O=b-team/O=a-team/OU=ops/C=DE/emailAddress=ann@example.com']);
    await createCsr('ann', 'kubernetes.io/kube-apiserver-client', request.toString('base64'), ['client auth']);
    await admin.ok(['certificate', 'approve', 'ann']);
    const cert = await issued('ann');
    // pkix.Name.ToRDNSequence: country, the organizations in one multi-valued RDN, unit, common name; no emailAddress.
    assert.equal(cert.subject, 'C=DE\nO=a-team + O=b-team\nOU=ops\nCN=ann');
    const kubeconfig = join(dir, 'ann.kubeconfig');
    await writeKubeconfig(kubeconfig, {
      clusterName: 'kubefacade', server: t.url, caCertPem: t.server.caCertPem,
      users: [{ name: 'ann', clientCertificatePem: cert.toString(), clientKeyPem: await readFile(key, 'utf8') }], contextUser: 'ann',
    });
    const ann = await Kubectl.create(kubeconfig);
    const whoami = JSON.parse(await ann.ok(['auth', 'whoami', '-o', 'json'])) as Json;
    assert.equal(whoami.status.userInfo.username, 'ann');
    assert.deepEqual([...whoami.status.userInfo.groups].sort(), ['a-team', 'b-team', 'system:authenticated']);
  });

  test('kube-apiserver-client-kubelet: checked as a kubelet client request', async () => {
    await createCsr('kubelet-client-bad-usage', 'kubernetes.io/kube-apiserver-client-kubelet',
      certificateRequest('system:node:n1', { organizations: ['system:nodes'] }), ['client auth', 'server auth']);
    await createCsr('kubelet-client-bad-org', 'kubernetes.io/kube-apiserver-client-kubelet',
      certificateRequest('system:node:n1', { organizations: ['team'] }), ['client auth', 'digital signature']);
    await admin.ok(['certificate', 'approve', 'kubelet-client-bad-usage', 'kubelet-client-bad-org']);
    assert.equal((await failure('kubelet-client-bad-usage')).message, 'usages did not match [client auth digital signature key encipherment]');
    assert.equal((await failure('kubelet-client-bad-org')).message, 'subject organization is not system:nodes');
  });

  test('csrapproving: a node renewing its own client certificate and a bootstrapping kubelet are approved after a SubjectAccessReview', async () => {
    const usages = ['digital signature', 'key encipherment', 'client auth'];
    // A requester the reviews do not allow: recognized, never approved.
    await bind('test:dave-csr', 'system:node-bootstrapper', user('dave'));
    await createCsr('unauthorized', 'kubernetes.io/kube-apiserver-client-kubelet', certificateRequest('system:node:n9', { organizations: ['system:nodes'] }), usages, {}, tokenFor('dave', []));
    // A node's own renewal (selfnodeclient) and a bootstrap token's request (nodeclient), as kubeadm binds them.
    await bind('test:node-autoapprove-certificate-rotation', 'system:certificates.k8s.io:certificatesigningrequests:selfnodeclient', group('system:nodes'));
    await bind('test:kubeadm:kubelet-bootstrap', 'system:node-bootstrapper', group('system:bootstrappers'));
    await bind('test:node-autoapprove-bootstrap', 'system:certificates.k8s.io:certificatesigningrequests:nodeclient', group('system:bootstrappers'));
    await createCsr('self', 'kubernetes.io/kube-apiserver-client-kubelet', certificateRequest('system:node:n2', { organizations: ['system:nodes'] }), usages, {},
      tokenFor('system:node:n2', ['system:nodes']));
    await createCsr('bootstrap', 'kubernetes.io/kube-apiserver-client-kubelet', certificateRequest('system:node:n3', { organizations: ['system:nodes'] }), ['digital signature', 'client auth'], {},
      tokenFor('system:bootstrap:abcdef', ['system:bootstrappers']));
    // Not a kubelet client request: left alone even though its requester may use nodeclient.
    await createCsr('not-kubelet', 'kubernetes.io/kube-apiserver-client-kubelet', certificateRequest('someone', { organizations: ['system:nodes'] }), usages, {},
      tokenFor('system:bootstrap:abcdef', ['system:bootstrappers']));
    const approval = (name: string) => until(async () => (await get(name)).status.conditions?.find((c: Json) => c.type === 'Approved') as Json | undefined);
    const self = await approval('self');
    assert.deepEqual([self.status, self.reason, self.message], ['True', 'AutoApproved', 'Auto approving self kubelet client certificate after SubjectAccessReview.']);
    const bootstrap = await approval('bootstrap');
    assert.deepEqual([bootstrap.reason, bootstrap.message], ['AutoApproved', 'Auto approving kubelet client certificate after SubjectAccessReview.']);
    const cert = await issued('self');
    assert.match(cert.subject, /CN=system:node:n2/);
    assert.deepEqual(cert.keyUsage, ['1.3.6.1.5.5.7.3.2']);
    await issued('bootstrap');
    await signer.idle();
    assert.equal((await get('unauthorized')).status.conditions, undefined);
    assert.equal((await get('not-kubelet')).status.conditions, undefined);
  });

  test('CertificateApproval: kubectl certificate approve needs approve on the signer; admin\'s approval is signed', async () => {
    await createCsr('carol-approves', 'kubernetes.io/kube-apiserver-client', certificateRequest('erin', { organizations: ['team-e'] }), ['client auth']);
    await send('post', CR, {
      metadata: { name: 'test:csr-approval-writer' },
      rules: [
        { apiGroups: ['certificates.k8s.io'], resources: ['certificatesigningrequests'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: ['certificates.k8s.io'], resources: ['certificatesigningrequests/approval', 'certificatesigningrequests/status'], verbs: ['update'] },
      ],
    }, 201);
    await bind('test:carol-csr', 'test:csr-approval-writer', user('carol'));
    const refused = await carol.run(['certificate', 'approve', 'carol-approves']);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /certificatesigningrequests\.certificates\.k8s\.io "carol-approves" is forbidden: user not permitted to approve requests with signerName "kubernetes\.io\/kube-apiserver-client"/);
    assert.equal((await get('carol-approves')).status.conditions, undefined, 'nothing changed');
    const denied = await carol.run(['certificate', 'deny', 'carol-approves']);
    assert.match(denied.stderr, /user not permitted to approve requests with signerName/);
    // The domain wildcard grants it.
    await send('post', CR, {
      metadata: { name: 'test:kubernetes-io-approver' },
      rules: [{ apiGroups: ['certificates.k8s.io'], resources: ['signers'], verbs: ['approve'], resourceNames: ['kubernetes.io/*'] }],
    }, 201);
    await createCsr('carol-may', 'kubernetes.io/kube-apiserver-client', certificateRequest('frank', { organizations: ['team-f'] }), ['client auth']);
    await bind('test:carol-approver', 'test:kubernetes-io-approver', user('carol'));
    assert.match(await carol.ok(['certificate', 'approve', 'carol-may']), /certificatesigningrequest\.certificates\.k8s\.io\/carol-may approved/);
    await issued('carol-may');
    assert.match(await admin.ok(['certificate', 'approve', 'carol-approves']), /carol-approves approved/);
    const cert = await issued('carol-approves');
    assert.match(cert.subject, /CN=erin/);
  });

  test('CertificateSigning: writing the certificate or conditions through /status needs sign on the signer', async () => {
    await createCsr('carol-signs', 'example.com/my-signer', certificateRequest('gina'), ['client auth']);
    await admin.ok(['certificate', 'approve', 'carol-signs']);
    const csr = await get('carol-signs');
    const carolToken = tokenFor('carol', []);
    const withCertificate = { ...csr, status: { ...csr.status, certificate: Buffer.from(t.server.caCertPem).toString('base64') } };
    const refused = await send('put', `${C}/carol-signs/status`, withCertificate, 403, carolToken);
    assert.equal(refused.message, 'certificatesigningrequests.certificates.k8s.io "carol-signs" is forbidden: user not permitted to sign requests with signerName "example.com/my-signer"');
    const failed = { ...csr, status: { ...csr.status, conditions: [...csr.status.conditions, { type: 'Failed', status: 'True', reason: 'X', message: 'y' }] } };
    await send('put', `${C}/carol-signs/status`, failed, 403, carolToken);
    // An unchanged status needs nothing.
    await send('put', `${C}/carol-signs/status`, csr, 200, carolToken);
    await send('post', CR, {
      metadata: { name: 'test:my-signer' },
      rules: [{ apiGroups: ['certificates.k8s.io'], resources: ['signers'], verbs: ['sign'], resourceNames: ['example.com/my-signer'] }],
    }, 201);
    await bind('test:carol-signer', 'test:my-signer', user('carol'));
    const signed = await send('put', `${C}/carol-signs/status`, withCertificate, 200, carolToken);
    assert.ok(signed.status.certificate);
  });

  test('csrcleaner: issued, denied and failed requests go after an hour, pending ones after a day', async () => {
    let offsetMs = 0;
    const cleaner = await runCsrCleanerController({ kubeconfigPath: join(dir, 'controller-manager.kubeconfig'), logger: quiet, now: () => Date.now() + offsetMs });
    try {
      await createCsr('clean-pending', 'example.com/my-signer', certificateRequest('p'), ['client auth']);
      await createCsr('clean-denied', 'example.com/my-signer', certificateRequest('d'), ['client auth']);
      await createCsr('clean-approved', 'example.com/my-signer', certificateRequest('a'), ['client auth']);
      await admin.ok(['certificate', 'deny', 'clean-denied']);
      await admin.ok(['certificate', 'approve', 'clean-approved']);
      await until(async () => ((await get('clean-approved')).status.conditions ? true : undefined));
      const exists = async (name: string) => (await t.call('get', `${C}/${name}`)).status === 200;
      await cleaner.clean();
      assert.ok(await exists('clean-denied') && await exists('serving'), 'nothing is old yet');
      offsetMs = 2 * 3_600_000;
      await until(async () => {
        await cleaner.clean();
        return (await exists('clean-denied')) || (await exists('serving')) || (await exists('serving-no-san')) ? undefined : true;
      });
      assert.ok(await exists('clean-pending'), 'pending for less than a day');
      assert.ok(await exists('clean-approved'), 'approved but not issued');
      offsetMs = 25 * 3_600_000;
      await until(async () => {
        await cleaner.clean();
        return (await exists('clean-pending')) ? undefined : true;
      });
      assert.ok(await exists('clean-approved'));
    } finally {
      await cleaner.stop();
    }
  });

  test('CertificateSubjectRestriction: no kube-apiserver-client request for system:masters; other signers may', async () => {
    const masters = certificateRequest('mallory', { organizations: ['system:masters'] });
    const refused = await send('post', C, { metadata: { name: 'masters' }, spec: { request: masters, signerName: 'kubernetes.io/kube-apiserver-client', usages: ['client auth'] } }, 403);
    assert.equal(refused.message, 'certificatesigningrequests.certificates.k8s.io "masters" is forbidden: use of kubernetes.io/kube-apiserver-client signer with system:masters group is not allowed');
    assert.deepEqual(refused.details, { name: 'masters', group: 'certificates.k8s.io', kind: 'certificatesigningrequests' });
    const res = await t.call('get', `${C}/masters`);
    assert.equal(res.status, 404);
    await createCsr('masters-elsewhere', 'example.com/my-signer', masters, ['client auth']);
  });
});

test('--disable-admission-plugins turns the certificate plugins off', async () => {
  const t = await startTestServer('csr-plugins-off', { disableAdmissionPlugins: ['ServiceAccount', 'CertificateSubjectRestriction', 'CertificateApproval', 'CertificateSigning'] });
  try {
    const request = certificateRequest('mallory', { organizations: ['system:masters'] });
    const created = await json(t.call('post', C), { metadata: { name: 'masters' }, spec: { request, signerName: 'kubernetes.io/kube-apiserver-client', usages: ['client auth'] } });
    assert.equal(created.status, 201, created.text);
    // Without CertificateApproval RBAC on the subresource is all that is checked.
    const token = t.server.credentials.token({ username: 'carol', groups: [] }, 600);
    await json(t.call('post', CR), {
      metadata: { name: 'approval-writer' },
      rules: [{ apiGroups: ['certificates.k8s.io'], resources: ['certificatesigningrequests/approval'], verbs: ['update'] }],
    });
    await json(t.call('post', CRB), { metadata: { name: 'carol' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'approval-writer' }, subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'carol' }] });
    const csr = created.body as Json;
    const approved = await json(t.call('put', `${C}/masters/approval`).set('Authorization', `Bearer ${token}`), { ...csr, status: { conditions: [{ type: 'Approved', status: 'True', reason: 'R' }] } });
    assert.equal(approved.status, 200, approved.text);
  } finally {
    await t.close();
  }
});

test('up: the controller manager runs csrapproving and the four signers for --cluster-signing-duration', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'kubefacade-csr-up-'));
  const cluster = await startCluster({
    dataDir, bind: '127.0.0.1', port: 0, tlsSans: [], nodes: 0, nodeCpu: '4', nodeMemory: '8Gi', nodePods: 110, kubeletPort: 0,
    nodeMonitorGracePeriodSeconds: 40, quiet: true, clusterSigningDurationSeconds: 3600,
  });
  try {
    const server = cluster.apiServer;
    const call = (method: 'get' | 'post', path: string, token = server.adminToken) =>
      request(server.url)[method](path).ca(server.caCertPem).set('Authorization', `Bearer ${token}`);
    const rotation = await call('post', CRB).send({
      metadata: { name: 'node-autoapprove-certificate-rotation' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:certificates.k8s.io:certificatesigningrequests:selfnodeclient' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'system:nodes' }],
    });
    assert.equal(rotation.status, 201, rotation.text);
    const nodeToken = server.credentials.token({ username: 'system:node:n7', groups: ['system:nodes'] }, 600);
    const created = await call('post', C, nodeToken).send({
      metadata: { name: 'n7-client' },
      spec: { request: certificateRequest('system:node:n7', { organizations: ['system:nodes'] }), signerName: 'kubernetes.io/kube-apiserver-client-kubelet', usages: ['digital signature', 'client auth'] },
    });
    assert.equal(created.status, 201, created.text);
    let csr: Json = {};
    for (let i = 0; i < 300 && !csr.status?.certificate; i++) {
      await new Promise((r) => setTimeout(r, 50));
      csr = (await call('get', `${C}/n7-client`)).body as Json;
    }
    assert.equal(csr.status.conditions[0].reason, 'AutoApproved');
    const cert = new X509Certificate(Buffer.from(csr.status.certificate, 'base64'));
    assert.ok(cert.checkIssued(new X509Certificate(server.caCertPem)));
    const hours = (Date.parse(cert.validTo) - Date.now()) / 3_600_000;
    assert.ok(hours > 0.9 && hours <= 1, `--cluster-signing-duration 1h, got ${hours}h`);
  } finally {
    await cluster.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
});
