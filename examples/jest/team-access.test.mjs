// jest 30 with native ES modules (no transform): one kubefacade cluster for the file.
// Run: node --experimental-vm-modules node_modules/jest/bin/jest.js --rootDir examples/jest

import { afterAll, afterEach, beforeAll, expect, test } from '@jest/globals';
import { CoreV1Api } from '@kubernetes/client-node';
import { startCluster } from 'kubefacade';
import { reconcileNamespace, TEAM_LABEL } from '../team-access-controller.mjs';

let cluster;
beforeAll(async () => { cluster = await startCluster({ nodes: 1 }); }, 60_000);
afterEach(async () => { await cluster.reset(); });
afterAll(async () => { await cluster.stop(); });

test('the team can run pods in its namespace after reconciling', async () => {
  const core = cluster.kubeconfig.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: 'ledger', labels: { [TEAM_LABEL]: 'team-ledger' } } } });
  const member = cluster.userKubeconfig('bob', ['team-ledger']).makeApiClient(CoreV1Api);
  const pod = { metadata: { name: 'worker' }, spec: { containers: [{ name: 'worker', image: 'busybox:1.36' }] } };
  await expect(member.createNamespacedPod({ namespace: 'ledger', body: pod })).rejects.toMatchObject({ code: 403 });
  await reconcileNamespace(cluster.kubeconfig, 'ledger');
  const created = await member.createNamespacedPod({ namespace: 'ledger', body: pod });
  expect(created.metadata.namespace).toBe('ledger');
});
