// pkg/registry/rbac/validation DefaultRuleResolver: which rules apply to a user in a namespace. Cluster
// role bindings first, then the role bindings of the namespace; a binding whose role is missing yields an
// error for the reason text instead of rules. Visiting stops as soon as the visitor has what it needs.

import type { KubeObject } from '../../api/object.ts';
import type { UserInfo } from '../user.ts';
import { serviceAccountUsername } from '../well-known.ts';
import { roleRefOf, rulesOf, subjectsOf, type PolicyRule, type RoleRef, type Subject } from './policy-rule.ts';
import type { PolicySource } from './policy-source.ts';

/**
 * How a missing role is reported. The authorizer reads listers (`role.rbac.authorization.k8s.io "x"
 * not found`); the escalation checks of the RBAC registry read the registry (`roles.rbac...`).
 */
export type NotFoundWording = 'lister' | 'registry';

export type RuleVisitor = (source: string | undefined, rule: PolicyRule | undefined, error: string | undefined) => boolean;

export class RoleNotFoundError extends Error {}

export class DefaultRuleResolver {
  constructor(private readonly policy: PolicySource, private readonly wording: NotFoundWording = 'lister') {}

  visitRulesFor(user: UserInfo, namespace: string, visitor: RuleVisitor): void {
    for (const binding of this.policy.listClusterRoleBindings()) {
      const subject = appliesTo(user, subjectsOf(binding), '');
      if (!subject) continue;
      const roleRef = roleRefOf(binding);
      let rules: PolicyRule[];
      try {
        rules = this.getRoleReferenceRules(roleRef, '');
      } catch (err) {
        if (!visitor(undefined, undefined, (err as Error).message)) return;
        continue;
      }
      const source = `ClusterRoleBinding ${goQuote(binding.metadata.name ?? '')} of ${roleRef.kind} ${goQuote(roleRef.name)} to ${describeSubject(subject, '')}`;
      for (const rule of rules) if (!visitor(source, rule, undefined)) return;
    }
    if (!namespace) return;
    for (const binding of this.policy.listRoleBindings(namespace)) {
      const subject = appliesTo(user, subjectsOf(binding), namespace);
      if (!subject) continue;
      const roleRef = roleRefOf(binding);
      let rules: PolicyRule[];
      try {
        rules = this.getRoleReferenceRules(roleRef, namespace);
      } catch (err) {
        if (!visitor(undefined, undefined, (err as Error).message)) return;
        continue;
      }
      const bindingNamespace = binding.metadata.namespace ?? '';
      const source = `RoleBinding ${goQuote(`${binding.metadata.name ?? ''}/${bindingNamespace}`)} of ${roleRef.kind} ${goQuote(roleRef.name)} to ${describeSubject(subject, bindingNamespace)}`;
      for (const rule of rules) if (!visitor(source, rule, undefined)) return;
    }
  }

  /** Every rule that applies, plus the errors met on the way (the rules are still usable). */
  rulesFor(user: UserInfo, namespace: string): { rules: PolicyRule[]; errors: string[] } {
    const rules: PolicyRule[] = [];
    const errors: string[] = [];
    this.visitRulesFor(user, namespace, (_source, rule, error) => {
      if (rule) rules.push(rule);
      if (error) errors.push(error);
      return true;
    });
    return { rules, errors };
  }

  /** The rules a role reference grants; throws RoleNotFoundError when the role is missing. */
  getRoleReferenceRules(roleRef: RoleRef, bindingNamespace: string): PolicyRule[] {
    let role: KubeObject | undefined;
    if (roleRef.kind === 'Role') role = this.policy.getRole(bindingNamespace, roleRef.name);
    else if (roleRef.kind === 'ClusterRole') role = this.policy.getClusterRole(roleRef.name);
    else throw new RoleNotFoundError(`unsupported role reference kind: ${goQuote(roleRef.kind)}`);
    if (!role) {
      const resource = this.wording === 'lister' ? roleRef.kind.toLowerCase() : `${roleRef.kind.toLowerCase()}s`;
      throw new RoleNotFoundError(`${resource}.rbac.authorization.k8s.io ${goQuote(roleRef.name)} not found`);
    }
    return rulesOf(role);
  }
}

/** The first subject of a binding that names this user (appliesTo), or undefined. */
export function appliesTo(user: UserInfo, subjects: Subject[], namespace: string): Subject | undefined {
  return subjects.find((subject) => appliesToUser(user, subject, namespace));
}

export function appliesToUser(user: UserInfo, subject: Subject, namespace: string): boolean {
  switch (subject.kind) {
    case 'User':
      return user.username === subject.name;
    case 'Group':
      return user.groups.includes(subject.name);
    case 'ServiceAccount': {
      // A binding's own namespace is the default for a service account subject without one.
      const saNamespace = subject.namespace || namespace;
      if (!saNamespace) return false;
      return user.username === serviceAccountUsername(saNamespace, subject.name);
    }
    default:
      return false;
  }
}

function describeSubject(subject: Subject, bindingNamespace: string): string {
  if (subject.kind === 'ServiceAccount') {
    return `${subject.kind} ${goQuote(`${subject.name}/${subject.namespace || bindingNamespace}`)}`;
  }
  return `${subject.kind} ${goQuote(subject.name)}`;
}

/** Go's %q for the plain strings Kubernetes names are: JSON string quoting matches it for them. */
export function goQuote(value: string): string {
  return JSON.stringify(value);
}

/** Go's %q of a []string: `["a" "b"]`. */
export function goQuoteList(values: string[]): string {
  return `[${values.map(goQuote).join(' ')}]`;
}
