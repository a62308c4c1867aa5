// The bundled scheduler: an ordinary API client (kubeconfig + a lean JSON client over HTTPS) that watches nodes and
// pods, decides placements one pod at a time, and binds asynchronously.
import type { V1Node, V1PersistentVolumeClaim, V1Pod, V1PodDisruptionBudget, V1StorageClass } from '@kubernetes/client-node';
import { ApiStatusError, JsonApiClient } from '../clients/json-api-client.ts';
import { loadKubeConfig } from '../clients/keep-alive-kubeconfig.ts';
import { startLeanInformer, type LeanInformer } from '../clients/lean-informer.ts';
import { formatSchedulingDecision, SCHEDULING_DECISION_HEADER, type SchedulingDecision } from '../clients/scheduling-decision-header.ts';
import { componentUserAgent } from '../clients/user-agent.ts';
import { SchedulingAlgorithm } from './algorithm.ts';
import { isTerminal, podKey, SchedulerCache } from './cache.ts';
import { EventRecorder, jsonEventSink, type EventLogger } from './event-recorder.ts';
import { podSchedulingInfo } from './filters.ts';
import type { ClaimLookup } from './volume-binding.ts';
import { describePodOnNode, podIdentity, podOnNode } from './node-info.ts';
import { Nominator } from './nominator.ts';
import { disruptionBudget, executePreemption } from './preemption-executor.ts';
import type { DisruptionBudget } from './preemption.ts';
import { SchedulingQueue, type QueuedPod } from './queue.ts';
import { SchedulerMetrics, serveSchedulerMetrics } from './metrics.ts';
import { DelegatedAuth } from '../clients/delegated-auth.ts';

export type SchedulerLogger = EventLogger;

export interface SchedulerOptions {
  kubeconfigPath: string;
  schedulerName?: string;
  /** 0 or undefined: adaptive, as kube-scheduler's default. */
  percentageOfNodesToScore?: number;
  /** Maximum bindings (POST pods/binding) in flight at once; scheduling continues while they run. */
  parallelism?: number;
  logger?: SchedulerLogger;
  /** klog's --v: at 2, one line per scheduling decision ("Successfully bound pod to node"). */
  verbosity?: number;
  /** Serve GET /metrics over HTTPS on this host:port (port 0: any free port), authorised by delegation; unset: no listener. */
  metricsBindAddress?: { host: string; port: number };
}

export interface RunningScheduler {
  stop(): Promise<void>;
  /** The scheduler's metrics (what GET /metrics serves). */
  readonly metrics?: SchedulerMetrics;
  /** The port of the metrics listener, when one was asked for. */
  readonly metricsPort?: number;
}

/**
 * Bindings in flight by default. kube-scheduler binds each pod in its own goroutine with no cap; a
 * bound keeps a slow API server from piling up unbounded requests, and at this size the scheduler is
 * never waiting for a slot while the server keeps up.
 */
export const DEFAULT_BINDING_PARALLELISM = 64;

const consoleLogger: SchedulerLogger = {
  info: (message, fields) => console.error(JSON.stringify({ level: 'info', component: 'scheduler', message, ...fields })),
  error: (message, fields) => console.error(JSON.stringify({ level: 'error', component: 'scheduler', message, ...fields })),
};

function errorCode(err: unknown): number | undefined {
  return err instanceof ApiStatusError ? err.code : undefined;
}

function podPath(pod: V1Pod, subresource: string): string {
  const namespace = encodeURIComponent(pod.metadata?.namespace ?? 'default');
  return `/api/v1/namespaces/${namespace}/pods/${encodeURIComponent(pod.metadata?.name ?? '')}/${subresource}`;
}

export async function runScheduler(options: SchedulerOptions): Promise<RunningScheduler> {
  const schedulerName = options.schedulerName ?? 'default-scheduler';
  const logger = options.logger ?? consoleLogger;
  const maxBindingsInFlight = Math.max(1, options.parallelism || DEFAULT_BINDING_PARALLELISM);
  const kubeConfig = loadKubeConfig(options.kubeconfigPath);
  const client = new JsonApiClient(kubeConfig, componentUserAgent('kube-scheduler'));
  const cache = new SchedulerCache();
  const queue = new SchedulingQueue();
  const algorithm = new SchedulingAlgorithm({ percentageOfNodesToScore: options.percentageOfNodesToScore });
  const metrics = new SchedulerMetrics(schedulerName, () => queue.pendingCounts);
  const recorder = new EventRecorder(jsonEventSink(client), schedulerName, logger);
  const nominator = new Nominator();
  const budgets = new Map<string, DisruptionBudget>();
  /** The budgets as the cycles read them, rebuilt only after a change. */
  let budgetList: DisruptionBudget[] | undefined;
  const background = new Set<Promise<void>>();
  let bindingsInFlight = 0;
  let bindingSlotFreed: (() => void) | undefined;
  let stopped = false;

  const track = (work: Promise<void>): void => {
    background.add(work);
    void work.finally(() => background.delete(work));
  };

  const nodeInformer = startLeanInformer<V1Node>(client, '/api/v1/nodes', undefined, {
    add: (node) => {
      cache.addOrUpdateNode(node);
      queue.moveAllToActiveOrBackoff();
    },
    update: (node) => {
      const before = cache.getNodeInfo(node.metadata?.name ?? '');
      const signatureBefore = before?.node ? before.schedulingSignature : undefined;
      cache.addOrUpdateNode(node);
      const after = cache.getNodeInfo(node.metadata?.name ?? '');
      if (signatureBefore === undefined || signatureBefore !== after?.schedulingSignature) queue.moveAllToActiveOrBackoff();
    },
    delete: (node) => cache.removeNode(node.metadata?.name ?? ''),
  }, logger);

  // One informer for all pods, as kube-scheduler's shared pod informer: a binding arrives as one MODIFIED
  // event that both leaves the queue and enters the cache, instead of a DELETED and an ADDED on two watches.
  const responsibleFor = (pod: V1Pod): boolean => (pod.spec?.schedulerName || 'default-scheduler') === schedulerName;
  const onAssigned = (pod: V1Pod): void => {
    queue.delete(pod);
    nominator.remove(podKey(pod));
    cache.addOrUpdateAssignedPod(pod);
    if (isTerminal(pod)) queue.moveAllToActiveOrBackoff();
  };
  const onPending = (pod: V1Pod): void => {
    if (!responsibleFor(pod)) return;
    if (pod.metadata?.deletionTimestamp || isTerminal(pod)) {
      queue.delete(pod);
      nominator.remove(podKey(pod));
      return;
    }
    if (!cache.isAssumed(pod)) queue.addOrUpdate(pod);
    // A nomination recorded in the pod's status (by this scheduler before a restart, or another replica).
    const nominated = pod.status?.nominatedNodeName;
    if (nominated && nominator.nominatedNode(podKey(pod)) === undefined) nominator.nominate(podKey(pod), nominated, describePodOnNode(pod));
  };
  const onPod = (pod: V1Pod): void => {
    if (pod.spec?.nodeName) onAssigned(pod);
    else onPending(pod);
  };
  const podInformer = startLeanInformer<V1Pod>(client, '/api/v1/pods', undefined, {
    add: onPod,
    update: onPod,
    delete: (pod) => {
      queue.delete(pod);
      nominator.remove(podKey(pod));
      // Relist tombstones carry no spec: whether the pod was placed is the cache's to say.
      if (pod.spec?.nodeName || (!pod.spec && cache.isPlaced(pod))) {
        cache.removePod(pod);
        queue.moveAllToActiveOrBackoff();
      }
    },
  }, logger);

  // PodDisruptionBudgets, which preemption tries not to violate.
  const budgetKey = (pdb: V1PodDisruptionBudget): string => `${pdb.metadata?.namespace}/${pdb.metadata?.name}`;
  const pdbInformer = startLeanInformer<V1PodDisruptionBudget>(client, '/apis/policy/v1/poddisruptionbudgets', undefined, {
    add: (pdb) => {
      budgets.set(budgetKey(pdb), disruptionBudget(pdb));
      budgetList = undefined;
    },
    update: (pdb) => {
      budgets.set(budgetKey(pdb), disruptionBudget(pdb));
      budgetList = undefined;
    },
    delete: (pdb) => {
      budgets.delete(budgetKey(pdb));
      budgetList = undefined;
    },
  }, logger);

  // VolumeBinding's PreFilter reads claims and storage classes; a change may make a waiting pod schedulable.
  const claims = new Map<string, V1PersistentVolumeClaim>();
  const storageClasses = new Map<string, V1StorageClass>();
  const claimKey = (claim: V1PersistentVolumeClaim): string => `${claim.metadata?.namespace}/${claim.metadata?.name}`;
  const claimInformer = startLeanInformer<V1PersistentVolumeClaim>(client, '/api/v1/persistentvolumeclaims', undefined, {
    add: (claim) => {
      claims.set(claimKey(claim), claim);
      queue.moveAllToActiveOrBackoff();
    },
    update: (claim) => {
      claims.set(claimKey(claim), claim);
      queue.moveAllToActiveOrBackoff();
    },
    delete: (claim) => { claims.delete(claimKey(claim)); },
  }, logger);
  const classInformer = startLeanInformer<V1StorageClass>(client, '/apis/storage.k8s.io/v1/storageclasses', undefined, {
    add: (sc) => { storageClasses.set(sc.metadata?.name ?? '', sc); },
    update: (sc) => { storageClasses.set(sc.metadata?.name ?? '', sc); },
    delete: (sc) => { storageClasses.delete(sc.metadata?.name ?? ''); },
  }, logger);
  const volumeClaims: ClaimLookup = {
    claim: (namespace, name) => claims.get(`${namespace}/${name}`),
    storageClass: (name) => storageClasses.get(name),
  };

  const informers: LeanInformer[] = [nodeInformer, podInformer, pdbInformer, claimInformer, classInformer];

  async function bind(queued: QueuedPod, nodeName: string, decision: SchedulingDecision, startedAt: number): Promise<void> {
    const pod = queued.pod;
    const namespace = pod.metadata?.namespace ?? 'default';
    const name = pod.metadata?.name ?? '';
    // Dated before the binding goes out: the kubelet can only act (and record Pulling …) once the binding is stored,
    // so the Scheduled event always sorts first in `kubectl describe`, even when both fall in the same second.
    const decidedAt = new Date();
    try {
      await client.request('POST', podPath(pod, 'binding'), {
        apiVersion: 'v1',
        kind: 'Binding',
        metadata: { name, namespace, uid: pod.metadata?.uid },
        target: { apiVersion: 'v1', kind: 'Node', name: nodeName },
      }, 'application/json', { [SCHEDULING_DECISION_HEADER]: formatSchedulingDecision(decision) });
      queue.done(queued);
      metrics.attempt('scheduled', startedAt);
      // schedule_one.go logs this at V(2), with the same keys.
      if ((options.verbosity ?? 0) >= 2) logger.info('Successfully bound pod to node', { pod: `${namespace}/${name}`, node: nodeName, ...decision });
    } catch (err) {
      cache.forgetPod(pod);
      metrics.attempt('error', startedAt);
      logger.error('binding failed', { pod: `${namespace}/${name}`, node: nodeName, error: String(err) });
      // The released room may fit other pods; this one retries after backoff unless it is gone.
      queue.moveAllToActiveOrBackoff();
      if (errorCode(err) === 404) queue.delete(pod);
      queue.requeueAfterFailure(queued, false);
      return;
    }
    // Sent without holding the binding slot, as client-go's event broadcaster sends events asynchronously.
    recorder.emitPodEvent(pod, 'Normal', 'Scheduled', 'Binding', `Successfully assigned ${namespace}/${name} to ${nodeName}`, decidedAt);
  }

  async function reportUnschedulable(pod: V1Pod, message: string, nominatedNodeName?: string): Promise<void> {
    const namespace = pod.metadata?.namespace ?? 'default';
    const name = pod.metadata?.name ?? '';
    recorder.emitPodEvent(pod, 'Warning', 'FailedScheduling', 'Scheduling', message);
    const existing = (pod.status?.conditions ?? []).find((c) => c.type === 'PodScheduled');
    const nominationChanged = nominatedNodeName !== undefined && pod.status?.nominatedNodeName !== nominatedNodeName;
    if (!nominationChanged && existing && existing.status === 'False' && existing.reason === 'Unschedulable' && existing.message === message) return;
    const sameStatus = existing?.status === 'False';
    const transition = sameStatus && existing?.lastTransitionTime ? new Date(existing.lastTransitionTime) : new Date();
    // metav1.Time goes on the wire with second precision; a Date would be sent with milliseconds.
    const condition = {
      type: 'PodScheduled',
      status: 'False',
      reason: 'Unschedulable',
      message,
      lastProbeTime: null,
      lastTransitionTime: transition.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    };
    try {
      const status = nominationChanged ? { conditions: [condition], nominatedNodeName } : { conditions: [condition] };
      await client.request('PATCH', podPath(pod, 'status'), { status }, 'application/strategic-merge-patch+json');
    } catch (err) {
      if (errorCode(err) !== 404) logger.error('could not update pod condition', { pod: `${namespace}/${name}`, error: String(err) });
    }
  }

  async function waitForBindingSlot(): Promise<void> {
    while (bindingsInFlight >= maxBindingsInFlight && !stopped) {
      await new Promise<void>((resolve) => {
        bindingSlotFreed = resolve;
      });
    }
  }

  function scheduleOne(queued: QueuedPod, startedAt: number): void {
    const pod = queued.pod;
    const info = podSchedulingInfo(pod);
    const result = algorithm.schedule(info, cache.nodeList(), { podKey: queued.key, nominator, budgets: (budgetList ??= [...budgets.values()]), volumeClaims });
    if (result.kind === 'scheduled') {
      nominator.remove(queued.key);
      cache.assumePod(pod, result.nodeName, podOnNode(info.requests, info.nonZeroRequests, info.hostPorts, info.priority, podIdentity(pod)));
      bindingsInFlight++;
      track(bind(queued, result.nodeName, { evaluatedNodes: result.evaluatedNodes, feasibleNodes: result.feasibleNodes }, startedAt).finally(() => {
        bindingsInFlight--;
        const wake = bindingSlotFreed;
        bindingSlotFreed = undefined;
        wake?.();
      }));
      return;
    }
    queue.requeueAfterFailure(queued, true);
    const candidate = result.preemption;
    if (candidate) {
      // The room the victims free is held for this pod from now on (nominatedNodeName upstream).
      const entry = podOnNode(info.requests, info.nonZeroRequests, info.hostPorts, info.priority, podIdentity(pod));
      const displaced = nominator.lowerPriority(candidate.nodeName, info.priority);
      nominator.nominate(queued.key, candidate.nodeName, entry);
      track(executePreemption({ client, recorder, logger, schedulerName }, pod, candidate, displaced, nominator));
    }
    metrics.attempt('unschedulable', startedAt);
    if ((options.verbosity ?? 0) >= 2) {
      logger.info('Unable to schedule pod; no fit; waiting', { pod: `${pod.metadata?.namespace ?? 'default'}/${pod.metadata?.name ?? ''}`, err: result.message });
    }
    track(reportUnschedulable(pod, result.message, candidate?.nodeName));
  }

  async function schedulingLoop(): Promise<void> {
    await Promise.all(informers.map((informer) => informer.synced));
    while (!stopped) {
      await waitForBindingSlot();
      const queued = await queue.pop();
      if (!queued || stopped) break;
      if (!queue.has(queued.pod)) {
        queue.done(queued);
        continue;
      }
      const startedAt = performance.now();
      try {
        scheduleOne(queued, startedAt);
      } catch (err) {
        metrics.attempt('error', startedAt);
        logger.error('scheduling cycle failed', { pod: queued.key, error: String(err) });
        queue.requeueAfterFailure(queued, false);
      }
      // Let informer events and binding responses in between cycles.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  let metricsServer: { port: number; close(): Promise<void> } | undefined;
  if (options.metricsBindAddress) {
    const { host, port } = options.metricsBindAddress;
    const metricsAuth = new DelegatedAuth(client);
    try {
      metricsServer = await serveSchedulerMetrics(metrics, host, port, metricsAuth);
    } catch (err) {
      // The default port is taken (another scheduler on this machine): any free port, reported, as the web view does.
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || port === 0) {
        await Promise.all(informers.map((informer) => informer.stop()));
        throw err;
      }
      metricsServer = await serveSchedulerMetrics(metrics, host, 0, metricsAuth);
      logger.error('metrics port in use, serving on another', { wanted: port, port: metricsServer.port });
    }
  }
  const loop = schedulingLoop();
  logger.info('scheduler started', { schedulerName, ...(metricsServer ? { metrics: `https://${options.metricsBindAddress!.host}:${metricsServer.port}/metrics` } : {}) });

  return {
    metrics,
    metricsPort: metricsServer?.port,
    async stop() {
      await metricsServer?.close();
      stopped = true;
      queue.close();
      bindingSlotFreed?.();
      await Promise.all(informers.map((informer) => informer.stop()));
      await loop;
      await Promise.allSettled([...background]);
      await recorder.flushed();
      client.close();
      kubeConfig.closeConnections();
    },
  };
}
