// Reading an x509 CERTIFICATE REQUEST (PKCS#10) as certificates.ParseCSR and CheckSignature do:
// the PEM block, the DER structure, and the signature over the request info with the request's
// own key (RSA, ECDSA or Ed25519, through Node's crypto). A small DER walker slices the parts
// and decodes the OIDs (node-forge is only a test dependency, to build requests).

import { createPublicKey, verify, type KeyObject } from 'node:crypto';

export interface ParsedCertificateRequest {
  /** The subject's common name and organizations. */
  commonName: string;
  organizations: string[];
  /** Every subject attribute in request order: its type (dotted OID) and text value. */
  subjectAttributes: { type: string; value: string }[];
  /** The SubjectPublicKeyInfo, DER. */
  subjectPublicKeyInfo: Buffer;
  publicKey: KeyObject;
  /** Whether the request asks for subject alternative names (extensionRequest with a SAN extension). */
  hasSubjectAltNames: boolean;
  /** The requested subject alternative names by kind, as x509.CertificateRequest's DNSNames, IPAddresses, EmailAddresses, URIs. */
  dnsNames: string[];
  ipAddresses: string[];
  emailAddresses: string[];
  uris: string[];
  /** The subjectAltName extension's value (GeneralNames, DER) as requested, for the signer to copy. */
  subjectAltNameDer?: Buffer;
}

/** An iPAddress GeneralName's octets as text (four bytes IPv4, sixteen IPv6, as Go's net.IP prints them). */
function ipText(bytes: Buffer): string {
  if (bytes.length === 4) return [...bytes].join('.');
  const groups: string[] = [];
  for (let i = 0; i + 1 < bytes.length; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
  if (groups.length !== 8) return bytes.toString('hex');
  // The WHATWG URL parser writes IPv6 hosts in their canonical compressed form.
  return new URL(`http://[${groups.join(':')}]`).hostname.slice(1, -1);
}

const OID_COMMON_NAME = '2.5.4.3';
const OID_ORGANIZATION = '2.5.4.10';
const OID_EXTENSION_REQUEST = '1.2.840.113549.1.9.14';
const OID_SUBJECT_ALT_NAME = '2.5.29.17';
/** Signature algorithm OIDs → the digest Node's verify takes (null for Ed25519, which hashes itself). */
const SIGNATURE_DIGESTS: Record<string, string | null> = {
  '1.2.840.113549.1.1.5': 'sha1', '1.2.840.113549.1.1.11': 'sha256', '1.2.840.113549.1.1.12': 'sha384', '1.2.840.113549.1.1.13': 'sha512',
  '1.2.840.10045.4.1': 'sha1', '1.2.840.10045.4.3.2': 'sha256', '1.2.840.10045.4.3.3': 'sha384', '1.2.840.10045.4.3.4': 'sha512',
  '1.3.101.112': null,
};

interface Tlv { tag: number; start: number; contentStart: number; end: number }

/** One DER element at `offset`: the signature covers the request info's bytes exactly as sent, so they are sliced, never re-encoded. */
function readTlv(der: Buffer, offset: number): Tlv {
  if (offset + 2 > der.length) throw new Error('asn1: syntax error: data truncated');
  const tag = der[offset];
  let length = der[offset + 1];
  let contentStart = offset + 2;
  if (length & 0x80) {
    const bytes = length & 0x7f;
    if (bytes === 0 || bytes > 4) throw new Error('asn1: structure error: length too large');
    length = 0;
    for (let i = 0; i < bytes; i++) length = length * 256 + der[contentStart + i];
    contentStart += bytes;
  }
  const end = contentStart + length;
  if (end > der.length) throw new Error('asn1: syntax error: data truncated');
  return { tag, start: offset, contentStart, end };
}

function children(der: Buffer, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let at = parent.contentStart; at < parent.end;) {
    const child = readTlv(der, at);
    out.push(child);
    at = child.end;
  }
  return out;
}

const content = (der: Buffer, tlv: Tlv): Buffer => der.subarray(tlv.contentStart, tlv.end);
const whole = (der: Buffer, tlv: Tlv): Buffer => der.subarray(tlv.start, tlv.end);
/** An OBJECT IDENTIFIER's content as dotted text (X.690 8.19: the first byte holds two arcs, base-128 after). */
function oid(der: Buffer, tlv: Tlv): string {
  const bytes = content(der, tlv);
  if (bytes.length === 0) return '';
  const arcs: number[] = [Math.floor(bytes[0] / 40), bytes[0] % 40];
  let value = 0;
  for (let i = 1; i < bytes.length; i++) {
    value = value * 128 + (bytes[i] & 0x7f);
    if ((bytes[i] & 0x80) === 0) {
      arcs.push(value);
      value = 0;
    }
  }
  return arcs.join('.');
}

/** The PEM's first CERTIFICATE REQUEST block, or an error worded as ParseCSR's. */
function decodePem(pem: Buffer): Buffer {
  const text = pem.toString('latin1');
  const match = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/.exec(text);
  if (!match || match[1] !== 'CERTIFICATE REQUEST') throw new Error('PEM block type must be CERTIFICATE REQUEST');
  return Buffer.from(match[2].replace(/\s+/g, ''), 'base64');
}

/** ParseCSR followed by CheckSignature; throws with upstream's messages where they are known. */
export function parseCertificateRequest(pem: Buffer): ParsedCertificateRequest {
  const der = decodePem(pem);
  const root = readTlv(der, 0);
  const [info, algorithm, signature] = children(der, root);
  if (!info || !algorithm || !signature) throw new Error('asn1: structure error: a certificate request has three parts');
  const [, subject, spki, attributes] = children(der, info);
  if (!subject || !spki) throw new Error('asn1: structure error: the request info lacks its subject or key');
  let commonName = '';
  const organizations: string[] = [];
  const subjectAttributes: { type: string; value: string }[] = [];
  for (const set of children(der, subject)) {
    for (const attribute of children(der, set)) {
      const [type, value] = children(der, attribute);
      if (!type || !value) continue;
      const text = content(der, value).toString('utf8');
      subjectAttributes.push({ type: oid(der, type), value: text });
      if (oid(der, type) === OID_COMMON_NAME) commonName = text;
      if (oid(der, type) === OID_ORGANIZATION) organizations.push(text);
    }
  }
  let hasSubjectAltNames = false;
  const names = { dnsNames: [] as string[], ipAddresses: [] as string[], emailAddresses: [] as string[], uris: [] as string[] };
  let subjectAltNameDer: Buffer | undefined;
  for (const attribute of attributes ? children(der, attributes) : []) {
    const [type, values] = children(der, attribute);
    if (!type || !values || oid(der, type) !== OID_EXTENSION_REQUEST) continue;
    for (const extensions of children(der, values)) {
      for (const extension of children(der, extensions)) {
        const parts = children(der, extension);
        if (!parts[0] || oid(der, parts[0]) !== OID_SUBJECT_ALT_NAME) continue;
        hasSubjectAltNames = true;
        // extnID, optional critical BOOLEAN, extnValue OCTET STRING holding GeneralNames.
        const value = parts[parts.length - 1];
        const generalNames = readTlv(der, value.contentStart);
        subjectAltNameDer = Buffer.from(whole(der, generalNames));
        for (const name of children(der, generalNames)) {
          const bytes = content(der, name);
          // Context-specific tags: [1] rfc822Name, [2] dNSName, [6] URI, [7] iPAddress.
          if (name.tag === 0x81) names.emailAddresses.push(bytes.toString('latin1'));
          else if (name.tag === 0x82) names.dnsNames.push(bytes.toString('latin1'));
          else if (name.tag === 0x86) names.uris.push(bytes.toString('latin1'));
          else if (name.tag === 0x87) names.ipAddresses.push(ipText(bytes));
        }
      }
    }
  }
  const subjectPublicKeyInfo = Buffer.from(whole(der, spki));
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({ key: subjectPublicKeyInfo, format: 'der', type: 'spki' });
  } catch {
    throw new Error('x509: unsupported public key algorithm');
  }
  const [algorithmOid] = children(der, algorithm);
  const digest = algorithmOid ? SIGNATURE_DIGESTS[oid(der, algorithmOid)] : undefined;
  if (digest === undefined) throw new Error('x509: cannot verify signature: algorithm unimplemented');
  // A BIT STRING's first byte counts its unused bits.
  const signatureBytes = content(der, signature).subarray(1);
  if (!verify(digest, whole(der, info), publicKey, signatureBytes)) {
    const type = publicKey.asymmetricKeyType;
    throw new Error(type === 'rsa' ? 'crypto/rsa: verification error' : type === 'ec' ? 'x509: ECDSA verification failure' : 'x509: Ed25519 verification failure');
  }
  return { commonName, organizations, subjectAttributes, subjectPublicKeyInfo, publicKey, hasSubjectAltNames, ...names, ...(subjectAltNameDer ? { subjectAltNameDer } : {}) };
}
