// A running kubefacade for conformance tests: the API server alone, or `up`'s cluster (scheduler,
// node lifecycle controller and simulated kubelets), in a temp dir on a free loopback port, with
// a small JSON client over supertest that fails the test on any status it did not expect.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { startApiServer, type RunningApiServer } from '../../../server/start.ts';
import { startCluster } from '../../../server/up.ts';

/** Test payloads: whatever the API returns, read field by field by the assertions. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = Record<string, any>;

export interface ConformanceCluster {
  server: RunningApiServer;
  kubeconfigPath: string;
  /** The simulated nodes' names, sorted (none for the API server alone). */
  nodes: string[];
  /** Sends a request; `expect` is the status that must come back (default 2xx). */
  api(method: 'get' | 'post' | 'put' | 'patch' | 'delete', path: string, options?: { body?: unknown; contentType?: string; accept?: string; expect?: number }): Promise<Json>;
  /** A raw supertest request with the CA and admin token set. */
  raw(method: 'get' | 'post' | 'put' | 'patch' | 'delete', path: string): request.Test;
  stop(): Promise<void>;
}

export async function startConformanceCluster(name: string, options: { nodes?: number; controllerClock?: () => number } = {}): Promise<ConformanceCluster> {
  const dir = await mkdtemp(join(tmpdir(), `kubefacade-conformance-${name}-`));
  let server: RunningApiServer;
  let stopCluster: () => Promise<void>;
  let nodes: string[] = [];
  try {
    if (options.nodes) {
      const cluster = await startCluster({
        dataDir: dir, bind: '127.0.0.1', port: 0, tlsSans: [], nodes: options.nodes, nodeCpu: '4', nodeMemory: '8Gi', nodePods: 110,
        imagePullDelayMs: 50, kubeletPort: 0, nodeMonitorGracePeriodSeconds: 40, quiet: true,
        ...(options.controllerClock ? { controllerClock: options.controllerClock } : {}),
      });
      server = cluster.apiServer;
      nodes = [...cluster.nodes].sort();
      stopCluster = () => cluster.stop();
    } else {
      server = await startApiServer({ dataDir: dir, bind: '127.0.0.1', port: 0, tlsSans: [], disableAdmissionPlugins: ['ServiceAccount'] });
      stopCluster = () => server.close();
    }
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const raw = (method: 'get' | 'post' | 'put' | 'patch' | 'delete', path: string): request.Test =>
    request(server.url)[method](path).ca(server.caCertPem).set('Authorization', `Bearer ${server.adminToken}`);
  return {
    server,
    kubeconfigPath: server.adminKubeconfigPath,
    nodes,
    raw,
    async api(method, path, { body, contentType, accept, expect } = {}) {
      let call = raw(method, path);
      if (accept) call = call.set('Accept', accept);
      if (body !== undefined) call = call.set('Content-Type', contentType ?? 'application/json').send(typeof body === 'string' ? body : JSON.stringify(body));
      const res = await call;
      if (expect !== undefined) assert.equal(res.status, expect, `${method.toUpperCase()} ${path}: ${res.text}`);
      else assert.ok(res.status >= 200 && res.status < 300, `${method.toUpperCase()} ${path} answered ${res.status}: ${res.text}`);
      return res.body as Json;
    },
    async stop() {
      await stopCluster();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Polls until `probe` returns a value (not undefined), failing after `timeoutMs`. */
export async function until<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export function podManifest(name: string, extra: { labels?: Record<string, string>; spec?: Json } = {}): Json {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, ...(extra.labels ? { labels: extra.labels } : {}) },
    spec: { containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10' }], ...extra.spec },
  };
}
