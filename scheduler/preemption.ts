// DefaultPreemption's decision (pkg/scheduler/framework/preemption and plugins/defaultpreemption), pure: for
// a pod no node fits, find the nodes where removing lower-priority pods makes it fit (the dry run), keep on
// each node every pod it can do without (the reprieve, PodDisruptionBudget-protected pods first), and pick
// the node whose victims cost least (fewest budget violations, lowest highest priority, lowest priority sum,
// fewest pods, latest start). The scheduler then nominates the node and deletes the victims.
import { selectorIsEmpty, selectorMatches, type LabelSelector } from '../controllers/framework/label-selector.ts';
import { NO_PREEMPTION_VICTIMS, PREEMPTION_NOT_HELPFUL } from './fit-error.ts';
import { runFilters, type FilterFailure, type PodSchedulingInfo } from './filters.ts';
import type { NodeInfo, PodIdentity, PodOnNode } from './node-info.ts';
import type { Nominator } from './nominator.ts';

export const NOT_ELIGIBLE_TERMINATING = 'not eligible due to a terminating pod on the nominated node.';

/** What preemption reads of a PodDisruptionBudget. */
export interface DisruptionBudget {
  namespace: string;
  selector: LabelSelector | undefined;
  disruptionsAllowed: number;
  /** status.disruptedPods: pods the API server already counted as disrupted. */
  disruptedPods: ReadonlySet<string>;
}

export interface Victim {
  key: string;
  entry: PodOnNode;
  identity: PodIdentity;
}

export interface PreemptionCandidate {
  nodeName: string;
  /** Most important first. */
  victims: Victim[];
  pdbViolations: number;
}

export interface PreemptionOutcome {
  candidate?: PreemptionCandidate;
  /** Why each node cannot help, for "preemption: 0/N nodes are available: ..." when there is no candidate. */
  reasonsPerNode: string[][];
}

/** util.MoreImportantPod: higher priority, then the earlier start. */
function moreImportant(a: Victim, b: Victim): number {
  if (a.entry.priority !== b.entry.priority) return b.entry.priority - a.entry.priority;
  return a.identity.startTime - b.identity.startTime;
}

/** filterPodsWithPDBViolation: which victims (in order) would take a budget below zero. */
function splitByBudgetViolation(victims: Victim[], budgets: readonly DisruptionBudget[]): { violating: Victim[]; nonViolating: Victim[] } {
  const allowed = budgets.map((b) => b.disruptionsAllowed);
  const violating: Victim[] = [];
  const nonViolating: Victim[] = [];
  for (const victim of victims) {
    let violated = false;
    const labels = victim.identity.labels;
    if (labels && Object.keys(labels).length > 0) {
      budgets.forEach((budget, i) => {
        if (budget.namespace !== victim.identity.namespace || !budget.selector || selectorIsEmpty(budget.selector)) return;
        let matches = false;
        try {
          matches = selectorMatches(budget.selector, labels);
        } catch {
          return;
        }
        if (!matches || budget.disruptedPods.has(victim.identity.name)) return;
        allowed[i]--;
        if (allowed[i] < 0) violated = true;
      });
    }
    (violated ? violating : nonViolating).push(victim);
  }
  return { violating, nonViolating };
}

/** selectVictimsOnNode: undefined when even removing every lower-priority pod does not make the pod fit. */
function selectVictimsOnNode(info: PodSchedulingInfo, nodeInfo: NodeInfo, potential: Victim[], budgets: readonly DisruptionBudget[]):
  { victims: Victim[]; pdbViolations: number } | FilterFailure {
  const trial = nodeInfo.withoutPods(potential.map((v) => v.key));
  const failure = runFilters(info, trial);
  if (failure) return failure;
  potential.sort(moreImportant);
  const { violating, nonViolating } = splitByBudgetViolation(potential, budgets);
  const victims: Victim[] = [];
  let pdbViolations = 0;
  const reprieve = (victim: Victim, isViolating: boolean): void => {
    trial.addPod(victim.key, victim.entry);
    if (!runFilters(info, trial)) return;
    trial.removePod(victim.key);
    victims.push(victim);
    if (isViolating) pdbViolations++;
  };
  for (const victim of violating) reprieve(victim, true);
  for (const victim of nonViolating) reprieve(victim, false);
  if (violating.length > 0 && nonViolating.length > 0) victims.sort(moreImportant);
  return { victims, pdbViolations };
}

/** The earliest start among the victims of the highest priority (util.GetEarliestPodStartTime). */
function earliestStartOfHighest(victims: Victim[]): number {
  const highest = Math.max(...victims.map((v) => v.entry.priority));
  return Math.min(...victims.filter((v) => v.entry.priority === highest).map((v) => v.identity.startTime));
}

/** pickOneNodeForPreemption: each criterion keeps the best candidates, the first of what is left wins. */
export function pickCandidate(candidates: PreemptionCandidate[]): PreemptionCandidate | undefined {
  const free = candidates.find((c) => c.victims.length === 0);
  if (free) return free;
  const MAX_INT32 = 2147483647;
  const scores: Array<(c: PreemptionCandidate) => number> = [
    (c) => -c.pdbViolations,
    (c) => -c.victims[0].entry.priority,
    (c) => -c.victims.reduce((sum, v) => sum + v.entry.priority + MAX_INT32 + 1, 0),
    (c) => -c.victims.length,
    (c) => earliestStartOfHighest(c.victims),
  ];
  let remaining = candidates;
  for (const score of scores) {
    if (remaining.length <= 1) break;
    const best = Math.max(...remaining.map(score));
    remaining = remaining.filter((c) => score(c) === best);
  }
  return remaining[0];
}

/** calculateNumCandidates with the default 10% / at least 100. */
function candidatesWanted(numNodes: number): number {
  return Math.min(numNodes, Math.max(Math.floor(numNodes / 10), 100));
}

/**
 * PodEligibleToPreemptOthers: a pod already nominated to a node where a lower-priority victim of an earlier
 * preemption is still terminating waits for it instead of preempting again.
 */
export function eligibilityProblem(info: PodSchedulingInfo, nominatedNode: NodeInfo | undefined, nominatedNodeStatus: FilterFailure | undefined): string | undefined {
  if (!nominatedNode || nominatedNodeStatus?.code === 'UnschedulableAndUnresolvable') return undefined;
  for (const entry of nominatedNode.pods.values()) {
    if (entry.priority < info.priority && entry.identity?.terminatingByPreemption) return NOT_ELIGIBLE_TERMINATING;
  }
  return undefined;
}

/** The dry run over the nodes that failed with a resolvable reason, and the chosen candidate. */
export function findPreemption(
  info: PodSchedulingInfo,
  podKey: string,
  nodeStatuses: ReadonlyMap<string, FilterFailure>,
  nodesByName: ReadonlyMap<string, NodeInfo>,
  budgets: readonly DisruptionBudget[] = [],
  nominator?: Nominator,
): PreemptionOutcome {
  const reasonsPerNode: string[][] = [];
  const candidates: PreemptionCandidate[] = [];
  const wanted = candidatesWanted(nodesByName.size);
  for (const [name, failure] of nodeStatuses) {
    if (failure.code === 'UnschedulableAndUnresolvable') {
      reasonsPerNode.push([PREEMPTION_NOT_HELPFUL]);
      continue;
    }
    const stored = nodesByName.get(name);
    const held = stored ? nominator?.heldFor(name, info.priority, podKey) : undefined;
    const nodeInfo = stored && held ? stored.withPods(held) : stored;
    const potential: Victim[] = [];
    for (const [key, entry] of stored?.pods ?? []) {
      if (entry.priority < info.priority && entry.identity) potential.push({ key, entry, identity: entry.identity });
    }
    if (!nodeInfo || potential.length === 0) {
      reasonsPerNode.push([NO_PREEMPTION_VICTIMS]);
      continue;
    }
    const selected = selectVictimsOnNode(info, nodeInfo, potential, budgets);
    if ('reasons' in selected) {
      reasonsPerNode.push(selected.reasons);
      continue;
    }
    candidates.push({ nodeName: name, ...selected });
    reasonsPerNode.push([NO_PREEMPTION_VICTIMS]);
    if (candidates.length >= wanted) break;
  }
  return { candidate: pickCandidate(candidates), reasonsPerNode };
}
