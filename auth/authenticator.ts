// Authentication as k8s.io/apiserver chains it: each authenticator looks at the request's credentials
// and answers "this user", "not mine" or "mine, but invalid". A union tries them in order and the first
// success wins; a failure only decides when nobody succeeds (union.New). Every authenticated user gets
// system:authenticated (AuthenticatedGroupAdder). Only a request with no credential at all may become
// system:anonymous, and only when anonymous authentication is enabled (union.NewFailOnError) or, for the
// public-info paths (/healthz, /livez, /readyz, /version), when those are open to everyone: what
// kube-apiserver's AuthenticationConfiguration `anonymous.conditions` does, and what probes and load
// balancers rely on with kube-apiserver's defaults (the system:public-info-viewer binding to
// system:unauthenticated still decides, through RBAC).

import { ALL_AUTHENTICATED_GROUP, ALL_UNAUTHENTICATED_GROUP, ANONYMOUS_USER } from './well-known.ts';
import type { UserInfo } from './user.ts';

/** What a TLS client presented, already checked against the cluster CA by the TLS layer. */
export interface ClientCertificateInfo {
  /** Subject CN (the user name). */
  commonName: string;
  /** Subject O attributes (the groups), in certificate order. */
  organizations: string[];
  /** Whether the chain verified against the cluster CA and the certificate is within its validity. */
  verified: boolean;
  /** Why verification failed (OpenSSL's code, e.g. CERT_HAS_EXPIRED). */
  verificationError?: string;
  /** Whether extended key usage allows client authentication. */
  clientAuth: boolean;
}

export interface AuthenticationRequest {
  /** The Authorization header, if any. */
  authorization?: string;
  clientCertificate?: ClientCertificateInfo;
  /** The URL path without query, for anonymous access limited to some paths. */
  path?: string;
}

export type AuthenticationResult =
  | { status: 'authenticated'; user: UserInfo; audiences?: string[] }
  | { status: 'unrecognised' }
  | { status: 'failed'; reason: string };

export interface RequestAuthenticator {
  authenticate(request: AuthenticationRequest): AuthenticationResult;
}

export const UNRECOGNISED: AuthenticationResult = Object.freeze({ status: 'unrecognised' });

/** Tries each authenticator in order; the first success wins, failures are kept for the error. */
export class UnionAuthenticator implements RequestAuthenticator {
  constructor(private readonly authenticators: RequestAuthenticator[]) {}

  authenticate(request: AuthenticationRequest): AuthenticationResult {
    const reasons: string[] = [];
    for (const authenticator of this.authenticators) {
      const result = authenticator.authenticate(request);
      if (result.status === 'authenticated') return result;
      if (result.status === 'failed') reasons.push(result.reason);
    }
    if (reasons.length === 0) return UNRECOGNISED;
    return { status: 'failed', reason: reasons.length === 1 ? reasons[0] : `[${reasons.join(', ')}]` };
  }
}

/** AuthenticatedGroupAdder: every authenticated, non-anonymous user is in system:authenticated. */
export function withAuthenticatedGroup(user: UserInfo): UserInfo {
  if (user.username === ANONYMOUS_USER) return user;
  if (user.groups.includes(ALL_AUTHENTICATED_GROUP) || user.groups.includes(ALL_UNAUTHENTICATED_GROUP)) return user;
  return { ...user, groups: [...user.groups, ALL_AUTHENTICATED_GROUP] };
}

export const ANONYMOUS_USER_INFO: UserInfo = Object.freeze({
  username: ANONYMOUS_USER,
  groups: Object.freeze([ALL_UNAUTHENTICATED_GROUP]) as string[],
});

export type AuthenticationOutcome = { user: UserInfo; audiences?: string[] } | { failure: string };

/** The paths kube-apiserver's system:public-info-viewer role grants (exact paths, as anonymous conditions match). */
export const PUBLIC_INFO_PATHS: ReadonlySet<string> = new Set(['/healthz', '/livez', '/readyz', '/version']);

/** The whole request authentication: credentials first, then (when enabled) anonymous. */
export class RequestAuthentication {
  /**
   * @param anonymousEnabled --anonymous-auth: every request without credentials is system:anonymous.
   * @param anonymousPaths paths where a request without credentials is system:anonymous even so.
   */
  constructor(
    private readonly credentials: RequestAuthenticator,
    readonly anonymousEnabled: boolean,
    readonly anonymousPaths: ReadonlySet<string> = new Set(),
  ) {}

  authenticate(request: AuthenticationRequest): AuthenticationOutcome {
    const result = this.credentials.authenticate(request);
    if (result.status === 'authenticated') return { user: withAuthenticatedGroup(result.user), audiences: result.audiences };
    if (result.status === 'failed') return { failure: result.reason };
    // A bearer token nobody recognises is an invalid credential, not an absent one: never anonymous.
    if (hasBearerToken(request.authorization)) return { failure: 'invalid bearer token' };
    if (this.anonymousEnabled) return { user: ANONYMOUS_USER_INFO };
    if (request.path !== undefined && this.anonymousPaths.has(request.path)) return { user: ANONYMOUS_USER_INFO };
    return { failure: 'no credentials provided' };
  }

  /** TokenReview: the credential chain applied to a bearer token alone (no anonymous fallback). */
  reviewToken(token: string): AuthenticationOutcome {
    const result = this.credentials.authenticate({ authorization: `Bearer ${token}` });
    if (result.status === 'authenticated') return { user: withAuthenticatedGroup(result.user), audiences: result.audiences };
    return { failure: result.status === 'failed' ? result.reason : 'invalid bearer token' };
  }
}

function hasBearerToken(authorization: string | undefined): boolean {
  return authorization !== undefined && /^\s*bearer\s+\S/i.test(authorization);
}
