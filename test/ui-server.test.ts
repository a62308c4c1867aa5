// The web view's server (server/ui/ui-server.ts) against a real API server: static files and their
// headers, login by one-time code or bearer token, the session cookie, forwarding with the session's
// own credentials (RBAC applies), the write guard, and the pod journey endpoint.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { startTestServer, type TestServer } from './helpers/api-server.ts';
import { REPO_ROOT } from './helpers/cluster-processes.ts';
import { startUiServer, type RunningUi } from '../server/ui/ui-server.ts';

function ensureUiBuilt(): void {
  if (existsSync(join(REPO_ROOT, 'ui/dist/index.html'))) return;
  const built = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/build-ui.ts'], { cwd: REPO_ROOT, encoding: 'utf8' });
  assert.equal(built.status, 0, `building the web view failed: ${built.stderr}`);
}

interface Reply {
  status: number;
  headers: Headers;
  text: string;
  json(): Record<string, unknown>;
}

describe('web view server', () => {
  let api: TestServer;
  let ui: RunningUi;
  let adminCookie: string;

  const call = async (method: string, path: string, options: { cookie?: string; body?: unknown; ui?: boolean; origin?: string; contentType?: string } = {}): Promise<Reply> => {
    const headers: Record<string, string> = {};
    if (options.cookie) headers.cookie = options.cookie;
    if (options.ui !== false) headers['x-kubefacade-ui'] = '1';
    if (options.origin) headers.origin = options.origin;
    if (options.body !== undefined) headers['content-type'] = options.contentType ?? 'application/json';
    const response = await fetch(`${ui.url}${path}`, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
    const text = await response.text();
    return { status: response.status, headers: response.headers, text, json: () => JSON.parse(text) as Record<string, unknown> };
  };
  const cookieOf = (reply: Reply): string => (reply.headers.get('set-cookie') ?? '').split(';')[0];

  before(async () => {
    ensureUiBuilt();
    api = await startTestServer('ui', { requestJournal: true });
    ui = await startUiServer({
      api: { url: api.url, caCertPem: api.server.caCertPem }, port: 0, journal: api.server.journal,
      mintToken: (identity, ttl) => api.server.credentials.token(identity, ttl),
    });
    const login = await call('POST', '/ui/login', { body: { code: new URL(ui.loginLink({ username: 'kubernetes-admin', groups: ['system:masters'] })).hash.slice('#login='.length) } });
    assert.equal(login.status, 200, login.text);
    adminCookie = cookieOf(login);
  });

  after(async () => {
    await ui?.close();
    await api?.close();
  });

  test('the page: strict CSP, no-store HTML, immutable hashed assets', async () => {
    const page = await call('GET', '/', { ui: false });
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    assert.equal(page.headers.get('cache-control'), 'no-store');
    const csp = page.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(page.headers.get('x-frame-options'), 'DENY');
    const script = /src="(\/assets\/app-[0-9a-f]{12}\.js)"/.exec(page.text)?.[1];
    assert.ok(script, 'index.html names a hashed script');
    const asset = await call('GET', script, { ui: false });
    assert.equal(asset.status, 200);
    assert.equal(asset.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.match(asset.headers.get('content-type') ?? '', /^text\/javascript/);
    assert.equal((await call('GET', '/assets/nothing.js', { ui: false })).status, 404);
  });

  test('a login link works once; its session cookie is HttpOnly, SameSite=Strict and dies with the browser', async () => {
    const code = new URL(ui.loginLink({ username: 'kubernetes-admin', groups: ['system:masters'] })).hash.slice('#login='.length);
    const first = await call('POST', '/ui/login', { body: { code } });
    assert.equal(first.status, 200);
    assert.deepEqual(first.json(), { username: 'kubernetes-admin', groups: ['system:masters'] });
    const cookie = first.headers.get('set-cookie') ?? '';
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Strict/);
    assert.doesNotMatch(cookie, /Max-Age|Expires/);
    const again = await call('POST', '/ui/login', { body: { code } });
    assert.equal(again.status, 401);
    assert.equal(again.json().message, 'this login link has expired or was already used: ask for a new one');
  });

  test('without a session everything but the page is 401; a wrong token does not log in', async () => {
    assert.equal((await call('GET', '/api/v1/namespaces')).status, 401);
    assert.equal((await call('GET', '/ui/session')).status, 401);
    const wrong = await call('POST', '/ui/login', { body: { token: 'not-a-token' } });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.json().kind, 'Status');
  });

  test('a login and writes must come from the page itself', async () => {
    assert.equal((await call('POST', '/ui/login', { body: { token: api.server.adminToken }, ui: false })).status, 403);
    const foreign = await call('POST', '/api/v1/namespaces', { cookie: adminCookie, body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'x' } }, origin: 'http://evil.example' });
    assert.equal(foreign.status, 403);
    const noHeader = await call('POST', '/api/v1/namespaces', { cookie: adminCookie, body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'x' } }, ui: false });
    assert.equal(noHeader.status, 403);
    const namespaces = await api.call('get', '/api/v1/namespaces/x');
    assert.equal(namespaces.status, 404, 'nothing was created');
  });

  test('requests act with the logged-in user\'s credentials: RBAC answers for alice', async () => {
    const token = api.server.credentials.token({ username: 'alice', groups: ['dev'] }, 600);
    const login = await call('POST', '/ui/login', { body: { token } });
    assert.equal(login.status, 200, login.text);
    assert.equal(login.json().username, 'alice');
    const cookie = cookieOf(login);
    const pods = await call('GET', '/api/v1/pods', { cookie });
    assert.equal(pods.status, 403);
    assert.equal(pods.json().message, 'pods is forbidden: User "alice" cannot list resource "pods" in API group "" at the cluster scope');
    const journey = await call('GET', '/ui/journey/default/anything', { cookie });
    assert.equal(journey.status, 403);
    assert.match(String(journey.json().message), /User "alice" cannot get resource "pods"/);
    const logout = await call('POST', '/ui/logout', { cookie });
    assert.equal(logout.status, 200);
    assert.equal((await call('GET', '/ui/session', { cookie })).status, 401);
  });

  test('a pod created through the view has a journey: its request, authorization and storage', async () => {
    const created = await call('POST', '/api/v1/namespaces/default/pods', {
      cookie: adminCookie,
      body: { apiVersion: 'v1', kind: 'Pod', metadata: { generateName: 'journey-' }, spec: { containers: [{ name: 'c', image: 'nginx' }] } },
    });
    assert.equal(created.status, 201, created.text);
    const pod = created.json() as { metadata: { name: string; uid: string; resourceVersion: string } };
    const journey = await call('GET', `/ui/journey/default/${pod.metadata.name}`, { cookie: adminCookie });
    assert.equal(journey.status, 200, journey.text);
    const steps = (journey.json() as { steps: { id: string; state: string; actor?: string; detail?: string }[] }).steps;
    const byId = new Map(steps.map((s) => [s.id, s]));
    assert.equal(byId.get('received')?.actor, 'kubernetes-admin');
    assert.match(byId.get('sent')?.actor ?? '', /^kubefacade-ui/);
    assert.equal(byId.get('stored')?.state, 'done');
    assert.equal(byId.get('stored')?.detail, `resourceVersion ${pod.metadata.resourceVersion}, uid ${pod.metadata.uid}`);
    assert.equal(byId.get('scheduled')?.state, 'pending', 'no scheduler runs in this test');
    assert.equal((await call('GET', '/ui/journey/default/never-existed', { cookie: adminCookie })).status, 404);
    // A binding carrying a scheduler's decision header: the server keeps the counts for the filtering step.
    const bound = await api.call('post', `/api/v1/namespaces/default/pods/${pod.metadata.name}/binding`)
      .set('kubefacade-scheduling-decision', 'evaluatedNodes=4, feasibleNodes=3')
      .send({ apiVersion: 'v1', kind: 'Binding', metadata: { name: pod.metadata.name }, target: { apiVersion: 'v1', kind: 'Node', name: 'node09' } });
    assert.equal(bound.status, 201, bound.text);
    const after = await call('GET', `/ui/journey/default/${pod.metadata.name}`, { cookie: adminCookie });
    const scheduled = (after.json() as { steps: { id: string; state: string; detail?: string }[] }).steps.find((s) => s.id === 'scheduled');
    assert.deepEqual(scheduled && { state: scheduled.state, detail: scheduled.detail }, { state: 'done', detail: 'assigned to node09; 3 of 4 evaluated nodes feasible' });
  });

  test('watch streams are forwarded as they arrive', async () => {
    const controller = new AbortController();
    const response = await fetch(`${ui.url}/api/v1/namespaces/default/pods?watch=1&resourceVersion=0`, {
      headers: { cookie: adminCookie, 'x-kubefacade-ui': '1' }, signal: controller.signal,
    });
    assert.equal(response.status, 200);
    const reader = response.body!.getReader();
    const created = await api.call('post', '/api/v1/namespaces/default/pods')
      .send({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'watched' }, spec: { containers: [{ name: 'c', image: 'nginx' }] } });
    assert.equal(created.status, 201);
    let seen = '';
    while (!seen.includes('"name":"watched"')) {
      const { value, done } = await reader.read();
      assert.ok(!done, 'the watch ended early');
      seen += new TextDecoder().decode(value);
    }
    controller.abort();
  });

  test('several watches share one stream; a refused one carries the API server\'s Status', async () => {
    const controller = new AbortController();
    const response = await fetch(`${ui.url}/ui/stream`, { headers: { cookie: adminCookie, 'x-kubefacade-ui': '1' }, signal: controller.signal });
    assert.equal(response.status, 200);
    const reader = response.body!.getReader();
    let buffered = '';
    const lines: Record<string, unknown>[] = [];
    const nextLine = async (): Promise<Record<string, unknown>> => {
      while (!buffered.includes('\n')) {
        const { value, done } = await reader.read();
        assert.ok(!done, 'the stream ended early');
        buffered += new TextDecoder().decode(value);
      }
      const line = buffered.slice(0, buffered.indexOf('\n'));
      buffered = buffered.slice(line.length + 1);
      const parsed = JSON.parse(line) as Record<string, unknown>;
      lines.push(parsed);
      return parsed;
    };
    const stream = (await nextLine()).stream as string;
    assert.ok(stream);
    const start = (id: string, path: string) => call('POST', '/ui/watches', { cookie: adminCookie, body: { stream, id, path } });
    assert.equal((await start('pods', '/api/v1/namespaces/default/pods?watch=1&resourceVersion=0')).status, 200);
    assert.equal((await start('nodes', '/api/v1/nodes?watch=1&resourceVersion=0')).status, 200);
    assert.equal((await start('bad', '/api/v1/namespaces/default/pods?watch=1&resourceVersion=0&fieldSelector=nope%3Dx')).status, 200);
    assert.equal((await start('x', '/ui/session?watch=1')).status, 400, 'only API watches');
    assert.equal((await call('POST', '/ui/watches', { cookie: adminCookie, body: { stream: 'unknown', id: 'y', path: '/api/v1/nodes?watch=1' } })).status, 404);
    await api.call('post', '/api/v1/namespaces/default/pods').send({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'muxed' }, spec: { containers: [{ name: 'c', image: 'nginx' }] } });
    await api.call('post', '/api/v1/nodes').send({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'muxed-node' } });
    const seen = new Set<string>();
    let refusal: Record<string, unknown> | undefined;
    while (!(seen.has('pods:muxed') && seen.has('nodes:muxed-node') && refusal)) {
      const line = await nextLine();
      const event = line.e as { object?: { metadata?: { name?: string } } } | undefined;
      if (event?.object?.metadata?.name) seen.add(`${String(line.w)}:${event.object.metadata.name}`);
      if (line.w === 'bad' && line.status !== undefined) refusal = line;
    }
    assert.equal(refusal.status, 400);
    assert.match(String((refusal.body as { message?: string }).message), /nope/);
    assert.equal((await call('DELETE', `/ui/watches/${stream}/pods`, { cookie: adminCookie })).status, 200);
    controller.abort();
  });
});
