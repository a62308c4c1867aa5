// rbac.authorization.k8s.io/v1 RoleBinding and ClusterRoleBinding (pkg/registry/rbac/rolebinding,
// clusterrolebinding): roleRef defaulted to the RBAC group and immutable, subjects validated as upstream,
// the table is printRoleBinding (NAME, ROLE, AGE; wide: USERS, GROUPS, SERVICEACCOUNTS). Whether the
// writer may bind the role is an admission check (auth/rbac/escalation-admission.ts).

import { isPlainObject, type KubeObject } from '../object.ts';
import type { ResourceStrategy } from '../resource.ts';
import { nameIsPathSegment } from '../validation/names.ts';
import { age, ageColumn, column, nameColumn } from './printing.ts';
import { defaultBinding, RBAC_GROUP, validateBinding, validateBindingUpdate } from './rbac-validation.ts';

const VERBS: ResourceStrategy['verbs'] = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

/** rbac.SubjectsStrings: users, groups, and service accounts as namespace/name. */
function subjectColumns(binding: KubeObject): [string, string, string] {
  const users: string[] = [];
  const groups: string[] = [];
  const serviceAccounts: string[] = [];
  for (const subject of Array.isArray(binding.subjects) ? binding.subjects : []) {
    if (!isPlainObject(subject)) continue;
    const name = typeof subject.name === 'string' ? subject.name : '';
    if (subject.kind === 'User') users.push(name);
    else if (subject.kind === 'Group') groups.push(name);
    else if (subject.kind === 'ServiceAccount') serviceAccounts.push(`${typeof subject.namespace === 'string' ? subject.namespace : ''}/${name}`);
  }
  return [users.join(', '), groups.join(', '), serviceAccounts.join(', ')];
}

function bindingTable(roleRefDescription: string): ResourceStrategy['table'] {
  return {
    columns: [
      nameColumn(),
      column('Role', roleRefDescription),
      ageColumn(),
      column('Users', 'Users in the roleBinding', 1),
      column('Groups', 'Groups in the roleBinding', 1),
      column('ServiceAccounts', 'ServiceAccounts in the roleBinding', 1),
    ],
    cells: (binding, now) => {
      const ref = isPlainObject(binding.roleRef) ? binding.roleRef : {};
      return [
        binding.metadata.name ?? '', `${String(ref.kind ?? '')}/${String(ref.name ?? '')}`, age(binding.metadata.creationTimestamp, now),
        ...subjectColumns(binding),
      ];
    },
  };
}

export const roleBindingStrategy: ResourceStrategy = {
  group: RBAC_GROUP,
  version: 'v1',
  kind: 'RoleBinding',
  listKind: 'RoleBindingList',
  resource: 'rolebindings',
  singular: 'rolebinding',
  shortNames: [],
  categories: [],
  namespaced: true,
  verbs: VERBS,
  storageResource: 'rolebindings',
  hasStatus: false,
  subresources: [],
  tracksGeneration: false,
  validateName: nameIsPathSegment,
  selectableFieldNames: [],
  applyDefaults: defaultBinding,
  validate: (binding) => validateBinding(binding, true),
  validateUpdate: (binding, old) => validateBindingUpdate(binding, old, true),
  table: bindingTable('RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace. If the RoleRef cannot be resolved, the Authorizer must return an error. This field is immutable.'),
};

export const clusterRoleBindingStrategy: ResourceStrategy = {
  ...roleBindingStrategy,
  kind: 'ClusterRoleBinding',
  listKind: 'ClusterRoleBindingList',
  resource: 'clusterrolebindings',
  singular: 'clusterrolebinding',
  namespaced: false,
  storageResource: 'clusterrolebindings',
  validate: (binding) => validateBinding(binding, false),
  validateUpdate: (binding, old) => validateBindingUpdate(binding, old, false),
  table: bindingTable('RoleRef can only reference a ClusterRole in the global namespace. If the RoleRef cannot be resolved, the Authorizer must return an error. This field is immutable.'),
};
