// Bearer-token authentication against a fixed table: kube-apiserver's --token-auth-file authenticator,
// and the admin token. A token that is in no table is "not mine", so the next authenticator may try it.

import { createHash, timingSafeEqual } from 'node:crypto';
import { UNRECOGNISED, type AuthenticationRequest, type AuthenticationResult, type RequestAuthenticator } from './authenticator.ts';
import type { UserInfo } from './user.ts';

export { UnionAuthenticator } from './authenticator.ts';

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
    // A later entry for the same token replaces an earlier one, as the token file's map does.
    const byToken = new Map<string, UserInfo>();
    for (const entry of entries) byToken.set(entry.token, entry.user);
    this.entries = [...byToken].map(([token, user]) => ({ digest: digest(token), user }));
  }

  authenticate(request: AuthenticationRequest): AuthenticationResult {
    const token = bearerToken(request.authorization);
    if (token === undefined) return UNRECOGNISED;
    const candidate = digest(token);
    let found: UserInfo | undefined;
    // Compare against every entry (no early exit) so timing does not reveal which entry matched.
    for (const entry of this.entries) {
      if (timingSafeEqual(entry.digest, candidate) && found === undefined) found = entry.user;
    }
    return found ? { status: 'authenticated', user: found } : UNRECOGNISED;
  }
}

// Clients present the same few tokens on every request, and a fresh SHA-256 hash object costs
// more than the rest of authentication: remember the digests of recent tokens. Bounded (cleared
// when full), so a stream of made-up tokens cannot grow it.
const DIGEST_MEMO_LIMIT = 1024;
const recentDigests = new Map<string, Buffer>();

function digest(token: string): Buffer {
  let value = recentDigests.get(token);
  if (value === undefined) {
    value = createHash('sha256').update(token, 'utf8').digest();
    if (recentDigests.size >= DIGEST_MEMO_LIMIT) recentDigests.clear();
    recentDigests.set(token, value);
  }
  return value;
}
