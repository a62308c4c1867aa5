// vitest 3: one kubefacade cluster for the file. Run: npx vitest run --root examples/vitest

import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { CoreV1Api, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { startCluster } from 'kubefacade';
import { reconcileNamespace, TEAM_LABEL } from '../team-access-controller.mjs';

let cluster;
beforeAll(async () => { cluster = await startCluster({ nodes: 1 }); });
afterEach(async () => { await cluster.reset(); });
afterAll(async () => { await cluster.stop(); });

test('reconciling twice converges on one RoleBinding for the team', async () => {
  const core = cluster.kubeconfig.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: 'search', labels: { [TEAM_LABEL]: 'team-search' } } } });
  await reconcileNamespace(cluster.kubeconfig, 'search');
  await reconcileNamespace(cluster.kubeconfig, 'search');
  const bindings = await cluster.kubeconfig.makeApiClient(RbacAuthorizationV1Api).listNamespacedRoleBinding({ namespace: 'search' });
  expect(bindings.items.map((binding) => [binding.metadata.name, binding.roleRef.name, binding.subjects.map((s) => s.name)]))
    .toEqual([['team-edit', 'edit', ['team-search']]]);
});

test('someone outside the team cannot read the namespace\'s pods', async () => {
  const core = cluster.kubeconfig.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: 'search', labels: { [TEAM_LABEL]: 'team-search' } } } });
  await reconcileNamespace(cluster.kubeconfig, 'search');
  const outsider = cluster.userKubeconfig('mallory', ['team-ads']).makeApiClient(CoreV1Api);
  await expect(outsider.listNamespacedPod({ namespace: 'search' })).rejects.toMatchObject({ code: 403 });
});
