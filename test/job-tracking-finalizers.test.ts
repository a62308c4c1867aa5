// Job tracking with the batch.kubernetes.io/job-tracking finalizer against a real API server with the
// job and garbage collector controllers; the test plays the kubelet (pod phases through pods/status).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { runControllerManager, type RunningControllerManager } from '../controllers/manager.ts';
import { eventually } from './helpers/cluster-processes.ts';
import { json, startTestServer, type TestServer } from './helpers/api-server.ts';

const BATCH = '/apis/batch/v1/namespaces/default';
const CORE = '/api/v1/namespaces/default';
const FINALIZER = 'batch.kubernetes.io/job-tracking';

interface PodMeta { name: string; uid: string; finalizers?: string[]; ownerReferences?: { uid: string }[]; deletionTimestamp?: string }
interface JobStatus { succeeded?: number; failed?: number; active?: number; uncountedTerminatedPods?: { succeeded?: string[]; failed?: string[] }; conditions?: { type: string; status: string; reason?: string }[] }

function job(name: string, spec: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: 'batch/v1', kind: 'Job', metadata: { name },
    spec: { ...spec, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } },
  };
}

describe('Job tracking finalizers', () => {
  let t: TestServer;
  let manager: RunningControllerManager;

  before(async () => {
    t = await startTestServer('job-tracking');
    manager = await runControllerManager({
      kubeconfigPath: t.server.adminKubeconfigPath, controllers: ['job', 'garbagecollector'],
      logger: { info: () => undefined, warn: () => undefined },
    });
  });

  after(async () => {
    await manager?.stop();
    await t?.close();
  });

  const podsOf = async (jobName: string): Promise<{ metadata: PodMeta; status?: { phase?: string } }[]> =>
    (await t.call('get', `${CORE}/pods?labelSelector=${encodeURIComponent(`job-name=${jobName}`)}`).expect(200)).body.items;
  const onePod = (jobName: string, count = 1) => eventually(`${count} pod(s) of ${jobName}`, async () => {
    const pods = (await podsOf(jobName)).filter((p) => !p.metadata.deletionTimestamp);
    return pods.length === count ? pods : undefined;
  });
  const statusOf = async (name: string): Promise<JobStatus> => (await t.call('get', `${BATCH}/jobs/${name}`).expect(200)).body.status ?? {};
  const setPhase = async (pod: string, phase: string) =>
    json(t.call('patch', `${CORE}/pods/${pod}/status`), { status: { phase } }, 'application/merge-patch+json').expect(200);
  const getPod = async (name: string): Promise<{ metadata: PodMeta } | undefined> => {
    const res = await t.call('get', `${CORE}/pods/${name}`);
    return res.status === 200 ? res.body : undefined;
  };

  test('pods carry the finalizer; a finished pod is recorded as uncounted, released, then counted', async () => {
    await json(t.call('post', `${BATCH}/jobs`), job('two-step')).expect(201);
    const [pod] = await onePod('two-step');
    assert.deepEqual(pod.metadata.finalizers, [FINALIZER]);
    const { resourceVersion } = (await t.call('get', `${BATCH}/jobs/two-step`).expect(200)).body.metadata;
    // Every status the Job goes through, from a watch that closes by itself.
    const watch = t.call('get', `${BATCH}/jobs?watch=1&timeoutSeconds=3&resourceVersion=${resourceVersion}&fieldSelector=metadata.name%3Dtwo-step`)
      .buffer(true).parse((res, done) => { let text = ''; res.on('data', (c: Buffer) => { text += c.toString(); }); res.on('end', () => done(null, text)); });
    await setPhase(pod.metadata.name, 'Succeeded');
    const seen = ((await watch).body as string).trim().split('\n').map((line) => (JSON.parse(line) as { object: { status?: JobStatus } }).object.status ?? {});
    const recorded = seen.findIndex((s) => s.uncountedTerminatedPods?.succeeded?.includes(pod.metadata.uid));
    const counted = seen.findIndex((s) => s.succeeded === 1);
    assert.ok(recorded >= 0, `step 1 written: ${JSON.stringify(seen)}`);
    assert.equal(seen[recorded].succeeded, undefined, 'not counted yet while uncounted');
    assert.ok(counted > recorded, 'counted after being recorded');
    assert.deepEqual(seen[counted].uncountedTerminatedPods, {});
    const status = await statusOf('two-step');
    assert.equal(status.succeeded, 1);
    assert.ok(status.conditions?.some((c) => c.type === 'Complete' && c.status === 'True'));
    assert.deepEqual((await getPod(pod.metadata.name))?.metadata.finalizers, undefined, 'the finalizer is gone');
  });

  test('a pod deleted by someone else stays until it is counted as failed, then goes; a replacement runs', async () => {
    await json(t.call('post', `${BATCH}/jobs`), job('deleted-by-user', { backoffLimit: 3 })).expect(201);
    const [pod] = await onePod('deleted-by-user');
    await t.call('delete', `${CORE}/pods/${pod.metadata.name}?gracePeriodSeconds=0`).expect(200);
    await eventually('counted as failed', async () => ((await statusOf('deleted-by-user')).failed === 1 ? true : undefined));
    await eventually('the deleted pod gone', async () => ((await getPod(pod.metadata.name)) ? undefined : true));
    const [replacement] = await onePod('deleted-by-user');
    assert.notEqual(replacement.metadata.uid, pod.metadata.uid);
    assert.deepEqual(replacement.metadata.finalizers, [FINALIZER]);
  });

  test('a uid left in uncountedTerminatedPods by an interrupted sync is counted once its pod is gone', async () => {
    await json(t.call('post', `${BATCH}/jobs`), job('interrupted', { completions: 2, parallelism: 1 })).expect(201);
    await onePod('interrupted');
    // As a controller stopped between its two steps would leave it (retried while the controller writes too).
    await eventually('the uid recorded', async () => {
      const stored = (await t.call('get', `${BATCH}/jobs/interrupted`).expect(200)).body;
      const res = await json(t.call('put', `${BATCH}/jobs/interrupted/status`), {
        ...stored, status: { ...stored.status, uncountedTerminatedPods: { succeeded: ['0d2c1a52-0000-4000-8000-000000000001'] } },
      });
      return res.status === 200 ? true : undefined;
    });
    await eventually('the uid moved into succeeded', async () => {
      const status = await statusOf('interrupted');
      return status.succeeded === 1 && !status.uncountedTerminatedPods?.succeeded ? true : undefined;
    });
  });

  test('deleting a Job releases its pods: background, foreground and orphan', async () => {
    for (const [name, policy] of [['bg', 'Background'], ['fg', 'Foreground'], ['orphan', 'Orphan']] as const) {
      await json(t.call('post', `${BATCH}/jobs`), job(name)).expect(201);
      const [pod] = await onePod(name);
      await json(t.call('delete', `${BATCH}/jobs/${name}`), { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: policy }).expect(200);
      await eventually(`job ${name} gone`, async () => ((await t.call('get', `${BATCH}/jobs/${name}`)).status === 404 ? true : undefined));
      if (policy === 'Orphan') {
        const kept = await eventually('the orphan released', async () => {
          const found = await getPod(pod.metadata.name);
          return found && !found.metadata.finalizers && !found.metadata.ownerReferences ? found : undefined;
        });
        assert.equal(kept.metadata.deletionTimestamp, undefined, 'an orphan keeps running');
      } else {
        await eventually(`pod of ${name} gone`, async () => ((await getPod(pod.metadata.name)) ? undefined : true));
      }
    }
  });

  test('a pod that loses its owner reference loses the finalizer, and gets it back when adopted', async () => {
    await json(t.call('post', `${BATCH}/jobs`), job('readopted')).expect(201);
    const [pod] = await onePod('readopted');
    await json(t.call('patch', `${CORE}/pods/${pod.metadata.name}`), [{ op: 'remove', path: '/metadata/ownerReferences' }], 'application/json-patch+json').expect(200);
    let last: unknown;
    await eventually('adopted again, with the finalizer', async () => {
      const found = await getPod(pod.metadata.name);
      last = found?.metadata;
      return found?.metadata.ownerReferences?.length && found.metadata.finalizers?.includes(FINALIZER) ? true : undefined;
    }, 5000).catch((err: Error) => { throw new Error(`${err.message}: ${JSON.stringify(last)}`); });
    assert.equal((await podsOf('readopted')).length, 1, `no second pod: ${JSON.stringify((await podsOf('readopted')).map((p) => p.metadata))}`);
  });

  test('a Job failing with pods still running counts them as failed once they are deleted', async () => {
    // FailJob on exit code 42: the other pod, still running, is deleted and counted, as upstream counts it.
    await json(t.call('post', `${BATCH}/jobs`), job('fail-fast', {
      parallelism: 2, completions: 2,
      podFailurePolicy: { rules: [{ action: 'FailJob', onExitCodes: { operator: 'In', values: [42] } }] },
    })).expect(201);
    const [first, second] = await onePod('fail-fast', 2);
    await json(t.call('patch', `${CORE}/pods/${first.metadata.name}/status`), { status: {
      phase: 'Failed', containerStatuses: [{ name: 'c', image: 'busybox', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 42, reason: 'Error' } } }],
    } }, 'application/merge-patch+json').expect(200);
    const status = await eventually('the Job Failed', async () => {
      const current = await statusOf('fail-fast');
      return current.conditions?.some((c) => c.type === 'Failed' && c.status === 'True') ? current : undefined;
    });
    assert.equal(status.conditions?.find((c) => c.type === 'Failed')?.reason, 'PodFailurePolicy');
    assert.equal(status.failed, 2, JSON.stringify(status));
    assert.deepEqual(status.uncountedTerminatedPods, {});
    assert.equal(await getPod(second.metadata.name), undefined, 'the running pod was deleted');
  });
});
