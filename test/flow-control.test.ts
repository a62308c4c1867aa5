// Flow control: the bootstrap FlowSchemas classify requests as kube-apiserver's do; a priority
// level's queue set hands out seats, queues fairly and rejects when full; over HTTPS a request
// beyond its level's seats waits until one frees (admins never wait), and the max-in-flight filter
// answers 429 as kube-apiserver does.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { ClientRequest } from 'node:http';
import { request } from 'node:https';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Request, Response } from 'express';
import { classify } from '../server/flow-control/bootstrap-configuration.ts';
import { flowControlFilter } from '../server/flow-control/filter.ts';
import { QueueSet, dealHand, type Admission, type PendingAdmission } from '../server/flow-control/queue-set.ts';
import { parseRequestInfo } from '../server/request-info.ts';
import { startApiServer, type RunningApiServer } from '../server/start.ts';
import { callApi, type Credentials, type RawResponse } from './helpers/auth-client.ts';

const info = (method: string, path: string, query = '') => parseRequestInfo(method, path, new URLSearchParams(query));
const user = (username: string, ...groups: string[]) => ({ username, groups: [...groups, 'system:authenticated'] });

describe('bootstrap flow schemas', () => {
  const cases: [string, ReturnType<typeof user>, ReturnType<typeof info>, string, string][] = [
    ['admin', user('kubernetes-admin', 'system:masters'), info('POST', '/api/v1/namespaces/default/pods'), 'exempt', 'exempt'],
    ['node lease renewal', user('system:node:n1', 'system:nodes'), info('PUT', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n1'), 'system-node-high', 'node-high'],
    ['node status', user('system:node:n1', 'system:nodes'), info('PATCH', '/api/v1/nodes/n1/status'), 'system-node-high', 'node-high'],
    ['kubelet pod status', user('system:node:n1', 'system:nodes'), info('PATCH', '/api/v1/namespaces/default/pods/p/status'), 'system-nodes', 'system'],
    ['kubelet event', user('system:node:n1', 'system:nodes'), info('POST', '/api/v1/namespaces/default/events'), 'system-nodes', 'system'],
    ['scheduler binding', user('system:kube-scheduler'), info('POST', '/api/v1/namespaces/default/pods/p/binding'), 'kube-scheduler', 'workload-high'],
    ['scheduler leader lease', user('system:kube-scheduler'), info('PUT', '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-scheduler'), 'system-leader-election', 'leader-election'],
    ['kube-system service account', user('system:serviceaccount:kube-system:x', 'system:serviceaccounts'), info('GET', '/api/v1/pods'), 'kube-system-service-accounts', 'workload-high'],
    ['other service account', user('system:serviceaccount:app:x', 'system:serviceaccounts'), info('GET', '/api/v1/pods'), 'service-accounts', 'workload-low'],
    ['a user', user('alice', 'dev'), info('GET', '/api/v1/namespaces/default/pods'), 'global-default', 'global-default'],
    ['a probe', user('alice'), info('GET', '/readyz'), 'probes', 'exempt'],
  ];
  for (const [name, who, what, schema, level] of cases) {
    test(name, () => {
      const { flowSchema } = classify(who, what);
      assert.deepEqual([flowSchema.name, flowSchema.priorityLevel], [schema, level]);
    });
  }

  test('flows are told apart by user or namespace as the schema says', () => {
    const lease = info('PUT', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n1');
    assert.notEqual(classify(user('system:node:n1', 'system:nodes'), lease).flowKey, classify(user('system:node:n2', 'system:nodes'), lease).flowKey);
    const scheduler = user('system:kube-scheduler');
    assert.equal(classify(scheduler, info('POST', '/api/v1/namespaces/a/pods/p/binding')).flowKey, classify(scheduler, info('GET', '/api/v1/namespaces/a/pods/q')).flowKey);
    assert.notEqual(classify(scheduler, info('POST', '/api/v1/namespaces/a/pods/p/binding')).flowKey, classify(scheduler, info('POST', '/api/v1/namespaces/b/pods/p/binding')).flowKey);
  });
});

describe('queue set', () => {
  const config = { concurrencyLimit: 2, queues: 8, handSize: 2, queueLengthLimit: 3, waitLimitMs: 60_000 };
  const seated = (admission: Admission | PendingAdmission) => {
    assert.equal(admission.admitted, true);
    return admission as Extract<Admission, { admitted: true }>;
  };

  test('a hand is distinct queues of the deck, the same for the same flow', () => {
    for (const flow of ['a', 'system-nodes\u0000system:node:n1', 'x'.repeat(300)]) {
      const hand = dealHand(flow, 128, 6);
      assert.equal(new Set(hand).size, 6);
      assert.ok(hand.every((index) => Number.isInteger(index) && index >= 0 && index < 128));
      assert.deepEqual(dealHand(flow, 128, 6), hand);
    }
    const hands = new Set(Array.from({ length: 200 }, (_, i) => dealHand(`flow-${i}`, 64, 6).join(',')));
    assert.ok(hands.size > 190, `200 flows got only ${hands.size} different hands`);
  });

  test('seats up to the limit, then waiting; a freed seat goes to the oldest waiter of the next queue', async () => {
    const set = new QueueSet(config);
    const first = seated(set.admit('a'));
    seated(set.admit('a'));
    const waiting = set.admit('a') as PendingAdmission;
    assert.equal(waiting.admitted, 'pending');
    assert.deepEqual([set.executingCount, set.waitingCount], [2, 1]);
    first.release();
    first.release(); // a second release must not free a second seat
    const admitted = await waiting.pending;
    assert.equal(admitted.admitted, true);
    assert.deepEqual([set.executingCount, set.waitingCount], [2, 0]);
  });

  test('a busy flow does not starve a quiet one: turns alternate between queues', async () => {
    const set = new QueueSet({ ...config, concurrencyLimit: 1, queueLengthLimit: 100 });
    let running = seated(set.admit('busy'));
    const order: string[] = [];
    const wait = (flow: string) => {
      const pending = set.admit(flow) as PendingAdmission;
      void pending.pending.then((admission) => {
        order.push(flow);
        if (admission.admitted) running = admission;
      });
    };
    for (let i = 0; i < 6; i++) wait('busy');
    wait('quiet');
    for (let i = 0; i < 3; i++) {
      running.release();
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.ok(order.slice(0, 3).includes('quiet'), `quiet waited behind ${order.join(', ')}`);
  });

  test('fair turns by service: a quiet flow is served within one round of a busy flow\'s queues, and an idle flow claims no back pay', async () => {
    // 128 queues, hands of 6 (global-default): the busy flow fills all six of its queues.
    const set = new QueueSet({ concurrencyLimit: 1, queues: 128, handSize: 6, queueLengthLimit: 50, waitLimitMs: 60_000 });
    let running = seated(set.admit('busy'));
    const order: string[] = [];
    const wait = (flow: string) => {
      const pending = set.admit(flow) as PendingAdmission;
      void pending.pending.then((admission) => {
        order.push(flow);
        if (admission.admitted) running = admission;
      });
    };
    const turn = async (): Promise<void> => {
      running.release();
      await new Promise((resolve) => setImmediate(resolve));
    };
    for (let i = 0; i < 40; i++) wait('busy');
    for (let i = 0; i < 20; i++) await turn();
    wait('quiet');
    for (let i = 0; i < 6; i++) await turn();
    assert.ok(order.slice(20).includes('quiet'), `quiet waited more than a round: ${order.slice(20).join(', ')}`);
    // The busy flow had 20 turns alone; a new flow arriving now is levelled with it, so the busy
    // flow keeps getting turns (it is not made to wait 20 turns for the newcomer).
    for (let i = 0; i < 12; i++) wait('newcomer');
    for (let i = 0; i < 8; i++) await turn();
    const recent = order.slice(-8);
    assert.ok(recent.filter((flow) => flow === 'busy').length >= 3, `the busy flow was starved by a newcomer: ${recent.join(', ')}`);
  });

  test('a full queue rejects at once; a wait past the limit and a cancel reject the waiter', async () => {
    const set = new QueueSet({ ...config, concurrencyLimit: 1, queues: 1, handSize: 1, queueLengthLimit: 2, waitLimitMs: 50 });
    seated(set.admit('a'));
    const timedOut = set.admit('a') as PendingAdmission;
    const cancelled = set.admit('b') as PendingAdmission;
    assert.deepEqual(set.admit('c'), { admitted: false, reason: 'queue-full' });
    cancelled.cancel();
    assert.deepEqual(await cancelled.pending, { admitted: false, reason: 'cancelled' });
    // The wait timer is unref'd (a queued request's connection keeps the server alive): hold the loop open.
    const keepAlive = setInterval(() => undefined, 1_000);
    assert.deepEqual(await timedOut.pending, { admitted: false, reason: 'time-out' });
    clearInterval(keepAlive);
    assert.equal(set.waitingCount, 0);
  });

  test('a level that rejects instead of queuing', () => {
    const set = new QueueSet({ ...config, concurrencyLimit: 1, queues: 0 });
    seated(set.admit('a'));
    // Upstream's queueset counts this rejection as `concurrency-limit` (a full queue is `queue-full`).
    assert.deepEqual(set.admit('a'), { admitted: false, reason: 'concurrency-limit' });
  });
});

describe('the filter', () => {
  class FakeResponse extends EventEmitter {
    statusCode = 200;
    headers: Record<string, string> = {};
    body: string | undefined;
    destroyed = false;
    setHeader(name: string, value: string) { this.headers[name.toLowerCase()] = value; return this; }
    status(code: number) { this.statusCode = code; return this; }
    end(text: string) { this.body = text; this.emit('close'); }
  }
  const req = {} as Request;
  const asResponse = (res: FakeResponse) => res as unknown as Response;

  test('priority and fairness: a full queue answers 429 as kube-apiserver does; watches never wait', () => {
    // Server limit 1: global-default has one seat, 128 queues of 50, hands of 6.
    const filter = flowControlFilter({ maxRequestsInflight: 1, maxMutatingRequestsInflight: 0, priorityAndFairness: true });
    const alice = user('alice');
    const list = info('GET', '/api/v1/namespaces/default/pods');
    let ran = 0;
    const responses = Array.from({ length: 6 * 50 + 2 }, () => new FakeResponse());
    for (const res of responses) filter(req, asResponse(res), alice, list, () => ran++);
    assert.equal(ran, 1);
    const rejected = responses.at(-1) as FakeResponse;
    assert.equal(rejected.statusCode, 429);
    assert.equal(rejected.body, 'Too many requests, please try again later.\n');
    assert.equal(rejected.headers['retry-after'], '1');
    assert.match(rejected.headers['content-type'], /^text\/plain/);
    assert.match(rejected.headers['x-kubernetes-pf-prioritylevel-uid'], /^[0-9a-f]{8}-[0-9a-f]{4}-/);
    assert.ok(responses.slice(1, -1).every((res) => res.body === undefined), 'the queued requests neither ran nor were answered');
    filter(req, asResponse(new FakeResponse()), alice, info('GET', '/api/v1/namespaces/default/pods', 'watch=true'), () => ran++);
    filter(req, asResponse(new FakeResponse()), user('admin', 'system:masters'), list, () => ran++);
    assert.equal(ran, 3);
  });

  test('max in flight: mutating and read-only limits apart, 429 at once, system:masters never limited', () => {
    const filter = flowControlFilter({ maxRequestsInflight: 1, maxMutatingRequestsInflight: 1, priorityAndFairness: false });
    const alice = user('alice');
    const create = info('POST', '/api/v1/namespaces/default/pods');
    let ran = 0;
    const holding = new FakeResponse();
    filter(req, asResponse(holding), alice, create, () => ran++);
    const rejected = new FakeResponse();
    filter(req, asResponse(rejected), alice, create, () => ran++);
    assert.equal(rejected.statusCode, 429);
    filter(req, asResponse(new FakeResponse()), alice, info('GET', '/api/v1/namespaces/default/pods'), () => ran++);
    filter(req, asResponse(new FakeResponse()), user('admin', 'system:masters'), create, () => ran++);
    assert.equal(ran, 3);
    holding.emit('close');
    filter(req, asResponse(new FakeResponse()), alice, create, () => ran++);
    assert.equal(ran, 4);
  });
});

describe('flow control over HTTPS', () => {
  let dir: string;
  let queued: RunningApiServer;
  let limited: RunningApiServer;
  let alice: Credentials;
  let aliceOnLimited: Credentials;
  const pod = (name: string) => ({
    apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'c', image: 'nginx' }] },
  });

  /** Starts a pod create whose body is only half sent: it holds a seat until finish() sends the rest. */
  function slowCreate(server: RunningApiServer, credentials: Credentials, name: string) {
    const payload = Buffer.from(JSON.stringify(pod(name)));
    let req: ClientRequest;
    const response = new Promise<RawResponse>((resolve, reject) => {
      req = request(`${server.url}/api/v1/namespaces/default/pods`, {
        method: 'POST', ca: server.caCertPem, agent: false,
        headers: { Authorization: `Bearer ${credentials.token}`, 'Content-Type': 'application/json', 'Content-Length': payload.length },
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString(), body: undefined }));
      });
      req.on('error', reject);
      req.write(payload.subarray(0, 10));
    });
    return { response, finish: () => req.end(payload.subarray(10)) };
  }

  const settledWithin = <T>(promise: Promise<T>, ms: number) =>
    Promise.race([promise.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms))]);

  const grantEdit = async (server: RunningApiServer) => {
    const res = await callApi(server, 'POST', '/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings', { token: server.adminToken }, {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'alice-edits' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'edit' }, subjects: [{ kind: 'User', name: 'alice' }],
    });
    assert.equal(res.status, 201, res.text);
    return { token: server.credentials.token({ username: 'alice', groups: [] }, 3600) };
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kubefacade-flowcontrol-'));
    const base = { bind: '127.0.0.1', port: 0, tlsSans: [], disableAdmissionPlugins: ['ServiceAccount'] };
    // Server limit 1: every limited level has exactly one seat.
    queued = await startApiServer({ ...base, dataDir: join(dir, 'queued'), flowControl: { maxRequestsInflight: 1, maxMutatingRequestsInflight: 0, priorityAndFairness: true } });
    limited = await startApiServer({ ...base, dataDir: join(dir, 'limited'), flowControl: { maxRequestsInflight: 1, maxMutatingRequestsInflight: 1, priorityAndFairness: false } });
    alice = await grantEdit(queued);
    aliceOnLimited = await grantEdit(limited);
  });

  after(async () => {
    await queued?.close();
    await limited?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('a request beyond its level\'s seats waits for one; an admin does not wait', async () => {
    const holder = slowCreate(queued, alice, 'first');
    await new Promise((resolve) => setTimeout(resolve, 200));
    const second = callApi(queued, 'POST', '/api/v1/namespaces/default/pods', alice, pod('second'));
    assert.equal(await settledWithin(second, 300), false, 'the second create ran while the first held the only seat');
    const adminRead = await callApi(queued, 'GET', '/api/v1/namespaces/default/pods', { token: queued.adminToken });
    assert.equal(adminRead.status, 200);
    holder.finish();
    assert.equal((await holder.response).status, 201);
    const secondResponse = await second;
    assert.equal(secondResponse.status, 201, secondResponse.text);
    assert.match(String(secondResponse.headers['x-kubernetes-pf-flowschema-uid']), /^[0-9a-f-]{36}$/);
    const list = await callApi(queued, 'GET', '/api/v1/namespaces/default/pods', alice);
    assert.deepEqual((list.body as { items: { metadata: { name: string } }[] }).items.map((item) => item.metadata.name).sort(), ['first', 'second']);
  });

  test('max in flight: a second mutating request gets 429 and changes nothing; reads and admins go on', async () => {
    const holder = slowCreate(limited, aliceOnLimited, 'held');
    await new Promise((resolve) => setTimeout(resolve, 200));
    const rejected = await callApi(limited, 'POST', '/api/v1/namespaces/default/pods', aliceOnLimited, pod('rejected'));
    assert.equal(rejected.status, 429);
    assert.equal(rejected.text, 'Too many requests, please try again later.\n');
    assert.equal(rejected.headers['retry-after'], '1');
    assert.equal((await callApi(limited, 'GET', '/api/v1/namespaces/default/pods', aliceOnLimited)).status, 200);
    assert.equal((await callApi(limited, 'POST', '/api/v1/namespaces/default/pods', { token: limited.adminToken }, pod('by-admin'))).status, 201);
    holder.finish();
    assert.equal((await holder.response).status, 201);
    const missing = await callApi(limited, 'GET', '/api/v1/namespaces/default/pods/rejected', aliceOnLimited);
    assert.equal(missing.status, 404);
  });
});
