// Opens the configured storage backend wrapped in the watch cache: the Storage the registry uses.

import type { Storage } from './interface.ts';
import { EtcdStorage, type EtcdStorageOptions } from './etcd.ts';
import { LevelDbStorage, type LevelDbStorageOptions } from './leveldb.ts';
import { WatchCache, type WatchCacheOptions } from './watch-cache.ts';
import type { KeyTransformers } from './value-transformer.ts';

export interface LevelDbStorageConfig {
  kind: 'leveldb';
  /** The store lives in `<dataDir>/db`. */
  dataDir: string;
  backend?: LevelDbStorageOptions;
  cache?: WatchCacheOptions;
}

export interface EtcdStorageConfig {
  kind: 'etcd';
  /** Client URLs of the etcd members (--etcd-servers). */
  endpoints: string[];
  /** --etcd-prefix (default /registry). */
  prefix?: string;
  /** --etcd-compaction-interval (default 5 minutes; 0 disables). */
  compactionIntervalMs?: number;
  backend?: Omit<EtcdStorageOptions, 'endpoints' | 'prefix' | 'compactionIntervalMs'>;
  cache?: WatchCacheOptions;
}

export type StorageConfig = (LevelDbStorageConfig | EtcdStorageConfig) & {
  /** Encryption at rest (--encryption-provider-config), applied by the backend beneath the watch cache. */
  transformers?: KeyTransformers;
};

export async function openStorage(config: StorageConfig): Promise<Storage> {
  const backend: Storage = config.kind === 'etcd'
    ? await EtcdStorage.open({
      ...config.backend, endpoints: config.endpoints, prefix: config.prefix, compactionIntervalMs: config.compactionIntervalMs, transformers: config.transformers,
    })
    : await LevelDbStorage.open(config.dataDir, { ...config.backend, transformers: config.transformers });
  // Other API server replicas write to etcd too: a read without a revision first waits until this
  // replica's cache has caught up with etcd, so a write acknowledged by any replica is visible.
  const cache: WatchCacheOptions = config.kind === 'etcd' ? { consistentReads: true, ...config.cache } : { ...config.cache };
  try {
    return await WatchCache.start(backend, cache);
  } catch (error) {
    await backend.close();
    throw error;
  }
}

export { EtcdStorage, LevelDbStorage, WatchCache };
export type { EtcdStorageOptions, LevelDbStorageOptions, WatchCacheOptions };
