// The key pair that signs and verifies kubefacade's bearer JWTs, laid out as kubeadm lays out the
// service-account key (`pki/sa.key`, `pki/sa.pub`). Created on first use, by whichever comes first: the
// server or `kubefacade token create`; both then use the same pair. New keys are ECDSA P-256 (ES256,
// which kube-apiserver's --service-account-key-file accepts as well as RSA): generated in a millisecond
// where RSA-2048 took up to a second of a first start. A data dir with an RSA key keeps it (RS256).

import { createHash, createPublicKey } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { generateEcKeyPairAsync } from './x509.ts';

export interface SigningKey {
  privateKeyPem: string;
  publicKeyPem: string;
  /** JWT `kid`: base64url SHA-256 of the DER public key (as kube-apiserver derives key IDs). */
  keyId: string;
  /** The JWT `alg` the key signs with: ES256 for an ECDSA P-256 key, RS256 for an RSA key. */
  algorithm: JwtAlgorithm;
}

export type JwtAlgorithm = 'RS256' | 'ES256';

/** The JWT algorithm of a public or private key (PEM). */
export function jwtAlgorithmOf(keyPem: string): JwtAlgorithm {
  const type = createPublicKey(keyPem).asymmetricKeyType;
  if (type === 'ec') return 'ES256';
  if (type === 'rsa') return 'RS256';
  throw new Error(`the token signing key must be an RSA or ECDSA P-256 key, not ${type ?? 'unknown'}`);
}

export function signingKeyPaths(dataDir: string): { privateKey: string; publicKey: string } {
  const pki = path.join(dataDir, 'pki');
  return { privateKey: path.join(pki, 'sa.key'), publicKey: path.join(pki, 'sa.pub') };
}

export async function ensureSigningKey(dataDir: string): Promise<SigningKey> {
  const paths = signingKeyPaths(dataDir);
  await fs.mkdir(path.dirname(paths.privateKey), { recursive: true, mode: 0o700 });
  let privateKeyPem = await readIfExists(paths.privateKey);
  if (privateKeyPem === undefined) {
    const pair = { privateKey: (await generateEcKeyPairAsync()).privateKeyPem };
    try {
      // 'wx': two processes starting at once must not overwrite each other's key.
      await fs.writeFile(paths.privateKey, pair.privateKey, { mode: 0o600, flag: 'wx' });
      privateKeyPem = pair.privateKey;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      privateKeyPem = await fs.readFile(paths.privateKey, 'utf8');
    }
  }
  // The public half is always derived from the private key, so a stale sa.pub cannot disagree with it.
  const publicKey = createPublicKey(privateKeyPem);
  const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  if (await readIfExists(paths.publicKey) !== publicKeyPem) await fs.writeFile(paths.publicKey, publicKeyPem, { mode: 0o644 });
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return { privateKeyPem, publicKeyPem, keyId: createHash('sha256').update(der).digest('base64url'), algorithm: jwtAlgorithmOf(publicKeyPem) };
}

async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
