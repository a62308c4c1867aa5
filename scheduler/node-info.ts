// Per-node aggregate the filters and scores read: the node object plus the sum of what the pods
// placed on it (bound or assumed) request. Mirrors framework.NodeInfo.
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import {
  addResources, emptyResources, podHostPorts, podRequests, quantityOrZero, resourceListToVector,
  type HostPort, type ResourceVector,
} from './pod-resources.ts';

export interface PodOnNode {
  pod: V1Pod;
  requested: ResourceVector;
  nonZeroRequested: ResourceVector;
  hostPorts: HostPort[];
  priority: number;
}

export function describePodOnNode(pod: V1Pod): PodOnNode {
  return {
    pod,
    requested: podRequests(pod),
    nonZeroRequested: podRequests(pod, true),
    hostPorts: podHostPorts(pod),
    priority: pod.spec?.priority ?? 0,
  };
}

export class NodeInfo {
  node: V1Node | undefined;
  allocatable: ResourceVector = emptyResources();
  allowedPodNumber = 0;
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
    const copy = new NodeInfo(this.name);
    copy.setNode(this.node);
    for (const [key, entry] of this.pods) if (!keys.includes(key)) copy.addPod(key, entry);
    return copy;
  }
}
