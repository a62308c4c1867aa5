// rbac.authorization.k8s.io/v1 Role and ClusterRole (pkg/registry/rbac/role, clusterrole): rules are
// validated as upstream, the table is printRole / printClusterRole (NAME, CREATED AT). Escalation
// prevention is an admission check (auth/rbac/escalation-admission.ts); aggregated ClusterRoles get
// their rules from the aggregation controller.

import type { KubeObject } from '../object.ts';
import type { ResourceStrategy, TableColumnDefinition } from '../resource.ts';
import { nameIsPathSegment } from '../validation/names.ts';
import { DESCRIPTIONS, nameColumn } from './printing.ts';
import { RBAC_GROUP, validateAggregationRule, validatePolicyRules } from './rbac-validation.ts';

const VERBS: ResourceStrategy['verbs'] = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

const createdAtColumn = (): TableColumnDefinition => ({ name: 'Created At', type: 'date', format: '', description: DESCRIPTIONS.creationTimestamp, priority: 0 });

/** The creation time as printRole prints it: RFC 3339 in UTC. */
function createdAt(role: KubeObject): string {
  const at = role.metadata.creationTimestamp;
  if (typeof at !== 'string' || Number.isNaN(Date.parse(at))) return '0001-01-01T00:00:00Z';
  return new Date(Date.parse(at)).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const roleTable: ResourceStrategy['table'] = {
  columns: [nameColumn(), createdAtColumn()],
  cells: (role) => [role.metadata.name ?? '', createdAt(role)],
};

export const roleStrategy: ResourceStrategy = {
  group: RBAC_GROUP,
  version: 'v1',
  kind: 'Role',
  listKind: 'RoleList',
  resource: 'roles',
  singular: 'role',
  shortNames: [],
  categories: [],
  namespaced: true,
  verbs: VERBS,
  storageResource: 'roles',
  hasStatus: false,
  subresources: [],
  tracksGeneration: false,
  validateName: nameIsPathSegment,
  selectableFieldNames: [],
  validate: (role) => validatePolicyRules(role, true),
  validateUpdate: (role) => validatePolicyRules(role, true),
  table: roleTable,
};

export const clusterRoleStrategy: ResourceStrategy = {
  ...roleStrategy,
  kind: 'ClusterRole',
  listKind: 'ClusterRoleList',
  resource: 'clusterroles',
  singular: 'clusterrole',
  namespaced: false,
  storageResource: 'clusterroles',
  validate: (role) => [...validatePolicyRules(role, false), ...validateAggregationRule(role)],
  validateUpdate: (role) => [...validatePolicyRules(role, false), ...validateAggregationRule(role)],
  table: roleTable,
};
