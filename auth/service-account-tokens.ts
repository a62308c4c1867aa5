// Bound service-account tokens (pkg/serviceaccount/claims.go): ES256 (or RS256) JWTs signed with the server's
// key, with upstream's private `kubernetes.io` claim (namespace, serviceaccount {name, uid}, and pod
// {name, uid} when bound). Authentication accepts them as `system:serviceaccount:<ns>:<name>` in
// groups system:serviceaccounts and system:serviceaccounts:<ns>, and rejects them once the service
// account or the bound pod is gone or was recreated (uid mismatch), as the bound-token validator does.

import { randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { isPlainObject } from '../api/object.ts';
import { UNRECOGNISED, type AuthenticationRequest, type AuthenticationResult, type RequestAuthenticator } from './authenticator.ts';
import { TOKEN_AUDIENCE, TOKEN_ISSUER } from './jwt-tokens.ts';
import { jwtAlgorithmOf, type JwtAlgorithm, type SigningKey } from './signing-key.ts';
import { bearerToken } from './token-authenticator.ts';
import type { UidIndex } from './uid-index.ts';
import type { UserInfo } from './user.ts';

export const SERVICE_ACCOUNT_USER_PREFIX = 'system:serviceaccount:';
export const SERVICE_ACCOUNTS_GROUP = 'system:serviceaccounts';
/** The claim that marks a token as a service-account token. */
export const KUBERNETES_CLAIM = 'kubernetes.io';
/** kube-apiserver's default --api-audiences are its issuer; kubefacade's API audience is TOKEN_AUDIENCE. */
export const API_AUDIENCES = [TOKEN_AUDIENCE];

export function serviceAccountUsername(namespace: string, name: string): string {
  return `${SERVICE_ACCOUNT_USER_PREFIX}${namespace}:${name}`;
}

export interface ObjectRef { name: string; uid: string }

export interface ServiceAccountTokenRequest {
  namespace: string;
  serviceAccount: ObjectRef;
  pod?: ObjectRef;
  audiences: string[];
  expirationSeconds: number;
  now: Date;
}

export function issueServiceAccountToken(key: Pick<SigningKey, 'privateKeyPem' | 'keyId' | 'algorithm'>, request: ServiceAccountTokenRequest): { token: string; expiresAt: Date } {
  const iat = Math.floor(request.now.getTime() / 1000);
  const exp = iat + request.expirationSeconds;
  const private_: Record<string, unknown> = { namespace: request.namespace, serviceaccount: { ...request.serviceAccount } };
  if (request.pod) private_.pod = { ...request.pod };
  const payload = {
    aud: request.audiences, exp, iat, iss: TOKEN_ISSUER, jti: randomUUID(), [KUBERNETES_CLAIM]: private_, nbf: iat,
    sub: serviceAccountUsername(request.namespace, request.serviceAccount.name),
  };
  return { token: jwt.sign(payload, key.privateKeyPem, { algorithm: key.algorithm, keyid: key.keyId }), expiresAt: new Date(exp * 1000) };
}

function refOf(value: unknown): ObjectRef | undefined {
  if (!isPlainObject(value) || typeof value.name !== 'string' || typeof value.uid !== 'string') return undefined;
  return { name: value.name, uid: value.uid };
}

/** The service-account token authenticator; signatures are cached, existence is checked on every request. */
export class ServiceAccountTokenAuthenticator implements RequestAuthenticator {
  private readonly verified = new Map<string, { claims: jwt.JwtPayload; until: number }>();

  constructor(
    private readonly key: Pick<SigningKey, 'publicKeyPem'>,
    private readonly serviceAccounts: Pick<UidIndex, 'uidOf'>,
    private readonly pods: Pick<UidIndex, 'uidOf'>,
    private readonly clock: () => number = Date.now,
  ) {
    this.algorithm = jwtAlgorithmOf(key.publicKeyPem);
  }

  /** Only the key's own algorithm is accepted. */
  private readonly algorithm: JwtAlgorithm;

  authenticate(request: AuthenticationRequest): AuthenticationResult {
    const token = bearerToken(request.authorization);
    if (token === undefined || token.split('.').length !== 3) return UNRECOGNISED;
    const now = this.clock();
    let claims = this.verified.get(token);
    if (!claims || claims.until <= now) {
      const decoded = jwt.decode(token, { json: true });
      if (!decoded || decoded.iss !== TOKEN_ISSUER || decoded[KUBERNETES_CLAIM] === undefined) return UNRECOGNISED;
      try {
        const payload = jwt.verify(token, this.key.publicKeyPem, {
          algorithms: [this.algorithm], issuer: TOKEN_ISSUER, audience: TOKEN_AUDIENCE, clockTimestamp: Math.floor(now / 1000),
        });
        if (typeof payload === 'string' || typeof payload.exp !== 'number') return { status: 'failed', reason: 'invalid bearer token' };
        claims = { claims: payload, until: Math.min(now + 10_000, payload.exp * 1000) };
      } catch (err) {
        return { status: 'failed', reason: `invalid bearer token, ${err instanceof Error ? err.message : String(err)}` };
      }
      if (this.verified.size >= 20_000) this.verified.clear();
      this.verified.set(token, claims);
    }
    return this.validate(claims.claims);
  }

  /** validator.Validate of pkg/serviceaccount/claims.go: the objects named must exist with the same uid. */
  private validate(claims: jwt.JwtPayload): AuthenticationResult {
    const private_ = claims[KUBERNETES_CLAIM];
    if (!isPlainObject(private_) || typeof private_.namespace !== 'string') return { status: 'failed', reason: 'invalid bearer token, token could not be validated.' };
    const namespace = private_.namespace;
    const serviceAccount = refOf(private_.serviceaccount);
    if (!serviceAccount) return { status: 'failed', reason: 'invalid bearer token, token could not be validated.' };
    const accountUid = this.serviceAccounts.uidOf(namespace, serviceAccount.name);
    if (accountUid === undefined) return { status: 'failed', reason: `invalid bearer token, service account ${namespace}/${serviceAccount.name} has been deleted` };
    if (accountUid !== serviceAccount.uid) {
      return { status: 'failed', reason: `invalid bearer token, service account UID (${accountUid}) does not match claim (${serviceAccount.uid})` };
    }
    const extra: Record<string, string[]> = {};
    if (typeof claims.jti === 'string') extra['authentication.kubernetes.io/credential-id'] = [`JTI=${claims.jti}`];
    if (private_.pod !== undefined) {
      const pod = refOf(private_.pod);
      if (!pod) return { status: 'failed', reason: 'invalid bearer token, token could not be validated.' };
      const podUid = this.pods.uidOf(namespace, pod.name);
      if (podUid === undefined) return { status: 'failed', reason: `invalid bearer token, pod ${namespace}/${pod.name} has been deleted` };
      if (podUid !== pod.uid) return { status: 'failed', reason: `invalid bearer token, pod UID (${podUid}) does not match claim (${pod.uid})` };
      extra['authentication.kubernetes.io/pod-name'] = [pod.name];
      extra['authentication.kubernetes.io/pod-uid'] = [pod.uid];
    }
    const user: UserInfo = {
      username: serviceAccountUsername(namespace, serviceAccount.name),
      uid: serviceAccount.uid,
      groups: [SERVICE_ACCOUNTS_GROUP, `${SERVICE_ACCOUNTS_GROUP}:${namespace}`],
      extra,
    };
    const audiences = Array.isArray(claims.aud) ? claims.aud.filter((a): a is string => typeof a === 'string') : typeof claims.aud === 'string' ? [claims.aud] : [];
    return { status: 'authenticated', user, audiences: audiences.filter((a) => API_AUDIENCES.includes(a)) };
  }
}
