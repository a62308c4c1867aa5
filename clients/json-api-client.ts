// A lean JSON client for the hot paths of the bundled components (the scheduler's lists, watches, bindings, events and
// status patches; the kubelet's pod and node watches). client-node's generated API builds a fresh https.Agent, a
// node-fetch request and an ObjectSerializer round trip (typed objects, Dates) per call; at 1,000 bindings/s that
// machinery, not the decision, was most of the scheduler's CPU. This client takes the server address, TLS material and
// credentials from the same KubeConfig (so exec/token authenticators still apply), keeps one keep-alive agent, and
// speaks raw JSON: objects arrive as JSON.parse leaves them (timestamps are strings, not Dates).
// Like every file in clients/, it imports nothing from server/, storage/ or api/.
import http from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { pooledHttpsAgent } from './keep-alive-kubeconfig.ts';

/** A non-2xx answer; `code` is the HTTP status, as client-node's ApiException has it. */
export class ApiStatusError extends Error {
  constructor(readonly code: number, readonly body: string) {
    super(`HTTP ${code}: ${body.slice(0, 300)}`);
  }
}

/** Credentials from exec or token-file authenticators may rotate; re-read them this often. */
const AUTH_HEADER_TTL_MS = 60_000;

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export class JsonApiClient {
  private readonly server: URL;
  private readonly transport: typeof http | typeof https;
  private agent: http.Agent | undefined;
  private authHeaders: Record<string, string> = {};
  private authReadAt = -Infinity;
  private setup: Promise<void> | undefined;

  /** `userAgent`: sent on every request (clients/user-agent.ts); node's default sends none. */
  constructor(private readonly kubeConfig: KubeConfig, private readonly userAgent?: string) {
    const cluster = kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error('kubeconfig has no current cluster');
    this.server = new URL(cluster.server);
    this.transport = this.server.protocol === 'http:' ? http : https;
  }

  /** Agent (TLS material) once; auth headers whenever they are older than the TTL. */
  private async prepare(): Promise<void> {
    if (this.agent && performance.now() - this.authReadAt < AUTH_HEADER_TTL_MS) return;
    this.setup ??= (async () => {
      const options: https.RequestOptions = {};
      await this.kubeConfig.applyToHTTPSOptions(options);
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(options.headers ?? {})) {
        if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : String(value);
      }
      if (options.auth) headers.Authorization = `Basic ${Buffer.from(options.auth).toString('base64')}`;
      this.authHeaders = headers;
      this.authReadAt = performance.now();
      if (!this.agent) {
        // The same pooled settings as the components' client-node calls (clients/keep-alive-kubeconfig.ts).
        this.agent = this.transport === https ? pooledHttpsAgent(options) : new http.Agent({ keepAlive: true });
      }
    })().finally(() => {
      this.setup = undefined;
    });
    await this.setup;
  }

  private async open(method: string, path: string, body: string | undefined, contentType: string,
    signal?: AbortSignal, extraHeaders?: Readonly<Record<string, string>>): Promise<http.IncomingMessage> {
    await this.prepare();
    const headers: Record<string, string> = { ...extraHeaders, ...this.authHeaders, Accept: 'application/json' };
    if (this.userAgent) headers['User-Agent'] = this.userAgent;
    if (body !== undefined) {
      headers['Content-Type'] = contentType;
      headers['Content-Length'] = String(Buffer.byteLength(body));
    }
    return new Promise((resolve, reject) => {
      const request = this.transport.request({
        protocol: this.server.protocol,
        hostname: this.server.hostname,
        port: this.server.port,
        path: this.server.pathname.replace(/\/$/, '') + path,
        method,
        headers,
        agent: this.agent,
        signal,
      }, resolve);
      request.on('error', reject);
      request.end(body);
    });
  }

  /**
   * One request; resolves with the parsed JSON body, rejects with ApiStatusError on a non-2xx status.
   * `extraHeaders` cannot override authentication, Accept or Content-Type.
   */
  async request<T = JsonValue>(method: string, path: string, body?: unknown, contentType = 'application/json',
    extraHeaders?: Readonly<Record<string, string>>): Promise<T> {
    const response = await this.open(method, path, body === undefined ? undefined : JSON.stringify(body), contentType, undefined, extraHeaders);
    const chunks: Buffer[] = [];
    for await (const chunk of response) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const status = response.statusCode ?? 0;
    if (status === 401) this.authReadAt = -Infinity;
    if (status < 200 || status >= 300) throw new ApiStatusError(status, text);
    return (text ? JSON.parse(text) : null) as T;
  }

  /**
   * A watch stream: calls `onEvent` per JSON line, resolves when the stream ends. `abort` ends it early.
   * Rejects with ApiStatusError when the server refuses the watch.
   */
  async watch(path: string, onEvent: (event: WatchEvent) => void, signal: AbortSignal): Promise<void> {
    const response = await this.open('GET', path, undefined, 'application/json', signal);
    const status = response.statusCode ?? 0;
    if (status !== 200) {
      const chunks: Buffer[] = [];
      for await (const chunk of response) chunks.push(chunk as Buffer);
      throw new ApiStatusError(status, Buffer.concat(chunks).toString('utf8'));
    }
    const stop = (): void => {
      response.destroy();
    };
    if (signal.aborted) stop();
    signal.addEventListener('abort', stop, { once: true });
    let pending = '';
    try {
      for await (const chunk of response) {
        pending += (chunk as Buffer).toString('utf8');
        let newline = pending.indexOf('\n');
        while (newline >= 0) {
          const line = pending.slice(0, newline);
          pending = pending.slice(newline + 1);
          if (line.trim()) onEvent(JSON.parse(line) as WatchEvent);
          newline = pending.indexOf('\n');
        }
      }
    } catch (err) {
      if (!signal.aborted) throw err;
    } finally {
      signal.removeEventListener('abort', stop);
      // Frees the socket when a handler threw mid-stream; a completed response keeps its keep-alive socket.
      response.destroy();
    }
  }

  close(): void {
    this.agent?.destroy();
    this.agent = undefined;
  }
}

export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: { metadata?: { resourceVersion?: string }; code?: number; message?: string } & Record<string, unknown>;
}
