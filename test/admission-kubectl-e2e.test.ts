// Admission seen through the real kubectl: a validating webhook (HTTPS, its own CA) denies a
// labelled pod and kubectl prints the webhook's message; a mutating webhook's label is on the
// stored pod; failurePolicy Fail vs Ignore with the webhook down; a ValidatingAdmissionPolicy
// with a param and bindings denies (Deny) and warns (Warn, printed by kubectl as `Warning:`).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestServer, type TestServer } from './helpers/api-server.ts';
import { Kubectl } from './helpers/kubectl.ts';
import { addLabelPatch, startWebhookServer, type WebhookServer } from './helpers/webhook-server.ts';

const pod = (name: string, labels: Record<string, string>, containers = 1): string => `
apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  labels: ${JSON.stringify(labels)}
spec:
  containers:
${Array.from({ length: containers }, (_, i) => `  - {name: c${i}, image: nginx}`).join('\n')}
`;

describe('admission through kubectl', () => {
  let t: TestServer;
  let kubectl: Kubectl;
  let hook: WebhookServer;
  before(async () => {
    t = await startTestServer('admission-kubectl');
    kubectl = await Kubectl.create(t.server.adminKubeconfigPath);
    hook = await startWebhookServer((request, path) => {
      const labels = request.object?.metadata?.labels;
      if (path.startsWith('/validate')) {
        return labels?.team === 'blocked' ? { allowed: false, status: { code: 403, reason: 'Forbidden', message: 'team "blocked" may not run pods' } } : { allowed: true };
      }
      return addLabelPatch(labels, 'injected', 'true');
    });
  });
  after(async () => {
    await kubectl?.dispose();
    await t.close();
    await hook.close();
  });

  const webhookConfig = (kind: string, name: string, path: string, extra = ''): string => `
apiVersion: admissionregistration.k8s.io/v1
kind: ${kind}
metadata: {name: ${name}}
webhooks:
- name: ${name}.example.com
  clientConfig: {url: "${hook.url}${path}", caBundle: ${hook.caBundle}}
  rules: [{operations: [CREATE], apiGroups: [""], apiVersions: [v1], resources: [pods]}]
  sideEffects: None
  admissionReviewVersions: [v1]
${extra}`;

  test('a validating webhook denies a labelled pod and kubectl prints its message', async () => {
    await kubectl.ok(['apply', '-f', '-'], { input: webhookConfig('ValidatingWebhookConfiguration', 'team-check', '/validate') });
    const res = await kubectl.run(['apply', '-f', '-'], { input: pod('blocked', { team: 'blocked' }) });
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /admission webhook "team-check\.example\.com" denied the request: team "blocked" may not run pods/);
    await kubectl.ok(['apply', '-f', '-'], { input: pod('fine', { team: 'ok' }) });
  });

  test('a mutating webhook adds a label that the stored pod has', async () => {
    await kubectl.ok(['apply', '-f', '-'], { input: webhookConfig('MutatingWebhookConfiguration', 'injector', '/mutate') });
    await kubectl.ok(['apply', '-f', '-'], { input: pod('mutated', { team: 'ok' }) });
    assert.equal(await kubectl.ok(['get', 'pod', 'mutated', '-o', 'jsonpath={.metadata.labels.injected}']), 'true');
    await kubectl.ok(['delete', 'mutatingwebhookconfiguration', 'injector']);
  });

  test('failurePolicy Fail refuses and Ignore admits while the webhook is down', async () => {
    const down = await startWebhookServer(() => ({ allowed: true }));
    const url = down.url;
    await down.close();
    const config = (policy: string) => `
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: down}
webhooks:
- name: down.example.com
  clientConfig: {url: "${url}/validate", caBundle: ${hook.caBundle}}
  rules: [{operations: [CREATE], apiGroups: [""], apiVersions: [v1], resources: [pods]}]
  objectSelector: {matchLabels: {check: down}}
  failurePolicy: ${policy}
  sideEffects: None
  admissionReviewVersions: [v1]
`;
    await kubectl.ok(['apply', '-f', '-'], { input: config('Fail') });
    const refused = await kubectl.run(['apply', '-f', '-'], { input: pod('p-fail', { check: 'down' }) });
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /Internal error occurred: failed calling webhook "down\.example\.com": failed to call webhook: Post ".*": dial tcp 127\.0\.0\.1:\d+: connect: connection refused/);
    await kubectl.ok(['apply', '-f', '-'], { input: config('Ignore') });
    assert.match(await kubectl.ok(['apply', '-f', '-'], { input: pod('p-ignore', { check: 'down' }) }), /pod\/p-ignore created/);
    await kubectl.ok(['delete', 'validatingwebhookconfiguration', 'down', 'team-check']);
  });

  test('a ValidatingAdmissionPolicy with a param and bindings denies and warns', async () => {
    await kubectl.ok(['apply', '-f', '-'], { input: `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: podlimits.policy.example.com}
spec:
  group: policy.example.com
  scope: Namespaced
  names: {plural: podlimits, singular: podlimit, kind: PodLimit}
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, properties: {maxContainers: {type: integer}}}}
` });
    await kubectl.ok(['wait', '--for=condition=Established', 'crd/podlimits.policy.example.com', '--timeout=10s']);
    await kubectl.ok(['apply', '-f', '-'], { input: `
apiVersion: policy.example.com/v1
kind: PodLimit
metadata: {name: limit, namespace: default}
maxContainers: 1
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: container-limit.example.com}
spec:
  paramKind: {apiVersion: policy.example.com/v1, kind: PodLimit}
  matchConstraints:
    resourceRules: [{apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [pods]}]
  validations:
  - expression: object.spec.containers.size() <= params.maxContainers
    messageExpression: '"at most " + string(params.maxContainers) + " container(s) allowed"'
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: container-limit-deny.example.com}
spec:
  policyName: container-limit.example.com
  validationActions: [Deny]
  paramRef: {name: limit, namespace: default, parameterNotFoundAction: Deny}
  matchResources: {objectSelector: {matchLabels: {limit: deny}}}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: container-limit-warn.example.com}
spec:
  policyName: container-limit.example.com
  validationActions: [Warn]
  paramRef: {name: limit, namespace: default, parameterNotFoundAction: Deny}
  matchResources: {objectSelector: {matchLabels: {limit: warn}}}
` });
    const denied = await kubectl.run(['apply', '-f', '-'], { input: pod('two-denied', { limit: 'deny' }, 2) });
    assert.notEqual(denied.code, 0);
    assert.match(denied.stderr, /ValidatingAdmissionPolicy 'container-limit\.example\.com' with binding 'container-limit-deny\.example\.com' denied request: at most 1 container\(s\) allowed/);
    const warned = await kubectl.run(['apply', '-f', '-'], { input: pod('two-warned', { limit: 'warn' }, 2) });
    assert.equal(warned.code, 0, warned.stderr);
    assert.match(warned.stderr, /Warning: Validation failed for ValidatingAdmissionPolicy 'container-limit\.example\.com' with binding 'container-limit-warn\.example\.com': at most 1 container\(s\) allowed/);
    assert.match(await kubectl.ok(['get', 'validatingadmissionpolicies']), /container-limit\.example\.com\s+1\s+policy\.example\.com\/v1\/PodLimit/);
  });
});
