// Authorization as k8s.io/apiserver/pkg/authorization models it: a request becomes Attributes, each
// authorizer answers allow / deny / no opinion with a reason, and a union asks them in order until one
// decides (kube-apiserver's chain here: system:masters, Node, RBAC). Rule resolvers answer "what may
// this user do in this namespace" for SelfSubjectRulesReview and escalation checks.

import type { FieldRequirement } from '../api/selectors/field-selector.ts';
import type { UserInfo } from './user.ts';

export interface AuthorizationAttributes {
  user: UserInfo;
  /** Resource verbs (get, list, create, impersonate, bind, ...) or lower-case HTTP methods for paths. */
  verb: string;
  resourceRequest: boolean;
  namespace: string;
  apiGroup: string;
  /** `*` when a review does not name a version. */
  apiVersion: string;
  resource: string;
  subresource: string;
  name: string;
  /** The URL path of a non-resource request. */
  path: string;
  /** Parsed fieldSelector of a list/watch (AuthorizeWithSelectors). */
  fieldSelector?: FieldRequirement[];
}

export type Decision = 'allow' | 'deny' | 'no-opinion';

export interface AuthorizationResult {
  decision: Decision;
  reason: string;
}

export interface Authorizer {
  authorize(attributes: AuthorizationAttributes): AuthorizationResult;
}

export interface ResourceRuleInfo {
  verbs: string[];
  apiGroups: string[];
  resources: string[];
  resourceNames: string[];
}

export interface NonResourceRuleInfo {
  verbs: string[];
  nonResourceURLs: string[];
}

export interface RulesForResult {
  resourceRules: ResourceRuleInfo[];
  nonResourceRules: NonResourceRuleInfo[];
  incomplete: boolean;
  errors: string[];
}

export interface RuleResolver {
  rulesFor(user: UserInfo, namespace: string): RulesForResult;
}

export function resourceAttributes(user: UserInfo, fields: Partial<Omit<AuthorizationAttributes, 'user' | 'resourceRequest'>> & { verb: string }): AuthorizationAttributes {
  return {
    user, resourceRequest: true, namespace: '', apiGroup: '', apiVersion: '*', resource: '', subresource: '', name: '', path: '',
    ...fields,
  };
}

export function nonResourceAttributes(user: UserInfo, verb: string, path: string): AuthorizationAttributes {
  return {
    user, verb, resourceRequest: false, namespace: '', apiGroup: '', apiVersion: '', resource: '', subresource: '', name: '', path,
  };
}

/** Asks each authorizer in turn; the first allow or deny decides, reasons of the undecided are joined. */
export class UnionAuthorizer implements Authorizer {
  constructor(private readonly authorizers: Authorizer[]) {}

  authorize(attributes: AuthorizationAttributes): AuthorizationResult {
    const reasons: string[] = [];
    for (const authorizer of this.authorizers) {
      const result = authorizer.authorize(attributes);
      if (result.decision !== 'no-opinion') return result;
      if (result.reason) reasons.push(result.reason);
    }
    return { decision: 'no-opinion', reason: reasons.join('\n') };
  }
}

/** authorizerfactory.NewPrivilegedGroups: members of these groups may do anything. */
export class PrivilegedGroupAuthorizer implements Authorizer {
  constructor(private readonly groups: string[]) {}

  authorize(attributes: AuthorizationAttributes): AuthorizationResult {
    const allowed = attributes.user.groups.some((group) => this.groups.includes(group));
    return { decision: allowed ? 'allow' : 'no-opinion', reason: '' };
  }
}

/** Concatenates what every resolver reports (unionAuthzRulesHandler). */
export class UnionRuleResolver implements RuleResolver {
  constructor(private readonly resolvers: RuleResolver[]) {}

  rulesFor(user: UserInfo, namespace: string): RulesForResult {
    const merged: RulesForResult = { resourceRules: [], nonResourceRules: [], incomplete: false, errors: [] };
    for (const resolver of this.resolvers) {
      const result = resolver.rulesFor(user, namespace);
      merged.resourceRules.push(...result.resourceRules);
      merged.nonResourceRules.push(...result.nonResourceRules);
      merged.incomplete ||= result.incomplete;
      merged.errors.push(...result.errors);
    }
    return merged;
  }
}

/** utilerrors.NewAggregate(...).Error(): one message as is, several as `[a, b]`. */
export function aggregateErrors(errors: string[]): string {
  return errors.length === 1 ? errors[0] : `[${errors.join(', ')}]`;
}
