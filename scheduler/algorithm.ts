// One scheduling decision (schedule_one.go schedulePod, then the PostFilter): filter a rotating sample of
// nodes until enough feasible ones are found, score them, pick the best; when none fits, DefaultPreemption's
// dry run. Pure: reads NodeInfos, changes nothing but the rotating start index.
import { fitErrorMessage, NO_NODES_AVAILABLE, PREEMPTION_NOT_HELPFUL, PREEMPTION_POLICY_NEVER } from './fit-error.ts';
import { runFilters, type FilterFailure, type PodSchedulingInfo } from './filters.ts';
import type { NodeInfo } from './node-info.ts';
import type { Nominator } from './nominator.ts';
import { eligibilityProblem, findPreemption, type DisruptionBudget, type PreemptionCandidate } from './preemption.ts';
import { numFeasibleNodesToFind, selectHostIndex } from './sampling.ts';
import { scoreNodes } from './scores.ts';
import { volumeBindingPreFilter, type ClaimLookup } from './volume-binding.ts';

export type ScheduleResult =
  | { kind: 'scheduled'; nodeName: string; evaluatedNodes: number; feasibleNodes: number }
  | {
    kind: 'unschedulable'; message: string; nodeStatuses: Map<string, FilterFailure>;
    /** Set when preemption found a node: nominate it and delete these victims. */
    preemption?: PreemptionCandidate;
  };

export interface AlgorithmOptions {
  /** 0 = adaptive, as kube-scheduler's default. */
  percentageOfNodesToScore?: number;
  random?: () => number;
}

/** What the cycle knows besides the nodes: the pod's queue key, nominations and budgets. */
export interface SchedulingContext {
  podKey: string;
  nominator?: Nominator;
  budgets?: readonly DisruptionBudget[];
  /** The claims and storage classes VolumeBinding's PreFilter reads; without them it is skipped. */
  volumeClaims?: ClaimLookup;
}

export class SchedulingAlgorithm {
  /** Where the next cycle starts scanning, so successive pods spread over the node list. */
  nextStartNodeIndex = 0;

  constructor(private readonly options: AlgorithmOptions = {}) {}

  schedule(info: PodSchedulingInfo, nodes: readonly NodeInfo[], context: SchedulingContext = { podKey: '' }): ScheduleResult {
    if (nodes.length === 0) return { kind: 'unschedulable', message: NO_NODES_AVAILABLE, nodeStatuses: new Map() };
    const rejected = context.volumeClaims ? volumeBindingPreFilter(info.pod, context.volumeClaims) : undefined;
    if (rejected) return this.preFilterRejected(info, nodes, rejected);
    const wanted = numFeasibleNodesToFind(nodes.length, this.options.percentageOfNodesToScore ?? 0);
    const feasible: NodeInfo[] = [];
    const nodeStatuses = new Map<string, FilterFailure>();
    let processed = 0;
    for (let i = 0; i < nodes.length && feasible.length < wanted; i++) {
      const nodeInfo = nodes[(this.nextStartNodeIndex + i) % nodes.length];
      processed++;
      // Room held for pods nominated here with at least this priority counts as taken.
      const held = context.nominator?.heldFor(nodeInfo.name, info.priority, context.podKey);
      const failure = runFilters(info, held ? nodeInfo.withPods(held) : nodeInfo);
      if (failure) nodeStatuses.set(nodeInfo.name, failure);
      else feasible.push(nodeInfo);
    }
    this.nextStartNodeIndex = (this.nextStartNodeIndex + processed) % nodes.length;

    if (feasible.length === 0) return this.postFilter(info, nodes, nodeStatuses, context);
    if (feasible.length === 1) {
      return { kind: 'scheduled', nodeName: feasible[0].name, evaluatedNodes: 1 + nodeStatuses.size, feasibleNodes: 1 };
    }
    const totals = scoreNodes(info, feasible);
    const chosen = feasible[selectHostIndex(totals, this.options.random)];
    return { kind: 'scheduled', nodeName: chosen.name, evaluatedNodes: processed, feasibleNodes: feasible.length };
  }

  /**
   * A PreFilter's UnschedulableAndUnresolvable: every node gets that status, the FitError names the PreFilter's
   * reason once (no per-node histogram), and preemption finds no node where it could help.
   */
  private preFilterRejected(info: PodSchedulingInfo, nodes: readonly NodeInfo[], reason: string): ScheduleResult {
    const failure: FilterFailure = { plugin: 'VolumeBinding', code: 'UnschedulableAndUnresolvable', reasons: [reason] };
    const nodeStatuses = new Map(nodes.map((node) => [node.name, failure]));
    const postFilter = info.pod.spec?.preemptionPolicy === 'Never'
      ? `preemption: ${PREEMPTION_POLICY_NEVER}`
      : `preemption: ${fitErrorMessage(nodes.length, nodes.map(() => [PREEMPTION_NOT_HELPFUL]))}`;
    return { kind: 'unschedulable', message: `0/${nodes.length} nodes are available: ${reason}. ${postFilter}`, nodeStatuses };
  }

  /** DefaultPreemption.PostFilter and the FitError message it completes. */
  private postFilter(info: PodSchedulingInfo, nodes: readonly NodeInfo[], nodeStatuses: Map<string, FilterFailure>, context: SchedulingContext): ScheduleResult {
    const filterReasons = [...nodeStatuses.values()].map((failure) => failure.reasons);
    const unschedulable = (postFilterMessage: string, preemption?: PreemptionCandidate): ScheduleResult => ({
      kind: 'unschedulable', message: fitErrorMessage(nodes.length, filterReasons, postFilterMessage), nodeStatuses, preemption,
    });
    if (info.pod.spec?.preemptionPolicy === 'Never') return unschedulable(`preemption: ${PREEMPTION_POLICY_NEVER}`);
    const byName = new Map(nodes.map((n) => [n.name, n]));
    const nominatedName = context.nominator?.nominatedNode(context.podKey) ?? info.pod.status?.nominatedNodeName;
    const notEligible = nominatedName
      ? eligibilityProblem(info, byName.get(nominatedName), nodeStatuses.get(nominatedName))
      : undefined;
    if (notEligible) return unschedulable(`preemption: ${notEligible}`);
    const outcome = findPreemption(info, context.podKey, nodeStatuses, byName, context.budgets, context.nominator);
    // A successful PostFilter adds nothing to the message; the pod is nominated and waits for its victims.
    if (outcome.candidate) return unschedulable('', outcome.candidate);
    return unschedulable(`preemption: ${fitErrorMessage(nodes.length, outcome.reasonsPerNode)}`);
  }
}
