// `kubefacade migrate` moves a populated LevelDB store into etcd and back: every object arrives
// identical (uid, labels, status, managedFields, ...) except its resourceVersion, the command
// reports per-resource counts, an API server on etcd then serves the same objects, and a migration
// into a store that already holds objects is refused.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoordinationV1Api, CoreV1Api, KubeConfig, PatchStrategy, setHeaderOptions, type V1Pod } from '@kubernetes/client-node';
import type { KubeObject } from '../api/object.ts';
import { startApiServer } from '../server/start.ts';
import { EtcdStorage } from '../storage/etcd.ts';
import type { Storage } from '../storage/interface.ts';
import { LevelDbStorage } from '../storage/leveldb.ts';
import { migrate, openStoreLocation, parseStoreLocation } from '../storage/migrate.ts';
import { startCli } from './helpers/cluster-processes.ts';
import { startEtcdCluster, type EtcdCluster } from './helpers/etcd.ts';

/** key → object without resourceVersion, for every object in the store. */
/** What each API server start rewrites (the kubernetes service follows the serving port), left out of comparisons. */
const SERVER_MAINTAINED = new Set([
  '/registry/services/specs/default/kubernetes', '/registry/services/endpoints/default/kubernetes', '/registry/endpointslices/default/kubernetes',
]);

async function contents(storage: Storage): Promise<Map<string, KubeObject>> {
  const listed = await storage.list('');
  const result = new Map<string, KubeObject>();
  listed.items.forEach((object, i) => {
    if (SERVER_MAINTAINED.has(listed.keys![i])) return;
    const { resourceVersion: _ignored, ...metadata } = object.metadata;
    result.set(listed.keys![i], { ...object, metadata });
  });
  return result;
}

async function runMigrate(args: string[]): Promise<{ code: number | null; output: string }> {
  const child = startCli(['migrate', ...args]);
  const code = await child.exited;
  return { code, output: child.output() };
}

const withoutVersion = (pod: V1Pod): V1Pod => ({ ...pod, metadata: { ...pod.metadata, resourceVersion: undefined } });

describe('migrate between LevelDB and etcd', () => {
  let etcd: EtcdCluster | undefined;
  const dirs: string[] = [];
  let levelDir: string;
  let original: Map<string, KubeObject>;
  let originalPods: V1Pod[];

  before(async () => {
    etcd = await startEtcdCluster(1);
    levelDir = await mkdtemp(join(tmpdir(), 'kubefacade-migrate-src-'));
    dirs.push(levelDir);
    // Populate through the API, so the objects are what a real cluster stores.
    const server = await startApiServer({ dataDir: levelDir, bind: '127.0.0.1', port: 0, tlsSans: [], disableAdmissionPlugins: ['ServiceAccount'] });
    try {
      const config = new KubeConfig();
      config.loadFromFile(server.adminKubeconfigPath);
      const core = config.makeApiClient(CoreV1Api);
      const coordination = config.makeApiClient(CoordinationV1Api);
      await core.createNamespace({ body: { metadata: { name: 'shop', labels: { team: 'web' } } } });
      for (let i = 0; i < 25; i++) {
        await core.createNamespacedPod({ namespace: 'shop', body: {
          metadata: { name: `web-${i}`, labels: { app: 'web', index: String(i) }, annotations: { note: `pod ${i}` } },
          spec: { nodeName: 'node01', containers: [{ name: 'nginx', image: 'nginx:1.27' }] },
        } });
        await core.patchNamespacedPodStatus({ name: `web-${i}`, namespace: 'shop', body: {
          status: { phase: 'Running', podIP: `10.244.0.${i + 2}`, conditions: [{ type: 'Ready', status: 'True' }] },
        } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
      }
      await core.deleteNamespacedPod({ name: 'web-24', namespace: 'shop', gracePeriodSeconds: 0 });
      await core.createNode({ body: { metadata: { name: 'node01', labels: { 'kubernetes.io/hostname': 'node01' } } } });
      await coordination.createNamespacedLease({ namespace: 'kube-node-lease', body: { metadata: { name: 'node01' }, spec: { holderIdentity: 'node01', leaseDurationSeconds: 40 } } });
      originalPods = (await core.listNamespacedPod({ namespace: 'shop' })).items;
    } finally {
      await server.close();
    }
    const source = await LevelDbStorage.open(levelDir);
    try {
      original = await contents(source);
    } finally {
      await source.close();
    }
  });

  after(async () => {
    await etcd?.stop();
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  test('LevelDB → etcd copies every object unchanged but for resourceVersion, and reports counts', async () => {
    assert.ok(original.size >= 30, `populated: ${original.size} objects`);
    const { code, output } = await runMigrate(['--from', `leveldb:${levelDir}`, '--to', `etcd:${etcd!.endpoints.join(',')}`]);
    assert.equal(code, 0, output);
    assert.match(output, /^pods: 24$/m);
    assert.match(output, /^namespaces: 5$/m);
    assert.match(output, /^nodes: 1$/m);
    assert.match(output, new RegExp(`^migrated ${original.size + SERVER_MAINTAINED.size} objects \\(source revision \\d+\\)`, 'm'));

    const target = await EtcdStorage.open({ endpoints: etcd!.endpoints, compactionIntervalMs: 0 });
    try {
      const copied = await contents(target);
      assert.deepEqual([...copied.keys()], [...original.keys()]);
      for (const [key, object] of original) assert.deepEqual(copied.get(key), object, key);
      const pod = copied.get('/registry/pods/shop/web-3')!;
      assert.deepEqual(pod.metadata.labels, { app: 'web', index: '3' });
      assert.equal((pod.status as { phase: string }).phase, 'Running');
    } finally {
      await target.close();
    }
  });

  test('an API server on the migrated etcd serves the same objects', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'kubefacade-migrate-etcd-'));
    dirs.push(dataDir);
    const server = await startApiServer({
      dataDir, bind: '127.0.0.1', port: 0, tlsSans: [], disableAdmissionPlugins: ['ServiceAccount'], etcd: { kind: 'etcd', endpoints: etcd!.endpoints, compactionIntervalMs: 0 },
    });
    try {
      const config = new KubeConfig();
      config.loadFromFile(server.adminKubeconfigPath);
      const pods = (await config.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: 'shop' })).items;
      assert.deepEqual(pods.map(withoutVersion), originalPods.map(withoutVersion));
      assert.ok(pods.every((pod, i) => pod.metadata?.uid === originalPods[i].metadata?.uid));
    } finally {
      await server.close();
    }
  });

  test('etcd → a new LevelDB store round-trips; a non-empty target is refused', async () => {
    const backDir = await mkdtemp(join(tmpdir(), 'kubefacade-migrate-back-'));
    dirs.push(backDir);
    const source = await openStoreLocation(parseStoreLocation(`etcd:${etcd!.endpoints[0]}`));
    const back = await openStoreLocation(parseStoreLocation(`leveldb:${backDir}`));
    try {
      const report = await migrate(source, back, { concurrency: 8 });
      assert.equal(report.total, original.size + SERVER_MAINTAINED.size);
      assert.deepEqual(await contents(back), original);
      await assert.rejects(migrate(source, back), /the target already holds \d+ objects; migrate into an empty store/);
    } finally {
      await source.close();
      await back.close();
    }
  });
});
