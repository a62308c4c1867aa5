// Admission in the audit log: a webhook's auditAnnotations appear as `<webhook>/<key>`, a
// ValidatingAdmissionPolicy's auditAnnotations as `<policy>/<key>`, and a binding with the Audit
// action records `validation.policy.admission.k8s.io/validation_failure`.

import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { podManifest, startTestServer, type TestServer } from './helpers/api-server.ts';
import { startWebhookServer, type WebhookServer } from './helpers/webhook-server.ts';

describe('admission audit annotations', () => {
  let t: TestServer;
  let hook: WebhookServer;
  let dir: string;
  let auditPath: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kubefacade-admission-audit-'));
    auditPath = join(dir, 'audit.log');
    t = await startTestServer('admission-audit', { auditLogPath: auditPath });
    hook = await startWebhookServer(() => ({ allowed: true, auditAnnotations: { checked: 'yes' } }));
  });
  after(async () => {
    await t.close();
    await hook.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('webhook and policy annotations are in the audit event of the request', async () => {
    await t.call('post', '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations').send({
      apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingWebhookConfiguration', metadata: { name: 'audited' },
      webhooks: [{
        name: 'audited.example.com', clientConfig: { url: `${hook.url}/v`, caBundle: hook.caBundle },
        rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }], sideEffects: 'None', admissionReviewVersions: ['v1'],
      }],
    }).expect(201);
    await t.call('post', '/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies').send({
      apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingAdmissionPolicy', metadata: { name: 'audit-only.example.com' },
      spec: {
        matchConstraints: { resourceRules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'] }] },
        validations: [{ expression: "object.metadata.name.startsWith('ok-')", message: 'names should start with ok-' }],
        auditAnnotations: [{ key: 'containers', valueExpression: 'string(object.spec.containers.size())' }],
      },
    }).expect(201);
    await t.call('post', '/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings').send({
      apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingAdmissionPolicyBinding', metadata: { name: 'audit-only-binding.example.com' },
      spec: { policyName: 'audit-only.example.com', validationActions: ['Audit'] },
    }).expect(201);
    const created = await t.call('post', '/api/v1/namespaces/default/pods').send(podManifest('audited-pod')).expect(201);
    const auditID = created.headers['audit-id'];
    let event: { annotations?: Record<string, string> } | undefined;
    for (let i = 0; i < 50 && !event; i++) {
      const lines = (await readFile(auditPath, 'utf8').catch(() => '')).split('\n').filter(Boolean);
      // The request's ResponseComplete event: admission's annotations are known once the request has run.
      event = lines.map((l) => JSON.parse(l) as { auditID: string; stage: string; annotations?: Record<string, string> })
        .find((e) => e.auditID === auditID && e.stage === 'ResponseComplete');
      if (!event) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(event, 'audit event written');
    assert.equal(event.annotations?.['audited.example.com/checked'], 'yes');
    assert.equal(event.annotations?.['audit-only.example.com/containers'], '1');
    const failures = JSON.parse(event.annotations?.['validation.policy.admission.k8s.io/validation_failure'] ?? '[]');
    assert.deepEqual(failures, [{ message: 'names should start with ok-', policy: 'audit-only.example.com', binding: 'audit-only-binding.example.com', expressionIndex: 0, validationActions: ['Audit'] }]);
  });
});
