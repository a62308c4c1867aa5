// Pod QoS class, as pkg/apis/core/helper/qos.ComputePodQOS: only cpu and memory count; a zero
// quantity counts as unset; Guaranteed needs cpu and memory limits on every container and
// requests equal to limits.

import type { KubeObject } from '../object.ts';
import { list, obj } from './printing.ts';
import { parseQuantity, quantitiesEqual } from './quantity.ts';

export type QOSClass = 'Guaranteed' | 'Burstable' | 'BestEffort';

const QOS_RESOURCES = new Set(['cpu', 'memory']);

function addPositive(totals: Map<string, number>, resources: Record<string, unknown> | undefined): Set<string> {
  const found = new Set<string>();
  for (const [name, raw] of Object.entries(resources ?? {})) {
    if (!QOS_RESOURCES.has(name)) continue;
    const value = parseQuantity(raw);
    if (value === undefined || value <= 0) continue;
    found.add(name);
    totals.set(name, (totals.get(name) ?? 0) + value);
  }
  return found;
}

/** `requests` missing from a container default to its limits (defaulting runs before QoS upstream). */
export function computePodQOS(pod: KubeObject): QOSClass {
  const requests = new Map<string, number>();
  const limits = new Map<string, number>();
  let guaranteed = true;
  for (const container of [...list(pod, 'spec', 'containers'), ...list(pod, 'spec', 'initContainers')]) {
    const containerLimits = obj(container, 'resources', 'limits');
    const containerRequests = { ...(containerLimits ?? {}), ...(obj(container, 'resources', 'requests') ?? {}) };
    addPositive(requests, containerRequests);
    const limitsFound = addPositive(limits, containerLimits);
    if (!limitsFound.has('cpu') || !limitsFound.has('memory')) guaranteed = false;
  }
  if (requests.size === 0 && limits.size === 0) return 'BestEffort';
  if (guaranteed) {
    for (const [name, request] of requests) {
      const limit = limits.get(name);
      if (limit === undefined || !quantitiesEqual(limit, request)) {
        guaranteed = false;
        break;
      }
    }
  }
  return guaranteed && requests.size === limits.size ? 'Guaranteed' : 'Burstable';
}
