// API Priority and Fairness driven by the stored objects: the matcher follows match.go, the
// configuration is digested as kube-apiserver's config controller does it (precedence then name,
// dangling schemas skipped, seats from shares), a queue set keeps its waiters across a change, and
// over HTTPS a FlowSchema or PriorityLevelConfiguration created, edited or deleted changes how the
// next requests are classified and limited.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { ClientRequest } from 'node:http';
import { request } from 'node:https';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeObject } from '../api/object.ts';
import { BOOTSTRAP_OBJECTS } from '../server/flow-control/bootstrap-configuration.ts';
import { classifyRequest, compileConfiguration } from '../server/flow-control/configuration.ts';
import { matchesRules, parseRules } from '../server/flow-control/match.ts';
import { QueueSet, type Admission, type PendingAdmission } from '../server/flow-control/queue-set.ts';
import { apiServerMetrics } from '../server/metrics/api-server-metrics.ts';
import { parseRequestInfo } from '../server/request-info.ts';
import { startApiServer, type RunningApiServer } from '../server/start.ts';
import { callApi, type Credentials, type RawResponse } from './helpers/auth-client.ts';

const info = (method: string, path: string) => parseRequestInfo(method, path, new URLSearchParams());
const user = (username: string, ...groups: string[]) => ({ username, groups: [...groups, 'system:authenticated'] });
const FLOWCONTROL = '/apis/flowcontrol.apiserver.k8s.io/v1';

const priorityLevel = (name: string, limited: Record<string, unknown>, uid?: string): KubeObject => ({
  apiVersion: 'flowcontrol.apiserver.k8s.io/v1', kind: 'PriorityLevelConfiguration', metadata: { name, ...(uid ? { uid } : {}) },
  spec: { type: 'Limited', limited },
});
const flowSchema = (name: string, level: string, matchingPrecedence: number, rules: unknown[], distinguisher = 'ByUser'): KubeObject => ({
  apiVersion: 'flowcontrol.apiserver.k8s.io/v1', kind: 'FlowSchema', metadata: { name },
  spec: { priorityLevelConfiguration: { name: level }, matchingPrecedence, distinguisherMethod: { type: distinguisher }, rules },
});
const rejectOne = { nominalConcurrencyShares: 1, limitResponse: { type: 'Reject' } };

describe('matching a request to FlowSchema rules (match.go)', () => {
  const rules = (rule: Record<string, unknown>) => parseRules([rule]);

  test('subjects: users, groups, service accounts with `*` names', () => {
    const resource = { resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'], namespaces: ['*'], clusterScope: true }] };
    const pods = info('GET', '/api/v1/namespaces/a/pods');
    const matches = (subjects: unknown[], who: ReturnType<typeof user>) => matchesRules(rules({ subjects, ...resource }), who, pods);
    assert.equal(matches([{ kind: 'User', user: { name: 'bob' } }], user('bob')), true);
    assert.equal(matches([{ kind: 'User', user: { name: 'bob' } }], user('alice')), false);
    assert.equal(matches([{ kind: 'User', user: { name: '*' } }], user('alice')), true);
    assert.equal(matches([{ kind: 'Group', group: { name: 'dev' } }], user('alice', 'dev')), true);
    assert.equal(matches([{ kind: 'Group', group: { name: 'dev' } }], user('alice', 'ops')), false);
    const sa = user('system:serviceaccount:ns1:robot', 'system:serviceaccounts');
    assert.equal(matches([{ kind: 'ServiceAccount', serviceAccount: { namespace: 'ns1', name: 'robot' } }], sa), true);
    assert.equal(matches([{ kind: 'ServiceAccount', serviceAccount: { namespace: 'ns1', name: '*' } }], sa), true);
    assert.equal(matches([{ kind: 'ServiceAccount', serviceAccount: { namespace: 'ns', name: '*' } }], sa), false, 'ns is a prefix of ns1, not its namespace');
    assert.equal(matches([{ kind: 'ServiceAccount', serviceAccount: { namespace: 'ns1', name: 'other' } }], sa), false);
    // A malformed subject (no user member) matches nobody.
    assert.equal(matches([{ kind: 'User' }], user('alice')), false);
  });

  test('resource rules: verbs, groups, resource/subresource, cluster scope, namespaces; `*` only alone', () => {
    const everyone = [{ kind: 'Group', group: { name: 'system:authenticated' } }];
    const rule = (resourceRule: Record<string, unknown>) => rules({ subjects: everyone, resourceRules: [resourceRule] });
    const alice = user('alice');
    const leases = rule({ verbs: ['get', 'update'], apiGroups: ['coordination.k8s.io'], resources: ['leases'], namespaces: ['kube-system'] });
    assert.equal(matchesRules(leases, alice, info('PUT', '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/x')), true);
    assert.equal(matchesRules(leases, alice, info('DELETE', '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/x')), false);
    assert.equal(matchesRules(leases, alice, info('GET', '/apis/coordination.k8s.io/v1/namespaces/default/leases/x')), false);
    assert.equal(matchesRules(leases, alice, info('GET', '/api/v1/namespaces/kube-system/configmaps/x')), false);
    const nodes = rule({ verbs: ['*'], apiGroups: [''], resources: ['nodes/status'], clusterScope: true });
    assert.equal(matchesRules(nodes, alice, info('PATCH', '/api/v1/nodes/n1/status')), true);
    assert.equal(matchesRules(nodes, alice, info('PATCH', '/api/v1/nodes/n1')), false, 'nodes/status names the subresource only');
    const namespacedOnly = rule({ verbs: ['*'], apiGroups: ['*'], resources: ['*'], namespaces: ['*'] });
    assert.equal(matchesRules(namespacedOnly, alice, info('GET', '/api/v1/nodes')), false, 'a cluster-scoped request needs clusterScope');
    assert.equal(matchesRules(namespacedOnly, alice, info('GET', '/api/v1/namespaces/x/pods')), true);
    const starAmongOthers = rule({ verbs: ['get', '*'], apiGroups: [''], resources: ['pods'], namespaces: ['*'] });
    assert.equal(matchesRules(starAmongOthers, alice, info('DELETE', '/api/v1/namespaces/x/pods/p')), false);
    // Resource rules never match a non-resource request.
    assert.equal(matchesRules(namespacedOnly, alice, info('GET', '/healthz')), false);
  });

  test('non-resource rules: exact paths, subtrees with `/*`, everything with `*`', () => {
    const everyone = [{ kind: 'Group', group: { name: 'system:authenticated' } }];
    const urls = (nonResourceURLs: string[]) => rules({ subjects: everyone, nonResourceRules: [{ verbs: ['get'], nonResourceURLs }] });
    const alice = user('alice');
    assert.equal(matchesRules(urls(['/healthz']), alice, info('GET', '/healthz')), true);
    assert.equal(matchesRules(urls(['/healthz']), alice, info('GET', '/livez')), false);
    assert.equal(matchesRules(urls(['/metrics/*']), alice, info('GET', '/metrics/slis')), true);
    assert.equal(matchesRules(urls(['/metrics/*']), alice, info('GET', '/metricsx')), false);
    assert.equal(matchesRules(urls(['*']), alice, info('GET', '/version')), true);
    assert.equal(matchesRules(urls(['*']), alice, info('POST', '/version')), false, 'the verb must match too');
    assert.equal(matchesRules(urls(['*']), alice, info('GET', '/api/v1/namespaces/a/pods')), false, 'non-resource rules never match a resource request');
  });
});

describe('the configuration digested from the objects', () => {
  const withObjects = (flowSchemas: KubeObject[], priorityLevels: KubeObject[], serverLimit = 600) => compileConfiguration({
    flowSchemas: [...BOOTSTRAP_OBJECTS.flowSchemas, ...flowSchemas], priorityLevels: [...BOOTSTRAP_OBJECTS.priorityLevels, ...priorityLevels],
  }, serverLimit);
  const bob = [{ subjects: [{ kind: 'User', user: { name: 'bob' } }], resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'], namespaces: ['*'], clusterScope: true }] }];
  const list = info('GET', '/api/v1/namespaces/default/pods');

  test('seats: ceil(server limit × shares / all shares, exempt included), lower and upper limits from the percentages', () => {
    const config = withObjects([], [priorityLevel('slow', { nominalConcurrencyShares: 5, lendablePercent: 40, borrowingLimitPercent: 10, limitResponse: { type: 'Reject' } })]);
    // Bootstrap shares: 30 + 40 + 10 + 40 + 100 + 20 + 5 (+ exempt 0) = 245; with 5 more, 250.
    const slow = config.levels.get('slow')!;
    assert.deepEqual([slow.nominalLimitSeats, slow.lowerLimitSeats, slow.upperLimitSeats], [12, 7, 13]);
    const workloadLow = config.levels.get('workload-low')!;
    // 600 × 100 / 250 = 240; lendable 90 % → 24; no borrowing limit → up to the server limit more.
    assert.deepEqual([workloadLow.nominalLimitSeats, workloadLow.lowerLimitSeats, workloadLow.upperLimitSeats], [240, 24, 840]);
    assert.equal(config.levels.get('exempt')!.exempt, true);
  });

  test('precedence, then name; a schema whose level is missing or unusable is skipped', () => {
    const dangling = withObjects([flowSchema('b-bob', 'nowhere', 500, bob)], []);
    assert.equal(classifyRequest(dangling, user('bob'), list).flowSchema.name, 'global-default');
    const tied = withObjects([flowSchema('b-bob', 'slow', 500, bob), flowSchema('a-bob', 'workload-high', 500, bob)], [priorityLevel('slow', rejectOne)]);
    assert.equal(classifyRequest(tied, user('bob'), list).flowSchema.name, 'a-bob');
    const exemptByAnotherName = withObjects([flowSchema('b-bob', 'fake-exempt', 500, bob)], [{
      apiVersion: 'flowcontrol.apiserver.k8s.io/v1', kind: 'PriorityLevelConfiguration', metadata: { name: 'fake-exempt' }, spec: { type: 'Exempt', exempt: {} },
    }]);
    assert.equal(classifyRequest(exemptByAnotherName, user('bob'), list).flowSchema.name, 'global-default');
    assert.equal(exemptByAnotherName.levels.has('fake-exempt'), false);
    const broken = withObjects([flowSchema('b-bob', 'broken', 500, bob)], [{
      apiVersion: 'flowcontrol.apiserver.k8s.io/v1', kind: 'PriorityLevelConfiguration', metadata: { name: 'broken' }, spec: { type: 'Limited' },
    }]);
    assert.equal(classifyRequest(broken, user('bob'), list).flowSchema.name, 'global-default');
  });

  test('the mandatory objects are imagined while missing; flows are told apart only with more than one queue', () => {
    const config = compileConfiguration({ flowSchemas: [], priorityLevels: [] }, 600);
    assert.deepEqual(config.flowSchemas.map((schema) => schema.name), ['exempt', 'catch-all']);
    const classified = classifyRequest(config, user('alice'), list);
    assert.deepEqual([classified.flowSchema.name, classified.level.name, classified.level.queuing], ['catch-all', 'catch-all', undefined]);
    assert.equal(classified.flowKey, classifyRequest(config, user('carol'), list).flowKey, 'a Reject level has no queues to deal flows to');
    const bootstrap = compileConfiguration(BOOTSTRAP_OBJECTS, 600);
    assert.notEqual(classifyRequest(bootstrap, user('alice'), list).flowKey, classifyRequest(bootstrap, user('carol'), list).flowKey);
  });
});

describe('a queue set reconfigured while requests wait', () => {
  const seated = (admission: Admission | PendingAdmission) => {
    assert.equal(admission.admitted, true);
    return admission as Extract<Admission, { admitted: true }>;
  };

  test('more seats dispatch waiters at once; new queues keep them waiting; a level that now rejects drains them', async () => {
    const base = { concurrencyLimit: 1, queues: 4, handSize: 2, queueLengthLimit: 10, waitLimitMs: 60_000 };
    const set = new QueueSet(base);
    const first = seated(set.admit('a'));
    const waiting = [set.admit('a'), set.admit('b'), set.admit('c')] as PendingAdmission[];
    set.reconfigure({ ...base, queues: 16, handSize: 4 });
    assert.deepEqual([set.executingCount, set.waitingCount], [1, 3]);
    set.reconfigure({ ...base, queues: 16, handSize: 4, concurrencyLimit: 2 });
    assert.equal((await waiting[0].pending).admitted, true);
    assert.deepEqual([set.executingCount, set.waitingCount], [2, 2]);
    set.reconfigure({ ...base, concurrencyLimit: 2, queues: 0, handSize: 0, queueLengthLimit: 0 });
    assert.deepEqual(set.admit('d'), { admitted: false, reason: 'concurrency-limit' }, 'a Reject level takes no new waiters, nor seats ahead of old ones');
    first.release();
    assert.equal((await waiting[1].pending).admitted, true);
    waiting[2].cancel();
    assert.deepEqual(await waiting[2].pending, { admitted: false, reason: 'cancelled' });
    assert.equal(set.waitingCount, 0);
  });
});

describe('flow control objects over HTTPS', () => {
  let dir: string;
  let server: RunningApiServer;
  let alice: Credentials;
  let bob: Credentials;
  const admin = () => ({ token: server.adminToken });
  const pod = (name: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'c', image: 'nginx' }] } });
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  /** Starts a pod create whose body is only half sent: it holds a seat until finish() sends the rest. */
  function slowCreate(credentials: Credentials, name: string) {
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

  const uidOf = async (resource: string, name: string): Promise<string> => {
    const res = await callApi(server, 'GET', `${FLOWCONTROL}/${resource}/${name}`, admin());
    assert.equal(res.status, 200, res.text);
    return (res.body as KubeObject).metadata.uid as string;
  };
  const headersOf = (res: RawResponse) => [res.headers['x-kubernetes-pf-flowschema-uid'], res.headers['x-kubernetes-pf-prioritylevel-uid']];

  /** Repeats a quick request until it is classified as expected; fails if that takes a second or more. */
  async function classifiedWithinASecond(credentials: Credentials, flowSchemaUid: string, levelUid: string): Promise<number> {
    const started = Date.now();
    for (;;) {
      const res = await callApi(server, 'GET', '/api/v1/namespaces/default/configmaps', credentials);
      const elapsed = Date.now() - started;
      if (res.headers['x-kubernetes-pf-flowschema-uid'] === flowSchemaUid && res.headers['x-kubernetes-pf-prioritylevel-uid'] === levelUid) return elapsed;
      assert.ok(elapsed < 1_000, `still ${headersOf(res).join(' / ')} after ${elapsed} ms`);
      await sleep(20);
    }
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kubefacade-flowcontrol-objects-'));
    // Server limit 1: every limited level has one seat (shares are rounded up).
    server = await startApiServer({
      bind: '127.0.0.1', port: 0, tlsSans: [], dataDir: dir, disableAdmissionPlugins: ['ServiceAccount'],
      flowControl: { maxRequestsInflight: 1, maxMutatingRequestsInflight: 0, priorityAndFairness: true },
    });
    const binding = await callApi(server, 'POST', '/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings', admin(), {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'editors' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'edit' },
      subjects: [{ kind: 'User', name: 'alice' }, { kind: 'User', name: 'bob' }, { kind: 'Group', name: 'system:serviceaccounts' }],
    });
    assert.equal(binding.status, 201, binding.text);
    alice = { token: server.credentials.token({ username: 'alice', groups: [] }, 3600) };
    bob = { token: server.credentials.token({ username: 'bob', groups: [] }, 3600) };
  });

  after(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('the headers carry the stored objects\' UIDs', async () => {
    const res = await callApi(server, 'GET', '/api/v1/namespaces/default/configmaps', alice);
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(headersOf(res), [await uidOf('flowschemas', 'global-default'), await uidOf('prioritylevelconfigurations', 'global-default')]);
  });

  test('a FlowSchema for bob at precedence 500 on a new one-seat Reject level: his concurrent requests get 429, alice is unaffected; editing it away restores', async () => {
    const level = await callApi(server, 'POST', `${FLOWCONTROL}/prioritylevelconfigurations`, admin(), priorityLevel('one-seat', rejectOne));
    assert.equal(level.status, 201, level.text);
    const bobRules = [{ subjects: [{ kind: 'User', user: { name: 'bob' } }], resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'], namespaces: ['*'], clusterScope: true }] }];
    const schema = await callApi(server, 'POST', `${FLOWCONTROL}/flowschemas`, admin(), flowSchema('bob-is-slow', 'one-seat', 500, bobRules));
    assert.equal(schema.status, 201, schema.text);
    const schemaUid = (schema.body as KubeObject).metadata.uid as string;
    const levelUid = (level.body as KubeObject).metadata.uid as string;
    await classifiedWithinASecond(bob, schemaUid, levelUid);

    const holder = slowCreate(bob, 'bob-first');
    // The holder has the seat once the level counts it executing (a busy machine can take a while).
    for (let tries = 0; ; tries++) {
      const metrics = await callApi(server, 'GET', '/metrics', admin());
      if (/apiserver_flowcontrol_current_executing_requests\{priority_level="one-seat",flow_schema="bob-is-slow"\} 1/.test(metrics.text)) break;
      assert.ok(tries < 200, 'the slow create never took the seat');
      await sleep(25);
    }
    const rejected = await callApi(server, 'POST', '/api/v1/namespaces/default/pods', bob, pod('bob-second'));
    assert.equal(rejected.status, 429);
    assert.equal(rejected.text, 'Too many requests, please try again later.\n');
    assert.equal(rejected.headers['retry-after'], '1');
    assert.deepEqual(headersOf(rejected), [schemaUid, levelUid]);
    const byAlice = await callApi(server, 'POST', '/api/v1/namespaces/default/pods', alice, pod('alice-first'));
    assert.equal(byAlice.status, 201, byAlice.text);
    assert.equal((await callApi(server, 'GET', '/api/v1/namespaces/default/pods/bob-second', admin())).status, 404, 'the rejected create changed nothing');

    const metrics = await callApi(server, 'GET', '/metrics', admin());
    assert.match(metrics.text, /apiserver_flowcontrol_rejected_requests_total\{priority_level="one-seat",flow_schema="bob-is-slow",reason="concurrency-limit"\} 1/);
    assert.match(metrics.text, /apiserver_flowcontrol_nominal_limit_seats\{priority_level="one-seat"\} 1/);
    assert.match(metrics.text, /apiserver_flowcontrol_current_executing_requests\{priority_level="one-seat",flow_schema="bob-is-slow"\} 1/);
    assert.match(metrics.text, /apiserver_flowcontrol_current_executing_seats\{priority_level="one-seat",flow_schema="bob-is-slow"\} 1/);
    // The holder and the quick requests before it ran at once, the second create did not run.
    assert.match(metrics.text, /apiserver_flowcontrol_request_wait_duration_seconds_bucket\{le="0.005",priority_level="one-seat",flow_schema="bob-is-slow",execute="true"\} [1-9]/);
    assert.match(metrics.text, /apiserver_flowcontrol_request_wait_duration_seconds_count\{priority_level="one-seat",flow_schema="bob-is-slow",execute="false"\} 1/);

    // Edited to name someone else: bob is back on global-default while his first create still holds the one-seat level.
    const current = await callApi(server, 'GET', `${FLOWCONTROL}/flowschemas/bob-is-slow`, admin());
    const edited = current.body as KubeObject & { spec: { rules: { subjects: unknown[] }[] } };
    edited.spec.rules[0].subjects = [{ kind: 'User', user: { name: 'somebody-else' } }];
    assert.equal((await callApi(server, 'PUT', `${FLOWCONTROL}/flowschemas/bob-is-slow`, admin(), edited)).status, 200);
    await classifiedWithinASecond(bob, await uidOf('flowschemas', 'global-default'), await uidOf('prioritylevelconfigurations', 'global-default'));
    const again = await callApi(server, 'POST', '/api/v1/namespaces/default/pods', bob, pod('bob-second'));
    assert.equal(again.status, 201, again.text);
    holder.finish();
    assert.equal((await holder.response).status, 201);
  });

  test('a FlowSchema naming a missing level is skipped until the level exists', async () => {
    const aliceRules = [{ subjects: [{ kind: 'User', user: { name: 'alice' } }], resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'], namespaces: ['*'], clusterScope: true }] }];
    const schema = await callApi(server, 'POST', `${FLOWCONTROL}/flowschemas`, admin(), flowSchema('alice-later', 'not-yet', 300, aliceRules));
    assert.equal(schema.status, 201, schema.text);
    await sleep(300);
    const before = await callApi(server, 'GET', '/api/v1/namespaces/default/configmaps', alice);
    assert.equal(before.headers['x-kubernetes-pf-flowschema-uid'], await uidOf('flowschemas', 'global-default'));
    const level = await callApi(server, 'POST', `${FLOWCONTROL}/prioritylevelconfigurations`, admin(), priorityLevel('not-yet', rejectOne));
    assert.equal(level.status, 201, level.text);
    await classifiedWithinASecond(alice, (schema.body as KubeObject).metadata.uid as string, (level.body as KubeObject).metadata.uid as string);
    assert.equal((await callApi(server, 'DELETE', `${FLOWCONTROL}/flowschemas/alice-later`, admin())).status, 200);
    await classifiedWithinASecond(alice, await uidOf('flowschemas', 'global-default'), await uidOf('prioritylevelconfigurations', 'global-default'));
  });

  test('deleting a suggested FlowSchema moves its traffic to the next match', async () => {
    const robot = { token: server.credentials.token({ username: 'system:serviceaccount:app:robot', groups: ['system:serviceaccounts', 'system:serviceaccounts:app'] }, 3600) };
    await classifiedWithinASecond(robot, await uidOf('flowschemas', 'service-accounts'), await uidOf('prioritylevelconfigurations', 'workload-low'));
    assert.equal((await callApi(server, 'DELETE', `${FLOWCONTROL}/flowschemas/service-accounts`, admin())).status, 200);
    await classifiedWithinASecond(robot, await uidOf('flowschemas', 'global-default'), await uidOf('prioritylevelconfigurations', 'global-default'));
  });

  test('what validation refuses never reaches the filter', async () => {
    // (queues: 0 is defaulted to 64, as upstream's v1 defaulting does.)
    const bigHands = priorityLevel('big-hands', { nominalConcurrencyShares: 1, limitResponse: { type: 'Queue', queuing: { queues: 4, handSize: 8, queueLengthLimit: 1 } } });
    const refused = await callApi(server, 'POST', `${FLOWCONTROL}/prioritylevelconfigurations`, admin(), bigHands);
    assert.equal(refused.status, 422, refused.text);
    assert.match(refused.text, /spec\.limited\.limitResponse\.queuing\.handSize: Invalid value: 8: should not be greater than queues \(4\)/);
    assert.equal((await callApi(server, 'GET', `${FLOWCONTROL}/prioritylevelconfigurations/big-hands`, admin())).status, 404);
    const res = await callApi(server, 'GET', '/api/v1/namespaces/default/configmaps', alice);
    assert.equal(res.status, 200);
  });

  test('a stopped server\'s priority levels leave the process-wide metrics', async () => {
    assert.match(await apiServerMetrics.registry.metrics(), /apiserver_flowcontrol_nominal_limit_seats\{priority_level="one-seat"\}/);
    await server.close();
    // (The request counters are the process's: they keep what they counted.)
    assert.doesNotMatch(await apiServerMetrics.registry.metrics(), /apiserver_flowcontrol_(nominal_limit_seats|lower_limit_seats|upper_limit_seats|current_executing_requests|current_inqueue_requests)\{priority_level="one-seat"/);
  });
});
