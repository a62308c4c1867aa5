// pods/log over a WebSocket against `up`'s cluster: the wsstream subprotocols (binary.k8s.io, base64.binary.k8s.io,
// none), follow streaming new lines as the container writes them, the same options as the HTTP path, and errors
// answered over HTTP before the upgrade (RBAC get on pods/log, a bad container, a bad option, no supported protocol).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect as tlsConnect } from 'node:tls';
import WebSocket from 'ws';
import { startConformanceCluster, until, type ConformanceCluster, type Json } from './conformance/helpers/cluster.ts';

interface Received {
  /** Each message as received: its payload and whether it was a binary frame. */
  messages: { data: Buffer; binary: boolean }[];
  protocol: string;
  closeCode: number;
}

interface Refused {
  status: number;
  body: string;
}

const CORE = '/api/v1/namespaces/default';
/** The simulated runtime's own lines in a container's log (start, exit), which are not the container's output. */
const RUNTIME_LINE = /^kubefacade: simulated container /;

describe('pods/log over WebSocket', () => {
  let cluster: ConformanceCluster;

  function open(path: string, protocols: string[], headers: Record<string, string> = {}): WebSocket {
    const url = `${cluster.server.url.replace('https', 'wss')}${path}`;
    return new WebSocket(url, protocols, { ca: cluster.server.caCertPem, headers: { Authorization: `Bearer ${cluster.server.adminToken}`, ...headers } });
  }

  /** Reads every message until the server closes; rejects if the handshake is refused. */
  function readAll(ws: WebSocket): Promise<Received> {
    const messages: Received['messages'] = [];
    return new Promise((resolve, reject) => {
      ws.on('message', (data: Buffer, binary: boolean) => messages.push({ data, binary }));
      ws.on('close', (code) => resolve({ messages, protocol: ws.protocol, closeCode: code }));
      ws.on('error', reject);
    });
  }

  /** The HTTP answer to a handshake the server refuses (before any upgrade). */
  function refusal(ws: WebSocket): Promise<Refused> {
    return new Promise((resolve, reject) => {
      ws.on('unexpected-response', (_req, res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      });
      ws.on('open', () => reject(new Error('the upgrade was accepted')));
      ws.on('error', () => undefined);
    });
  }

  async function httpLog(pod: string, query = ''): Promise<string> {
    const res = await cluster.raw('get', `${CORE}/pods/${pod}/log${query}`).buffer(true).parse((r, cb) => {
      let text = '';
      r.on('data', (c: Buffer) => (text += c.toString()));
      r.on('end', () => cb(null, text));
    });
    assert.equal(res.status, 200, String(res.body));
    return res.body as string;
  }

  async function runningPod(name: string, command: string[]): Promise<void> {
    await cluster.api('post', `${CORE}/pods`, { body: { metadata: { name }, spec: { containers: [{ name: 'main', image: 'busybox', command }] } } });
    await until(async () => ((await cluster.api('get', `${CORE}/pods/${name}`)).status?.phase === 'Running' ? true : undefined), `${name} Running`);
  }

  before(async () => {
    cluster = await startConformanceCluster('log-websocket', { nodes: 1 });
    await runningPod('talker', ['sh', '-c', 'echo first line; echo second line; sleep 10000']);
  });

  after(async () => {
    await cluster?.stop();
  });

  test('binary.k8s.io: an empty message, then the log as binary frames, then close 1000', async () => {
    const got = await readAll(open(`${CORE}/pods/talker/log?container=main`, [BINARY]));
    assert.equal(got.protocol, BINARY);
    assert.equal(got.closeCode, 1000);
    assert.ok(got.messages.length >= 2);
    assert.equal(got.messages[0].data.length, 0, 'the first message is wsstream\'s empty ping');
    assert.ok(got.messages.every((m) => m.binary), 'binary frames only');
    const text = Buffer.concat(got.messages.map((m) => m.data)).toString();
    assert.equal(text, await httpLog('talker', '?container=main'));
    assert.deepEqual(text.split('\n').filter((l) => l && !RUNTIME_LINE.test(l)), ['first line', 'second line']);
  });

  test('base64.binary.k8s.io: text frames carrying the base64 of the log', async () => {
    const got = await readAll(open(`${CORE}/pods/talker/log?tailLines=1`, ['unknown.k8s.io', BASE64]));
    assert.equal(got.protocol, BASE64, 'the first supported protocol the client offers');
    assert.equal(got.closeCode, 1000);
    assert.equal(got.messages[0].data.length, 0);
    assert.ok(got.messages.every((m) => !m.binary), 'text frames only');
    const text = got.messages.map((m) => Buffer.from(m.data.toString(), 'base64').toString()).join('');
    assert.equal(text, 'second line\n', 'tailLines applies as over HTTP');
  });

  test('no subprotocol: binary frames; timestamps as over HTTP', async () => {
    const got = await readAll(open(`${CORE}/pods/talker/log?timestamps=true`, []));
    assert.equal(got.protocol, '');
    const text = Buffer.concat(got.messages.map((m) => m.data)).toString();
    assert.ok(got.messages.every((m) => m.binary));
    assert.match(text, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z first line$/m);
    assert.equal(text, await httpLog('talker', '?timestamps=true'));
  });

  test('follow=true streams the lines written later, and closes with 1000 when the container ends', async () => {
    // A container that runs for a few seconds: its exit line is written after the WebSocket opened.
    await cluster.api('post', `${CORE}/pods`, { body: { metadata: { name: 'brief' }, spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox', command: ['sh', '-c', 'echo hello; sleep 4'] }] } } });
    await until(async () => ((await cluster.api('get', `${CORE}/pods/brief`)).status?.phase === 'Running' ? true : undefined), 'brief Running');
    const ws = open(`${CORE}/pods/brief/log?follow=true`, [BINARY]);
    const arrivals: { text: string; atMs: number }[] = [];
    const openedAtMs = await new Promise<number>((resolve, reject) => { ws.once('open', () => resolve(Date.now())); ws.once('error', reject); });
    ws.on('message', (data: Buffer) => arrivals.push({ text: data.toString(), atMs: Date.now() }));
    const closeCode = await new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
    assert.equal(closeCode, 1000);
    const text = arrivals.map((a) => a.text).join('');
    assert.match(text, /^kubefacade: simulated container "main" \(image busybox\) started\nhello\nkubefacade: simulated container "main" exited with code 0\n$/);
    const exitLine = arrivals.find((a) => a.text.includes('exited with code 0'));
    assert.ok(exitLine && exitLine.atMs - openedAtMs > 500, 'the exit line arrived while the stream was open, not with the first read');
    await until(async () => ((await cluster.api('get', `${CORE}/pods/brief`)).status?.phase === 'Succeeded' ? true : undefined), 'brief Succeeded');
  });

  test('follow=true: client messages are ignored, and the client closing ends the stream', async () => {
    const ws = open(`${CORE}/pods/talker/log?follow=true`, [BINARY]);
    let text = '';
    ws.on('message', (data: Buffer) => (text += data.toString()));
    await until(async () => (text.includes('second line\n') ? true : undefined), 'the log so far', 10_000);
    // What a client sends is read and ignored: the stream goes on.
    ws.send('ignored by the server');
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(ws.readyState, WebSocket.OPEN);
    const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
    ws.close(1000);
    assert.equal(await closed, 1000);
    // The server is still serving (the kubelet stream it abandoned is gone, not leaked into a stuck request).
    assert.match(await httpLog('talker'), /second line/);
  });

  test('a user without get on pods/log is refused with 403 before the upgrade; with it, the log streams', async () => {
    const jane = { 'Impersonate-User': 'jane' };
    const refused = await refusal(open(`${CORE}/pods/talker/log`, [BINARY], jane));
    assert.equal(refused.status, 403);
    const status = JSON.parse(refused.body) as Json;
    assert.equal(status.kind, 'Status');
    assert.equal(status.message, 'pods "talker" is forbidden: User "jane" cannot get resource "pods/log" in API group "" in the namespace "default"');
    await cluster.api('post', '/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles', { body: { metadata: { name: 'log-reader' }, rules: [{ apiGroups: [''], resources: ['pods/log'], verbs: ['get'] }] } });
    await cluster.api('post', '/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings', { body: {
      metadata: { name: 'jane-logs' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'log-reader' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'jane' }],
    } });
    const got = await until(async () => readAll(open(`${CORE}/pods/talker/log`, [BINARY], jane)), 'jane allowed');
    assert.match(Buffer.concat(got.messages.map((m) => m.data)).toString(), /second line/);
  });

  test('a bad container, a missing pod and a bad option get the HTTP path\'s Status before the upgrade', async () => {
    const badContainer = await refusal(open(`${CORE}/pods/talker/log?container=nope`, [BINARY]));
    assert.equal(badContainer.status, 400);
    assert.deepEqual(pick(JSON.parse(badContainer.body) as Json), { kind: 'Status', reason: 'BadRequest', code: 400, message: 'container nope is not valid for pod talker' });
    const overHttp = await cluster.raw('get', `${CORE}/pods/talker/log?container=nope`);
    assert.equal((overHttp.body as Json).message, 'container nope is not valid for pod talker');

    const missing = await refusal(open(`${CORE}/pods/ghost/log`, [BINARY]));
    assert.equal(missing.status, 404);
    assert.deepEqual(pick(JSON.parse(missing.body) as Json), { kind: 'Status', reason: 'NotFound', code: 404, message: 'pods "ghost" not found' });

    const badOption = await refusal(open(`${CORE}/pods/talker/log?tailLines=-1`, [BINARY]));
    assert.equal(badOption.status, 422);
    const invalid = JSON.parse(badOption.body) as Json;
    assert.equal(invalid.reason, 'Invalid');
    assert.equal(invalid.message, (await cluster.raw('get', `${CORE}/pods/talker/log?tailLines=-1`)).body.message);
  });

  test('previous and sinceSeconds: the same answers as over HTTP', async () => {
    // No earlier instance of the container: the kubelet's refusal, as a Status before the upgrade.
    const noPrevious = await refusal(open(`${CORE}/pods/talker/log?previous=true`, [BINARY]));
    const overHttp = await cluster.raw('get', `${CORE}/pods/talker/log?previous=true`);
    assert.equal(noPrevious.status, overHttp.status);
    assert.equal(noPrevious.status, 400);
    assert.equal((JSON.parse(noPrevious.body) as Json).message, (overHttp.body as Json).message);
    assert.match((overHttp.body as Json).message as string, /previous terminated container "main" in pod "talker" not found/);
    // The talker wrote its lines when it started, more than a second ago: nothing since then, only the empty ping.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const recent = await readAll(open(`${CORE}/pods/talker/log?sinceSeconds=1`, [BINARY]));
    assert.equal(recent.closeCode, 1000);
    assert.deepEqual(recent.messages.map((m) => m.data.length), [0]);
    assert.equal(await httpLog('talker', '?sinceSeconds=1'), '');
    const all = await readAll(open(`${CORE}/pods/talker/log?sinceSeconds=3600`, [BINARY]));
    assert.match(Buffer.concat(all.messages.map((m) => m.data)).toString(), /first line\nsecond line\n/);
  });

  test('an upgrade request that is not a WebSocket gets the log as a plain response', async () => {
    const { hostname: host, port } = new URL(cluster.server.url);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = tlsConnect({ host, port: Number(port), ca: cluster.server.caCertPem, servername: 'localhost' }, () => {
        socket.write(`GET ${CORE}/pods/talker/log HTTP/1.1\r\nHost: ${host}:${port}\r\nAuthorization: Bearer ${cluster.server.adminToken}\r\n`
          + 'Connection: Upgrade\r\nUpgrade: SPDY/3.1\r\n\r\n');
      });
      let text = '';
      socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    assert.match(answer, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(answer, /\r\nContent-Type: text\/plain/i);
    assert.match(answer, /first line\r?\n?[\s\S]*second line/);
  });

  test('a client offering no supported subprotocol gets 403 Forbidden', async () => {
    const refused = await refusal(open(`${CORE}/pods/talker/log`, ['channel.k8s.io']));
    assert.equal(refused.status, 403);
    assert.equal(refused.body, '', 'x/net/websocket writes the status line alone');
  });
});

const BINARY = 'binary.k8s.io';
const BASE64 = 'base64.binary.k8s.io';

function pick(status: Json): Json {
  return { kind: status.kind, reason: status.reason, code: status.code, message: status.message };
}
