// --request-timeout as kube-apiserver enforces it: a request that is not long-running is answered
// 504 Timeout (`Timeout: request did not complete within the allotted timeout`) once the deadline
// passes, reading the body included, and its connection is closed, which frees its seat. Slow
// uploaders holding every mutating seat can then not starve another user past the timeout. A watch
// is not cut by it; `?timeout=` shortens a request's deadline and must parse.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { startTestServer, podManifest, type TestServer } from './helpers/api-server.ts';

const TIMEOUT_MS = 2_000;
const SEATS = 4;

interface SlowUpload {
  /** Resolves with the answer (status and body) or the way the connection ended. */
  done: Promise<{ status: number; body: string; afterMs: number }>;
  stop(): void;
}

/** A POST whose body arrives one byte every 250 ms and never completes on its own. */
function slowUpload(t: TestServer, token: string): SlowUpload {
  const started = Date.now();
  const url = new URL(`${t.url}/api/v1/namespaces/default/pods`);
  let timer: NodeJS.Timeout | undefined;
  let req: ReturnType<typeof https.request> | undefined;
  const done = new Promise<{ status: number; body: string; afterMs: number }>((resolve) => {
    req = https.request({
      host: url.hostname, port: url.port, path: url.pathname, method: 'POST', ca: t.server.caCertPem, agent: false,
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', 'Content-Length': '100000' },
    }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => { body += chunk.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, afterMs: Date.now() - started }));
      res.on('error', () => resolve({ status: res.statusCode ?? 0, body, afterMs: Date.now() - started }));
    });
    req.on('error', () => resolve({ status: 0, body: 'connection ended without an answer', afterMs: Date.now() - started }));
    req.write('{');
    timer = setInterval(() => req!.write(' '), 250);
  });
  void done.finally(() => clearInterval(timer));
  return { done, stop: () => { clearInterval(timer); req?.destroy(); } };
}


/**
 * Slow uploaders take every seat; bob must still get one within a few timeouts. With `replace`,
 * each upload cut off is sent again at once (an attacker that keeps trying): then only fair
 * queuing (APF) gives bob his turn, as upstream; the max-in-flight filter is first come, first served.
 */
async function assertNoStarvation(t: TestServer, slowToken: string, bobToken: string, uploaderCount: number, replace: boolean): Promise<void> {
  const uploads: SlowUpload[] = [];
  // Keep every mutating seat taken by slow uploads for the whole test: each one cut off is replaced.
  let running = true;
  const keepUploading = async (): Promise<void> => {
    do {
      const upload = slowUpload(t, slowToken);
      uploads.push(upload);
      await upload.done;
    } while (running && replace);
  };
  const uploaders = Array.from({ length: uploaderCount }, () => keepUploading());
  try {
    await new Promise((done) => setTimeout(done, 300));
    const first = await t.anonymous('post', '/api/v1/namespaces/default/pods').set('Authorization', `Bearer ${bobToken}`).send(podManifest('bob-early')).ok(() => true);
    assert.equal(first.status, 429, 'the slow uploads do hold every seat');
    // Within a few timeouts bob gets a seat freed by a cut-off upload (without the deadline: never). The
    // bound is generous: on a loaded 2-core machine each cycle of cut-offs and retries takes longer.
    const deadline = Date.now() + TIMEOUT_MS * 10;
    let created = 0;
    let attempts = 0;
    while (Date.now() < deadline && created === 0) {
      attempts++;
      const res = await t.anonymous('post', '/api/v1/namespaces/default/pods').set('Authorization', `Bearer ${bobToken}`).send(podManifest(`bob-${attempts}`)).ok(() => true);
      // 201, or 504 when a loaded machine made the create itself outlast the deadline: either way bob had a seat.
      if (res.status === 201 || res.status === 504) created++;
      else assert.equal(res.status, 429, res.text);
      await new Promise((done) => setTimeout(done, 20));
    }
    assert.equal(created, 1, `bob got no seat in ${attempts} attempts`);
  } finally {
    running = false;
    for (const upload of uploads) upload.stop();
    await Promise.all(uploaders);
  }
  const answers = await Promise.all(uploads.map((u) => u.done));
  assert.ok(answers.some((a) => a.status === 504), 'slow uploads were cut off with 504');
}

describe('request deadlines (--request-timeout)', { timeout: 150_000 }, () => {
  let t: TestServer;
  let slowToken: string;
  let bobToken: string;

  before(async () => {
    t = await startTestServer('request-timeout', {
      requestTimeoutMs: TIMEOUT_MS,
      flowControl: { maxRequestsInflight: SEATS, maxMutatingRequestsInflight: SEATS, priorityAndFairness: false },
    });
    // Both users may create pods; neither is exempt from the limits (system:masters is).
    slowToken = t.server.credentials.token({ username: 'slow', groups: ['uploaders'] }, 3600);
    bobToken = t.server.credentials.token({ username: 'bob', groups: ['uploaders'] }, 3600);
    await t.call('post', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings').send({
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'uploaders' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'edit' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'uploaders' }],
    }).expect(201);
  });
  after(async () => { await t.close(); });

  test('a slow body is answered 504 Timeout at the deadline and its connection closed', async () => {
    const upload = slowUpload(t, slowToken);
    const answer = await upload.done;
    assert.equal(answer.status, 504, answer.body);
    assert.deepEqual(JSON.parse(answer.body), {
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure',
      message: 'Timeout: request did not complete within the allotted timeout', reason: 'Timeout', details: {}, code: 504,
    });
    assert.ok(answer.afterMs >= TIMEOUT_MS - 50, `answered after ${answer.afterMs} ms`);
  });

  test('slow uploads holding every seat are cut off at the timeout, freeing the seats for another user (max-in-flight)', async () => {
    await assertNoStarvation(t, slowToken, bobToken, SEATS, false);
  });

  test('?timeout= must parse (400 as kube-apiserver) and a shorter one applies', async () => {
    const bad = await t.call('get', '/api/v1/namespaces/default/pods?timeout=abc').ok(() => true);
    assert.equal(bad.status, 400);
    assert.match(bad.body.message, /^invalid timeout specified in the request URL/);
    assert.equal((await t.call('get', '/api/v1/namespaces/default/pods?timeout=30s')).status, 200);
  });

  test('a watch is long-running: it outlives the request timeout', async () => {
    const url = new URL(`${t.url}/api/v1/namespaces/default/pods?watch=true&timeoutSeconds=30`);
    const events: string[] = [];
    const req = https.request({ host: url.hostname, port: url.port, path: url.pathname + url.search, ca: t.server.caCertPem, headers: { Authorization: `Bearer ${t.server.adminToken}` } });
    const response = new Promise<import('node:http').IncomingMessage>((resolve) => req.on('response', resolve));
    req.end();
    const res = await response;
    assert.equal(res.statusCode, 200);
    res.on('data', (chunk: Buffer) => events.push(chunk.toString()));
    let ended = false;
    res.on('close', () => { ended = true; });
    await new Promise((done) => setTimeout(done, TIMEOUT_MS + 700));
    assert.equal(ended, false, 'the watch is still open past the request timeout');
    await t.call('post', '/api/v1/namespaces/default/pods').send(podManifest('seen-by-watch')).expect(201);
    for (let i = 0; i < 100 && !events.join('').includes('seen-by-watch'); i++) await new Promise((done) => setTimeout(done, 50));
    assert.ok(events.join('').includes('seen-by-watch'), 'the watch still delivers events');
    req.destroy();
  });
});

describe('request deadlines under API Priority and Fairness', { timeout: 150_000 }, () => {
  let t: TestServer;

  before(async () => {
    // 4 + 4 seats shared by the priority levels: global-default (ordinary users) gets one.
    t = await startTestServer('request-timeout-apf', {
      requestTimeoutMs: TIMEOUT_MS,
      flowControl: { maxRequestsInflight: SEATS, maxMutatingRequestsInflight: SEATS, priorityAndFairness: true },
    });
    await t.call('post', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings').send({
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'uploaders' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'edit' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'uploaders' }],
    }).expect(201);
  });
  after(async () => { await t.close(); });

  test('slow uploaders that keep coming back cannot starve another user past a few timeouts (fair queuing)', async () => {
    const slow = t.server.credentials.token({ username: 'slow', groups: ['uploaders'] }, 3600);
    const bob = t.server.credentials.token({ username: 'bob', groups: ['uploaders'] }, 3600);
    // Up to three rounds: on a machine loaded by the rest of the suite, timer lag can let the attacker's
    // retries win every seat of one round; without fair queuing bob would lose every round.
    let lastError: unknown;
    for (let round = 0; round < 3; round++) {
      try {
        await assertNoStarvation(t, slow, bob, 12, true);
        return;
      } catch (error) {
        lastError = error;
      }
    }
    throw lastError;
  });
});
