// Conformance entry of sig-node for pods/log over a WebSocket, on `up`'s cluster, read as the upstream e2e test
// (test/e2e/common/node/pods.go) reads it: a `binary.k8s.io` WebSocket on GET pods/{name}/log?container=main,
// every message until the server closes, whitespace-only messages (wsstream's empty first message) skipped.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { startConformanceCluster, until, type ConformanceCluster } from './helpers/cluster.ts';

/**
 * The simulated runtime writes its own lines into every container's log (`kubefacade: simulated container "main"
 * (image busybox) started`, and on exit); what the container itself printed is every other line.
 */
const RUNTIME_LINE = /^kubefacade: simulated container "[^"]+" /;

describe('conformance: pod logs over WebSocket', () => {
  let c: ConformanceCluster;
  before(async () => { c = await startConformanceCluster('node-log-websocket', { nodes: 1 }); });
  after(async () => { await c.stop(); });

  test('Pods, logs from websockets', async () => {
    const ns = 'pods-logs-websocket';
    await c.api('post', '/api/v1/namespaces', { body: { metadata: { name: ns } }, expect: 201 });
    const name = 'pod-logs-websocket-1b2c3d';
    await c.api('post', `/api/v1/namespaces/${ns}/pods`, { expect: 201, body: {
      apiVersion: 'v1', kind: 'Pod', metadata: { name },
      spec: { containers: [{ name: 'main', image: 'busybox', command: ['/bin/sh', '-c', 'echo container is alive; sleep 10000'] }] },
    } });
    await until(async () => ((await c.api('get', `/api/v1/namespaces/${ns}/pods/${name}`)).status?.phase === 'Running' ? true : undefined), 'the pod Running');

    const path = `/api/v1/namespaces/${ns}/pods/${name}/log?container=main`;
    const ws = new WebSocket(`${c.server.url.replace('https', 'wss')}${path}`, ['binary.k8s.io'], {
      ca: c.server.caCertPem, headers: { Authorization: `Bearer ${c.server.adminToken}` },
    });
    const received: Buffer[] = [];
    const closeCode = await new Promise<number>((resolve, reject) => {
      ws.on('message', (data: Buffer) => {
        if (data.toString().trim().length === 0) return;
        received.push(data);
      });
      ws.on('close', (code) => resolve(code));
      ws.on('error', reject);
    });
    assert.equal(ws.protocol, 'binary.k8s.io');
    assert.equal(closeCode, 1000, 'the server closes normally at the end of the log');
    const overWebSocket = Buffer.concat(received).toString();

    // The same log as GET pods/{name}/log over HTTP, byte for byte.
    const overHttp = await c.raw('get', path).buffer(true).parse((res, done) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => done(null, text));
    });
    assert.equal(overWebSocket, overHttp.body);
    // What the container printed, exactly.
    const containerOutput = overWebSocket.split('\n').filter((line) => line !== '' && !RUNTIME_LINE.test(line)).map((line) => `${line}\n`).join('');
    assert.equal(containerOutput, 'container is alive\n');
  });
});
