// The process's watches, shared by all its nodes: Nodes (conditions for status checks, deletions for
// re-registration), bound pods (started, updated and stopped on the node they are bound to) and Services (the
// variables of containers' environments).
//
// They run on the lean JSON informer, not client-node's ListWatch: a ListWatch caches every object it has seen, typed
// (about 23 KiB of heap per pod), and at 150,000 pods that cache alone was several GiB. Here the informer remembers
// key → uid, and each pod's worker keeps only its PodView and container slots.
import type { KubeConfig, KubernetesObject, V1Node, V1Pod } from '@kubernetes/client-node';
import type { ServiceEnvironment } from './service-environment.ts';
import { JsonApiClient } from '../clients/json-api-client.ts';
import { startLeanInformer, type InformerLogger, type LeanInformer } from '../clients/lean-informer.ts';
import { KUBELET_USER_AGENT } from './kube-client.ts';
import type { NodeAgent } from './node-agent.ts';
import type { Logger } from './pod-worker.ts';

/** What the watches call on a node of this process (a NodeAgent). */
export type WatchedNode = Pick<NodeAgent, 'nodeObserved' | 'nodeDeleted' | 'podChanged' | 'podDeleted' | 'hasPod'>;

export interface SharedWatches {
  /** Resolves once both watches have delivered their first list. */
  synced: Promise<void>;
  stop(): Promise<void>;
}

/** How long pods wait for the first list of services at start. */
const SERVICE_SYNC_WAIT_MS = 10_000;

function informerLogger(what: string, logger: Logger): InformerLogger {
  const text = (message: string, fields?: Record<string, unknown>): string =>
    `${what} ${message}${fields ? ` ${JSON.stringify(fields)}` : ''}`;
  return {
    info: (message, fields) => logger.info(text(message, fields)),
    error: (message, fields) => logger.warn(text(message, fields)),
  };
}

/**
 * Starts the node watch, then (once it has synced) the pod watch: a pod's first status check may then already read the
 * node's conditions from the node watch. `config` is the process's own identity, which only reads nodes and pods;
 * the nodes write with their own.
 */
export function startSharedWatches(config: KubeConfig, agents: ReadonlyMap<string, WatchedNode>, logger: Logger, services?: ServiceEnvironment): SharedWatches {
  const client = new JsonApiClient(config, KUBELET_USER_AGENT);
  // One node reads only its own Node and pods (all a node identity may read, and exactly what the API server can
  // filter); many share the process's view of every Node and every bound pod, and keep their own.
  const single = agents.size === 1 ? [...agents.keys()][0] : undefined;
  const nodeSelector = single === undefined ? undefined : `metadata.name=${single}`;
  const podSelector = single === undefined ? 'spec.nodeName!=' : `spec.nodeName=${single}`;

  const nodeInformer = startLeanInformer<V1Node>(client, '/api/v1/nodes', nodeSelector, {
    add: (node) => agents.get(node.metadata?.name ?? '')?.nodeObserved(node),
    update: (node) => agents.get(node.metadata?.name ?? '')?.nodeObserved(node),
    delete: (node) => agents.get(node.metadata?.name ?? '')?.nodeDeleted(),
  }, informerLogger('node watch:', logger));

  // Services, for the variables containers get (the kubelet's service informer; a node may read them all).
  const serviceInformer = services && startLeanInformer<KubernetesObject>(client, '/api/v1/services', undefined, {
    add: (service) => services.changed(service),
    update: (service) => services.changed(service),
    delete: (service) => services.deleted(service),
  }, informerLogger('service watch:', logger));

  const agentFor = (pod: V1Pod): WatchedNode | undefined => agents.get(pod.spec?.nodeName ?? '');
  /** A relist's tombstone carries no spec: the node is the one whose agent knows the uid (rare, so a scan is fine). */
  const agentHolding = (uid: string): WatchedNode | undefined => [...agents.values()].find((agent) => agent.hasPod(uid));
  let podInformer: LeanInformer | undefined;
  let stopped = false;
  // The kubelet does not start containers before its services are listed (their variables would be missing), but an
  // identity that may not read services (a restricted RBAC policy) must not keep it from running pods at all.
  const servicesListed = serviceInformer && new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      logger.warn(`service watch: services not listed after ${SERVICE_SYNC_WAIT_MS / 1000} s; starting pods without waiting (their containers may lack service variables)`);
      resolve();
    }, SERVICE_SYNC_WAIT_MS);
    timer.unref();
    void serviceInformer.synced.then(() => {
      clearTimeout(timer);
      resolve();
    });
  });
  const podsSynced = Promise.all([nodeInformer.synced, servicesListed]).then(() => {
    if (stopped) return;
    podInformer = startLeanInformer<V1Pod>(client, '/api/v1/pods', podSelector, {
      add: (pod) => agentFor(pod)?.podChanged(pod),
      update: (pod) => agentFor(pod)?.podChanged(pod),
      delete: (pod, finalStateUnknown) => {
        const uid = pod.metadata?.uid;
        if (!uid) return;
        (finalStateUnknown ? agentHolding(uid) : agentFor(pod))?.podDeleted(uid);
      },
    }, informerLogger('pod watch:', logger));
    return podInformer.synced;
  });

  return {
    synced: podsSynced,
    async stop() {
      stopped = true;
      await Promise.all([nodeInformer.stop(), podInformer?.stop(), serviceInformer?.stop()]);
      client.close();
    },
  };
}
