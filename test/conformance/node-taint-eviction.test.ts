// Conformance entries of sig-node about NoExecute taints (test/e2e/node/taints.go), on `up`'s cluster with
// its taint eviction controller: pods are evicted as their tolerationSeconds run out, and removing the taint
// before then cancels the eviction. Upstream waits 5 and 25 s (plus 60 s for the kubelet); these use 2 and
// 6 s, the behaviour checked is the same.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startConformanceCluster, podManifest, until, type ConformanceCluster, type Json } from './helpers/cluster.ts';
import { openWatch, type OpenWatch } from '../helpers/watch-client.ts';
import type { TestServer } from '../helpers/api-server.ts';

const MERGE = 'application/merge-patch+json';

describe('conformance: NoExecuteTaintManager', () => {
  let c: ConformanceCluster;
  let node: string;
  let namespaceCount = 0;
  before(async () => {
    c = await startConformanceCluster('node-taint-eviction', { nodes: 1 });
    node = c.nodes[0];
  });
  after(async () => { await c.stop(); });

  const namespace = async (): Promise<string> => {
    const name = `taint-multiple-pods-${++namespaceCount}`;
    await c.api('post', '/api/v1/namespaces', { body: { metadata: { name } }, expect: 201 });
    return name;
  };
  /** The taint the e2e test puts on the node running its pods (a random kubernetes.io/e2e-evict-taint-key value). */
  const taint = (n: number) => ({ key: 'kubernetes.io/e2e-evict-taint-key', value: `evictTaintVal-${n}`, effect: 'NoExecute' });
  const setTaints = (taints: Json[]) => c.api('patch', `/api/v1/nodes/${node}`, { body: { spec: { taints } }, contentType: MERGE });

  /** createPodForTaintsTest: a pod tolerating the taint for `seconds`, running on the node. */
  const createPod = async (ns: string, name: string, group: string, tolerated: Json, seconds: number): Promise<Json> => {
    const toleration = { key: tolerated.key, operator: 'Equal', value: tolerated.value, effect: 'NoExecute', tolerationSeconds: seconds };
    await c.api('post', `/api/v1/namespaces/${ns}/pods`, { body: podManifest(name, { labels: { group }, spec: { tolerations: [toleration] } }), expect: 201 });
    return until(async () => {
      const pod = await c.api('get', `/api/v1/namespaces/${ns}/pods/${name}`);
      return pod.spec.nodeName === node && pod.status.phase === 'Running' ? pod : undefined;
    }, `pod ${name} running`);
  };

  /** Watches the group's pods; records when each was marked for deletion (its deletionTimestamp appeared). */
  const observeDeletions = async (ns: string, group: string, resourceVersion: string): Promise<{ watch: OpenWatch; marked: Map<string, number>; deleted: Set<string> }> => {
    const server = { url: c.server.url, server: c.server } as Pick<TestServer, 'url' | 'server'> as TestServer;
    const watch = await openWatch(server, `/api/v1/namespaces/${ns}/pods?watch=true&labelSelector=group=${group}&resourceVersion=${resourceVersion}`);
    const marked = new Map<string, number>();
    const deleted = new Set<string>();
    void (async () => {
      for (;;) {
        const event = await watch.next(120_000).catch(() => undefined);
        if (!event) return;
        const name = String(event.object.metadata?.name);
        if (event.object.metadata?.deletionTimestamp && !marked.has(name)) marked.set(name, Date.now());
        if (event.type === 'DELETED') {
          if (!marked.has(name)) marked.set(name, Date.now());
          deleted.add(name);
        }
      }
    })();
    return { watch, marked, deleted };
  };

  test('Pod Eviction, Toleration limits', async () => {
    const ns = await namespace();
    const group = 'taint-eviction-b';
    const tainted = taint(1);
    await createPod(ns, `${group}1`, group, tainted, 2);
    const pod2 = await createPod(ns, `${group}2`, group, tainted, 6);
    const { watch, marked, deleted } = await observeDeletions(ns, group, pod2.metadata.resourceVersion);
    try {
      const taintedAt = Date.now();
      await setTaints([tainted]);
      await until(async () => (deleted.size === 2 ? true : undefined), 'both pods evicted', 60_000);
      const first = marked.get(`${group}1`)! - taintedAt;
      const second = marked.get(`${group}2`)! - taintedAt;
      assert.ok(first >= 1800, `pod 1 evicted after ${first} ms, before its 2 s toleration ran out`);
      assert.ok(second >= 5800, `pod 2 evicted after ${second} ms, before its 6 s toleration ran out`);
      assert.ok(first < second, 'the pod with the shorter toleration goes first');
    } finally {
      watch.close();
      await setTaints([]);
    }
  });

  test('Taint, Pod Eviction on taint removal', async () => {
    const ns = await namespace();
    const group = 'taint-eviction-4';
    const tainted = taint(2);
    const pod = await createPod(ns, group, group, tainted, 4);
    const { watch, marked } = await observeDeletions(ns, group, pod.metadata.resourceVersion);
    try {
      await setTaints([tainted]);
      await new Promise((resolve) => setTimeout(resolve, 2000));
      await setTaints([]);
      // Past the deadline the taint would have set, with time to spare for a deletion to show.
      await new Promise((resolve) => setTimeout(resolve, 4000));
      assert.equal(marked.size, 0, 'the pod was not evicted');
      const after = await c.api('get', `/api/v1/namespaces/${ns}/pods/${group}`);
      assert.equal(after.metadata.deletionTimestamp, undefined);
      assert.equal(after.status.phase, 'Running');
    } finally {
      watch.close();
    }
  });
});
