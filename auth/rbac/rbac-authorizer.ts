// plugin/pkg/auth/authorizer/rbac RBACAuthorizer: allow when any rule that applies to the user allows
// the request ("RBAC: allowed by ..."); otherwise no opinion, with the resolution errors (a binding to a
// missing role) as the reason. RBAC never denies.

import { aggregateErrors, type AuthorizationAttributes, type AuthorizationResult, type Authorizer, type RuleResolver, type RulesForResult } from '../authorizer.ts';
import type { UserInfo } from '../user.ts';
import { ruleAllows } from './policy-rule.ts';
import type { PolicySource } from './policy-source.ts';
import { DefaultRuleResolver } from './rule-resolver.ts';

export class RbacAuthorizer implements Authorizer, RuleResolver {
  readonly resolver: DefaultRuleResolver;

  constructor(policy: PolicySource) {
    this.resolver = new DefaultRuleResolver(policy, 'lister');
  }

  authorize(attributes: AuthorizationAttributes): AuthorizationResult {
    let allowedBy: string | undefined;
    const errors: string[] = [];
    this.resolver.visitRulesFor(attributes.user, attributes.namespace, (source, rule, error) => {
      if (rule && ruleAllows(attributes, rule)) {
        allowedBy = source;
        return false;
      }
      if (error) errors.push(error);
      return true;
    });
    if (allowedBy !== undefined) return { decision: 'allow', reason: `RBAC: allowed by ${allowedBy}` };
    return { decision: 'no-opinion', reason: errors.length ? `RBAC: ${aggregateErrors(errors)}` : '' };
  }

  rulesFor(user: UserInfo, namespace: string): RulesForResult {
    const { rules, errors } = this.resolver.rulesFor(user, namespace);
    const result: RulesForResult = { resourceRules: [], nonResourceRules: [], incomplete: false, errors: [] };
    for (const rule of rules) {
      if ((rule.resources ?? []).length > 0) {
        result.resourceRules.push({
          verbs: rule.verbs, apiGroups: rule.apiGroups ?? [], resources: rule.resources ?? [], resourceNames: rule.resourceNames ?? [],
        });
      }
      if ((rule.nonResourceURLs ?? []).length > 0) {
        result.nonResourceRules.push({ verbs: rule.verbs, nonResourceURLs: rule.nonResourceURLs ?? [] });
      }
    }
    // RBAC reports its rules as complete even when a binding could not be resolved; the error says so.
    if (errors.length) result.errors.push(aggregateErrors(errors));
    return result;
  }
}
