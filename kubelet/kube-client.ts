// The kubelet's connection to the API server: a kubeconfig file and the typed client-node APIs it needs.
import { CoordinationV1Api, CoreV1Api, NodeV1Api, HttpInfo, PatchStrategy, ResponseContext, ServerConfiguration, createConfiguration,
  setHeaderOptions, type CoreV1Event, type V1Pod } from '@kubernetes/client-node';
// Not re-exported by the package root; the generated module is the one CoreV1Api itself uses.
import { CoreV1ApiResponseProcessor } from '@kubernetes/client-node/dist/gen/apis/CoreV1Api.js';
import { loadKubeConfig, MAX_POOLED_CONNECTIONS, type AgentPool, type KeepAliveKubeConfig } from '../clients/keep-alive-kubeconfig.ts';
import { componentUserAgent } from '../clients/user-agent.ts';
import { WriteSlots } from './write-slots.ts';

/** The kubelet's writes are recorded under the field manager "kubelet", as a real kubelet's are. */
export const KUBELET_USER_AGENT = componentUserAgent('kubelet');

/** The writes a pod worker fires and forgets: only success or failure matters, never the returned object. */
export interface KubeletWrites {
  patchPodStatus(namespace: string, name: string, status: object): Promise<void>;
  createEvent(namespace: string, body: object): Promise<void>;
  patchEvent(namespace: string, name: string, body: object): Promise<void>;
  /** DELETE with gracePeriodSeconds=0 and a UID precondition (the kubelet's confirmation of a graceful delete). */
  confirmPodDeletion(namespace: string, name: string, uid: string): Promise<void>;
}

export interface KubeletClients {
  /** The heartbeat identity: registration, node status and leases (and the process's reads). */
  config: KeepAliveKubeConfig;
  core: CoreV1Api;
  coordination: CoordinationV1Api;
  /** RuntimeClass reads (node.k8s.io/v1), before a pod's sandbox is created. */
  node: NodeV1Api;
  /** Pod status, events and deletion confirmations, on their own connections (see KubeletPools). */
  writes: KubeletWrites;
  pools: KubeletPools;
}

/**
 * A kubelet process's two connection pools, shared by all its nodes. The kubelet gives node heartbeats (leases and node
 * status) a client of their own, so they never wait behind pod work, nor pod work behind them. One pool for everything
 * was a single FIFO for 5,000 nodes: once the server answered slower than 256 connections / 500 renewals a second
 * (~0.5 s, reached at 100,000 pods), the queued renewals filled every connection (sampled: 256 of 256 in flight were
 * lease PUTs) and pod status writes waited behind thousands of them; pods stopped reaching Running.
 */
export interface KubeletPools {
  heartbeats: AgentPool;
  writes: AgentPool;
}

/** client-node 1.x picks application/json-patch+json for every patch unless told otherwise. */
export const MERGE_PATCH = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/**
 * Answers of the fire-and-forget writes are drained but not decoded. client-node parses every answer into its typed
 * model (a whole V1Pod per status patch, walked field by field with Date conversions): measured as the kubelet's
 * largest CPU item after TLS, for objects nobody reads. Errors still go through client-node's own handling, so callers
 * see the same ApiException (code, body) as before.
 */
class DrainedSuccessResponses extends CoreV1ApiResponseProcessor {
  private static async drained<T>(response: ResponseContext, decode: (response: ResponseContext) => Promise<HttpInfo<T>>): Promise<HttpInfo<T>> {
    if (response.httpStatusCode < 200 || response.httpStatusCode > 299) return decode(response);
    // Reading the body to its end is what returns the connection to the keep-alive pool.
    await response.body.binary();
    return new HttpInfo<T>(response.httpStatusCode, response.headers, response.body, undefined as T);
  }

  override patchNamespacedPodStatusWithHttpInfo(response: ResponseContext): Promise<HttpInfo<V1Pod>> {
    return DrainedSuccessResponses.drained(response, (r) => super.patchNamespacedPodStatusWithHttpInfo(r));
  }

  override createNamespacedEventWithHttpInfo(response: ResponseContext): Promise<HttpInfo<CoreV1Event>> {
    return DrainedSuccessResponses.drained(response, (r) => super.createNamespacedEventWithHttpInfo(r));
  }

  override patchNamespacedEventWithHttpInfo(response: ResponseContext): Promise<HttpInfo<CoreV1Event>> {
    return DrainedSuccessResponses.drained(response, (r) => super.patchNamespacedEventWithHttpInfo(r));
  }

  override deleteNamespacedPodWithHttpInfo(response: ResponseContext): Promise<HttpInfo<V1Pod>> {
    return DrainedSuccessResponses.drained(response, (r) => super.deleteNamespacedPodWithHttpInfo(r));
  }
}

/** A CoreV1Api like config.makeApiClient(CoreV1Api) builds, but with the draining response processor. */
function writeOnlyCoreApi(config: KeepAliveKubeConfig): CoreV1Api {
  const cluster = config.getCurrentCluster();
  if (!cluster) throw new Error('No active cluster!');
  const configuration = createConfiguration({ baseServer: new ServerConfiguration(cluster.server, {}), authMethods: { default: config } });
  return new CoreV1Api(configuration, undefined, new DrainedSuccessResponses());
}

/**
 * Shared by every node of the process (each node has its own clients for its own identity). Three quarters of the
 * writes pool's connections: a bound on pending requests (each holds client-node machinery), not a share of the server.
 */
const processWrites = new WriteSlots(Math.floor(MAX_POOLED_CONNECTIONS * 0.75));

function kubeletWrites(core: CoreV1Api): KubeletWrites {
  return {
    async patchPodStatus(namespace, name, status) {
      await processWrites.run(() => core.patchNamespacedPodStatus({ name, namespace, body: { status } }, MERGE_PATCH));
    },
    async createEvent(namespace, body) {
      await processWrites.run(() => core.createNamespacedEvent({ namespace, body: body as CoreV1Event }));
    },
    async patchEvent(namespace, name, body) {
      await processWrites.run(() => core.patchNamespacedEvent({ name, namespace, body }, MERGE_PATCH));
    },
    async confirmPodDeletion(namespace, name, uid) {
      await processWrites.run(() => core.deleteNamespacedPod({
        name, namespace, gracePeriodSeconds: 0, body: { gracePeriodSeconds: 0, preconditions: { uid } },
      }));
    },
  };
}

/** `pools`: share connections with other clients of the process (per-node identities); new pools when omitted. */
export function connect(kubeconfigPath: string, pools?: KubeletPools): KubeletClients {
  const config = loadKubeConfig(kubeconfigPath, pools?.heartbeats, KUBELET_USER_AGENT);
  const writesConfig = loadKubeConfig(kubeconfigPath, pools?.writes, KUBELET_USER_AGENT);
  return {
    config, core: config.makeApiClient(CoreV1Api), coordination: config.makeApiClient(CoordinationV1Api), node: config.makeApiClient(NodeV1Api),
    writes: kubeletWrites(writeOnlyCoreApi(writesConfig)),
    pools: { heartbeats: config.pool, writes: writesConfig.pool },
  };
}

/** Closes both pools' connections. */
export function closeConnections(clients: KubeletClients): void {
  clients.pools.heartbeats.destroy();
  clients.pools.writes.destroy();
}

/** HTTP status of a client-node ApiException, if that is what was thrown. */
export function statusCodeOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'number' ? code : undefined;
}

/** MicroTime (`2024-05-01T10:00:00.123456Z`) as leases carry it. */
export function microTime(): string {
  const micros = Math.floor((performance.timeOrigin + performance.now()) * 1000);
  const iso = new Date(Math.floor(micros / 1000)).toISOString();
  return `${iso.slice(0, 19)}.${String(micros % 1_000_000).padStart(6, '0')}Z`;
}
