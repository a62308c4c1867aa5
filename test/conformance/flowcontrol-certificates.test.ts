// Conformance entries for flowcontrol.apiserver.k8s.io/v1 (FlowSchema, PriorityLevelConfiguration)
// and certificates.k8s.io/v1 (CertificateSigningRequest): discovery of the resources and their
// subresources, and every verb the descriptions name, against a running API server.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import forge from 'node-forge';
import { startConformanceCluster, type ConformanceCluster, type Json } from './helpers/cluster.ts';

const MERGE = 'application/merge-patch+json';
const names = (list: Json): string[] => (list.items as Json[]).map((item) => item.metadata.name as string).sort();

describe('conformance: flowcontrol and certificates', () => {
  let c: ConformanceCluster;
  before(async () => { c = await startConformanceCluster('flowcontrol-certificates'); });
  after(async () => { await c.stop(); });

  const discover = async (group: string, resources: string[]): Promise<void> => {
    const groups = await c.api('get', '/apis');
    assert.ok((groups.groups as Json[]).some((g) => g.name === group), `${group} in /apis`);
    const versions = await c.api('get', `/apis/${group}`);
    assert.ok((versions.versions as Json[]).some((v) => v.groupVersion === `${group}/v1`));
    const list = await c.api('get', `/apis/${group}/v1`);
    const served = new Set((list.resources as Json[]).map((r) => r.name));
    for (const resource of resources) assert.ok(served.has(resource), `${resource} in /apis/${group}/v1`);
  };
  const watchText = async (path: string): Promise<string> => {
    const res = await c.raw('get', path).buffer(true).parse((response, done) => {
      let text = '';
      response.on('data', (chunk: Buffer) => { text += chunk.toString(); });
      response.on('end', () => done(null, text));
    });
    return String(res.body);
  };
  /** create ×3, get, list, watch, patch, update, delete, deletecollection on a cluster-scoped collection. */
  const exerciseVerbs = async (path: string, make: (name: string) => Json, label: string): Promise<void> => {
    for (const suffix of ['1', '2', '3']) await c.api('post', path, { body: make(`${label}-${suffix}`), expect: 201 });
    assert.equal((await c.api('get', `${path}/${label}-1`)).metadata.name, `${label}-1`);
    const listed = await c.api('get', `${path}?labelSelector=e2e-test%3D${label}`);
    assert.deepEqual(names(listed), [`${label}-1`, `${label}-2`, `${label}-3`]);
    const patched = await c.api('patch', `${path}/${label}-1`, { body: { metadata: { annotations: { patched: 'true' } } }, contentType: MERGE });
    assert.equal(patched.metadata.annotations.patched, 'true');
    const current = await c.api('get', `${path}/${label}-1`);
    const updated = await c.api('put', `${path}/${label}-1`, { body: { ...current, metadata: { ...current.metadata, annotations: { ...current.metadata.annotations, updated: 'true' } } } });
    assert.equal(updated.metadata.annotations.updated, 'true');
    const events = await watchText(`${path}?watch=true&labelSelector=e2e-test%3D${label}&resourceVersion=${listed.metadata.resourceVersion}&timeoutSeconds=1`);
    assert.match(events, /"type":"MODIFIED"/);
    await c.api('delete', `${path}/${label}-1`);
    await c.api('get', `${path}/${label}-1`, { expect: 404 });
    await c.api('delete', `${path}?labelSelector=e2e-test%3D${label}`);
    assert.deepEqual(names(await c.api('get', `${path}?labelSelector=e2e-test%3D${label}`)), []);
  };
  const statusVerbs = async (path: string): Promise<void> => {
    const status = await c.api('get', `${path}/status`);
    const condition = { type: 'StatusPatched', status: 'True', reason: 'E2E', message: 'Set by an e2e test', lastTransitionTime: '2024-01-01T00:00:00Z' };
    const patched = await c.api('patch', `${path}/status`, { body: { status: { conditions: [...(status.status.conditions ?? []), condition] } }, contentType: MERGE });
    assert.ok(patched.status.conditions.some((x: Json) => x.type === 'StatusPatched'));
    // The server writes the Dangling condition of a new FlowSchema meanwhile, so the update retries on a
    // conflict, as upstream's e2e does (retry.RetryOnConflict around Get and UpdateStatus).
    let updated: Json | undefined;
    for (let attempt = 0; attempt < 5 && !updated; attempt++) {
      const current = await c.api('get', `${path}/status`);
      const res = await c.raw('put', `${path}/status`).set('Content-Type', 'application/json')
        .send(JSON.stringify({ ...current, status: { conditions: [...current.status.conditions, { ...condition, type: 'StatusUpdated' }] } }));
      if (res.status === 409) continue;
      assert.equal(res.status, 200, res.text);
      updated = res.body as Json;
    }
    assert.ok(updated?.status.conditions.some((x: Json) => x.type === 'StatusUpdated'));
  };

  test('Priority and Fairness FlowSchema API', async () => {
    await discover('flowcontrol.apiserver.k8s.io', ['flowschemas', 'flowschemas/status']);
    const path = '/apis/flowcontrol.apiserver.k8s.io/v1/flowschemas';
    const schema = (name: string) => ({
      metadata: { name, labels: { 'e2e-test': 'flowschema' } },
      spec: {
        matchingPrecedence: 10000, priorityLevelConfiguration: { name: 'global-default' },
        rules: [{ subjects: [{ kind: 'User', user: { name: 'e2e' } }], nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }] }],
      },
    });
    await c.api('post', path, { body: schema('fs-status'), expect: 201 });
    await statusVerbs(`${path}/fs-status`);
    await c.api('delete', `${path}/fs-status`);
    await exerciseVerbs(path, schema, 'flowschema');
  });

  test('Priority and Fairness PriorityLevelConfiguration API', async () => {
    await discover('flowcontrol.apiserver.k8s.io', ['prioritylevelconfigurations', 'prioritylevelconfigurations/status']);
    const path = '/apis/flowcontrol.apiserver.k8s.io/v1/prioritylevelconfigurations';
    const level = (name: string) => ({
      metadata: { name, labels: { 'e2e-test': 'prioritylevel' } },
      spec: { type: 'Limited', limited: { nominalConcurrencyShares: 2, limitResponse: { type: 'Reject' } } },
    });
    await c.api('post', path, { body: level('pl-status'), expect: 201 });
    await statusVerbs(`${path}/pl-status`);
    await c.api('delete', `${path}/pl-status`);
    await exerciseVerbs(path, level, 'prioritylevel');
  });

  test('CertificateSigningRequest API', async () => {
    await discover('certificates.k8s.io', ['certificatesigningrequests', 'certificatesigningrequests/approval', 'certificatesigningrequests/status']);
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
    const request = forge.pki.createCertificationRequest();
    request.publicKey = forge.pki.publicKeyFromPem(publicKey);
    request.setSubject([{ name: 'commonName', value: 'e2e.example.com' }]);
    request.sign(forge.pki.privateKeyFromPem(privateKey), forge.md.sha256.create());
    const pem = Buffer.from(forge.pki.certificationRequestToPem(request)).toString('base64');
    const path = '/apis/certificates.k8s.io/v1/certificatesigningrequests';
    const csr = (name: string) => ({
      metadata: { name, labels: { 'e2e-test': 'csr' } },
      spec: { request: pem, signerName: 'k8s.io/e2e-fake-signer', usages: ['digital signature', 'key encipherment', 'server auth'] },
    });
    await c.api('post', path, { body: csr('csr-sub'), expect: 201 });
    // approval: get, update, patch
    const approval = await c.api('get', `${path}/csr-sub/approval`);
    const approved = await c.api('put', `${path}/csr-sub/approval`, {
      body: { ...approval, status: { conditions: [{ type: 'Approved', status: 'True', reason: 'E2E', message: 'Set from an e2e test' }] } },
    });
    assert.equal(approved.status.conditions[0].type, 'Approved');
    const patchedApproval = await c.api('patch', `${path}/csr-sub/approval`, {
      body: { status: { conditions: [approved.status.conditions[0], { type: 'ApprovalPatched', status: 'True', reason: 'E2E', message: 'Set from an e2e test' }] } }, contentType: MERGE,
    });
    assert.ok(patchedApproval.status.conditions.some((x: Json) => x.type === 'ApprovalPatched'));
    // status: get, update, patch
    const status = await c.api('get', `${path}/csr-sub/status`);
    const certificate = Buffer.from(await issueSelfSigned()).toString('base64');
    const withCertificate = await c.api('put', `${path}/csr-sub/status`, { body: { ...status, status: { ...status.status, certificate } } });
    assert.equal(withCertificate.status.certificate, certificate);
    const statusPatched = await c.api('patch', `${path}/csr-sub/status`, {
      body: { status: { conditions: [...withCertificate.status.conditions, { type: 'StatusPatched', status: 'True', reason: 'E2E', message: 'Set from an e2e test' }] } }, contentType: MERGE,
    });
    assert.ok(statusPatched.status.conditions.some((x: Json) => x.type === 'StatusPatched'));
    await c.api('delete', `${path}/csr-sub`);
    await exerciseVerbs(path, csr, 'csr');
  });
});

/** A self-signed certificate, standing for what a signer would write into status.certificate. */
async function issueSelfSigned(): Promise<string> {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey);
  cert.serialNumber = '01';
  cert.validity.notBefore = new Date();
  cert.validity.notAfter = new Date(Date.now() + 3600_000);
  cert.setSubject([{ name: 'commonName', value: 'e2e.example.com' }]);
  cert.setIssuer([{ name: 'commonName', value: 'e2e.example.com' }]);
  cert.sign(forge.pki.privateKeyFromPem(privateKey), forge.md.sha256.create());
  return forge.pki.certificateToPem(cert);
}
