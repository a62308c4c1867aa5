// What a review needs to answer: who asks, where, and the server's authenticator and authorizers.

import type { RequestAuthentication } from '../authenticator.ts';
import type { Authorizer, RuleResolver } from '../authorizer.ts';
import type { UserInfo } from '../user.ts';

export interface ReviewContext {
  /** The requesting (possibly impersonated) user. */
  user: UserInfo;
  /** The namespace from the URL ('' for cluster-scoped reviews). */
  namespace: string;
  authorizer: Authorizer;
  ruleResolver: RuleResolver;
  authentication: RequestAuthentication;
  now: Date;
}
