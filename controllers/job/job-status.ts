// Job arithmetic (pkg/controller/job): how many pods should run, completed indexes as the compact
// "0-2,5" string, the pod-failure backoff, and podFailurePolicy rule matching.

import type { PodView, WorkloadObject } from '../framework/object-views.ts';

export const COMPLETION_INDEX_ANNOTATION = 'batch.kubernetes.io/job-completion-index';
/** DefaultJobPodFailureBackOff and MaxJobPodFailureBackOff. */
export const POD_FAILURE_BACKOFF_MS = 10_000;
export const MAX_POD_FAILURE_BACKOFF_MS = 10 * 60_000;

export function int(value: unknown, fallback = 0): number {
  return typeof value === 'number' ? value : fallback;
}

export function completionIndex(pod: PodView): number | undefined {
  const text = pod.metadata.annotations?.[COMPLETION_INDEX_ANNOTATION];
  const value = text === undefined ? NaN : Number(text);
  return Number.isInteger(value) && value >= 0 ? value : undefined;
}

/** Sorted distinct indexes as intervals: [0,1,2,5] → "0-2,5". */
export function formatIndexes(indexes: Iterable<number>): string {
  const sorted = [...new Set(indexes)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    parts.push(i === j ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

export function parseIndexes(text: unknown): Set<number> {
  const out = new Set<number>();
  if (typeof text !== 'string' || !text) return out;
  for (const part of text.split(',')) {
    const [from, to] = part.split('-').map(Number);
    for (let i = from; i <= (Number.isNaN(to) || to === undefined ? from : to); i++) out.add(i);
  }
  return out;
}

export interface PodFailurePolicyMatch {
  action: 'FailJob' | 'Ignore' | 'Count' | 'FailIndex';
  message: string;
}

interface Rule {
  action?: string;
  onExitCodes?: { containerName?: string; operator?: string; values?: number[] };
  onPodConditions?: { type?: string; status?: string }[];
}

/** matchPodFailurePolicy: the first rule matching a failed pod (its terminated containers' exit codes or conditions). */
export function matchPodFailurePolicy(job: WorkloadObject, pod: PodView): PodFailurePolicyMatch | undefined {
  const rules = ((job.spec?.podFailurePolicy as { rules?: Rule[] } | undefined)?.rules) ?? [];
  for (const [index, rule] of rules.entries()) {
    const action = rule.action as PodFailurePolicyMatch['action'];
    if (rule.onExitCodes) {
      const values = rule.onExitCodes.values ?? [];
      for (const exit of pod.exits) {
        if (exit.exitCode === 0) continue;
        if (rule.onExitCodes.containerName && rule.onExitCodes.containerName !== exit.name) continue;
        const listed = values.includes(exit.exitCode);
        if ((rule.onExitCodes.operator === 'In') === listed) {
          return { action, message: `Container ${exit.name} for pod ${pod.metadata.namespace}/${pod.metadata.name} failed with exit code ${exit.exitCode} matching ${action} rule at index ${index}` };
        }
      }
    }
    for (const pattern of rule.onPodConditions ?? []) {
      if ((pattern.status ?? 'True') === 'True' && pattern.type && pod.trueConditions.includes(pattern.type)) {
        return { action, message: `Pod ${pod.metadata.namespace}/${pod.metadata.name} has condition ${pattern.type} matching ${action} rule at index ${index}` };
      }
    }
  }
  return undefined;
}

/** The pod-failure backoff after `failures` consecutive failures (10 s doubling, at most 10 minutes). */
export function failureBackoffMs(failures: number): number {
  if (failures <= 0) return 0;
  return Math.min(MAX_POD_FAILURE_BACKOFF_MS, POD_FAILURE_BACKOFF_MS * 2 ** (failures - 1));
}
