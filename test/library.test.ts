// kubefacade as a test dependency, through its public library API only (lib/index.ts, the package's
// `exports`): clusters in one process, memory storage, reset between tests, typed option errors, start
// failures that leave nothing behind, and a stop that lets a test runner exit on its own.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CoreV1Api, Watch, type V1Pod } from '@kubernetes/client-node';
import {
  KubefacadeOptionError, KubefacadeStartError, startApiServer, startCluster, type KubefacadeCluster,
} from '../lib/index.ts';

const run = promisify(execFile);

function pod(name: string) {
  return { metadata: { name }, spec: { containers: [{ name: 'app', image: 'nginx:1.27' }] } };
}

describe('two clusters in one process, memory storage', () => {
  let first: KubefacadeCluster;
  let second: KubefacadeCluster;
  before(async () => {
    [first, second] = await Promise.all([startCluster({ nodes: 2 }), startCluster({ nodes: 1, storage: 'memory' })]);
  });
  after(async () => {
    await first?.stop();
    await second?.stop();
  });

  test('each has its own port, store and Ready nodes', async () => {
    assert.notEqual(first.url, second.url);
    assert.match(first.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.deepEqual([...first.nodes], ['node01', 'node02']);
    const firstCore = first.kubeconfig.makeApiClient(CoreV1Api);
    const secondCore = second.kubeconfig.makeApiClient(CoreV1Api);
    const nodes = await firstCore.listNode();
    assert.deepEqual(nodes.items.map((node) => [node.metadata?.name, node.status?.conditions?.find((c) => c.type === 'Ready')?.status]),
      [['node01', 'True'], ['node02', 'True']]);
    assert.equal((await secondCore.listNode()).items.length, 1);
    await firstCore.createNamespacedPod({ namespace: 'default', body: pod('only-in-first') });
    assert.equal((await firstCore.listNamespacedPod({ namespace: 'default' })).items.length, 1);
    assert.equal((await secondCore.listNamespacedPod({ namespace: 'default' })).items.length, 0);
    await first.reset();
  });

  test('memory storage: the data dir holds keys and kubeconfigs, no database', async () => {
    const entries = await readdir(second.dataDir);
    assert.ok(entries.includes('admin.kubeconfig'));
    assert.ok(entries.includes('pki'));
    assert.ok(!entries.includes('db'), `no db dir: ${entries.join(', ')}`);
    assert.equal(second.kubeconfigPath, join(second.dataDir, 'admin.kubeconfig'));
    assert.match(second.kubeconfigYaml, /certificate-authority-data: /);
    assert.equal(second.kubeconfig.getCurrentCluster()?.server, second.url);
  });

  test('kubectl works with kubeconfigPath', async () => {
    const { stdout } = await run('kubectl', ['--kubeconfig', second.kubeconfigPath, 'get', 'nodes', '-o', 'name']);
    assert.equal(stdout.trim(), 'node/node01');
  });

  test('userKubeconfig: a user RBAC knows by name and groups', async () => {
    const alice = second.userKubeconfig('alice', ['dev']).makeApiClient(CoreV1Api);
    await assert.rejects(alice.listNamespacedPod({ namespace: 'default' }), (error: { code?: number; body?: string }) => {
      assert.equal(error.code, 403);
      assert.match(String(error.body), /User \\"alice\\" cannot list resource \\"pods\\"/);
      return true;
    });
    const admin = second.kubeconfig.makeApiClient(CoreV1Api);
    assert.ok((await admin.listNamespace()).items.length >= 4);
    assert.throws(() => second.userKubeconfig(''), KubefacadeOptionError);
  });
});

describe('reset between tests', () => {
  let cluster: KubefacadeCluster;
  before(async () => { cluster = await startCluster({ nodes: 1 }); });
  after(async () => { await cluster?.stop(); });

  test('removes every object but the bootstrap ones; watchers get DELETED; resourceVersions keep increasing', async () => {
    const core = cluster.kubeconfig.makeApiClient(CoreV1Api);
    const namespacesBefore = (await core.listNamespace()).items.map((ns) => ns.metadata?.name).sort();
    await core.createNamespace({ body: { metadata: { name: 'team-a' } } });
    const created = await core.createNamespacedPod({ namespace: 'team-a', body: pod('web') });
    await core.createNamespacedPod({ namespace: 'default', body: pod('db') });

    const events: { type: string; name?: string; rv?: string }[] = [];
    const watch = new Watch(cluster.kubeconfig);
    const request = await watch.watch('/api/v1/pods', { resourceVersion: created.metadata?.resourceVersion }, (type: string, object: V1Pod) => {
      events.push({ type, name: object.metadata?.name, rv: object.metadata?.resourceVersion });
    }, () => undefined);
    const lastRv = Number((await core.listNamespacedPod({ namespace: 'default' })).metadata?.resourceVersion);

    await cluster.reset();

    const deadline = Date.now() + 10_000;
    while (events.filter((event) => event.type === 'DELETED').length < 2 && Date.now() < deadline) await new Promise((done) => setTimeout(done, 20));
    request.abort();
    assert.deepEqual(events.filter((event) => event.type === 'DELETED').map((event) => event.name).sort(), ['db', 'web']);
    for (const event of events.filter((e) => e.type === 'DELETED')) assert.ok(Number(event.rv) > lastRv, `${event.name} deleted at ${event.rv} > ${lastRv}`);

    assert.deepEqual((await core.listNamespace()).items.map((ns) => ns.metadata?.name).sort(), namespacesBefore);
    assert.equal((await core.listPodForAllNamespaces()).items.length, 0);
    assert.deepEqual((await core.listNode()).items.map((node) => node.metadata?.name), ['node01']);
    const rbac = await run('kubectl', ['--kubeconfig', cluster.kubeconfigPath, 'get', 'clusterrole', 'cluster-admin', 'system:public-info-viewer', '-o', 'name']);
    assert.equal(rbac.stdout.trim(), 'clusterrole.rbac.authorization.k8s.io/cluster-admin\nclusterrole.rbac.authorization.k8s.io/system:public-info-viewer');

    const next = await core.createNamespacedPod({ namespace: 'default', body: pod('db') });
    assert.ok(Number(next.metadata?.resourceVersion) > lastRv);
  });

  test('the cluster keeps working after a reset: a new pod is scheduled and runs', async () => {
    const core = cluster.kubeconfig.makeApiClient(CoreV1Api);
    await cluster.reset();
    await core.createNamespacedPod({ namespace: 'default', body: { ...pod('after-reset'), spec: { containers: [{ name: 'app', image: 'nginx:1.27' }] } } });
    const deadline = Date.now() + 15_000;
    let phase: string | undefined;
    while (Date.now() < deadline) {
      phase = (await core.readNamespacedPod({ namespace: 'default', name: 'after-reset' })).status?.phase;
      if (phase === 'Running') break;
      await new Promise((done) => setTimeout(done, 100));
    }
    assert.equal(phase, 'Running');
  });
});

describe('invalid options throw a KubefacadeOptionError naming the option', () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ['a negative node count', { nodes: -1 }, 'nodes'],
    ['a port that is not a number', { port: '6443' }, 'port'],
    ['a port out of range', { port: 70000 }, 'port'],
    ['an unknown storage', { storage: 'postgres' }, 'storage'],
    ['an empty etcd server list', { storage: { etcd: [] } }, 'storage.etcd'],
    ['an etcd URL without a port', { storage: { etcd: 'http://localhost' } }, 'storage.etcd'],
    ['a misspelt option', { node: 3 }, 'node'],
    ['a certificate without its key', { tlsCertFile: '/tmp/cert.pem' }, 'tlsPrivateKeyFile'],
    ['a bad quantity', { nodeMemory: 'lots' }, 'nodeMemory'],
    ['a non-boolean flag', { anonymousAuth: 'yes' }, 'anonymousAuth'],
  ];
  for (const [what, options, option] of cases) {
    test(what, async () => {
      await assert.rejects(startCluster(options), (error: unknown) => {
        assert.ok(error instanceof KubefacadeOptionError, String(error));
        assert.ok(error instanceof TypeError);
        assert.equal(error.option, option);
        assert.match(error.message, new RegExp(`^invalid option ${option.replace('.', '\\.')}: `));
        return true;
      });
    });
  }

  test('startApiServer refuses cluster options, by name', async () => {
    await assert.rejects(startApiServer({ nodes: 3 } as Record<string, unknown>), { name: 'KubefacadeOptionError', option: 'nodes', message: 'invalid option nodes: unknown option (a startCluster option)' });
  });
});

describe('start failures leave nothing behind', () => {
  let dir: string;
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'kubefacade-lib-')); });
  after(async () => { await rm(dir, { recursive: true, force: true }); });

  test('a port in use: PortInUse, no data dir written', async () => {
    const blocker = createServer();
    await new Promise<void>((done) => blocker.listen(0, '127.0.0.1', done));
    const port = (blocker.address() as { port: number }).port;
    const dataDir = join(dir, 'port');
    try {
      await assert.rejects(startApiServer({ port, storage: { leveldb: dataDir } }), (error: unknown) => {
        assert.ok(error instanceof KubefacadeStartError);
        assert.equal(error.reason, 'PortInUse');
        assert.equal(error.message, `port ${port} on 127.0.0.1 is already in use`);
        return true;
      });
      assert.equal(existsSync(dataDir), false);
    } finally {
      blocker.close();
    }
  });

  test('a data dir that cannot be written: DataDirNotWritable', async () => {
    const file = join(dir, 'a-file');
    await writeFile(file, 'not a directory');
    await assert.rejects(startApiServer({ dataDir: join(file, 'data') }), { name: 'KubefacadeStartError', reason: 'DataDirNotWritable' });
  });

  test('a data dir from an incompatible version: IncompatibleDataDir, the dir left as it was', async () => {
    const dataDir = join(dir, 'old');
    const server = await startApiServer({ storage: { leveldb: dataDir } });
    await server.stop();
    // Mark the store as written in another layout, as a future version would.
    const { ClassicLevel } = await import('classic-level');
    const db = new ClassicLevel(join(dataDir, 'db'));
    await db.put('m:format', '99');
    await db.close();
    const entries = (await readdir(dataDir)).sort();
    await assert.rejects(startApiServer({ storage: { leveldb: dataDir } }), (error: unknown) => {
      assert.ok(error instanceof KubefacadeStartError);
      assert.equal(error.reason, 'IncompatibleDataDir');
      assert.match(error.message, /storage format 99 .* this version reads format 1/);
      return true;
    });
    assert.deepEqual((await readdir(dataDir)).sort(), entries);
    // The same data dir still starts once the marker is the current one: nothing was rewritten or half-written.
    const again = new ClassicLevel(join(dataDir, 'db'));
    await again.put('m:format', '1');
    await again.close();
    await (await startApiServer({ storage: { leveldb: dataDir } })).stop();
  });

  test('an etcd nobody answers on: EtcdUnreachable within seconds, no data dir', async () => {
    const dataDir = join(dir, 'etcd');
    const started = Date.now();
    await assert.rejects(startApiServer({ dataDir, storage: { etcd: 'http://127.0.0.1:1' } }), (error: unknown) => {
      assert.ok(error instanceof KubefacadeStartError);
      assert.equal(error.reason, 'EtcdUnreachable');
      assert.match(error.message, /^etcd is not reachable at http:\/\/127\.0\.0\.1:1: /);
      return true;
    });
    assert.ok(Date.now() - started < 10_000);
    assert.equal(existsSync(dataDir), false);
  });
});

test('stop leaves no open handle: a script that starts and stops a cluster exits on its own', async () => {
  const script = join(tmpdir(), `kubefacade-exit-${process.pid}.mts`);
  const entry = new URL('../lib/index.ts', import.meta.url).href;
  await writeFile(script, `
    import { startCluster, startApiServer } from ${JSON.stringify(entry)};
    const a = await startCluster({ nodes: 2 });
    const b = await startApiServer();
    const res = await fetch(a.url + '/readyz', { headers: {} }).catch(() => undefined);
    await a.reset();
    await a.stop();
    await b.stop();
    console.log('stopped');
  `);
  try {
    // No process.exit in the script: it ends only when nothing holds the event loop.
    const { stdout } = await run(process.execPath, ['--import', 'tsx', script], { timeout: 60_000 });
    assert.equal(stdout.trim(), 'stopped');
  } finally {
    await rm(script, { force: true });
  }
});
