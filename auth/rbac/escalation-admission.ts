// RBAC escalation prevention, as the RBAC registry's policy-based storage does it
// (pkg/registry/rbac/{role,clusterrole,rolebinding,clusterrolebinding}/policybased): a user may only
// write a role whose rules they already hold, unless they have `escalate` on it; and may only bind a
// role they hold the rules of, unless they have `bind` on it. Members of system:masters skip the checks.
// Writes that only touch garbage-collection fields are always allowed.

import { isDeepStrictEqual } from 'node:util';
import type { AdmissionAttributes, ValidatingAdmission } from '../../api/admission.ts';
import { forbidden } from '../../api/errors.ts';
import { deepCopy, type KubeObject } from '../../api/object.ts';
import { aggregateErrors, resourceAttributes, type Authorizer } from '../authorizer.ts';
import type { UserInfo } from '../user.ts';
import { SYSTEM_MASTERS_GROUP } from '../well-known.ts';
import { compactRules, compactString, covers } from './covers.ts';
import { RBAC_GROUP, roleRefOf, rulesOf, type PolicyRule, type RoleRef } from './policy-rule.ts';
import type { PolicySource } from './policy-source.ts';
import { DefaultRuleResolver, goQuote, goQuoteList } from './rule-resolver.ts';

const ROLE_RESOURCES = new Set(['roles', 'clusterroles']);
const BINDING_RESOURCES = new Set(['rolebindings', 'clusterrolebindings']);

/** `*` on everything: what setting an aggregationRule requires, since it can gather any rule. */
const FULL_AUTHORITY: PolicyRule[] = [
  { verbs: ['*'], apiGroups: ['*'], resources: ['*'] },
  { verbs: ['*'], nonResourceURLs: ['*'] },
];

export class RbacEscalationAdmission implements ValidatingAdmission {
  private readonly resolver: DefaultRuleResolver;

  constructor(policy: PolicySource, private readonly authorizer: Authorizer) {
    this.resolver = new DefaultRuleResolver(policy, 'registry');
  }

  validate(attributes: AdmissionAttributes): void {
    if (attributes.group !== RBAC_GROUP || attributes.operation === 'DELETE' || attributes.subresource) return;
    const { object, oldObject, user } = attributes;
    if (!object || escalationAllowed(user)) return;
    if (attributes.operation === 'UPDATE' && oldObject && onlyGarbageCollectionFieldsChanged(object, oldObject)) return;
    const groupResource = { group: RBAC_GROUP, resource: attributes.resource };
    const name = object.metadata.name ?? attributes.name;
    if (ROLE_RESOURCES.has(attributes.resource)) {
      if (this.explicitlyAllowed(user, 'escalate', attributes)) return;
      const problem = this.confirmNoEscalation(user, attributes.namespace, rulesOf(object));
      if (problem) throw forbidden(`${attributes.resource}.${RBAC_GROUP} ${goQuote(name)} is forbidden: ${problem}`, groupResource, name);
      if (attributes.resource === 'clusterroles' && object.aggregationRule
        && (attributes.operation === 'CREATE' || !isDeepStrictEqual(object.aggregationRule, oldObject?.aggregationRule))
        && this.confirmNoEscalation(user, '', FULL_AUTHORITY)) {
        throw forbidden(`${attributes.resource}.${RBAC_GROUP} ${goQuote(name)} is forbidden: must have cluster-admin privileges to use the aggregationRule`, groupResource, name);
      }
      return;
    }
    if (BINDING_RESOURCES.has(attributes.resource)) {
      const roleRef = roleRefOf(object);
      if (this.bindingAuthorized(user, roleRef, attributes.namespace)) return;
      let rules: PolicyRule[];
      try {
        rules = this.resolver.getRoleReferenceRules(roleRef, attributes.namespace);
      } catch (err) {
        throw forbidden(`${attributes.resource}.${RBAC_GROUP} ${goQuote(name)} is forbidden: ${(err as Error).message}`, groupResource, name);
      }
      const problem = this.confirmNoEscalation(user, attributes.namespace, rules);
      if (problem) throw forbidden(`${attributes.resource}.${RBAC_GROUP} ${goQuote(name)} is forbidden: ${problem}`, groupResource, name);
    }
  }

  /** RoleEscalationAuthorized: `escalate` on the role resource (the name is known only on update). */
  private explicitlyAllowed(user: UserInfo, verb: string, attributes: AdmissionAttributes): boolean {
    const decision = this.authorizer.authorize(resourceAttributes(user, {
      verb, apiGroup: RBAC_GROUP, resource: attributes.resource, namespace: attributes.namespace,
      name: attributes.operation === 'CREATE' ? '' : attributes.name,
    }));
    return decision.decision === 'allow';
  }

  /** BindingAuthorized: `bind` on the referenced role, checked in the binding's namespace. */
  private bindingAuthorized(user: UserInfo, roleRef: RoleRef, namespace: string): boolean {
    const resource = roleRef.kind === 'ClusterRole' ? 'clusterroles' : roleRef.kind === 'Role' ? 'roles' : undefined;
    if (!resource) return false;
    const decision = this.authorizer.authorize(resourceAttributes(user, {
      verb: 'bind', apiGroup: roleRef.apiGroup, resource, name: roleRef.name, namespace,
    }));
    return decision.decision === 'allow';
  }

  /** ConfirmNoEscalation: the problem text, or undefined when the user holds every rule. */
  confirmNoEscalation(user: UserInfo, namespace: string, rules: PolicyRule[]): string | undefined {
    const owner = this.resolver.rulesFor(user, namespace);
    const result = covers(owner.rules, rules);
    if (result.covered) return undefined;
    const descriptions = [...new Set(compactRules(result.missing).map(compactString))].sort();
    let message = `user ${goQuote(user.username)} (groups=${goQuoteList(user.groups)}) is attempting to grant RBAC permissions not currently held:\n${descriptions.join('\n')}`;
    if (owner.errors.length) message += `; resolution errors: [${aggregateErrors(owner.errors)}]`;
    return message;
  }
}

/** EscalationAllowed: system:masters is how the API server's own loopback client is trusted. */
function escalationAllowed(user: UserInfo): boolean {
  return user.groups.includes(SYSTEM_MASTERS_GROUP);
}

/** rbacregistry.IsOnlyMutatingGCFields: the same object once owner references and finalizers are put back. */
function onlyGarbageCollectionFieldsChanged(object: KubeObject, old: KubeObject): boolean {
  const copy = deepCopy(object);
  const metadata: Record<string, unknown> = copy.metadata;
  for (const field of ['ownerReferences', 'finalizers', 'managedFields', 'resourceVersion']) {
    if (old.metadata[field] === undefined) delete metadata[field];
    else metadata[field] = deepCopy(old.metadata[field]);
  }
  return isDeepStrictEqual(copy, old);
}
