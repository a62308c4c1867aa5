// DefaultPreemption's decision as the scheduler computes it: the fewest victims by reprieve in importance
// order, PodDisruptionBudgets respected where another node will do, the node choice criteria, preemptionPolicy
// Never, nominated pods holding their room, and no second preemption while a victim is still terminating.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { SchedulerCache } from '../scheduler/cache.ts';
import { podSchedulingInfo } from '../scheduler/filters.ts';
import { SchedulingAlgorithm } from '../scheduler/algorithm.ts';
import { describePodOnNode } from '../scheduler/node-info.ts';
import { Nominator } from '../scheduler/nominator.ts';
import { pickCandidate, type DisruptionBudget, type PreemptionCandidate } from '../scheduler/preemption.ts';

function node(name: string, cpu = '4'): V1Node {
  return { metadata: { name, labels: {} }, spec: {}, status: { allocatable: { cpu, memory: '8Gi', pods: '110' } } };
}

function pod(name: string, cpu: string, priority: number, extra: { nodeName?: string; labels?: Record<string, string>; startTime?: string; policy?: string } = {}): V1Pod {
  return {
    metadata: { name, namespace: 'default', uid: `uid-${name}`, labels: extra.labels, creationTimestamp: new Date(extra.startTime ?? '2026-01-01T00:00:00Z') },
    spec: {
      containers: [{ name: 'c', image: 'pause', resources: { requests: { cpu } } }], priority, nodeName: extra.nodeName,
      preemptionPolicy: extra.policy,
    },
    status: extra.startTime ? { startTime: new Date(extra.startTime) } : {},
  };
}

function cacheWith(nodes: V1Node[], pods: V1Pod[]): SchedulerCache {
  const cache = new SchedulerCache();
  for (const n of nodes) cache.addOrUpdateNode(n);
  for (const p of pods) cache.addOrUpdateAssignedPod(p);
  return cache;
}

function victimsOf(result: ReturnType<SchedulingAlgorithm['schedule']>): string[] | undefined {
  return result.kind === 'unschedulable' ? result.preemption?.victims.map((v) => v.identity.name) : undefined;
}

describe('preemption', () => {
  test('the fewest victims: the most important pods are reprieved first, the rest go', () => {
    const cache = cacheWith([node('n1')], [
      pod('p1', '800m', 1, { nodeName: 'n1' }), pod('p2', '1200m', 2, { nodeName: 'n1' }), pod('p3', '1800m', 3, { nodeName: 'n1' }),
    ]);
    const result = new SchedulingAlgorithm().schedule(podSchedulingInfo(pod('p4', '2', 4)), cache.nodeList(), { podKey: 'uid-p4' });
    assert.equal(result.kind, 'unschedulable');
    assert.equal(result.kind === 'unschedulable' && result.preemption?.nodeName, 'n1');
    assert.deepEqual(victimsOf(result), ['p2', 'p1']);
    // A successful PostFilter leaves the preemption part out of the FailedScheduling message.
    assert.equal(result.kind === 'unschedulable' && result.message, '0/1 nodes are available: 1 Insufficient cpu.');
  });

  test('pods of equal or higher priority are never victims', () => {
    const cache = cacheWith([node('n1')], [pod('same', '3', 5, { nodeName: 'n1' })]);
    const result = new SchedulingAlgorithm().schedule(podSchedulingInfo(pod('new', '2', 5)), cache.nodeList(), { podKey: 'uid-new' });
    assert.equal(victimsOf(result), undefined);
    assert.equal(result.kind === 'unschedulable' && result.message,
      '0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.');
  });

  test('a node whose victim a PodDisruptionBudget protects is avoided when another will do', () => {
    const cache = cacheWith([node('n1'), node('n2')], [
      pod('guarded', '3', 1, { nodeName: 'n1', labels: { app: 'db' } }), pod('free', '3', 1, { nodeName: 'n2', labels: { app: 'web' } }),
    ]);
    const budgets: DisruptionBudget[] = [{ namespace: 'default', selector: { matchLabels: { app: 'db' } }, disruptionsAllowed: 0, disruptedPods: new Set() }];
    const result = new SchedulingAlgorithm().schedule(podSchedulingInfo(pod('high', '2', 10)), cache.nodeList(), { podKey: 'uid-high', budgets });
    assert.equal(result.kind === 'unschedulable' && result.preemption?.nodeName, 'n2');
    assert.equal(result.kind === 'unschedulable' && result.preemption?.pdbViolations, 0);
    // With the budget the only way, it is violated (preemption does not guarantee budgets), and counted.
    const only = cacheWith([node('n1')], [pod('guarded', '3', 1, { nodeName: 'n1', labels: { app: 'db' } })]);
    const forced = new SchedulingAlgorithm().schedule(podSchedulingInfo(pod('high', '2', 10)), only.nodeList(), { podKey: 'uid-high', budgets });
    assert.deepEqual(victimsOf(forced), ['guarded']);
    assert.equal(forced.kind === 'unschedulable' && forced.preemption?.pdbViolations, 1);
  });

  test('node choice: lowest highest victim priority, then fewest victims, then the latest start', () => {
    const cache = cacheWith([node('n1'), node('n2')], [
      pod('mid', '3', 5, { nodeName: 'n1' }), pod('low-a', '2', 1, { nodeName: 'n2' }), pod('low-b', '2', 1, { nodeName: 'n2' }),
    ]);
    const result = new SchedulingAlgorithm().schedule(podSchedulingInfo(pod('high', '3', 10)), cache.nodeList(), { podKey: 'uid-high' });
    assert.equal(result.kind === 'unschedulable' && result.preemption?.nodeName, 'n2');
    const entry = (name: string, priority: number, start: number): PreemptionCandidate['victims'][number] => ({
      key: name, entry: { ...describePodOnNode(pod(name, '1', priority)) },
      identity: { namespace: 'default', name, uid: name, labels: undefined, startTime: start, terminating: false, terminatingByPreemption: false },
    });
    const picked = pickCandidate([
      { nodeName: 'a', victims: [entry('x', 1, 100), entry('y', 1, 100)], pdbViolations: 0 },
      { nodeName: 'b', victims: [entry('z', 1, 100)], pdbViolations: 0 },
    ]);
    assert.equal(picked?.nodeName, 'b');
    const latest = pickCandidate([
      { nodeName: 'old', victims: [entry('x', 1, 100)], pdbViolations: 0 },
      { nodeName: 'young', victims: [entry('y', 1, 500)], pdbViolations: 0 },
    ]);
    assert.equal(latest?.nodeName, 'young');
  });

  test('preemptionPolicy Never: no victims, upstream message', () => {
    const cache = cacheWith([node('n1')], [pod('low', '3', 1, { nodeName: 'n1' })]);
    const result = new SchedulingAlgorithm().schedule(podSchedulingInfo(pod('polite', '2', 10, { policy: 'Never' })), cache.nodeList(), { podKey: 'uid-polite' });
    assert.equal(victimsOf(result), undefined);
    assert.equal(result.kind === 'unschedulable' && result.message,
      '0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never.');
  });

  test('a nominated pod holds its room against pods of lower or equal priority', () => {
    const cache = cacheWith([node('n1')], []);
    const nominator = new Nominator();
    nominator.nominate('uid-big', 'n1', describePodOnNode(pod('big', '3', 10)));
    const low = new SchedulingAlgorithm().schedule(podSchedulingInfo(pod('low', '2', 1, { policy: 'Never' })), cache.nodeList(), { podKey: 'uid-low', nominator });
    assert.equal(low.kind, 'unschedulable');
    const higher = new SchedulingAlgorithm().schedule(podSchedulingInfo(pod('higher', '2', 20)), cache.nodeList(), { podKey: 'uid-higher', nominator });
    assert.equal(higher.kind === 'scheduled' && higher.nodeName, 'n1');
    const itself = new SchedulingAlgorithm().schedule(podSchedulingInfo(pod('big', '3', 10)), cache.nodeList(), { podKey: 'uid-big', nominator });
    assert.equal(itself.kind, 'scheduled');
  });

  test('no second preemption while a victim of the first is terminating on the nominated node', () => {
    const victim = pod('victim', '3', 1, { nodeName: 'n1' });
    victim.metadata!.deletionTimestamp = new Date();
    victim.status = { conditions: [{ type: 'DisruptionTarget', status: 'True', reason: 'PreemptionByScheduler' }] };
    const cache = cacheWith([node('n1')], [victim, pod('other', '1', 1, { nodeName: 'n1' })]);
    const nominator = new Nominator();
    const preemptor = pod('high', '2', 10);
    nominator.nominate('uid-high', 'n1', describePodOnNode(preemptor));
    const result = new SchedulingAlgorithm().schedule(podSchedulingInfo(preemptor), cache.nodeList(), { podKey: 'uid-high', nominator });
    assert.equal(victimsOf(result), undefined);
    assert.equal(result.kind === 'unschedulable' && result.message,
      '0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible due to a terminating pod on the nominated node.');
  });
});
