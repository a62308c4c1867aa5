// ValidatingAdmissionPolicy and ValidatingAdmissionPolicyBinding: CEL validations against the
// request's object with a param from a ConfigMap-like custom resource, validationActions Deny and
// Warn, messageExpression, variables, failurePolicy, and upstream's wording.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { podManifest, startTestServer, type TestServer } from './helpers/api-server.ts';
import { crdManifest, waitEstablished } from './helpers/crds.ts';

const VAP = '/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies';
const VAPB = '/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings';
const PODS = '/api/v1/namespaces/default/pods';

const policy = {
  apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingAdmissionPolicy',
  metadata: { name: 'max-containers.example.com' },
  spec: {
    paramKind: { apiVersion: 'limits.example.com/v1', kind: 'Limit' },
    matchConstraints: { resourceRules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['pods'] }] },
    variables: [{ name: 'containers', expression: 'object.spec.containers.size()' }],
    validations: [
      { expression: 'variables.containers <= params.spec.maxContainers', messageExpression: '"pod has " + string(variables.containers) + " containers, at most " + string(params.spec.maxContainers) + " allowed"' },
      { expression: "!has(object.metadata.labels) || !('forbidden' in object.metadata.labels)", reason: 'Forbidden' },
    ],
  },
};

function binding(name: string, actions: string[], paramName: string, selector?: Record<string, unknown>): Record<string, unknown> {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingAdmissionPolicyBinding', metadata: { name },
    spec: {
      policyName: 'max-containers.example.com', validationActions: actions,
      paramRef: { name: paramName, namespace: 'default', parameterNotFoundAction: 'Deny' },
      ...(selector ? { matchResources: { objectSelector: selector } } : {}),
    },
  };
}

function podWith(name: string, containers: number, labels?: Record<string, string>): Record<string, unknown> {
  const pod = podManifest(name, labels ? { labels } : {}) as { spec: { containers: Record<string, unknown>[] } };
  pod.spec.containers = Array.from({ length: containers }, (_, i) => ({ name: `c${i}`, image: 'nginx' }));
  return pod;
}

describe('ValidatingAdmissionPolicy', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer('vap');
    await t.call('post', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions').send(crdManifest({
      group: 'limits.example.com', plural: 'limits', kind: 'Limit',
      specSchema: { type: 'object', properties: { maxContainers: { type: 'integer' } } },
    })).expect(201);
    await waitEstablished(t, 'limits.limits.example.com');
    await t.call('post', '/apis/limits.example.com/v1/namespaces/default/limits').send({ apiVersion: 'limits.example.com/v1', kind: 'Limit', metadata: { name: 'two' }, spec: { maxContainers: 2 } }).expect(201);
  });
  after(async () => { await t.close(); });

  test('policies and bindings are validated as upstream', async () => {
    const bad = await t.call('post', VAP).send({ ...policy, metadata: { name: 'bad' }, spec: { ...policy.spec, validations: [{ expression: 'object.spec.' }] } });
    assert.equal(bad.status, 422);
    assert.match(bad.body.message, /spec\.validations\[0\]\.expression: Invalid value: "object\.spec\.": compilation failed/);
    const both = await t.call('post', VAPB).send(binding('both', ['Deny', 'Warn'], 'two'));
    assert.equal(both.status, 422);
    assert.match(both.body.message, /must not contain both Deny and Warn/);
  });

  test('a policy with a param and a Deny binding denies with the messageExpression', async () => {
    await t.call('post', VAP).send(policy).expect(201);
    await t.call('post', VAPB).send(binding('deny-binding.example.com', ['Deny'], 'two', { matchLabels: { policy: 'deny' } })).expect(201);
    await t.call('post', PODS).send(podWith('small', 2, { policy: 'deny' })).expect(201);
    const denied = await t.call('post', PODS).send(podWith('big', 3, { policy: 'deny' }));
    assert.equal(denied.status, 422, JSON.stringify(denied.body));
    assert.equal(denied.body.message, "ValidatingAdmissionPolicy 'max-containers.example.com' with binding 'deny-binding.example.com' denied request: pod has 3 containers, at most 2 allowed");
    const forbidden = await t.call('post', PODS).send(podWith('labelled', 1, { policy: 'deny', forbidden: 'x' }));
    assert.equal(forbidden.status, 403);
    assert.match(forbidden.body.message, /denied request: failed expression: !has\(object\.metadata\.labels\)/);
    await t.call('post', PODS).send(podWith('unmatched', 3)).expect(201);
  });

  test('a Warn binding admits with a Warning header', async () => {
    await t.call('post', VAPB).send(binding('warn-binding.example.com', ['Warn'], 'two', { matchLabels: { policy: 'warn' } })).expect(201);
    const warned = await t.call('post', PODS).send(podWith('warned', 3, { policy: 'warn' }));
    assert.equal(warned.status, 201, JSON.stringify(warned.body));
    assert.match(String(warned.headers.warning), /Validation failed for ValidatingAdmissionPolicy 'max-containers\.example\.com' with binding 'warn-binding\.example\.com': pod has 3 containers, at most 2 allowed/);
  });

  test('a policy on CONNECT pods/exec sees the PodExecOptions as object', async () => {
    await t.call('post', VAP).send({
      apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingAdmissionPolicy', metadata: { name: 'no-tty-exec.example.com' },
      spec: {
        matchConstraints: { resourceRules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CONNECT'], resources: ['pods/exec'] }] },
        validations: [{ expression: "object.kind == 'PodExecOptions' && !(has(object.tty) && object.tty)", message: 'no terminals here' }],
      },
    }).expect(201);
    await t.call('post', VAPB).send({
      apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingAdmissionPolicyBinding', metadata: { name: 'no-tty-exec-binding.example.com' },
      spec: { policyName: 'no-tty-exec.example.com', validationActions: ['Deny'] },
    }).expect(201);
    await t.call('post', PODS).send(podWith('exec-target', 1)).expect(201);
    const denied = await t.call('post', `${PODS}/exec-target/exec?command=sh&stdin=true&tty=true&stdout=true`);
    assert.equal(denied.status, 422, denied.text);
    assert.equal(denied.body.message, "ValidatingAdmissionPolicy 'no-tty-exec.example.com' with binding 'no-tty-exec-binding.example.com' denied request: no terminals here");
    // Without a terminal the request goes on (the pod has no node: upstream's message).
    const allowed = await t.call('post', `${PODS}/exec-target/exec?command=ls&stdout=true`);
    assert.equal(allowed.status, 400, allowed.text);
    assert.equal(allowed.body.message, 'pod exec-target does not have a host assigned');
    await t.call('delete', `${VAPB}/no-tty-exec-binding.example.com`).expect(200);
  });

  test('a missing param denies (parameterNotFoundAction Deny)', async () => {
    await t.call('post', VAPB).send(binding('missing-param.example.com', ['Deny'], 'absent', { matchLabels: { policy: 'missing' } })).expect(201);
    const res = await t.call('post', PODS).send(podWith('no-param', 1, { policy: 'missing' }));
    assert.equal(res.status, 422);
    assert.match(res.body.message, /no params found for policy binding with `Deny` parameterNotFoundAction/);
  });
});
