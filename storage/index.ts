// Opens the configured storage backend wrapped in the watch cache: the Storage the registry uses.

import type { Storage } from './interface.ts';
// The etcd backend (gRPC client) is loaded only when etcd is configured: most starts never need it.
import type { EtcdStorage, EtcdStorageOptions } from './etcd.ts';
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

export interface MemoryStorageConfig {
  /** The LevelDB backend on memory-level: nothing on disk, gone with the process (tests). */
  kind: 'memory';
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

export type StorageConfig = (LevelDbStorageConfig | MemoryStorageConfig | EtcdStorageConfig) & {
  /** Encryption at rest (--encryption-provider-config), applied by the backend beneath the watch cache. */
  transformers?: KeyTransformers;
};

export async function openStorage(config: StorageConfig): Promise<Storage> {
  const backend: Storage = config.kind === 'etcd'
    ? await (await import('./etcd.ts')).EtcdStorage.open({
      ...config.backend, endpoints: config.endpoints, prefix: config.prefix, compactionIntervalMs: config.compactionIntervalMs, transformers: config.transformers,
    })
    : config.kind === 'memory'
      ? await LevelDbStorage.openInMemory({ ...config.backend, transformers: config.transformers })
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

export { LevelDbStorage, WatchCache };
export type { EtcdStorage };
export type { EtcdStorageOptions, LevelDbStorageOptions, WatchCacheOptions };
