// The scheduler's view of node allocations: nodes plus the pods bound to them (from the informer) and the
// pods it has assumed but whose binding has not been observed yet. An assumed pod counts immediately,
// so two pods are never placed on room for one.
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { describePodOnNode, NodeInfo, type PodOnNode } from './node-info.ts';

/** Where a pod is placed; the node name string is shared with the NodeInfo, so an entry is small. */
interface PodPlacement {
  nodeName: string;
  assumed: boolean;
}

export function podKey(pod: V1Pod): string {
  return pod.metadata?.uid || `${pod.metadata?.namespace}/${pod.metadata?.name}`;
}

export function isTerminal(pod: V1Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

export class SchedulerCache {
  private readonly nodeInfos = new Map<string, NodeInfo>();
  private readonly placements = new Map<string, PodPlacement>();
  private orderedNodes: NodeInfo[] | undefined;

  private nodeInfo(name: string): NodeInfo {
    let info = this.nodeInfos.get(name);
    if (!info) {
      info = new NodeInfo(name);
      this.nodeInfos.set(name, info);
    }
    return info;
  }

  /** Nodes that exist, in a stable order (insertion), for the algorithm's rotating scan. */
  nodeList(): NodeInfo[] {
    if (!this.orderedNodes) this.orderedNodes = [...this.nodeInfos.values()].filter((info) => info.node !== undefined);
    return this.orderedNodes;
  }

  getNodeInfo(name: string): NodeInfo | undefined {
    return this.nodeInfos.get(name);
  }

  addOrUpdateNode(node: V1Node): void {
    const name = node.metadata?.name ?? '';
    const info = this.nodeInfo(name);
    if (!info.node) this.orderedNodes = undefined;
    info.setNode(node);
  }

  removeNode(name: string): void {
    const info = this.nodeInfos.get(name);
    if (!info) return;
    // Pods may still reference the node; keep their accounting until they go away, like upstream.
    if (info.pods.size === 0) this.nodeInfos.delete(name);
    else info.setNode(undefined);
    this.orderedNodes = undefined;
  }

  /** `computed`: the pod's requests as the scheduling cycle already computed them, so they are not parsed again. */
  assumePod(pod: V1Pod, nodeName: string, computed?: PodOnNode): void {
    const key = podKey(pod);
    const entry = computed ?? describePodOnNode(pod);
    this.removeKey(key);
    const node = this.nodeInfo(nodeName);
    node.addPod(key, entry);
    this.placements.set(key, { nodeName: node.name, assumed: true });
  }

  /** Binding failed: drop the assumption, unless the informer already confirmed the pod. */
  forgetPod(pod: V1Pod): void {
    const key = podKey(pod);
    if (this.placements.get(key)?.assumed) this.removeKey(key);
  }

  /** Placed on a node as far as the cache knows (bound or assumed). */
  isPlaced(pod: V1Pod): boolean {
    return this.placements.has(podKey(pod));
  }

  isAssumed(pod: V1Pod): boolean {
    return this.placements.get(podKey(pod))?.assumed === true;
  }

  /** An assigned pod seen by the informer: confirms an assumption, or adds/moves it; terminal pods release their room. */
  addOrUpdateAssignedPod(pod: V1Pod): void {
    const key = podKey(pod);
    const nodeName = pod.spec?.nodeName;
    if (!nodeName || isTerminal(pod)) {
      this.removeKey(key);
      return;
    }
    const placement = this.placements.get(key);
    if (placement?.assumed && placement.nodeName === nodeName) {
      // The binding was observed: confirm the assumption and keep its accounting, as upstream's AddPod does.
      placement.assumed = false;
      return;
    }
    this.removeKey(key);
    const node = this.nodeInfo(nodeName);
    node.addPod(key, describePodOnNode(pod));
    this.placements.set(key, { nodeName: node.name, assumed: false });
  }

  removePod(pod: V1Pod): void {
    this.removeKey(podKey(pod));
  }

  private removeKey(key: string): void {
    const placement = this.placements.get(key);
    if (!placement) return;
    this.placements.delete(key);
    const info = this.nodeInfos.get(placement.nodeName);
    if (!info) return;
    info.removePod(key);
    if (!info.node && info.pods.size === 0) {
      this.nodeInfos.delete(placement.nodeName);
      this.orderedNodes = undefined;
    }
  }
}
