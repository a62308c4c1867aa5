// The server's certificate authority and serving certificate, generated on first start and reused
// afterwards (as kubeadm's "certs" phase lays them out: ca.crt/ca.key, apiserver.crt/apiserver.key).
// Keys come from Node's crypto (native, fast); node-forge only assembles and signs the X.509 structures,
// because Node has no API to issue certificates.

import { generateKeyPair, generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import forge from 'node-forge';

export interface Pki {
  caCertPem: string;
  caKeyPem: string;
  servingCertPem: string;
  servingKeyPem: string;
}

export interface PkiOptions {
  /** Extra subject alternative names for the serving certificate (IP addresses or DNS names). */
  sans: string[];
  /** Bring-your-own serving certificate (PEM file); requires keyFile. */
  certFile?: string;
  keyFile?: string;
}

export interface ClientCertificateRequest {
  /** Becomes the user name (subject CN). */
  commonName: string;
  /** Become the user's groups (subject O, one attribute each). */
  organizations: string[];
  days: number;
}

export interface IssuedCertificate {
  certPem: string;
  keyPem: string;
}

const CA_COMMON_NAME = 'kubefacade-ca';
const SERVING_COMMON_NAME = 'kube-apiserver';
const CA_VALIDITY_DAYS = 3650;
const SERVING_VALIDITY_DAYS = 365;
const DEFAULT_SANS = ['127.0.0.1', 'localhost', '::1'];
const KEY_FILE_MODE = 0o600;

/** Loads the PKI from pkiDir, creating or refreshing whatever is missing or no longer matches. */
export async function ensurePki(pkiDir: string, options: PkiOptions): Promise<Pki> {
  if (Boolean(options.certFile) !== Boolean(options.keyFile)) {
    throw new Error('--tls-cert-file and --tls-private-key-file must be given together');
  }
  const { caCertPem, caKeyPem } = await ensureCertificateAuthority(pkiDir);

  if (options.certFile && options.keyFile) {
    return {
      caCertPem, caKeyPem,
      servingCertPem: await fs.readFile(options.certFile, 'utf8'),
      servingKeyPem: await fs.readFile(options.keyFile, 'utf8'),
    };
  }

  const servingCertPath = path.join(pkiDir, 'apiserver.crt');
  const servingKeyPath = path.join(pkiDir, 'apiserver.key');
  const wantedSans = uniqueSans([...DEFAULT_SANS, ...options.sans]);
  let servingCertPem = await readIfExists(servingCertPath);
  let servingKeyPem = await readIfExists(servingKeyPath);
  if (servingCertPem === undefined || servingKeyPem === undefined
    || !servingCertificateStillValid(servingCertPem, caCertPem, wantedSans)) {
    ({ certPem: servingCertPem, keyPem: servingKeyPem } = issueServingCertificate({ caCertPem, caKeyPem }, wantedSans));
    await writePemPair(servingCertPath, servingCertPem, servingKeyPath, servingKeyPem);
  }
  return { caCertPem, caKeyPem, servingCertPem, servingKeyPem };
}

/** The cluster CA (`ca.crt`, `ca.key`), created when missing; the server and `kubefacade kubeconfig` share it. */
export async function ensureCertificateAuthority(pkiDir: string): Promise<Pick<Pki, 'caCertPem' | 'caKeyPem'>> {
  await fs.mkdir(pkiDir, { recursive: true, mode: 0o700 });
  const caCertPath = path.join(pkiDir, 'ca.crt');
  const caKeyPath = path.join(pkiDir, 'ca.key');
  let caCertPem = await readIfExists(caCertPath);
  let caKeyPem = await readIfExists(caKeyPath);
  if (caCertPem === undefined || caKeyPem === undefined) {
    ({ certPem: caCertPem, keyPem: caKeyPem } = issueCaCertificate());
    await writePemPair(caCertPath, caCertPem, caKeyPath, caKeyPem);
  }
  return { caCertPem, caKeyPem };
}

/** A client certificate for x509 client authentication: CN is the user name, each O a group. */
export function signClientCertificate(
  pki: Pick<Pki, 'caCertPem' | 'caKeyPem'>,
  request: ClientCertificateRequest,
  keyPair: RsaKeyPair = generateRsaKeyPair(),
): IssuedCertificate {
  const subject: forge.pki.CertificateField[] = [
    ...request.organizations.map((organization) => ({ name: 'organizationName', value: organization })),
    { name: 'commonName', value: request.commonName },
  ];
  return issueLeaf(pki, subject, request.days, [
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', critical: true, digitalSignature: true, keyEncipherment: true },
    { name: 'extKeyUsage', clientAuth: true },
  ], keyPair);
}

/**
 * The same, with the key generated on libuv's thread pool: RSA key generation takes up to a second or
 * two, so several certificates issued together are generated side by side.
 */
export async function signClientCertificateAsync(
  pki: Pick<Pki, 'caCertPem' | 'caKeyPem'>,
  request: ClientCertificateRequest,
): Promise<IssuedCertificate> {
  const keyPair = await new Promise<RsaKeyPair>((resolve, reject) => {
    generateKeyPair('rsa', RSA_KEY_OPTIONS, (err, publicKey, privateKey) => {
      if (err) reject(err);
      else resolve({ publicKeyPem: publicKey, privateKeyPem: privateKey });
    });
  });
  return signClientCertificate(pki, request, keyPair);
}

function issueCaCertificate(): IssuedCertificate {
  const { publicKeyPem, privateKeyPem } = generateRsaKeyPair();
  const subject = [{ name: 'commonName', value: CA_COMMON_NAME }];
  const cert = newCertificate(publicKeyPem, CA_VALIDITY_DAYS);
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', critical: true, cA: true },
    { name: 'keyUsage', critical: true, keyCertSign: true, cRLSign: true, digitalSignature: true, keyEncipherment: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(privateKeyPem), forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: privateKeyPem };
}

function issueServingCertificate(ca: Pick<Pki, 'caCertPem' | 'caKeyPem'>, sans: string[]): IssuedCertificate {
  const altNames = sans.map((san) => (isIP(san) ? { type: 7, ip: san } : { type: 2, value: san }));
  return issueLeaf(ca, [{ name: 'commonName', value: SERVING_COMMON_NAME }], SERVING_VALIDITY_DAYS, [
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', critical: true, digitalSignature: true, keyEncipherment: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames },
  ]);
}

function issueLeaf(
  ca: Pick<Pki, 'caCertPem' | 'caKeyPem'>,
  subject: forge.pki.CertificateField[],
  days: number,
  extensions: object[],
  keyPair: RsaKeyPair = generateRsaKeyPair(),
): IssuedCertificate {
  const caCert = forge.pki.certificateFromPem(ca.caCertPem);
  const { publicKeyPem, privateKeyPem } = keyPair;
  const cert = newCertificate(publicKeyPem, days);
  cert.setSubject(subject);
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([
    ...extensions,
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(ca.caKeyPem), forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: privateKeyPem };
}

function newCertificate(publicKeyPem: string, days: number): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKeyPem);
  // Positive 128-bit serial: a leading 0x00..0x7f byte keeps the DER INTEGER non-negative.
  const serial = randomBytes(16);
  serial[0] &= 0x7f;
  cert.serialNumber = serial.toString('hex');
  const now = Date.now();
  // Backdated by a minute so a client with a slightly slow clock does not see "not yet valid".
  cert.validity.notBefore = new Date(now - 60_000);
  cert.validity.notAfter = new Date(now + days * 24 * 3600 * 1000);
  return cert;
}

interface RsaKeyPair {
  publicKeyPem: string;
  privateKeyPem: string;
}

const RSA_KEY_OPTIONS = {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  // PKCS#1 ("BEGIN RSA PRIVATE KEY"): what node-forge reads and what kubeadm writes.
  privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
} as const;

function generateRsaKeyPair(): RsaKeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', RSA_KEY_OPTIONS);
  return { publicKeyPem: publicKey, privateKeyPem: privateKey };
}

/** The stored serving certificate is kept if it was signed by this CA, has not expired and has exactly the wanted SANs. */
function servingCertificateStillValid(certPem: string, caCertPem: string, wantedSans: string[]): boolean {
  try {
    const cert = new X509Certificate(certPem);
    const ca = new X509Certificate(caCertPem);
    if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) return false;
    if (new Date(cert.validTo).getTime() < Date.now() + 24 * 3600 * 1000) return false;
    const present = parseSubjectAltNames(cert.subjectAltName ?? '');
    return sameSet(present, wantedSans.map(normaliseSan));
  } catch {
    return false;
  }
}

/** Node prints SANs as `DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1`. */
function parseSubjectAltNames(text: string): string[] {
  return text.split(',').map((part) => part.trim()).filter(Boolean).map((part) => {
    const colon = part.indexOf(':');
    return normaliseSan(part.slice(colon + 1));
  });
}

function normaliseSan(san: string): string {
  if (isIP(san) === 6) return expandIpv6(san);
  return isIP(san) ? san : san.toLowerCase();
}

function expandIpv6(address: string): string {
  const [head, tail] = address.includes('::') ? address.split('::') : [address, undefined];
  const headParts = head ? head.split(':') : [];
  const tailParts = tail ? tail.split(':') : [];
  const missing = tail === undefined ? 0 : 8 - headParts.length - tailParts.length;
  return [...headParts, ...Array<string>(missing).fill('0'), ...tailParts]
    .map((group) => parseInt(group, 16).toString(16)).join(':');
}

function uniqueSans(sans: string[]): string[] {
  const seen = new Set<string>();
  const result: string[] = [];
  for (const san of sans.map((s) => s.trim()).filter(Boolean)) {
    const key = normaliseSan(san);
    if (!seen.has(key)) { seen.add(key); result.push(san); }
  }
  return result;
}

function sameSet(a: string[], b: string[]): boolean {
  const left = new Set(a);
  const right = new Set(b);
  return left.size === right.size && [...left].every((item) => right.has(item));
}

async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

async function writePemPair(certPath: string, certPem: string, keyPath: string, keyPem: string): Promise<void> {
  await fs.writeFile(keyPath, keyPem, { mode: KEY_FILE_MODE });
  await fs.chmod(keyPath, KEY_FILE_MODE);
  await fs.writeFile(certPath, certPem, { mode: 0o644 });
}
