// Per-node aggregate the filters and scores read: what the node offers (computed once per node change,
// not once per pod and node) plus the sum of what the pods placed on it (bound or assumed) request.
// Mirrors framework.NodeInfo.
import type { V1Node, V1Pod, V1Taint } from '@kubernetes/client-node';
import {
  addResources, emptyResources, podHostPorts, podRequests, quantityOrZero, resourceListToVector,
  type HostPort, type ResourceVector,
} from './pod-resources.ts';

/**
 * What the cache keeps of a placed pod: its requests, ports and priority, never the pod object
 * (at 150,000 assigned pods the objects would dominate the scheduler's memory).
 */
export interface PodOnNode {
  requested: ResourceVector;
  nonZeroRequested: ResourceVector;
  hostPorts: HostPort[];
  priority: number;
  /** Who the pod is, for preemption (victim choice, PodDisruptionBudgets, deletion); strings shared with the informer's pod. */
  identity?: PodIdentity;
}

/** What preemption reads of a placed pod. */
export interface PodIdentity {
  namespace: string;
  name: string;
  uid: string;
  labels: Record<string, string> | undefined;
  /** status.startTime, or the creation time before the kubelet reports one (util.GetPodStartTime), in ms. */
  startTime: number;
  /** Has a deletionTimestamp. */
  terminating: boolean;
  /** Terminating with the DisruptionTarget condition the scheduler's preemption sets (podTerminatingByPreemption). */
  terminatingByPreemption: boolean;
}

export function podIdentity(pod: V1Pod): PodIdentity {
  const start = pod.status?.startTime ?? pod.metadata?.creationTimestamp;
  const terminating = Boolean(pod.metadata?.deletionTimestamp);
  const disruption = (pod.status?.conditions ?? []).find((c) => c.type === 'DisruptionTarget');
  return {
    namespace: pod.metadata?.namespace ?? '',
    name: pod.metadata?.name ?? '',
    uid: pod.metadata?.uid ?? '',
    labels: pod.metadata?.labels,
    startTime: start ? new Date(start as unknown as string).getTime() : 0,
    terminating,
    terminatingByPreemption: terminating && disruption?.status === 'True' && disruption.reason === 'PreemptionByScheduler',
  };
}

const NO_PORTS: HostPort[] = [];
/**
 * Shared by every placed pod without extended resources (an empty Map costs ~200 bytes, two per pod).
 * Safe because a PodOnNode's vectors are only ever read: NodeInfo adds them into its own totals.
 */
const NO_SCALARS = new Map<string, number>();

function compacted(vector: ResourceVector): ResourceVector {
  if (vector.scalar.size === 0) vector.scalar = NO_SCALARS;
  return vector;
}

/** A placed pod's entry from requests already computed (the scheduling cycle's), sharing the empty parts. */
export function podOnNode(requested: ResourceVector, nonZeroRequested: ResourceVector, hostPorts: HostPort[], priority: number, identity?: PodIdentity): PodOnNode {
  return {
    requested: compacted(requested),
    nonZeroRequested: compacted(nonZeroRequested),
    hostPorts: hostPorts.length === 0 ? NO_PORTS : hostPorts,
    priority,
    identity,
  };
}

export function describePodOnNode(pod: V1Pod): PodOnNode {
  return podOnNode(podRequests(pod), podRequests(pod, true), podHostPorts(pod), pod.spec?.priority ?? 0, podIdentity(pod));
}

const NO_LABELS: Record<string, string> = {};
const NO_TAINTS: V1Taint[] = [];

/** Node changes that can make a pending pod fit (nodeSchedulingPropertiesChange upstream), as one comparable string. */
function schedulingSignatureOf(node: V1Node): string {
  return JSON.stringify([
    node.spec?.unschedulable, node.spec?.taints, node.metadata?.labels, node.status?.allocatable,
    (node.status?.conditions ?? []).map((c) => [c.type, c.status]),
  ]);
}

export class NodeInfo {
  node: V1Node | undefined;
  allocatable: ResourceVector = emptyResources();
  allowedPodNumber = 0;
  unschedulable = false;
  labels: Record<string, string> = NO_LABELS;
  /** NoSchedule and NoExecute taints: the ones TaintToleration's filter checks. */
  filterTaints: V1Taint[] = NO_TAINTS;
  /** PreferNoSchedule taints: the ones TaintToleration's score counts. */
  preferNoScheduleTaints: V1Taint[] = NO_TAINTS;
  /** Changes exactly when a property that can make a pending pod fit changes. */
  schedulingSignature = '';
  readonly pods = new Map<string, PodOnNode>();
  requested: ResourceVector = emptyResources();
  nonZeroRequested: ResourceVector = emptyResources();
  usedPorts: HostPort[] = [];

  constructor(readonly name: string) {}

  setNode(node: V1Node | undefined): void {
    this.node = node;
    const allocatable = (node?.status?.allocatable ?? {}) as Record<string, string>;
    this.allocatable = resourceListToVector(allocatable);
    this.allowedPodNumber = quantityOrZero(allocatable.pods);
    this.unschedulable = node?.spec?.unschedulable === true;
    this.labels = node?.metadata?.labels ?? NO_LABELS;
    const taints = node?.spec?.taints ?? NO_TAINTS;
    this.filterTaints = taints.filter((t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute');
    this.preferNoScheduleTaints = taints.filter((t) => t.effect === 'PreferNoSchedule');
    this.schedulingSignature = node ? schedulingSignatureOf(node) : '';
  }

  addPod(key: string, entry: PodOnNode): void {
    if (this.pods.has(key)) this.removePod(key);
    this.pods.set(key, entry);
    addResources(this.requested, entry.requested);
    addResources(this.nonZeroRequested, entry.nonZeroRequested);
    if (entry.hostPorts.length > 0) this.usedPorts = this.usedPorts.concat(entry.hostPorts);
  }

  removePod(key: string): boolean {
    const entry = this.pods.get(key);
    if (!entry) return false;
    this.pods.delete(key);
    addResources(this.requested, entry.requested, -1);
    addResources(this.nonZeroRequested, entry.nonZeroRequested, -1);
    if (entry.hostPorts.length > 0) {
      this.usedPorts = [];
      for (const other of this.pods.values()) this.usedPorts.push(...other.hostPorts);
    }
    return true;
  }

  /** A copy with the given pods taken off, for the preemption dry run. */
  withoutPods(keys: readonly string[]): NodeInfo {
    const leave = new Set(keys);
    const copy = new NodeInfo(this.name);
    copy.setNode(this.node);
    for (const [key, entry] of this.pods) if (!leave.has(key)) copy.addPod(key, entry);
    return copy;
  }

  /** A copy with more pods on it: the pods nominated to this node, as if already bound (addNominatedPods upstream). */
  withPods(extra: ReadonlyMap<string, PodOnNode>): NodeInfo {
    const copy = this.withoutPods([]);
    for (const [key, entry] of extra) copy.addPod(key, entry);
    return copy;
  }
}
