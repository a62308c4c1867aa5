// The service-account controller and root CA publisher, run as kube-controller-manager runs them in
// `kubefacade up`: with the controller-manager identity (so its RBAC is exercised), against a real server.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runServiceAccountController, type RunningServiceAccountController } from '../controllers/service-account.ts';
import { writeComponentKubeconfigs } from '../server/component-credentials.ts';
import { json, startTestServer, type TestServer } from './helpers/api-server.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';

const quiet = { info: () => undefined, warn: () => undefined };

async function waitFor(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('service-account controller', () => {
  let t: TestServer;
  let dir: string;
  let controller: RunningServiceAccountController;
  before(async () => {
    t = await startTestServer('sa-controller');
    dir = await mkdtemp(join(tmpdir(), 'kubefacade-sa-controller-'));
    const kubeconfigs = await writeComponentKubeconfigs(dir, t.url, t.server.credentials, []);
    controller = await runServiceAccountController({ kubeconfigPath: kubeconfigs.controllerManager, caCertPem: t.server.caCertPem, logger: quiet });
    await controller.settled();
  });
  after(async () => {
    await controller.stop();
    await t.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('existing and new namespaces get a default service account and kube-root-ca.crt; deleted ones come back', async () => {
    const cm = await t.call('get', '/api/v1/namespaces/kube-public/configmaps/kube-root-ca.crt').expect(200);
    assert.equal(cm.body.data['ca.crt'], t.server.caCertPem);

    await json(t.call('post', '/api/v1/namespaces'), { metadata: { name: 'team-a' } }).expect(201);
    await waitFor(async () => (await t.call('get', '/api/v1/namespaces/team-a/serviceaccounts/default')).status === 200);
    await waitFor(async () => (await t.call('get', '/api/v1/namespaces/team-a/configmaps/kube-root-ca.crt')).status === 200);
    const sa = await t.call('get', '/api/v1/namespaces/team-a/serviceaccounts/default').expect(200);

    await t.call('delete', '/api/v1/namespaces/team-a/serviceaccounts/default').expect(200);
    await waitFor(async () => {
      const again = await t.call('get', '/api/v1/namespaces/team-a/serviceaccounts/default');
      return again.status === 200 && again.body.metadata.uid !== sa.body.metadata.uid;
    });
    await json(t.call('patch', '/api/v1/namespaces/team-a/configmaps/kube-root-ca.crt'), { data: { 'ca.crt': 'tampered' } }, 'application/merge-patch+json').expect(200);
    await waitFor(async () => (await t.call('get', '/api/v1/namespaces/team-a/configmaps/kube-root-ca.crt')).body.data['ca.crt'] === t.server.caCertPem);
  });
});
