// Service account issuer discovery (pkg/serviceaccount/openidmetadata.go, pkg/routes/openidmetadata.go): the
// OpenID Connect provider configuration at /.well-known/openid-configuration and the JSON Web Key Set at
// /openid/v1/jwks, so that a relying party outside the cluster can verify service-account tokens with standard
// OIDC libraries. Both documents are rendered once at start, as upstream pre-renders them; their fields and
// order are upstream's (go-jose's JWK encoding). Served to whoever RBAC allows (by default the
// system:service-account-issuer-discovery role, bound to every service account).

import { createPublicKey } from 'node:crypto';
import type { SigningKey } from './signing-key.ts';

export const OPENID_CONFIG_PATH = '/.well-known/openid-configuration';
export const JWKS_PATH = '/openid/v1/jwks';
/** Upstream overrides the API server's `private, no-cache` for these two documents. */
export const OPENID_CACHE_CONTROL = 'public, max-age=3600';
export const JWKS_CONTENT_TYPE = 'application/jwk-set+json';

export interface OpenIdMetadata {
  configJson: string;
  keysetJson: string;
}

/**
 * `issuer` must be an https URL without query or fragment (the OIDC spec, checked as upstream checks it);
 * `externalAddress` (host:port) gives the JWKS URI `https://<externalAddress>/openid/v1/jwks`.
 */
export function openIdMetadata(issuer: string, externalAddress: string, key: Pick<SigningKey, 'publicKeyPem' | 'keyId'>): OpenIdMetadata {
  const iss = new URL(issuer);
  if (iss.protocol !== 'https:') throw new Error(`issuer URL must use https scheme, got: ${issuer}`);
  if (iss.search) throw new Error(`issuer URL may not include a query, got: ${issuer}`);
  if (iss.hash) throw new Error(`issuer URL may not include a fragment, got: ${issuer}`);
  const jwk = createPublicKey(key.publicKeyPem).export({ format: 'jwk' });
  let entry: Record<string, unknown>;
  // go-jose's field order: use, kty, kid, crv, alg, x, y, n, e.
  if (jwk.kty === 'RSA') entry = { use: 'sig', kty: 'RSA', kid: key.keyId, alg: 'RS256', n: jwk.n, e: jwk.e };
  else if (jwk.kty === 'EC' && jwk.crv === 'P-256') entry = { use: 'sig', kty: 'EC', kid: key.keyId, crv: 'P-256', alg: 'ES256', x: jwk.x, y: jwk.y };
  else throw new Error(`unsupported service account signing key type ${String(jwk.kty)} ${String(jwk.crv ?? '')}: RSA (RS256) and P-256 (ES256) keys are served`);
  const keyset = { keys: [entry] };
  const config = {
    issuer,
    jwks_uri: `https://${externalAddress}${JWKS_PATH}`,
    response_types_supported: ['id_token'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: [entry.alg],
  };
  return { configJson: JSON.stringify(config), keysetJson: JSON.stringify(keyset) };
}
