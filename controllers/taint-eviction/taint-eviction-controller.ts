// The taint eviction controller (pkg/controller/tainteviction, kube-controller-manager's
// "taint-eviction-controller"): a pod on a node with a NoExecute taint it does not tolerate is deleted at
// once; one that tolerates every such taint for a limited time (tolerationSeconds, the smallest of the
// matching tolerations) is deleted when that time is up, unless the taint goes or a toleration is added
// first; one that tolerates them forever stays. Before deleting, the pod gets the DisruptionTarget
// condition (DeletionByTaintManager); TaintManagerEviction events say when a deletion is marked and
// cancelled, as upstream words them. Node and pod changes go through the rate-limited queue (keys
// `node:<name>` and `pod:<ns>/<name>`), the deadlines through timers (timed-evictions.ts), and the
// deletions through the queue again (`evict:<ns>/<name>`), so a failed deletion is retried with backoff.
// Upstream runs it with the node-controller's client and role; here the controller manager's user holds
// that role (bootstrap binding kubefacade:node-controller).

import { ApiStatusError } from '../../clients/json-api-client.ts';
import { collectionPath, NODES, objectPath, PODS } from '../framework/api-paths.ts';
import { objectKey, splitKey, type CachedInformer } from '../framework/cached-informer.ts';
import { QueueController, type ControllerContext } from '../framework/controller.ts';
import type { ObjectReference } from '../framework/event-recorder.ts';
import { podView, workloadObject, type PodView, type WorkloadObject } from '../framework/object-views.ts';
import { decideEviction, noExecuteTaints, type Taint } from './eviction-timing.ts';
import { TimedEvictions } from './timed-evictions.ts';

export const TAINT_EVICTION_COMPONENT = 'taint-eviction-controller';
export const DISRUPTION_REASON = 'DeletionByTaintManager';
export const DISRUPTION_MESSAGE = 'Taint manager: deleting due to NoExecute taint';

const NODE_PREFIX = 'node:';
const POD_PREFIX = 'pod:';
const EVICT_PREFIX = 'evict:';

function taintsOf(node: WorkloadObject): Taint[] {
  const raw = node.spec?.taints;
  if (!Array.isArray(raw)) return [];
  const taints: Taint[] = [];
  for (const item of raw as unknown[]) {
    if (item === null || typeof item !== 'object') continue;
    const { key, value, effect } = item as Record<string, unknown>;
    if (typeof key !== 'string' || typeof effect !== 'string') continue;
    taints.push(typeof value === 'string' ? { key, value, effect } : { key, effect });
  }
  return taints;
}

function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export class TaintEvictionController extends QueueController {
  readonly nodes: CachedInformer<WorkloadObject>;
  readonly pods: CachedInformer<PodView>;
  /** NoExecute taints by node name, for nodes that have any (taintedNodes). */
  private readonly taintedNodes = new Map<string, Taint[]>();
  /** Pod keys by spec.nodeName (upstream's spec.nodeName index). */
  private readonly podsByNode = new Map<string, Set<string>>();
  readonly evictions: TimedEvictions;

  constructor(ctx: ControllerContext) {
    super(TAINT_EVICTION_COMPONENT, ctx);
    this.nodes = ctx.informers.informer(collectionPath(NODES), workloadObject);
    this.pods = ctx.informers.informer(collectionPath(PODS), podView);
    this.evictions = new TimedEvictions((key) => this.evictionDue(key), ctx.now);
    const nodeChanged = (old: WorkloadObject | undefined, node: WorkloadObject): void => {
      if (old && JSON.stringify(noExecuteTaints(taintsOf(old))) === JSON.stringify(noExecuteTaints(taintsOf(node)))) return;
      this.enqueue(NODE_PREFIX + node.metadata.name);
    };
    this.nodes.addHandlers({ add: (node) => nodeChanged(undefined, node), update: nodeChanged, delete: (node) => this.enqueue(NODE_PREFIX + node.metadata.name) });
    const podKey = (pod: PodView): string => objectKey(pod.metadata.namespace, pod.metadata.name);
    this.pods.addHandlers({
      add: (pod) => {
        this.index(podKey(pod), undefined, pod.nodeName);
        this.enqueue(POD_PREFIX + podKey(pod));
      },
      update: (old, pod) => {
        this.index(podKey(pod), old.nodeName, pod.nodeName);
        const sameTolerations = old.noExecuteTolerations === pod.noExecuteTolerations
          || JSON.stringify(old.noExecuteTolerations) === JSON.stringify(pod.noExecuteTolerations);
        if (old.nodeName === pod.nodeName && sameTolerations) return;
        this.enqueue(POD_PREFIX + podKey(pod));
      },
      delete: (pod) => {
        this.index(podKey(pod), pod.nodeName, undefined);
        this.enqueue(POD_PREFIX + podKey(pod));
      },
    });
  }

  private index(key: string, oldNode: string | undefined, newNode: string | undefined): void {
    if (oldNode === newNode) return;
    if (oldNode) {
      const set = this.podsByNode.get(oldNode);
      set?.delete(key);
      if (set && set.size === 0) this.podsByNode.delete(oldNode);
    }
    if (newNode) {
      let set = this.podsByNode.get(newNode);
      if (!set) this.podsByNode.set(newNode, (set = new Set()));
      set.add(key);
    }
  }

  protected async sync(key: string): Promise<void> {
    if (key.startsWith(NODE_PREFIX)) this.syncNode(key.slice(NODE_PREFIX.length));
    else if (key.startsWith(POD_PREFIX)) this.syncPod(key.slice(POD_PREFIX.length));
    else if (key.startsWith(EVICT_PREFIX)) await this.evict(key.slice(EVICT_PREFIX.length));
  }

  /** handleNodeUpdate: remember the node's NoExecute taints, then decide for each of its pods. */
  private syncNode(name: string): void {
    const node = this.nodes.get(undefined, name);
    if (!node) {
      this.taintedNodes.delete(name);
      return;
    }
    const taints = noExecuteTaints(taintsOf(node));
    if (taints.length === 0) this.taintedNodes.delete(name);
    else this.taintedNodes.set(name, taints);
    const podKeys = [...(this.podsByNode.get(name) ?? [])];
    if (taints.length === 0) {
      for (const podKey of podKeys) this.cancelWithEvent(podKey);
      return;
    }
    const now = this.ctx.now();
    for (const podKey of podKeys) {
      const pod = this.pods.getByKey(podKey);
      if (pod) this.processPod(podKey, pod, taints, now);
    }
  }

  /** handlePodUpdate. */
  private syncPod(podKey: string): void {
    const pod = this.pods.getByKey(podKey);
    if (!pod) {
      this.cancelWithEvent(podKey);
      return;
    }
    if (!pod.nodeName) return;
    const taints = this.taintedNodes.get(pod.nodeName);
    // No NoExecute taint on the node: an eviction was cancelled when the taint went.
    if (!taints) return;
    this.processPod(podKey, pod, taints, this.ctx.now());
  }

  private processPod(podKey: string, pod: PodView, taints: Taint[], now: number): void {
    const pending = this.evictions.pending(podKey);
    const decision = decideEviction(taints, pod.noExecuteTolerations ?? [], now, pending);
    switch (decision.kind) {
      case 'cancel':
        this.cancelWithEvent(podKey);
        return;
      case 'evict-now':
        this.cancelWithEvent(podKey);
        this.evictions.add(podKey, now, now);
        return;
      case 'schedule':
        if (pending) this.cancelWithEvent(podKey);
        this.evictions.add(podKey, decision.createdAtMs, decision.fireAtMs);
        return;
      case 'keep':
        return;
    }
  }

  private reference(podKey: string): ObjectReference {
    const { namespace, name } = splitKey(podKey);
    // Upstream's reference names the pod without its uid; kept when known so `kubectl describe` finds the event.
    const uid = this.pods.getByKey(podKey)?.metadata.uid ?? '';
    return { apiVersion: 'v1', kind: 'Pod', namespace, name, uid };
  }

  private cancelWithEvent(podKey: string): void {
    if (this.evictions.cancel(podKey)) {
      this.ctx.recorder.event(TAINT_EVICTION_COMPONENT, this.reference(podKey), 'Normal', 'TaintManagerEviction', `Cancelling deletion of Pod ${podKey}`);
    }
  }

  /** The deadline came: record the event once, then delete through the queue (retried with backoff). */
  private evictionDue(podKey: string): void {
    this.ctx.logger.info(`${TAINT_EVICTION_COMPONENT}: deleting pod ${podKey}`);
    this.ctx.recorder.event(TAINT_EVICTION_COMPONENT, this.reference(podKey), 'Normal', 'TaintManagerEviction', `Marking for deletion Pod ${podKey}`);
    this.enqueue(EVICT_PREFIX + podKey);
  }

  /** addConditionAndDeletePod: DisruptionTarget=True (DeletionByTaintManager) on the live pod, then DELETE. */
  private async evict(podKey: string): Promise<void> {
    if (!this.evictions.firing(podKey)) return; // cancelled since it fired
    const { namespace, name } = splitKey(podKey);
    try {
      const pod = await this.ctx.client.request<{ metadata?: { uid?: string }; status?: { conditions?: unknown[] } }>('GET', objectPath(PODS, namespace, name));
      const conditions = (Array.isArray(pod.status?.conditions) ? pod.status.conditions : []) as { type?: string; status?: string; reason?: string; message?: string }[];
      const existing = conditions.find((condition) => condition.type === 'DisruptionTarget');
      if (!existing || existing.status !== 'True' || existing.reason !== DISRUPTION_REASON || existing.message !== DISRUPTION_MESSAGE) {
        const condition = {
          type: 'DisruptionTarget', status: 'True', reason: DISRUPTION_REASON, message: DISRUPTION_MESSAGE,
          lastTransitionTime: existing?.status === 'True' ? (existing as { lastTransitionTime?: string }).lastTransitionTime : rfc3339(this.ctx.now()),
        };
        // The uid makes the patch a precondition: a pod recreated under the same name is not touched.
        await this.ctx.client.request('PATCH', objectPath(PODS, namespace, name, 'status'),
          { metadata: { uid: pod.metadata?.uid }, status: { conditions: [condition] } }, 'application/strategic-merge-patch+json');
      }
      if (!this.evictions.firing(podKey)) return;
      await this.ctx.client.request('DELETE', objectPath(PODS, namespace, name), { kind: 'DeleteOptions', apiVersion: 'v1', preconditions: { uid: pod.metadata?.uid } });
    } catch (err) {
      if (err instanceof ApiStatusError && err.code === 404) {
        this.evictions.forget(podKey);
        return;
      }
      throw err;
    }
  }

  override async stop(): Promise<void> {
    this.evictions.stop();
    await super.stop();
  }
}
