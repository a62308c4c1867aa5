// What a pod worker keeps of the latest version of its pod instead of the V1Pod itself: the few fields it reads after
// start-up, with the foreign conditions already in the form a status write copies.
import type { V1Pod } from '@kubernetes/client-node';
import { rfc3339 } from './node-object.ts';
import { CPU_USAGE_ANNOTATION, MEMORY_USAGE_ANNOTATION } from './simulated-usage.ts';

function isoOf(value: unknown): string | undefined {
  if (value instanceof Date) return rfc3339(value.getTime());
  return typeof value === 'string' ? value : undefined;
}

/** What a worker keeps of the latest version of its pod. */
export interface PodView {
  resourceVersion?: string;
  deletionRequested: boolean;
  /** metadata.deletionGracePeriodSeconds, else spec.terminationGracePeriodSeconds, else 30. */
  graceSeconds: number;
  /** spec.activeDeadlineSeconds: how long the pod may be active on the node, counted from its start. */
  activeDeadlineSeconds?: number;
  /** Conditions owned by others (PodScheduled from the scheduler, DisruptionTarget …), ready to copy into a status. */
  foreignConditions: unknown[];
  /** The kubefacade.io/fail-probes annotation (kubelet/probes.ts), read at every simulated probe. */
  failProbes?: string;
  /** The kubefacade.io/cpu-usage and memory-usage annotations (simulated-usage.ts), read at every stats request. */
  cpuUsage?: string;
  memoryUsage?: string;
}

/** Condition types the kubelet owns (it writes them; any other type in the pod's status is kept as it is). */
const KUBELET_CONDITIONS = new Set(['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady']);

export function viewOf(pod: V1Pod): PodView {
  return {
    resourceVersion: pod.metadata?.resourceVersion,
    deletionRequested: Boolean(pod.metadata?.deletionTimestamp),
    graceSeconds: pod.metadata?.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30,
    activeDeadlineSeconds: pod.spec?.activeDeadlineSeconds,
    failProbes: pod.metadata?.annotations?.['kubefacade.io/fail-probes'],
    cpuUsage: pod.metadata?.annotations?.[CPU_USAGE_ANNOTATION],
    memoryUsage: pod.metadata?.annotations?.[MEMORY_USAGE_ANNOTATION],
    foreignConditions: (pod.status?.conditions ?? []).filter((condition) => !KUBELET_CONDITIONS.has(condition.type)).map((condition) => ({
      ...condition,
      lastProbeTime: isoOf(condition.lastProbeTime) ?? null,
      lastTransitionTime: isoOf(condition.lastTransitionTime),
    })),
  };
}
