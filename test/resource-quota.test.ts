// ResourceQuota end to end against a real server: the quota controller (controller-manager identity)
// fills status.hard and status.used, admission refuses what would exceed the quota with upstream's
// message and charges what it admits, deletions give the room back.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runResourceQuotaController, type RunningResourceQuotaController } from '../controllers/resource-quota.ts';
import { writeComponentKubeconfigs } from '../server/component-credentials.ts';
import { json, startTestServer, type TestServer } from './helpers/api-server.ts';

const NS = '/api/v1/namespaces/quota-test';
const quiet = { info: () => undefined, warn: () => undefined };

describe('resource quota', () => {
  let t: TestServer;
  let dir: string;
  let controller: RunningResourceQuotaController;
  before(async () => {
    t = await startTestServer('resource-quota');
    dir = await mkdtemp(join(tmpdir(), 'kubefacade-quota-'));
    const kubeconfigs = await writeComponentKubeconfigs(dir, t.url, t.server.credentials, []);
    controller = await runResourceQuotaController({ kubeconfigPath: kubeconfigs.controllerManager, logger: quiet });
    await json(t.call('post', '/api/v1/namespaces'), { metadata: { name: 'quota-test' } }).expect(201);
  });
  after(async () => {
    await controller.stop();
    await t.close();
    await rm(dir, { recursive: true, force: true });
  });

  const quota = async () => (await t.call('get', `${NS}/resourcequotas/quota`).expect(200)).body;
  const until = async (check: () => Promise<boolean>) => {
    for (let i = 0; i < 200; i++) {
      if (await check()) return;
      await new Promise((r) => setTimeout(r, 25));
    }
    assert.fail('condition not reached');
  };
  const pod = (name: string, cpu: string) => ({ metadata: { name }, spec: { containers: [{ name: 'app', image: 'nginx', resources: { requests: { cpu }, limits: { cpu } } }] } });

  test('usage counted, exceeding refused with upstream wording, released on delete', async () => {
    await json(t.call('post', `${NS}/configmaps`), { metadata: { name: 'before' }, data: {} }).expect(201);
    await json(t.call('post', `${NS}/resourcequotas`), { metadata: { name: 'quota' }, spec: { hard: { pods: '2', 'requests.cpu': '1', configmaps: '2' } } }).expect(201);
    await until(async () => (await quota()).status?.used?.configmaps === '1');
    assert.deepEqual((await quota()).status, { hard: { pods: '2', 'requests.cpu': '1', configmaps: '2' }, used: { pods: '0', 'requests.cpu': '0', configmaps: '1' } });

    await json(t.call('post', `${NS}/pods`), pod('a', '500m')).expect(201);
    assert.deepEqual((await quota()).status.used, { pods: '1', 'requests.cpu': '500m', configmaps: '1' });
    const cpu = await json(t.call('post', `${NS}/pods`), pod('b', '600m')).expect(403);
    assert.equal(cpu.body.message, 'pods "b" is forbidden: exceeded quota: quota, requested: requests.cpu=600m, used: requests.cpu=500m, limited: requests.cpu=1');
    await json(t.call('post', `${NS}/pods`), pod('b', '500m')).expect(201);
    const count = await json(t.call('post', `${NS}/pods`), pod('c', '0')).expect(403);
    assert.equal(count.body.message, 'pods "c" is forbidden: exceeded quota: quota, requested: pods=1, used: pods=2, limited: pods=2');
    await json(t.call('post', `${NS}/configmaps`), { metadata: { name: 'second' }, data: {} }).expect(201);
    const cm = await json(t.call('post', `${NS}/configmaps`), { metadata: { name: 'third' }, data: {} }).expect(403);
    assert.equal(cm.body.message, 'configmaps "third" is forbidden: exceeded quota: quota, requested: configmaps=1, used: configmaps=2, limited: configmaps=2');
    // Secrets are not limited by this quota.
    await json(t.call('post', `${NS}/secrets`), { metadata: { name: 's' } }).expect(201);

    await t.call('delete', `${NS}/pods/a?gracePeriodSeconds=0`).expect(200);
    await until(async () => (await quota()).status.used.pods === '1');
    assert.equal((await quota()).status.used['requests.cpu'], '500m');
    await json(t.call('post', `${NS}/pods`), pod('c', '100m')).expect(201);
  });

  test('a scoped quota counts and limits only the pods its scopes select', async () => {
    const ns = '/api/v1/namespaces/quota-scoped';
    await json(t.call('post', '/api/v1/namespaces'), { metadata: { name: 'quota-scoped' } }).expect(201);
    await json(t.call('post', `${ns}/resourcequotas`), { metadata: { name: 'best-effort' }, spec: { hard: { pods: '1' }, scopes: ['BestEffort'] } }).expect(201);
    await json(t.call('post', `${ns}/resourcequotas`), { metadata: { name: 'terminating' }, spec: { hard: { pods: '1', 'count/configmaps': '0' }, scopes: ['Terminating'] } }).expect(201);
    const used = async (name: string) => (await t.call('get', `${ns}/resourcequotas/${name}`).expect(200)).body.status?.used;
    await until(async () => (await used('best-effort'))?.pods === '0' && (await used('terminating'))?.pods === '0');
    const bestEffort = (name: string, spec: Record<string, unknown> = {}) => ({ metadata: { name }, spec: { containers: [{ name: 'app', image: 'nginx' }], ...spec } });
    await json(t.call('post', `${ns}/pods`), bestEffort('be-1')).expect(201);
    const refused = await json(t.call('post', `${ns}/pods`), bestEffort('be-2')).expect(403);
    assert.equal(refused.body.message, 'pods "be-2" is forbidden: exceeded quota: best-effort, requested: pods=1, used: pods=1, limited: pods=1');
    // Not BestEffort and not Terminating: neither quota tracks it; a scoped quota never counts ConfigMaps.
    await json(t.call('post', `${ns}/pods`), pod('burstable', '100m')).expect(201);
    await json(t.call('post', `${ns}/configmaps`), { metadata: { name: 'cm' } }).expect(201);
    // activeDeadlineSeconds makes a pod Terminating: the second quota's one pod.
    await json(t.call('post', `${ns}/pods`), { ...pod('deadline', '100m'), spec: { ...pod('deadline', '100m').spec, activeDeadlineSeconds: 60 } }).expect(201);
    await until(async () => (await used('best-effort'))?.pods === '1' && (await used('terminating'))?.pods === '1');
    await t.call('delete', `${ns}/pods/be-1?gracePeriodSeconds=0`).expect(200);
    await until(async () => (await used('best-effort'))?.pods === '0');
    await json(t.call('post', `${ns}/pods`), bestEffort('be-2')).expect(201);
  });

  test('scopes are validated against the resources they track, and conflicting pairs refused', async () => {
    const wrong = await json(t.call('post', `${NS}/resourcequotas`), { metadata: { name: 'wrong-scope' }, spec: { hard: { pods: '1', 'requests.cpu': '1', configmaps: '2' }, scopes: ['BestEffort'] } }).expect(422);
    // One error per resource the scope cannot track (requests.cpu and configmaps here): the message, built by
    // ErrorList.ToAggregate, names equal errors once; the causes keep both.
    assert.equal(wrong.body.message, 'ResourceQuota "wrong-scope" is invalid: spec.scopes: Invalid value: []core.ResourceQuotaScope{"BestEffort"}: unsupported scope applied to resource');
    assert.equal(wrong.body.details.causes.length, 2);
    const conflicting = await json(t.call('post', `${NS}/resourcequotas`), { metadata: { name: 'conflicting' }, spec: { hard: { pods: '1' }, scopes: ['Terminating', 'NotTerminating'] } }).expect(422);
    assert.equal(conflicting.body.message, 'ResourceQuota "conflicting" is invalid: spec.scopes: Invalid value: []core.ResourceQuotaScope{"Terminating", "NotTerminating"}: conflicting scopes');
    // Resources quota does not know (count/…) are not checked against scopes.
    const counted = await json(t.call('post', `${NS}/resourcequotas`), { metadata: { name: 'counted' }, spec: { hard: { pods: '1', 'count/jobs.batch': '1' }, scopes: ['NotTerminating'] } });
    assert.equal(counted.status, 201, counted.text);
    await t.call('delete', `${NS}/resourcequotas/counted`).expect(200);
  });

  test('a quota whose usage is not known yet refuses', async () => {
    await json(t.call('post', '/api/v1/namespaces'), { metadata: { name: 'quota-unknown' } }).expect(201);
    await controller.stop();
    try {
      await json(t.call('post', '/api/v1/namespaces/quota-unknown/resourcequotas'), { metadata: { name: 'fresh' }, spec: { hard: { secrets: '5' } } }).expect(201);
      const refused = await json(t.call('post', '/api/v1/namespaces/quota-unknown/secrets'), { metadata: { name: 's' } }).expect(403);
      assert.equal(refused.body.message, 'secrets "s" is forbidden: status unknown for quota: fresh, resources: secrets');
    } finally {
      const kubeconfigs = await writeComponentKubeconfigs(dir, t.url, t.server.credentials, []);
      controller = await runResourceQuotaController({ kubeconfigPath: kubeconfigs.controllerManager, logger: quiet });
    }
  });
});
