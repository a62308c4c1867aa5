// The web view's way to the API server: every request the page makes under /api, /apis and /version
// is sent on over HTTPS with the session's own bearer token, so authentication, RBAC, admission and
// audit apply exactly as they do to kubectl. Responses (watch streams included) are piped back as
// they arrive; a client that goes away ends the upstream request at once.

import { Agent, request as httpsRequest } from 'node:https';
import type { ClientRequest, IncomingMessage, ServerResponse } from 'node:http';

/** Request headers passed on to the API server; everything else (cookies above all) stays behind. */
const FORWARDED_REQUEST_HEADERS = ['accept', 'content-type', 'content-length', 'user-agent'];
/** Response headers passed back; the API server's own security headers are replaced by the view's. */
const FORWARDED_RESPONSE_HEADERS = ['content-type', 'content-length', 'warning', 'audit-id', 'cache-control', 'transfer-encoding'];

export interface ApiTarget {
  url: string;
  caCertPem: string;
}

export class ApiForwarder {
  private readonly agent: Agent;
  private readonly base: URL;

  constructor(target: ApiTarget) {
    this.base = new URL(target.url);
    this.agent = new Agent({ keepAlive: true, maxSockets: 64, ca: target.caCertPem });
  }

  /** Sends the browser's request on with `token` and pipes the answer back. */
  forward(req: IncomingMessage, res: ServerResponse, path: string, token: string): void {
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    for (const name of FORWARDED_REQUEST_HEADERS) {
      const value = req.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    headers['user-agent'] = headers['user-agent'] ? `kubefacade-ui (${headers['user-agent'].slice(0, 120)})` : 'kubefacade-ui';
    const upstream = httpsRequest({
      protocol: 'https:', hostname: this.base.hostname, port: this.base.port, path, method: req.method, headers, agent: this.agent,
    }, (answer) => {
      const out: Record<string, string | string[]> = {};
      for (const name of FORWARDED_RESPONSE_HEADERS) {
        const value = answer.headers[name];
        if (value !== undefined) out[name] = value;
      }
      res.writeHead(answer.statusCode ?? 502, out);
      answer.pipe(res);
    });
    upstream.on('error', (err) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      res.writeHead(502, { 'content-type': 'application/json' });
      res.end(JSON.stringify(statusBody(502, 'ServiceUnavailable', `the API server could not be reached: ${err.message}`)));
    });
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  }

  /** A GET whose answer is read as it arrives (a watch), with `token`. */
  stream(path: string, token: string, onResponse: (answer: IncomingMessage) => void, onError: (error: Error) => void): ClientRequest {
    const upstream = httpsRequest({
      protocol: 'https:', hostname: this.base.hostname, port: this.base.port, path, method: 'GET', agent: this.agent,
      headers: { authorization: `Bearer ${token}`, accept: 'application/json', 'user-agent': 'kubefacade-ui' },
    }, onResponse);
    upstream.on('error', onError);
    upstream.end();
    return upstream;
  }

  /** A JSON request made by the view's own server side (journey, login), with `token`. */
  async json(method: string, path: string, token: string, body?: unknown): Promise<{ status: number; body: unknown }> {
    return new Promise((resolveRequest, reject) => {
      const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      const upstream = httpsRequest({
        protocol: 'https:', hostname: this.base.hostname, port: this.base.port, path, method, agent: this.agent,
        headers: {
          authorization: `Bearer ${token}`, accept: 'application/json', 'user-agent': 'kubefacade-ui',
          ...(payload ? { 'content-type': 'application/json', 'content-length': String(payload.length) } : {}),
        },
      }, (answer) => {
        const chunks: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => chunks.push(chunk));
        answer.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // Not JSON (a plain-text error): keep the text.
          }
          resolveRequest({ status: answer.statusCode ?? 502, body: parsed });
        });
        answer.on('error', reject);
      });
      upstream.on('error', reject);
      upstream.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

export function statusBody(code: number, reason: string, message: string): Record<string, unknown> {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}
