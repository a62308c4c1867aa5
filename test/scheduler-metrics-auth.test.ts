// The scheduler's secure port as kube-scheduler serves it: HTTPS with a self-signed certificate, callers
// authenticated by TokenReview and authorised by SubjectAccessReview (non-resource `get /metrics`) against the API
// server, under the scheduler's own least-privilege identity; /healthz, /readyz and /livez open to anyone and
// system:masters always allowed; 401 and 403 bodies as the generic API server's Status.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { startApiServer } from '../server/start.ts';
import { writeComponentKubeconfigs } from '../server/component-credentials.ts';
import { runScheduler, type RunningScheduler } from '../scheduler/index.ts';

const quiet = { info: () => undefined, error: () => undefined };

interface Reply {
  status: number;
  body: string;
  contentType?: string;
  certificate?: X509Certificate;
}

describe('scheduler metrics port: delegated authentication and authorization', () => {
  let dir: string;
  let server: Awaited<ReturnType<typeof startApiServer>>;
  let scheduler: RunningScheduler;

  const call = (path: string, options: { token?: string; method?: string } = {}) => new Promise<Reply>((resolve, reject) => {
    const request = https.request({
      host: '127.0.0.1', port: scheduler.metricsPort, path, method: options.method ?? 'GET', rejectUnauthorized: false, agent: false,
      headers: options.token ? { Authorization: `Bearer ${options.token}` } : {},
    }, (res) => {
      const raw = (res.socket as TLSSocket).getPeerX509Certificate?.();
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => { body += chunk; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, contentType: res.headers['content-type'], certificate: raw }));
    });
    request.on('error', reject);
    request.end();
  });
  const token = (username: string, groups: string[] = []) => server.credentials.token({ username, groups }, 600);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kubefacade-scheduler-metrics-auth-'));
    server = await startApiServer({ dataDir: dir, bind: '127.0.0.1', port: 0, tlsSans: [] });
    const kubeconfigs = await writeComponentKubeconfigs(dir, server.url, server.credentials, []);
    scheduler = await runScheduler({ kubeconfigPath: kubeconfigs.scheduler, logger: quiet, metricsBindAddress: { host: '127.0.0.1', port: 0 } });
    const admin = new KubeConfig();
    admin.loadFromFile(server.adminKubeconfigPath);
    const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
    const group = { apiGroup: 'rbac.authorization.k8s.io' };
    await rbac.createClusterRole({ body: { metadata: { name: 'metrics-scraper' }, rules: [{ nonResourceURLs: ['/metrics'], verbs: ['get'] }] } });
    await rbac.createClusterRoleBinding({ body: { metadata: { name: 'prometheus' }, roleRef: { ...group, kind: 'ClusterRole', name: 'metrics-scraper' }, subjects: [{ ...group, kind: 'User', name: 'prometheus' }] } });
  });

  after(async () => {
    await scheduler?.stop();
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('the port speaks HTTPS with a self-signed certificate for the loopback address', async () => {
    const reply = await call('/healthz');
    assert.ok(reply.certificate, 'a TLS peer certificate');
    assert.match(reply.certificate.subject, /CN=localhost@\d+/);
    assert.ok(reply.certificate.checkIP('127.0.0.1'));
  });

  test('health paths are always allowed, even without credentials', async () => {
    for (const path of ['/healthz', '/readyz', '/livez']) {
      const reply = await call(path);
      assert.deepEqual([reply.status, reply.body], [200, 'ok'], path);
    }
  });

  test('an anonymous scrape is forbidden with the API server\'s Status', async () => {
    const reply = await call('/metrics');
    assert.equal(reply.status, 403);
    assert.equal(reply.contentType, 'application/json');
    assert.deepEqual(JSON.parse(reply.body), {
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure',
      message: 'forbidden: User "system:anonymous" cannot get path "/metrics"', reason: 'Forbidden', details: {}, code: 403,
    });
  });

  test('a token the API server does not vouch for is 401, before any path check', async () => {
    for (const path of ['/metrics', '/healthz']) {
      const reply = await call(path, { token: 'not-a-token' });
      assert.equal(reply.status, 401, path);
      assert.deepEqual(JSON.parse(reply.body), { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 });
    }
  });

  test('a user without get /metrics is forbidden; system:monitoring, a granted user and system:masters scrape', async () => {
    const bob = await call('/metrics', { token: token('bob', ['dev']) });
    assert.equal(bob.status, 403);
    assert.equal((JSON.parse(bob.body) as { message: string }).message, 'forbidden: User "bob" cannot get path "/metrics"');
    for (const [user, groups] of [['monitor', ['system:monitoring']], ['prometheus', []], ['root', ['system:masters']]] as const) {
      const reply = await call('/metrics', { token: token(user, [...groups]) });
      assert.equal(reply.status, 200, `${user}: ${reply.body}`);
      const names = parsePrometheusTextFormat(reply.body).map((family) => family.name);
      assert.ok(names.includes('scheduler_pending_pods'), names.join(', '));
    }
  });

  test('the verb is the request\'s method: a POST needs post on the path', async () => {
    const reply = await call('/metrics', { token: token('monitor', ['system:monitoring']), method: 'POST' });
    assert.equal(reply.status, 403);
    assert.equal((JSON.parse(reply.body) as { message: string }).message, 'forbidden: User "monitor" cannot post path "/metrics"');
  });
});
