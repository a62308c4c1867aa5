// How many feasible nodes a cycle looks for, and how the winner is picked among equal best scores
// (pkg/scheduler/schedule_one.go: numFeasibleNodesToFind, selectHost).

export const MIN_FEASIBLE_NODES_TO_FIND = 100;
export const MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND = 5;

/** percentageOfNodesToScore 0 (or undefined) means adaptive: 50 - nodes/125 percent, at least 5%. */
export function numFeasibleNodesToFind(numAllNodes: number, percentageOfNodesToScore = 0): number {
  if (numAllNodes < MIN_FEASIBLE_NODES_TO_FIND) return numAllNodes;
  let percentage = percentageOfNodesToScore;
  if (percentage === 0) {
    percentage = 50 - Math.trunc(numAllNodes / 125);
    if (percentage < MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND) percentage = MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND;
  }
  if (percentage >= 100) return numAllNodes;
  const numNodes = Math.trunc((numAllNodes * percentage) / 100);
  return numNodes < MIN_FEASIBLE_NODES_TO_FIND ? MIN_FEASIBLE_NODES_TO_FIND : numNodes;
}

/** Highest total wins; ties are resolved by reservoir sampling so each best node is equally likely. */
export function selectHostIndex(totalScores: readonly number[], random: () => number = Math.random): number {
  if (totalScores.length === 0) throw new Error('empty priorityList');
  let selected = 0;
  let best = totalScores[0];
  let countOfBest = 1;
  for (let i = 1; i < totalScores.length; i++) {
    if (totalScores[i] > best) {
      best = totalScores[i];
      selected = i;
      countOfBest = 1;
    } else if (totalScores[i] === best) {
      countOfBest++;
      if (Math.floor(random() * countOfBest) === 0) selected = i;
    }
  }
  return selected;
}
