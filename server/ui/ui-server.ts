// The web view (`--ui`): a small HTTP server on loopback that serves the bundled page (ui/), logs a
// browser in, and forwards the page's API requests to the API server with that browser's own
// credentials. Routes:
//   GET  /                       the page (no-store); GET /assets/<name>-<hash>.<ext> (immutable)
//   POST /ui/login               {code} from a login link, or {token}: a bearer token the API server accepts
//   POST /ui/logout, GET /ui/session
//   GET  /ui/journey/<namespace>/<pod>   the pod's journey (server/ui/pod-journey.ts), read-only
//   GET  /ui/stream, POST /ui/watches, DELETE /ui/watches/<stream>/<id>   watches over one connection
//                                (server/ui/watch-multiplexer.ts)
//   *    /api/..., /apis/..., /version   forwarded to the API server with the session's token
// Every response carries a strict Content-Security-Policy; writes need the page's own header and
// origin (a cross-site form or script cannot make them), besides the SameSite=Strict cookie.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { KubeObject } from '../../api/object.ts';
import { ApiForwarder, statusBody, type ApiTarget } from './api-forwarder.ts';
import { podJourney } from './pod-journey.ts';
import type { RequestJournal } from './request-journal.ts';
import { WatchMultiplexer } from './watch-multiplexer.ts';
import { SessionStore, clearedSessionCookie, sessionCookie, sessionIdFrom, type Session, type SessionIdentity } from './sessions.ts';
import { loadStaticFiles, type StaticFiles } from './static-files.ts';

export const UI_REQUEST_HEADER = 'x-kubefacade-ui';
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "connect-src 'self'",
  "font-src 'self'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
].join('; ');
const MAX_LOGIN_BODY_BYTES = 64 * 1024;
const DEFAULT_SESSION_TTL_MS = 12 * 3600_000;

export interface UiServerOptions {
  api: ApiTarget;
  /** Loopback by default: the view acts with the credentials of whoever logs in. */
  bind?: string;
  port?: number;
  journal?: RequestJournal;
  /** Mints the token a login link's session acts with (the server's CredentialIssuer). */
  mintToken?: (identity: SessionIdentity, ttlSeconds: number) => string;
  /** Where the built page lives (default: ui/dist of this package). */
  staticDir?: string;
}

export interface RunningUi {
  url: string;
  port: number;
  /** A link that logs a browser in as `identity` once, within five minutes. */
  loginLink(identity: SessionIdentity): string;
  close(): Promise<void>;
}

export async function startUiServer(options: UiServerOptions): Promise<RunningUi> {
  const files = await loadStaticFiles(options.staticDir);
  const sessions = new SessionStore();
  const api = new ApiForwarder(options.api);
  const watches = new WatchMultiplexer(api);
  const server = createServer((req, res) => {
    securityHeaders(res);
    handle(req, res, { files, sessions, api, watches, journal: options.journal }).catch((err: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      sendJson(res, 500, statusBody(500, 'InternalError', err instanceof Error ? err.message : String(err)));
    });
  });
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const bind = options.bind ?? '127.0.0.1';
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, bind, () => {
      server.off('error', reject);
      resolveListen();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const host = bind === '0.0.0.0' || bind === '' ? '127.0.0.1' : bind.includes(':') ? `[${bind}]` : bind;
  const url = `http://${host}:${port}`;
  return {
    url,
    port,
    loginLink(identity) {
      if (!options.mintToken) throw new Error('this web view cannot mint tokens for login links');
      const token = options.mintToken(identity, DEFAULT_SESSION_TTL_MS / 1000);
      // The code travels in the fragment: never sent to a server, never in a Referer or access log.
      return `${url}/#login=${sessions.loginCode({ ...identity, token }, DEFAULT_SESSION_TTL_MS)}`;
    },
    async close() {
      watches.close();
      await closeServer(server, sockets);
      api.close();
    },
  };
}

interface Context {
  files: StaticFiles;
  sessions: SessionStore;
  api: ApiForwarder;
  watches: WatchMultiplexer;
  journal?: RequestJournal;
}

async function handle(req: IncomingMessage, res: ServerResponse, ctx: Context): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://ui.invalid');
  const path = url.pathname;
  if (req.method === 'GET' || req.method === 'HEAD') {
    const file = path === '/' || path === '/index.html' ? ctx.files.index : ctx.files.assets.get(path);
    if (file) {
      res.writeHead(200, {
        'content-type': file.contentType,
        'content-length': String(file.body.length),
        'cache-control': file === ctx.files.index ? 'no-store' : 'public, max-age=31536000, immutable',
      });
      res.end(req.method === 'HEAD' ? undefined : file.body);
      return;
    }
  }
  if (path === '/ui/login' && req.method === 'POST') return login(req, res, ctx);
  const sessionId = sessionIdFrom(req.headers.cookie);
  const session = ctx.sessions.get(sessionId);
  if (path === '/ui/logout' && req.method === 'POST') {
    ctx.sessions.close(sessionId);
    res.setHeader('set-cookie', clearedSessionCookie());
    sendJson(res, 200, { loggedOut: true });
    return;
  }
  const isApi = path === '/version' || path === '/api' || path.startsWith('/api/') || path === '/apis' || path.startsWith('/apis/');
  if (!isApi && !path.startsWith('/ui/')) {
    sendJson(res, 404, statusBody(404, 'NotFound', 'the server could not find the requested resource'));
    return;
  }
  if (!session) {
    sendJson(res, 401, statusBody(401, 'Unauthorized', 'Unauthorized: log in again'));
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD' && !sameOriginWrite(req)) {
    sendJson(res, 403, statusBody(403, 'Forbidden', 'writes from the web view must come from its own page'));
    return;
  }
  if (path === '/ui/session' && req.method === 'GET') {
    sendJson(res, 200, { username: session.username, groups: session.groups });
    return;
  }
  if (path === '/ui/stream' && req.method === 'GET') {
    ctx.watches.open(res, session.token);
    return;
  }
  if (path === '/ui/watches' && req.method === 'POST') return startWatch(req, res, ctx, session);
  const stopWatch = /^\/ui\/watches\/([^/]+)\/([^/]+)$/.exec(path);
  if (stopWatch && req.method === 'DELETE') {
    ctx.watches.stop(decodeURIComponent(stopWatch[1]), decodeURIComponent(stopWatch[2]), session.token);
    sendJson(res, 200, { stopped: true });
    return;
  }
  const journey = /^\/ui\/journey\/([^/]+)\/([^/]+)$/.exec(path);
  if (journey && req.method === 'GET') return sendJourney(res, ctx, session, decodeURIComponent(journey[1]), decodeURIComponent(journey[2]));
  if (isApi) {
    ctx.api.forward(req, res, `${path}${url.search}`, session.token);
    return;
  }
  sendJson(res, 404, statusBody(404, 'NotFound', 'the server could not find the requested resource'));
}

async function startWatch(req: IncomingMessage, res: ServerResponse, ctx: Context, session: Session): Promise<void> {
  const body = await readJson(req);
  const stream = typeof body?.stream === 'string' ? body.stream : '';
  const id = typeof body?.id === 'string' ? body.id : '';
  const path = typeof body?.path === 'string' ? body.path : '';
  // Only watches of API paths: the multiplexer never reaches anything the forwarder would not.
  if (!stream || !id || !/^\/apis?\/[^?#]*\?(.*&)?watch=(1|true)(&|$)/.test(path)) {
    sendJson(res, 400, statusBody(400, 'BadRequest', 'a watch needs a stream, an id and an API path with watch=1'));
    return;
  }
  const outcome = ctx.watches.start(stream, id, path, session.token);
  if (outcome === 'no-stream') sendJson(res, 404, statusBody(404, 'NotFound', 'no such stream: open /ui/stream first'));
  else if (outcome === 'too-many') sendJson(res, 429, statusBody(429, 'TooManyRequests', 'too many watches on one stream'));
  else sendJson(res, 200, { started: true });
}

/** A login link's code, or a bearer token checked by the API server itself (SelfSubjectReview). */
async function login(req: IncomingMessage, res: ServerResponse, ctx: Context): Promise<void> {
  if (!sameOriginWrite(req)) {
    sendJson(res, 403, statusBody(403, 'Forbidden', 'log in from the web view\'s own page'));
    return;
  }
  const body = await readJson(req);
  const code = typeof body?.code === 'string' ? body.code : undefined;
  const token = typeof body?.token === 'string' ? body.token.trim() : undefined;
  let opened: { id: string; session: Session } | undefined;
  if (code) {
    opened = ctx.sessions.redeem(code);
    if (!opened) {
      sendJson(res, 401, statusBody(401, 'Unauthorized', 'this login link has expired or was already used: ask for a new one'));
      return;
    }
  } else if (token) {
    const review = await ctx.api.json('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', token,
      { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' });
    if (review.status !== 201 && review.status !== 200) {
      sendJson(res, review.status === 403 ? 403 : 401, typeof review.body === 'object' && review.body ? review.body : statusBody(401, 'Unauthorized', 'Unauthorized'));
      return;
    }
    const info = userInfoOf(review.body);
    opened = ctx.sessions.open({ ...info, token, expiresMs: Date.now() + Math.min(DEFAULT_SESSION_TTL_MS, tokenLifetimeMs(token)) });
  } else {
    sendJson(res, 400, statusBody(400, 'BadRequest', 'a login needs a login code or a bearer token'));
    return;
  }
  res.setHeader('set-cookie', sessionCookie(opened.id, false));
  sendJson(res, 200, { username: opened.session.username, groups: opened.session.groups });
}

async function sendJourney(res: ServerResponse, ctx: Context, session: Session, namespace: string, name: string): Promise<void> {
  const base = `/api/v1/namespaces/${encodeURIComponent(namespace)}`;
  // Reading the pod with the session's own credentials is the authorization check: whoever may get
  // the pod may see its journey; anyone else gets the API server's own answer.
  const pod = await ctx.api.json('GET', `${base}/pods/${encodeURIComponent(name)}`, session.token);
  if (pod.status !== 200 && pod.status !== 404) {
    sendJson(res, pod.status, pod.body);
    return;
  }
  const selector = encodeURIComponent(`involvedObject.kind=Pod,involvedObject.name=${name}`);
  const events = await ctx.api.json('GET', `${base}/events?fieldSelector=${selector}`, session.token);
  const podObject = pod.status === 200 ? pod.body as KubeObject : undefined;
  const records = ctx.journal?.recordsFor(namespace, name) ?? [];
  if (!podObject && records.length === 0) {
    sendJson(res, 404, pod.body);
    return;
  }
  const items = events.status === 200 ? ((events.body as { items?: KubeObject[] }).items ?? []) : [];
  sendJson(res, 200, podJourney({ namespace, name, pod: podObject, events: items, records }));
}

function sameOriginWrite(req: IncomingMessage): boolean {
  if (req.headers[UI_REQUEST_HEADER] !== '1') return false;
  const origin = req.headers.origin;
  return origin === undefined || origin === `http://${req.headers.host}`;
}

function userInfoOf(review: unknown): SessionIdentity {
  const user = (review as { status?: { userInfo?: { username?: string; groups?: string[] } } }).status?.userInfo;
  return { username: user?.username ?? '', groups: Array.isArray(user?.groups) ? user.groups.filter((g): g is string => typeof g === 'string') : [] };
}

/** How long a JWT stays valid (its `exp`); other tokens: the default session lifetime. */
function tokenLifetimeMs(token: string): number {
  const parts = token.split('.');
  if (parts.length !== 3) return DEFAULT_SESSION_TTL_MS;
  try {
    const payload: unknown = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    const exp = typeof payload === 'object' && payload !== null && Object.hasOwn(payload, 'exp') ? (payload as { exp: unknown }).exp : undefined;
    return typeof exp === 'number' ? Math.max(0, exp * 1000 - Date.now()) : DEFAULT_SESSION_TTL_MS;
  } catch {
    return DEFAULT_SESSION_TTL_MS;
  }
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown> | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_LOGIN_BODY_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  try {
    const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? parsed as Record<string, unknown> : undefined;
  } catch {
    return undefined;
  }
}

function securityHeaders(res: ServerResponse): void {
  res.setHeader('content-security-policy', CONTENT_SECURITY_POLICY);
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('referrer-policy', 'no-referrer');
  res.setHeader('x-frame-options', 'DENY');
  res.setHeader('cross-origin-opener-policy', 'same-origin');
}

function sendJson(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': String(Buffer.byteLength(text)) });
  res.end(text);
}

function closeServer(server: Server, sockets: Set<Socket>): Promise<void> {
  return new Promise((done) => {
    server.close(() => done());
    for (const socket of sockets) socket.destroy();
  });
}
