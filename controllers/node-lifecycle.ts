// The node lifecycle controller: watches Nodes and their Leases in kube-node-lease; a node whose kubelet has been
// silent (no lease renewal, no Ready heartbeat) for the grace period gets its kubelet conditions set to Unknown and
// the node.kubernetes.io/unreachable NoSchedule and NoExecute taints; the taints go once Ready is True again.
// Pods are not marked NotReady here; the NoExecute taint is what evicts them, through the taint eviction controller
// (controllers/taint-eviction/) once their tolerations (300 s by default, DefaultTolerationSeconds) run out.
import {
  CoordinationV1Api, CoreV1Api, ListWatch, PatchStrategy, Watch, setHeaderOptions,
  type CoreV1Event, type Informer, type KubernetesObject, type V1Lease, type V1Node,
} from '@kubernetes/client-node';
import {
  isSilent, markConditionsUnknown, observeNode, reconcileTaints,
  type Condition, type HealthObservation, type Taint,
} from './node-health.ts';
import { loadKubeConfig } from '../clients/keep-alive-kubeconfig.ts';
import { componentUserAgent } from '../clients/user-agent.ts';

export interface ControllerLogger {
  info(message: string): void;
  warn(message: string): void;
}

export interface NodeLifecycleOptions {
  kubeconfigPath: string;
  /** --node-monitor-grace-period (40 s). */
  gracePeriodSeconds?: number;
  /** --node-monitor-period (5 s). */
  monitorPeriodSeconds?: number;
  logger?: ControllerLogger;
}

export interface RunningController {
  stop(): Promise<void>;
}

const MERGE_PATCH = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const LEASE_NAMESPACE = 'kube-node-lease';

/** Informer objects come deserialised (Date) from lists and as raw JSON strings from watches: compare by instant. */
function instant(value: unknown): string | undefined {
  if (value instanceof Date) return String(value.getTime());
  if (typeof value === 'string') return String(Date.parse(value));
  return undefined;
}

function iso(value: unknown): string | undefined {
  if (value instanceof Date) return value.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return typeof value === 'string' ? value : undefined;
}

function plainConditions(node: V1Node): Condition[] {
  return (node.status?.conditions ?? []).map((condition) => ({
    type: condition.type, status: condition.status, reason: condition.reason, message: condition.message,
    lastHeartbeatTime: iso(condition.lastHeartbeatTime), lastTransitionTime: iso(condition.lastTransitionTime),
  }));
}

function plainTaints(node: V1Node): Taint[] {
  return (node.spec?.taints ?? []).map((taint) => {
    const plain: Taint = { key: taint.key, effect: taint.effect };
    if (taint.value !== undefined) plain.value = taint.value;
    const added = iso(taint.timeAdded);
    if (added) plain.timeAdded = added;
    return plain;
  });
}

function keepRunning<T extends KubernetesObject>(informer: Informer<T>, what: string, logger: ControllerLogger): () => Promise<void> {
  let stopped = false;
  let delayMs = 200;
  let timer: NodeJS.Timeout | undefined;
  informer.on('error', (error?: unknown) => {
    if (stopped) return;
    logger.warn(`${what} watch failed (${String((error as Error | undefined)?.message ?? error)}); retrying in ${delayMs}ms`);
    timer = setTimeout(() => void informer.start().catch(() => undefined), delayMs);
    delayMs = Math.min(delayMs * 2, 5000);
  });
  informer.on('add', () => { delayMs = 200; });
  informer.on('update', () => { delayMs = 200; });
  return async () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    await informer.stop();
  };
}

export async function runNodeLifecycleController(options: NodeLifecycleOptions): Promise<RunningController> {
  const logger = options.logger ?? {
    info: (message: string) => console.log(`node-lifecycle-controller: ${message}`),
    warn: (message: string) => console.warn(`node-lifecycle-controller: ${message}`),
  };
  const gracePeriodMs = (options.gracePeriodSeconds ?? 40) * 1000;
  const monitorPeriodMs = (options.monitorPeriodSeconds ?? 5) * 1000;
  // Its writes are recorded under kube-controller-manager's field manager, where upstream's node lifecycle controller runs.
  const config = loadKubeConfig(options.kubeconfigPath, undefined, componentUserAgent('kube-controller-manager'));
  const core = config.makeApiClient(CoreV1Api);
  const coordination = config.makeApiClient(CoordinationV1Api);
  const watch = new Watch(config);
  const nodes = new ListWatch<V1Node>('/api/v1/nodes', watch, () => core.listNode(), false);
  const leases = new ListWatch<V1Lease>(`/apis/coordination.k8s.io/v1/namespaces/${LEASE_NAMESPACE}/leases`, watch,
    () => coordination.listNamespacedLease({ namespace: LEASE_NAMESPACE }), false);
  const observations = new Map<string, HealthObservation>();
  nodes.on('delete', (node) => observations.delete(node.metadata?.name ?? ''));
  const stoppers = [keepRunning(nodes, 'node', logger), keepRunning(leases, 'lease', logger)];
  await nodes.start();
  await leases.start();

  const recordNotReady = async (node: V1Node): Promise<void> => {
    const name = node.metadata!.name!;
    const now = iso(new Date())!;
    const body = {
      metadata: { name: `${name}.${(BigInt(Date.now()) * 1_000_000n).toString(16)}`, namespace: 'default' },
      involvedObject: { kind: 'Node', name, uid: node.metadata?.uid ?? name, apiVersion: 'v1' },
      reason: 'NodeNotReady', message: `Node ${name} status is now: NodeNotReady`, type: 'Normal',
      source: { component: 'node-controller' }, reportingComponent: 'node-controller', reportingInstance: '',
      firstTimestamp: now, lastTimestamp: now, count: 1,
    };
    await core.createNamespacedEvent({ namespace: 'default', body: body as unknown as CoreV1Event });
  };

  const monitorNode = async (node: V1Node, nowMs: number): Promise<void> => {
    const name = node.metadata?.name;
    if (!name) return;
    const conditions = plainConditions(node);
    const ready = conditions.find((condition) => condition.type === 'Ready');
    const lease = leases.get(name, LEASE_NAMESPACE);
    const observation = observeNode(observations.get(name), instant(lease?.spec?.renewTime), instant(ready?.lastHeartbeatTime), nowMs);
    observations.set(name, observation);
    let readyStatus = ready?.status;
    let resourceVersion = node.metadata?.resourceVersion;
    if (isSilent(observation, nowMs, gracePeriodMs)) {
      const unknown = markConditionsUnknown(conditions, nowMs);
      if (unknown) {
        const updated = await core.patchNodeStatus({ name, body: { status: { conditions: unknown } } }, MERGE_PATCH);
        // The taint update below is conditional on the node's version; ours just changed it.
        resourceVersion = updated.metadata?.resourceVersion;
        logger.info(`node ${name} stopped posting status; conditions set to Unknown`);
        if (readyStatus === 'True') await recordNotReady(node).catch((error: unknown) => logger.warn(`event for node ${name}: ${String(error)}`));
        readyStatus = 'Unknown';
      }
    }
    const taints = reconcileTaints(plainTaints(node), readyStatus, nowMs);
    if (taints) {
      // resourceVersion makes this an optimistic update: a concurrent taint change wins and we retry next period.
      await core.patchNode({ name, body: { metadata: { resourceVersion }, spec: { taints } } }, MERGE_PATCH);
      logger.info(`node ${name} taints now: ${taints.map((taint) => `${taint.key}:${taint.effect}`).join(', ') || 'none'}`);
    }
  };

  let running = false;
  const monitor = async (): Promise<void> => {
    if (running) return;
    running = true;
    try {
      const nowMs = Date.now();
      for (const node of nodes.list()) {
        await monitorNode(node, nowMs).catch((error: unknown) => logger.warn(`node ${node.metadata?.name}: ${String(error)}`));
      }
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void monitor(), monitorPeriodMs);
  return {
    async stop() {
      clearInterval(timer);
      await Promise.all(stoppers.map((stop) => stop()));
      config.closeConnections();
    },
  };
}
