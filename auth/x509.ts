// X.509 v3 certificates written as DER and signed with node:crypto. Node can read certificates
// (X509Certificate) but not issue them, and node-forge, which can, signs with RSA keys only and costs
// ~0.2 s of pure-JavaScript big-number arithmetic per signature. Certificates need only a handful of
// DER types, so they are written here: ECDSA P-256 keys (as kubeadm's `--encryption-algorithm
// ECDSA-P256`) are generated natively in a millisecond and every client (Go, OpenSSL, Node) accepts
// them. Issuers with RSA keys (a data dir created before) still sign: the signature algorithm follows
// the issuer's key.

import { createHash, createPublicKey, generateKeyPair, generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';
import { isIP } from 'node:net';

export interface KeyPairPem {
  publicKeyPem: string;
  privateKeyPem: string;
}

/** An ECDSA P-256 key pair; the private key as SEC1 (`EC PRIVATE KEY`), what kubeadm writes for ECDSA. */
export function generateEcKeyPair(): KeyPairPem {
  const { publicKey, privateKey } = generateKeyPairSync('ec', EC_KEY_OPTIONS);
  return { publicKeyPem: publicKey, privateKeyPem: privateKey };
}

/** The same on libuv's thread pool. */
export function generateEcKeyPairAsync(): Promise<KeyPairPem> {
  return new Promise((resolve, reject) => {
    generateKeyPair('ec', EC_KEY_OPTIONS, (err, publicKey, privateKey) => {
      if (err) reject(err);
      else resolve({ publicKeyPem: publicKey, privateKeyPem: privateKey });
    });
  });
}

const EC_KEY_OPTIONS = {
  namedCurve: 'prime256v1',
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'sec1', format: 'pem' },
} as const;

export interface KeyUsage {
  digitalSignature?: boolean;
  nonRepudiation?: boolean;
  keyEncipherment?: boolean;
  dataEncipherment?: boolean;
  keyAgreement?: boolean;
  keyCertSign?: boolean;
  cRLSign?: boolean;
  encipherOnly?: boolean;
  decipherOnly?: boolean;
}

export type ExtKeyUsage = 'serverAuth' | 'clientAuth' | 'codeSigning' | 'emailProtection' | 'timeStamping';

export interface CertificateTemplate {
  /** Subject: common name and organisations (one O attribute each, before the CN as kubeadm orders them). */
  commonName: string;
  organizations?: string[];
  /** The subject's public key: PEM, or a SubjectPublicKeyInfo as DER (a CSR's, any key type Node reads). */
  publicKeyPem: string | { spkiDer: Buffer };
  days: number;
  /** Explicit validity (a CSR signer's); default: a minute ago until `days` from now. */
  validity?: { notBefore: Date; notAfter: Date };
  /** Whether to write a subjectKeyIdentifier (default true). */
  subjectKeyIdentifier?: boolean;
  isCa: boolean;
  /** Marked critical (as forge and Go write it for CAs). */
  basicConstraintsCritical?: boolean;
  /** Undefined: no keyUsage extension. */
  keyUsage?: KeyUsage;
  extKeyUsage?: ExtKeyUsage[];
  /** DNS names and IP addresses. */
  subjectAltNames?: string[];
  /** A subjectAltName extension value (GeneralNames, DER) written as given: a CSR's, copied by a signer. */
  subjectAltNameDer?: Buffer;
  /**
   * A whole subject instead of commonName and organizations: relative distinguished names in order, each a set of
   * attributes (type OID, value), written as Go's encoding/asn1 writes them (PrintableString when the value allows
   * it, UTF8String otherwise; a set's members in DER order).
   */
  subjectRdns?: { type: string; value: string }[][];
}

export interface Issuer {
  /** The issuer's certificate; omitted for a self-signed certificate. */
  certPem?: string;
  privateKeyPem: string;
}

/** Writes and signs a certificate; returns it as PEM. */
export function issueCertificate(template: CertificateTemplate, issuer: Issuer): string {
  const signingKey = issuer.privateKeyPem;
  const signer = createPublicKey(signingKey);
  const subject = template.subjectRdns ? encodeRdns(template.subjectRdns) : encodeName(template.commonName, template.organizations ?? []);
  const subjectSpki = typeof template.publicKeyPem === 'string'
    ? createPublicKey(template.publicKeyPem).export({ type: 'spki', format: 'der' })
    // Parsed first, so a key Node cannot read is refused here rather than written into a certificate.
    : createPublicKey({ key: template.publicKeyPem.spkiDer, format: 'der', type: 'spki' }).export({ type: 'spki', format: 'der' });
  let issuerName: Buffer = subject;
  let issuerSpki: Buffer = subjectSpki;
  if (issuer.certPem !== undefined) {
    const fields = tbsFields(pemToDer(issuer.certPem));
    issuerName = fields.subject;
    issuerSpki = fields.spki;
  }
  const signatureAlgorithm = signatureAlgorithmFor(signer);
  const serial = randomBytes(16);
  // A positive 128-bit serial: the top bit clear keeps the DER INTEGER non-negative.
  serial[0] &= 0x7f;
  const now = Date.now();
  const extensions = [
    extension('2.5.29.19', sequence(template.isCa ? [boolean(true)] : []), template.basicConstraintsCritical ?? false),
  ];
  if (template.keyUsage) extensions.push(extension('2.5.29.15', keyUsageBits(template.keyUsage), true));
  if (template.extKeyUsage?.length) {
    extensions.push(extension('2.5.29.37', sequence(template.extKeyUsage.map((usage) => oid(EXT_KEY_USAGE[usage]))), false));
  }
  if (template.subjectAltNameDer) extensions.push(extension('2.5.29.17', template.subjectAltNameDer, false));
  else if (template.subjectAltNames?.length) extensions.push(extension('2.5.29.17', sequence(template.subjectAltNames.map(generalName)), false));
  if (template.subjectKeyIdentifier ?? true) extensions.push(extension('2.5.29.14', octetString(keyIdentifier(subjectSpki)), false));
  if (issuer.certPem !== undefined) {
    // authorityKeyIdentifier: [0] keyIdentifier, the issuer's own subjectKeyIdentifier (same derivation).
    extensions.push(extension('2.5.29.35', sequence([tlv(0x80, keyIdentifier(issuerSpki))]), false));
  }
  const tbs = sequence([
    tlv(0xa0, integer(Buffer.from([2]))),
    integer(serial),
    signatureAlgorithm,
    issuerName,
    // Backdated by a minute so a client with a slightly slow clock does not see "not yet valid".
    template.validity
      ? sequence([time(template.validity.notBefore), time(template.validity.notAfter)])
      : sequence([time(new Date(now - 60_000)), time(new Date(now + template.days * 24 * 3600 * 1000))]),
    subject,
    subjectSpki,
    tlv(0xa3, sequence(extensions)),
  ]);
  const signature = sign('sha256', tbs, signingKey);
  return derToPem(sequence([tbs, signatureAlgorithm, bitString(signature)]), 'CERTIFICATE');
}

const EXT_KEY_USAGE: Record<ExtKeyUsage, string> = {
  serverAuth: '1.3.6.1.5.5.7.3.1', clientAuth: '1.3.6.1.5.5.7.3.2', codeSigning: '1.3.6.1.5.5.7.3.3',
  emailProtection: '1.3.6.1.5.5.7.3.4', timeStamping: '1.3.6.1.5.5.7.3.8',
};

function signatureAlgorithmFor(key: KeyObject): Buffer {
  // RFC 5758: ecdsa-with-SHA256 has no parameters; RFC 4055: sha256WithRSAEncryption has NULL.
  if (key.asymmetricKeyType === 'ec') return sequence([oid('1.2.840.10045.4.3.2')]);
  if (key.asymmetricKeyType === 'rsa') return sequence([oid('1.2.840.113549.1.1.11'), tlv(0x05, Buffer.alloc(0))]);
  throw new Error(`cannot sign certificates with a ${key.asymmetricKeyType ?? 'unknown'} key`);
}

/** RFC 5280 4.2.1.2 method 1: SHA-1 of the subjectPublicKey BIT STRING's bits (what Go and node-forge derive). */
function keyIdentifier(spki: Buffer): Buffer {
  const [, subjectPublicKey] = children(spki);
  return createHash('sha1').update(subjectPublicKey.content.subarray(1)).digest();
}

/** PrintableString's alphabet (X.680 41.4), as Go's isPrintable without its asterisk and ampersand leniency. */
const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;

function encodeRdns(rdns: { type: string; value: string }[][]): Buffer {
  return sequence(rdns.map((attributes) => {
    const encoded = attributes.map(({ type, value }) => sequence([oid(type), tlv(PRINTABLE.test(value) ? 0x13 : 0x0c, Buffer.from(value, 'utf8'))]));
    return set(encoded.sort(Buffer.compare));
  }));
}

function encodeName(commonName: string, organizations: string[]): Buffer {
  const attribute = (type: string, value: string) => set([sequence([oid(type), tlv(0x0c, Buffer.from(value, 'utf8'))])]);
  return sequence([...organizations.map((organization) => attribute('2.5.4.10', organization)), attribute('2.5.4.3', commonName)]);
}

function generalName(name: string): Buffer {
  const version = isIP(name);
  if (version === 4) return tlv(0x87, Buffer.from(name.split('.').map(Number)));
  if (version === 6) return tlv(0x87, ipv6Bytes(name));
  return tlv(0x82, Buffer.from(name, 'ascii'));
}

function ipv6Bytes(address: string): Buffer {
  const [head, tail] = address.includes('::') ? address.split('::') : [address, undefined];
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const groups = [...headGroups, ...Array<string>(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups];
  const bytes = Buffer.alloc(16);
  groups.forEach((group, i) => bytes.writeUInt16BE(parseInt(group, 16), i * 2));
  return bytes;
}

const KEY_USAGE_BIT_ORDER: (keyof KeyUsage)[] = [
  'digitalSignature', 'nonRepudiation', 'keyEncipherment', 'dataEncipherment', 'keyAgreement', 'keyCertSign', 'cRLSign',
  'encipherOnly', 'decipherOnly',
];

function keyUsageBits(usage: KeyUsage): Buffer {
  // Bit 0 is the most significant bit of the first byte (X.690 named bit list); trailing zero bits are dropped.
  const set = KEY_USAGE_BIT_ORDER.map((name) => usage[name] === true);
  const last = set.lastIndexOf(true);
  if (last < 0) return tlv(0x03, Buffer.from([0]));
  const bytes = Buffer.alloc(Math.floor(last / 8) + 1);
  set.forEach((on, bit) => { if (on) bytes[bit >> 3] |= 0x80 >> (bit & 7); });
  return tlv(0x03, Buffer.concat([Buffer.from([7 - (last & 7)]), bytes]));
}

function extension(id: string, value: Buffer, critical: boolean): Buffer {
  return sequence([oid(id), ...(critical ? [boolean(true)] : []), octetString(value)]);
}

function time(date: Date): Buffer {
  const iso = date.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  // UTCTime until 2049, GeneralizedTime after (RFC 5280 4.1.2.5).
  return date.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(`${iso.slice(2)}Z`)) : tlv(0x18, Buffer.from(`${iso}Z`));
}

// --- DER writing

function tlv(tag: number, content: Buffer): Buffer {
  const length = content.length;
  if (length < 0x80) return Buffer.concat([Buffer.from([tag, length]), content]);
  const lengthBytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) lengthBytes.unshift(n & 0xff);
  return Buffer.concat([Buffer.from([tag, 0x80 | lengthBytes.length, ...lengthBytes]), content]);
}

const sequence = (items: Buffer[]) => tlv(0x30, Buffer.concat(items));
const set = (items: Buffer[]) => tlv(0x31, Buffer.concat(items));
const boolean = (value: boolean) => tlv(0x01, Buffer.from([value ? 0xff : 0]));
const octetString = (bytes: Buffer) => tlv(0x04, bytes);
const bitString = (bytes: Buffer) => tlv(0x03, Buffer.concat([Buffer.from([0]), bytes]));

/** A non-negative INTEGER from big-endian bytes, minimally encoded. */
function integer(bytes: Buffer): Buffer {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0 && (bytes[start + 1] & 0x80) === 0) start++;
  const trimmed = bytes.subarray(start);
  return tlv(0x02, trimmed[0] & 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed);
}

function oid(dotted: string): Buffer {
  const [first, second, ...rest] = dotted.split('.').map(Number);
  const bytes = [first * 40 + second];
  for (const arc of rest) {
    const encoded = [arc & 0x7f];
    for (let n = Math.floor(arc / 128); n > 0; n = Math.floor(n / 128)) encoded.unshift((n & 0x7f) | 0x80);
    bytes.push(...encoded);
  }
  return tlv(0x06, Buffer.from(bytes));
}

// --- DER reading (only what finding the issuer's name and key in its certificate needs)

interface Element {
  tag: number;
  /** The whole element, header included. */
  raw: Buffer;
  content: Buffer;
}

function readElement(der: Buffer, offset: number): Element {
  const tag = der[offset];
  let length = der[offset + 1];
  let headerLength = 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + der[offset + 2 + i];
    headerLength += count;
  }
  const end = offset + headerLength + length;
  if (tag === undefined || end > der.length) throw new Error('malformed DER in certificate');
  return { tag, raw: der.subarray(offset, end), content: der.subarray(offset + headerLength, end) };
}

function children(der: Buffer): Element[] {
  const { content } = readElement(der, 0);
  const elements: Element[] = [];
  for (let offset = 0; offset < content.length;) {
    const element = readElement(content, offset);
    elements.push(element);
    offset += element.raw.length;
  }
  return elements;
}

/** The subject Name and SubjectPublicKeyInfo of a certificate, as their raw DER. */
function tbsFields(certificate: Buffer): { subject: Buffer; spki: Buffer } {
  const [tbs] = children(certificate);
  const fields = children(tbs.raw);
  // version [0] is optional (v1 certificates omit it).
  const base = fields[0].tag === 0xa0 ? 1 : 0;
  return { subject: fields[base + 4].raw, spki: fields[base + 5].raw };
}

function pemToDer(pem: string): Buffer {
  const body = /-----BEGIN CERTIFICATE-----([\s\S]+?)-----END CERTIFICATE-----/.exec(pem)?.[1];
  if (body === undefined) throw new Error('not a PEM certificate');
  return Buffer.from(body.replace(/\s+/g, ''), 'base64');
}

function derToPem(der: Buffer, label: string): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
