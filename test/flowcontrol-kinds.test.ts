// flowcontrol.apiserver.k8s.io/v1 FlowSchemas and PriorityLevelConfigurations over HTTP: the
// bootstrap objects the server creates at start, the Dangling condition, defaulting, upstream
// validation messages, the fixed mandatory specs, and the Table columns kubectl prints.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { json, startTestServer, type TestServer } from './helpers/api-server.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const TABLE = 'application/json;as=Table;v=v1;g=meta.k8s.io';
const F = '/apis/flowcontrol.apiserver.k8s.io/v1';

describe('flowcontrol kinds', () => {
  let t: TestServer;
  before(async () => { t = await startTestServer('flowcontrol-kinds'); });
  after(async () => { await t.close(); });

  const send = async (method: 'post' | 'put' | 'patch' | 'delete', path: string, body: unknown, expect: number): Promise<Json> => {
    const res = body === undefined ? await t.call(method, path) : await json(t.call(method, path), body, method === 'patch' ? 'application/merge-patch+json' : 'application/json');
    assert.equal(res.status, expect, `${method} ${path}: ${res.text}`);
    return res.body as Json;
  };
  const get = async (path: string, accept = 'application/json'): Promise<Json> => {
    const res = await t.call('get', path).set('Accept', accept);
    assert.equal(res.status, 200, res.text);
    return res.body as Json;
  };
  const until = async <T>(probe: () => Promise<T | undefined>): Promise<T> => {
    for (let i = 0; i < 100; i++) {
      const value = await probe();
      if (value !== undefined) return value;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('timed out');
  };

  test('the mandatory and suggested objects exist at start, in precedence order, none dangling', async () => {
    const table = await get(`${F}/flowschemas`, TABLE);
    assert.deepEqual(table.columnDefinitions.map((c: Json) => c.name), ['Name', 'PriorityLevel', 'MatchingPrecedence', 'DistinguisherMethod', 'Age', 'MissingPL']);
    assert.deepEqual(table.rows.map((r: Json) => [r.cells[0], r.cells[1], r.cells[2], r.cells[3], r.cells[5]]), [
      ['exempt', 'exempt', 1, '<none>', 'False'], ['probes', 'exempt', 2, '<none>', 'False'],
      ['system-leader-election', 'leader-election', 100, 'ByUser', 'False'], ['endpoint-controller', 'workload-high', 150, 'ByUser', 'False'],
      ['workload-leader-election', 'leader-election', 200, 'ByUser', 'False'], ['system-node-high', 'node-high', 400, 'ByUser', 'False'],
      ['system-nodes', 'system', 500, 'ByUser', 'False'], ['kube-controller-manager', 'workload-high', 800, 'ByNamespace', 'False'],
      ['kube-scheduler', 'workload-high', 800, 'ByNamespace', 'False'], ['kube-system-service-accounts', 'workload-high', 900, 'ByNamespace', 'False'],
      ['service-accounts', 'workload-low', 9000, 'ByUser', 'False'], ['global-default', 'global-default', 9900, 'ByUser', 'False'],
      ['catch-all', 'catch-all', 10000, 'ByUser', 'False'],
    ]);
    const levels = await get(`${F}/prioritylevelconfigurations`, TABLE);
    assert.deepEqual(levels.columnDefinitions.map((c: Json) => c.name), ['Name', 'Type', 'NominalConcurrencyShares', 'Queues', 'HandSize', 'QueueLengthLimit', 'Age']);
    const byName = new Map(levels.rows.map((r: Json) => [r.cells[0], r.cells.slice(1, 6)]));
    assert.deepEqual(byName.get('exempt'), ['Exempt', '<none>', '<none>', '<none>', '<none>']);
    assert.deepEqual(byName.get('catch-all'), ['Limited', 5, '<none>', '<none>', '<none>']);
    assert.deepEqual(byName.get('workload-low'), ['Limited', 100, 128, 6, 50]);
    const exempt = await get(`${F}/flowschemas/exempt`);
    assert.equal(exempt.metadata.annotations['apf.kubernetes.io/autoupdate-spec'], 'true');
    assert.deepEqual(exempt.status.conditions.map((c: Json) => [c.type, c.status, c.reason, c.message]), [
      ['Dangling', 'False', 'Found', 'This FlowSchema references the PriorityLevelConfiguration object named "exempt" and it exists'],
    ]);
  });

  test('a FlowSchema naming a missing level is dangling until the level exists', async () => {
    const created = await send('post', `${F}/flowschemas`, {
      metadata: { name: 'team-a' },
      spec: { priorityLevelConfiguration: { name: 'team-a' }, rules: [{ subjects: [{ kind: 'Group', group: { name: 'team-a' } }], nonResourceRules: [{ verbs: ['get'], nonResourceURLs: ['/metrics'] }] }] },
    }, 201);
    assert.equal(created.spec.matchingPrecedence, 1000);
    const dangling = await until(async () => {
      const schema = await get(`${F}/flowschemas/team-a`);
      return schema.status?.conditions?.find((c: Json) => c.type === 'Dangling');
    });
    assert.equal(dangling.status, 'True');
    assert.equal(dangling.reason, 'NotFound');
    const level = await send('post', `${F}/prioritylevelconfigurations`, {
      metadata: { name: 'team-a' }, spec: { type: 'Limited', limited: { limitResponse: { type: 'Queue', queuing: {} } } },
    }, 201);
    assert.deepEqual(level.spec.limited, { nominalConcurrencyShares: 30, lendablePercent: 0, limitResponse: { type: 'Queue', queuing: { queues: 64, handSize: 8, queueLengthLimit: 50 } } });
    await until(async () => {
      const schema = await get(`${F}/flowschemas/team-a`);
      return schema.status.conditions.find((c: Json) => c.type === 'Dangling' && c.status === 'False');
    });
  });

  test('FlowSchema validation is worded as upstream', async () => {
    const res = await send('post', `${F}/flowschemas`, {
      metadata: { name: 'bad' },
      spec: {
        priorityLevelConfiguration: { name: '' }, matchingPrecedence: 1, distinguisherMethod: { type: 'ByColour' },
        rules: [{ subjects: [{ kind: 'User' }, { kind: 'Robot' }], resourceRules: [{ verbs: ['*', 'get'], apiGroups: [], resources: ['pods'] }] }],
      },
    }, 422);
    const message = res.message as string;
    assert.match(message, /spec\.matchingPrecedence: Invalid value: 1: only the schema named 'exempt' may have matchingPrecedence 1/);
    assert.match(message, /spec\.distinguisherMethod\.type: Unsupported value: .*: supported values: "ByNamespace", "ByUser"/);
    assert.match(message, /spec\.priorityLevelConfiguration\.name: Required value: must reference a priority level/);
    assert.match(message, /spec\.rules\[0\]\.subjects\[0\]\.user: Required value: user is required when subject kind is 'User'/);
    assert.match(message, /spec\.rules\[0\]\.subjects\[1\]\.kind: Unsupported value: "Robot": supported values: "Group", "ServiceAccount", "User"/);
    assert.match(message, /spec\.rules\[0\]\.resourceRules\[0\]\.verbs: Invalid value: \["\*","get"\]: if '\*' is present, must not specify other verbs/);
    assert.match(message, /spec\.rules\[0\]\.resourceRules\[0\]\.apiGroups: Required value: resource rules must supply at least one api group/);
    assert.match(message, /spec\.rules\[0\]\.resourceRules\[0\]\.namespaces: Required value: resource rules that are not cluster scoped must supply at least one namespace/);
  });

  test('the mandatory objects keep their fixed spec and come back when deleted', async () => {
    const res = await send('patch', `${F}/flowschemas/catch-all`, { spec: { matchingPrecedence: 9999 } }, 422);
    assert.match(res.message, /spec: Invalid value: .*: spec of 'catch-all' must equal the fixed value/);
    const level = await send('patch', `${F}/prioritylevelconfigurations/catch-all`, { spec: { limited: { nominalConcurrencyShares: 50 } } }, 422);
    assert.match(level.message, /spec of 'catch-all' must equal the fixed value/);
    await send('delete', `${F}/flowschemas/exempt`, undefined, 200);
    const back = await until(async () => {
      const r = await t.call('get', `${F}/flowschemas/exempt`);
      return r.status === 200 ? (r.body as Json) : undefined;
    });
    assert.equal(back.spec.matchingPrecedence, 1);
  });

  test('PriorityLevelConfiguration validation is worded as upstream', async () => {
    const res = await send('post', `${F}/prioritylevelconfigurations`, {
      metadata: { name: 'bad' },
      spec: { type: 'Exempt', limited: { nominalConcurrencyShares: 1, limitResponse: { type: 'Reject' } } },
    }, 422);
    assert.match(res.message, /spec\.type: Invalid value: "Exempt": type must be 'Exempt' if and only if name is 'exempt'/);
    assert.match(res.message, /spec\.limited: Forbidden: must be nil if the type is not Limited/);
    const queuing = await send('post', `${F}/prioritylevelconfigurations`, {
      metadata: { name: 'q' }, spec: { type: 'Limited', limited: { nominalConcurrencyShares: -1, lendablePercent: 101, limitResponse: { type: 'Queue', queuing: { queues: 4, handSize: 8, queueLengthLimit: 1 } } } },
    }, 422);
    assert.match(queuing.message, /spec\.limited\.nominalConcurrencyShares: Invalid value: -1: must be a non-negative integer/);
    assert.match(queuing.message, /spec\.limited\.limitResponse\.queuing\.handSize: Invalid value: 8: should not be greater than queues \(4\)/);
    assert.match(queuing.message, /spec\.limited\.lendablePercent: Invalid value: 101: must be between 0 and 100, inclusive/);
  });
});
