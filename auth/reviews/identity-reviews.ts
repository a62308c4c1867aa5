// authentication.k8s.io/v1 SelfSubjectReview (`kubectl auth whoami`: who am I, after impersonation) and
// TokenReview (whom does this bearer token authenticate as), pkg/registry/authentication.

import { badRequest } from '../../api/errors.ts';
import { isPlainObject, type KubeObject } from '../../api/object.ts';
import { rfc3339 } from '../../api/registry/object-meta.ts';
import type { UserInfo } from '../user.ts';
import type { ReviewContext } from './review-context.ts';

const API_VERSION = 'authentication.k8s.io/v1';

function userInfoJson(user: UserInfo): Record<string, unknown> {
  return {
    username: user.username,
    ...(user.uid ? { uid: user.uid } : {}),
    ...(user.groups.length ? { groups: [...user.groups] } : {}),
    ...(user.extra && Object.keys(user.extra).length ? { extra: { ...user.extra } } : {}),
  };
}

export function selfSubjectReview(_body: KubeObject, ctx: ReviewContext): KubeObject {
  return {
    kind: 'SelfSubjectReview',
    apiVersion: API_VERSION,
    metadata: { creationTimestamp: rfc3339(ctx.now) },
    status: { userInfo: userInfoJson(ctx.user) },
  };
}

export function tokenReview(body: KubeObject, ctx: ReviewContext): KubeObject {
  if (ctx.namespace) throw badRequest(`namespace is not allowed on this type: ${ctx.namespace}`);
  const spec = isPlainObject(body.spec) ? body.spec : {};
  const token = Object.hasOwn(spec, 'token') && typeof spec.token === 'string' ? spec.token : '';
  if (!token) throw badRequest('token is required for TokenReview in authentication');
  const outcome = ctx.authentication.reviewToken(token);
  const status: Record<string, unknown> = 'user' in outcome
    ? { authenticated: true, user: userInfoJson(outcome.user), ...(outcome.audiences ? { audiences: outcome.audiences } : {}) }
    : { user: {}, error: outcome.failure };
  return { kind: 'TokenReview', apiVersion: API_VERSION, metadata: { ...body.metadata }, spec, status };
}
