// The review resources: create-only, never stored, answered from the request alone. One table drives
// both dispatch (server/review-handler.ts) and discovery.

import type { KubeObject } from '../../api/object.ts';
import { localSubjectAccessReview, selfSubjectAccessReview, subjectAccessReview } from './access-reviews.ts';
import { selfSubjectReview, tokenReview } from './identity-reviews.ts';
import type { ReviewContext } from './review-context.ts';
import { selfSubjectRulesReview } from './rules-review.ts';

export type { ReviewContext } from './review-context.ts';

export interface ReviewEndpoint {
  group: string;
  version: string;
  resource: string;
  singular: string;
  kind: string;
  namespaced: boolean;
  review(body: KubeObject, ctx: ReviewContext): KubeObject;
}

export const REVIEW_ENDPOINTS: readonly ReviewEndpoint[] = [
  { group: 'authorization.k8s.io', version: 'v1', resource: 'selfsubjectaccessreviews', singular: 'selfsubjectaccessreview', kind: 'SelfSubjectAccessReview', namespaced: false, review: selfSubjectAccessReview },
  { group: 'authorization.k8s.io', version: 'v1', resource: 'subjectaccessreviews', singular: 'subjectaccessreview', kind: 'SubjectAccessReview', namespaced: false, review: subjectAccessReview },
  { group: 'authorization.k8s.io', version: 'v1', resource: 'localsubjectaccessreviews', singular: 'localsubjectaccessreview', kind: 'LocalSubjectAccessReview', namespaced: true, review: localSubjectAccessReview },
  { group: 'authorization.k8s.io', version: 'v1', resource: 'selfsubjectrulesreviews', singular: 'selfsubjectrulesreview', kind: 'SelfSubjectRulesReview', namespaced: false, review: selfSubjectRulesReview },
  { group: 'authentication.k8s.io', version: 'v1', resource: 'selfsubjectreviews', singular: 'selfsubjectreview', kind: 'SelfSubjectReview', namespaced: false, review: selfSubjectReview },
  { group: 'authentication.k8s.io', version: 'v1', resource: 'tokenreviews', singular: 'tokenreview', kind: 'TokenReview', namespaced: false, review: tokenReview },
];

export function findReviewEndpoint(group: string, version: string, resource: string): ReviewEndpoint | undefined {
  return REVIEW_ENDPOINTS.find((e) => e.group === group && e.version === version && e.resource === resource);
}
