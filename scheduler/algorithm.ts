// One scheduling decision (schedule_one.go schedulePod): filter a rotating sample of nodes until enough
// feasible ones are found, score them, pick the best. Pure: reads NodeInfos, changes nothing but the
// rotating start index.
import { failedSchedulingMessage, NO_NODES_AVAILABLE } from './fit-error.ts';
import { runFilters, type FilterFailure, type PodSchedulingInfo } from './filters.ts';
import type { NodeInfo } from './node-info.ts';
import { numFeasibleNodesToFind, selectHostIndex } from './sampling.ts';
import { scoreNodes } from './scores.ts';

export type ScheduleResult =
  | { kind: 'scheduled'; nodeName: string; evaluatedNodes: number; feasibleNodes: number }
  | { kind: 'unschedulable'; message: string; nodeStatuses: Map<string, FilterFailure> };

export interface AlgorithmOptions {
  /** 0 = adaptive, as kube-scheduler's default. */
  percentageOfNodesToScore?: number;
  random?: () => number;
}

export class SchedulingAlgorithm {
  /** Where the next cycle starts scanning, so successive pods spread over the node list. */
  nextStartNodeIndex = 0;

  constructor(private readonly options: AlgorithmOptions = {}) {}

  schedule(info: PodSchedulingInfo, nodes: readonly NodeInfo[]): ScheduleResult {
    if (nodes.length === 0) return { kind: 'unschedulable', message: NO_NODES_AVAILABLE, nodeStatuses: new Map() };
    const wanted = numFeasibleNodesToFind(nodes.length, this.options.percentageOfNodesToScore ?? 0);
    const feasible: NodeInfo[] = [];
    const nodeStatuses = new Map<string, FilterFailure>();
    let processed = 0;
    for (let i = 0; i < nodes.length && feasible.length < wanted; i++) {
      const nodeInfo = nodes[(this.nextStartNodeIndex + i) % nodes.length];
      processed++;
      const failure = runFilters(info, nodeInfo);
      if (failure) nodeStatuses.set(nodeInfo.name, failure);
      else feasible.push(nodeInfo);
    }
    this.nextStartNodeIndex = (this.nextStartNodeIndex + processed) % nodes.length;

    if (feasible.length === 0) {
      const byName = new Map(nodes.map((n) => [n.name, n]));
      return { kind: 'unschedulable', message: failedSchedulingMessage(info, nodes.length, nodeStatuses, byName), nodeStatuses };
    }
    if (feasible.length === 1) {
      return { kind: 'scheduled', nodeName: feasible[0].name, evaluatedNodes: 1 + nodeStatuses.size, feasibleNodes: 1 };
    }
    const totals = scoreNodes(info, feasible);
    const chosen = feasible[selectHostIndex(totals, this.options.random)];
    return { kind: 'scheduled', nodeName: chosen.name, evaluatedNodes: processed, feasibleNodes: feasible.length };
  }
}
