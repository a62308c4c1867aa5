import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { CoreV1Event, V1Node, V1Pod } from '@kubernetes/client-node';
import { EventRecorder, type EventSink } from '../scheduler/event-recorder.ts';
import { quantityMilliValue, quantityValue } from '../scheduler/quantity.ts';
import { podRequests } from '../scheduler/pod-resources.ts';
import { SchedulerCache } from '../scheduler/cache.ts';
import { podSchedulingInfo, runFilters, toleratesTaint } from '../scheduler/filters.ts';
import { fitErrorMessage } from '../scheduler/fit-error.ts';
import { numFeasibleNodesToFind, selectHostIndex } from '../scheduler/sampling.ts';
import { balancedAllocationScore, defaultNormalizeScore, leastAllocatedScore, scoreNodes } from '../scheduler/scores.ts';
import { SchedulingAlgorithm } from '../scheduler/algorithm.ts';
import { SchedulingQueue } from '../scheduler/queue.ts';

function node(name: string, opts: { cpu?: string; memory?: string; pods?: string; labels?: Record<string, string>;
  taints?: V1Node['spec'] extends infer S ? S extends { taints?: infer T } ? T : never : never; unschedulable?: boolean } = {}): V1Node {
  return {
    metadata: { name, labels: opts.labels ?? {} },
    spec: { taints: opts.taints, unschedulable: opts.unschedulable },
    status: { allocatable: { cpu: opts.cpu ?? '4', memory: opts.memory ?? '8Gi', pods: opts.pods ?? '110' } },
  };
}

function pod(name: string, spec: Partial<V1Pod['spec']> = {}, requests?: Record<string, string>, priority?: number): V1Pod {
  return {
    metadata: { name, namespace: 'default', uid: `uid-${name}` },
    spec: { containers: [{ name: 'c', image: 'nginx', resources: requests ? { requests } : undefined }], priority, ...spec },
  };
}

function cacheWith(nodes: V1Node[]): SchedulerCache {
  const cache = new SchedulerCache();
  for (const n of nodes) cache.addOrUpdateNode(n);
  return cache;
}

function failureReasons(p: V1Pod, n: V1Node): string[] | undefined {
  const info = cacheWith([n]).getNodeInfo(n.metadata!.name!)!;
  return runFilters(podSchedulingInfo(p), info)?.reasons;
}

describe('quantity parsing', () => {
  test('cpu and memory forms', () => {
    assert.equal(quantityMilliValue('100m'), 100);
    assert.equal(quantityMilliValue('1'), 1000);
    assert.equal(quantityMilliValue('0.5'), 500);
    assert.equal(quantityMilliValue('1e3'), 1_000_000);
    assert.equal(quantityMilliValue('1.5E-1'), 150);
    assert.equal(quantityMilliValue('1u'), 1, 'rounds up like MilliValue');
    assert.equal(quantityValue('128Mi'), 128 * 1024 * 1024);
    assert.equal(quantityValue('1G'), 1_000_000_000);
    assert.equal(quantityValue('1Ki'), 1024);
    assert.equal(quantityValue('1e3'), 1000);
    assert.equal(quantityValue('100m'), 1, 'Value rounds up');
    assert.equal(quantityValue('1E'), 10 ** 18);
    assert.throws(() => quantityValue('12x'));
  });
});

describe('pod requests', () => {
  test('containers summed, init containers as max, sidecars added, overhead added, limits default requests', () => {
    const p: V1Pod = {
      metadata: { name: 'p' },
      spec: {
        containers: [
          { name: 'a', resources: { requests: { cpu: '2', memory: '1G' } } },
          { name: 'b', resources: { limits: { cpu: '1', memory: '1G' } } },
        ],
        initContainers: [
          { name: 'i1', resources: { requests: { cpu: '2', memory: '3G' } } },
          { name: 'side', restartPolicy: 'Always', resources: { requests: { cpu: '500m' } } },
        ],
        overhead: { cpu: '100m' },
      },
    };
    const r = podRequests(p);
    assert.equal(r.milliCPU, 3000 + 500 + 100);
    assert.equal(r.memory, 3_000_000_000);
    const nonZero = podRequests(pod('x'), true);
    assert.deepEqual([nonZero.milliCPU, nonZero.memory], [100, 200 * 1024 * 1024]);
  });
});

describe('filters', () => {
  test('NodeUnschedulable unless tolerated', () => {
    const n = node('n', { unschedulable: true });
    assert.deepEqual(failureReasons(pod('p'), n), ['node(s) were unschedulable']);
    const tolerant = pod('p', { tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }] });
    assert.equal(failureReasons(tolerant, n), undefined);
  });

  test('TaintToleration: NoSchedule/NoExecute, Equal/Exists, empty key with Exists', () => {
    const n = node('n', { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }, { key: 'soft', effect: 'PreferNoSchedule' }] });
    assert.deepEqual(failureReasons(pod('p'), n), ['node(s) had untolerated taint {dedicated: gpu}']);
    assert.equal(failureReasons(pod('p', { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'gpu' }] }), n), undefined);
    assert.deepEqual(failureReasons(pod('p', { tolerations: [{ key: 'dedicated', value: 'cpu' }] }), n), ['node(s) had untolerated taint {dedicated: gpu}']);
    assert.equal(failureReasons(pod('p', { tolerations: [{ operator: 'Exists' }] }), n), undefined);
    assert.equal(failureReasons(pod('p', { tolerations: [{ key: 'dedicated', operator: 'Exists', effect: 'NoSchedule' }] }), n), undefined);
    assert.equal(toleratesTaint({ key: 'dedicated', operator: 'Exists', effect: 'NoExecute' }, { key: 'dedicated', effect: 'NoSchedule' }), false);
    const unreachable = node('u', { taints: [{ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' }] });
    assert.deepEqual(failureReasons(pod('p'), unreachable), ['node(s) had untolerated taint {node.kubernetes.io/unreachable: }']);
  });

  test('NodeAffinity: nodeSelector, match expressions and fields', () => {
    const n = node('node1', { labels: { zone: 'a', gen: '5' } });
    const reason = ["node(s) didn't match Pod's node affinity/selector"];
    assert.equal(failureReasons(pod('p', { nodeSelector: { zone: 'a' } }), n), undefined);
    assert.deepEqual(failureReasons(pod('p', { nodeSelector: { zone: 'b' } }), n), reason);
    const affinity = (expr: object[], fields: object[] = []): Partial<V1Pod['spec']> => ({
      affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: expr as never, matchFields: fields as never }] } } },
    });
    const cases: Array<[object[], boolean]> = [
      [[{ key: 'zone', operator: 'In', values: ['a', 'b'] }], true],
      [[{ key: 'zone', operator: 'NotIn', values: ['a'] }], false],
      [[{ key: 'missing', operator: 'NotIn', values: ['a'] }], true],
      [[{ key: 'zone', operator: 'Exists' }], true],
      [[{ key: 'zone', operator: 'DoesNotExist' }], false],
      [[{ key: 'gen', operator: 'Gt', values: ['4'] }], true],
      [[{ key: 'gen', operator: 'Lt', values: ['5'] }], false],
      [[{ key: 'zone', operator: 'Gt', values: ['1'] }], false],
      [[], false],
    ];
    for (const [expr, fits] of cases) {
      assert.deepEqual(failureReasons(pod('p', affinity(expr)), n), fits ? undefined : reason, JSON.stringify(expr));
    }
    assert.equal(failureReasons(pod('p', affinity([], [{ key: 'metadata.name', operator: 'In', values: ['node1'] }])), n), undefined);
    assert.deepEqual(failureReasons(pod('p', affinity([], [{ key: 'metadata.name', operator: 'NotIn', values: ['node1'] }])), n), reason);
  });

  test('NodePorts and NodeResourcesFit', () => {
    const cache = cacheWith([node('n', { cpu: '1', memory: '1Gi', pods: '2' })]);
    const withPort = (name: string, hostIP?: string): V1Pod => pod(name, { containers: [{ name: 'c', ports: [{ containerPort: 80, hostPort: 8080, hostIP }] }] });
    cache.assumePod(withPort('a', '127.0.0.1'), 'n');
    const info = cache.getNodeInfo('n')!;
    assert.deepEqual(runFilters(podSchedulingInfo(withPort('b')), info)?.reasons, ["node(s) didn't have free ports for the requested pod ports"]);
    assert.equal(runFilters(podSchedulingInfo(withPort('c', '127.0.0.2')), info), undefined);
    assert.deepEqual(runFilters(podSchedulingInfo(pod('big', {}, { cpu: '2', memory: '2Gi' })), info)?.reasons, ['Insufficient cpu', 'Insufficient memory']);
    cache.assumePod(pod('second'), 'n');
    assert.deepEqual(runFilters(podSchedulingInfo(pod('third')), info)?.reasons, ['Too many pods']);
    cache.forgetPod(pod('second'));
    assert.equal(runFilters(podSchedulingInfo(pod('third')), info), undefined);
  });
});

describe('scores', () => {
  test('normalisation, least allocated and balanced allocation', () => {
    assert.deepEqual(defaultNormalizeScore([0, 1, 2], true), [100, 50, 0]);
    assert.deepEqual(defaultNormalizeScore([0, 0], true), [100, 100]);
    assert.deepEqual(defaultNormalizeScore([1, 3], false), [33, 100]);
    const cache = cacheWith([node('n', { cpu: '4', memory: '4Gi' })]);
    const info = cache.getNodeInfo('n')!;
    const p = podSchedulingInfo(pod('p', {}, { cpu: '1', memory: '2Gi' }));
    assert.equal(leastAllocatedScore(p, info), Math.trunc((75 + 50) / 2));
    assert.equal(balancedAllocationScore(p, info), Math.trunc((1 - Math.abs(0.25 - 0.5) / 2) * 100));
  });

  test('PreferNoSchedule taints and preferred affinity steer the choice', () => {
    const cache = cacheWith([
      node('tainted', { taints: [{ key: 'x', effect: 'PreferNoSchedule' }] }),
      node('clean'),
      node('preferred', { labels: { disk: 'ssd' } }),
    ]);
    const plain = podSchedulingInfo(pod('p'));
    const [tainted, clean] = scoreNodes(plain, cache.nodeList());
    assert.equal(clean - tainted, 300);
    const prefers = podSchedulingInfo(pod('p', { affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [
      { weight: 10, preference: { matchExpressions: [{ key: 'disk', operator: 'In', values: ['ssd'] }] } }] } } }));
    const algorithm = new SchedulingAlgorithm();
    const result = algorithm.schedule(prefers, cache.nodeList());
    assert.equal(result.kind === 'scheduled' && result.nodeName, 'preferred');
  });
});

describe('FitError messages', () => {
  test('format matches real clusters', () => {
    assert.equal(
      fitErrorMessage(3, [['node(s) had untolerated taint {machine-check-exception: memory}'], ['Insufficient cpu'], ['Insufficient cpu']],
        `preemption: ${fitErrorMessage(3, [['Preemption is not helpful for scheduling'], ['No preemption victims found for incoming pod'], ['No preemption victims found for incoming pod']])}`),
      '0/3 nodes are available: 1 node(s) had untolerated taint {machine-check-exception: memory}, 2 Insufficient cpu. preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.',
    );
  });

  test('the algorithm produces the exact message', () => {
    const cache = cacheWith([
      node('n1', { cpu: '1' }),
      node('n2', { labels: { zone: 'b' } }),
      node('n3', { labels: { zone: 'b' } }),
    ]);
    const p = podSchedulingInfo(pod('nginx', { nodeSelector: { zone: 'a' } }, { cpu: '2' }));
    // n1 has no zone label, so every node fails affinity before resources are checked.
    const r1 = new SchedulingAlgorithm().schedule(p, cache.nodeList());
    assert.equal(r1.kind === 'unschedulable' && r1.message,
      "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.");
    const cache2 = cacheWith([node('n1', { cpu: '1', labels: { zone: 'a' } }), node('n2', { labels: { zone: 'b' } }), node('n3', { labels: { zone: 'b' } })]);
    const r2 = new SchedulingAlgorithm().schedule(p, cache2.nodeList());
    assert.equal(r2.kind === 'unschedulable' && r2.message,
      "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling.");
    const r3 = new SchedulingAlgorithm().schedule(p, []);
    assert.equal(r3.kind === 'unschedulable' && r3.message, 'no nodes available to schedule pods');
  });

  test('lower-priority pods that would not free enough room keep the filter reason', () => {
    const cache = cacheWith([node('n1', { cpu: '1' })]);
    cache.addOrUpdateAssignedPod({ ...pod('low', {}, { cpu: '100m' }, 0), spec: { ...pod('low', {}, { cpu: '100m' }, 0).spec!, nodeName: 'n1' } });
    const r = new SchedulingAlgorithm().schedule(podSchedulingInfo(pod('high', {}, { cpu: '2' }, 100)), cache.nodeList());
    assert.equal(r.kind === 'unschedulable' && r.message,
      '0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 Insufficient cpu.');
  });
});

describe('sampling', () => {
  test('numFeasibleNodesToFind as upstream', () => {
    assert.equal(numFeasibleNodesToFind(50), 50);
    assert.equal(numFeasibleNodesToFind(100), 100);
    assert.equal(numFeasibleNodesToFind(1000), 420);
    assert.equal(numFeasibleNodesToFind(5000), 500);
    assert.equal(numFeasibleNodesToFind(6000), 300);
    assert.equal(numFeasibleNodesToFind(10000), 500);
    assert.equal(numFeasibleNodesToFind(1000, 1), 100);
    assert.equal(numFeasibleNodesToFind(1000, 100), 1000);
  });

  test('a cycle at 5,000 nodes filters only the sample and rotates the start', () => {
    const nodes: V1Node[] = [];
    for (let i = 0; i < 5000; i++) nodes.push(node(`n${i}`));
    const cache = cacheWith(nodes);
    const algorithm = new SchedulingAlgorithm();
    const result = algorithm.schedule(podSchedulingInfo(pod('p')), cache.nodeList());
    assert.equal(result.kind === 'scheduled' && result.evaluatedNodes, 500);
    assert.equal(algorithm.nextStartNodeIndex, 500);
  });

  test('selectHost picks the best, ties uniformly by reservoir sampling', () => {
    assert.equal(selectHostIndex([1, 5, 3]), 1);
    const seen = new Set<number>();
    for (let i = 0; i < 200; i++) seen.add(selectHostIndex([7, 7, 2, 7]));
    assert.deepEqual([...seen].sort(), [0, 1, 3]);
  });
});

describe('scheduling queue', () => {
  test('priority then FIFO; backoff doubles to 10s', async () => {
    const queue = new SchedulingQueue();
    queue.addOrUpdate(pod('a'));
    queue.addOrUpdate(pod('b', {}, undefined, 10));
    queue.addOrUpdate(pod('c'));
    const order = [];
    for (let i = 0; i < 3; i++) order.push((await queue.pop())!.pod.metadata!.name);
    assert.deepEqual(order, ['b', 'a', 'c']);
    assert.deepEqual([1, 2, 3, 4, 5, 6].map((n) => queue.backoffDuration(n)), [1000, 2000, 4000, 8000, 10000, 10000]);
    queue.close();
  });

  test('unschedulable pods return on a cluster event; an event during the cycle is not lost', async () => {
    let now = 0;
    const queue = new SchedulingQueue({ now: () => now });
    queue.addOrUpdate(pod('a'));
    const first = (await queue.pop())!;
    queue.requeueAfterFailure(first, true);
    assert.equal(queue.pendingCounts.unschedulable, 1);
    now = 5000;
    queue.moveAllToActiveOrBackoff();
    assert.equal(queue.pendingCounts.active, 1);
    const second = (await queue.pop())!;
    queue.moveAllToActiveOrBackoff();
    queue.requeueAfterFailure(second, true);
    assert.equal(queue.pendingCounts.backoff, 1, 'moved during its cycle: goes to backoff, not unschedulable');
    queue.delete(pod('a'));
    assert.equal(queue.has(pod('a')), false);
    queue.close();
  });

  test('status-only updates do not wake an unschedulable pod', async () => {
    const queue = new SchedulingQueue();
    queue.addOrUpdate(pod('a'));
    queue.requeueAfterFailure((await queue.pop())!, true);
    queue.addOrUpdate({ ...pod('a'), status: { conditions: [{ type: 'PodScheduled', status: 'False' }] } });
    assert.equal(queue.pendingCounts.unschedulable, 1);
    queue.addOrUpdate(pod('a', { tolerations: [{ operator: 'Exists' }] }));
    assert.equal(queue.pendingCounts.unschedulable, 0);
    queue.close();
  });
});

describe('scheduler cache', () => {
  test('assumed pods count at once, are confirmed by the informer, released when terminal or deleted', () => {
    const cache = cacheWith([node('n', { cpu: '1' })]);
    const p = pod('a', {}, { cpu: '600m' });
    cache.assumePod(p, 'n');
    assert.equal(cache.getNodeInfo('n')!.requested.milliCPU, 600);
    assert.equal(cache.isAssumed(p), true);
    const bound: V1Pod = { ...p, spec: { ...p.spec!, nodeName: 'n' } };
    cache.addOrUpdateAssignedPod(bound);
    assert.equal(cache.isAssumed(p), false);
    cache.forgetPod(p);
    assert.equal(cache.getNodeInfo('n')!.requested.milliCPU, 600, 'forget after confirmation keeps the pod');
    cache.addOrUpdateAssignedPod({ ...bound, status: { phase: 'Succeeded' } });
    assert.equal(cache.getNodeInfo('n')!.requested.milliCPU, 0);
    cache.addOrUpdateAssignedPod(bound);
    cache.removePod(bound);
    assert.equal(cache.getNodeInfo('n')!.pods.size, 0);
    cache.removeNode('n');
    assert.equal(cache.nodeList().length, 0);
  });
});

describe('event recorder', () => {
  test('identical events are patched (count, lastTimestamp), new messages create events', async () => {
    const calls: Array<{ verb: string; body: Record<string, unknown> }> = [];
    const sink = {
      createNamespacedEvent: async (param: { body: CoreV1Event }) => {
        calls.push({ verb: 'create', body: param.body as unknown as Record<string, unknown> });
        return param.body;
      },
      patchNamespacedEvent: async (param: { name: string; body: Record<string, unknown> }) => {
        calls.push({ verb: 'patch', body: { name: param.name, ...param.body } });
        return {} as CoreV1Event;
      },
    } as unknown as EventSink;
    let now = new Date('2025-01-01T00:00:00.400Z');
    const recorder = new EventRecorder(sink, 'default-scheduler', { info: () => {}, error: () => {} }, () => now);
    const p = pod('nginx');
    await recorder.recordPodEvent(p, 'Warning', 'FailedScheduling', 'Scheduling', 'msg one');
    now = new Date('2025-01-01T00:00:05Z');
    await recorder.recordPodEvent(p, 'Warning', 'FailedScheduling', 'Scheduling', 'msg one');
    await recorder.recordPodEvent(p, 'Warning', 'FailedScheduling', 'Scheduling', 'msg two');
    assert.deepEqual(calls.map((c) => c.verb), ['create', 'patch', 'create']);
    const created = calls[0].body as unknown as CoreV1Event;
    assert.equal(created.count, 1);
    assert.equal(created.source?.component, 'default-scheduler');
    assert.equal(created.reportingComponent, 'default-scheduler');
    assert.equal(created.involvedObject.name, 'nginx');
    assert.equal(created.firstTimestamp, '2025-01-01T00:00:00Z');
    assert.equal(created.metadata.name, `nginx.${(BigInt(Date.parse('2025-01-01T00:00:00.400Z')) * 1_000_000n).toString(16)}`);
    assert.deepEqual(calls[1].body, { name: created.metadata.name, count: 2, lastTimestamp: '2025-01-01T00:00:05Z', message: 'msg one' });
  });
});
