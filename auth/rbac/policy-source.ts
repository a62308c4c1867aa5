// Where the RBAC authorizer reads roles and bindings from: the listers of plugin/pkg/auth/authorizer/rbac.
// The server reads an in-memory cache kept by storage watches (policy-cache.ts); tests can hand a fixed set.

import type { KubeObject } from '../../api/object.ts';

export interface PolicySource {
  getRole(namespace: string, name: string): KubeObject | undefined;
  getClusterRole(name: string): KubeObject | undefined;
  listClusterRoles(): KubeObject[];
  /** Sorted by name, so the binding credited in a decision's reason does not vary between runs. */
  listClusterRoleBindings(): KubeObject[];
  listRoleBindings(namespace: string): KubeObject[];
}

function byName(a: KubeObject, b: KubeObject): number {
  const left = a.metadata.name ?? '';
  const right = b.metadata.name ?? '';
  return left < right ? -1 : left > right ? 1 : 0;
}

/** A fixed policy, for tests and offline evaluation. */
export class StaticPolicySource implements PolicySource {
  constructor(private readonly objects: { roles?: KubeObject[]; clusterRoles?: KubeObject[]; roleBindings?: KubeObject[]; clusterRoleBindings?: KubeObject[] }) {}

  getRole(namespace: string, name: string): KubeObject | undefined {
    return this.objects.roles?.find((r) => r.metadata.namespace === namespace && r.metadata.name === name);
  }

  getClusterRole(name: string): KubeObject | undefined {
    return this.objects.clusterRoles?.find((r) => r.metadata.name === name);
  }

  listClusterRoles(): KubeObject[] {
    return [...(this.objects.clusterRoles ?? [])].sort(byName);
  }

  listClusterRoleBindings(): KubeObject[] {
    return [...(this.objects.clusterRoleBindings ?? [])].sort(byName);
  }

  listRoleBindings(namespace: string): KubeObject[] {
    return (this.objects.roleBindings ?? []).filter((b) => b.metadata.namespace === namespace).sort(byName);
  }
}

export { byName as compareByName };
