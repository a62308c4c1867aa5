// Issuing a certificate for a CertificateSigningRequest with a signer's CA, as the csrsigning controller's
// local signer does (pkg/controller/certificates/authority): the request's subject (as Go re-encodes a
// parsed pkix.Name), subject alternative names and public key (RSA, ECDSA or Ed25519: its
// SubjectPublicKeyInfo is written as sent), the usages as key usage and extended key usage, a validity
// backdated by five minutes and cut at the CA's own expiry, CA:false. Written and signed by auth/x509.ts
// with the CA's key, whatever its type (ECDSA for data dirs created now, RSA before).

import { X509Certificate } from 'node:crypto';
import { issueCertificate, type ExtKeyUsage, type KeyUsage } from './x509.ts';

export interface CertificateRequestToSign {
  commonName: string;
  organizations: string[];
  /** The request's whole subject (type OID, value) in request order; without it, only the common name and organizations. */
  subjectAttributes?: { type: string; value: string }[];
  subjectPublicKeyInfo: Buffer;
  usages: string[];
  /** The requested subjectAltName extension value (GeneralNames, DER): the permissive policy forwards every SAN. */
  subjectAltNameDer?: Buffer;
  /** Validity from now, in seconds. */
  durationSeconds: number;
}

const BACKDATE_MS = 5 * 60 * 1000;
/**
 * pkix.Name's attributes in the order ToRDNSequence writes them: country, province, locality, street, postal
 * code, organization, organizational unit, common name, serial number. Go keeps the last common name and serial
 * number, every value of the others, and drops attribute types it has no field for.
 */
const SUBJECT_ORDER: { type: string; single: boolean }[] = [
  { type: '2.5.4.6', single: false }, { type: '2.5.4.8', single: false }, { type: '2.5.4.7', single: false },
  { type: '2.5.4.9', single: false }, { type: '2.5.4.17', single: false }, { type: '2.5.4.10', single: false },
  { type: '2.5.4.11', single: false }, { type: '2.5.4.3', single: true }, { type: '2.5.4.5', single: true },
];

/** The subject as Go's x509.CreateCertificate writes a template's Subject parsed from the request. */
export function goSubjectRdns(attributes: { type: string; value: string }[]): { type: string; value: string }[][] {
  const rdns: { type: string; value: string }[][] = [];
  for (const { type, single } of SUBJECT_ORDER) {
    let values = attributes.filter((attribute) => attribute.type === type).map((attribute) => attribute.value);
    if (single) values = values.length > 0 && values[values.length - 1] !== '' ? [values[values.length - 1]] : [];
    // appendRDNs: all values of one type in one relative distinguished name.
    if (values.length > 0) rdns.push(values.map((value) => ({ type, value })));
  }
  return rdns;
}
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
    ...(request.subjectAttributes ? { subjectRdns: goSubjectRdns(request.subjectAttributes) } : {}),
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
