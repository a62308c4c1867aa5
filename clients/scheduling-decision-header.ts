// How a scheduler tells the API server how it chose a node: a header on its POST pods/binding.
// kube-scheduler logs the same two numbers ("Successfully bound pod to node" evaluatedNodes=… feasibleNodes=…)
// but sends them nowhere; ours sends them too, so the API server can keep them in the web view's request journal
// (server/ui/request-journal.ts) and the pod journey can show the filtering step from what the server received.
// Informational only: a binding without the header, or with a malformed one, is handled exactly as before.

export interface SchedulingDecision {
  evaluatedNodes: number;
  feasibleNodes: number;
}

export const SCHEDULING_DECISION_HEADER = 'kubefacade-scheduling-decision';

/** Parses `evaluatedNodes=5, feasibleNodes=3`; anything else is ignored (the header is informational). */
export function parseSchedulingDecision(value: string | string[] | undefined): SchedulingDecision | undefined {
  if (typeof value !== 'string' || value.length > 200) return undefined;
  const evaluated = /(?:^|[\s,;])evaluatedNodes=(\d{1,9})(?:$|[\s,;])/.exec(value);
  const feasible = /(?:^|[\s,;])feasibleNodes=(\d{1,9})(?:$|[\s,;])/.exec(value);
  if (!evaluated || !feasible) return undefined;
  const decision = { evaluatedNodes: Number(evaluated[1]), feasibleNodes: Number(feasible[1]) };
  return decision.feasibleNodes <= decision.evaluatedNodes ? decision : undefined;
}

export function formatSchedulingDecision(decision: SchedulingDecision): string {
  return `evaluatedNodes=${decision.evaluatedNodes}, feasibleNodes=${decision.feasibleNodes}`;
}
