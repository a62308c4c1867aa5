// authorization.k8s.io/v1 SelfSubjectRulesReview (pkg/registry/authorization/selfsubjectrulesreview):
// the rules every rule-resolving authorizer grants the caller in one namespace, as `kubectl auth can-i
// --list` prints them. A node's answer is incomplete: the Node authorizer cannot enumerate its rules.

import { badRequest } from '../../api/errors.ts';
import { isPlainObject, type KubeObject } from '../../api/object.ts';
import { aggregateErrors } from '../authorizer.ts';
import type { ReviewContext } from './review-context.ts';

export function selfSubjectRulesReview(body: KubeObject, ctx: ReviewContext): KubeObject {
  const spec = isPlainObject(body.spec) ? body.spec : {};
  const namespace = Object.hasOwn(spec, 'namespace') && typeof spec.namespace === 'string' ? spec.namespace : '';
  if (!namespace) throw badRequest('no namespace on request');
  const rules = ctx.ruleResolver.rulesFor(ctx.user, namespace);
  return {
    kind: 'SelfSubjectRulesReview',
    apiVersion: 'authorization.k8s.io/v1',
    metadata: { creationTimestamp: null },
    spec: {},
    status: {
      resourceRules: rules.resourceRules.map((r) => ({
        verbs: r.verbs,
        ...(r.apiGroups.length ? { apiGroups: r.apiGroups } : {}),
        ...(r.resources.length ? { resources: r.resources } : {}),
        ...(r.resourceNames.length ? { resourceNames: r.resourceNames } : {}),
      })),
      nonResourceRules: rules.nonResourceRules.map((r) => ({ verbs: r.verbs, nonResourceURLs: r.nonResourceURLs })),
      incomplete: rules.incomplete,
      ...(rules.errors.length ? { evaluationError: aggregateErrors(rules.errors) } : {}),
    },
  };
}
