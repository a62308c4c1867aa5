import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../api/object.ts';
import { eventStrategy, humanDuration, leaseStrategy, namespaceStrategy, nodeStrategy, podStrategy } from '../api/resources/index.ts';

const now = new Date('2025-01-01T12:00:00Z');
const ago = (seconds: number) => new Date(now.getTime() - seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');

function pod(status: Record<string, unknown>, extra: Partial<KubeObject> = {}, spec: Record<string, unknown> = {}): KubeObject {
  return {
    metadata: { name: 'web', namespace: 'default', creationTimestamp: ago(300), ...(extra.metadata ?? {}) },
    spec: { containers: [{ name: 'a', image: 'x' }], ...spec },
    status,
  };
}

const running = (name: string, ready = true, restartCount = 0) => ({ name, ready, restartCount, state: { running: { startedAt: ago(100) } } });

describe('durations', () => {
  test('HumanDuration', () => {
    const cases: [number, string][] = [
      [-3, '<invalid>'], [-1, '0s'], [0, '0s'], [5, '5s'], [119, '119s'], [123, '2m3s'], [180, '3m'], [600, '10m'],
      [179 * 60, '179m'], [3 * 3600, '3h'], [3 * 3600 + 60 * 5, '3h5m'], [8 * 3600 + 120, '8h'], [52 * 3600, '2d4h'],
      [48 * 3600, '2d'], [10 * 86400, '10d'], [800 * 86400, '2y70d'], [5 * 365 * 86400, '5y'], [9 * 365 * 86400, '9y'],
    ];
    for (const [seconds, text] of cases) assert.equal(humanDuration(seconds * 1000), text, String(seconds));
  });
});

describe('pod rows', () => {
  const cells = (p: KubeObject) => podStrategy.table.cells(p, now);

  test('pending pod with all columns', () => {
    assert.deepEqual(cells(pod({ phase: 'Pending' })), ['web', '0/1', 'Pending', '0', '5m', '<none>', '<none>', '<none>', '<none>']);
  });

  test('running pod, restarts with last restart age, wide columns', () => {
    const p = pod({
      phase: 'Running', podIPs: [{ ip: '10.0.0.7' }], nominatedNodeName: '',
      conditions: [{ type: 'Ready', status: 'True' }, { type: 'gate', status: 'True' }],
      containerStatuses: [
        { ...running('a', true, 3), lastState: { terminated: { exitCode: 1, finishedAt: ago(120) } } },
        running('b', false),
      ],
    }, {}, { nodeName: 'node01', containers: [{ name: 'a' }, { name: 'b' }], readinessGates: [{ conditionType: 'gate' }] });
    assert.deepEqual(cells(p), ['web', '1/2', 'Running', '3 (2m ago)', '5m', '10.0.0.7', 'node01', '<none>', '1/1']);
  });

  test('statuses: ContainerCreating, CrashLoopBackOff, Completed, Error, Terminating, NodeLost', () => {
    assert.equal(cells(pod({ phase: 'Pending', containerStatuses: [{ name: 'a', ready: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } }] }))[2], 'ContainerCreating');
    assert.equal(cells(pod({ phase: 'Running', containerStatuses: [{ name: 'a', ready: false, restartCount: 4, state: { waiting: { reason: 'CrashLoopBackOff' } } }] }))[2], 'CrashLoopBackOff');
    assert.equal(cells(pod({ phase: 'Succeeded', containerStatuses: [{ name: 'a', ready: false, restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } }] }))[2], 'Completed');
    assert.equal(cells(pod({ phase: 'Failed', containerStatuses: [{ name: 'a', ready: false, restartCount: 0, state: { terminated: { exitCode: 2 } } }] }))[2], 'ExitCode:2');
    assert.equal(cells(pod({ phase: 'Running', containerStatuses: [running('a')] }, { metadata: { deletionTimestamp: ago(1) } }))[2], 'Terminating');
    assert.equal(cells(pod({ phase: 'Succeeded' }, { metadata: { deletionTimestamp: ago(1) } }))[2], 'Succeeded');
    assert.equal(cells(pod({ phase: 'Running', reason: 'NodeLost', containerStatuses: [running('a')] }))[2], 'NodeLost');
    assert.equal(cells(pod({ phase: 'Running', reason: 'NodeLost' }, { metadata: { deletionTimestamp: ago(1) } }))[2], 'Unknown');
  });

  test('init containers: Init:x/y, Init:reason, then normal statuses', () => {
    const spec = { initContainers: [{ name: 'i1' }, { name: 'i2' }] };
    const done = { name: 'i1', ready: true, restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } };
    assert.equal(cells(pod({ phase: 'Pending', initContainerStatuses: [
      done, { name: 'i2', ready: false, restartCount: 0, state: { running: { startedAt: ago(3) } } },
    ] }, {}, spec))[2], 'Init:1/2');
    assert.equal(cells(pod({ phase: 'Pending', initContainerStatuses: [
      { name: 'i1', ready: false, restartCount: 2, state: { waiting: { reason: 'CrashLoopBackOff' } } },
    ] }, {}, spec))[2], 'Init:CrashLoopBackOff');
    assert.equal(cells(pod({ phase: 'Pending', initContainerStatuses: [
      { name: 'i1', ready: false, restartCount: 0, state: { terminated: { exitCode: 1, reason: 'Error' } } },
    ] }, {}, spec))[2], 'Init:Error');
    assert.equal(cells(pod({ phase: 'Pending', initContainerStatuses: [
      { name: 'i1', ready: false, restartCount: 0, state: { waiting: { reason: 'PodInitializing' } } },
    ] }, {}, spec))[2], 'Init:0/2');
    assert.deepEqual(cells(pod({ phase: 'Running', conditions: [{ type: 'Initialized', status: 'True' }],
      initContainerStatuses: [done, { ...done, name: 'i2' }], containerStatuses: [running('a')] }, {}, spec)).slice(1, 4), ['1/1', 'Running', '0']);
  });

  test('columns as upstream', () => {
    assert.deepEqual(podStrategy.table.columns.map((c) => [c.name, c.priority]), [
      ['Name', 0], ['Ready', 0], ['Status', 0], ['Restarts', 0], ['Age', 0], ['IP', 1], ['Node', 1], ['Nominated Node', 1], ['Readiness Gates', 1],
    ]);
    assert.equal(podStrategy.table.columns[0].format, 'name');
  });
});

describe('other kinds', () => {
  test('node status and roles', () => {
    const node: KubeObject = {
      metadata: { name: 'node01', creationTimestamp: ago(3 * 86400), labels: { 'node-role.kubernetes.io/control-plane': '', 'node-role.kubernetes.io/worker': '' } },
      spec: { unschedulable: true },
      status: {
        conditions: [{ type: 'Ready', status: 'True' }],
        addresses: [{ type: 'InternalIP', address: '10.0.0.11' }],
        nodeInfo: { kubeletVersion: 'v1.32.0', osImage: 'Ubuntu', kernelVersion: '6.1', containerRuntimeVersion: 'containerd://1.7' },
      },
    };
    assert.deepEqual(nodeStrategy.table.cells(node, now), ['node01', 'Ready,SchedulingDisabled', 'control-plane,worker', '3d', 'v1.32.0', '10.0.0.11', '<none>', 'Ubuntu', '6.1', 'containerd://1.7']);
    const bare: KubeObject = { metadata: { name: 'n2' }, status: { conditions: [{ type: 'Ready', status: 'Unknown' }] } };
    assert.deepEqual(nodeStrategy.table.cells(bare, now), ['n2', 'NotReady', '<none>', '<unknown>', '', '<none>', '<none>', '<unknown>', '<unknown>', '<unknown>']);
    assert.equal(nodeStrategy.table.cells({ metadata: { name: 'n3' } }, now)[1], 'Unknown');
    assert.deepEqual(nodeStrategy.table.columns.map((c) => c.name), ['Name', 'Status', 'Roles', 'Age', 'Version', 'Internal-IP', 'External-IP', 'OS-Image', 'Kernel-Version', 'Container-Runtime']);
  });

  test('event row', () => {
    const event: KubeObject = {
      metadata: { name: 'web.17a', namespace: 'default' },
      involvedObject: { kind: 'Pod', name: 'web', namespace: 'default', fieldPath: 'spec.containers{a}' },
      reason: 'Pulled', message: ' Successfully pulled image \n', type: 'Normal',
      source: { component: 'kubelet', host: 'node01' }, firstTimestamp: ago(600), lastTimestamp: ago(30), count: 3,
    };
    assert.deepEqual(eventStrategy.table.cells(event, now), ['30s', 'Normal', 'Pulled', 'pod/web', 'spec.containers{a}', 'kubelet, node01', 'Successfully pulled image', '10m', 3, 'web.17a']);
    const newStyle: KubeObject = { metadata: { name: 'e2' }, involvedObject: { kind: 'Node' }, eventTime: ago(5), reportingComponent: 'default-scheduler', type: 'Warning', reason: 'X', message: 'm' };
    assert.deepEqual(eventStrategy.table.cells(newStyle, now), ['5s', 'Warning', 'X', 'node', '', 'default-scheduler', 'm', '5s', 1, 'e2']);
    assert.deepEqual(eventStrategy.table.columns.map((c) => [c.name, c.priority]), [
      ['Last Seen', 0], ['Type', 0], ['Reason', 0], ['Object', 0], ['Subobject', 1], ['Source', 1], ['Message', 0], ['First Seen', 1], ['Count', 1], ['Name', 1],
    ]);
  });

  test('namespace and lease rows', () => {
    assert.deepEqual(namespaceStrategy.table.cells({ metadata: { name: 'ns1', creationTimestamp: ago(7200) }, status: { phase: 'Active' } }, now), ['ns1', 'Active', '120m']);
    assert.deepEqual(leaseStrategy.table.cells({ metadata: { name: 'node01', creationTimestamp: ago(10) }, spec: { holderIdentity: 'node01' } }, now), ['node01', 'node01', '10s']);
  });
});
