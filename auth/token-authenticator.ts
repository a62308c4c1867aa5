// Bearer-token authentication against a fixed table (kube-apiserver's --token-auth-file authenticator).
// Every authenticator answers the same question (request header → user or "not mine"), so several can be
// chained: the first that recognises the credential wins, as in k8s.io/apiserver's union authenticator.

import { createHash, timingSafeEqual } from 'node:crypto';
import type { UserInfo } from './user.ts';

export interface RequestAuthenticator {
  /** The user the Authorization header identifies, or undefined when this authenticator does not recognise it. */
  authenticate(authorizationHeader: string | undefined): UserInfo | undefined;
}

export interface StaticTokenEntry {
  token: string;
  user: UserInfo;
}

/** Extracts the token of a `Bearer <token>` header (scheme case-insensitive), or undefined. */
export function bearerToken(authorizationHeader: string | undefined): string | undefined {
  if (!authorizationHeader) return undefined;
  const match = /^\s*bearer\s+(\S+)\s*$/i.exec(authorizationHeader);
  return match ? match[1] : undefined;
}

export class StaticTokenAuthenticator implements RequestAuthenticator {
  // Tokens are compared as SHA-256 digests: equal length, so timingSafeEqual applies and the
  // comparison time does not reveal how long a prefix matched.
  private readonly entries: { digest: Buffer; user: UserInfo }[];

  constructor(entries: StaticTokenEntry[]) {
    this.entries = entries.map((entry) => ({ digest: digest(entry.token), user: entry.user }));
  }

  authenticate(authorizationHeader: string | undefined): UserInfo | undefined {
    const token = bearerToken(authorizationHeader);
    if (token === undefined) return undefined;
    const candidate = digest(token);
    let found: UserInfo | undefined;
    // Compare against every entry (no early exit) so timing does not reveal which entry matched.
    for (const entry of this.entries) {
      if (timingSafeEqual(entry.digest, candidate) && found === undefined) found = entry.user;
    }
    return found;
  }
}

/** Tries each authenticator in order; the first that recognises the credential decides. */
export class UnionAuthenticator implements RequestAuthenticator {
  constructor(private readonly authenticators: RequestAuthenticator[]) {}

  authenticate(authorizationHeader: string | undefined): UserInfo | undefined {
    for (const authenticator of this.authenticators) {
      const user = authenticator.authenticate(authorizationHeader);
      if (user) return user;
    }
    return undefined;
  }
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}
