// The bundled scheduler: an ordinary API client (kubeconfig + client-node) that watches pending pods,
// nodes and assigned pods, decides placements one pod at a time, and binds asynchronously.
import {
  CoreV1Api, PatchStrategy, setHeaderOptions, type V1Node, type V1Pod,
} from '@kubernetes/client-node';
import { loadKubeConfig } from '../clients/keep-alive-kubeconfig.ts';
import { SchedulingAlgorithm } from './algorithm.ts';
import { isTerminal, SchedulerCache } from './cache.ts';
import { EventRecorder, type EventLogger } from './event-recorder.ts';
import { podSchedulingInfo } from './filters.ts';
import { startResilientInformer, type ResilientInformer } from './informers.ts';
import { SchedulingQueue, type QueuedPod } from './queue.ts';

export type SchedulerLogger = EventLogger;

export interface SchedulerOptions {
  kubeconfigPath: string;
  schedulerName?: string;
  /** 0 or undefined: adaptive, as kube-scheduler's default. */
  percentageOfNodesToScore?: number;
  /** Maximum bindings (POST pods/binding) in flight at once; scheduling continues while they run. */
  parallelism?: number;
  logger?: SchedulerLogger;
}

export interface RunningScheduler {
  stop(): Promise<void>;
}

const consoleLogger: SchedulerLogger = {
  info: (message, fields) => console.error(JSON.stringify({ level: 'info', component: 'scheduler', message, ...fields })),
  error: (message, fields) => console.error(JSON.stringify({ level: 'error', component: 'scheduler', message, ...fields })),
};

/** Node changes that can make a pending pod fit (nodeSchedulingPropertiesChange upstream). */
function nodeSchedulingProperties(node: V1Node): string {
  return JSON.stringify([
    node.spec?.unschedulable, node.spec?.taints, node.metadata?.labels, node.status?.allocatable,
    (node.status?.conditions ?? []).map((c) => [c.type, c.status]),
  ]);
}

function errorCode(err: unknown): number | undefined {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'number' ? code : undefined;
}

export async function runScheduler(options: SchedulerOptions): Promise<RunningScheduler> {
  const schedulerName = options.schedulerName ?? 'default-scheduler';
  const logger = options.logger ?? consoleLogger;
  const maxBindingsInFlight = Math.max(1, options.parallelism ?? 16);
  const kubeConfig = loadKubeConfig(options.kubeconfigPath);
  const coreApi = kubeConfig.makeApiClient(CoreV1Api);
  const cache = new SchedulerCache();
  const queue = new SchedulingQueue();
  const algorithm = new SchedulingAlgorithm({ percentageOfNodesToScore: options.percentageOfNodesToScore });
  const recorder = new EventRecorder(coreApi, schedulerName, logger);
  const background = new Set<Promise<void>>();
  let bindingsInFlight = 0;
  let bindingSlotFreed: (() => void) | undefined;
  let stopped = false;

  const track = (work: Promise<void>): void => {
    background.add(work);
    void work.finally(() => background.delete(work));
  };

  const nodeInformer = startResilientInformer<V1Node>(kubeConfig, '/api/v1/nodes', () => coreApi.listNode(), undefined, {
    add: (node) => {
      cache.addOrUpdateNode(node);
      queue.moveAllToActiveOrBackoff();
    },
    update: (node) => {
      const before = cache.getNodeInfo(node.metadata?.name ?? '')?.node;
      cache.addOrUpdateNode(node);
      if (!before || nodeSchedulingProperties(before) !== nodeSchedulingProperties(node)) queue.moveAllToActiveOrBackoff();
    },
    delete: (node) => cache.removeNode(node.metadata?.name ?? ''),
  }, logger);

  const assignedSelector = 'spec.nodeName!=';
  const assignedInformer = startResilientInformer<V1Pod>(kubeConfig, '/api/v1/pods',
    () => coreApi.listPodForAllNamespaces({ fieldSelector: assignedSelector }), assignedSelector, {
      add: (pod) => {
        cache.addOrUpdateAssignedPod(pod);
        if (isTerminal(pod)) queue.moveAllToActiveOrBackoff();
      },
      update: (pod) => {
        cache.addOrUpdateAssignedPod(pod);
        if (isTerminal(pod)) queue.moveAllToActiveOrBackoff();
      },
      delete: (pod) => {
        cache.removePod(pod);
        queue.moveAllToActiveOrBackoff();
      },
    }, logger);

  const pendingSelector = `spec.nodeName=,spec.schedulerName=${schedulerName}`;
  const onPending = (pod: V1Pod): void => {
    if (pod.metadata?.deletionTimestamp || isTerminal(pod)) queue.delete(pod);
    else if (!cache.isAssumed(pod)) queue.addOrUpdate(pod);
  };
  const pendingInformer = startResilientInformer<V1Pod>(kubeConfig, '/api/v1/pods',
    () => coreApi.listPodForAllNamespaces({ fieldSelector: pendingSelector }), pendingSelector, {
      add: onPending,
      update: onPending,
      delete: (pod) => queue.delete(pod),
    }, logger);

  const informers: ResilientInformer[] = [nodeInformer, assignedInformer, pendingInformer];

  async function bind(queued: QueuedPod, nodeName: string): Promise<void> {
    const pod = queued.pod;
    const namespace = pod.metadata?.namespace ?? 'default';
    const name = pod.metadata?.name ?? '';
    // Dated before the binding goes out: the kubelet can only act (and record Pulling …) once the binding is stored,
    // so the Scheduled event always sorts first in `kubectl describe`, even when both fall in the same second.
    const decidedAt = new Date();
    try {
      await coreApi.createNamespacedPodBinding({
        name,
        namespace,
        body: {
          apiVersion: 'v1',
          kind: 'Binding',
          metadata: { name, namespace, uid: pod.metadata?.uid },
          target: { apiVersion: 'v1', kind: 'Node', name: nodeName },
        },
      });
      queue.done(queued);
    } catch (err) {
      cache.forgetPod(pod);
      logger.error('binding failed', { pod: `${namespace}/${name}`, node: nodeName, error: String(err) });
      // The released room may fit other pods; this one retries after backoff unless it is gone.
      queue.moveAllToActiveOrBackoff();
      if (errorCode(err) === 404) queue.delete(pod);
      queue.requeueAfterFailure(queued, false);
      return;
    }
    // Sent without holding the binding slot, as client-go's event broadcaster sends events asynchronously.
    recorder.recordPodEvent(pod, 'Normal', 'Scheduled', 'Binding', `Successfully assigned ${namespace}/${name} to ${nodeName}`, decidedAt)
      .catch((err: unknown) => logger.error('recording the Scheduled event failed', { pod: `${namespace}/${name}`, error: String(err) }));
  }

  async function reportUnschedulable(pod: V1Pod, message: string): Promise<void> {
    const namespace = pod.metadata?.namespace ?? 'default';
    const name = pod.metadata?.name ?? '';
    await recorder.recordPodEvent(pod, 'Warning', 'FailedScheduling', 'Scheduling', message);
    const existing = (pod.status?.conditions ?? []).find((c) => c.type === 'PodScheduled');
    if (existing && existing.status === 'False' && existing.reason === 'Unschedulable' && existing.message === message) return;
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
      await coreApi.patchNamespacedPodStatus(
        { name, namespace, body: { status: { conditions: [condition] } } },
        setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
      );
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

  function scheduleOne(queued: QueuedPod): void {
    const pod = queued.pod;
    const result = algorithm.schedule(podSchedulingInfo(pod), cache.nodeList());
    if (result.kind === 'scheduled') {
      cache.assumePod(pod, result.nodeName);
      bindingsInFlight++;
      track(bind(queued, result.nodeName).finally(() => {
        bindingsInFlight--;
        const wake = bindingSlotFreed;
        bindingSlotFreed = undefined;
        wake?.();
      }));
      return;
    }
    queue.requeueAfterFailure(queued, true);
    track(reportUnschedulable(pod, result.message));
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
      try {
        scheduleOne(queued);
      } catch (err) {
        logger.error('scheduling cycle failed', { pod: queued.key, error: String(err) });
        queue.requeueAfterFailure(queued, false);
      }
      // Let informer events and binding responses in between cycles.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  const loop = schedulingLoop();
  logger.info('scheduler started', { schedulerName });

  return {
    async stop() {
      stopped = true;
      queue.close();
      bindingSlotFreed?.();
      await Promise.all(informers.map((informer) => informer.stop()));
      await loop;
      await Promise.allSettled([...background]);
      kubeConfig.closeConnections();
    },
  };
}
