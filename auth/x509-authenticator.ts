// Client-certificate authentication (k8s.io/apiserver/pkg/authentication/request/x509): the HTTPS
// server requests, but does not require, a client certificate and checks its chain against the cluster
// CA; a verified certificate with client-auth usage authenticates as CN, with each O as a group.
// A presented certificate that does not verify is a failed credential (401), not an absent one.

import type { TLSSocket } from 'node:tls';
import { UNRECOGNISED, type AuthenticationRequest, type AuthenticationResult, type ClientCertificateInfo, type RequestAuthenticator } from './authenticator.ts';

const CLIENT_AUTH_OID = '1.3.6.1.5.5.7.3.2';
const ANY_USAGE_OID = '2.5.29.37.0';

// A keep-alive connection presents its certificate once; the parsed form is kept per socket.
const perSocket = new WeakMap<TLSSocket, ClientCertificateInfo | null>();

/** The client certificate a TLS connection presented, or undefined (plain sockets, or none sent). */
export function clientCertificateOf(socket: unknown): ClientCertificateInfo | undefined {
  const tls = socket as Partial<TLSSocket> | undefined;
  if (!tls || typeof tls.getPeerCertificate !== 'function') return undefined;
  const known = perSocket.get(tls as TLSSocket);
  if (known !== undefined) return known ?? undefined;
  const cert = tls.getPeerCertificate();
  let info: ClientCertificateInfo | null = null;
  if (cert && Object.keys(cert).length > 0) {
    const subject = (cert.subject ?? {}) as unknown as Record<string, string | string[] | undefined>;
    const usages = (cert as { ext_key_usage?: string[] }).ext_key_usage;
    info = {
      commonName: firstValue(subject.CN),
      organizations: allValues(subject.O),
      verified: tls.authorized === true,
      verificationError: tls.authorized ? undefined : String(tls.authorizationError ?? 'unknown'),
      // No extended key usage at all means any usage, as Go's verifier treats it.
      clientAuth: usages === undefined || usages.includes(CLIENT_AUTH_OID) || usages.includes(ANY_USAGE_OID),
    };
  }
  perSocket.set(tls as TLSSocket, info);
  return info ?? undefined;
}

function firstValue(value: string | string[] | undefined): string {
  if (Array.isArray(value)) return value[0] ?? '';
  return value ?? '';
}

function allValues(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? [...value] : [value];
}

export class X509Authenticator implements RequestAuthenticator {
  authenticate(request: AuthenticationRequest): AuthenticationResult {
    const cert = request.clientCertificate;
    if (!cert) return UNRECOGNISED;
    if (!cert.verified) return { status: 'failed', reason: `verifying certificate failed: ${cert.verificationError ?? 'unknown'}` };
    if (!cert.clientAuth) return { status: 'failed', reason: 'x509: certificate specifies an incompatible key usage' };
    // CommonNameUserConversion: no CN, no user (and no error).
    if (!cert.commonName) return UNRECOGNISED;
    return { status: 'authenticated', user: { username: cert.commonName, groups: [...cert.organizations] } };
  }
}
