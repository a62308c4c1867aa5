// @kubernetes/client-node's informer (makeInformer, 1.4.0) against `kubefacade server` in a child
// process: it sees ADD, UPDATE, DELETE in order, and after the server is SIGKILLed and restarted on
// the same data dir and port it recovers the way a real controller does (restart on 'error'),
// relists because its resourceVersion is older than the restarted server's watch window, and
// ends up with a cache that matches the server.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CoreV1Api, makeInformer, PatchStrategy, setHeaderOptions, type Informer, type ObjectCache, type V1Pod } from '@kubernetes/client-node';
import { startServerProcess, type ServerProcess } from './helpers/server-process.ts';

const RESTART_DELAY_MS = 200;

async function until(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 20));
  }
}

function smallPod(name: string, labels: Record<string, string> = {}): V1Pod {
  return { metadata: { name, labels }, spec: { containers: [{ name: 'c', image: 'busybox:1.36' }] } };
}

describe('client-node informer on pods', () => {
  let server: ServerProcess | undefined;
  let informer: (Informer<V1Pod> & ObjectCache<V1Pod>) | undefined;
  let stopped = false;
  let core: CoreV1Api;
  const seen: string[] = [];
  const errors: unknown[] = [];
  let lists = 0;

  before(async () => {
    server = await startServerProcess('kubefacade-informer-');
    const config = server.kubeConfig();
    core = config.makeApiClient(CoreV1Api);
    informer = makeInformer(config, '/api/v1/namespaces/default/pods', async () => {
      const list = await core.listNamespacedPod({ namespace: 'default' });
      lists += 1; // successful lists only: a refused connection is not a relist
      return list;
    });
    const record = (verb: string) => (pod: V1Pod) => { seen.push(`${verb} ${pod.metadata?.name} ${pod.metadata?.labels?.step ?? '-'}`); };
    informer.on('add', record('add'));
    informer.on('update', record('update'));
    informer.on('delete', record('delete'));
    // client-node's informer stops on any error that is not a 410; the caller restarts it, as
    // controllers built on it do, after a short pause so a down server is not hammered.
    informer.on('error', (err: unknown) => {
      errors.push(err);
      if (!stopped) setTimeout(() => { if (!stopped) void informer?.start(); }, RESTART_DELAY_MS);
    });
    await informer.start();
  });

  after(async () => {
    stopped = true;
    await informer?.stop();
    await server?.dispose();
  });

  test('create, label, delete arrive as ADD, UPDATE, DELETE in order', async () => {
    await core.createNamespacedPod({ namespace: 'default', body: smallPod('alpha', { step: '1' }) });
    await core.patchNamespacedPod({ name: 'alpha', namespace: 'default', body: { metadata: { labels: { step: '2' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    await core.deleteNamespacedPod({ name: 'alpha', namespace: 'default' });
    await until(() => seen.length >= 3, 'three informer events');
    assert.deepEqual(seen, ['add alpha 1', 'update alpha 2', 'delete alpha 2']);
    assert.equal(informer!.get('alpha', 'default'), undefined);
    assert.equal(lists, 1);
    assert.deepEqual(errors, []);
  });

  test('after a SIGKILL and a restart on the same data dir and port, the informer relists and sees new pods', async () => {
    // A pod that survives the restart, and writes outside the informer's namespace: they move the
    // server's revision past the informer's last resourceVersion, so its resumed watch is too old.
    await core.createNamespacedPod({ namespace: 'default', body: smallPod('survivor', { step: 'before' }) });
    await until(() => informer!.get('survivor', 'default') !== undefined, 'survivor in the cache');
    await core.createNamespace({ body: { metadata: { name: 'elsewhere' } } });
    for (let i = 0; i < 5; i += 1) await core.createNamespacedPod({ namespace: 'elsewhere', body: smallPod(`other-${i}`) });
    const listsBefore = lists;

    await server!.kill('SIGKILL');
    await until(() => errors.length > 0, 'the informer to report the lost connection');
    await server!.restart();

    await core.createNamespacedPod({ namespace: 'default', body: smallPod('after-restart', { step: 'after' }) });
    await until(() => informer!.get('after-restart', 'default') !== undefined, 'after-restart in the informer cache');
    assert.ok(lists > listsBefore, 'the informer relisted after the restart');
    assert.deepEqual(seen.slice(3), ['add survivor before', 'add after-restart after']);
    const cached = informer!.list('default').map((pod) => pod.metadata?.name).sort();
    const live = (await core.listNamespacedPod({ namespace: 'default' })).items.map((pod) => pod.metadata?.name).sort();
    assert.deepEqual(cached, ['after-restart', 'survivor']);
    assert.deepEqual(cached, live);

    // The recovered watch keeps delivering changes.
    await core.deleteNamespacedPod({ name: 'survivor', namespace: 'default' });
    await until(() => seen.length >= 6, 'the DELETE after recovery');
    assert.equal(seen[5], 'delete survivor before');
  });
});
