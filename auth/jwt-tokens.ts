// kubefacade's bearer JWTs: ES256 (RS256 with an older data dir's RSA key), signed with the server's own key (auth/signing-key.ts), issuer
// `https://kubefacade.local`, audience `kubefacade`. Claims: `sub` (user name), `groups`, optional
// `uid`, `iat`, `nbf`, `exp` (required), `jti`. A token whose issuer is not ours is "not mine" (as the
// service-account authenticator answers); one with our issuer that fails any check is rejected.
// No clock leeway: the issuer and the verifier are the same machine.

import { randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { UNRECOGNISED, type AuthenticationRequest, type AuthenticationResult, type RequestAuthenticator } from './authenticator.ts';
import { jwtAlgorithmOf, type JwtAlgorithm, type SigningKey } from './signing-key.ts';
import { bearerToken } from './token-authenticator.ts';
import type { UserInfo } from './user.ts';

export const TOKEN_ISSUER = 'https://kubefacade.local';
export const TOKEN_AUDIENCE = 'kubefacade';

export interface TokenRequest {
  username: string;
  groups: string[];
  uid?: string;
  ttlSeconds: number;
  /** Issue time (default: now). */
  now?: Date;
}

export function issueToken(key: SigningKey, request: TokenRequest): string {
  if (!request.username) throw new Error('a token needs a user name');
  if (!(request.ttlSeconds > 0)) throw new Error('a token needs a positive lifetime');
  const iat = Math.floor((request.now ?? new Date()).getTime() / 1000);
  const payload: Record<string, unknown> = {
    iss: TOKEN_ISSUER, aud: [TOKEN_AUDIENCE], sub: request.username,
    ...(request.groups.length ? { groups: request.groups } : {}),
    ...(request.uid ? { uid: request.uid } : {}),
    iat, nbf: iat, exp: iat + Math.ceil(request.ttlSeconds), jti: randomUUID(),
  };
  // iat is in the payload already; jsonwebtoken keeps a given iat (noTimestamp would drop it).
  return jwt.sign(payload, key.privateKeyPem, { algorithm: key.algorithm, keyid: key.keyId });
}

interface CachedVerdict {
  result: AuthenticationResult;
  /** Epoch ms after which the verdict must be recomputed. */
  until: number;
}

const CACHE_TTL_MS = 10_000;
const CACHE_MAX_ENTRIES = 20_000;

export class JwtAuthenticator implements RequestAuthenticator {
  // Lease renewals from thousands of simulated nodes would otherwise re-verify the same RSA signature
  // every few seconds; like kube-apiserver's token cache, a verdict is reused briefly (never past exp).
  private readonly cache = new Map<string, CachedVerdict>();

  /** Only the key's own algorithm is accepted (never `none`, never an HMAC keyed with the public key). */
  private readonly algorithm: JwtAlgorithm;

  constructor(private readonly key: Pick<SigningKey, 'publicKeyPem'>, private readonly clock: () => number = Date.now) {
    this.algorithm = jwtAlgorithmOf(key.publicKeyPem);
  }

  authenticate(request: AuthenticationRequest): AuthenticationResult {
    const token = bearerToken(request.authorization);
    if (token === undefined || token.split('.').length !== 3) return UNRECOGNISED;
    const now = this.clock();
    const cached = this.cache.get(token);
    if (cached && cached.until > now) return cached.result;
    const { result, expiresAt } = this.verify(token, now);
    // Only successes are kept: a rejected token (not yet valid, say) may become good later.
    if (result.status === 'authenticated') {
      if (this.cache.size >= CACHE_MAX_ENTRIES) this.cache.clear();
      this.cache.set(token, { result, until: Math.min(now + CACHE_TTL_MS, expiresAt ?? now + CACHE_TTL_MS) });
    }
    return result;
  }

  private verify(token: string, now: number): { result: AuthenticationResult; expiresAt?: number } {
    const decoded = jwt.decode(token, { json: true });
    // Service-account tokens (with the `kubernetes.io` claim) are auth/service-account-tokens.ts's.
    if (!decoded || !Object.hasOwn(decoded, 'iss') || decoded.iss !== TOKEN_ISSUER || Object.hasOwn(decoded, 'kubernetes.io')) return { result: UNRECOGNISED };
    let claims: jwt.JwtPayload;
    try {
      const verified = jwt.verify(token, this.key.publicKeyPem, {
        algorithms: [this.algorithm], issuer: TOKEN_ISSUER, audience: TOKEN_AUDIENCE, clockTimestamp: Math.floor(now / 1000),
      });
      if (typeof verified === 'string') return { result: { status: 'failed', reason: 'token claims are not a JSON object' } };
      claims = verified;
    } catch (err) {
      return { result: { status: 'failed', reason: `invalid token: ${err instanceof Error ? err.message : String(err)}` } };
    }
    // Claims are read as own members only: a claim the token does not carry must never be found
    // on Object.prototype (issue 13: a polluted prototype once handed every token groups).
    const claim = (name: string): unknown => (Object.hasOwn(claims, name) ? (claims as Record<string, unknown>)[name] : undefined);
    const exp = claim('exp');
    const sub = claim('sub');
    const uid = claim('uid');
    if (typeof exp !== 'number') return { result: { status: 'failed', reason: 'invalid token: exp claim required' } };
    if (typeof sub !== 'string' || sub === '') return { result: { status: 'failed', reason: 'invalid token: sub claim required' } };
    const groups = claim('groups');
    if (groups !== undefined && !(Array.isArray(groups) && groups.every((g) => typeof g === 'string'))) {
      return { result: { status: 'failed', reason: 'invalid token: groups claim must be a list of strings' } };
    }
    const user: UserInfo = {
      username: sub,
      ...(typeof uid === 'string' && uid ? { uid } : {}),
      groups: [...((groups as string[] | undefined) ?? [])],
    };
    return { result: { status: 'authenticated', user, audiences: [TOKEN_AUDIENCE] }, expiresAt: exp * 1000 };
  }
}
