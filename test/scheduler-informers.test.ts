import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig, type CoreV1Event, type V1Pod } from '@kubernetes/client-node';
import { JsonApiClient } from '../scheduler/api-client.ts';
import { EventRecorder, type EventSink } from '../scheduler/event-recorder.ts';
import { startResilientInformer } from '../scheduler/informers.ts';
import { SchedulerCache } from '../scheduler/cache.ts';

function podJson(name: string, resourceVersion: string): V1Pod {
  return { metadata: { namespace: 'ns', name, uid: `uid-${name}`, resourceVersion }, spec: { containers: [] } };
}

function clientFor(server: http.Server): JsonApiClient {
  const { port } = server.address() as AddressInfo;
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'c', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: 'u', token: 'secret-token' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return new JsonApiClient(kubeConfig);
}

describe('scheduler informer', () => {
  test('lists, watches, relists on 410 and reports vanished objects as stubs', async () => {
    const requests: string[] = [];
    let lists = 0;
    let watches = 0;
    const openWatches = new Set<http.ServerResponse>();
    const server = http.createServer((req, res) => {
      const url = new URL(req.url ?? '', 'http://x');
      requests.push(`${url.searchParams.get('watch') ? 'watch' : 'list'} rv=${url.searchParams.get('resourceVersion') ?? ''}`);
      assert.equal(req.headers.authorization, 'Bearer secret-token');
      res.writeHead(200, { 'Content-Type': 'application/json' });
      if (!url.searchParams.get('watch')) {
        lists++;
        const items = lists === 1 ? [podJson('a', '1'), podJson('b', '2')] : [podJson('a', '12'), podJson('c', '11')];
        res.end(JSON.stringify({ kind: 'PodList', metadata: { resourceVersion: lists === 1 ? '10' : '20' }, items }));
        return;
      }
      watches++;
      if (watches === 1) {
        res.write(`${JSON.stringify({ type: 'ADDED', object: podJson('c', '11') })}\n`);
        res.write(`${JSON.stringify({ type: 'MODIFIED', object: podJson('a', '12') })}\n`);
        res.end(`${JSON.stringify({ type: 'ERROR', object: { kind: 'Status', code: 410, message: 'too old' } })}\n`);
        return;
      }
      openWatches.add(res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const client = clientFor(server);
    const seen: string[] = [];
    const informer = startResilientInformer<V1Pod>(client, '/api/v1/pods', undefined, {
      add: (pod) => seen.push(`add ${pod.metadata?.name}`),
      update: (pod) => seen.push(`update ${pod.metadata?.name}`),
      delete: (pod) => seen.push(`delete ${pod.metadata?.namespace}/${pod.metadata?.name} ${pod.metadata?.uid}`),
    }, { info: () => {}, error: () => {} });
    await informer.synced;
    while (watches < 2) await new Promise((resolve) => setTimeout(resolve, 10));
    await informer.stop();
    for (const res of openWatches) res.end();
    client.close();
    server.close();
    assert.deepEqual(seen, ['add a', 'add b', 'add c', 'update a', 'update a', 'update c', 'delete ns/b uid-b']);
    assert.deepEqual(requests, ['list rv=', 'watch rv=10', 'list rv=', 'watch rv=20']);
  });
});

describe('scheduler cache memory', () => {
  test('placed pods keep their requests, not the pod object; a confirmed assumption keeps its accounting', () => {
    const cache = new SchedulerCache();
    cache.addOrUpdateNode({ metadata: { name: 'n' }, status: { allocatable: { cpu: '1', memory: '1Gi', pods: '10' } } });
    const pod: V1Pod = {
      metadata: { namespace: 'ns', name: 'p', uid: 'u1' },
      spec: { containers: [{ name: 'c', resources: { requests: { cpu: '250m', memory: '64Mi' } } }] },
    };
    cache.assumePod(pod, 'n');
    const info = cache.getNodeInfo('n')!;
    assert.equal(info.requested.milliCPU, 250);
    const entry = info.pods.get('u1')!;
    assert.equal(Object.values(entry).includes(pod as never), false);
    assert.equal(JSON.stringify(entry).includes('"ns"'), false, 'no pod metadata retained');
    cache.addOrUpdateAssignedPod({ ...pod, spec: { ...pod.spec!, nodeName: 'n' } });
    assert.equal(cache.isAssumed(pod), false);
    assert.equal(info.requested.milliCPU, 250);
    assert.equal(info.pods.size, 1);
  });
});

describe('scheduler event queue', () => {
  test('emitted events are sent with bounded concurrency, in order, and flushed', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const created: string[] = [];
    const sink: EventSink = {
      createNamespacedEvent: async ({ body }) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 2));
        inFlight--;
        created.push(body.message ?? '');
        return body;
      },
      patchNamespacedEvent: async () => ({} as CoreV1Event),
    };
    const recorder = new EventRecorder(sink, 'default-scheduler', { info: () => {}, error: () => {} });
    for (let i = 0; i < 20; i++) recorder.emitPodEvent(podJson(`p${i}`, '1'), 'Normal', 'Scheduled', 'Binding', `m${i}`);
    await recorder.flushed();
    assert.equal(created.length, 20);
    assert.ok(maxInFlight <= 4, `at most 4 in flight, saw ${maxInFlight}`);
    assert.deepEqual(created.slice(0, 4).sort(), ['m0', 'm1', 'm2', 'm3']);
  });
});
