// Delegated authentication and authorization for a component's own secure port, as k8s.io/apiserver's
// DelegatingAuthenticationOptions and DelegatingAuthorizationOptions set them up for kube-scheduler (and
// kube-controller-manager) with their defaults:
//  - a bearer token is checked with a TokenReview against the API server; a token it does not vouch for is 401
//    (bearertoken's "invalid bearer token", before any path check); no credential at all is system:anonymous
//    (anonymous authentication is on for these ports);
//  - /healthz, /readyz and /livez are always allowed (--authorization-always-allow-paths), and so is the group
//    system:masters (AlwaysAllowGroups); anything else is a SubjectAccessReview with the non-resource attributes
//    (path, lower-case HTTP method as the verb): `get /metrics` for a scrape;
//  - answers are cached 10 s (the token cache TTL, and the allow and deny TTLs of the webhook authorizer).
// Refusals are the generic API server's Status bodies: 401 `Unauthorized`, 403 `forbidden: User "x" cannot get path
// "/metrics"`, and 500 when the API server cannot be asked.
import { forbidden, StatusError, unauthorized } from '../api/errors.ts';
import type { JsonApiClient } from './json-api-client.ts';

export interface DelegatedUser {
  username: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

export const ALWAYS_ALLOW_PATHS = ['/healthz', '/readyz', '/livez'];
export const ALWAYS_ALLOW_GROUPS = ['system:masters'];
const CACHE_TTL_MS = 10_000;
const CACHE_LIMIT = 10_000;
const ANONYMOUS: DelegatedUser = { username: 'system:anonymous', groups: ['system:unauthenticated'] };

/** A refusal: the status and the JSON Status body to send. */
export interface Refusal {
  status: number;
  body: string;
}

class TtlCache<V> {
  private readonly entries = new Map<string, { value: V; expires: number }>();

  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expires > Date.now()) return entry.value;
    this.entries.delete(key);
    return undefined;
  }

  set(key: string, value: V): void {
    if (this.entries.size >= CACHE_LIMIT) this.entries.clear();
    this.entries.set(key, { value, expires: Date.now() + CACHE_TTL_MS });
  }
}

interface TokenReviewStatus {
  status?: { authenticated?: boolean; user?: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> } };
}

interface SubjectAccessReviewStatus {
  status?: { allowed?: boolean; denied?: boolean; reason?: string };
}

function refusal(error: StatusError): Refusal {
  return { status: error.code, body: JSON.stringify(error.toStatus()) };
}

export class DelegatedAuth {
  private readonly tokens = new TtlCache<DelegatedUser | null>();
  private readonly decisions = new TtlCache<{ allowed: boolean; reason: string }>();

  /** `client`: the component's own connection to the API server (its identity creates the reviews). */
  constructor(private readonly client: JsonApiClient) {}

  /** Undefined when the request may go on; otherwise the answer to give. */
  async check(method: string, path: string, authorization: string | undefined): Promise<Refusal | undefined> {
    let user: DelegatedUser;
    try {
      const authenticated = await this.authenticate(authorization);
      if (!authenticated) return refusal(unauthorized());
      user = authenticated;
    } catch {
      return refusal(unauthorized());
    }
    if (ALWAYS_ALLOW_PATHS.includes(path) || user.groups.some((group) => ALWAYS_ALLOW_GROUPS.includes(group))) return undefined;
    const verb = method.toLowerCase();
    let decision: { allowed: boolean; reason: string };
    try {
      decision = await this.authorize(user, verb, path);
    } catch (error) {
      // WithAuthorization answers an authorizer error with InternalError.
      const text = error instanceof Error ? error.message : String(error);
      return refusal(new StatusError(500, 'InternalError', `Internal error occurred: ${text}`, { causes: [{ message: text }] }));
    }
    if (decision.allowed) return undefined;
    const detail = `User ${JSON.stringify(user.username)} cannot ${verb} path ${JSON.stringify(path)}`;
    return refusal(forbidden(`forbidden: ${decision.reason ? `${detail}: ${decision.reason}` : detail}`));
  }

  /** The caller: its token's user, system:anonymous without a token, undefined for a token nobody vouches for. */
  private async authenticate(authorization: string | undefined): Promise<DelegatedUser | undefined> {
    if (!authorization) return ANONYMOUS;
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    // Another scheme is no credential the delegated authenticators know: the request goes on as anonymous.
    if (!match) return ANONYMOUS;
    const token = match[1];
    const cached = this.tokens.get(token);
    if (cached !== undefined) return cached ?? undefined;
    const review = await this.client.request<TokenReviewStatus>('POST', '/apis/authentication.k8s.io/v1/tokenreviews', {
      apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token },
    });
    const reviewed = review.status?.authenticated && review.status.user?.username
      ? { username: review.status.user.username, uid: review.status.user.uid, groups: review.status.user.groups ?? [], extra: review.status.user.extra }
      : null;
    this.tokens.set(token, reviewed);
    return reviewed ?? undefined;
  }

  private async authorize(user: DelegatedUser, verb: string, path: string): Promise<{ allowed: boolean; reason: string }> {
    const key = JSON.stringify([user.username, user.uid ?? '', [...user.groups].sort(), user.extra ?? {}, verb, path]);
    const cached = this.decisions.get(key);
    if (cached) return cached;
    const review = await this.client.request<SubjectAccessReviewStatus>('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', {
      apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview',
      spec: { user: user.username, uid: user.uid, groups: user.groups, extra: user.extra, nonResourceAttributes: { path, verb } },
    });
    const decision = { allowed: review.status?.allowed === true, reason: review.status?.reason ?? '' };
    this.decisions.set(key, decision);
    return decision;
  }
}
