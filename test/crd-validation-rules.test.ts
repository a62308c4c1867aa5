// CEL validation rules (x-kubernetes-validations) on custom resources: rule/message wording,
// messageExpression, reason and fieldPath, transition rules with oldSelf and optionalOldSelf,
// compile errors and over-budget rules rejected at CRD creation, and the Kubernetes CEL libraries.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestServer, type TestServer } from './helpers/api-server.ts';
import { crdManifest, waitEstablished } from './helpers/crds.ts';

const CRDS = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';
const SCALERS = '/apis/rules.example.com/v1/namespaces/default/scalers';

const specSchema = {
  type: 'object',
  'x-kubernetes-validations': [
    { rule: 'self.minReplicas <= self.maxReplicas', message: 'minReplicas must not exceed maxReplicas' },
    { rule: 'self.minReplicas >= 0', messageExpression: '"minReplicas is " + string(self.minReplicas) + ", must be non-negative"' },
    { rule: '!has(self.mode) || self.mode == oldSelf.mode', message: 'mode is immutable', reason: 'FieldValueForbidden', fieldPath: '.mode' },
    { rule: 'oldSelf.hasValue() || self.maxReplicas < 100', optionalOldSelf: true, message: 'at creation maxReplicas must be under 100' },
    { rule: 'self.maxReplicas <= oldSelf.maxReplicas * 2', message: 'maxReplicas may at most double' },
  ],
  properties: {
    minReplicas: { type: 'integer' },
    maxReplicas: { type: 'integer' },
    mode: { type: 'string' },
    endpoint: { type: 'string', maxLength: 256, 'x-kubernetes-validations': [{ rule: 'isURL(self) && url(self).getScheme() == "https"', message: 'endpoint must be an https URL' }] },
    cidrs: { type: 'array', maxItems: 10, items: { type: 'string', maxLength: 64 }, 'x-kubernetes-validations': [{ rule: 'self.all(c, isCIDR(c) && cidr(c).prefixLength() >= 8)', message: 'cidrs must be /8 or longer' }] },
    memory: { type: 'string', maxLength: 32, 'x-kubernetes-validations': [{ rule: 'quantity(self).isLessThan(quantity("1Gi"))', message: 'memory must be below 1Gi' }] },
    tags: { type: 'array', maxItems: 20, items: { type: 'string', maxLength: 30 }, 'x-kubernetes-validations': [{ rule: 'self.isSorted()', message: 'tags must be sorted' }] },
  },
};

function scaler(name: string, spec: Record<string, unknown>): Record<string, unknown> {
  return { apiVersion: 'rules.example.com/v1', kind: 'Scaler', metadata: { name }, spec };
}

describe('x-kubernetes-validations', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer('crd-cel');
    const res = await t.call('post', CRDS).send(crdManifest({ group: 'rules.example.com', plural: 'scalers', kind: 'Scaler', specSchema }));
    assert.equal(res.status, 201, JSON.stringify(res.body));
    await waitEstablished(t, 'scalers.rules.example.com');
  });
  after(async () => { await t.close(); });

  test('a failing rule is reported at its node with its message', async () => {
    const res = await t.call('post', SCALERS).send(scaler('a', { minReplicas: 5, maxReplicas: 2 }));
    assert.equal(res.status, 422, JSON.stringify(res.body));
    assert.equal(res.body.message, 'Scaler.rules.example.com "a" is invalid: spec: Invalid value: "object": minReplicas must not exceed maxReplicas');
  });

  test('messageExpression builds the message from the object', async () => {
    const res = await t.call('post', SCALERS).send(scaler('b', { minReplicas: -1, maxReplicas: 2 }));
    assert.equal(res.status, 422);
    assert.match(res.body.message, /spec: Invalid value: "object": minReplicas is -1, must be non-negative/);
  });

  test('optionalOldSelf rules run on create with oldSelf empty', async () => {
    const res = await t.call('post', SCALERS).send(scaler('c', { minReplicas: 1, maxReplicas: 150 }));
    assert.equal(res.status, 422);
    assert.match(res.body.message, /at creation maxReplicas must be under 100/);
  });

  test('transition rules compare with the stored object on update, with reason and fieldPath', async () => {
    await t.call('post', SCALERS).send(scaler('d', { minReplicas: 1, maxReplicas: 10, mode: 'fast' })).expect(201);
    const changed = await t.call('patch', `${SCALERS}/d`).set('Content-Type', 'application/merge-patch+json').send({ spec: { mode: 'slow' } });
    assert.equal(changed.status, 422);
    assert.match(changed.body.message, /spec\.mode: Forbidden: mode is immutable/);
    assert.equal(changed.body.details.causes[0].reason, 'FieldValueForbidden');
    const tripled = await t.call('patch', `${SCALERS}/d`).set('Content-Type', 'application/merge-patch+json').send({ spec: { maxReplicas: 30 } });
    assert.equal(tripled.status, 422);
    assert.match(tripled.body.message, /maxReplicas may at most double/);
    const doubled = await t.call('patch', `${SCALERS}/d`).set('Content-Type', 'application/merge-patch+json').send({ spec: { maxReplicas: 200 - 180 } });
    assert.equal(doubled.status, 200, JSON.stringify(doubled.body));
  });

  test('Kubernetes CEL libraries: url, cidr, quantity, lists', async () => {
    const bad = await t.call('post', SCALERS).send(scaler('e', {
      minReplicas: 1, maxReplicas: 2, endpoint: 'http://x', cidrs: ['10.0.0.0/4'], memory: '2Gi', tags: ['b', 'a'],
    }));
    assert.equal(bad.status, 422);
    for (const m of ['spec.endpoint: Invalid value: "string": endpoint must be an https URL', 'spec.cidrs: Invalid value: "array": cidrs must be /8 or longer',
      'spec.memory: Invalid value: "string": memory must be below 1Gi', 'spec.tags: Invalid value: "array": tags must be sorted']) {
      assert.ok(bad.body.message.includes(m), `${bad.body.message}\n lacks ${m}`);
    }
    await t.call('post', SCALERS).send(scaler('f', {
      minReplicas: 1, maxReplicas: 2, endpoint: 'https://x.example.com/hook', cidrs: ['10.0.0.0/8'], memory: '512Mi', tags: ['a', 'b'],
    })).expect(201);
  });

  test('a rule that does not compile is rejected at CRD creation', async () => {
    const body = crdManifest({ group: 'broken.example.com', specSchema: { type: 'object', 'x-kubernetes-validations': [{ rule: 'self.a >' }], properties: { a: { type: 'integer' } } } });
    const res = await t.call('post', CRDS).send(body);
    assert.equal(res.status, 422, JSON.stringify(res.body));
    assert.match(res.body.message, /spec\.versions\[0\]\.schema\.openAPIV3Schema\.properties\[spec\]\.x-kubernetes-validations\[0\]\.rule: Invalid value: apiextensions\.ValidationRule\{Rule:"self\.a >".*compilation failed/);
  });

  test('a rule whose estimated cost exceeds the budget is rejected at CRD creation', async () => {
    const body = crdManifest({
      group: 'costly.example.com',
      specSchema: {
        type: 'object',
        properties: { list: { type: 'array', items: { type: 'string' }, 'x-kubernetes-validations': [{ rule: 'self.all(x, self.all(y, x.matches(y)))' }] } },
      },
    });
    const res = await t.call('post', CRDS).send(body);
    assert.equal(res.status, 422, JSON.stringify(res.body));
    assert.match(res.body.message, /x-kubernetes-validations\[0\]\.rule: Forbidden: estimated rule cost exceeds budget by factor of [\d.]+x \(try simplifying the rule, or adding maxItems, maxProperties, and maxLength where arrays, maps, and strings are declared\)/);
  });

  test('bounded rules are accepted; at run time a rule over the per-call limit is refused, not run', async () => {
    const body = crdManifest({
      group: 'bounded.example.com', plural: 'lists', kind: 'List2',
      specSchema: {
        type: 'object',
        properties: { list: { type: 'array', maxItems: 1000, items: { type: 'integer' }, 'x-kubernetes-validations': [{ rule: 'self.all(x, self.exists(y, y == x))' }] } },
      },
    });
    await t.call('post', CRDS).send(body).expect(201);
    await waitEstablished(t, 'lists.bounded.example.com');
    const url = '/apis/bounded.example.com/v1/namespaces/default/lists';
    await t.call('post', url).send({ apiVersion: 'bounded.example.com/v1', kind: 'List2', metadata: { name: 'small' }, spec: { list: [1, 2, 3] } }).expect(201);
    const big = Array.from({ length: 1000 }, (_, i) => i);
    const res = await t.call('post', url).send({ apiVersion: 'bounded.example.com/v1', kind: 'List2', metadata: { name: 'big' }, spec: { list: big } });
    assert.equal(res.status, 422);
    assert.match(res.body.message, /spec\.list: Invalid value: "array": call cost exceeds limit for rule: self\.all/);
  });
});
