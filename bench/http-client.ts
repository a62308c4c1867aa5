// A lean HTTPS client for load generation: one keep-alive Agent (sockets reused, TLS handshakes
// paid once per connection), node's https.request with no wrapper library on top, so the client's
// own cost per request stays small next to the server's.

import { Agent, request } from 'node:https';
import type { ClientTarget } from './kubeconfig.ts';

export interface HttpReply {
  status: number;
  body: string;
}

export class BenchClient {
  readonly agent: Agent;
  private readonly url: URL;
  private readonly authorization: string | undefined;

  constructor(readonly target: ClientTarget, maxSockets = 64) {
    this.url = new URL(target.server);
    this.agent = new Agent({
      keepAlive: true, maxSockets, maxFreeSockets: maxSockets, ca: target.caPem,
      cert: target.certPem, key: target.keyPem,
    });
    this.authorization = target.token ? `Bearer ${target.token}` : undefined;
  }

  headers(extra: Record<string, string> = {}): Record<string, string> {
    return this.authorization ? { authorization: this.authorization, ...extra } : { ...extra };
  }

  request(method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<HttpReply> {
    return new Promise((resolve, reject) => {
      const allHeaders = this.headers({ accept: 'application/json', ...headers });
      if (body !== undefined) {
        allHeaders['content-type'] ??= 'application/json';
        allHeaders['content-length'] = String(Buffer.byteLength(body));
      }
      const req = request({
        host: this.url.hostname.replace(/^\[|\]$/g, ''), port: this.url.port, path, method, agent: this.agent, headers: allHeaders,
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  /**
   * The reply's status and size without keeping its body: a cluster-wide LIST can be larger than
   * the longest string V8 can hold. The first bytes are kept for error messages.
   */
  requestBytes(method: string, path: string, headers: Record<string, string> = {}, timeoutMs = 300_000): Promise<{ status: number; bytes: number; head: string }> {
    return new Promise((resolve, reject) => {
      const req = request({
        host: this.url.hostname.replace(/^\[|\]$/g, ''), port: this.url.port, path, method, agent: this.agent,
        headers: this.headers({ accept: 'application/json', ...headers }),
      }, (res) => {
        let bytes = 0;
        let head = '';
        res.on('data', (chunk: Buffer) => {
          if (head.length < 300) head += chunk.subarray(0, 300).toString('utf8');
          bytes += chunk.length;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes, head: head.slice(0, 300) }));
        res.on('error', reject);
        res.on('aborted', () => reject(new Error(`${method} ${path}: the server aborted the reply after ${bytes} bytes`)));
      });
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${path}: no reply within ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end();
    });
  }

  /** Parsed JSON of a 2xx reply; anything else is an error carrying the status and body. */
  async json<T>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<T> {
    const reply = await this.request(method, path, body === undefined ? undefined : JSON.stringify(body), headers);
    if (reply.status < 200 || reply.status > 299) {
      throw new HttpError(reply.status, `${method} ${path}: HTTP ${reply.status}: ${reply.body.slice(0, 300)}`);
    }
    return JSON.parse(reply.body) as T;
  }

  close(): void {
    this.agent.destroy();
  }
}

export class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = 'HttpError';
  }
}
