// `kubectl get componentstatuses`: deprecated with upstream's warning, and probed: the store by a
// read, the scheduler and controller-manager by their Lease or their own connections, so `up`
// reports them Healthy and a lone API server reports them Unhealthy.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { startCluster, type RunningCluster } from '../server/up.ts';
import { startApiServer, type RunningApiServer } from '../server/start.ts';
import { Kubectl } from './helpers/kubectl.ts';

describe('componentstatuses', () => {
  let dir: string;
  let cluster: RunningCluster;
  let lone: RunningApiServer;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kubefacade-cs-'));
    cluster = await startCluster({
      dataDir: join(dir, 'up'), bind: '127.0.0.1', port: 0, tlsSans: [], nodes: 1, nodeCpu: '4', nodeMemory: '8Gi', nodePods: 110,
      imagePullDelayMs: 50, kubeletPort: 0, nodeMonitorGracePeriodSeconds: 40, quiet: true,
    });
    lone = await startApiServer({ dataDir: join(dir, 'lone'), bind: '127.0.0.1', port: 0, tlsSans: [] });
  });
  after(async () => {
    await cluster?.stop();
    await lone?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('kubectl get cs: every component Healthy under up, with the deprecation warning', async () => {
    const kubectl = await Kubectl.create(cluster.apiServer.adminKubeconfigPath);
    try {
      const result = await kubectl.run(['get', 'cs']);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stderr, /Warning: v1 ComponentStatus is deprecated in v1\.19\+/);
      const rows = result.stdout.trim().split('\n').map((line) => line.split(/\s+/));
      assert.deepEqual(rows[0], ['NAME', 'STATUS', 'MESSAGE', 'ERROR']);
      assert.deepEqual(rows.slice(1).map((r) => r.slice(0, 3)), [['controller-manager', 'Healthy', 'ok'], ['leveldb', 'Healthy', 'ok'], ['scheduler', 'Healthy', 'ok']]);
      const one = JSON.parse(await kubectl.ok(['get', 'componentstatus', 'scheduler', '-o', 'json']));
      assert.deepEqual(one, { kind: 'ComponentStatus', apiVersion: 'v1', metadata: { name: 'scheduler' }, conditions: [{ type: 'Healthy', status: 'True', message: 'ok' }] });
      const missing = await kubectl.run(['get', 'cs', 'etcd-7']);
      assert.match(missing.stderr, /componentstatuses "etcd-7" not found/);
    } finally {
      await kubectl.dispose();
    }
  });

  test('a lone API server: the store is Healthy, the scheduler and controller-manager are not', async () => {
    const res = await request(lone.url).get('/api/v1/componentstatuses').ca(lone.caCertPem).set('Authorization', `Bearer ${lone.adminToken}`).expect(200);
    assert.equal(res.headers.warning, '299 - "v1 ComponentStatus is deprecated in v1.19+"');
    assert.equal(res.body.kind, 'ComponentStatusList');
    const byName = Object.fromEntries(res.body.items.map((i: { metadata: { name: string }; conditions: { status: string; error?: string }[] }) => [i.metadata.name, i.conditions[0]]));
    assert.equal(byName.leveldb.status, 'True');
    assert.equal(byName.scheduler.status, 'False');
    assert.match(byName.scheduler.error, /^system:kube-scheduler: no open connection and no request in the last 60s \(never connected\); no Lease kube-system\/kube-scheduler$/);
    assert.equal(byName['controller-manager'].status, 'False');
    const watch = await request(lone.url).get('/api/v1/componentstatuses?watch=true').ca(lone.caCertPem).set('Authorization', `Bearer ${lone.adminToken}`);
    assert.equal(watch.status, 405);
  });
});
