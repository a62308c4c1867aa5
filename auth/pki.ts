// The server's certificate authority and serving certificate, generated on first start and reused
// afterwards (as kubeadm's "certs" phase lays them out: ca.crt/ca.key, apiserver.crt/apiserver.key).
// Keys are ECDSA P-256 from Node's crypto (native: a millisecond each, where RSA-2048 took 0.1–1 s);
// auth/x509.ts writes and signs the certificates. A data dir whose CA has an RSA key keeps it.

import { X509Certificate } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { generateEcKeyPair, generateEcKeyPairAsync, issueCertificate, type KeyPairPem } from './x509.ts';

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
  keyPair: KeyPairPem = generateEcKeyPair(),
): IssuedCertificate {
  const certPem = issueCertificate({
    commonName: request.commonName,
    organizations: request.organizations,
    publicKeyPem: keyPair.publicKeyPem,
    days: request.days,
    isCa: false,
    keyUsage: { digitalSignature: true, keyEncipherment: true },
    extKeyUsage: ['clientAuth'],
  }, { certPem: pki.caCertPem, privateKeyPem: pki.caKeyPem });
  return { certPem, keyPem: keyPair.privateKeyPem };
}

/** The same, with the key generated on libuv's thread pool (several certificates issued together). */
export async function signClientCertificateAsync(
  pki: Pick<Pki, 'caCertPem' | 'caKeyPem'>,
  request: ClientCertificateRequest,
): Promise<IssuedCertificate> {
  return signClientCertificate(pki, request, await generateEcKeyPairAsync());
}

function issueCaCertificate(): IssuedCertificate {
  const { publicKeyPem, privateKeyPem } = generateEcKeyPair();
  const certPem = issueCertificate({
    commonName: CA_COMMON_NAME,
    publicKeyPem,
    days: CA_VALIDITY_DAYS,
    isCa: true,
    basicConstraintsCritical: true,
    keyUsage: { keyCertSign: true, cRLSign: true, digitalSignature: true, keyEncipherment: true },
  }, { privateKeyPem });
  return { certPem, keyPem: privateKeyPem };
}

function issueServingCertificate(ca: Pick<Pki, 'caCertPem' | 'caKeyPem'>, sans: string[]): IssuedCertificate {
  const { publicKeyPem, privateKeyPem } = generateEcKeyPair();
  const certPem = issueCertificate({
    commonName: SERVING_COMMON_NAME,
    publicKeyPem,
    days: SERVING_VALIDITY_DAYS,
    isCa: false,
    keyUsage: { digitalSignature: true, keyEncipherment: true },
    extKeyUsage: ['serverAuth'],
    subjectAltNames: sans,
  }, { certPem: ca.caCertPem, privateKeyPem: ca.caKeyPem });
  return { certPem, keyPem: privateKeyPem };
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
