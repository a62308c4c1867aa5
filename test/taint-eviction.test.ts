// The taint eviction controller end to end, in `up`'s cluster (API server, scheduler, controller manager,
// simulated kubelet): a NoExecute taint deletes the pods that do not tolerate it at once, with the
// DisruptionTarget condition a watcher sees first; tolerationSeconds delays the deletion; removing the taint,
// or lifting the pod's tolerationSeconds by an update, before the deadline keeps the pod. Tolerations last a few seconds only.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startConformanceCluster, until, podManifest, type ConformanceCluster, type Json } from './conformance/helpers/cluster.ts';
import { openWatch, type OpenWatch } from './helpers/watch-client.ts';
import type { TestServer } from './helpers/api-server.ts';

const NS = '/api/v1/namespaces/default';
const TAINT = { key: 'kubefacade.test/evict', value: 'yes', effect: 'NoExecute' };
const MERGE = 'application/merge-patch+json';

function toleration(seconds?: number): Json {
  return { key: TAINT.key, operator: 'Equal', value: TAINT.value, effect: 'NoExecute', ...(seconds === undefined ? {} : { tolerationSeconds: seconds }) };
}

function disruption(pod: Json): Json | undefined {
  return (pod.status?.conditions ?? []).find((c: Json) => c.type === 'DisruptionTarget');
}

describe('taint eviction controller (up)', () => {
  let cluster: ConformanceCluster;
  let node: string;

  before(async () => {
    cluster = await startConformanceCluster('taint-eviction', { nodes: 1 });
    node = cluster.nodes[0];
  });
  after(async () => {
    await cluster?.stop();
  });

  const setTaints = (taints: Json[]) => cluster.api('patch', `/api/v1/nodes/${node}`, { body: { spec: { taints } }, contentType: MERGE });

  async function runningPod(name: string, tolerations: Json[] = []): Promise<Json> {
    await cluster.api('post', `${NS}/pods`, { body: podManifest(name, { spec: { tolerations, terminationGracePeriodSeconds: 1 } }) });
    return until(async () => {
      const pod = await cluster.api('get', `${NS}/pods/${name}`);
      return pod.spec.nodeName && pod.status.phase === 'Running' ? pod : undefined;
    }, `pod ${name} running`);
  }

  function watchPod(name: string, resourceVersion: string): Promise<OpenWatch> {
    const server = { url: cluster.server.url, server: cluster.server } as Pick<TestServer, 'url' | 'server'> as TestServer;
    return openWatch(server, `${NS}/pods?watch=true&fieldSelector=metadata.name=${name}&resourceVersion=${resourceVersion}`);
  }

  async function events(name: string): Promise<Json[]> {
    const list = await cluster.api('get', `${NS}/events?fieldSelector=involvedObject.name=${name}`);
    return list.items.filter((e: Json) => e.reason === 'TaintManagerEviction');
  }

  test('an untolerating pod is deleted at once, DisruptionTarget first, with the TaintManagerEviction event', async () => {
    const pod = await runningPod('untolerating');
    const watch = await watchPod('untolerating', pod.metadata.resourceVersion);
    try {
      await setTaints([TAINT]);
      let marked: Json | undefined;
      let deleted = false;
      while (!deleted) {
        const event = await watch.next(30_000);
        const condition = disruption(event.object);
        if (condition && !marked) {
          marked = condition;
          assert.equal(event.object.metadata?.deletionTimestamp, undefined, 'the condition comes before the deletion');
        }
        deleted = event.type === 'DELETED';
      }
      assert.ok(marked, 'the watcher saw DisruptionTarget before the pod went');
      assert.deepEqual([marked.status, marked.reason, marked.message], ['True', 'DeletionByTaintManager', 'Taint manager: deleting due to NoExecute taint']);
      const recorded = await until(async () => {
        const found = await events('untolerating');
        return found.some((e) => e.message === 'Marking for deletion Pod default/untolerating') ? found : undefined;
      }, 'the TaintManagerEviction event');
      const marking = recorded.find((e) => e.message === 'Marking for deletion Pod default/untolerating')!;
      assert.deepEqual([marking.type, marking.source?.component, marking.involvedObject.kind], ['Normal', 'taint-eviction-controller', 'Pod']);
    } finally {
      watch.close();
      await setTaints([]);
    }
  });

  test('tolerationSeconds delays the deletion; a pod tolerating the taint forever stays', async () => {
    await runningPod('tolerates-5s', [toleration(5)]);
    await runningPod('tolerates-forever', [toleration()]);
    const tainted = Date.now();
    await setTaints([TAINT]);
    try {
      const marked = await until(async () => {
        const pod = await cluster.api('get', `${NS}/pods/tolerates-5s`);
        return disruption(pod) ? Date.now() : undefined;
      }, 'tolerates-5s marked for deletion', 20_000);
      const elapsed = marked - tainted;
      assert.ok(elapsed >= 4500, `evicted after ${elapsed} ms, before its 5 s toleration ran out`);
      await until(async () => {
        const res = await cluster.raw('get', `${NS}/pods/tolerates-5s`);
        return res.status === 404 ? true : undefined;
      }, 'tolerates-5s deleted');
      const forever = await cluster.api('get', `${NS}/pods/tolerates-forever`);
      assert.equal(forever.metadata.deletionTimestamp, undefined);
      assert.equal(disruption(forever), undefined);
    } finally {
      await setTaints([]);
      await cluster.raw('delete', `${NS}/pods/tolerates-forever`);
    }
  });

  test('removing the taint before the deadline keeps the pod, with the Cancelling event', async () => {
    await runningPod('taint-removed', [toleration(4)]);
    await setTaints([TAINT]);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await setTaints([]);
    await new Promise((resolve) => setTimeout(resolve, 5000));
    const pod = await cluster.api('get', `${NS}/pods/taint-removed`);
    assert.equal(pod.metadata.deletionTimestamp, undefined);
    assert.equal(disruption(pod), undefined);
    const recorded = await until(async () => {
      const found = await events('taint-removed');
      return found.length ? found : undefined;
    }, 'the Cancelling event');
    assert.deepEqual(recorded.map((e) => e.message), ['Cancelling deletion of Pod default/taint-removed']);
    await cluster.api('delete', `${NS}/pods/taint-removed`);
  });

  test('lifting the toleration\'s tolerationSeconds by a pod update before the deadline keeps the pod', async () => {
    const pod = await runningPod('toleration-lifted', [toleration(4)]);
    await setTaints([TAINT]);
    try {
      await new Promise((resolve) => setTimeout(resolve, 1500));
      // Pod updates may only add tolerations or change tolerationSeconds; the first toleration matching a taint
      // is the one that counts (GetMatchingTolerations), so the limit is lifted in place.
      const tolerations = pod.spec.tolerations.map((t: Json) => (t.key === TAINT.key ? toleration() : t));
      await cluster.api('patch', `${NS}/pods/toleration-lifted`, { body: { spec: { tolerations } }, contentType: MERGE });
      await new Promise((resolve) => setTimeout(resolve, 5000));
      const after = await cluster.api('get', `${NS}/pods/toleration-lifted`);
      assert.equal(after.metadata.deletionTimestamp, undefined);
      assert.equal(disruption(after), undefined);
      const recorded = await until(async () => {
        const found = await events('toleration-lifted');
        return found.length ? found : undefined;
      }, 'the Cancelling event');
      assert.deepEqual(recorded.map((e) => e.message), ['Cancelling deletion of Pod default/toleration-lifted']);
    } finally {
      await setTaints([]);
      await cluster.raw('delete', `${NS}/pods/toleration-lifted`);
    }
  });

  test('a node tainted unreachable (NoExecute) keeps pods with the default 300 s tolerations: eviction scheduled, not done', async () => {
    const pod = await runningPod('default-tolerations');
    const defaults = pod.spec.tolerations.filter((t: Json) => t.tolerationSeconds === 300).map((t: Json) => `${t.key}:${t.effect}`).sort();
    assert.deepEqual(defaults, ['node.kubernetes.io/not-ready:NoExecute', 'node.kubernetes.io/unreachable:NoExecute'], 'DefaultTolerationSeconds admission');
    // What the node lifecycle controller puts on a node whose kubelet went silent (it takes it off again while the node is Ready).
    await setTaints([{ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z') }]);
    try {
      await new Promise((resolve) => setTimeout(resolve, 2000));
      const after = await cluster.api('get', `${NS}/pods/default-tolerations`);
      assert.equal(after.metadata.deletionTimestamp, undefined);
      assert.equal(disruption(after), undefined);
    } finally {
      await setTaints([]);
    }
    // The eviction that was waiting for its 300 s is cancelled when the taint goes.
    const recorded = await until(async () => {
      const found = await events('default-tolerations');
      return found.length ? found : undefined;
    }, 'the Cancelling event');
    assert.deepEqual(recorded.map((e) => e.message), ['Cancelling deletion of Pod default/default-tolerations']);
    await cluster.raw('delete', `${NS}/pods/default-tolerations`);
  });
});
