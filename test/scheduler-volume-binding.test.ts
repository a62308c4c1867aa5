// VolumeBinding's PreFilter as the scheduler computes it: unbound Immediate claims, missing, lost and
// terminating claims keep a pod off every node with upstream's FailedScheduling text; bound claims and
// WaitForFirstConsumer classes do not.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Node, V1PersistentVolumeClaim, V1Pod, V1StorageClass } from '@kubernetes/client-node';
import { SchedulerCache } from '../scheduler/cache.ts';
import { podSchedulingInfo } from '../scheduler/filters.ts';
import { SchedulingAlgorithm } from '../scheduler/algorithm.ts';
import type { ClaimLookup } from '../scheduler/volume-binding.ts';

function node(name: string): V1Node {
  return { metadata: { name, labels: {} }, spec: {}, status: { allocatable: { cpu: '4', memory: '8Gi', pods: '110' } } };
}

function podWithClaim(claimName: string, extra: Partial<V1Pod['spec']> = {}): V1Pod {
  return {
    metadata: { name: 'web-0', namespace: 'default', uid: 'uid-web-0' },
    spec: { containers: [{ name: 'c', image: 'nginx' }], volumes: [{ name: 'data', persistentVolumeClaim: { claimName } }], ...extra },
  };
}

function claim(name: string, extra: { phase?: string; storageClassName?: string; volumeName?: string; deleting?: boolean } = {}): V1PersistentVolumeClaim {
  return {
    metadata: { name, namespace: 'default', ...(extra.deleting ? { deletionTimestamp: new Date() } : {}) },
    spec: { accessModes: ['ReadWriteOnce'], storageClassName: extra.storageClassName, volumeName: extra.volumeName },
    status: { phase: extra.phase ?? 'Pending' },
  };
}

function lookup(claims: V1PersistentVolumeClaim[], classes: V1StorageClass[] = []): ClaimLookup {
  return {
    claim: (namespace, name) => claims.find((c) => c.metadata?.namespace === namespace && c.metadata?.name === name),
    storageClass: (name) => classes.find((c) => c.metadata?.name === name),
  };
}

const nodes = (() => {
  const cache = new SchedulerCache();
  for (const name of ['n1', 'n2', 'n3']) cache.addOrUpdateNode(node(name));
  return cache.nodeList();
})();

function schedule(pod: V1Pod, claims: ClaimLookup) {
  return new SchedulingAlgorithm().schedule(podSchedulingInfo(pod), nodes, { podKey: 'uid-web-0', volumeClaims: claims });
}

describe('VolumeBinding PreFilter', () => {
  test('an unbound Immediate claim: no node, no preemption, the message kube-scheduler writes', () => {
    const result = schedule(podWithClaim('data-web-0'), lookup([claim('data-web-0', { storageClassName: 'standard' })],
      [{ apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'standard' }, provisioner: 'x', volumeBindingMode: 'Immediate' }]));
    assert.equal(result.kind, 'unschedulable');
    assert.equal(result.kind === 'unschedulable' && result.message,
      '0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.');
    assert.equal(result.kind === 'unschedulable' && result.preemption, undefined);
    assert.equal(result.kind === 'unschedulable' && result.nodeStatuses.get('n1')?.code, 'UnschedulableAndUnresolvable');
    const never = schedule(podWithClaim('data-web-0', { preemptionPolicy: 'Never' }), lookup([claim('data-web-0')]));
    assert.equal(never.kind === 'unschedulable' && never.message,
      '0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: not eligible due to preemptionPolicy=Never.');
  });

  test('missing, lost and terminating claims name the claim', () => {
    const message = (claims: V1PersistentVolumeClaim[]) => {
      const result = schedule(podWithClaim('data-web-0'), lookup(claims));
      return result.kind === 'unschedulable' ? result.message.split('. preemption')[0] : result.kind;
    };
    assert.equal(message([]), '0/3 nodes are available: persistentvolumeclaim "data-web-0" not found');
    assert.equal(message([claim('data-web-0', { phase: 'Lost', volumeName: 'pv-1' })]),
      '0/3 nodes are available: persistentvolumeclaim "data-web-0" bound to non-existent persistentvolume "pv-1"');
    assert.equal(message([claim('data-web-0', { phase: 'Bound', volumeName: 'pv-1', deleting: true })]),
      '0/3 nodes are available: persistentvolumeclaim "data-web-0" is being deleted');
  });

  test('a bound claim, or one of a WaitForFirstConsumer class, lets the pod schedule', () => {
    assert.equal(schedule(podWithClaim('data-web-0'), lookup([claim('data-web-0', { phase: 'Bound', volumeName: 'pv-1' })])).kind, 'scheduled');
    const local: V1StorageClass = { metadata: { name: 'local' }, provisioner: 'kubernetes.io/no-provisioner', volumeBindingMode: 'WaitForFirstConsumer' };
    assert.equal(schedule(podWithClaim('data-web-0'), lookup([claim('data-web-0', { storageClassName: 'local' })], [local])).kind, 'scheduled');
    // Pods without claims are not affected, and no lookup means no check.
    assert.equal(new SchedulingAlgorithm().schedule(podSchedulingInfo(podWithClaim('none')), nodes, { podKey: 'x' }).kind, 'scheduled');
  });
});
