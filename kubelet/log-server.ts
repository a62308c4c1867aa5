// The kubelet's HTTPS endpoint for one node, bound to the node's loopback InternalIP. It serves the real kubelet path
// GET /containerLogs/{namespace}/{pod}/{container}?follow=&tailLines=&timestamps=&previous=&sinceSeconds=&sinceTime=&limitBytes=
// as text/plain; errors are text/plain with the kubelet's messages (400 for a container not yet started, 404 unknown).
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { ContainerLogInstance, LogQuery } from './container-logs.ts';
import { formatLogLine, selectLines } from './container-logs.ts';
import type { ServingCert } from './serving-cert.ts';

export type LogLookup =
  | { instance: ContainerLogInstance }
  | { status: number; message: string };

/** Resolves which log instance a request means; owned by the node's runtime, which knows the container states. */
export type LogResolver = (namespace: string, pod: string, container: string, previous: boolean) => LogLookup;

export interface LogServer {
  port: number;
  close(): Promise<void>;
}

function parseQuery(params: URLSearchParams): LogQuery & { follow: boolean; previous: boolean } {
  const number = (name: string): number | undefined => {
    const value = params.get(name);
    if (value === null || value === '') return undefined;
    const parsed = Number(value);
    return Number.isFinite(parsed) ? parsed : undefined;
  };
  const sinceSeconds = number('sinceSeconds');
  const sinceTime = params.get('sinceTime');
  let sinceMs: number | undefined;
  if (sinceSeconds !== undefined) sinceMs = Date.now() - sinceSeconds * 1000;
  else if (sinceTime) sinceMs = Date.parse(sinceTime);
  return {
    follow: params.get('follow') === 'true',
    previous: params.get('previous') === 'true',
    timestamps: params.get('timestamps') === 'true',
    tailLines: number('tailLines'),
    limitBytes: number('limitBytes'),
    sinceMs: Number.isFinite(sinceMs) ? sinceMs : undefined,
  };
}

export async function startLogServer(options: { host: string; port: number; cert: ServingCert; resolve: LogResolver }): Promise<LogServer> {
  const sockets = new Set<import('node:stream').Duplex>();
  const server = https.createServer({ cert: options.cert.certPem, key: options.cert.keyPem }, (request, response) => {
    const url = new URL(request.url ?? '/', 'https://kubelet');
    const text = (status: number, body: string): void => {
      response.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' });
      response.end(body);
    };
    if (url.pathname === '/healthz') return text(200, 'ok');
    const match = /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]+)\/?$/.exec(url.pathname);
    if (!match) return text(404, '404 page not found\n');
    if (request.method !== 'GET' && request.method !== 'HEAD') return text(405, 'method not allowed\n');
    const [namespace, pod, container] = match.slice(1).map(decodeURIComponent);
    const query = parseQuery(url.searchParams);
    const lookup = options.resolve(namespace, pod, container, query.previous);
    if ('status' in lookup) return text(lookup.status, lookup.message);
    const { instance } = lookup;
    response.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-cache' });
    let budget = query.limitBytes !== undefined && query.limitBytes > 0 ? query.limitBytes : Infinity;
    const write = (chunk: string): boolean => {
      if (budget <= 0) return false;
      const bytes = Buffer.from(chunk, 'utf8');
      const part = bytes.length > budget ? bytes.subarray(0, budget) : bytes;
      budget -= part.length;
      response.write(part);
      return budget > 0;
    };
    let open = true;
    for (const line of selectLines(instance.lines, query)) {
      if (!write(formatLogLine(line, query.timestamps ?? false))) {
        open = false;
        break;
      }
    }
    if (!query.follow || !open || instance.finished) return void response.end();
    // Headers go out now even with no lines yet, so a follower (and the API server's proxy) sees the stream open.
    response.flushHeaders();
    const onLine = (line: import('./container-logs.ts').LogLine): void => {
      if (!write(formatLogLine(line, query.timestamps ?? false))) finish();
    };
    const finish = (): void => {
      instance.off('line', onLine);
      instance.off('finish', finish);
      response.end();
    };
    instance.on('line', onLine);
    instance.on('finish', finish);
    request.on('close', () => {
      instance.off('line', onLine);
      instance.off('finish', finish);
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    }),
  };
}
