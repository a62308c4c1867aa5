// The signers' checks of a request (pkg/apis/certificates/helpers.go) with upstream's messages, request
// parsing (subjectAltNames by kind), certificate durations, the csrcleaner's reasons and the per-signer CA
// flags, without a server.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import forge from 'node-forge';
import { apiServerClientUsageProblem, kubeletClientProblem, kubeletServingProblem } from '../api/resources/csr-signer-checks.ts';
import { parseCertificateRequest } from '../api/resources/csr-request.ts';
import { generateEcKeyPair, issueCertificate } from '../auth/x509.ts';
import { cleanupReason } from '../controllers/csr-cleaner.ts';
import { loadSignerCas } from '../controllers/csr-signing-config.ts';
import { certificateDuration } from '../controllers/csr-signing.ts';
import { selectControllers } from '../controllers/manager.ts';
import { certificateRequest, type RequestOptions } from './helpers/certificate-requests.ts';

const parsed = (commonName: string, options: RequestOptions = {}) => parseCertificateRequest(Buffer.from(certificateRequest(commonName, options), 'base64'));

describe('signer checks (pkg/apis/certificates/helpers.go)', () => {
  test('requests are parsed with their subjectAltNames by kind', () => {
    const request = parsed('system:node:n1', { organizations: ['system:nodes'], dnsNames: ['n1.example'], ipAddresses: ['10.0.0.1', '2001:db8::1'], emails: ['a@b.c'], uris: ['spiffe://x/y'] });
    assert.deepEqual([request.dnsNames, request.ipAddresses, request.emailAddresses, request.uris], [['n1.example'], ['10.0.0.1', '2001:db8::1'], ['a@b.c'], ['spiffe://x/y']]);
    assert.ok(request.subjectAltNameDer);
    assert.deepEqual(parsed('x').dnsNames, []);
  });

  test('kubelet serving: organization, SANs, usages, common name, in upstream order and words', () => {
    const good = parsed('system:node:n1', { organizations: ['system:nodes'], dnsNames: ['n1'] });
    const usages = ['digital signature', 'key encipherment', 'server auth'];
    assert.equal(kubeletServingProblem(good, usages), undefined);
    assert.equal(kubeletServingProblem(good, ['server auth', 'digital signature']), undefined, 'no key encipherment: a non-RSA key');
    assert.equal(kubeletServingProblem(parsed('system:node:n1', { organizations: ['system:nodes', 'x'], dnsNames: ['n1'] }), usages), 'subject organization is not system:nodes');
    assert.equal(kubeletServingProblem(parsed('system:node:n1', { organizations: ['system:nodes'] }), usages), 'DNS or IP subjectAltName is required');
    assert.equal(kubeletServingProblem(parsed('system:node:n1', { organizations: ['system:nodes'], ipAddresses: ['10.0.0.1'], emails: ['a@b.c'] }), usages), 'Email subjectAltNames are not allowed');
    assert.equal(kubeletServingProblem(parsed('system:node:n1', { organizations: ['system:nodes'], dnsNames: ['n1'], uris: ['https://x'] }), usages), 'URI subjectAltNames are not allowed');
    assert.equal(kubeletServingProblem(good, ['server auth']), 'usages did not match [digital signature key encipherment server auth]');
    assert.equal(kubeletServingProblem(parsed('n1', { organizations: ['system:nodes'], dnsNames: ['n1'] }), usages), 'subject common name does not begin with system:node:');
  });

  test('kubelet client: no SANs at all, common name before usages', () => {
    const good = parsed('system:node:n1', { organizations: ['system:nodes'] });
    assert.equal(kubeletClientProblem(good, ['client auth', 'digital signature', 'key encipherment']), undefined);
    assert.equal(kubeletClientProblem(good, ['client auth', 'digital signature']), undefined);
    assert.equal(kubeletClientProblem(good, ['client auth']), 'usages did not match [client auth digital signature key encipherment]');
    assert.equal(kubeletClientProblem(parsed('system:node:n1'), ['client auth']), 'subject organization is not system:nodes');
    const nodes = { organizations: ['system:nodes'] };
    assert.equal(kubeletClientProblem(parsed('system:node:n1', { ...nodes, dnsNames: ['n1'] }), []), 'DNS subjectAltNames are not allowed');
    assert.equal(kubeletClientProblem(parsed('system:node:n1', { ...nodes, emails: ['a@b.c'] }), []), 'Email subjectAltNames are not allowed');
    assert.equal(kubeletClientProblem(parsed('system:node:n1', { ...nodes, ipAddresses: ['10.0.0.1'] }), []), 'IP subjectAltNames are not allowed');
    assert.equal(kubeletClientProblem(parsed('system:node:n1', { ...nodes, uris: ['https://x'] }), []), 'URI subjectAltNames are not allowed');
    assert.equal(kubeletClientProblem(parsed('n1', nodes), ['client auth']), 'subject common name does not begin with system:node:');
    assert.equal(apiServerClientUsageProblem(['digital signature']), 'missing required usage for client certificate: client auth');
  });

  test('durations: the signer\'s, shortened by expirationSeconds down to ten minutes', () => {
    assert.equal(certificateDuration(7200, undefined), 7200);
    assert.equal(certificateDuration(7200, 86400), 7200);
    assert.equal(certificateDuration(7200, 3600), 3600);
    assert.equal(certificateDuration(7200, 60), 600);
  });

  test('csrcleaner reasons: an issued certificate that expired goes at once', () => {
    const cert = forge.pki.createCertificate();
    const keys = forge.pki.rsa.generateKeyPair(512);
    cert.publicKey = keys.publicKey;
    cert.validity.notBefore = new Date(Date.now() - 7_200_000);
    cert.validity.notAfter = new Date(Date.now() - 3_600_000);
    cert.sign(keys.privateKey, forge.md.sha256.create());
    const certificate = Buffer.from(forge.pki.certificateToPem(cert)).toString('base64');
    const justNow = new Date().toISOString();
    const csr = { metadata: { name: 'x' }, status: { certificate, conditions: [{ type: 'Approved', lastUpdateTime: justNow }] } };
    assert.equal(cleanupReason(csr, Date.now()), 'Cleaning CSR as the associated certificate is expired.');
    assert.equal(cleanupReason({ ...csr, status: { conditions: csr.status.conditions } }, Date.now()), undefined);
    assert.equal(cleanupReason({ metadata: { name: 'y' } }, Date.now()), undefined, 'no creation time: kept');
  });

  test('per-signer CA files as kube-controller-manager reads them; csrapproving is a known controller', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kubefacade-signer-files-'));
    try {
      const ca = generateEcKeyPair();
      const certPem = issueCertificate({ commonName: 'signer-a', publicKeyPem: ca.publicKeyPem, days: 1, isCa: true }, { privateKeyPem: ca.privateKeyPem });
      await writeFile(join(dir, 'a.crt'), certPem);
      await writeFile(join(dir, 'a.key'), ca.privateKeyPem);
      await writeFile(join(dir, 'bad.crt'), 'not a certificate');
      const a = { certFile: join(dir, 'a.crt'), keyFile: join(dir, 'a.key') };
      assert.equal(await loadSignerCas({}), undefined);
      const all = await loadSignerCas({ cluster: a });
      assert.deepEqual(Object.keys(all?.signers ?? {}).sort(), ['kubernetes.io/kube-apiserver-client', 'kubernetes.io/kube-apiserver-client-kubelet', 'kubernetes.io/kubelet-serving', 'kubernetes.io/legacy-unknown']);
      const serving = await loadSignerCas({ kubeletServing: a });
      assert.deepEqual(serving?.signers, { 'kubernetes.io/kubelet-serving': { certPem, keyPem: ca.privateKeyPem } });
      assert.deepEqual(serving?.skipped, ['kubernetes.io/kube-apiserver-client-kubelet', 'kubernetes.io/kube-apiserver-client', 'kubernetes.io/legacy-unknown']);
      await assert.rejects(loadSignerCas({ cluster: a, legacyUnknown: a }), /cannot specify default and per controller certs at the same time/);
      await assert.rejects(loadSignerCas({ kubeletClient: { certFile: a.certFile } }), /--cluster-signing-kubelet-client-key-file must be given together/);
      await assert.rejects(loadSignerCas({ cluster: { certFile: join(dir, 'bad.crt'), keyFile: a.keyFile } }),
        /failed to start kubernetes\.io\/kubelet-serving certificate controller: error reading CA cert file ".*bad\.crt"/);
      await assert.rejects(loadSignerCas({ cluster: { certFile: a.certFile, keyFile: join(dir, 'missing.key') } }), /error reading CA key file ".*missing\.key": ENOENT/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    assert.ok(selectControllers('*').includes('csrapproving'));
    assert.deepEqual(selectControllers('*,-csrapproving').includes('csrapproving'), false);
    assert.ok(selectControllers('*').includes('csrcleaner'));
  });
});
