// The kubelet's HTTPS endpoint, bound to each node's loopback InternalIP. It serves the real kubelet paths
// /exec, /attach and /portForward (upgrade requests, kubelet/streaming/) and
// GET /containerLogs/{namespace}/{pod}/{container}?follow=&tailLines=&timestamps=&previous=&sinceSeconds=&sinceTime=&limitBytes=
// as text/plain; errors are text/plain with the kubelet's messages (400 for a container not yet started, 404 unknown).
//
// Every node still has its own listening socket on its own address (the API server dials status.addresses InternalIP
// and daemonEndpoints.kubeletEndpoint.Port, as kube-apiserver does), but all of a process's listeners hand their
// connections to one HTTPS server: one TLS context and one request handler, and the address a connection arrived on
// says which node answers. An https.Server per node cost ~27 KiB of RSS each (its own TLS context), a plain
// listener ~2 KiB.
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { ContainerLogInstance, LogLine, LogQuery } from './container-logs.ts';
import { formatLogLine, selectLines } from './container-logs.ts';
import type { ServingCert } from './serving-cert.ts';
import { handleStreamingUpgrade, type StreamingRuntime } from './streaming/streaming-server.ts';

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

/** One HTTPS server for all the nodes of a process; each node adds a listener on its own address. */
export class KubeletEndpoints {
  private readonly server: https.Server;
  private readonly resolvers = new Map<string, LogResolver>();
  private readonly streaming = new Map<string, StreamingRuntime>();
  private readonly sockets = new Set<Duplex>();

  constructor(cert: ServingCert) {
    this.server = https.createServer({ cert: cert.certPem, key: cert.keyPem }, (request, response) => {
      // The node is the one whose address the client dialed.
      const resolve = this.resolvers.get(normalizeAddress(request.socket.localAddress));
      serveRequest(request, response, resolve);
    });
    // exec, attach and portForward arrive as upgrade requests (kubelet/streaming/).
    this.server.on('upgrade', (request: import('node:http').IncomingMessage, socket: Duplex, head: Buffer) => {
      const runtime = this.streaming.get(normalizeAddress(request.socket.localAddress));
      handleStreamingUpgrade(request, socket, head, runtime).catch(() => socket.destroy());
    });
  }

  /** Starts listening on host:port for one node; port 0 picks a free port. */
  async listen(host: string, port: number, resolve: LogResolver, streaming?: StreamingRuntime): Promise<LogServer> {
    const listener = net.createServer((socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      this.server.emit('connection', socket);
    });
    await new Promise<void>((done, reject) => {
      listener.once('error', reject);
      listener.listen(port, host, () => {
        listener.off('error', reject);
        done();
      });
    });
    const key = normalizeAddress(host);
    this.resolvers.set(key, resolve);
    if (streaming) this.streaming.set(key, streaming);
    return {
      port: (listener.address() as AddressInfo).port,
      close: () => new Promise<void>((done) => {
        if (this.resolvers.get(key) === resolve) this.resolvers.delete(key);
        if (streaming && this.streaming.get(key) === streaming) this.streaming.delete(key);
        for (const socket of this.sockets) if (normalizeAddress((socket as net.Socket).localAddress) === key) socket.destroy();
        listener.close(() => done());
      }),
    };
  }

  /** Ends every open connection (followers included). */
  close(): void {
    for (const socket of this.sockets) socket.destroy();
    this.server.close();
  }
}

/** `::ffff:127.0.1.1` (a v4 connection seen by a dual-stack socket) is 127.0.1.1. */
function normalizeAddress(address: string | undefined): string {
  if (!address) return '';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

/** A single node's endpoint with its own HTTPS server (tests, and a process that runs one node). */
export async function startLogServer(options: { host: string; port: number; cert: ServingCert; resolve: LogResolver }): Promise<LogServer> {
  const endpoints = new KubeletEndpoints(options.cert);
  const server = await endpoints.listen(options.host, options.port, options.resolve);
  return {
    port: server.port,
    close: async () => {
      await server.close();
      endpoints.close();
    },
  };
}

function serveRequest(request: import('node:http').IncomingMessage, response: import('node:http').ServerResponse, resolve: LogResolver | undefined): void {
  const url = new URL(request.url ?? '/', 'https://kubelet');
  const text = (status: number, body: string): void => {
    response.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' });
    response.end(body);
  };
  if (url.pathname === '/healthz') return text(resolve ? 200 : 503, resolve ? 'ok' : 'node stopped');
  const match = /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]+)\/?$/.exec(url.pathname);
  if (!match) return text(404, '404 page not found\n');
  if (request.method !== 'GET' && request.method !== 'HEAD') return text(405, 'method not allowed\n');
  if (!resolve) return text(503, 'node stopped\n');
  const [namespace, pod, container] = match.slice(1).map(decodeURIComponent);
  const query = parseQuery(url.searchParams);
  const lookup = resolve(namespace, pod, container, query.previous);
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
  const onLine = (line: LogLine): void => {
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
}
