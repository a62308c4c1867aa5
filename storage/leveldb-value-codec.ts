// Encryption at rest in the LevelDB backend: the text stored for a key (in its data entry and in the
// change-log records that carry its states) is the object's JSON passed through the key's value
// transformer. LevelDB values here are UTF-8 text, so an encrypted value is kept as upstream's
// prefix (`k8s:enc:aescbc:v1:<key>:`, readable text) followed by the upstream ciphertext layout
// in base64: no raw newline can then break a change-log record, and the bytes are exactly
// upstream's once the base64 is decoded. The storage key is the authenticated data (aesgcm).

import type { KeyTransformers } from './value-transformer.ts';

export interface DecodedText {
  json: string;
  /** Read through a key other than the one writes use (or as plaintext): rewrite on update. */
  stale: boolean;
}

export class StoredTextCodec {
  constructor(private readonly transformers: KeyTransformers) {}

  encode(key: string, json: string): string {
    const transformer = this.transformers.forKey(key);
    if (!transformer || transformer.writePrefix === '') return json;
    const stored = transformer.toStorage(Buffer.from(json), Buffer.from(key));
    return transformer.writePrefix + stored.subarray(Buffer.byteLength(transformer.writePrefix)).toString('base64');
  }

  decode(key: string, text: string): DecodedText {
    const transformer = this.transformers.forKey(key);
    if (!transformer) return { json: text, stale: false };
    const prefix = transformer.prefixes.find((candidate) => candidate !== '' && text.startsWith(candidate));
    const bytes = prefix === undefined
      ? Buffer.from(text)
      : Buffer.concat([Buffer.from(prefix), Buffer.from(text.slice(prefix.length), 'base64')]);
    let result;
    try {
      result = transformer.fromStorage(bytes, Buffer.from(key));
    } catch (error) {
      throw new Error(`unable to transform key "${key}": ${(error as Error).message}`);
    }
    return { json: result.data.toString(), stale: result.stale };
  }
}

/** The JSON of a stored text (identity when no codec is configured). */
export type JsonDecoder = (key: string, text: string) => string;
