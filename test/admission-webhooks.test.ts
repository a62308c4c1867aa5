// Admission webhooks end to end over HTTPS: a validating webhook with its own CA denies a labelled
// pod with its message; a mutating webhook's JSONPatch is applied and stored; failurePolicy Fail vs
// Ignore with the webhook down; caBundle verification; matchConditions, objectSelector and
// namespaceSelector; warnings as Warning headers; dry run and sideEffects; keep-alive reuse.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { podManifest, startTestServer, type TestServer } from './helpers/api-server.ts';
import { addLabelPatch, startWebhookServer, type WebhookServer } from './helpers/webhook-server.ts';

const VWC = '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations';
const MWC = '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations';
const PODS = '/api/v1/namespaces/default/pods';

function webhook(name: string, url: string, caBundle: string | undefined, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name,
    clientConfig: { url, ...(caBundle ? { caBundle } : {}) },
    rules: [{ operations: ['CREATE', 'UPDATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }],
    sideEffects: 'None',
    admissionReviewVersions: ['v1'],
    ...extra,
  };
}

function configuration(kind: 'ValidatingWebhookConfiguration' | 'MutatingWebhookConfiguration', name: string, webhooks: Record<string, unknown>[]): Record<string, unknown> {
  return { apiVersion: 'admissionregistration.k8s.io/v1', kind, metadata: { name }, webhooks };
}

describe('admission webhooks', () => {
  let t: TestServer;
  let hook: WebhookServer;
  before(async () => {
    t = await startTestServer('webhooks');
    hook = await startWebhookServer((request, path) => {
      const labels = request.object?.metadata?.labels;
      if (path.startsWith('/validate')) {
        if (labels?.forbidden === 'true') return { allowed: false, status: { code: 403, message: 'pods labelled forbidden=true are not allowed' } };
        if (labels?.warn === 'true') return { allowed: true, warnings: ['this pod is watched'] };
        return { allowed: true };
      }
      if (path.startsWith('/mutate')) return addLabelPatch(labels, 'mutated-by', 'webhook');
      return { allowed: true };
    });
  });
  after(async () => {
    await t.close();
    await hook.close();
  });

  test('configurations are validated and defaulted as upstream', async () => {
    const bad = await t.call('post', VWC).send(configuration('ValidatingWebhookConfiguration', 'bad', [
      { name: 'short', clientConfig: { url: 'http://x' }, rules: [], sideEffects: 'Some', admissionReviewVersions: [] },
    ]));
    assert.equal(bad.status, 422);
    for (const m of ['webhooks[0].name: Invalid value: "short": should be a domain with at least three segments separated by dots',
      `webhooks[0].clientConfig.url: Invalid value: "http://x": 'https' is the only allowed URL scheme`,
      'webhooks[0].sideEffects: Unsupported value: "Some": supported values: "None", "NoneOnDryRun"',
      'webhooks[0].admissionReviewVersions: Required value: must specify one of v1, v1beta1']) {
      assert.ok(bad.body.message.includes(m), `${bad.body.message}\n lacks ${m}`);
    }
  });

  test('a validating webhook with its own CA denies a labelled pod with its message; others pass', async () => {
    const created = await t.call('post', VWC).send(configuration('ValidatingWebhookConfiguration', 'deny-forbidden', [
      webhook('deny.example.com', `${hook.url}/validate`, hook.caBundle),
    ]));
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.webhooks[0].failurePolicy, 'Fail');
    assert.equal(created.body.webhooks[0].timeoutSeconds, 10);
    const denied = await t.call('post', PODS).send(podManifest('denied', { labels: { forbidden: 'true' } }));
    assert.equal(denied.status, 403, JSON.stringify(denied.body));
    assert.equal(denied.body.message, 'admission webhook "deny.example.com" denied the request: pods labelled forbidden=true are not allowed');
    await t.call('get', `${PODS}/denied`).expect(404);
    await t.call('post', PODS).send(podManifest('allowed')).expect(201);
    const warned = await t.call('post', PODS).send(podManifest('warned', { labels: { warn: 'true' } })).expect(201);
    assert.match(String(warned.headers.warning), /299 - "this pod is watched"/);
  });

  test('CONNECT: webhooks on pods/exec see the PodExecOptions and may refuse before any connection', async () => {
    const seen: Record<string, unknown>[] = [];
    const connectHook = await startWebhookServer((request, path) => {
      if (path.startsWith('/retarget')) {
        const ops = [{ op: 'replace', path: '/container', value: 'patched' }];
        return { allowed: true, patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(ops)).toString('base64') };
      }
      seen.push(request as unknown as Record<string, unknown>);
      const command = (request.object as { command?: string[] }).command ?? [];
      return command.includes('rm') ? { allowed: false, status: { code: 403, message: 'no rm in this pod' } } : { allowed: true };
    });
    try {
      await t.call('post', VWC).send(configuration('ValidatingWebhookConfiguration', 'deny-rm', [
        webhook('deny-rm.example.com', connectHook.url, connectHook.caBundle, {
          rules: [{ operations: ['CONNECT'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods/exec'] }],
          // An object selector never matches CONNECT's options (they have no metadata): this webhook has none.
        }),
      ])).expect(201);
      await t.call('post', PODS).send(podManifest('shell')).expect(201);
      const denied = await t.call('post', `${PODS}/shell/exec?command=rm&command=-rf&command=/&stdout=true&container=nginx`);
      assert.equal(denied.status, 403, denied.text);
      assert.equal(denied.body.message, 'admission webhook "deny-rm.example.com" denied the request: no rm in this pod');
      const review = seen.at(-1)!;
      assert.equal(review.operation, 'CONNECT');
      assert.deepEqual(review.kind, { group: '', version: 'v1', kind: 'PodExecOptions' });
      assert.equal(review.subResource, 'exec');
      assert.equal(review.name, 'shell');
      assert.deepEqual(review.object, { kind: 'PodExecOptions', apiVersion: 'v1', stdout: true, container: 'nginx', command: ['rm', '-rf', '/'] });
      assert.equal(review.oldObject, null);
      assert.equal(review.options, null);
      // Allowed: the request goes on (here the pod has no node: upstream's message).
      const allowed = await t.call('post', `${PODS}/shell/exec?command=ls&stdout=true&container=nginx`);
      assert.equal(allowed.status, 400, allowed.text);
      assert.equal(allowed.body.message, 'pod shell does not have a host assigned');
      // A mutating webhook's patch of the options is what the connection uses.
      await t.call('post', MWC).send(configuration('MutatingWebhookConfiguration', 'retarget', [
        webhook('retarget.example.com', `${connectHook.url}/retarget`, connectHook.caBundle, {
          rules: [{ operations: ['CONNECT'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods/exec'] }],
        }),
      ])).expect(201);
      const retargeted = await t.call('post', `${PODS}/shell/exec?command=ls&stdout=true&container=nginx`);
      assert.equal(retargeted.status, 400, retargeted.text);
      assert.equal(retargeted.body.message, 'container patched is not valid for pod shell');
      await t.call('delete', `${MWC}/retarget`).expect(200);
      // Writes are not CONNECTs: the webhook is not called for them.
      const calls = seen.length;
      await t.call('post', PODS).send(podManifest('not-a-connect')).expect(201);
      assert.equal(seen.length, calls);
    } finally {
      await t.call('delete', `${VWC}/deny-rm`);
      await connectHook.close();
    }
  });

  test('validating webhooks see dry runs; keep-alive keeps one connection for many calls', async () => {
    const before = hook.connections;
    for (let i = 0; i < 5; i++) await t.call('post', `${PODS}?dryRun=All`).send(podManifest(`dry-${i}`)).expect(201);
    assert.ok(hook.connections - before <= 1, `opened ${hook.connections - before} connections for 5 calls`);
  });

  test('a mutating webhook adds a label the stored pod has', async () => {
    await t.call('post', MWC).send(configuration('MutatingWebhookConfiguration', 'add-label', [
      webhook('mutate.example.com', `${hook.url}/mutate`, hook.caBundle, { objectSelector: { matchExpressions: [{ key: 'skip-mutation', operator: 'DoesNotExist' }] } }),
    ])).expect(201);
    const created = await t.call('post', PODS).send(podManifest('mutated', { labels: { app: 'x' } })).expect(201);
    assert.equal(created.body.metadata.labels['mutated-by'], 'webhook');
    const stored = await t.call('get', `${PODS}/mutated`).expect(200);
    assert.equal(stored.body.metadata.labels['mutated-by'], 'webhook');
    const skipped = await t.call('post', PODS).send(podManifest('not-mutated', { labels: { 'skip-mutation': 'y' } })).expect(201);
    assert.equal(skipped.body.metadata.labels['mutated-by'], undefined);
    await t.call('delete', `${MWC}/add-label`).expect(200);
  });

  test('failurePolicy Fail vs Ignore with the webhook down, worded as upstream', async () => {
    const down = await startWebhookServer(() => ({ allowed: true }));
    const url = `${down.url}/validate`;
    await down.close();
    await t.call('post', VWC).send(configuration('ValidatingWebhookConfiguration', 'down-fail', [
      webhook('down.example.com', url, hook.caBundle, { objectSelector: { matchLabels: { target: 'down' } } }),
    ])).expect(201);
    const failed = await t.call('post', PODS).send(podManifest('down-fail', { labels: { target: 'down' } }));
    assert.equal(failed.status, 500);
    assert.match(failed.body.message, /^Internal error occurred: failed calling webhook "down\.example\.com": failed to call webhook: Post "https:\/\/127\.0\.0\.1:\d+\/validate\?timeout=10s": dial tcp 127\.0\.0\.1:\d+: connect: connection refused$/);
    await t.call('get', `${PODS}/down-fail`).expect(404);
    await t.call('patch', `${VWC}/down-fail`).set('Content-Type', 'application/json-patch+json')
      .send([{ op: 'replace', path: '/webhooks/0/failurePolicy', value: 'Ignore' }]).expect(200);
    await t.call('post', PODS).send(podManifest('down-ignore', { labels: { target: 'down' } })).expect(201);
    await t.call('delete', `${VWC}/down-fail`).expect(200);
  });

  test('a certificate not signed by the caBundle fails the call', async () => {
    const other = await startWebhookServer(() => ({ allowed: true }));
    await t.call('post', VWC).send(configuration('ValidatingWebhookConfiguration', 'wrong-ca', [
      webhook('wrong-ca.example.com', `${hook.url}/validate`, other.caBundle, { objectSelector: { matchLabels: { target: 'ca' } } }),
    ])).expect(201);
    const res = await t.call('post', PODS).send(podManifest('wrong-ca', { labels: { target: 'ca' } }));
    assert.equal(res.status, 500);
    assert.match(res.body.message, /failed calling webhook "wrong-ca\.example\.com": failed to call webhook: Post ".*": tls: failed to verify certificate: x509: certificate signed by unknown authority/);
    await t.call('delete', `${VWC}/wrong-ca`).expect(200);
    await other.close();
  });

  test('garbage answers and matchConditions', async () => {
    const garbage = await startWebhookServer(() => ({ allowed: true }), { raw: () => 'not json' });
    await t.call('post', VWC).send(configuration('ValidatingWebhookConfiguration', 'garbage', [
      webhook('garbage.example.com', `${garbage.url}/x`, garbage.caBundle, {
        matchConditions: [{ name: 'only-garbage-pods', expression: "has(object.metadata.labels) && 'garbage' in object.metadata.labels" }],
      }),
    ])).expect(201);
    const res = await t.call('post', PODS).send(podManifest('g1', { labels: { garbage: 'yes' } }));
    assert.equal(res.status, 500);
    assert.match(res.body.message, /failed calling webhook "garbage\.example\.com": received invalid webhook response/);
    await t.call('post', PODS).send(podManifest('g2')).expect(201);
    const badCondition = await t.call('post', VWC).send(configuration('ValidatingWebhookConfiguration', 'bad-condition', [
      webhook('cond.example.com', `${garbage.url}/x`, garbage.caBundle, { matchConditions: [{ name: 'x', expression: 'object.' }] }),
    ]));
    assert.equal(badCondition.status, 422);
    assert.match(badCondition.body.message, /webhooks\[0\]\.matchConditions\[0\]\.expression: Invalid value: "object\.": compilation failed/);
    await t.call('delete', `${VWC}/garbage`).expect(200);
    await garbage.close();
  });
});
