// The lean list/watch informer the scheduler and the kubelet share (clients/lean-informer.ts), against a scripted
// HTTP server: paging, watch from the list's resourceVersion, relist on 410 and after errors, synthesised deletions.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { JsonApiClient } from '../clients/json-api-client.ts';
import { startLeanInformer, type InformerLogger } from '../clients/lean-informer.ts';

function podJson(name: string, resourceVersion: string, uid = `uid-${name}`): V1Pod {
  return { metadata: { namespace: 'ns', name, uid, resourceVersion }, spec: { containers: [] } };
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

const silent: InformerLogger = { info: () => {}, error: () => {} };

async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function recorder(seen: string[]): Parameters<typeof startLeanInformer<V1Pod>>[3] {
  return {
    add: (pod) => seen.push(`add ${pod.metadata?.name} ${pod.metadata?.uid}`),
    update: (pod) => seen.push(`update ${pod.metadata?.name}`),
    delete: (pod, finalStateUnknown) => seen.push(`delete ${pod.metadata?.namespace}/${pod.metadata?.name} ${pod.metadata?.uid}${
      finalStateUnknown ? ' (tombstone)' : ''}${pod.spec ? ' +spec' : ''}`),
  };
}

describe('lean informer', () => {
  test('lists, watches, relists on 410 and reports vanished objects as tombstones', async () => {
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
        const items = lists === 1 ? [podJson('a', '1'), podJson('b', '2'), podJson('d', '3')] : [podJson('a', '12'), podJson('c', '11')];
        res.end(JSON.stringify({ kind: 'PodList', metadata: { resourceVersion: lists === 1 ? '10' : '20' }, items }));
        return;
      }
      watches++;
      if (watches === 1) {
        res.write(`${JSON.stringify({ type: 'ADDED', object: podJson('c', '11') })}\n`);
        res.write(`${JSON.stringify({ type: 'MODIFIED', object: podJson('a', '12') })}\n`);
        res.write(`${JSON.stringify({ type: 'DELETED', object: podJson('d', '13') })}\n`);
        res.end(`${JSON.stringify({ type: 'ERROR', object: { kind: 'Status', code: 410, message: 'too old' } })}\n`);
        return;
      }
      openWatches.add(res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const client = clientFor(server);
    const seen: string[] = [];
    const informer = startLeanInformer<V1Pod>(client, '/api/v1/pods', undefined, recorder(seen), silent);
    await informer.synced;
    await until(() => watches >= 2);
    await informer.stop();
    for (const res of openWatches) res.end();
    client.close();
    server.close();
    assert.deepEqual(seen, [
      'add a uid-a', 'add b uid-b', 'add d uid-d', 'add c uid-c', 'update a', 'delete ns/d uid-d +spec',
      'update a', 'update c', 'delete ns/b uid-b (tombstone)',
    ]);
    assert.deepEqual(requests, ['list rv=', 'watch rv=10', 'list rv=', 'watch rv=20']);
  });

  test('pages the list with the field selector, retries a failed watch with backoff, and splits a uid change into delete and add', async () => {
    const requests: string[] = [];
    let lists = 0;
    let watches = 0;
    const openWatches = new Set<http.ServerResponse>();
    const server = http.createServer((req, res) => {
      const url = new URL(req.url ?? '', 'http://x');
      const params = url.searchParams;
      requests.push(`${params.get('watch') ? 'watch' : 'list'} fieldSelector=${params.get('fieldSelector')} continue=${params.get('continue') ?? ''}`);
      if (!params.get('watch')) {
        if (params.get('continue')) {
          res.writeHead(200, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify({ metadata: { resourceVersion: '5' }, items: [podJson('b', '4', lists === 1 ? 'uid-b' : 'uid-b2')] }));
          return;
        }
        lists++;
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ metadata: { resourceVersion: '5', continue: 'page-2' }, items: [podJson('a', '3')] }));
        return;
      }
      watches++;
      if (watches === 1) {
        res.writeHead(500, { 'Content-Type': 'application/json' });
        res.end('{"kind":"Status","code":500}');
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/json' });
      openWatches.add(res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const client = clientFor(server);
    const seen: string[] = [];
    const logged: string[] = [];
    const logger: InformerLogger = {
      info: (message) => logged.push(`info ${message}`),
      error: (message, fields) => logged.push(`error ${message} retryInMs=${String(fields?.retryInMs)}`),
    };
    const informer = startLeanInformer<V1Pod>(client, '/api/v1/pods', 'spec.nodeName!=', recorder(seen), logger);
    await informer.synced;
    await until(() => watches >= 2);
    await informer.stop();
    for (const res of openWatches) res.end();
    client.close();
    server.close();
    assert.deepEqual(seen, ['add a uid-a', 'add b uid-b', 'update a', 'delete ns/b uid-b (tombstone)', 'add b uid-b2']);
    assert.deepEqual(requests, [
      'list fieldSelector=spec.nodeName!= continue=', 'list fieldSelector=spec.nodeName!= continue=page-2',
      'watch fieldSelector=spec.nodeName!= continue=',
      'list fieldSelector=spec.nodeName!= continue=', 'list fieldSelector=spec.nodeName!= continue=page-2',
      'watch fieldSelector=spec.nodeName!= continue=',
    ]);
    assert.deepEqual(logged, ['error informer stopped, restarting retryInMs=200', 'info informer resumed']);
  });
});
