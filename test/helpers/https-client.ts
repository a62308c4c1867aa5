// A small JSON-over-HTTPS client for load-style tests: it trusts only the server's CA and sends the
// admin bearer token from the kubeconfig, like any real client, but exposes every status code (a
// 409 or a reset connection is data for these tests, not an exception to unwrap).

import { Agent, request } from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';

export interface ApiResponse<T = unknown> {
  status: number;
  body: T;
}

/** A Kubernetes object as these tests read it back. */
export interface ObjectWithMeta {
  metadata: { name: string; resourceVersion: string; labels?: Record<string, string>; [key: string]: unknown };
  [key: string]: unknown;
}

export class ApiClient {
  private readonly agent: Agent;
  private readonly token: string;
  readonly server: string;

  constructor(kubeconfigPath: string, maxSockets = 64) {
    const config = new KubeConfig();
    config.loadFromFile(kubeconfigPath);
    const cluster = config.getCurrentCluster();
    if (!cluster?.caData) throw new Error(`${kubeconfigPath}: no cluster with certificate-authority-data`);
    this.server = cluster.server;
    this.token = config.getCurrentUser()?.token ?? '';
    this.agent = new Agent({ keepAlive: true, maxSockets, ca: Buffer.from(cluster.caData, 'base64') });
  }

  request<T = unknown>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<ApiResponse<T>> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolveResponse, reject) => {
      const req = request(`${this.server}${path}`, {
        method,
        agent: this.agent,
        headers: {
          Authorization: `Bearer ${this.token}`,
          Accept: 'application/json',
          ...(payload === undefined ? {} : { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(payload) }),
        },
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          try {
            resolveResponse({ status: res.statusCode ?? 0, body: (text ? JSON.parse(text) : undefined) as T });
          } catch (err) {
            reject(new Error(`${method} ${path}: ${res.statusCode} with a body that is not JSON: ${text.slice(0, 200)}`, { cause: err }));
          }
        });
      });
      req.on('error', reject);
      req.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Runs `worker(i)` for i in [0, count) with at most `concurrency` running at once. */
export async function runPool(count: number, concurrency: number, worker: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(concurrency, count) }, async () => {
    while (next < count) {
      const index = next;
      next += 1;
      await worker(index);
    }
  });
  await Promise.all(lanes);
}
