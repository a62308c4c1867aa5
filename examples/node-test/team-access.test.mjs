// node:test: one kubefacade cluster for the file (started in before, reset between tests).
// Run: node --test examples/node-test/

import { after, afterEach, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { CoreV1Api } from '@kubernetes/client-node';
import { startCluster } from 'kubefacade';
import { reconcileNamespace, TEAM_LABEL } from '../team-access-controller.mjs';

let cluster;
before(async () => { cluster = await startCluster({ nodes: 1 }); });
afterEach(async () => { await cluster.reset(); });
after(async () => { await cluster.stop(); });

test('a labelled namespace gives its team edit rights there, and nowhere else', async () => {
  const core = cluster.kubeconfig.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: 'payments', labels: { [TEAM_LABEL]: 'team-payments' } } } });
  await reconcileNamespace(cluster.kubeconfig, 'payments');

  const member = cluster.userKubeconfig('alice', ['team-payments']).makeApiClient(CoreV1Api);
  const pod = { metadata: { name: 'api' }, spec: { containers: [{ name: 'api', image: 'nginx:1.27' }] } };
  await member.createNamespacedPod({ namespace: 'payments', body: pod });
  await assert.rejects(member.createNamespacedPod({ namespace: 'default', body: pod }), (error) => error.code === 403);
});

test('an unlabelled namespace is left alone (and the previous test left nothing behind)', async () => {
  const core = cluster.kubeconfig.makeApiClient(CoreV1Api);
  await assert.rejects(core.readNamespace({ name: 'payments' }), (error) => error.code === 404);
  await core.createNamespace({ body: { metadata: { name: 'scratch' } } });
  assert.equal(await reconcileNamespace(cluster.kubeconfig, 'scratch'), undefined);
});
