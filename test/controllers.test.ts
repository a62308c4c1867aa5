// The controller manager's parts: the rate-limited work queue and expectations as units; then the
// controllers against a real API server with no kubelets, where the test plays the kubelet (pod
// phases through pods/status) and the clock (the cronjob controller reads the context's clock).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ControllerRateLimiter, RateLimitingQueue } from '../controllers/framework/work-queue.ts';
import { ControllerExpectations } from '../controllers/framework/expectations.ts';
import { mostRecentSchedule, parseSchedule } from '../controllers/cronjob/cronjob-controller.ts';
import { computeTemplateHash, templatesEqualIgnoringHash } from '../controllers/deployment/util.ts';
import { newRSNewReplicas } from '../controllers/deployment/rollout.ts';
import { formatIndexes, parseIndexes } from '../controllers/job/job-status.ts';
import { runControllerManager, selectControllers, type RunningControllerManager } from '../controllers/manager.ts';
import type { WorkloadObject } from '../controllers/framework/object-views.ts';
import { eventually } from './helpers/cluster-processes.ts';
import { json, startTestServer, type TestServer } from './helpers/api-server.ts';

describe('work queue', () => {
  test('a key queued twice is handed out once; one queued while processing comes back after done()', async () => {
    const queue = new RateLimitingQueue();
    queue.add('a');
    queue.add('a');
    queue.add('b');
    assert.equal(queue.length, 2);
    assert.equal(await queue.get(), 'a');
    queue.add('a');
    assert.equal(await queue.get(), 'b');
    assert.equal(queue.length, 0, 'a is being processed: not handed to a second worker');
    queue.done('a');
    assert.equal(await queue.get(), 'a');
    queue.done('a');
    queue.done('b');
    queue.shutDown();
    assert.equal(await queue.get(), undefined);
  });

  test('per-item exponential backoff from 5 ms, reset by forget()', () => {
    const limiter = new ControllerRateLimiter({ baseDelayMs: 5, maxDelayMs: 1000, qps: 1e9, burst: 1e9 });
    assert.deepEqual([1, 2, 3, 4].map(() => limiter.when('x')), [5, 10, 20, 40]);
    assert.equal(limiter.numRequeues('x'), 4);
    for (let i = 0; i < 20; i++) limiter.when('x');
    assert.equal(limiter.when('x'), 1000);
    limiter.forget('x');
    assert.equal(limiter.when('x'), 5);
    assert.equal(limiter.when('y'), 5, 'keys back off independently');
  });

  test('expectations: satisfied once creations and the named deletions are observed', () => {
    const exp = new ControllerExpectations();
    exp.expectCreations('ns/rs', 2);
    assert.equal(exp.satisfied('ns/rs'), false);
    exp.creationObserved('ns/rs');
    exp.creationObserved('ns/rs');
    assert.equal(exp.satisfied('ns/rs'), true);
    exp.expectDeletions('ns/rs', ['ns/p1', 'ns/p2']);
    exp.deletionObserved('ns/rs', 'ns/p1');
    exp.deletionObserved('ns/rs', 'ns/p1');
    assert.equal(exp.satisfied('ns/rs'), false, 'the same pod observed twice counts once');
    exp.deletionObserved('ns/rs', 'ns/p2');
    assert.equal(exp.satisfied('ns/rs'), true);
  });
});

describe('controller arithmetic', () => {
  test('--controllers selects as kube-controller-manager does', () => {
    assert.ok(selectControllers('*').includes('garbagecollector'));
    assert.deepEqual(selectControllers('*,-garbagecollector,-nodelifecycle').includes('garbagecollector'), false);
    assert.deepEqual(selectControllers('job,cronjob'), ['job', 'cronjob']);
    // The service controllers `up` also runs, by their kube-controller-manager names.
    assert.deepEqual(selectControllers('endpointslice,endpoint'), ['endpoint', 'endpointslice']);
    assert.ok(selectControllers('*').includes('serviceaccount') && selectControllers('*').includes('resourcequota'));
    assert.throws(() => selectControllers('ttl-controller'), /"ttl-controller" is not in the list of known controllers/);
  });

  test('pod-template-hash ignores null and empty fields, as Semantic.DeepEqual does', () => {
    const a = { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } };
    const b = { metadata: { creationTimestamp: null, labels: { app: 'web', 'pod-template-hash': 'abc' } }, spec: { containers: [{ name: 'c', image: 'nginx' }], volumes: [] } };
    assert.ok(templatesEqualIgnoringHash(a, b));
    assert.equal(computeTemplateHash(a, undefined), computeTemplateHash({ ...a, metadata: { ...a.metadata, annotations: {} } }, undefined));
    assert.notEqual(computeTemplateHash(a, undefined), computeTemplateHash(a, 1), 'collisionCount changes the hash');
    assert.match(computeTemplateHash(a, undefined), /^[bcdfghjklmnpqrstvwxz2456789]+$/);
  });

  test('RollingUpdate surge: the new ReplicaSet grows by at most maxSurge above the desired count', () => {
    const d = { metadata: { name: 'd', uid: 'u' }, spec: { replicas: 10, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } } } } as WorkloadObject;
    const rs = (name: string, replicas: number) => ({ metadata: { name, uid: name }, spec: { replicas } }) as WorkloadObject;
    // 10 + ceil(2.5)=3 allowed in total.
    assert.equal(newRSNewReplicas(d, [rs('old', 10), rs('new', 0)], rs('new', 0)), 3);
    assert.equal(newRSNewReplicas(d, [rs('old', 8), rs('new', 3)], rs('new', 3)), 5);
    assert.equal(newRSNewReplicas({ ...d, spec: { replicas: 10, strategy: { type: 'Recreate' } } }, [rs('old', 10)], rs('new', 0)), 10);
  });

  test('completed indexes are written as intervals', () => {
    assert.equal(formatIndexes([5, 0, 2, 1, 7, 6]), '0-2,5-7');
    assert.deepEqual([...parseIndexes('0-2,5')], [0, 1, 2, 5]);
  });

  test('cron schedules: every minute, macros, time zones, missed runs', () => {
    const minute = parseSchedule('*/1 * * * *', undefined);
    const base = Date.parse('2026-01-01T00:00:30Z');
    assert.equal(mostRecentSchedule(minute, base, base + 20_000), undefined);
    assert.deepEqual(mostRecentSchedule(minute, base, base + 140_000), { timeMs: Date.parse('2026-01-01T00:02:00Z'), missed: 2 });
    const hourly = parseSchedule('@hourly', undefined);
    assert.equal(mostRecentSchedule(hourly, base, Date.parse('2026-01-01T01:00:00Z'))?.timeMs, Date.parse('2026-01-01T01:00:00Z'));
    const paris = parseSchedule('0 9 * * *', 'Europe/Paris');
    assert.equal(mostRecentSchedule(paris, base, Date.parse('2026-01-01T09:00:00Z'))?.timeMs, Date.parse('2026-01-01T08:00:00Z'));
  });
});

describe('controllers against an API server (the test plays kubelet and clock)', () => {
  let t: TestServer;
  let manager: RunningControllerManager;
  let nowMs = Date.now();
  const NS = '/apis/batch/v1/namespaces/default';

  before(async () => {
    t = await startTestServer('controllers');
    manager = await runControllerManager({
      kubeconfigPath: t.server.adminKubeconfigPath, controllers: ['replicaset', 'job', 'cronjob', 'garbagecollector'],
      logger: { info: () => undefined, warn: () => undefined }, now: () => nowMs,
    });
  });

  after(async () => {
    await manager?.stop();
    await t?.close();
  });

  const podsOf = async (selector: string): Promise<{ metadata: { name: string; ownerReferences?: unknown[] } }[]> =>
    (await t.call('get', `/api/v1/namespaces/default/pods?labelSelector=${encodeURIComponent(selector)}`).expect(200)).body.items;

  test('a Job completes when its pods succeed, counting completions, parallelism at a time', async () => {
    const job = {
      apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'count' },
      spec: { completions: 3, parallelism: 2, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } },
    };
    await json(t.call('post', `${NS}/jobs`), job).expect(201);
    const succeed = async (name: string) => json(t.call('patch', `/api/v1/namespaces/default/pods/${name}/status`), { status: { phase: 'Succeeded' } }, 'application/merge-patch+json').expect(200);
    const first = await eventually('two pods', async () => { const pods = await podsOf('job-name=count'); return pods.length === 2 ? pods : undefined; });
    await succeed(first[0].metadata.name);
    await succeed(first[1].metadata.name);
    const third = await eventually('a third pod', async () => { const pods = await podsOf('job-name=count'); return pods.length === 3 ? pods : undefined; });
    const remaining = third.find((pod) => !first.some((f) => f.metadata.name === pod.metadata.name))!;
    await succeed(remaining.metadata.name);
    const done = await eventually('the Job to complete', async () => {
      const res = await t.call('get', `${NS}/jobs/count`).expect(200);
      return (res.body.status.conditions ?? []).some((c: { type: string; status: string }) => c.type === 'Complete' && c.status === 'True') ? res.body : undefined;
    });
    assert.equal(done.status.succeeded, 3);
    assert.ok(done.status.completionTime);
    assert.deepEqual(done.status.conditions.map((c: { type: string; reason: string }) => [c.type, c.reason]),
      [['SuccessCriteriaMet', 'CompletionsReached'], ['Complete', 'CompletionsReached']]);
  });

  test('a CronJob creates its Job when the clock passes the schedule; Forbid skips while one runs', async () => {
    const cronJob = {
      apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'tick' },
      spec: {
        schedule: '*/1 * * * *', concurrencyPolicy: 'Forbid',
        jobTemplate: { spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } } },
      },
    };
    const created = await json(t.call('post', `${NS}/cronjobs`), cronJob).expect(201);
    nowMs = Date.parse(created.body.metadata.creationTimestamp) + 61_000;
    const poke = (value: string) => json(t.call('patch', `${NS}/cronjobs/tick`), { metadata: { labels: { poke: value } } }, 'application/merge-patch+json').expect(200);
    await poke('1');
    const expectedTime = Math.floor(nowMs / 60_000) * 60_000;
    const jobName = `tick-${expectedTime / 60_000}`;
    const job = await eventually('the scheduled Job', async () => {
      const res = await t.call('get', `${NS}/jobs/${jobName}`);
      return res.status === 200 ? res.body : undefined;
    });
    assert.equal(job.metadata.ownerReferences[0].kind, 'CronJob', JSON.stringify(job.metadata));
    assert.equal(job.metadata.annotations?.['batch.kubernetes.io/cronjob-scheduled-timestamp'], new Date(expectedTime).toISOString().replace('.000Z', 'Z'), JSON.stringify(job.metadata));
    const status = await eventually('status.active and lastScheduleTime', async () => {
      const res = await t.call('get', `${NS}/cronjobs/tick`).expect(200);
      return res.body.status?.active?.length === 1 ? res.body.status : undefined;
    });
    assert.equal(status.lastScheduleTime, new Date(expectedTime).toISOString().replace('.000Z', 'Z'), JSON.stringify(status));
    // A minute later the first Job still runs: Forbid.
    nowMs += 60_000;
    await poke('2');
    await eventually('a JobAlreadyActive event', async () => {
      const events = await t.call('get', '/api/v1/namespaces/default/events?fieldSelector=involvedObject.name%3Dtick').expect(200);
      return events.body.items.some((e: { reason: string }) => e.reason === 'JobAlreadyActive') ? true : undefined;
    });
    const jobs = await t.call('get', `${NS}/jobs?labelSelector=`).expect(200);
    assert.equal(jobs.body.items.filter((j: { metadata: { name: string } }) => j.metadata.name.startsWith('tick-')).length, 1);
  });

  test('the garbage collector deletes a pod whose owner does not exist', async () => {
    const pod = {
      apiVersion: 'v1', kind: 'Pod',
      metadata: { name: 'dangling', labels: { gc: 'dangling' }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'gone', uid: '00000000-0000-0000-0000-000000000000', controller: true }] },
      spec: { containers: [{ name: 'c', image: 'nginx' }] },
    };
    await json(t.call('post', '/api/v1/namespaces/default/pods'), pod).expect(201);
    await eventually('the dangling pod to be deleted', async () => ((await t.call('get', '/api/v1/namespaces/default/pods/dangling')).status === 404 ? true : undefined));
  });

  test('foreground deletion keeps a dependent that has another solid owner, dropping only the reference', async () => {
    const owner = async (name: string) => (await json(t.call('post', '/api/v1/namespaces/default/configmaps'), { metadata: { name } }).expect(201)).body;
    const leaving = await owner('owner-leaving');
    const staying = await owner('owner-staying');
    const ref = (o: { metadata: { name: string; uid: string } }) => ({ apiVersion: 'v1', kind: 'ConfigMap', name: o.metadata.name, uid: o.metadata.uid, blockOwnerDeletion: true });
    await json(t.call('post', '/api/v1/namespaces/default/secrets'), { metadata: { name: 'shared', ownerReferences: [ref(leaving), ref(staying)] } }).expect(201);
    await json(t.call('post', '/api/v1/namespaces/default/secrets'), { metadata: { name: 'only-leaving', ownerReferences: [ref(leaving)] } }).expect(201);
    await json(t.call('delete', '/api/v1/namespaces/default/configmaps/owner-leaving'), { propagationPolicy: 'Foreground' }).expect(200);
    await eventually('the owner to go after its own dependent', async () => ((await t.call('get', '/api/v1/namespaces/default/configmaps/owner-leaving')).status === 404 ? true : undefined));
    assert.equal((await t.call('get', '/api/v1/namespaces/default/secrets/only-leaving')).status, 404);
    const shared = (await t.call('get', '/api/v1/namespaces/default/secrets/shared').expect(200)).body;
    assert.equal(shared.metadata.deletionTimestamp, undefined);
    assert.deepEqual(shared.metadata.ownerReferences.map((r: { name: string }) => r.name), ['owner-staying']);
  });

  test('a dependency cycle deleted in the foreground unwinds (the object whose dependent waits stops blocking)', async () => {
    const path = '/api/v1/namespaces/default/configmaps';
    const made: { metadata: { name: string; uid: string } }[] = [];
    for (const name of ['cycle-a', 'cycle-b', 'cycle-c']) made.push((await json(t.call('post', path), { metadata: { name } }).expect(201)).body);
    const ref = (o: { metadata: { name: string; uid: string } }) => ({ apiVersion: 'v1', kind: 'ConfigMap', name: o.metadata.name, uid: o.metadata.uid, blockOwnerDeletion: true });
    // a is owned by c, b by a, c by b.
    for (const [dependent, owner] of [[0, 2], [1, 0], [2, 1]]) {
      await json(t.call('patch', `${path}/${made[dependent].metadata.name}`), { metadata: { ownerReferences: [ref(made[owner])] } }, 'application/merge-patch+json').expect(200);
    }
    await json(t.call('delete', `${path}/cycle-a`), { propagationPolicy: 'Foreground' }).expect(200);
    await eventually('the whole cycle to be collected', async () => {
      const left = (await t.call('get', path).expect(200)).body.items.filter((i: { metadata: { name: string } }) => i.metadata.name.startsWith('cycle-'));
      return left.length === 0 ? true : undefined;
    });
  });

  test('a ReplicaSet adopts a matching orphan pod and creates only the rest', async () => {
    await json(t.call('post', '/api/v1/namespaces/default/pods'), {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'orphan', labels: { tier: 'adopt' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] },
    }).expect(201);
    await json(t.call('post', '/apis/apps/v1/namespaces/default/replicasets'), {
      apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'adopter' },
      spec: { replicas: 2, selector: { matchLabels: { tier: 'adopt' } }, template: { metadata: { labels: { tier: 'adopt' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } },
    }).expect(201);
    const pods = await eventually('two owned pods', async () => {
      const found = await podsOf('tier=adopt');
      return found.length === 2 && found.every((p) => p.metadata.ownerReferences?.length === 1) ? found : undefined;
    });
    assert.ok(pods.some((p) => p.metadata.name === 'orphan'));
    const rs = await eventually('status.replicas 2', async () => {
      const res = await t.call('get', '/apis/apps/v1/namespaces/default/replicasets/adopter').expect(200);
      return res.body.status.replicas === 2 && res.body.status.observedGeneration === 1 ? res.body : undefined;
    });
    assert.equal(rs.status.readyReplicas, undefined);
  });

  test('a Job counts a running pod someone else deleted as a failure, unless podFailurePolicy ignores its condition', async () => {
    const jobOf = (name: string, extra: Record<string, unknown>) => ({
      apiVersion: 'batch/v1', kind: 'Job', metadata: { name },
      spec: { backoffLimit: 0, ...extra, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } },
    });
    const failAndDelete = async (job: string, conditions: unknown[]): Promise<void> => {
      const [pod] = await eventually(`a pod of ${job}`, async () => { const found = await podsOf(`job-name=${job}`); return found.length === 1 ? found : undefined; });
      await json(t.call('patch', `/api/v1/namespaces/default/pods/${pod.metadata.name}/status`), { status: { phase: 'Failed', conditions } }, 'application/merge-patch+json').expect(200);
      await t.call('delete', `/api/v1/namespaces/default/pods/${pod.metadata.name}?gracePeriodSeconds=0`).expect(200);
    };
    const jobCondition = async (name: string, type: string) => eventually(`${name} ${type}`, async () => {
      const res = await t.call('get', `${NS}/jobs/${name}`).expect(200);
      return (res.body.status?.conditions ?? []).find((c: { type: string; status: string }) => c.type === type && c.status === 'True');
    });
    // Without a policy: the deleted pod is a failure, and backoffLimit 0 fails the Job.
    await json(t.call('post', `${NS}/jobs`), jobOf('counted', {})).expect(201);
    await failAndDelete('counted', []);
    assert.equal((await jobCondition('counted', 'Failed')).reason, 'BackoffLimitExceeded');
    // With an Ignore rule on DisruptionTarget: the same deletion after an eviction is not counted; a new pod runs.
    await json(t.call('post', `${NS}/jobs`), jobOf('ignored', { podFailurePolicy: { rules: [{ action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] }] } })).expect(201);
    await failAndDelete('ignored', [{ type: 'DisruptionTarget', status: 'True', reason: 'EvictionByEvictionAPI', message: 'Eviction API: evicting' }]);
    // The replacement (the test plays its kubelet) succeeds; the Job completes instead of failing.
    await eventually('the replacement to succeed and the Job to complete', async () => {
      for (const pod of await podsOf('job-name=ignored')) {
        await json(t.call('patch', `/api/v1/namespaces/default/pods/${pod.metadata.name}/status`), { status: { phase: 'Succeeded' } }, 'application/merge-patch+json');
      }
      const res = await t.call('get', `${NS}/jobs/ignored`).expect(200);
      const conditions = (res.body.status?.conditions ?? []) as { type: string; status: string }[];
      assert.ok(!conditions.some((c) => c.type === 'Failed'), JSON.stringify(res.body.status));
      return conditions.some((c) => c.type === 'Complete' && c.status === 'True') ? true : undefined;
    });
    const done = await t.call('get', `${NS}/jobs/ignored`).expect(200);
    assert.equal(done.body.status.failed, undefined);
  });

  test('a Job re-adopts a pod whose owner reference was removed', async () => {
    await json(t.call('post', `${NS}/jobs`), {
      apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'readopt' },
      spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } },
    }).expect(201);
    const [pod] = await eventually('a pod of readopt', async () => { const found = await podsOf('job-name=readopt'); return found.length === 1 ? found : undefined; });
    await json(t.call('patch', `/api/v1/namespaces/default/pods/${pod.metadata.name}`), [{ op: 'remove', path: '/metadata/ownerReferences' }], 'application/json-patch+json').expect(200);
    await eventually('the pod adopted again', async () => {
      const res = await t.call('get', `/api/v1/namespaces/default/pods/${pod.metadata.name}`).expect(200);
      return res.body.metadata.ownerReferences?.[0]?.name === 'readopt' ? true : undefined;
    });
    assert.equal((await podsOf('job-name=readopt')).length, 1, 'no second pod');
  });
});
