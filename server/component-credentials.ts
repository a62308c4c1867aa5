// The identities `kubefacade up` gives its components, written as kubeconfigs in the data dir, each with
// no more rights than its bootstrap role grants (auth/rbac/bootstrap-*.ts):
//   scheduler.kubeconfig           client certificate, CN=system:kube-scheduler (ClusterRole system:kube-scheduler)
//   controller-manager.kubeconfig  client certificate, CN=system:kube-controller-manager (system:kube-controller-manager
//                                  for its informers and events, plus system:controller:node-controller for its writes)
//   kubelet.kubeconfig             client certificate, CN=kubefacade:kubelet-watcher: the kubelet process's shared
//                                  read-only watches of nodes and pods
//   nodes/<node>.kubeconfig        bearer JWT, system:node:<node> in system:nodes: everything one node writes, confined by
//                                  the Node authorizer and NodeRestriction to that node's own objects
// Certificates and tokens are reissued at every start (valid a year), so they always match the current CA and key.

import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { CredentialIssuer } from '../auth/credentials.ts';
import { KUBELET_WATCHER_USER } from '../auth/rbac/bootstrap-bindings.ts';
import { KUBE_CONTROLLER_MANAGER_USER, KUBE_SCHEDULER_USER, NODE_USER_PREFIX, NODES_GROUP } from '../auth/well-known.ts';

const VALIDITY_DAYS = 365;

export interface ComponentKubeconfigs {
  scheduler: string;
  controllerManager: string;
  kubelet: string;
  /** The kubeconfig of one node (written for every node named at creation). */
  node(nodeName: string): string;
}

export async function writeComponentKubeconfigs(
  dataDir: string, server: string, credentials: CredentialIssuer, nodeNames: string[],
): Promise<ComponentKubeconfigs> {
  const paths = {
    scheduler: join(dataDir, 'scheduler.kubeconfig'),
    controllerManager: join(dataDir, 'controller-manager.kubeconfig'),
    kubelet: join(dataDir, 'kubelet.kubeconfig'),
  };
  // The three keys are generated side by side on the thread pool.
  await Promise.all([
    credentials.writeCertificateKubeconfig(paths.scheduler, server, { username: KUBE_SCHEDULER_USER, groups: [] }, VALIDITY_DAYS),
    credentials.writeCertificateKubeconfig(paths.controllerManager, server, { username: KUBE_CONTROLLER_MANAGER_USER, groups: [] }, VALIDITY_DAYS),
    credentials.writeCertificateKubeconfig(paths.kubelet, server, { username: KUBELET_WATCHER_USER, groups: [] }, VALIDITY_DAYS),
  ]);
  const nodesDir = join(dataDir, 'nodes');
  await mkdir(nodesDir, { recursive: true, mode: 0o700 });
  const node = (name: string) => join(nodesDir, `${name}.kubeconfig`);
  // In batches: a few thousand nodes should not open a few thousand files at once.
  for (let i = 0; i < nodeNames.length; i += 64) {
    await Promise.all(nodeNames.slice(i, i + 64).map((name) => credentials.writeTokenKubeconfig(
      node(name), server, { username: `${NODE_USER_PREFIX}${name}`, groups: [NODES_GROUP] }, VALIDITY_DAYS * 24 * 3600,
    )));
  }
  return { ...paths, node };
}
