// The kubelet process's heartbeats (leases, node status) and its pod writes use separate connection pools: with one
// pool, renewals queued by thousands of nodes against a slow server held every connection and pod writes waited behind
// them. A fake API server here never answers lease renewals; pod status writes must still get through.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import type { V1Lease } from '@kubernetes/client-node';
import { closeConnections, connect } from '../kubelet/kube-client.ts';
import { MAX_POOLED_CONNECTIONS } from '../clients/keep-alive-kubeconfig.ts';
import { createKubeletServingCert } from '../kubelet/serving-cert.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kubefacade-pools-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('pod status writes go through while every connection a pool allows is held by unanswered lease renewals', { timeout: 30_000 }, async () => {
  const cert = createKubeletServingCert({ names: ['localhost'], ips: ['127.0.0.1'] });
  let leaseRequests = 0;
  let statusWrites = 0;
  let answerLeases = false;
  const answer = (res: import('node:http').ServerResponse) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"kind":"Lease","apiVersion":"coordination.k8s.io/v1","metadata":{"name":"n"}}');
  };
  const held: import('node:http').ServerResponse[] = [];
  const server = https.createServer({ cert: cert.certPem, key: cert.keyPem }, (req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url?.startsWith('/apis/coordination.k8s.io/')) {
        leaseRequests++;
        if (answerLeases) answer(res);
        else held.push(res);
        return;
      }
      statusWrites++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"kind":"Pod","apiVersion":"v1","metadata":{"name":"p","namespace":"ns"}}');
    });
  });
  server.keepAliveTimeout = 90_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const kubeconfig = path.join(dir, 'kubelet.kubeconfig');
  fs.writeFileSync(kubeconfig, JSON.stringify({
    apiVersion: 'v1', kind: 'Config', 'current-context': 'c',
    clusters: [{ name: 'k', cluster: { server: `https://127.0.0.1:${port}`, 'certificate-authority-data': Buffer.from(cert.certPem).toString('base64') } }],
    users: [{ name: 'u', user: { token: 'kubelet-token' } }],
    contexts: [{ name: 'c', context: { cluster: 'k', user: 'u' } }],
  }));

  const clients = connect(kubeconfig);
  // A second node's identity shares the process's pools, as runKubelets arranges.
  const other = connect(kubeconfig, clients.pools);
  try {
    const renewals = Array.from({ length: MAX_POOLED_CONNECTIONS + 50 }, (_, i) => (i % 2 ? clients : other).coordination.replaceNamespacedLease({
      name: `node${i}`, namespace: 'kube-node-lease', body: { metadata: { name: `node${i}` }, spec: { holderIdentity: `node${i}` } } as V1Lease,
    }).catch(() => undefined));
    const deadline = Date.now() + 10_000;
    while (leaseRequests < MAX_POOLED_CONNECTIONS && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(leaseRequests, MAX_POOLED_CONNECTIONS, 'every heartbeat connection is held by an unanswered renewal');

    await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? clients : other).writes.patchPodStatus('ns', `p${i}`, { phase: 'Running' })));
    assert.equal(statusWrites, 20);
    assert.equal(leaseRequests, MAX_POOLED_CONNECTIONS, 'the renewals beyond the pool are still queued, not sent on more connections');
    answerLeases = true;
    for (const res of held) answer(res);
    await Promise.all(renewals);
    assert.equal(leaseRequests, MAX_POOLED_CONNECTIONS + 50);
  } finally {
    closeConnections(clients);
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});
