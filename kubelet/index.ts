// Runs many simulated kubelets in one process. All nodes share one pod watch (`spec.nodeName!=`, filtered here by
// node name) and one node watch: a thousand nodes cost two API connections, not two thousand, and the API server
// serialises each pod event once for this process instead of once per node.
// With per-node credentials (nodeKubeconfig), each node writes as itself (`system:node:<name>`), so the API server's
// Node authorizer and NodeRestriction confine it to its own Node, Lease and pods; the two shared watches stay on the
// process's own kubeconfig, whose identity only needs to read nodes and pods. A single node needs no second
// identity: it lists and watches only its own Node and pods, as a real kubelet does.
import type { StaticPodSpec } from './static-pods.ts';
import { KUBELET_BACKOFF } from './crash-loop-backoff.ts';
import { EventRecorder } from './event-recorder.ts';
import type { ImagePullDelay } from './images.ts';
import { closeConnections, connect } from './kube-client.ts';
import { nodeLoopbackIp, nodeName, nodePodCidr, nodePodCidrV6 } from './node-addressing.ts';
import { NodeAgent, type NodeAgentTiming } from './node-agent.ts';
import type { RegistrationTaint } from './node-object.ts';
import type { Logger } from './pod-worker.ts';
import { KubeletEndpoints } from './log-server.ts';
import { createKubeletServingCert } from './serving-cert.ts';
import { ApiServerDelegatedAuth, clusterCaPem } from './request-auth.ts';
import { ServiceEnvironment } from './service-environment.ts';
import { startSharedWatches, type SharedWatches } from './shared-watches.ts';
import { showHiddenMetrics as showHiddenMetricsFor } from './resource-metrics.ts';

export type { Logger } from './pod-worker.ts';
export type { StaticPodSpec } from './static-pods.ts';
export { EXIT_AFTER_ANNOTATION, EXIT_CODE_ANNOTATION } from './container-behaviour.ts';

export interface RunKubeletsOptions {
  /** The process's connection: the shared node and pod watches (and everything, without nodeKubeconfig). */
  kubeconfigPath: string;
  /** Per-node credentials: the kubeconfig each node writes with (its own `system:node:<name>` identity). */
  nodeKubeconfig?: (nodeName: string) => string;
  nodeCount: number;
  /** Node names are `<prefix><two-digit index>`: node01, node02 … */
  namePrefix?: string;
  /** Index of the first node; lets several processes share a cluster without clashing names and addresses. */
  firstIndex?: number;
  cpu?: string;
  memory?: string;
  pods?: number;
  /** Extra labels every node registers with (the kubelet's --node-labels). */
  nodeLabels?: Record<string, string>;
  /** Taints every node registers with (the kubelet's --register-with-taints). */
  registerWithTaints?: RegistrationTaint[];
  /** Simulated pull time per image; default 0.5–2.5 s, stable per image. */
  imagePullDelayMs?: ImagePullDelay;
  leaseRenewIntervalMs?: number;
  statusUpdateIntervalMs?: number;
  statusReportIntervalMs?: number;
  /** Port of each node's HTTPS endpoint on its own loopback IP; 10250 as a real kubelet, 0 for any free port. */
  kubeletPort?: number;
  /** Pause between a container's image being ready and its creation. */
  stepDelayMs?: number;
  /** Time a running container takes to stop on deletion (bounded by the grace period). */
  stopDelayMs?: number;
  initContainerRunMs?: number;
  /** CrashLoopBackOff start and cap (kubelet: 10 s and 5 min). */
  crashLoopBackOffInitialMs?: number;
  crashLoopBackOffMaxMs?: number;
  logger?: Logger;
  /** klog's --v: at 2, the sync loop's pod additions and removals and each container start are logged. */
  verbosity?: number;
  /**
   * Dual-stack pod network: every node also gets an IPv6 /64 (podCIDRs [IPv4, IPv6]) and every pod not on the host
   * network an IPv6 address beside its IPv4 one (status.podIPs). Off: IPv4 only, as before.
   */
  dualStack?: boolean;
  /** The kubelet's --show-hidden-metrics-for-version: only the previous minor release ('1.31') is accepted. */
  showHiddenMetricsForVersion?: string;
  /** Static pods of the first node (the control plane `up` runs in this process), mirrored into kube-system. */
  staticPods?: StaticPodSpec[];
}

export interface RunningKubelets {
  nodes: string[];
  stop(): Promise<void>;
}

/** How long stop() lets queued events drain. */
const STOP_EVENT_FLUSH_MS = 5_000;

const consoleLogger: Logger = {
  info: (message) => console.log(`kubelet: ${message}`),
  warn: (message) => console.warn(`kubelet: ${message}`),
};

export async function runKubelets(options: RunKubeletsOptions): Promise<RunningKubelets> {
  // Checked before anything starts, as component-base validates its flags.
  const showHiddenMetrics = showHiddenMetricsFor(options.showHiddenMetricsForVersion);
  const logger = options.logger ?? consoleLogger;
  const clients = connect(options.kubeconfigPath);
  // One event queue for the process: a bounded number of event writes in flight across all nodes.
  const events = new EventRecorder(clients.writes, 'kubelet', logger);
  const firstIndex = options.firstIndex ?? 1;
  const timing: NodeAgentTiming = {
    leaseRenewIntervalMs: options.leaseRenewIntervalMs ?? 10_000,
    statusUpdateIntervalMs: options.statusUpdateIntervalMs ?? 10_000,
    statusReportIntervalMs: options.statusReportIntervalMs ?? 60_000,
    stepDelayMs: options.stepDelayMs ?? 100,
    stopDelayMs: options.stopDelayMs ?? 500,
    initContainerRunMs: options.initContainerRunMs ?? 1000,
    retryDelayMs: 1000,
    backoff: {
      initialMs: options.crashLoopBackOffInitialMs ?? KUBELET_BACKOFF.initialMs,
      maxMs: options.crashLoopBackOffMaxMs ?? KUBELET_BACKOFF.maxMs,
    },
  };
  const specs = Array.from({ length: options.nodeCount }, (_, offset) => {
    const index = firstIndex + offset;
    return {
      name: nodeName(options.namePrefix ?? 'node', index), index,
      internalIp: nodeLoopbackIp(index), podCidr: nodePodCidr(index), ...(options.dualStack ? { podCidrV6: nodePodCidrV6(index) } : {}),
      kubeletPort: options.kubeletPort ?? 10250,
      cpu: options.cpu ?? '4', memory: options.memory ?? '8Gi', pods: options.pods ?? 110,
      extraLabels: options.nodeLabels, taints: options.registerWithTaints,
    };
  });
  const cert = createKubeletServingCert({ names: specs.map((s) => s.name), ips: specs.map((s) => s.internalIp) });
  const endpoints = new KubeletEndpoints(cert, clusterCaPem(clients.config));

  const agents = new Map<string, NodeAgent>();
  const services = new ServiceEnvironment();
  for (const spec of specs) {
    // Bearer tokens travel per request: every node identity can share the process's connections.
    const nodeClients = options.nodeKubeconfig ? connect(options.nodeKubeconfig(spec.name), clients.pools) : clients;
    agents.set(spec.name, new NodeAgent({
      spec, clients: nodeClients, events, endpoints, auth: new ApiServerDelegatedAuth(nodeClients.config), imagePullDelay: options.imagePullDelayMs, timing, logger, services,
      ...(spec.index === firstIndex && options.staticPods ? { staticPods: options.staticPods } : {}),
      verbosity: options.verbosity ?? 0,
      showHiddenMetrics,
    }));
  }
  let watches: SharedWatches | undefined;
  try {
    // Registration runs in small batches so a large process does not open hundreds of requests at once.
    const all = [...agents.values()];
    for (let i = 0; i < all.length; i += 16) await Promise.all(all.slice(i, i + 16).map((agent) => agent.start()));

    // Failed lists and watches are retried (with back-off) inside, so this waits out an API server restart.
    watches = startSharedWatches(clients.config, agents, logger, services);
    await watches.synced;
  } catch (error) {
    await watches?.stop();
    await Promise.all([...agents.values()].map((agent) => agent.stop()));
    endpoints.close();
    throw error;
  }

  return {
    nodes: [...agents.keys()],
    async stop() {
      await watches?.stop();
      await Promise.all([...agents.values()].map((agent) => agent.stop()));
      // Events still queued get a few seconds to go out; a stopping kubelet does not wait for a backlog (upstream's
      // broadcaster just ends with the process).
      await Promise.race([events.flush(), new Promise<void>((resolve) => setTimeout(resolve, STOP_EVENT_FLUSH_MS).unref())]);
      endpoints.close();
      closeConnections(clients);
    },
  };
}
