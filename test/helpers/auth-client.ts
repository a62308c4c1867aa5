// Raw HTTPS requests with exactly the credentials a test chooses (a bearer token, a client certificate,
// impersonation headers, or nothing), verified against the server's CA. Every status is returned as data.

import { request } from 'node:https';

export interface Credentials {
  token?: string;
  cert?: string;
  key?: string;
  headers?: Record<string, string | string[]>;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** The parsed body when it is JSON. */
  body: unknown;
}

export function callApi(server: { url: string; caCertPem: string }, method: string, path: string, credentials: Credentials = {}, body?: unknown): Promise<RawResponse> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(`${server.url}${path}`, {
      method,
      ca: server.caCertPem,
      cert: credentials.cert,
      key: credentials.key,
      // A fresh connection per call: the server caches a connection's client certificate.
      agent: false,
      headers: {
        Accept: 'application/json',
        ...(credentials.token !== undefined ? { Authorization: `Bearer ${credentials.token}` } : {}),
        ...(payload === undefined ? {} : { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) }),
        ...credentials.headers,
      },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let parsed: unknown;
        try {
          parsed = text ? JSON.parse(text) : undefined;
        } catch {
          parsed = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body: parsed });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}

export const UNAUTHORIZED = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 };
