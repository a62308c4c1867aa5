// Issue 13, items 2, 3, 7, 9 and 10: the work one request can cause is bounded before it runs, and
// bad input gets kube-apiserver's answer (a Status, nothing stored) instead of a 500, a reset
// connection, a frozen event loop or an object Go clients cannot read back.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { applyJsonPatch, MAX_JSON_PATCH_COPY_BYTES } from '../api/patch/json-patch.ts';
import { applyOperations, JsonPatchOperationError } from '../api/patch/json-patch.ts';
import { applyStrategicMergePatch } from '../api/patch/strategic-merge.ts';
import { schemaForKind } from '../api/openapi/schema.ts';
import { rfc3339Problem } from '../api/openapi/go-decoding.ts';
import { StatusError } from '../api/errors.ts';
import type { KubeObject } from '../api/object.ts';
import { decodeYamlBody, YamlBodyError } from '../server/yaml-body.ts';
import { scanJsonBody } from '../server/json-body-scan.ts';
import { json, podManifest, startTestServer, type TestServer } from './helpers/api-server.ts';

const PODS = '/api/v1/namespaces/default/pods';
const nested = (depth: number) => '{"a":'.repeat(depth - 1) + '{}' + '}'.repeat(depth - 1);

describe('YAML bodies (item 2)', () => {
  test('many keys decode in linear time; duplicate keys, depth and alias bombs fail as go-yaml does', () => {
    // 3 MiB of keys: quadratic in the former parser (over 15 minutes); linear here.
    const keys = 'spec:\n' + Array.from({ length: 250_000 }, (_, i) => `  k${i}: v`).join('\n');
    const decoded = decodeYamlBody(keys) as { spec: Record<string, string> };
    assert.equal(Object.keys(decoded.spec).length, 250_000);
    assert.throws(() => decodeYamlBody('a: 1\nb: 2\na: 3\n'), (err: Error) => err instanceof YamlBodyError
      && err.message === 'yaml: unmarshal errors:\n  line 3: key "a" already set in map');
    assert.throws(() => decodeYamlBody(`a: ${'['.repeat(100_000)}`), { message: 'yaml: exceeded max depth of 1000' });
    assert.throws(() => decodeYamlBody(`${'- '.repeat(5_000)}x`), { message: 'yaml: exceeded max depth of 1000' });
    // A billion laughs: nine levels of nine aliases each.
    const laughs = ['a0: &a0 [lol]', ...Array.from({ length: 8 }, (_, i) => `a${i + 1}: &a${i + 1} [${Array(9).fill(`*a${i}`).join(', ')}]`)].join('\n');
    assert.throws(() => decodeYamlBody(laughs), { message: 'yaml: document contains excessive aliasing' });
    // Aliases are expanded into copies (later code edits objects in place).
    const shared = decodeYamlBody('a: &x {k: v}\nb: *x\n') as Record<string, Record<string, string>>;
    assert.deepEqual(shared, { a: { k: 'v' }, b: { k: 'v' } });
    assert.notEqual(shared.a, shared.b);
    // No timestamps or binary: the YAML 1.2 core schema.
    assert.deepEqual(decodeYamlBody('t: 2024-01-01\nb: yes\nn: 0x10\n'), { t: '2024-01-01', b: 'yes', n: 16 });
  });
});

describe('JSON patch limits (item 3)', () => {
  test('copies that grow the document past 3 MiB are refused before they are made', () => {
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', annotations: { a: 'x'.repeat(64 * 1024) } } } as KubeObject;
    // The filed exploit: each copy doubles the annotations map (64 KiB * 2^11 = 128 MiB).
    const doubling = Array.from({ length: 11 }, (_, i) => ({ op: 'copy', from: '/metadata/annotations', path: `/metadata/annotations/c${i}` }));
    assert.throws(() => applyOperations(structuredClone(pod), doubling), (err: Error) => err instanceof JsonPatchOperationError
      && /^Unable to complete the copy, the accumulated size increase of copy is \d+, exceeding the limit 3145728$/.test(err.message));
    assert.throws(() => applyJsonPatch(pod, doubling), (err: StatusError) => err.code === 422
      && err.message === 'the server rejected our request due to an error in our request');
    // Just under the limit is fine.
    const allowed = Math.floor(MAX_JSON_PATCH_COPY_BYTES / (64 * 1024 + 10)) - 1;
    const flat = Array.from({ length: allowed }, (_, i) => ({ op: 'copy', from: '/metadata/annotations/a', path: `/metadata/annotations/b${i}` }));
    assert.equal(Object.keys(applyJsonPatch(pod, flat).metadata.annotations!).length, allowed + 1);
  });

  test('more than 10,000 operations is a 413; evanphx v4 behaviours are kept', () => {
    const pod = podManifest('p') as KubeObject;
    const many = Array.from({ length: 10_001 }, () => ({ op: 'test', path: '/kind', value: 'Pod' }));
    assert.throws(() => applyJsonPatch(pod, many), (err: StatusError) => err.code === 413
      && err.message === 'Request entity too large: The allowed maximum operations in a JSON patch is 10000, got 10001');
    const patched = applyJsonPatch(pod, [
      { op: 'replace', path: '/metadata/labels', value: { a: 'b' } }, // replace of a missing member adds it
      { op: 'test', path: '/metadata/missing', value: null }, // missing tests equal to null
      { op: 'add', path: '/spec/containers/-1', value: { name: 'last', image: 'i' } }, // -1 of the grown list: appends
      { op: 'copy', from: '/metadata/nothing', path: '/metadata/copied' }, // copy of a missing member adds null
    ]);
    assert.deepEqual(patched.metadata.labels, { a: 'b' });
    assert.deepEqual((patched.spec as { containers: { name: string }[] }).containers.map((c) => c.name), ['nginx', 'last']);
    assert.equal(patched.metadata.copied, null);
    for (const path of ['/metadata/constructor/assign', '/metadata/__proto__/x', '/metadata/toString/x']) {
      assert.throws(() => applyJsonPatch(pod, [{ op: 'add', path, value: 1 }]), (err: StatusError) => err.code === 422);
    }
    assert.equal(typeof Object.assign, 'function');
  });
});

describe('strategic merge of large lists (item 10)', () => {
  test('20,000 containers merge, order and union without quadratic scans', () => {
    const schema = schemaForKind({ group: '', version: 'v1', kind: 'Pod' })!;
    const n = 20_000;
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', finalizers: ['x', 'y'] },
      spec: { containers: Array.from({ length: n }, (_, i) => ({ name: `c${i}`, image: 'nginx' })) } } as KubeObject;
    const patch = {
      metadata: { finalizers: ['y', 'z'] },
      spec: {
        '$setElementOrder/containers': Array.from({ length: n }, (_, i) => ({ name: `c${n - 1 - i}` })),
        containers: [{ name: 'c0', image: 'nginx:2' }, { name: 'c5', $patch: 'delete' }],
      },
    };
    const merged = applyStrategicMergePatch(pod, patch, schema) as KubeObject & { spec: { containers: { name: string; image: string }[] } };
    assert.equal(merged.spec.containers.length, n - 1);
    assert.equal(merged.spec.containers[0].name, `c${n - 1}`);
    assert.deepEqual(merged.spec.containers.at(-1), { name: 'c0', image: 'nginx:2' });
    assert.ok(!merged.spec.containers.some((c) => c.name === 'c5'));
    assert.deepEqual(merged.metadata.finalizers, ['x', 'y', 'z']);
  });
});

describe('request bounds over HTTP (items 2, 7, 9)', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer('limits');
    const created = await json(t.call('post', PODS), podManifest('p1'));
    assert.equal(created.status, 201, created.text);
  });
  after(async () => {
    await t?.close();
  });

  const pod = (name: string, extra: Record<string, unknown> = {}) => JSON.stringify({ ...podManifest(name), ...extra });
  const message = (res: { body: { message?: string } }) => res.body.message;

  test('JSON nested beyond 10,000 levels is a 400 for every body kind; a deep unknown field is dropped', async () => {
    const created = await json(t.call('post', PODS), pod('deep').slice(0, -1) + `,"x":${nested(100_000)}}`);
    assert.equal(created.status, 400);
    assert.equal(message(created), "couldn't get version/kind; json parse error: exceeded max depth");
    for (const [type, body, expected] of [
      ['application/strategic-merge-patch+json', `{"x":${nested(100_000)}}`, 'exceeded max depth'],
      ['application/merge-patch+json', `{"x":${nested(100_000)}}`, 'error decoding patch: exceeded max depth'],
      ['application/json-patch+json', `[{"op":"add","path":"/x","value":${nested(100_000)}}]`, 'error decoding patch: exceeded max depth'],
    ]) {
      const res = await json(t.call('patch', `${PODS}/p1`), body, type);
      assert.equal(res.status, 400, `${type}: ${res.text}`);
      assert.equal(message(res), expected);
    }
    // 9,000 levels: within kube's limit; the unknown field is dropped with a warning, or refused under Strict.
    const accepted = await json(t.call('post', PODS), pod('deep-ok').slice(0, -1) + `,"x":${nested(9_000)}}`);
    assert.equal(accepted.status, 201, accepted.text);
    assert.equal(accepted.headers.warning, '299 - "unknown field \\"x\\""');
    const strict = await json(t.call('patch', `${PODS}/p1?fieldValidation=Strict`), `{"spec":{"x":${nested(9_000)}}}`, 'application/merge-patch+json');
    assert.equal(strict.status, 400, strict.text);
    assert.match(message(strict) ?? '', /unknown field "spec\.x"/);
    const smp = await json(t.call('patch', `${PODS}/p1`), `{"spec":{"x":${nested(9_000)}}}`, 'application/strategic-merge-patch+json');
    assert.equal(smp.status, 200, smp.text);
  });

  test('duplicate JSON fields: Strict refuses them, Warn warns', async () => {
    const body = '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"dup","name":"dup2"},"spec":{"containers":[{"name":"c","image":"i","image":"j"}]}}';
    const strict = await json(t.call('post', `${PODS}?fieldValidation=Strict`), body);
    assert.equal(strict.status, 400);
    assert.equal(message(strict), 'Pod in version "v1" cannot be handled as a Pod: strict decoding error: duplicate field "metadata.name", duplicate field "spec.containers[0].image"');
    const warned = await json(t.call('post', PODS), body);
    assert.equal(warned.status, 201, warned.text);
    assert.equal(warned.headers.warning, '299 - "duplicate field \\"metadata.name\\"", 299 - "duplicate field \\"spec.containers[0].image\\""');
    assert.equal(warned.body.metadata.name, 'dup2');
    const patchBody = '{"metadata":{"labels":{"a":"1","a":"2"}}}';
    const strictPatch = await json(t.call('patch', `${PODS}/p1?fieldValidation=Strict`), patchBody, 'application/merge-patch+json');
    assert.equal(strictPatch.status, 400, strictPatch.text);
    assert.match(message(strictPatch) ?? '', /strict decoding error: duplicate field "metadata\.labels\.a"/);
    const warnedPatch = await json(t.call('patch', `${PODS}/p1`), patchBody, 'application/strategic-merge-patch+json');
    assert.equal(warnedPatch.status, 200, warnedPatch.text);
    assert.equal(warnedPatch.headers.warning, '299 - "duplicate field \\"metadata.labels.a\\""');
    assert.equal(warnedPatch.body.metadata.labels.a, '2');
  });

  test('unknown and duplicate fields of a typed object are reported in the order the decoder meets them', async () => {
    // Before the duplicate's second occurrence: unknown first; after it: duplicate first.
    const body = (spec: string) => `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"order"},"spec":{${spec}}}`;
    const first = await json(t.call('post', `${PODS}?fieldValidation=Strict`), body('"unknownA":1,"restartPolicy":"Always","restartPolicy":"Never","containers":[{"name":"c","image":"i","bogus":true}]'));
    assert.equal(message(first), 'Pod in version "v1" cannot be handled as a Pod: strict decoding error: unknown field "spec.unknownA", duplicate field "spec.restartPolicy", unknown field "spec.containers[0].bogus"');
    const second = await json(t.call('post', `${PODS}?fieldValidation=Strict`), body('"restartPolicy":"Always","containers":[{"name":"c","image":"i"}],"restartPolicy":"Never","unknownA":1'));
    assert.equal(message(second), 'Pod in version "v1" cannot be handled as a Pod: strict decoding error: duplicate field "spec.restartPolicy", unknown field "spec.unknownA"');
  });

  test('out-of-range integers and malformed times are refused as the Go decoder refuses them (item 7)', async () => {
    for (const [extra, expected] of [
      [{ spec: { priority: 2147483648, containers: [{ name: 'c', image: 'i' }] } },
        'json: cannot unmarshal number 2147483648 into Go struct field PodSpec.spec.priority of type int32'],
      [{ spec: { terminationGracePeriodSeconds: 1e20, containers: [{ name: 'c', image: 'i' }] } },
        'json: cannot unmarshal number 100000000000000000000 into Go struct field PodSpec.spec.terminationGracePeriodSeconds of type int64'],
      [{ spec: { containers: [{ name: 'c', image: 'i', ports: [{ containerPort: -2147483649 }] }] } },
        'json: cannot unmarshal number -2147483649 into Go struct field ContainerPort.spec.containers.ports.containerPort of type int32'],
      [{ metadata: { name: 'ts', creationTimestamp: 'garbage' } },
        'parsing time "garbage" as "2006-01-02T15:04:05Z07:00": cannot parse "garbage" as "2006"'],
    ] as const) {
      const res = await json(t.call('post', PODS), pod('ints', extra));
      assert.equal(res.status, 400, res.text);
      assert.equal(message(res), `Pod in version "v1" cannot be handled as a Pod: ${expected}`);
    }
    const patched = await json(t.call('patch', `${PODS}/p1`), { spec: { activeDeadlineSeconds: 2 ** 63 } }, 'application/merge-patch+json');
    assert.equal(patched.status, 400);
    // int32's maximum decodes intact; it then reaches the Priority admission plugin, which refuses a priority
    // that no PriorityClass gave (upstream's 403, quoting the value as decoded).
    const max = await json(t.call('post', PODS), pod('int-max', { spec: { priority: 2147483647, containers: [{ name: 'c', image: 'i' }] } }));
    assert.equal(max.status, 403, max.text);
    assert.equal(message(max), 'pods "int-max" is forbidden: the integer value of priority (2147483647) must not be provided in pod spec; priority admission controller computed 0 from the given PriorityClass name');
    assert.equal((await t.call('get', `${PODS}/ints`)).status, 404);
    assert.equal(rfc3339Problem('2024-02-30T00:00:00Z'), 'parsing time "2024-02-30T00:00:00Z": day out of range');
    assert.equal(rfc3339Problem('2024-02-29T23:59:59.123+05:30'), undefined);
  });

  test('malformed %-escapes, oversize request lines and chunked bodies get a Status', async () => {
    const escape = await t.anonymous('get', '/api/v1/namespaces/default/pods/%zz');
    assert.equal(escape.status, 400);
    assert.equal(escape.body.message, 'parse "/api/v1/namespaces/default/pods/%zz": invalid URL escape "%zz"');
    const long = await t.call('get', `${PODS}?labelSelector=${'a'.repeat(17_000)}`);
    assert.equal(long.status, 431);
    assert.equal(long.body.kind, 'Status');
    const chunked = await new Promise<{ status: number; body: { reason?: string } }>((resolve, reject) => {
      const req = request(`${t.url}${PODS}`, {
        method: 'POST', ca: t.server.caCertPem,
        headers: { Authorization: `Bearer ${t.server.adminToken}`, 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' },
      }, (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => { text += chunk.toString(); });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as { reason?: string } }));
      });
      req.on('error', reject);
      const chunk = Buffer.alloc(64 * 1024, 'a');
      let sent = 0;
      const pump = (): void => {
        while (sent < 4 * 1024 * 1024) {
          sent += chunk.length;
          if (!req.write(chunk)) {
            req.once('drain', pump);
            return;
          }
        }
        req.end();
      };
      pump();
    });
    assert.equal(chunked.status, 413);
    assert.equal(chunked.body.reason, 'RequestEntityTooLarge');
  });

  test('a PATCH may not rename; managedFields keep at most 10 Update entries', async () => {
    const renamed = await json(t.call('patch', `${PODS}/p1`), { metadata: { name: 'other' } }, 'application/merge-patch+json');
    assert.equal(renamed.status, 400);
    assert.equal(message(renamed), 'the name of the object (other) does not match the name on the URL (p1)');
    assert.equal((await t.call('get', `${PODS}/other`)).status, 404);
    for (let i = 0; i < 14; i++) {
      const res = await json(t.call('patch', `${PODS}/p1?fieldManager=manager-${i}`), { metadata: { labels: { [`l${i}`]: 'x' } } }, 'application/merge-patch+json');
      assert.equal(res.status, 200, res.text);
    }
    const managed = (await t.call('get', `${PODS}/p1`)).body.metadata.managedFields as { manager: string; operation: string; fieldsV1: Record<string, unknown> }[];
    const updates = managed.filter((entry) => entry.operation === 'Update');
    assert.equal(updates.length, 10);
    const ancient = updates.find((entry) => entry.manager === 'ancient-changes');
    assert.ok(ancient, JSON.stringify(managed.map((entry) => entry.manager)));
    // The folded entry owns what the folded managers owned.
    const labels = Object.keys((ancient.fieldsV1['f:metadata'] as Record<string, Record<string, unknown>>)['f:labels'] ?? {});
    assert.ok(labels.length >= 2, JSON.stringify(ancient.fieldsV1));
  });

  test('an object created without kind and apiVersion is stored with them', async () => {
    const created = await json(t.call('post', PODS), { metadata: { name: 'no-kind' }, spec: { containers: [{ name: 'c', image: 'i' }] } });
    assert.equal(created.status, 201, created.text);
    const stored = await t.call('get', `${PODS}/no-kind`);
    assert.deepEqual([stored.body.apiVersion, stored.body.kind], ['v1', 'Pod']);
  });

  test('a 2 MiB YAML body of keys is answered, and scanning stays linear', async () => {
    const keys = 'apiVersion: authorization.k8s.io/v1\nkind: SelfSubjectAccessReview\nspec:\n  resourceAttributes:\n'
      + Array.from({ length: 150_000 }, (_, i) => `    k${i}: v`).join('\n') + '\n';
    const res = await json(t.call('post', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews'), keys, 'application/yaml');
    assert.ok(res.status < 500, res.text.slice(0, 300));
    const scan = scanJsonBody(`{"a":[${'{"b":1,"b":2},'.repeat(100_000)}{}]}`);
    assert.equal(scan.duplicateFields.length, 100_000);
    assert.equal(scan.duplicateFields[0], 'a[0].b');
  });
});
