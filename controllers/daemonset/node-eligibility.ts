// Whether a DaemonSet's pod should run on a node (NodeShouldRunDaemonPod): the template's
// nodeSelector and required node affinity, and the node's NoSchedule/NoExecute taints against the
// template's tolerations plus the ones every daemon pod gets (AddOrUpdateDaemonPodTolerations).

import { toleratesTaint, type Taint, type Toleration } from '../../api/tolerations.ts';
import type { WorkloadObject } from '../framework/object-views.ts';

export type { Toleration } from '../../api/tolerations.ts';

/** The tolerations the DaemonSet controller adds to every daemon pod. */
export function daemonPodTolerations(hostNetwork: boolean): Toleration[] {
  const tolerations: Toleration[] = [
    { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
  ];
  if (hostNetwork) tolerations.push({ key: 'node.kubernetes.io/network-unavailable', operator: 'Exists', effect: 'NoSchedule' });
  return tolerations;
}

/** Adds each default toleration the template does not already have (by key and effect). */
export function withDaemonTolerations(existing: Toleration[], hostNetwork: boolean): Toleration[] {
  const out = [...existing];
  for (const toleration of daemonPodTolerations(hostNetwork)) {
    if (!out.some((t) => t.key === toleration.key && t.effect === toleration.effect)) out.push(toleration);
  }
  return out;
}

interface Requirement {
  key: string;
  operator: string;
  values?: string[];
}

function requirementMatches(req: Requirement, value: string | undefined): boolean {
  const values = req.values ?? [];
  switch (req.operator) {
    case 'In': return value !== undefined && values.includes(value);
    case 'NotIn': return value === undefined || !values.includes(value);
    case 'Exists': return value !== undefined;
    case 'DoesNotExist': return value === undefined;
    case 'Gt': return value !== undefined && Number(value) > Number(values[0]);
    case 'Lt': return value !== undefined && Number(value) < Number(values[0]);
    default: return false;
  }
}

export function nodeShouldRunDaemonPod(node: WorkloadObject, template: Record<string, unknown>): boolean {
  const spec = (template.spec ?? {}) as Record<string, unknown>;
  const labels = node.metadata.labels ?? {};
  const nodeSelector = (spec.nodeSelector ?? {}) as Record<string, string>;
  if (!Object.entries(nodeSelector).every(([k, v]) => labels[k] === v)) return false;
  const required = ((spec.affinity as { nodeAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms?: { matchExpressions?: Requirement[]; matchFields?: Requirement[] }[] } } } | undefined)
    ?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms);
  if (required && required.length > 0) {
    const anyTerm = required.some((term) => (term.matchExpressions ?? []).every((req) => requirementMatches(req, labels[req.key]))
      && (term.matchFields ?? []).every((req) => requirementMatches(req, req.key === 'metadata.name' ? node.metadata.name : undefined)));
    if (!anyTerm) return false;
  }
  const tolerations = withDaemonTolerations((spec.tolerations ?? []) as Toleration[], spec.hostNetwork === true);
  const taints = (((node.spec ?? {}).taints ?? []) as Taint[]).filter((t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute');
  return taints.every((taint) => tolerations.some((t) => toleratesTaint(t, taint)));
}
