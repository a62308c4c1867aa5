// Conformance entries of SIG apps for Jobs and CronJobs (../shared/k8s-conformance/conformance.yaml), each named
// exactly after its `testname`, against `up`'s cluster (API server, scheduler, controller manager, simulated
// kubelets). The controller manager runs on a clock the tests move (controllerClock): a CronJob's next minute
// comes when the test says so, then a label change makes the controller look at it, instead of waiting minutes.
// Containers fail or exit through the kubelet simulation: `sh -c "exit 42"`, `sleep 3600` (runs, killed at
// deletion with 137), kubefacade.io/exit-after, kubefacade.io/fail-times.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startConformanceCluster, until, type ConformanceCluster, type Json } from './helpers/cluster.ts';

const BATCH = '/apis/batch/v1/namespaces/default';
const CORE = '/api/v1/namespaces/default';
const MERGE = 'application/merge-patch+json';
const STRATEGIC = 'application/strategic-merge-patch+json';
const INDEX_ANNOTATION = 'batch.kubernetes.io/job-completion-index';

let cluster: ConformanceCluster;
let clockOffsetMs = 0;

before(async () => {
  cluster = await startConformanceCluster('apps-jobs', { nodes: 2, controllerClock: () => Date.now() + clockOffsetMs });
});

after(async () => {
  await cluster?.stop();
});

function job(name: string, spec: Json, template: Json = {}): Json {
  return {
    apiVersion: 'batch/v1', kind: 'Job', metadata: { name },
    spec: {
      ...spec,
      template: {
        ...(template.metadata ? { metadata: template.metadata } : {}),
        spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox:1.36', ...template.container }], ...template.spec },
      },
    },
  };
}

async function jobPods(name: string): Promise<Json[]> {
  return (await cluster.api('get', `${CORE}/pods?labelSelector=${encodeURIComponent(`job-name=${name}`)}`)).items as Json[];
}

async function runningJobPods(name: string, count: number): Promise<Json[]> {
  return until(async () => {
    const running = (await jobPods(name)).filter((p) => p.status?.phase === 'Running' && !p.metadata.deletionTimestamp);
    return running.length === count ? running : undefined;
  }, `${count} running pods of job ${name}`, 60_000);
}

function condition(obj: Json, type: string): Json | undefined {
  return ((obj.status?.conditions ?? []) as Json[]).find((c) => c.type === type && c.status === 'True');
}

async function jobFinished(name: string, type: 'Complete' | 'Failed', timeoutMs = 60_000): Promise<Json> {
  return until(async () => {
    const current = await cluster.api('get', `${BATCH}/jobs/${name}`);
    return condition(current, type) ? current : undefined;
  }, `job ${name} ${type}`, timeoutMs);
}

describe('apps: Jobs', () => {
  test('Jobs, orphan pods, re-adoption', async () => {
    const created = await cluster.api('post', `${BATCH}/jobs`, { body: job('adopt-release', { parallelism: 2, completions: 4 }, { container: { command: ['sleep', '3600'] } }) });
    const pods = await runningJobPods('adopt-release', 2);
    const pod = pods[0];
    // Orphan one pod: the Job must adopt it again.
    await cluster.api('put', `${CORE}/pods/${pod.metadata.name}`, { body: { ...pod, metadata: { ...pod.metadata, ownerReferences: undefined } } });
    const adopted = await until(async () => {
      const current = await cluster.api('get', `${CORE}/pods/${pod.metadata.name}`);
      const ref = ((current.metadata.ownerReferences ?? []) as Json[]).find((r) => r.controller);
      return ref ? { ref, current } : undefined;
    }, 'the orphan pod re-adopted');
    assert.deepEqual([adopted.ref.kind, adopted.ref.name, adopted.ref.uid], ['Job', 'adopt-release', created.metadata.uid]);
    // Remove its labels: the Job must release it (and run another in its place).
    await cluster.api('put', `${CORE}/pods/${pod.metadata.name}`, { body: { ...adopted.current, metadata: { ...adopted.current.metadata, labels: {} } } });
    await until(async () => {
      const current = await cluster.api('get', `${CORE}/pods/${pod.metadata.name}`);
      return ((current.metadata.ownerReferences ?? []) as Json[]).some((r) => r.controller) ? undefined : true;
    }, 'the relabelled pod released');
    await runningJobPods('adopt-release', 2);
    await cluster.api('delete', `${BATCH}/jobs/adopt-release?propagationPolicy=Background`);
    await cluster.api('delete', `${CORE}/pods/${pod.metadata.name}?gracePeriodSeconds=0`);
  });

  test('Ensure pod failure policy allows to ignore failure matching on the DisruptionTarget condition', async () => {
    // backoffLimit 0: one counted failure would fail the Job. Every first pod is evicted (the API server marks it
    // DisruptionTarget, the kubelet kills it: Failed, exit 137); the rule ignores those failures, and the
    // replacements run their 12 s and succeed.
    await cluster.api('post', `${BATCH}/jobs`, {
      body: job('evicted-ignore', {
        completionMode: 'Indexed', completions: 2, parallelism: 2, backoffLimit: 0,
        podFailurePolicy: { rules: [{ action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] }] },
      }, { metadata: { annotations: { 'kubefacade.io/exit-after': '12s' } }, container: { command: ['sleep', '3600'] } }),
    });
    const first = await runningJobPods('evicted-ignore', 2);
    const evicted = await Promise.all(first.map(async (pod) => {
      const res = await cluster.raw('post', `${CORE}/pods/${pod.metadata.name}/eviction`).set('Content-Type', 'application/json')
        .send(JSON.stringify({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: pod.metadata.name, namespace: 'default' } }));
      assert.equal(res.status, 201, res.text);
      // The kubelet stops it and confirms the deletion; the Job controller saw its last status (Failed, with the
      // eviction's DisruptionTarget condition) and must not count it.
      return until(async () => {
        const res2 = await cluster.raw('get', `${CORE}/pods/${pod.metadata.name}`);
        return res2.status === 404 ? pod.metadata.name : undefined;
      }, `evicted pod ${pod.metadata.name} gone`);
    }));
    assert.deepEqual(evicted.sort(), first.map((p) => p.metadata.name).sort());
    const done = await jobFinished('evicted-ignore', 'Complete');
    assert.equal(done.status.succeeded, 2);
    assert.equal(done.status.failed ?? 0, 0, JSON.stringify(done.status));
    assert.equal(done.status.completedIndexes, '0-1');
  });

  test('Verify Pod Failure policy allows to fail job early on exit code.', async () => {
    await cluster.api('post', `${BATCH}/jobs`, {
      body: job('fail-early', {
        completions: 1, parallelism: 1, backoffLimit: 6,
        podFailurePolicy: { rules: [{ action: 'FailJob', onExitCodes: { containerName: 'c', operator: 'In', values: [42] } }] },
      }, { container: { command: ['sh', '-c', 'exit 42'] } }),
    });
    const failed = await jobFinished('fail-early', 'Failed');
    const pods = await jobPods('fail-early');
    assert.equal(pods.length, 1, 'exactly one pod ran: the Job failed on its first failure, not after backoffLimit');
    const failure = condition(failed, 'Failed')!;
    assert.equal(failure.reason, 'PodFailurePolicy');
    assert.equal(failure.message, `Container c for pod default/${pods[0].metadata.name} failed with exit code 42 matching FailJob rule at index 0`);
    assert.equal(condition(failed, 'FailureTarget')?.reason, 'PodFailurePolicy');
  });

  test('Jobs, apply changes to status', async () => {
    await cluster.api('post', `${BATCH}/jobs`, { body: job('status-changes', { parallelism: 1, completions: 1 }, { container: { command: ['sleep', '3600'] } }) });
    await runningJobPods('status-changes', 1);
    const startTime = new Date(Date.now() - 3_600_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const patched = await cluster.api('patch', `${BATCH}/jobs/status-changes/status`, {
      body: { metadata: { annotations: { patchedstatus: 'true' } }, status: { startTime } }, contentType: STRATEGIC,
    });
    assert.equal(patched.metadata.annotations.patchedstatus, 'true');
    assert.equal(patched.status.startTime, startTime);
    let updated: Json | undefined;
    for (let attempt = 0; attempt < 10 && !updated; attempt++) {
      const current = await cluster.api('get', `${BATCH}/jobs/status-changes/status`);
      const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
      const res = await cluster.raw('put', `${BATCH}/jobs/status-changes/status`).set('Content-Type', 'application/json')
        .send(JSON.stringify({ ...current, status: { ...current.status, startTime: now } }));
      if (res.status === 200) updated = res.body as Json;
      else assert.equal(res.status, 409, res.text);
    }
    assert.ok(updated, 'the status update went through');
    const read = await cluster.api('get', `${BATCH}/jobs/status-changes/status`);
    assert.equal(read.kind, 'Job');
    assert.equal(read.metadata.annotations.patchedstatus, 'true');
    assert.equal(read.metadata.uid, patched.metadata.uid);
    await cluster.api('delete', `${BATCH}/jobs/status-changes?propagationPolicy=Background`);
  });

  test('Ensure Pods of an Indexed Job get a unique index.', async () => {
    await cluster.api('post', `${BATCH}/jobs`, { body: job('indexed-job', { completionMode: 'Indexed', completions: 4, parallelism: 2 }, { container: { command: ['sh', '-c', 'exit 0'] } }) });
    await jobFinished('indexed-job', 'Complete');
    const succeeded = (await jobPods('indexed-job')).filter((p) => p.status?.phase === 'Succeeded');
    const indexes = succeeded.map((p) => Number(p.metadata.annotations[INDEX_ANNOTATION])).sort();
    assert.deepEqual(indexes, [0, 1, 2, 3]);
    for (const pod of succeeded) {
      const index = pod.metadata.annotations[INDEX_ANNOTATION];
      assert.equal(pod.spec.hostname, `indexed-job-${index}`);
      assert.equal(pod.metadata.labels[INDEX_ANNOTATION], index);
      const env = (pod.spec.containers[0].env as Json[]).find((e) => e.name === 'JOB_COMPLETION_INDEX');
      assert.deepEqual(env?.valueFrom, { fieldRef: { apiVersion: 'v1', fieldPath: `metadata.annotations['${INDEX_ANNOTATION}']` } });
    }
  });

  test('Jobs, active pods, graceful termination', async () => {
    await cluster.api('post', `${BATCH}/jobs`, { body: job('foo', { parallelism: 2, completions: 4 }, { container: { command: ['sleep', '3600'] } }) });
    await runningJobPods('foo', 2);
    assert.equal((await until(async () => {
      const current = await cluster.api('get', `${BATCH}/jobs/foo`);
      return current.status?.active === 2 ? current : undefined;
    }, 'status.active = parallelism')).status.active, 2);
    await cluster.api('delete', `${BATCH}/jobs/foo`, { body: { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background' } });
    await until(async () => ((await jobPods('foo')).length === 0 ? true : undefined), 'the job\'s pods gone', 60_000);
    const gone = await cluster.raw('get', `${BATCH}/jobs/foo`);
    assert.equal(gone.status, 404);
    assert.equal(gone.body.reason, 'NotFound');
  });

  test('Jobs, completion after task failure', async () => {
    // Every container fails once (exit 1), is restarted in place (OnFailure) and then succeeds.
    await cluster.api('post', `${BATCH}/jobs`, {
      body: job('fail-once-local', { parallelism: 2, completions: 4, backoffLimit: 6 }, {
        metadata: { annotations: { 'kubefacade.io/fail-times': '1' } }, spec: { restartPolicy: 'OnFailure' }, container: { command: ['sh', '-c', 'exit 0'] },
      }),
    });
    const done = await jobFinished('fail-once-local', 'Complete', 90_000);
    assert.equal(done.status.succeeded, 4);
    const pods = (await jobPods('fail-once-local')).filter((p) => p.status?.phase === 'Succeeded');
    assert.equal(pods.length, 4);
    for (const pod of pods) {
      const status = pod.status.containerStatuses[0];
      assert.equal(status.restartCount, 1, `${pod.metadata.name} restarted once`);
      assert.equal(status.lastState.terminated.exitCode, 1);
      assert.equal(status.state.terminated.exitCode, 0);
    }
  });
});

// CronJobs: every test creates a CronJob that runs every minute and moves the controller's clock minute by minute.
describe('apps: CronJobs', () => {
  function cronJob(name: string, spec: Json): Json {
    return {
      apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name },
      spec: {
        schedule: '*/1 * * * ?', ...spec,
        jobTemplate: { spec: { template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'c', image: 'busybox:1.36', command: ['sleep', '3600'] }] } } } },
      },
    };
  }

  /**
   * Moves the controllers' clock to one second past the next minute. Between moves a test has 59 s before the
   * following minute comes by itself (the controller's own requeue at the next schedule time), so every Job
   * it sees was started by a move.
   */
  function startOfNextMinute(): void {
    const fakeNow = Date.now() + clockOffsetMs;
    clockOffsetMs += Math.floor(fakeNow / 60_000) * 60_000 + 61_000 - fakeNow;
  }

  before(() => startOfNextMinute());

  let pokes = 0;
  /** The next minute for the controllers, and a label change so the cronjob controller looks now. */
  async function nextMinute(name: string): Promise<void> {
    startOfNextMinute();
    pokes++;
    await cluster.api('patch', `${BATCH}/cronjobs/${name}`, { body: { metadata: { labels: { poke: String(pokes) } } }, contentType: MERGE });
  }

  async function cronJobsJobs(name: string): Promise<Json[]> {
    return ((await cluster.api('get', `${BATCH}/jobs`)).items as Json[])
      .filter((j) => (j.metadata.ownerReferences as Json[] | undefined)?.some((r) => r.kind === 'CronJob' && r.name === name));
  }

  async function activeJobs(name: string, count: number): Promise<Json> {
    return until(async () => {
      const current = await cluster.api('get', `${BATCH}/cronjobs/${name}`);
      return (current.status?.active ?? []).length === count ? current : undefined;
    }, `${count} active jobs of cronjob ${name}`);
  }

  async function eventSeen(name: string, reason: string): Promise<Json> {
    return until(async () => ((await cluster.api('get', `${CORE}/events?fieldSelector=${encodeURIComponent(`involvedObject.name=${name}`)}`)).items as Json[])
      .find((e) => e.reason === reason), `a ${reason} event for ${name}`);
  }

  test('CronJob Suspend', async () => {
    await cluster.api('post', `${BATCH}/cronjobs`, { body: cronJob('suspended', { suspend: true, concurrencyPolicy: 'Allow' }) });
    await nextMinute('suspended');
    await nextMinute('suspended');
    // Give the controller time to look (the status write or event it would make arrives well within this).
    await new Promise((resolve) => setTimeout(resolve, 2000));
    assert.deepEqual(await cronJobsJobs('suspended'), []);
    const current = await cluster.api('get', `${BATCH}/cronjobs/suspended`);
    assert.equal(current.status?.active, undefined);
    assert.equal(current.status?.lastScheduleTime, undefined);
    // The schedule was due all along: resuming starts a Job at once.
    await cluster.api('patch', `${BATCH}/cronjobs/suspended`, { body: { spec: { suspend: false } }, contentType: MERGE });
    await activeJobs('suspended', 1);
    await cluster.api('delete', `${BATCH}/cronjobs/suspended?propagationPolicy=Background`);
  });

  test('CronJob ForbidConcurrent', async () => {
    await cluster.api('post', `${BATCH}/cronjobs`, { body: cronJob('forbid', { concurrencyPolicy: 'Forbid' }) });
    await nextMinute('forbid');
    const first = (await activeJobs('forbid', 1)).status.active[0];
    await nextMinute('forbid');
    await eventSeen('forbid', 'JobAlreadyActive');
    const jobs = await cronJobsJobs('forbid');
    assert.deepEqual(jobs.map((j) => j.metadata.name), [first.name]);
    const current = await cluster.api('get', `${BATCH}/cronjobs/forbid`);
    assert.deepEqual((current.status.active as Json[]).map((a) => a.uid), [first.uid]);
    await cluster.api('delete', `${BATCH}/cronjobs/forbid?propagationPolicy=Background`);
  });

  test('CronJob ReplaceConcurrent', async () => {
    await cluster.api('post', `${BATCH}/cronjobs`, { body: cronJob('replace', { concurrencyPolicy: 'Replace' }) });
    await nextMinute('replace');
    const first = (await activeJobs('replace', 1)).status.active[0];
    await nextMinute('replace');
    const replaced = await until(async () => {
      const current = await cluster.api('get', `${BATCH}/cronjobs/replace`);
      const active = (current.status?.active ?? []) as Json[];
      return active.length === 1 && active[0].uid !== first.uid ? active[0] : undefined;
    }, 'the first job replaced by a newer one');
    await until(async () => ((await cluster.raw('get', `${BATCH}/jobs/${first.name}`)).status === 404 ? true : undefined), 'the replaced job deleted');
    await eventSeen('replace', 'SuccessfulDelete');
    assert.deepEqual((await cronJobsJobs('replace')).map((j) => j.metadata.name), [replaced.name]);
    await cluster.api('delete', `${BATCH}/cronjobs/replace?propagationPolicy=Background`);
  });

  test('CronJob AllowConcurrent', async () => {
    await cluster.api('post', `${BATCH}/cronjobs`, { body: cronJob('allow', { concurrencyPolicy: 'Allow' }) });
    await nextMinute('allow');
    await activeJobs('allow', 1);
    await nextMinute('allow');
    const current = await activeJobs('allow', 2);
    const jobs = await cronJobsJobs('allow');
    assert.equal(jobs.length, 2);
    assert.deepEqual(new Set((current.status.active as Json[]).map((a) => a.uid)), new Set(jobs.map((j) => j.metadata.uid)));
    await until(async () => ((await cluster.api('get', `${CORE}/pods?labelSelector=${encodeURIComponent(`job-name in (${jobs.map((j) => j.metadata.name).join(',')})`)}`)).items as Json[])
      .filter((p) => p.status?.phase === 'Running').length === 2 ? true : undefined, 'both jobs running at the same time');
    await cluster.api('delete', `${BATCH}/cronjobs/allow?propagationPolicy=Background`);
  });
});
