// What an object counts against a ResourceQuota (pkg/quota/v1/evaluator/core): one of its kind
// (`pods`, `configmaps`, `secrets`, `services`, `count/<resource>`), and for a pod that is not finished its
// requests and limits (`requests.cpu` = `cpu`, `limits.memory`, ...), services their node ports and load
// balancers. Shared by the quota admission plugin and the resource quota controller.

import { isPlainObject, type KubeObject } from '../object.ts';
import { parseQuantity } from '../resources/quantity.ts';

export type Usage = Record<string, number>;

/** Resources whose objects are counted by the short names quota uses. */
export const COUNTED_RESOURCES: Record<string, string> = {
  pods: 'pods', configmaps: 'configmaps', secrets: 'secrets', services: 'services', resourcequotas: 'resourcequotas',
  persistentvolumeclaims: 'persistentvolumeclaims', replicationcontrollers: 'replicationcontrollers',
};

function podIsTerminal(pod: KubeObject): boolean {
  const phase = isPlainObject(pod.status) ? pod.status.phase : undefined;
  return phase === 'Succeeded' || phase === 'Failed';
}

function containerTotals(pod: KubeObject, field: 'requests' | 'limits'): Usage {
  const spec = isPlainObject(pod.spec) ? pod.spec : {};
  const totals: Usage = {};
  for (const container of Array.isArray(spec.containers) ? spec.containers : []) {
    if (!isPlainObject(container) || !isPlainObject(container.resources)) continue;
    const values = container.resources[field];
    if (!isPlainObject(values)) continue;
    for (const [name, raw] of Object.entries(values)) totals[name] = (totals[name] ?? 0) + (parseQuantity(raw) ?? 0);
  }
  return totals;
}

/** The usage one object of `resource` (plural, core group unless `group` given) adds. */
export function usageOf(resource: string, object: KubeObject, group = ''): Usage {
  const usage: Usage = { [`count/${group ? `${resource}.${group}` : resource}`]: 1 };
  if (!group && COUNTED_RESOURCES[resource]) usage[COUNTED_RESOURCES[resource]] = 1;
  if (!group && resource === 'pods') {
    if (podIsTerminal(object)) return {};
    const requests = containerTotals(object, 'requests');
    const limits = containerTotals(object, 'limits');
    for (const [name, value] of Object.entries(requests)) {
      usage[`requests.${name}`] = value;
      if (name === 'cpu' || name === 'memory' || name === 'ephemeral-storage') usage[name] = value;
    }
    for (const [name, value] of Object.entries(limits)) usage[`limits.${name}`] = value;
  }
  if (!group && resource === 'services') {
    const spec = isPlainObject(object.spec) ? object.spec : {};
    const ports = Array.isArray(spec.ports) ? spec.ports.length : 0;
    if (spec.type === 'NodePort') usage['services.nodeports'] = ports;
    if (spec.type === 'LoadBalancer') {
      usage['services.loadbalancers'] = 1;
      if (spec.allocateLoadBalancerNodePorts !== false) usage['services.nodeports'] = ports;
    }
  }
  return usage;
}

/** Quantity text as the API prints it: whole numbers plain, fractions of a core in millicores. */
export function formatQuantity(name: string, value: number): string {
  if (Number.isInteger(value)) {
    const isMemory = /memory|storage/.test(name);
    if (isMemory && value > 0 && value % (1024 * 1024) === 0) return `${value / (1024 * 1024)}Mi`;
    return String(value);
  }
  return `${Math.round(value * 1000)}m`;
}
