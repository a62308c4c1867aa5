// Conformance entries of sig-cli that concern pods, discovery and the proxy, run with the real
// kubectl (on PATH; missing kubectl fails the suite) against `up`'s cluster.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kubectl } from '../helpers/kubectl.ts';
import { startConformanceCluster, until, type ConformanceCluster, type Json } from './helpers/cluster.ts';

function httpGet(options: { host?: string; port?: number; socketPath?: string; path: string }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    httpRequest({ ...options, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => { body += chunk; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject).end();
  });
}

describe('conformance: cli', () => {
  let c: ConformanceCluster;
  let kubectl: Kubectl;
  let dir: string;
  before(async () => {
    c = await startConformanceCluster('cli', { nodes: 1 });
    kubectl = await Kubectl.create(c.kubeconfigPath);
    dir = await mkdtemp(join(tmpdir(), 'kubefacade-cli-conformance-'));
  });
  after(async () => {
    await kubectl?.dispose();
    await c?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const podJson = async (name: string): Promise<Json> => JSON.parse(await kubectl.ok(['get', 'pod', name, '-o', 'json']));
  const runningPod = async (name: string, image: string): Promise<Json> => {
    await kubectl.ok(['run', name, `--image=${image}`, '--restart=Never', '--pod-running-timeout=2m0s']);
    return until(async () => {
      const pod = await podJson(name);
      return pod.status?.phase === 'Running' ? pod : undefined;
    }, `pod ${name} running`);
  };

  test('Kubectl, check version v1', async () => {
    const versions = (await kubectl.ok(['api-versions'])).split('\n');
    assert.ok(versions.includes('v1'), versions.join(' '));
  });

  test('Kubectl, version', async () => {
    const version = JSON.parse(await kubectl.ok(['version', '-o', 'json']));
    for (const side of ['clientVersion', 'serverVersion']) {
      assert.match(version[side].major, /^\d+$/, side);
      assert.match(version[side].minor, /^\d+\+?$/, side);
      assert.ok(version[side].gitCommit, `${side}.gitCommit`);
      assert.ok(version[side].goVersion, `${side}.goVersion`);
      assert.ok(version[side].platform, `${side}.platform`);
    }
  });

  test('Kubectl, run pod', async () => {
    await kubectl.ok(['run', 'e2e-test-httpd-pod', '--image=httpd:2.4.38-alpine', '--restart=Never']);
    const pod = await podJson('e2e-test-httpd-pod');
    assert.deepEqual(pod.spec.containers.map((x: Json) => x.image), ['httpd:2.4.38-alpine']);
  });

  test('Kubectl, label update', async () => {
    await runningPod('pause', 'registry.k8s.io/pause:3.10');
    await kubectl.ok(['label', 'pods', 'pause', 'testing-label=testing-label-value']);
    assert.match(await kubectl.ok(['get', 'pod', 'pause', '-L', 'testing-label']), /testing-label-value/);
    await kubectl.ok(['label', 'pods', 'pause', 'testing-label-']);
    assert.doesNotMatch(await kubectl.ok(['get', 'pod', 'pause', '-L', 'testing-label']), /testing-label-value/);
  });

  test('Kubectl, replace', async () => {
    const pod = await runningPod('e2e-test-replace', 'httpd:2.4.38-alpine');
    pod.spec.containers[0].image = 'busybox:1.36.1-1';
    await kubectl.ok(['replace', '-f', '-'], { input: JSON.stringify(pod) });
    assert.equal((await podJson('e2e-test-replace')).spec.containers[0].image, 'busybox:1.36.1-1');
  });

  test('Kubectl, server-side dry-run Pod', async () => {
    await runningPod('e2e-test-dry-run', 'httpd:2.4.38-alpine');
    const patch = JSON.stringify({ spec: { containers: [{ name: 'e2e-test-dry-run', image: 'busybox:1.36.1-1' }] } });
    const dry = await kubectl.ok(['patch', 'pod', 'e2e-test-dry-run', '-p', patch, '--dry-run=server', '-o', 'json']);
    assert.equal(JSON.parse(dry).spec.containers[0].image, 'busybox:1.36.1-1');
    assert.equal((await podJson('e2e-test-dry-run')).spec.containers[0].image, 'httpd:2.4.38-alpine');
  });

  test('Kubectl, proxy port zero', async () => {
    const proxy = kubectl.stream(['proxy', '-p', '0', '--disable-filter']);
    try {
      const out = await proxy.waitFor(/Starting to serve on 127\.0\.0\.1:(\d+)/);
      const port = Number(/Starting to serve on 127\.0\.0\.1:(\d+)/.exec(out)![1]);
      const res = await httpGet({ host: '127.0.0.1', port, path: '/api/' });
      assert.equal(res.status, 200);
      assert.ok(JSON.parse(res.body).versions.length >= 1);
    } finally {
      await proxy.stop();
    }
  });

  test('Kubectl, proxy socket', async () => {
    const socketPath = join(dir, 'kubectl-proxy.sock');
    const proxy = kubectl.stream(['proxy', `--unix-socket=${socketPath}`]);
    try {
      await proxy.waitFor(/Starting to serve on/);
      const res = await httpGet({ socketPath, path: '/api/' });
      assert.equal(res.status, 200);
      assert.ok(JSON.parse(res.body).versions.includes('v1'));
    } finally {
      await proxy.stop();
    }
  });
});
