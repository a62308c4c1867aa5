// Value transformers for encryption at rest, as k8s.io/apiserver/pkg/storage/value: the bytes a
// backend stores for a key are the object's bytes passed through the transformer configured for its
// resource. Each configured key is a prefix transformer (`k8s:enc:aescbc:v1:<name>:` ...); the first
// one encrypts writes, and a read is decrypted by the first one whose prefix the stored bytes carry
// (identity has the empty prefix and refuses bytes that look encrypted, so a later provider gets
// them). A read through any but the first transformer is "stale": the backend then rewrites the
// value on the next update even when the object did not change, which moves it to the current key.
//
// Ciphertext layouts are upstream's, byte for byte: aescbc is IV(16) + AES-CBC of the PKCS#7-padded
// data, no authenticated data; aesgcm is nonce(12) + AES-GCM seal with the storage key as
// authenticated data (so a value copied under another key does not decrypt); secretbox is
// nonce(24) + NaCl secretbox (XSalsa20-Poly1305, tweetnacl), no authenticated data.

import { createCipheriv, createDecipheriv, randomBytes, type CipherGCMTypes } from 'node:crypto';
import nacl from 'tweetnacl';

export interface TransformResult {
  data: Buffer;
  /** Read through a transformer other than the one writes use: rewrite on the next update. */
  stale: boolean;
}

export interface ValueTransformer {
  toStorage(data: Buffer, authenticatedData: Buffer): Buffer;
  fromStorage(stored: Buffer, authenticatedData: Buffer): TransformResult;
  /** The prefix writes carry ('' when writes are stored as is); every prefix reads recognise. */
  readonly writePrefix: string;
  readonly prefixes: readonly string[];
}

/** Chooses the transformer of a storage key's resource (undefined: stored as is, untransformed). */
export interface KeyTransformers {
  forKey(key: string): ValueTransformer | undefined;
}

/** One key of one provider: encrypt or decrypt the bytes after the prefix. */
interface PayloadCipher {
  seal(data: Buffer, authenticatedData: Buffer): Buffer;
  open(payload: Buffer, authenticatedData: Buffer): Buffer;
}

const ENCRYPTED_PREFIX = 'k8s:enc:';
const AES_BLOCK = 16;
const GCM_NONCE = 12;
const GCM_TAG = 16;

function cbcCipher(key: Buffer): PayloadCipher {
  const algorithm = `aes-${key.length * 8}-cbc`;
  return {
    seal(data) {
      const iv = randomBytes(AES_BLOCK);
      // Node's default padding is PKCS#7, as upstream pads.
      const cipher = createCipheriv(algorithm, key, iv);
      return Buffer.concat([iv, cipher.update(data), cipher.final()]);
    },
    open(payload) {
      if (payload.length < AES_BLOCK) throw new Error('the stored data was shorter than the required size');
      if ((payload.length - AES_BLOCK) % AES_BLOCK !== 0) throw new Error('the stored data is not a multiple of the block size');
      const decipher = createDecipheriv(algorithm, key, payload.subarray(0, AES_BLOCK));
      try {
        return Buffer.concat([decipher.update(payload.subarray(AES_BLOCK)), decipher.final()]);
      } catch {
        throw new Error('invalid padding on input');
      }
    },
  };
}

function gcmCipher(key: Buffer): PayloadCipher {
  const algorithm = `aes-${key.length * 8}-gcm` as CipherGCMTypes;
  return {
    seal(data, authenticatedData) {
      const nonce = randomBytes(GCM_NONCE);
      const cipher = createCipheriv(algorithm, key, nonce);
      cipher.setAAD(authenticatedData);
      const sealed = Buffer.concat([cipher.update(data), cipher.final()]);
      return Buffer.concat([nonce, sealed, cipher.getAuthTag()]);
    },
    open(payload, authenticatedData) {
      if (payload.length < GCM_NONCE + GCM_TAG) throw new Error('the stored data was shorter than the required size');
      const decipher = createDecipheriv(algorithm, key, payload.subarray(0, GCM_NONCE));
      decipher.setAAD(authenticatedData);
      decipher.setAuthTag(payload.subarray(payload.length - GCM_TAG));
      try {
        return Buffer.concat([decipher.update(payload.subarray(GCM_NONCE, payload.length - GCM_TAG)), decipher.final()]);
      } catch {
        throw new Error('cipher: message authentication failed');
      }
    },
  };
}

function secretboxCipher(key: Buffer): PayloadCipher {
  const keyBytes = new Uint8Array(key);
  return {
    seal(data) {
      const nonce = randomBytes(nacl.secretbox.nonceLength);
      return Buffer.concat([nonce, nacl.secretbox(new Uint8Array(data), new Uint8Array(nonce), keyBytes)]);
    },
    open(payload) {
      if (payload.length < nacl.secretbox.overheadLength + nacl.secretbox.nonceLength) throw new Error('the stored data was shorter than the required size');
      const nonce = new Uint8Array(payload.subarray(0, nacl.secretbox.nonceLength));
      const opened = nacl.secretbox.open(new Uint8Array(payload.subarray(nacl.secretbox.nonceLength)), nonce, keyBytes);
      if (!opened) throw new Error('output array was not large enough for encryption');
      return Buffer.from(opened);
    },
  };
}

export type EncryptingProvider = 'aescbc' | 'aesgcm' | 'secretbox';

/** One entry of the ordered list: an encrypting key, or identity (stored as is). */
export type TransformerEntry = { provider: EncryptingProvider; keyName: string; secret: Buffer } | { provider: 'identity' };

interface PrefixedCipher {
  prefix: Buffer;
  /** undefined: identity. */
  cipher?: PayloadCipher;
}

function prefixedCipher(entry: TransformerEntry): PrefixedCipher {
  if (entry.provider === 'identity') return { prefix: Buffer.alloc(0) };
  const make = entry.provider === 'aescbc' ? cbcCipher : entry.provider === 'aesgcm' ? gcmCipher : secretboxCipher;
  return { prefix: Buffer.from(`${ENCRYPTED_PREFIX}${entry.provider}:v1:${entry.keyName}:`), cipher: make(entry.secret) };
}

/** upstream's value.NewPrefixTransformers over the entries, in order. */
export class PrefixTransformers implements ValueTransformer {
  private readonly ciphers: PrefixedCipher[];
  readonly writePrefix: string;
  readonly prefixes: readonly string[];

  constructor(entries: readonly TransformerEntry[]) {
    if (entries.length === 0) throw new Error('at least one transformer is required');
    this.ciphers = entries.map(prefixedCipher);
    this.writePrefix = this.ciphers[0].prefix.toString();
    this.prefixes = this.ciphers.map((entry) => entry.prefix.toString());
  }

  toStorage(data: Buffer, authenticatedData: Buffer): Buffer {
    const first = this.ciphers[0];
    if (!first.cipher) return data;
    return Buffer.concat([first.prefix, first.cipher.seal(data, authenticatedData)]);
  }

  fromStorage(stored: Buffer, authenticatedData: Buffer): TransformResult {
    const errors: string[] = [];
    for (let i = 0; i < this.ciphers.length; i++) {
      const { prefix, cipher } = this.ciphers[i];
      if (!cipher) {
        // Identity: refuses what looks encrypted, without counting as a failure (a later key reads it).
        if (stored.subarray(0, ENCRYPTED_PREFIX.length).toString() === ENCRYPTED_PREFIX) continue;
        return { data: stored, stale: i !== 0 };
      }
      if (!startsWith(stored, prefix)) continue;
      try {
        return { data: cipher.open(stored.subarray(prefix.length), authenticatedData), stale: i !== 0 };
      } catch (error) {
        errors.push((error as Error).message);
      }
    }
    if (errors.length > 0) throw new Error(errors.length === 1 ? errors[0] : `[${errors.join(', ')}]`);
    throw new Error('no matching prefix found');
  }
}

function startsWith(data: Buffer, prefix: Buffer): boolean {
  return data.length >= prefix.length && data.subarray(0, prefix.length).equals(prefix);
}

/** Storage-key prefixes (`/registry/secrets/`) and the transformer of each. */
export class PrefixKeyTransformers implements KeyTransformers {
  constructor(private readonly byPrefix: ReadonlyArray<readonly [string, ValueTransformer]>) {}

  forKey(key: string): ValueTransformer | undefined {
    for (const [prefix, transformer] of this.byPrefix) if (key.startsWith(prefix)) return transformer;
    return undefined;
  }

  get empty(): boolean {
    return this.byPrefix.length === 0;
  }
}
