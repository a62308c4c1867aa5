// Request errors over HTTPS, each checked to change nothing: undecodable bodies, wrong kind or
// namespace, oversized bodies, unsupported media types and methods, unknown resources, the
// NotFound / AlreadyExists / Conflict wording, fieldValidation, authentication; and a protobuf
// request body captured from kubectl 1.32.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { json, podManifest, startTestServer, type TestServer } from './helpers/api-server.ts';
import { decodeProtobufBody } from '../server/protobuf/decode.ts';

const PODS = '/api/v1/namespaces/default/pods';
const STATUS = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure' };

describe('request errors over HTTPS', () => {
  let t: TestServer;
  let snapshot: unknown;
  before(async () => {
    t = await startTestServer('api-errors');
    await json(t.call('post', PODS), podManifest('nginx', { labels: { keep: 'me' } })).expect(201);
  });
  after(async () => { await t.close(); });

  /** The pods in the namespace are exactly as at the previous call (each object with its resourceVersion). */
  const unchanged = async () => {
    const list = (await t.call('get', PODS).expect(200)).body;
    assert.deepEqual(list.items.map((p: { metadata: { name: string } }) => p.metadata.name), ['nginx']);
    if (snapshot !== undefined) assert.deepEqual(list.items, snapshot, 'the failed request wrote something');
    snapshot = list.items;
  };

  test('malformed JSON and YAML bodies are 400', async () => {
    await unchanged();
    const badJson = await json(t.call('post', PODS), '{"apiVersion": "v1", "kind": "Pod",').expect(400);
    assert.equal(badJson.body.reason, 'BadRequest');
    const badYaml = await json(t.call('post', PODS), 'metadata: [name: x', 'application/yaml').expect(400);
    assert.equal(badYaml.body.reason, 'BadRequest');
    const badPut = await json(t.call('put', `${PODS}/nginx`), '{', 'application/json').expect(400);
    assert.equal(badPut.body.reason, 'BadRequest');
    const badPatch = await json(t.call('patch', `${PODS}/nginx`), '{"metadata":', 'application/merge-patch+json').expect(400);
    assert.equal(badPatch.body.reason, 'BadRequest');
    await unchanged();
  });

  test('a YAML body is accepted where JSON is', async () => {
    const res = await json(t.call('post', '/api/v1/namespaces'), 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: from-yaml\n', 'application/yaml').expect(201);
    assert.equal(res.body.metadata.name, 'from-yaml');
  });

  test('a body whose apiVersion or kind does not belong to the path is 400', async () => {
    const wrongVersion = await json(t.call('post', PODS), { ...podManifest('v'), apiVersion: 'coordination.k8s.io/v1' }).expect(400);
    assert.equal(wrongVersion.body.reason, 'BadRequest');
    const wrongKind = await json(t.call('post', PODS), { ...podManifest('k'), kind: 'Node' }).expect(400);
    assert.equal(wrongKind.body.reason, 'BadRequest');
    const wrongKindPut = await json(t.call('put', `${PODS}/nginx`), { ...podManifest('nginx'), kind: 'Namespace' }).expect(400);
    assert.equal(wrongKindPut.body.reason, 'BadRequest');
    await unchanged();
  });

  test('a body namespace different from the URL namespace is 400', async () => {
    const body = podManifest('elsewhere');
    (body.metadata as Record<string, unknown>).namespace = 'kube-system';
    const res = await json(t.call('post', PODS), body).expect(400);
    assert.deepEqual(res.body, { ...STATUS, message: 'the namespace of the provided object does not match the namespace sent on the request', reason: 'BadRequest', code: 400 });
    await unchanged();
  });

  test('a body over 3 MiB is 413', async () => {
    const big = podManifest('big');
    (big.metadata as Record<string, unknown>).annotations = { blob: 'x'.repeat(3 * 1024 * 1024 + 10) };
    const res = await json(t.call('post', PODS), big).expect(413);
    assert.deepEqual(res.body, { ...STATUS, message: 'Request entity too large: limit is 3145728', reason: 'RequestEntityTooLarge', code: 413 });
    await unchanged();
  });

  test('an unsupported Content-Type is 415 listing the accepted media types', async () => {
    const res = await json(t.call('post', PODS), podManifest('text'), 'text/plain').expect(415);
    assert.deepEqual(res.body, {
      ...STATUS,
      message: 'the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf',
      reason: 'UnsupportedMediaType', code: 415,
    });
    await unchanged();
  });

  test('a method a path has no route for is 405; an unknown resource or subresource is 404', async () => {
    const notAllowed = { ...STATUS, message: 'the server does not allow this method on the requested resource', reason: 'MethodNotAllowed', details: {}, code: 405 };
    const cases: [string, string, unknown][] = [
      ['put', PODS, podManifest('x')],
      ['post', `${PODS}/nginx`, podManifest('nginx')],
      ['patch', PODS, {}],
      ['post', '/api/v1/pods', podManifest('x')],
      ['delete', '/api/v1/namespaces', undefined],
      ['put', `${PODS}/nginx/binding`, {}],
      ['post', `${PODS}/nginx/status`, {}],
    ];
    for (const [method, path, body] of cases) {
      const req = t.call(method as 'put', path);
      const res = await (body === undefined ? req : json(req, body, method === 'patch' ? 'application/merge-patch+json' : 'application/json')).expect(405);
      assert.deepEqual(res.body, notAllowed, `${method} ${path}`);
    }
    const notFound = { ...STATUS, message: 'the server could not find the requested resource', reason: 'NotFound', details: {}, code: 404 };
    for (const path of ['/api/v1/namespaces/default/widgets', `${PODS}/nginx/exec2`, '/apis/certificates.k8s.io/v1/certificatesigningrequests', '/api/v1/nodes/n1/status/extra/more']) {
      const res = await t.call('get', path).expect(404);
      assert.deepEqual(res.body, notFound, path);
    }
    await unchanged();
  });

  test('NotFound, AlreadyExists and Conflict are worded as kube-apiserver words them', async () => {
    const missing = await t.call('get', `${PODS}/ghost`).expect(404);
    assert.deepEqual(missing.body, { ...STATUS, message: 'pods "ghost" not found', reason: 'NotFound', details: { name: 'ghost', kind: 'pods' }, code: 404 });
    const exists = await json(t.call('post', PODS), podManifest('nginx')).expect(409);
    assert.deepEqual(exists.body, { ...STATUS, message: 'pods "nginx" already exists', reason: 'AlreadyExists', details: { name: 'nginx', kind: 'pods' }, code: 409 });
    const current = (await t.call('get', `${PODS}/nginx`).expect(200)).body;
    const stale = { ...current, metadata: { ...current.metadata, resourceVersion: '1', labels: { keep: 'changed' } } };
    const conflict = await json(t.call('put', `${PODS}/nginx`), stale).expect(409);
    assert.deepEqual(conflict.body, {
      ...STATUS,
      message: 'Operation cannot be fulfilled on pods "nginx": the object has been modified; please apply your changes to the latest version and try again',
      reason: 'Conflict', details: { name: 'nginx', kind: 'pods' }, code: 409,
    });
    await unchanged();
  });

  test('fieldValidation=Strict refuses an unknown field; Warn drops it with a Warning header; Ignore drops it silently', async () => {
    const typo = (name: string) => ({
      apiVersion: 'v1', kind: 'Pod', metadata: { name },
      spec: { containers: [{ name: 'nginx', image: 'nginx:1.27', imagePullPolcy: 'Always' }] },
    });
    const strict = await json(t.call('post', `${PODS}?fieldValidation=Strict`), typo('strict')).expect(400);
    assert.equal(strict.body.reason, 'BadRequest');
    assert.equal(strict.body.message, 'Pod in version "v1" cannot be handled as a Pod: strict decoding error: unknown field "spec.containers[0].imagePullPolcy"');
    await unchanged();

    const warn = await json(t.call('post', `${PODS}?fieldValidation=Warn`), typo('warn')).expect(201);
    assert.equal(warn.headers.warning, '299 - "unknown field \\"spec.containers[0].imagePullPolcy\\""');
    assert.equal(warn.body.spec.containers[0].imagePullPolcy, undefined);
    assert.equal(warn.body.spec.containers[0].imagePullPolicy, 'IfNotPresent');
    const byDefault = await json(t.call('post', PODS), typo('default')).expect(201);
    assert.equal(byDefault.headers.warning, '299 - "unknown field \\"spec.containers[0].imagePullPolcy\\""');

    const ignore = await json(t.call('post', `${PODS}?fieldValidation=Ignore`), typo('ignore')).expect(201);
    assert.equal(ignore.headers.warning, undefined);
    assert.equal(ignore.body.spec.containers[0].imagePullPolcy, undefined);

    const strictPatch = await json(t.call('patch', `${PODS}/ignore?fieldValidation=Strict`), { spec: { bogus: 1 } }, 'application/merge-patch+json').expect(400);
    assert.equal(strictPatch.body.reason, 'BadRequest');
    assert.match(strictPatch.body.message, /strict decoding error: unknown field "spec.bogus"/);

    const invalid = await json(t.call('post', `${PODS}?fieldValidation=Bogus`), podManifest('bogus')).expect(422);
    assert.equal(invalid.body.message, 'CreateOptions.meta.k8s.io "" is invalid: fieldValidation: Unsupported value: "Bogus": supported values: "", "Ignore", "Strict", "Warn"');
    await t.call('get', `${PODS}/bogus`).expect(404);
    for (const name of ['warn', 'default', 'ignore']) await t.call('delete', `${PODS}/${name}`).expect(200);
    await unchanged();
  });

  test('a missing or wrong bearer token is a 401 Status', async () => {
    const expected = { ...STATUS, message: 'Unauthorized', reason: 'Unauthorized', code: 401 };
    const none = await t.anonymous('get', PODS).expect(401);
    assert.deepEqual(none.body, expected);
    const wrong = await t.anonymous('get', PODS).set('Authorization', 'Bearer not-a-token').expect(401);
    assert.deepEqual(wrong.body, expected);
    const write = await json(t.anonymous('post', PODS).set('Authorization', 'Bearer not-a-token'), podManifest('anon')).expect(401);
    assert.deepEqual(write.body, expected);
    await unchanged();
  });

  test('a protobuf body captured from kubectl 1.32 (create namespace x) is accepted, with a protobuf reply', async () => {
    const body = readFileSync(new URL('./fixtures/protobuf/create-namespace.bin', import.meta.url));
    const res = await t.call('post', '/api/v1/namespaces?fieldManager=kubectl-create&fieldValidation=Strict')
      .set('Content-Type', 'application/vnd.kubernetes.protobuf')
      .set('Accept', 'application/vnd.kubernetes.protobuf,application/json')
      .send(body)
      .buffer(true).parse((reply, done) => {
        const chunks: Buffer[] = [];
        reply.on('data', (chunk: Buffer) => chunks.push(chunk));
        reply.on('end', () => done(null, Buffer.concat(chunks)));
      })
      .expect(201);
    // kubectl prefers protobuf, and Namespace has a protobuf message: the reply is protobuf (as kube-apiserver's).
    assert.equal(res.headers['content-type'], 'application/vnd.kubernetes.protobuf');
    const created = decodeProtobufBody(res.body as Buffer) as unknown as { kind: string; metadata: { name: string; managedFields: Array<{ manager: string }> }; status: unknown };
    assert.equal(created.kind, 'Namespace');
    assert.equal(created.metadata.name, 'x');
    assert.deepEqual(created.status, { phase: 'Active' });
    assert.equal(created.metadata.managedFields[0].manager, 'kubectl-create');
    await t.call('get', '/api/v1/namespaces/x').expect(200);
    const garbage = await t.call('post', '/api/v1/namespaces').set('Content-Type', 'application/vnd.kubernetes.protobuf').send(Buffer.from('k8s\u0000\u00ff\u00ff')).expect(400);
    assert.equal(garbage.body.reason, 'BadRequest');
  });
});
