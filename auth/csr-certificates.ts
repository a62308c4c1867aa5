// Issuing a certificate for a CertificateSigningRequest with the cluster CA, as the csrsigning
// controller's local signer does (pkg/controller/certificates/authority): the request's subject and
// public key (RSA, ECDSA or Ed25519: node-forge assembles the TBSCertificate with the request's
// SubjectPublicKeyInfo spliced in, Node's crypto signs it with the CA's RSA key), the usages as key
// usage and extended key usage, a validity backdated by five minutes, CA:false.

import { randomBytes, sign } from 'node:crypto';
import forge from 'node-forge';

export interface CertificateRequestToSign {
  commonName: string;
  organizations: string[];
  subjectPublicKeyInfo: Buffer;
  usages: string[];
  /** Validity from now, in seconds. */
  durationSeconds: number;
}

const BACKDATE_MS = 5 * 60 * 1000;
const KEY_USAGE_FLAGS: Record<string, string> = {
  'digital signature': 'digitalSignature', 'content commitment': 'nonRepudiation', 'key encipherment': 'keyEncipherment',
  'key agreement': 'keyAgreement', 'data encipherment': 'dataEncipherment', 'cert sign': 'keyCertSign', 'crl sign': 'cRLSign',
  'encipher only': 'encipherOnly', 'decipher only': 'decipherOnly',
};
const EXT_KEY_USAGE_FLAGS: Record<string, string> = {
  'server auth': 'serverAuth', 'client auth': 'clientAuth', 'code signing': 'codeSigning', 'email protection': 'emailProtection',
  's/mime': 'emailProtection', timestamping: 'timeStamping',
};

export function signCertificateRequest(ca: { caCertPem: string; caKeyPem: string }, request: CertificateRequestToSign, now = new Date()): string {
  const caCert = forge.pki.certificateFromPem(ca.caCertPem);
  const cert = forge.pki.createCertificate();
  // A placeholder key for forge's TBSCertificate builder; the request's own key replaces it below.
  cert.publicKey = forge.pki.setRsaPublicKey(new forge.jsbn.BigInteger('3'), new forge.jsbn.BigInteger('65537'));
  const serial = randomBytes(16);
  serial[0] &= 0x7f;
  cert.serialNumber = serial.toString('hex');
  cert.validity.notBefore = new Date(now.getTime() - BACKDATE_MS);
  cert.validity.notAfter = new Date(now.getTime() + request.durationSeconds * 1000);
  cert.setSubject([
    ...request.organizations.map((value) => ({ name: 'organizationName', value })),
    ...(request.commonName ? [{ name: 'commonName', value: request.commonName }] : []),
  ]);
  cert.setIssuer(caCert.subject.attributes);
  const keyUsage: Record<string, unknown> = { name: 'keyUsage', critical: true };
  const extKeyUsage: Record<string, unknown> = { name: 'extKeyUsage' };
  for (const usage of request.usages) {
    if (KEY_USAGE_FLAGS[usage]) keyUsage[KEY_USAGE_FLAGS[usage]] = true;
    if (EXT_KEY_USAGE_FLAGS[usage]) extKeyUsage[EXT_KEY_USAGE_FLAGS[usage]] = true;
  }
  cert.setExtensions([
    ...(Object.keys(keyUsage).length > 2 ? [keyUsage] : []),
    ...(Object.keys(extKeyUsage).length > 1 ? [extKeyUsage] : []),
    { name: 'basicConstraints', critical: true, cA: false },
  ]);
  const signatureOid = forge.pki.oids.sha256WithRSAEncryption;
  cert.siginfo.algorithmOid = signatureOid;
  cert.signatureOid = signatureOid;
  // getTBSCertificate is public in node-forge but missing from its type declarations.
  const tbs = (forge.pki as unknown as { getTBSCertificate(c: forge.pki.Certificate): forge.asn1.Asn1 }).getTBSCertificate(cert);
  const fields = tbs.value as forge.asn1.Asn1[];
  // version [0], serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo, ...
  fields[6] = forge.asn1.fromDer(forge.util.createBuffer(request.subjectPublicKeyInfo.toString('binary')));
  const tbsDer = Buffer.from(forge.asn1.toDer(tbs).getBytes(), 'binary');
  const signature = sign('sha256', tbsDer, ca.caKeyPem);
  const { asn1 } = forge;
  const certificate = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
    tbs,
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
      asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(signatureOid).getBytes()),
      asn1.create(asn1.Class.UNIVERSAL, asn1.Type.NULL, false, ''),
    ]),
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.BITSTRING, false, String.fromCharCode(0) + signature.toString('binary')),
  ]);
  return forge.pem.encode({ type: 'CERTIFICATE', body: asn1.toDer(certificate).getBytes() });
}
