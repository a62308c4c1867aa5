// A real API server for HTTP-level suites: started on a loopback port in a temp dir, reached over
// HTTPS with its own CA and the admin bearer token, through supertest for request/response calls.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { startApiServer, type ApiServerOptions, type RunningApiServer } from '../../server/start.ts';

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete' | 'head' | 'options';

export interface TestServer {
  server: RunningApiServer;
  url: string;
  /** A supertest request with the CA and the admin bearer token already set. */
  call(method: Method, path: string): request.Test;
  /** The same request without credentials (or with whatever the test sets). */
  anonymous(method: Method, path: string): request.Test;
  close(): Promise<void>;
}

export type TestServerOptions = Partial<Omit<ApiServerOptions, 'dataDir' | 'bind' | 'port' | 'tlsSans'>>;

export async function startTestServer(name: string, options: TestServerOptions = {}): Promise<TestServer> {
  const dir = await mkdtemp(join(tmpdir(), `kubefacade-${name}-`));
  let server: RunningApiServer;
  try {
    // Suites write pods as a bare API server: no projected token volume unless a suite enables the plugin.
    server = await startApiServer({ dataDir: dir, bind: '127.0.0.1', port: 0, tlsSans: [], disableAdmissionPlugins: ['ServiceAccount'], ...options });
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const anonymous = (method: Method, path: string): request.Test => request(server.url)[method](path).ca(server.caCertPem);
  return {
    server,
    url: server.url,
    anonymous,
    call: (method, path) => anonymous(method, path).set('Authorization', `Bearer ${server.adminToken}`),
    async close() {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A minimal valid pod manifest. */
export function podManifest(name: string, extra: { labels?: Record<string, string>; spec?: Record<string, unknown> } = {}): Record<string, unknown> {
  const metadata: Record<string, unknown> = { name };
  if (extra.labels) metadata.labels = extra.labels;
  return {
    apiVersion: 'v1', kind: 'Pod', metadata,
    spec: { containers: [{ name: 'nginx', image: 'nginx:1.27' }], ...(extra.spec ?? {}) },
  };
}

export function nodeManifest(name: string, labels?: Record<string, string>): Record<string, unknown> {
  return { apiVersion: 'v1', kind: 'Node', metadata: labels ? { name, labels } : { name } };
}

/** JSON body for supertest with the JSON Content-Type set explicitly (supertest would guess otherwise). */
export function json(test: request.Test, body: unknown, contentType = 'application/json'): request.Test {
  return test.set('Content-Type', contentType).send(typeof body === 'string' ? body : JSON.stringify(body));
}

/**
 * Writes `count` revisions (label patches spread over a few pods, sent concurrently so the store
 * groups them into few synced batches): pushes old revisions out of a small history.
 */
export async function churn(t: TestServer, podsPath: string, count: number): Promise<void> {
  const names = ['churn-0', 'churn-1', 'churn-2', 'churn-3', 'churn-4'];
  for (const name of names) {
    const res = await json(t.call('post', podsPath), podManifest(name));
    if (res.status !== 201 && res.status !== 409) throw new Error(`churn: creating ${name} answered ${res.status}`);
  }
  for (let done = 0; done < count;) {
    const batch = Math.min(20, count - done);
    await Promise.all(Array.from({ length: batch }, async (_, i) => {
      const name = names[(done + i) % names.length];
      const res = await json(t.call('patch', `${podsPath}/${name}`), { metadata: { labels: { churn: String(done + i) } } }, 'application/merge-patch+json');
      if (res.status !== 200) throw new Error(`churn: patching ${name} answered ${res.status}`);
    }));
    done += batch;
  }
}
