// The simulated kubelet's HTTPS endpoint checks its callers as a real kubelet with
// --anonymous-auth=false and webhook authentication/authorization: anonymous → 401; a bearer token
// (TokenReview) or a cluster-CA client certificate whose user lacks nodes/proxy → 403 with the
// kubelet's message; a certificate from another CA → 401; a user granted nodes/proxy → 200; and
// `kubectl logs` through the API server (its client certificate) still works. The kubelets run
// with the least-privilege identities `kubefacade up` gives them, so their TokenReviews and
// SubjectAccessReviews go out as system:node:<name>.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { startApiServer } from '../server/start.ts';
import { writeComponentKubeconfigs } from '../server/component-credentials.ts';
import { runKubelets, type RunningKubelets } from '../kubelet/index.ts';
import { ensureCertificateAuthority, signClientCertificate } from '../auth/pki.ts';
import { Kubectl } from './helpers/kubectl.ts';

const quiet = { info: () => undefined, warn: () => undefined };

describe('kubelet endpoint authentication and authorisation', () => {
  let dir: string;
  let server: Awaited<ReturnType<typeof startApiServer>>;
  let kubelets: RunningKubelets;
  let core: CoreV1Api;
  let kubelet: { host: string; port: number };

  const callKubelet = (path: string, options: { token?: string; cert?: { certPem: string; keyPem: string } } = {}) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      https.get({
        host: kubelet.host, port: kubelet.port, path, rejectUnauthorized: false, agent: false,
        headers: options.token ? { Authorization: `Bearer ${options.token}` } : {},
        cert: options.cert?.certPem, key: options.cert?.keyPem,
      }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => { body += chunk; });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      }).on('error', reject);
    });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kubefacade-kubelet-auth-'));
    server = await startApiServer({ dataDir: dir, bind: '127.0.0.1', port: 0, tlsSans: [] });
    const kubeconfigs = await writeComponentKubeconfigs(dir, server.url, server.credentials, ['node01']);
    kubelets = await runKubelets({
      kubeconfigPath: kubeconfigs.kubelet, nodeKubeconfig: kubeconfigs.node, nodeCount: 1, kubeletPort: 0,
      imagePullDelayMs: 20, stepDelayMs: 5, stopDelayMs: 20, leaseRenewIntervalMs: 500, statusUpdateIntervalMs: 500, logger: quiet,
    });
    const config = new KubeConfig();
    config.loadFromFile(server.adminKubeconfigPath);
    core = config.makeApiClient(CoreV1Api);
    const node = await core.readNode({ name: 'node01' });
    kubelet = {
      host: node.status!.addresses!.find((a) => a.type === 'InternalIP')!.address,
      port: node.status!.daemonEndpoints!.kubeletEndpoint!.Port,
    };
    await core.createNamespacedPod({ namespace: 'default', body: { metadata: { name: 'web' }, spec: { nodeName: 'node01', containers: [{ name: 'app', image: 'nginx:1.27' }] } } });
    const deadline = Date.now() + 30_000;
    for (;;) {
      const pod = await core.readNamespacedPod({ name: 'web', namespace: 'default' });
      if (pod.status?.phase === 'Running') break;
      if (Date.now() > deadline) assert.fail('the pod did not start');
      await new Promise((done) => setTimeout(done, 100));
    }
    const rbac = { apiGroup: 'rbac.authorization.k8s.io' };
    const admin = new KubeConfig();
    admin.loadFromFile(server.adminKubeconfigPath);
    const { RbacAuthorizationV1Api } = await import('@kubernetes/client-node');
    const rbacApi = admin.makeApiClient(RbacAuthorizationV1Api);
    await rbacApi.createClusterRole({ body: { metadata: { name: 'node-proxy' }, rules: [{ apiGroups: [''], resources: ['nodes/proxy'], verbs: ['get'] }] } });
    await rbacApi.createClusterRoleBinding({ body: { metadata: { name: 'carol-node-proxy' }, roleRef: { ...rbac, kind: 'ClusterRole', name: 'node-proxy' }, subjects: [{ ...rbac, kind: 'User', name: 'carol' }] } });
  });

  after(async () => {
    await kubelets?.stop();
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const logPath = '/containerLogs/default/web/app';

  test('anonymous callers get 401', async () => {
    assert.deepEqual(await callKubelet(logPath), { status: 401, body: 'Unauthorized\n' });
    assert.equal((await callKubelet('/healthz')).status, 401);
    assert.equal((await callKubelet(logPath, { token: 'not-a-token' })).status, 401);
  });

  test('a user without nodes/proxy gets 403, by token or by client certificate', async () => {
    const mallory = server.credentials.token({ username: 'mallory', groups: ['dev'] }, 600);
    assert.deepEqual(await callKubelet(logPath, { token: mallory }), { status: 403, body: 'Forbidden (user=mallory, verb=get, resource=nodes, subresource=proxy)\n' });
    const cert = server.credentials.clientCertificate({ username: 'mallory', groups: ['dev'] }, 1);
    assert.equal((await callKubelet(logPath, { cert })).status, 403);
  });

  test('a client certificate from another CA gets 401', async () => {
    const otherCa = await ensureCertificateAuthority(join(dir, 'other-ca'));
    const forged = signClientCertificate(otherCa, { commonName: 'kube-apiserver-kubelet-client', organizations: ['system:masters'], days: 1 });
    assert.equal((await callKubelet(logPath, { cert: forged })).status, 401);
  });

  test('a user granted nodes/proxy reads the log directly', async () => {
    const carol = server.credentials.token({ username: 'carol', groups: [] }, 600);
    const res = await callKubelet(logPath, { token: carol });
    assert.equal(res.status, 200, res.body);
    assert.match(res.body, /simulated container "app"/);
  });

  test('kubectl logs through the API server still works', async () => {
    const kubectl = await Kubectl.create(server.adminKubeconfigPath);
    try {
      const out = await kubectl.ok(['logs', 'web', '-n', 'default']);
      assert.match(out, /simulated container "app" \(image nginx:1.27\) started/);
    } finally {
      await rm(kubectl.cacheDir, { recursive: true, force: true });
    }
  });
});
