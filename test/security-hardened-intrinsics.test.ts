// The second wall of issue 13 item 1: `kubefacade server` and `up` freeze Object.prototype (and
// Array.prototype) once loaded. This file hardens its own process the same way, then checks that
// the freeze holds against direct pollution, that assigning inherited names still works (the
// "override mistake" the accessors avoid), and that a server in a hardened process serves
// ordinary and hostile writes alike: labels and annotations named like Object.prototype members,
// the exploit patches, server-side apply.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { hardenIntrinsics, intrinsicsHardened } from '../server/harden-intrinsics.ts';
import { json, podManifest, startTestServer, type TestServer } from './helpers/api-server.ts';

hardenIntrinsics();

describe('hardened intrinsics (issue 13, item 1, second wall)', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer('hardened');
  });
  after(async () => {
    await t?.close();
  });

  test('Object.prototype refuses new and replaced members', () => {
    assert.equal(intrinsicsHardened(), true);
    assert.ok(Object.isFrozen(Object.prototype) && Object.isFrozen(Array.prototype));
    const proto = Object.prototype as unknown as Record<string, unknown>;
    assert.throws(() => { proto.groups = ['system:masters']; }, TypeError);
    assert.throws(() => { proto.toString = () => 'pwned'; }, TypeError);
    assert.throws(() => { Object.assign(proto, { polluted: true }); }, TypeError);
    assert.throws(() => { (Object as unknown as Record<string, unknown>).polluted = true; }, TypeError);
    assert.equal(({} as Record<string, unknown>).groups, undefined);
  });

  test('inherited names can still be assigned on ordinary objects and classes', () => {
    const plain: Record<string, unknown> = {};
    plain.toString = () => 'mine';
    // Reflect.set is the [[Set]] an assignment performs (typed loosely: these names have fixed types in TypeScript).
    assert.equal(Reflect.set(plain, 'constructor', 'label value'), true);
    assert.equal(Reflect.set(plain, 'hasOwnProperty', 'x'), true);
    assert.equal(String(plain), 'mine');
    assert.deepEqual(Object.keys(plain), ['toString', 'constructor', 'hasOwnProperty']);
    class Widget {}
    (Widget.prototype as unknown as Record<string, unknown>).toString = function toString() { return 'widget'; };
    assert.equal(String(new Widget()), 'widget');
    const list = [1, 2] as unknown as Record<string, unknown>;
    list.toString = () => 'list';
    assert.equal(String(list), 'list');
  });

  test('a hardened server stores inherited-name labels and answers the exploit patches without a 5xx', async () => {
    const pods = '/api/v1/namespaces/default/pods';
    const created = await json(t.call('post', pods), podManifest('named', { labels: { constructor: 'a', toString: 'b', valueOf: 'c' } }));
    assert.equal(created.status, 201, created.text);
    assert.deepEqual(created.body.metadata.labels, { constructor: 'a', toString: 'b', valueOf: 'c' });
    for (const [type, body] of [
      ['application/strategic-merge-patch+json', '{"metadata":{"__proto__":{"groups":["system:masters"]}}}'],
      ['application/strategic-merge-patch+json', '{"metadata":{"labels":{"__proto__":{"x":"1"}}}}'],
      ['application/strategic-merge-patch+json', '{"metadata":{"labels":{"hasOwnProperty":"d"}}}'],
      ['application/merge-patch+json', '{"metadata":{"constructor":{"prototype":{"x":"1"}},"labels":{"isPrototypeOf":"e"}}}'],
      ['application/json-patch+json', '[{"op":"add","path":"/metadata/labels/propertyIsEnumerable","value":"f"}]'],
    ]) {
      const res = await json(t.call('patch', `${pods}/named`), body, type);
      assert.ok(res.status < 500, `${type} ${body}: ${res.status} ${res.text}`);
    }
    const applied = await json(t.call('patch', `${pods}/named?fieldManager=hardened`),
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'named', annotations: { toLocaleString: 'g' } } }, 'application/apply-patch+yaml');
    assert.equal(applied.status, 200, applied.text);
    const pod = await t.call('get', `${pods}/named`);
    assert.equal(pod.status, 200);
    assert.equal(pod.body.metadata.labels.constructor, 'a');
    assert.equal(pod.body.metadata.labels.hasOwnProperty, 'd');
    assert.equal(pod.body.metadata.labels.propertyIsEnumerable, 'f');
    assert.equal(pod.body.metadata.annotations.toLocaleString, 'g');
    assert.equal(({} as Record<string, unknown>).groups, undefined);
  });
});
