// Query options decoded as kube-apiserver decodes them (api/options/): upstream's boolean and
// integer conversion, repeated and unknown parameters, and the 400/422/504 answers for bad values,
// checked on the decoders and over HTTPS (watch=True from the Python client, limit=1e20, ...).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import {
  decodeDeleteOptionsQuery, decodeListOptions, decodePatchOptions, decodePodAttachOptions, decodePodExecOptions,
  decodePodLogOptions, decodePodPortForwardOptions, parseQueryBool, podLogOptionsErrors, validateStreamOptions,
} from '../api/options/index.ts';
import { StatusError } from '../api/errors.ts';
import { json, podManifest, startTestServer, type TestServer } from './helpers/api-server.ts';
import { startLogServer } from '../kubelet/log-server.ts';
import { NodeLogStore } from '../kubelet/container-logs.ts';
import { createKubeletServingCert } from '../kubelet/serving-cert.ts';
import { nodeLoopbackIp } from '../kubelet/node-addressing.ts';

const q = (text: string) => new URLSearchParams(text);

function statusOf(fn: () => unknown): { code: number; message: string } {
  try {
    fn();
  } catch (err) {
    if (err instanceof StatusError) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('expected a StatusError');
}

describe('query value conversion', () => {
  test('booleans: false only for 0 and false in any case; absent is false, empty is true', () => {
    for (const value of ['true', 'True', 'TRUE', '1', 'yes', 'maybe', '', ' ']) assert.equal(parseQueryBool(value), true, value);
    for (const value of ['false', 'False', 'FALSE', 'fAlSe', '0']) assert.equal(parseQueryBool(value), false, value);
    assert.equal(decodeListOptions(q('')).watch, false);
    assert.equal(decodeListOptions(q('watch=True')).watch, true);
    assert.equal(decodeListOptions(q('watch=')).watch, true);
    assert.equal(decodeListOptions(q('sendInitialEvents=False')).sendInitialEvents, false);
    assert.equal(decodeListOptions(q('')).sendInitialEvents, undefined);
    assert.equal(decodePatchOptions(q('force=maybe')).force, true);
    assert.equal(decodePatchOptions(q('')).force, undefined);
  });

  test('integers are strconv.ParseInt base 10: no exponent, no hex, int64 range', () => {
    assert.equal(decodeListOptions(q('limit=500')).limit, 500);
    assert.equal(decodeListOptions(q('limit=%2B7')).limit, 7);
    assert.equal(decodeListOptions(q('limit=-3')).limit, -3);
    assert.deepEqual(statusOf(() => decodeListOptions(q('limit=1e20'))), { code: 400, message: 'strconv.ParseInt: parsing "1e20": invalid syntax' });
    assert.deepEqual(statusOf(() => decodeListOptions(q('limit=0x10'))), { code: 400, message: 'strconv.ParseInt: parsing "0x10": invalid syntax' });
    assert.deepEqual(statusOf(() => decodeListOptions(q('limit='))), { code: 400, message: 'strconv.ParseInt: parsing "": invalid syntax' });
    assert.deepEqual(statusOf(() => decodeListOptions(q('limit=99999999999999999999'))), { code: 400, message: 'strconv.ParseInt: parsing "99999999999999999999": value out of range' });
    assert.deepEqual(statusOf(() => decodeListOptions(q('timeoutSeconds=abc'))), { code: 400, message: 'strconv.ParseInt: parsing "abc": invalid syntax' });
    assert.deepEqual(statusOf(() => decodeDeleteOptionsQuery(q('gracePeriodSeconds=1.5'))), { code: 400, message: 'strconv.ParseInt: parsing "1.5": invalid syntax' });
  });

  test('a repeated parameter counts by its first value; lists keep every value; unknown parameters are ignored', () => {
    const options = decodeListOptions(q('limit=2&limit=abc&labelSelector=a=1&labelSelector=b=2&pretty=true&bogus=1'));
    assert.equal(options.limit, 2);
    assert.equal(options.labelSelector, 'a=1');
    assert.deepEqual(decodePatchOptions(q('dryRun=All&dryRun=All')).dryRun, ['All', 'All']);
    assert.deepEqual(decodePodExecOptions(q('command=sh&command=-c&command=echo%20hi&stdout=true')).command, ['sh', '-c', 'echo hi']);
  });

  test('PodLogOptions: types, time parsing and ValidatePodLogOptions', () => {
    const options = decodePodLogOptions(q('follow=True&timestamps=1&previous=FALSE&tailLines=5&limitBytes=10&container=c&sinceTime=2024-05-01T10:00:00Z'));
    assert.equal(options.follow, true);
    assert.equal(options.timestamps, true);
    assert.equal(options.previous, false);
    assert.equal(options.tailLines, 5);
    assert.equal(options.sinceTime?.toISOString(), '2024-05-01T10:00:00.000Z');
    assert.deepEqual(statusOf(() => decodePodLogOptions(q('sinceTime=yesterday'))), {
      code: 400, message: 'parsing time "yesterday" as "2006-01-02T15:04:05Z07:00": cannot parse "yesterday" as "2006"',
    });
    assert.deepEqual(statusOf(() => decodePodLogOptions(q('tailLines=ten'))), { code: 400, message: 'strconv.ParseInt: parsing "ten": invalid syntax' });
    const messages = (text: string) => podLogOptionsErrors(decodePodLogOptions(q(text))).map((e) => `${e.field}: ${e.message}`);
    assert.deepEqual(messages('tailLines=-1'), ['tailLines: Invalid value: -1: must be greater than or equal to 0']);
    assert.deepEqual(messages('limitBytes=0'), ['limitBytes: Invalid value: 0: must be greater than 0']);
    assert.deepEqual(messages('sinceSeconds=0'), ['sinceSeconds: Invalid value: 0: must be greater than 0']);
    assert.deepEqual(messages('sinceSeconds=5&sinceTime=2024-05-01T10:00:00Z'), [': Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified']);
  });

  test('exec, attach and port-forward options', () => {
    const exec = decodePodExecOptions(q('stdin=true&stdout=1&stderr=false&tty=True&container=app&command=ls'));
    assert.deepEqual(exec, { stdin: true, stdout: true, stderr: false, tty: true, container: 'app', command: ['ls'] });
    assert.deepEqual(decodePodAttachOptions(q('stdout=true')), { stdin: false, stdout: true, stderr: false, tty: false, container: undefined });
    assert.deepEqual(statusOf(() => validateStreamOptions(decodePodAttachOptions(q('tty=true')))), { code: 400, message: 'you must specify at least 1 of stdin, stdout, stderr' });
    assert.deepEqual(decodePodPortForwardOptions(q('ports=80,443&ports=8080')).ports, [80, 443, 8080]);
    assert.deepEqual(statusOf(() => decodePodPortForwardOptions(q('ports=http'))), { code: 400, message: 'cannot convert to []int32: strconv.ParseUint: parsing "http": invalid syntax' });
    assert.deepEqual(statusOf(() => decodePodPortForwardOptions(q('ports=70000'))), { code: 400, message: 'cannot convert to []int32: strconv.ParseUint: parsing "70000": value out of range' });
  });
});

describe('query options over HTTPS', () => {
  let t: TestServer;
  const NS = '/api/v1/namespaces/default';
  before(async () => {
    t = await startTestServer('query-options');
    await json(t.call('post', `${NS}/pods`), podManifest('p1')).expect(201);
  });
  after(async () => { await t.close(); });

  test('watch=True (the Python client) starts a watch, not a list', async () => {
    const events = await new Promise<string>((resolve, reject) => {
      const url = new URL(`${t.url}${NS}/pods?watch=True&timeoutSeconds=1`);
      https.get({ host: url.hostname, port: url.port, path: url.pathname + url.search, ca: t.server.caCertPem, headers: { Authorization: `Bearer ${t.server.adminToken}` } }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => { body += chunk; });
        res.on('end', () => resolve(body));
      }).on('error', reject);
    });
    const first = JSON.parse(events.split('\n')[0]);
    assert.equal(first.type, 'ADDED');
    assert.equal(first.object.metadata.name, 'p1');
  });

  test('watch=false and watch=0 list', async () => {
    for (const value of ['false', 'FALSE', '0']) {
      const res = await t.call('get', `${NS}/pods?watch=${value}`).expect(200);
      assert.equal(res.body.kind, 'PodList', value);
    }
  });

  test('bad integers are 400 with the conversion error and change nothing', async () => {
    const cases: [string, string][] = [
      [`${NS}/pods?limit=1e20`, 'strconv.ParseInt: parsing "1e20": invalid syntax'],
      [`${NS}/pods?limit=0x10`, 'strconv.ParseInt: parsing "0x10": invalid syntax'],
      [`${NS}/pods?watch=true&timeoutSeconds=abc`, 'strconv.ParseInt: parsing "abc": invalid syntax'],
    ];
    for (const [path, message] of cases) {
      const res = await t.call('get', path).expect(400);
      assert.deepEqual(res.body, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: 'BadRequest', code: 400 }, path);
    }
    const del = await t.call('delete', `${NS}/pods/p1?gracePeriodSeconds=soon`).expect(400);
    assert.equal(del.body.message, 'strconv.ParseInt: parsing "soon": invalid syntax');
    await t.call('get', `${NS}/pods/p1`).expect(200);
  });

  test('GET with a resourceVersion that does not parse is refused; a future one is 504 Too large resource version', async () => {
    const bad = await t.call('get', `${NS}/pods/p1?resourceVersion=abc`).expect(400);
    assert.equal(bad.body.message, 'resourceVersion: Invalid value: "abc": strconv.ParseUint: parsing "abc": invalid syntax');
    const current = Number((await t.call('get', `${NS}/pods/p1?resourceVersion=0`).expect(200)).body.metadata.resourceVersion);
    const future = await t.call('get', `${NS}/pods/p1?resourceVersion=${current + 1000}`).expect(504);
    assert.equal(future.body.reason, 'Timeout');
    assert.match(future.body.message, new RegExp(`^Too large resource version: ${current + 1000}, current: \\d+$`));
    assert.deepEqual(future.body.details, { causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }], retryAfterSeconds: 1 });
  });

  test('resourceVersionMatch=Exact with a future resourceVersion is 504, not the current list', async () => {
    const list = await t.call('get', `${NS}/pods`).expect(200);
    const future = Number(list.body.metadata.resourceVersion) + 1000;
    const res = await t.call('get', `${NS}/pods?resourceVersion=${future}&resourceVersionMatch=Exact`).expect(504);
    assert.deepEqual(res.body, {
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure',
      message: `Too large resource version: ${future}, current: ${list.body.metadata.resourceVersion}`,
      reason: 'Timeout', details: { causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }], retryAfterSeconds: 1 }, code: 504,
    });
  });

  test('force=maybe on an apply is force=true, as upstream converts it; force on a non-apply patch is refused whatever its value', async () => {
    const manifest = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p1', labels: { owner: 'a' } } };
    await t.call('patch', `${NS}/pods/p1?fieldManager=a`).set('Content-Type', 'application/apply-patch+yaml').send(JSON.stringify(manifest)).expect(200);
    const other = { ...manifest, metadata: { name: 'p1', labels: { owner: 'b' } } };
    await t.call('patch', `${NS}/pods/p1?fieldManager=b`).set('Content-Type', 'application/apply-patch+yaml').send(JSON.stringify(other)).expect(409);
    const forced = await t.call('patch', `${NS}/pods/p1?fieldManager=b&force=maybe`).set('Content-Type', 'application/apply-patch+yaml').send(JSON.stringify(other)).expect(200);
    assert.equal(forced.body.metadata.labels.owner, 'b');
    const refused = await t.call('patch', `${NS}/pods/p1?force=false`).set('Content-Type', 'application/merge-patch+json').send('{}').expect(422);
    assert.match(refused.body.message, /force: Forbidden: may not be specified for non-apply patch/);
  });

  test('DELETE reads its options from the body when there is one, from the query otherwise', async () => {
    await json(t.call('post', `${NS}/pods`), podManifest('p2')).expect(201);
    const both = await t.call('delete', `${NS}/pods/p2?orphanDependents=true&propagationPolicy=Background`).expect(422);
    assert.equal(both.body.message, 'DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Invalid value: "Background": orphanDependents and deletionPropagation cannot be both set');
    // With a body, the query's dryRun does not count: the pod goes.
    await t.call('delete', `${NS}/pods/p2?dryRun=All`).set('Content-Type', 'application/json').send({ gracePeriodSeconds: 0 }).expect(200);
    await t.call('get', `${NS}/pods/p2`).expect(404);
  });

  test('pods/log options are decoded and validated before the pod is looked up', async () => {
    const invalid = await t.call('get', `${NS}/pods/p1/log?tailLines=-1`).expect(422);
    assert.equal(invalid.body.message, 'PodLogOptions "p1" is invalid: tailLines: Invalid value: -1: must be greater than or equal to 0');
    const bad = await t.call('get', `${NS}/pods/nosuch/log?follow=true&limitBytes=lots`).expect(400);
    assert.equal(bad.body.message, 'strconv.ParseInt: parsing "lots": invalid syntax');
  });
});

describe('the kubelet log endpoint decodes PodLogOptions the same way', () => {
  test('follow=True and timestamps=True stream; bad values get the kubelet answers', async () => {
    const host = nodeLoopbackIp(201);
    const logs = new NodeLogStore();
    const current = logs.startInstance('default', 'web', 'app');
    current.append('a');
    const cert = createKubeletServingCert({ names: ['node201'], ips: [host] });
    // The endpoint authenticates callers (kubelet/request-auth.ts): one token, allowed everything.
    const server = await startLogServer({
      host, port: 0, cert, clientCaPem: cert.certPem,
      node: {
        nodeName: 'node201',
        auth: {
          authenticateToken: async (token) => (token === 'reader' ? { username: 'reader', groups: [] } : undefined),
          authorize: async () => true,
        },
        resolve: (ns, pod, container, previous) => {
          const instance = logs.get(ns, pod, container, previous);
          return instance ? { instance } : { status: 404, message: 'not found' };
        },
      },
    });
    const get = (path: string, onData?: (text: string) => void) => new Promise<{ status: number; body: string }>((resolve, reject) => {
      https.get({ host, port: server.port, path, rejectUnauthorized: false, headers: { Authorization: 'Bearer reader' } }, (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => { body += chunk; onData?.(body); });
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      }).on('error', reject);
    });
    try {
      const followed = get('/containerLogs/default/web/app?follow=True&timestamps=True', (body) => {
        if (body.split('\n').length === 2) current.append('b');
        if (body.endsWith(' b\n')) current.finish();
      });
      const result = await followed;
      assert.equal(result.status, 200);
      assert.match(result.body, /^\S+Z a\n\S+Z b\n$/);
      assert.deepEqual(await get('/containerLogs/default/web/app?tail=1'), { status: 200, body: 'b\n' });
      assert.deepEqual(await get('/containerLogs/default/web/app?tailLines=x'), { status: 400, body: '{"message": "Unable to decode query."}' });
      assert.deepEqual(await get('/containerLogs/default/web/app?tailLines=-2'), { status: 422, body: '{"message": "Invalid request."}' });
    } finally {
      await server.close();
    }
  });
});
