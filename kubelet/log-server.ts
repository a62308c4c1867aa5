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
//
// Callers authenticate and are authorised as by a real kubelet (request-auth.ts): the API server by
// its client certificate, others by bearer token (TokenReview), each then by SubjectAccessReview;
// no credential is 401, no permission 403.
import https from 'node:https';
import type { TLSSocket } from 'node:tls';
import net, { type AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { ContainerLogInstance, LogLine, LogQuery } from './container-logs.ts';
import { formatLogLine, selectLines } from './container-logs.ts';
import type { ServingCert } from './serving-cert.ts';
import { kubeletRequestAttributes, type KubeletAuth, type KubeletUser } from './request-auth.ts';
import { decodePodLogOptions, podLogOptionsErrors, type PodLogOptions } from '../api/options/index.ts';
import { handleStreamingUpgrade, type StreamingRuntime } from './streaming/streaming-server.ts';
import { summaryJson, type SummarySample } from './resource-stats.ts';
import { renderResourceMetrics } from './resource-metrics.ts';

export type LogLookup =
  | { instance: ContainerLogInstance }
  | { status: number; message: string };

/** Resolves which log instance a request means; owned by the node's runtime, which knows the container states. */
export type LogResolver = (namespace: string, pod: string, container: string, previous: boolean) => LogLookup;

/** One node's endpoint: its name (the authorised resource) and how it checks callers. */
export interface NodeEndpoint {
  nodeName: string;
  auth: KubeletAuth;
  resolve: LogResolver;
  /** GET /metrics: the node's metrics in Prometheus text format (node-metrics.ts). */
  metrics?: () => string;
  /** The node's CPU and memory statistics: GET /stats/summary and GET /metrics/resource (resource-stats.ts). */
  stats?: () => SummarySample;
  /** --show-hidden-metrics-for-version: /metrics/resource also writes the deprecated, hidden scrape_error. */
  showHiddenMetrics?: boolean;
}

export interface LogServer {
  port: number;
  close(): Promise<void>;
}

/**
 * The kubelet's getContainerLogs: `tail` is the legacy spelling of tailLines ("all" means no
 * limit), then PodLogOptions decoded and validated as the API server does, with the kubelet's
 * own answers for each failure.
 */
function parseQuery(params: URLSearchParams): (LogQuery & { follow: boolean; previous: boolean }) | { status: number; message: string } {
  const query = new URLSearchParams(params);
  const tail = query.get('tail');
  if (tail) {
    if (tail === 'all') query.delete('tailLines');
    else query.set('tailLines', tail);
  }
  let options: PodLogOptions;
  try {
    options = decodePodLogOptions(query);
  } catch {
    return { status: 400, message: '{"message": "Unable to decode query."}' };
  }
  if (podLogOptionsErrors(options).length > 0) return { status: 422, message: '{"message": "Invalid request."}' };
  let sinceMs: number | undefined;
  if (options.sinceSeconds !== undefined) sinceMs = Date.now() - options.sinceSeconds * 1000;
  else if (options.sinceTime !== undefined) sinceMs = options.sinceTime.getTime();
  return {
    follow: options.follow,
    previous: options.previous,
    timestamps: options.timestamps,
    tailLines: options.tailLines,
    limitBytes: options.limitBytes,
    sinceMs,
  };
}

/** One HTTPS server for all the nodes of a process; each node adds a listener on its own address. */
export class KubeletEndpoints {
  private readonly server: https.Server;
  private readonly resolvers = new Map<string, NodeEndpoint>();
  private readonly streaming = new Map<string, StreamingRuntime>();
  private readonly sockets = new Set<Duplex>();

  /** `clientCaPem`: the cluster CA, which signs the API server's client certificate (the kubelet's --client-ca-file). */
  constructor(cert: ServingCert, clientCaPem: string) {
    // Certificates are asked for, not required: a caller may use a bearer token instead; an
    // unverified certificate is refused below (401), as the kubelet's x509 authenticator refuses it.
    this.server = https.createServer({ cert: cert.certPem, key: cert.keyPem, ca: clientCaPem, requestCert: true, rejectUnauthorized: false }, (request, response) => {
      // The node is the one whose address the client dialed.
      const endpoint = this.resolvers.get(normalizeAddress(request.socket.localAddress));
      serveAuthenticated(request, response, endpoint).catch((error: unknown) => {
        if (response.headersSent) response.destroy();
        else {
          response.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
          response.end(`Internal Server Error: ${error instanceof Error ? error.message : String(error)}\n`);
        }
      });
    });
    // exec, attach and portForward arrive as upgrade requests (kubelet/streaming/), authenticated and
    // authorised as every other request (nodes/proxy, as the kubelet maps these paths).
    this.server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      const key = normalizeAddress(request.socket.localAddress);
      const endpoint = this.resolvers.get(key);
      socket.on('error', () => socket.destroy());
      authenticateUpgrade(request, socket, endpoint)
        .then((allowed) => (allowed ? handleStreamingUpgrade(request, socket, head, this.streaming.get(key)) : undefined))
        .catch(() => socket.destroy());
    });
  }

  /** Starts listening on host:port for one node; port 0 picks a free port. */
  async listen(host: string, port: number, resolve: NodeEndpoint, streaming?: StreamingRuntime): Promise<LogServer> {
    // No Nagle delay: exec, attach and port-forward streams are small interactive frames.
    const listener = net.createServer({ noDelay: true }, (socket) => {
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
export async function startLogServer(options: { host: string; port: number; cert: ServingCert; clientCaPem: string; node: NodeEndpoint }): Promise<LogServer> {
  const endpoints = new KubeletEndpoints(options.cert, options.clientCaPem);
  const server = await endpoints.listen(options.host, options.port, options.node);
  return {
    port: server.port,
    close: async () => {
      await server.close();
      endpoints.close();
    },
  };
}

type IncomingMessage = import('node:http').IncomingMessage;
type ServerResponse = import('node:http').ServerResponse;

/** The caller's identity: a verified client certificate, else a bearer token the API server vouches for. */
async function authenticate(request: IncomingMessage, auth: KubeletAuth): Promise<KubeletUser | undefined> {
  const socket = request.socket as TLSSocket;
  const certificate = socket.getPeerCertificate?.();
  if (certificate && Object.keys(certificate).length > 0) {
    if (!socket.authorized) return undefined;
    const organizations = certificate.subject.O;
    return { username: String(certificate.subject.CN ?? ''), groups: organizations === undefined ? [] : ([] as string[]).concat(organizations) };
  }
  const header = request.headers.authorization ?? '';
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) return undefined;
  return auth.authenticateToken(match[1]);
}

/** Authentication and authorization of one request: undefined when allowed, else the kubelet's refusal. */
async function checkCaller(request: IncomingMessage, endpoint: NodeEndpoint | undefined): Promise<{ status: number; body: string } | undefined> {
  if (!endpoint) return { status: 503, body: 'node stopped\n' };
  const user = await authenticate(request, endpoint.auth);
  if (!user || user.username === '') return { status: 401, body: 'Unauthorized\n' };
  const path = new URL(request.url ?? '/', 'https://kubelet').pathname;
  const attributes = kubeletRequestAttributes(request.method ?? 'GET', path, endpoint.nodeName);
  if (!(await endpoint.auth.authorize(user, attributes))) {
    // The kubelet's wording (pkg/kubelet/server/server.go).
    return { status: 403, body: `Forbidden (user=${user.username}, verb=${attributes.verb}, resource=nodes, subresource=${attributes.subresource})\n` };
  }
  return undefined;
}

async function serveAuthenticated(request: IncomingMessage, response: ServerResponse, endpoint: NodeEndpoint | undefined): Promise<void> {
  const refusal = await checkCaller(request, endpoint);
  if (refusal) {
    response.writeHead(refusal.status, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
    response.end(refusal.body);
    return;
  }
  if (endpoint && serveMonitoring(request, response, endpoint)) return;
  serveRequest(request, response, endpoint!.resolve);
}

const PROMETHEUS_TEXT = 'text/plain; version=0.0.4; charset=utf-8';

/**
 * The kubelet's monitoring paths: GET /metrics and /metrics/resource (Prometheus text), GET or POST /stats/summary
 * (the Summary JSON, indented as go-restful writes it; `only_cpu_and_memory=true` gives the same here, as the
 * simulation has only CPU and memory to report). False when the path is not one of them.
 */
function serveMonitoring(request: IncomingMessage, response: ServerResponse, endpoint: NodeEndpoint): boolean {
  const path = new URL(request.url ?? '/', 'https://kubelet').pathname;
  const methods = path === '/stats/summary' ? ['GET', 'POST'] : ['GET', 'HEAD'];
  let body: (() => string) | undefined;
  let contentType = PROMETHEUS_TEXT;
  if (path === '/metrics' && endpoint.metrics) body = endpoint.metrics;
  else if (path === '/metrics/resource' && endpoint.stats) body = () => renderResourceMetrics(endpoint.stats!(), { showHidden: endpoint.showHiddenMetrics });
  else if (path === '/stats/summary' && endpoint.stats) {
    body = () => JSON.stringify(summaryJson(endpoint.stats!()), null, ' ');
    contentType = 'application/json';
  }
  if (!body) return false;
  if (!methods.includes(request.method ?? '')) {
    response.writeHead(405, { 'Content-Type': 'text/plain; charset=utf-8' });
    response.end('method not allowed\n');
    return true;
  }
  response.writeHead(200, { 'Content-Type': contentType });
  response.end(request.method === 'HEAD' ? undefined : body());
  return true;
}

const STATUS_TEXT: Record<number, string> = { 401: 'Unauthorized', 403: 'Forbidden', 503: 'Service Unavailable' };

/** An upgrade request's check: a refused caller gets the same plain-text answer on the raw socket. */
async function authenticateUpgrade(request: IncomingMessage, socket: Duplex, endpoint: NodeEndpoint | undefined): Promise<boolean> {
  const refusal = await checkCaller(request, endpoint);
  if (!refusal) return true;
  const body = Buffer.from(refusal.body);
  socket.end(
    `HTTP/1.1 ${refusal.status} ${STATUS_TEXT[refusal.status] ?? 'Error'}\r\nContent-Type: text/plain; charset=utf-8\r\n`
    + `X-Content-Type-Options: nosniff\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${refusal.body}`,
  );
  return false;
}

function serveRequest(request: IncomingMessage, response: ServerResponse, resolve: LogResolver | undefined): void {
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
  if ('status' in query) return text(query.status, query.message);
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
