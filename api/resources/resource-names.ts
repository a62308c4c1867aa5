// Resource-name rules of pkg/apis/core/validation shared by LimitRange and ResourceQuota.

import { isQualifiedName } from '../validation/names.ts';

const STANDARD_CONTAINER_RESOURCES = new Set(['cpu', 'memory', 'ephemeral-storage']);
const STANDARD_QUOTA_RESOURCES = new Set([
  'cpu', 'memory', 'requests.cpu', 'requests.memory', 'requests.storage', 'limits.cpu', 'limits.memory',
  'ephemeral-storage', 'requests.ephemeral-storage', 'limits.ephemeral-storage', 'pods', 'services', 'replicationcontrollers',
  'resourcequotas', 'secrets', 'persistentvolumeclaims', 'configmaps', 'services.nodeports', 'services.loadbalancers',
]);

function isNativeName(name: string): boolean {
  return !name.includes('/') || name.includes('kubernetes.io/');
}

function isHugePages(name: string): boolean {
  return name.startsWith('hugepages-') || name.startsWith('requests.hugepages-') || name.startsWith('limits.hugepages-');
}

/** validateResourceName: a qualified name, possibly with a prefix. */
export function resourceNameErrors(name: string): string[] {
  return isQualifiedName(name);
}

/** validateContainerResourceName: standard (cpu, memory, ...) or fully qualified. */
export function containerResourceNameErrors(name: string): string[] {
  const errs = resourceNameErrors(name);
  if (errs.length > 0) return errs;
  if (isNativeName(name) && !STANDARD_CONTAINER_RESOURCES.has(name) && !name.startsWith('hugepages-')) {
    return ['must be a standard resource for containers'];
  }
  return [];
}

/** validateResourceQuotaResourceName: standard quota resources, count/<resource>, or fully qualified. */
export function quotaResourceNameErrors(name: string): string[] {
  const errs = resourceNameErrors(name);
  if (errs.length > 0) return errs;
  if (name.startsWith('count/') || isHugePages(name)) return [];
  if (isNativeName(name) && !STANDARD_QUOTA_RESOURCES.has(name)) return ['must be a standard resource for quota'];
  return [];
}
