// Issuing a certificate for a CertificateSigningRequest with the cluster CA, as the csrsigning
// controller's local signer does (pkg/controller/certificates/authority): the request's subject and
// public key (RSA, ECDSA or Ed25519: its SubjectPublicKeyInfo is written as sent), the usages as key
// usage and extended key usage, a validity backdated by five minutes, CA:false. Written and signed by
// auth/x509.ts with the CA's key, whatever its type (ECDSA for data dirs created now, RSA before).

import { X509Certificate } from 'node:crypto';
import { issueCertificate, type ExtKeyUsage, type KeyUsage } from './x509.ts';

export interface CertificateRequestToSign {
  commonName: string;
  organizations: string[];
  subjectPublicKeyInfo: Buffer;
  usages: string[];
  /** The requested subjectAltName extension value (GeneralNames, DER): the permissive policy forwards every SAN. */
  subjectAltNameDer?: Buffer;
  /** Validity from now, in seconds. */
  durationSeconds: number;
}

const BACKDATE_MS = 5 * 60 * 1000;
const KEY_USAGE_FLAGS: Record<string, keyof KeyUsage> = {
  'digital signature': 'digitalSignature', 'content commitment': 'nonRepudiation', 'key encipherment': 'keyEncipherment',
  'key agreement': 'keyAgreement', 'data encipherment': 'dataEncipherment', 'cert sign': 'keyCertSign', 'crl sign': 'cRLSign',
  'encipher only': 'encipherOnly', 'decipher only': 'decipherOnly',
};
const EXT_KEY_USAGE_FLAGS: Record<string, ExtKeyUsage> = {
  'server auth': 'serverAuth', 'client auth': 'clientAuth', 'code signing': 'codeSigning', 'email protection': 'emailProtection',
  's/mime': 'emailProtection', timestamping: 'timeStamping',
};

export function signCertificateRequest(ca: { caCertPem: string; caKeyPem: string }, request: CertificateRequestToSign, now = new Date()): string {
  const keyUsage: KeyUsage = {};
  const extKeyUsage: ExtKeyUsage[] = [];
  for (const usage of request.usages) {
    const flag = KEY_USAGE_FLAGS[usage];
    if (flag) keyUsage[flag] = true;
    const ext = EXT_KEY_USAGE_FLAGS[usage];
    if (ext && !extKeyUsage.includes(ext)) extKeyUsage.push(ext);
  }
  // The signing policy's boundaries: never valid beyond the CA itself, and nothing signed by an expired CA.
  const caNotAfter = new Date(new X509Certificate(ca.caCertPem).validTo);
  if (now.getTime() > caNotAfter.getTime()) throw new Error(`the signer has expired: NotAfter=${caNotAfter.toISOString()}`);
  const requestedNotAfter = new Date(now.getTime() + request.durationSeconds * 1000);
  const notAfter = requestedNotAfter.getTime() > caNotAfter.getTime() ? caNotAfter : requestedNotAfter;
  return issueCertificate({
    commonName: request.commonName,
    organizations: request.organizations,
    publicKeyPem: { spkiDer: request.subjectPublicKeyInfo },
    days: 0,
    validity: { notBefore: new Date(now.getTime() - BACKDATE_MS), notAfter },
    ...(request.subjectAltNameDer ? { subjectAltNameDer: request.subjectAltNameDer } : {}),
    isCa: false,
    basicConstraintsCritical: true,
    ...(Object.keys(keyUsage).length > 0 ? { keyUsage } : {}),
    extKeyUsage,
    // Go's x509.CreateCertificate writes a subject key identifier only for CAs; the authority key identifier always.
    subjectKeyIdentifier: false,
  }, { certPem: ca.caCertPem, privateKeyPem: ca.caKeyPem });
}
