// The kubelet process's shared node and pod watches (kubelet/shared-watches.ts) against a scripted HTTP server: which
// node gets which pod event, the field selectors, the process's credentials, and deletions found only by a relist.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig, type V1Node, type V1Pod } from '@kubernetes/client-node';
import { startSharedWatches, type WatchedNode } from '../kubelet/shared-watches.ts';

function pod(name: string, nodeName: string, extra: { deleting?: boolean } = {}): V1Pod {
  return {
    metadata: { namespace: 'ns', name, uid: `uid-${name}`, resourceVersion: '1',
      ...(extra.deleting ? { deletionTimestamp: '2024-01-01T00:00:00Z' as unknown as Date } : {}) },
    spec: { nodeName, containers: [{ name: 'c', image: 'busybox' }] },
  };
}

/** Records what the watches call; knows the pods it was given, as a NodeAgent does through its workers. */
class RecordingNode implements WatchedNode {
  readonly calls: string[] = [];
  private readonly pods = new Set<string>();

  constructor(private readonly name: string) {}

  nodeObserved(node: V1Node): void {
    this.calls.push(`node ${node.status?.conditions?.[0]?.type ?? '-'}`);
  }

  nodeDeleted(): void {
    this.calls.push('node deleted');
  }

  podChanged(changed: V1Pod): void {
    assert.equal(changed.spec?.nodeName, this.name);
    this.pods.add(changed.metadata!.uid!);
    this.calls.push(`pod ${changed.metadata?.name}${changed.metadata?.deletionTimestamp ? ' deleting' : ''}`);
  }

  podDeleted(uid: string): void {
    this.pods.delete(uid);
    this.calls.push(`pod deleted ${uid}`);
  }

  hasPod(uid: string): boolean {
    return this.pods.has(uid);
  }
}

describe('kubelet shared watches', () => {
  test('route pod events to their node, stop pods deleted while the watch was down, keep the process identity', async () => {
    const requests: string[] = [];
    let podLists = 0;
    let podWatches = 0;
    let nodeDeletionSent = false;
    const openWatches = new Set<http.ServerResponse>();
    const server = http.createServer((req, res) => {
      const url = new URL(req.url ?? '', 'http://x');
      const watching = url.searchParams.get('watch') === 'true';
      requests.push(`${watching ? 'watch' : 'list'} ${url.pathname} ${url.searchParams.get('fieldSelector') ?? ''}`);
      assert.equal(req.headers.authorization, 'Bearer process-token');
      res.writeHead(200, { 'Content-Type': 'application/json' });
      if (url.pathname === '/api/v1/nodes') {
        if (watching) {
          // The first node watch reports node02 deleted; later ones stay open.
          if (!nodeDeletionSent) res.write(`${JSON.stringify({ type: 'DELETED', object: { metadata: { name: 'node02', uid: 'n2' } } })}\n`);
          nodeDeletionSent = true;
          openWatches.add(res);
          return;
        }
        const nodes = ['node01', 'node02', 'other01'].map((name) => ({
          metadata: { name, uid: name === 'node02' ? 'n2' : name }, status: { conditions: [{ type: 'Ready', status: 'True' }] },
        }));
        res.end(JSON.stringify({ metadata: { resourceVersion: '3' }, items: nodes }));
        return;
      }
      if (!watching) {
        podLists++;
        const items = podLists === 1
          ? [pod('a', 'node01'), pod('b', 'node02'), pod('c', 'other01'), pod('d', 'node02')]
          : [pod('a', 'node01', { deleting: true }), pod('c', 'other01')];
        res.end(JSON.stringify({ metadata: { resourceVersion: String(10 * podLists) }, items }));
        return;
      }
      podWatches++;
      if (podWatches === 1) {
        res.write(`${JSON.stringify({ type: 'DELETED', object: pod('b', 'node02') })}\n`);
        res.end(`${JSON.stringify({ type: 'ERROR', object: { kind: 'Status', code: 410, message: 'too old' } })}\n`);
        return;
      }
      openWatches.add(res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const config = new KubeConfig();
    config.loadFromOptions({
      clusters: [{ name: 'c', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
      users: [{ name: 'kubelet-process', token: 'process-token' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'kubelet-process' }],
      currentContext: 'x',
    });
    const node01 = new RecordingNode('node01');
    const node02 = new RecordingNode('node02');
    const logged: string[] = [];
    const watches = startSharedWatches(config, new Map([['node01', node01], ['node02', node02]]), {
      info: (message) => logged.push(message), warn: (message) => logged.push(message),
    });
    await watches.synced;
    const deadline = Date.now() + 5_000;
    while (podWatches < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    await watches.stop();
    for (const res of openWatches) res.end();
    server.close();

    assert.deepEqual(node01.calls, ['node Ready', 'pod a', 'pod a deleting']);
    // b: DELETED from the watch (with its spec); d: gone by the relist, found by uid.
    assert.deepEqual(node02.calls, ['node Ready', 'node deleted', 'pod b', 'pod d', 'pod deleted uid-b', 'pod deleted uid-d']);
    assert.deepEqual(requests.filter((r) => r.includes('/pods')).slice(0, 4), [
      'list /api/v1/pods spec.nodeName!=', 'watch /api/v1/pods spec.nodeName!=',
      'list /api/v1/pods spec.nodeName!=', 'watch /api/v1/pods spec.nodeName!=',
    ]);
    assert.ok(requests.includes('list /api/v1/nodes '), 'many nodes share one unfiltered node watch');
  });

  test('a single node watches only its own Node and pods', async () => {
    const requests: string[] = [];
    const openWatches = new Set<http.ServerResponse>();
    const server = http.createServer((req, res) => {
      const url = new URL(req.url ?? '', 'http://x');
      const watching = url.searchParams.get('watch') === 'true';
      requests.push(`${watching ? 'watch' : 'list'} ${url.pathname} ${url.searchParams.get('fieldSelector') ?? ''}`);
      res.writeHead(200, { 'Content-Type': 'application/json' });
      if (watching) openWatches.add(res);
      else res.end(JSON.stringify({ metadata: { resourceVersion: '1' }, items: [] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const config = new KubeConfig();
    config.loadFromOptions({
      clusters: [{ name: 'c', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }], users: [{ name: 'u', token: 't' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }], currentContext: 'x',
    });
    const watches = startSharedWatches(config, new Map([['node07', new RecordingNode('node07')]]), { info: () => {}, warn: () => {} });
    await watches.synced;
    await watches.stop();
    for (const res of openWatches) res.end();
    server.close();
    assert.deepEqual(requests.filter((r) => r.startsWith('list')), [
      'list /api/v1/nodes metadata.name=node07', 'list /api/v1/pods spec.nodeName=node07',
    ]);
  });
});
