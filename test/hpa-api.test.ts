// autoscaling HorizontalPodAutoscaler over HTTP: v2 (storage, preferred) and v1 served from one store, v1's
// targetCPUUtilizationPercentage ↔ v2's cpu Utilization metric, round-trip annotations for what v1 cannot say,
// defaulting, upstream's validation messages, the status subresource, the Table columns and discovery.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { json, startTestServer, type TestServer } from './helpers/api-server.ts';
import { formatHpaMetrics } from '../api/resources/horizontalpodautoscalers.ts';

const V2 = '/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers';
const V1 = '/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers';
const TABLE = 'application/json;as=Table;v=v1;g=meta.k8s.io';

function v1Hpa(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: { name },
    spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, maxReplicas: 5, ...extra },
  };
}

describe('HorizontalPodAutoscaler API', () => {
  let t: TestServer;
  before(async () => { t = await startTestServer('hpa-api'); });
  after(async () => { await t.close(); });

  test('v1 targetCPUUtilizationPercentage is read as a v2 cpu Utilization metric, and back', async () => {
    const created = (await json(t.call('post', V1), v1Hpa('web', { targetCPUUtilizationPercentage: 50 })).expect(201)).body;
    assert.equal(created.apiVersion, 'autoscaling/v1');
    assert.equal(created.spec.targetCPUUtilizationPercentage, 50);
    assert.equal(created.spec.minReplicas, 1);
    assert.equal(created.metadata.annotations, undefined, 'no round-trip annotation for a plain CPU target');
    const v2 = (await t.call('get', `${V2}/web`).expect(200)).body;
    assert.equal(v2.apiVersion, 'autoscaling/v2');
    assert.deepEqual(v2.spec.metrics, [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }]);
    assert.equal(v2.spec.minReplicas, 1);
    // A v2 change of the target shows in v1.
    v2.spec.metrics[0].resource.target.averageUtilization = 70;
    await json(t.call('put', `${V2}/web`), v2).expect(200);
    assert.equal((await t.call('get', `${V1}/web`).expect(200)).body.spec.targetCPUUtilizationPercentage, 70);
  });

  test('a v1 object without a target gets the implicit 80 % CPU metric', async () => {
    await json(t.call('post', V1), v1Hpa('implicit')).expect(201);
    const v2 = (await t.call('get', `${V2}/implicit`).expect(200)).body;
    assert.deepEqual(v2.spec.metrics, [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }]);
    const v1 = (await t.call('get', `${V1}/implicit`).expect(200)).body;
    assert.equal(v1.spec.targetCPUUtilizationPercentage, 80);
  });

  test('v2 metrics, behavior and status that v1 cannot hold survive a v1 read-modify-write', async () => {
    const created = (await json(t.call('post', V2), {
      apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'mixed', annotations: { team: 'a' } },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, minReplicas: 2, maxReplicas: 10,
        metrics: [
          { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '100Mi' } } },
          { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 } } },
        ],
        behavior: { scaleDown: { stabilizationWindowSeconds: 30 } },
      },
    }).expect(201)).body;
    // behavior defaulting fills what was not given.
    assert.deepEqual(created.spec.behavior.scaleDown, { stabilizationWindowSeconds: 30, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] });
    assert.deepEqual(created.spec.behavior.scaleUp.policies, [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }]);
    created.status = {
      currentReplicas: 2, desiredReplicas: 2,
      currentMetrics: [
        { type: 'Resource', resource: { name: 'memory', current: { averageValue: '90Mi' } } },
        { type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 42, averageValue: '42m' } } },
      ],
      conditions: [{ type: 'AbleToScale', status: 'True', reason: 'ReadyForNewScale', message: 'recommended size matches current size', lastTransitionTime: '2024-01-01T00:00:00Z' }],
    };
    await json(t.call('put', `${V2}/mixed/status`), created).expect(200);

    const v1 = (await t.call('get', `${V1}/mixed`).expect(200)).body;
    assert.equal(v1.spec.targetCPUUtilizationPercentage, 60);
    assert.equal(v1.status.currentCPUUtilizationPercentage, 42);
    assert.equal(v1.metadata.annotations.team, 'a');
    assert.deepEqual(JSON.parse(v1.metadata.annotations['autoscaling.alpha.kubernetes.io/metrics']),
      [{ type: 'Resource', resource: { name: 'memory', targetAverageValue: '100Mi' } }]);
    assert.equal(JSON.parse(v1.metadata.annotations['autoscaling.alpha.kubernetes.io/conditions'])[0].reason, 'ReadyForNewScale');
    assert.equal(JSON.parse(v1.metadata.annotations['autoscaling.alpha.kubernetes.io/behavior']).scaleDown.stabilizationWindowSeconds, 30);

    v1.spec.maxReplicas = 12;
    await json(t.call('put', `${V1}/mixed`), v1).expect(200);
    const v2 = (await t.call('get', `${V2}/mixed`).expect(200)).body;
    assert.equal(v2.spec.maxReplicas, 12);
    assert.deepEqual(v2.spec.metrics.map((m: { resource: { name: string } }) => m.resource.name), ['memory', 'cpu']);
    assert.equal(v2.spec.behavior.scaleDown.stabilizationWindowSeconds, 30);
    assert.deepEqual(v2.metadata.annotations, { team: 'a' }, 'round-trip annotations are not stored');
    assert.equal(v2.status.conditions[0].reason, 'ReadyForNewScale');
  });

  test('validation is upstream\'s, in both versions, and changes nothing', async () => {
    const bad = (await json(t.call('post', V2), {
      apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'bad' },
      spec: {
        scaleTargetRef: { kind: 'Deployment', name: '' }, minReplicas: 3, maxReplicas: 2,
        metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization' } } }],
        behavior: { scaleUp: { policies: [{ type: 'Pods', value: 0, periodSeconds: 1801 }] } },
      },
    }).expect(422)).body;
    assert.equal(bad.reason, 'Invalid');
    for (const part of [
      'spec.maxReplicas: Invalid value: 2: must be greater than or equal to `minReplicas`',
      'spec.scaleTargetRef.name: Required value',
      'spec.metrics[0].resource.target.averageUtilization: Required value: must set either a target raw value or a target utilization',
      'spec.behavior.scaleUp.policies[0].value: Invalid value: 0: must be greater than zero',
      'spec.behavior.scaleUp.policies[0].periodSeconds: Invalid value: 1801: must be less than or equal to 1800',
    ]) assert.ok(bad.message.includes(part), `${part} in ${bad.message}`);
    const v1Bad = (await json(t.call('post', V1), v1Hpa('bad1', { minReplicas: 0, maxReplicas: 0 })).expect(422)).body;
    assert.match(v1Bad.message, /spec\.minReplicas: Invalid value: 0: must be greater than or equal to 1/);
    assert.match(v1Bad.message, /spec\.maxReplicas: Invalid value: 0: must be greater than 0/);
    await t.call('get', `${V2}/bad`).expect(404);
    await t.call('get', `${V2}/bad1`).expect(404);
  });

  test('the Table has kubectl\'s columns and the TARGETS text', async () => {
    const table = (await t.call('get', V2).set('Accept', TABLE).expect(200)).body;
    assert.deepEqual(table.columnDefinitions.map((c: { name: string }) => c.name), ['Name', 'Reference', 'Targets', 'MinPods', 'MaxPods', 'Replicas', 'Age']);
    const web = table.rows.find((row: { cells: unknown[] }) => row.cells[0] === 'web');
    assert.deepEqual(web.cells.slice(0, 6), ['web', 'Deployment/web', 'cpu: <unknown>/70%', '1', 5, 0]);
    const mixed = table.rows.find((row: { cells: unknown[] }) => row.cells[0] === 'mixed');
    assert.equal(mixed.cells[2], 'memory: 90Mi/100Mi, cpu: 42%/60%');
    const v1Table = (await t.call('get', V1).set('Accept', TABLE).expect(200)).body;
    assert.deepEqual(v1Table.rows.find((row: { cells: unknown[] }) => row.cells[0] === 'mixed').cells.slice(0, 3), mixed.cells.slice(0, 3));
    assert.equal(formatHpaMetrics([{ type: 'Pods' }, { type: 'Pods' }, { type: 'Pods' }], []).endsWith(' + 1 more...'), true);
  });

  test('discovery serves autoscaling v2 (preferred) and v1 with the status subresource and the hpa short name', async () => {
    const group = (await t.call('get', '/apis/autoscaling').expect(200)).body;
    assert.deepEqual(group.versions.map((v: { version: string }) => v.version), ['v2', 'v1']);
    assert.equal(group.preferredVersion.version, 'v2');
    const resources = (await t.call('get', '/apis/autoscaling/v2').expect(200)).body.resources;
    const hpa = resources.find((r: { name: string }) => r.name === 'horizontalpodautoscalers');
    assert.deepEqual(hpa.shortNames, ['hpa']);
    assert.ok(resources.some((r: { name: string }) => r.name === 'horizontalpodautoscalers/status'));
  });
});
