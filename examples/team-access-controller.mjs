// A small piece of controller logic, as an operator would have it: every namespace labelled
// `example.com/team: <group>` gets a RoleBinding `team-edit` granting that group the `edit` ClusterRole.
// The example suites (node:test, vitest, jest) test it against a kubefacade cluster with client-node.

import { CoreV1Api, RbacAuthorizationV1Api } from '@kubernetes/client-node';

export const TEAM_LABEL = 'example.com/team';

/** Reconciles one namespace; returns the RoleBinding it ensured, or undefined for an unlabelled namespace. */
export async function reconcileNamespace(kubeconfig, name) {
  const core = kubeconfig.makeApiClient(CoreV1Api);
  const rbac = kubeconfig.makeApiClient(RbacAuthorizationV1Api);
  const namespace = await core.readNamespace({ name });
  const team = namespace.metadata?.labels?.[TEAM_LABEL];
  if (!team) return undefined;
  const body = {
    metadata: { name: 'team-edit', namespace: name, labels: { [TEAM_LABEL]: team } },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'edit' },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: team }],
  };
  try {
    return await rbac.createNamespacedRoleBinding({ namespace: name, body });
  } catch (error) {
    if (error.code !== 409) throw error;
    // roleRef cannot change on update; delete and recreate if it differs, otherwise replace the subjects.
    return await rbac.replaceNamespacedRoleBinding({ name: 'team-edit', namespace: name, body });
  }
}
