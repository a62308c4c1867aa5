// The pod journey's steps (server/ui/pod-journey.ts) from journal records, events and status, and the
// request journal's bounds (server/ui/request-journal.ts).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../api/object.ts';
import { podJourney, type JourneyStep } from '../server/ui/pod-journey.ts';
import { RequestJournal, type JournalRecord } from '../server/ui/request-journal.ts';
import { formatSchedulingDecision, parseSchedulingDecision } from '../clients/scheduling-decision-header.ts';

const T0 = Date.parse('2026-12-07T10:00:00.000Z');
const UID = 'uid-1';

const pod = (overrides: { nodeName?: string; ready?: boolean; uid?: string } = {}): KubeObject => ({
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name: 'web', namespace: 'default', uid: overrides.uid ?? UID, creationTimestamp: '2026-12-07T10:00:00Z' },
  spec: { ...(overrides.nodeName ? { nodeName: overrides.nodeName } : {}), containers: [{ name: 'nginx', image: 'nginx:1.27' }, { name: 'redis', image: 'redis:7' }] },
  status: {
    phase: overrides.ready ? 'Running' : 'Pending',
    conditions: [
      ...(overrides.nodeName ? [{ type: 'PodScheduled', status: 'True', lastTransitionTime: '2026-12-07T10:00:01Z' }] : []),
      ...(overrides.ready ? [{ type: 'Ready', status: 'True', lastTransitionTime: '2026-12-07T10:00:04Z' }] : []),
    ],
  },
});

const record = (overrides: Partial<JournalRecord>): JournalRecord => ({
  auditID: 'a', verb: 'create', subresource: '', user: { username: 'alice', groups: ['dev', 'system:authenticated'] },
  authorization: 'RBAC: allowed by RoleBinding "w/default" of Role "writer" to User "alice"', userAgent: 'kubectl/v1.32.4 (linux/amd64) kubernetes/abc',
  receivedMs: T0, completedMs: T0 + 12, code: 201, uid: UID, resourceVersion: '42', ...overrides,
});

const event = (reason: string, seconds: number, extra: { fieldPath?: string; message?: string; component?: string; host?: string; type?: string; uid?: string } = {}): KubeObject => ({
  apiVersion: 'v1', kind: 'Event',
  metadata: { name: `web.${reason}.${seconds}`, namespace: 'default' },
  involvedObject: { kind: 'Pod', name: 'web', namespace: 'default', uid: extra.uid ?? UID, ...(extra.fieldPath ? { fieldPath: extra.fieldPath } : {}) },
  reason, message: extra.message ?? reason, type: extra.type ?? 'Normal',
  source: { component: extra.component ?? 'kubelet', ...(extra.host ? { host: extra.host } : {}) },
  lastTimestamp: new Date(T0 + seconds * 1000).toISOString().replace('.000', ''),
});

const step = (steps: JourneyStep[], id: string): JourneyStep => {
  const found = steps.find((s) => s.id === id);
  assert.ok(found, `no step ${id} in ${steps.map((s) => s.id).join(', ')}`);
  return found;
};

const kubeletEvents = (container: string, from: number): KubeObject[] => ['Pulling', 'Pulled', 'Created', 'Started'].map((reason, i) =>
  event(reason, from + i, { fieldPath: `spec.containers{${container}}`, host: 'node02', message: `${reason} ${container}` }));

describe('pod journey', () => {
  test('a pod from create to Ready: every step done, each with its actor', () => {
    const journey = podJourney({
      namespace: 'default', name: 'web', pod: pod({ nodeName: 'node02', ready: true }),
      events: [event('Scheduled', 1, { component: 'default-scheduler', message: 'Successfully assigned default/web to node02' }), ...kubeletEvents('nginx', 2), ...kubeletEvents('redis', 2)],
      records: [
        record({}),
        record({ verb: 'create', subresource: 'binding', user: { username: 'system:kube-scheduler', groups: [] }, receivedMs: T0 + 900, completedMs: T0 + 910, uid: undefined, schedulingDecision: { evaluatedNodes: 5, feasibleNodes: 2 } }),
        record({ verb: 'patch', subresource: 'status', user: { username: 'system:node:node02', groups: ['system:nodes'] }, receivedMs: T0 + 950, completedMs: T0 + 960, code: 200 }),
      ],
    });
    assert.equal(step(journey.steps, 'scheduled').detail, 'Successfully assigned default/web to node02; 2 of 5 evaluated nodes feasible');
    assert.deepEqual(journey.steps.map((s) => s.id), [
      'sent', 'received', 'authenticated', 'authorized', 'admitted', 'stored', 'scheduled', 'bound', 'kubelet-seen',
      'nginx-pulling', 'nginx-pulled', 'nginx-created', 'nginx-started', 'redis-pulling', 'redis-pulled', 'redis-created', 'redis-started', 'ready',
    ]);
    assert.ok(journey.steps.every((s) => s.state === 'done'), JSON.stringify(journey.steps.filter((s) => s.state !== 'done')));
    assert.equal(step(journey.steps, 'sent').actor, 'kubectl/v1.32.4');
    assert.equal(step(journey.steps, 'received').actor, 'alice');
    assert.equal(step(journey.steps, 'authenticated').detail, 'groups: dev, system:authenticated');
    assert.match(step(journey.steps, 'authorized').detail ?? '', /RoleBinding "w\/default"/);
    assert.equal(step(journey.steps, 'stored').detail, `resourceVersion 42, uid ${UID}`);
    assert.equal(step(journey.steps, 'stored').time, new Date(T0 + 12).toISOString());
    assert.equal(step(journey.steps, 'scheduled').actor, 'default-scheduler');
    assert.equal(step(journey.steps, 'bound').actor, 'system:kube-scheduler');
    assert.equal(step(journey.steps, 'kubelet-seen').actor, 'system:node:node02');
    assert.equal(step(journey.steps, 'redis-started').actor, 'kubelet (node02)');
    assert.equal(journey.nodeName, 'node02');
  });

  test('a server-side apply that created the pod (PATCH answered 201) is its create', () => {
    const journey = podJourney({ namespace: 'default', name: 'web', pod: pod(), events: [], records: [record({ verb: 'patch', code: 201 })] });
    assert.equal(step(journey.steps, 'stored').state, 'done');
    assert.match(step(journey.steps, 'sent').detail ?? '', /server-side apply/);
  });

  test('a forbidden create: authorization failed with the Status message, nothing stored', () => {
    const message = 'pods is forbidden: User "bob" cannot create resource "pods" in API group "" in the namespace "default"';
    const journey = podJourney({ namespace: 'default', name: 'web', pod: undefined, events: [], records: [record({ code: 403, message, uid: undefined, resourceVersion: undefined, authorization: '' })] });
    assert.equal(step(journey.steps, 'authorized').state, 'failed');
    assert.equal(step(journey.steps, 'authorized').detail, message);
    assert.equal(step(journey.steps, 'admitted').state, 'pending');
    assert.equal(step(journey.steps, 'stored').state, 'pending');
    assert.equal(step(journey.steps, 'scheduled').state, 'pending');
  });

  test('an invalid pod: admission and validation failed with the Status message', () => {
    const message = 'Pod "web" is invalid: spec.containers[0].image: Required value';
    const journey = podJourney({ namespace: 'default', name: 'web', pod: undefined, events: [], records: [record({ code: 422, message, uid: undefined })] });
    assert.equal(step(journey.steps, 'authorized').state, 'done');
    assert.equal(step(journey.steps, 'admitted').state, 'failed');
    assert.equal(step(journey.steps, 'admitted').detail, message);
  });

  test('an unschedulable pod shows the exact FailedScheduling message', () => {
    const message = '0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.';
    const journey = podJourney({
      namespace: 'default', name: 'web', pod: pod(), records: [record({})],
      events: [event('FailedScheduling', 1, { component: 'default-scheduler', type: 'Warning', message })],
    });
    assert.equal(step(journey.steps, 'scheduled').state, 'failed');
    assert.equal(step(journey.steps, 'scheduled').detail, message);
    assert.equal(step(journey.steps, 'bound').state, 'pending');
  });

  test('a container that cannot start: the failure sits on the first stage it did not reach', () => {
    const journey = podJourney({
      namespace: 'default', name: 'web', pod: pod({ nodeName: 'node02' }), records: [record({})],
      events: [
        ...kubeletEvents('nginx', 2).slice(0, 3),
        event('BackOff', 6, { fieldPath: 'spec.containers{nginx}', type: 'Warning', message: 'Back-off restarting failed container nginx in pod web_default(uid-1)' }),
      ],
    });
    assert.equal(step(journey.steps, 'nginx-created').state, 'done');
    assert.equal(step(journey.steps, 'nginx-started').state, 'failed');
    assert.match(step(journey.steps, 'nginx-started').detail ?? '', /^BackOff: Back-off restarting failed container nginx/);
    assert.equal(step(journey.steps, 'redis-pulling').state, 'pending');
  });

  test('evidence of an earlier pod of the same name is ignored', () => {
    const journey = podJourney({
      namespace: 'default', name: 'web', pod: pod({ uid: 'uid-2' }),
      events: [event('Scheduled', 1, { component: 'default-scheduler', uid: UID })],
      records: [record({ uid: UID }), record({ uid: 'uid-2', receivedMs: T0 + 5000, completedMs: T0 + 5010, resourceVersion: '99' })],
    });
    assert.equal(step(journey.steps, 'stored').detail, 'resourceVersion 99, uid uid-2');
    assert.equal(step(journey.steps, 'scheduled').state, 'pending');
  });

  test('a pod created before the journal existed: what the object itself says', () => {
    const journey = podJourney({ namespace: 'default', name: 'web', pod: pod(), events: [], records: [] });
    assert.equal(step(journey.steps, 'stored').state, 'done');
    assert.match(step(journey.steps, 'received').detail ?? '', /not in the journal/);
  });
});

describe('request journal', () => {
  test('keeps the most recent pods and the first writes of each', () => {
    const journal = new RequestJournal(2);
    journal.record('ns', 'a', record({}));
    journal.record('ns', 'b', record({}));
    journal.record('ns', 'a', record({ verb: 'patch' }));
    journal.record('ns', 'c', record({}));
    assert.deepEqual(journal.recordsFor('ns', 'b'), [], 'the least recently written pod is dropped');
    assert.equal(journal.recordsFor('ns', 'a').length, 2);
    for (let i = 0; i < 40; i++) journal.record('ns', 'c', record({ verb: 'patch', auditID: String(i) }));
    const kept = journal.recordsFor('ns', 'c');
    assert.equal(kept.length, 24);
    assert.equal(kept[0].verb, 'create', 'the create is never dropped');
    assert.equal(kept[kept.length - 1].auditID, '39');
  });
});

describe('scheduling decision header', () => {
  test('parsed from what the scheduler formats; anything malformed or impossible is ignored', () => {
    const decision = { evaluatedNodes: 100, feasibleNodes: 37 };
    assert.deepEqual(parseSchedulingDecision(formatSchedulingDecision(decision)), decision);
    assert.deepEqual(parseSchedulingDecision('feasibleNodes=1;evaluatedNodes=3'), { evaluatedNodes: 3, feasibleNodes: 1 });
    for (const bad of [undefined, '', 'evaluatedNodes=3', 'evaluatedNodes=3, feasibleNodes=4', 'evaluatedNodes=x, feasibleNodes=1',
      'evaluatedNodes=3, feasibleNodes=1x', ['evaluatedNodes=3', 'feasibleNodes=1'], `evaluatedNodes=3, feasibleNodes=1${' '.repeat(200)}`]) {
      assert.equal(parseSchedulingDecision(bad), undefined, JSON.stringify(bad));
    }
  });

  test('a binding without the header keeps the event message alone', () => {
    const journey = podJourney({
      namespace: 'default', name: 'web', pod: pod({ nodeName: 'node02' }),
      events: [event('Scheduled', 1, { component: 'default-scheduler', message: 'Successfully assigned default/web to node02' })],
      records: [record({}), record({ verb: 'create', subresource: 'binding', receivedMs: T0 + 900, completedMs: T0 + 910, uid: undefined })],
    });
    assert.equal(step(journey.steps, 'scheduled').detail, 'Successfully assigned default/web to node02');
  });
});
