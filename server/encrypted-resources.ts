// The built-in resources as the encryption config names them (`secrets`, `deployments.apps`, `*.`)
// with the storage-key prefix each lives under: what --encryption-provider-config is matched against.

import { builtinResources } from '../api/resources/index.ts';
import { loadEncryptionConfig, type StoredResource } from '../storage/encryption-config.ts';
import type { KeyTransformers } from '../storage/value-transformer.ts';

export function storedResources(): StoredResource[] {
  return builtinResources.map((strategy) => ({ group: strategy.group, resource: strategy.resource, keyPrefix: `/registry/${strategy.storageResource}/` }));
}

/** The transformers of --encryption-provider-config (undefined when the flag is unset); throws on a bad file. */
export function encryptionTransformers(file: string | undefined): KeyTransformers | undefined {
  return file === undefined ? undefined : loadEncryptionConfig(file, storedResources());
}
