// The pods nominated to nodes (the scheduling queue's nominator upstream): a preemptor waits for its victims
// to go, and meanwhile the room they free is held for it, because every pod of equal or lower priority is
// filtered as if the nominated pods were already on that node.
import type { PodOnNode } from './node-info.ts';

export class Nominator {
  private readonly byNode = new Map<string, Map<string, PodOnNode>>();
  private readonly nodeByPod = new Map<string, string>();

  nominate(key: string, nodeName: string, entry: PodOnNode): void {
    this.remove(key);
    let pods = this.byNode.get(nodeName);
    if (!pods) {
      pods = new Map();
      this.byNode.set(nodeName, pods);
    }
    pods.set(key, entry);
    this.nodeByPod.set(key, nodeName);
  }

  remove(key: string): void {
    const nodeName = this.nodeByPod.get(key);
    if (nodeName === undefined) return;
    this.nodeByPod.delete(key);
    const pods = this.byNode.get(nodeName);
    pods?.delete(key);
    if (pods?.size === 0) this.byNode.delete(nodeName);
  }

  nominatedNode(key: string): string | undefined {
    return this.nodeByPod.get(key);
  }

  /** The pods nominated to the node with at least `priority`, other than `exceptKey`; undefined when none. */
  heldFor(nodeName: string, priority: number, exceptKey: string): Map<string, PodOnNode> | undefined {
    const pods = this.byNode.get(nodeName);
    if (!pods) return undefined;
    let held: Map<string, PodOnNode> | undefined;
    for (const [key, entry] of pods) {
      if (key === exceptKey || entry.priority < priority) continue;
      (held ??= new Map()).set(key, entry);
    }
    return held;
  }

  /** The pods nominated to the node with a lower priority (their nomination is cleared on preemption). */
  lowerPriority(nodeName: string, priority: number): Array<[string, PodOnNode]> {
    return [...(this.byNode.get(nodeName) ?? [])].filter(([, entry]) => entry.priority < priority);
  }
}
