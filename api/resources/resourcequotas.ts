// core/v1 ResourceQuota: ValidateResourceQuota (resource names, non-negative quantities, scopes),
// status kept apart (resourcequotas/status, written by the quota controller), printResourceQuota.

import { invalidField, notSupportedField, type FieldError } from '../errors.ts';
import { isPlainObject, type KubeObject } from '../object.ts';
import type { ResourceStrategy } from '../resource.ts';
import { nameIsDNSSubdomain } from '../validation/names.ts';
import { age, ageColumn, column, list, nameColumn, obj, str } from './printing.ts';
import { parseQuantity } from './quantity.ts';
import { quotaResourceNameErrors } from './resource-names.ts';

const QUOTA_SCOPES = ['BestEffort', 'CrossNamespacePodAffinity', 'NotBestEffort', 'NotTerminating', 'PriorityClass', 'Terminating'];

function validateQuantities(values: Record<string, unknown> | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const [name, raw] of Object.entries(values ?? {})) {
    for (const msg of quotaResourceNameErrors(name)) errs.push(invalidField(`${path}[${name}]`, name, msg));
    const value = parseQuantity(raw);
    if (value !== undefined && value < 0) errs.push(invalidField(`${path}[${name}]`, String(raw), 'must be greater than or equal to 0'));
  }
  return errs;
}

/** helper.standardQuotaResources: the names scopes are checked against. */
const STANDARD_QUOTA_RESOURCES = new Set([
  'cpu', 'memory', 'ephemeral-storage', 'requests.cpu', 'requests.memory', 'requests.storage', 'requests.ephemeral-storage',
  'limits.cpu', 'limits.memory', 'limits.ephemeral-storage', 'pods', 'resourcequotas', 'services', 'replicationcontrollers',
  'secrets', 'persistentvolumeclaims', 'configmaps', 'services.nodeports', 'services.loadbalancers',
]);
const POD_COMPUTE_RESOURCES = new Set(['cpu', 'memory', 'limits.cpu', 'limits.memory', 'requests.cpu', 'requests.memory']);

/** helper.IsResourceQuotaScopeValidForResource. */
function scopeValidForResource(scope: string, resource: string): boolean {
  if (scope === 'BestEffort') return resource === 'pods';
  if (['Terminating', 'NotTerminating', 'NotBestEffort', 'PriorityClass', 'CrossNamespacePodAffinity'].includes(scope)) return resource === 'pods' || POD_COMPUTE_RESOURCES.has(resource);
  return true;
}

/**
 * validateResourceQuotaScopes: a scope may only apply to the standard resources it can track (BestEffort
 * counts pods; the others pods and their compute resources), and BestEffort/NotBestEffort or
 * Terminating/NotTerminating together conflict. The value printed is the scope list, as Go's %#v shows it.
 */
function scopeResourceErrors(scopes: string[], hard: string[]): FieldError[] {
  if (scopes.length === 0) return [];
  const printed = `[]core.ResourceQuotaScope{${scopes.map((scope) => JSON.stringify(scope)).join(', ')}}`;
  const invalidScopes = (detail: string): FieldError => ({ type: 'FieldValueInvalid', field: 'spec.scopes', message: `Invalid value: ${printed}: ${detail}` });
  const errs: FieldError[] = [];
  const resources = [...hard].sort();
  for (const scope of scopes) {
    for (const resource of resources) {
      if (STANDARD_QUOTA_RESOURCES.has(resource) && !scopeValidForResource(scope, resource)) errs.push(invalidScopes('unsupported scope applied to resource'));
    }
  }
  for (const [a, b] of [['BestEffort', 'NotBestEffort'], ['Terminating', 'NotTerminating']]) {
    if (scopes.includes(a) && scopes.includes(b)) errs.push(invalidScopes('conflicting scopes'));
  }
  return errs;
}

export function validateResourceQuota(quota: KubeObject): FieldError[] {
  const errs = [
    ...validateQuantities(obj(quota, 'spec', 'hard'), 'spec.hard'),
    ...validateQuantities(obj(quota, 'status', 'hard'), 'status.hard'),
    ...validateQuantities(obj(quota, 'status', 'used'), 'status.used'),
  ];
  const scopes = isPlainObject(quota.spec) && Array.isArray(quota.spec.scopes) ? quota.spec.scopes : [];
  scopes.forEach((scope, i) => {
    if (!QUOTA_SCOPES.includes(String(scope))) errs.push(notSupportedField(`spec.scopes[${i}]`, scope, QUOTA_SCOPES));
  });
  errs.push(...scopeResourceErrors(scopes.map(String), Object.keys(obj(quota, 'spec', 'hard') ?? {})));
  list(quota, 'spec', 'scopeSelector', 'matchExpressions').forEach((expression, i) => {
    const scope = str(expression, 'scopeName');
    if (!QUOTA_SCOPES.includes(scope)) errs.push(notSupportedField(`spec.scopeSelector.matchExpressions[${i}].scopeName`, scope, QUOTA_SCOPES));
  });
  return errs;
}

/** resource.Quantity's canonical String() is what the API returns; the stored text is printed as is. */
function quantityText(value: unknown): string {
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : '0';
}

/** printResourceQuota: `name: used/hard` for every hard resource, `limits.*` in the Limit column. */
export function quotaColumns(quota: KubeObject): [string, string] {
  const hard = obj(quota, 'status', 'hard') ?? {};
  const used = obj(quota, 'status', 'used') ?? {};
  const request: string[] = [];
  const limit: string[] = [];
  for (const name of Object.keys(hard).sort()) {
    const pieces = name.split('.');
    const target = pieces.length > 1 && pieces[0] === 'limits' ? limit : request;
    target.push(`${name}: ${quantityText(used[name])}/${quantityText(hard[name])}`);
  }
  return [request.join(', '), limit.join(', ')];
}

export const resourceQuotaStrategy: ResourceStrategy = {
  group: '',
  version: 'v1',
  kind: 'ResourceQuota',
  listKind: 'ResourceQuotaList',
  resource: 'resourcequotas',
  singular: 'resourcequota',
  shortNames: ['quota'],
  categories: [],
  namespaced: true,
  verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
  storageResource: 'resourcequotas',
  hasStatus: true,
  subresources: [],
  tracksGeneration: false,

  prepareForCreate(quota) {
    quota.status = {};
  },
  validateName: nameIsDNSSubdomain,
  validate: (quota) => validateResourceQuota(quota),
  validateUpdate: (quota) => validateResourceQuota(quota),
  validateStatusUpdate: (quota) => validateResourceQuota(quota),
  selectableFieldNames: [],
  table: {
    columns: [
      nameColumn(),
      ageColumn(),
      column('Request', 'Request represents a minimum amount of cpu/memory that a container may consume.'),
      column('Limit', 'Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.'),
    ],
    cells: (quota, now) => [quota.metadata.name ?? '', age(quota.metadata.creationTimestamp, now), ...quotaColumns(quota)],
  },
};
