// Opens the configured storage backend wrapped in the watch cache: the Storage the registry uses.

import type { Storage } from './interface.ts';
import { LevelDbStorage, type LevelDbStorageOptions } from './leveldb.ts';
import { WatchCache, type WatchCacheOptions } from './watch-cache.ts';

export interface LevelDbStorageConfig {
  kind: 'leveldb';
  /** The store lives in `<dataDir>/db`. */
  dataDir: string;
  backend?: LevelDbStorageOptions;
  cache?: WatchCacheOptions;
}

export type StorageConfig = LevelDbStorageConfig;

export async function openStorage(config: StorageConfig): Promise<Storage> {
  const backend = await LevelDbStorage.open(config.dataDir, config.backend);
  try {
    return await WatchCache.start(backend, config.cache);
  } catch (error) {
    await backend.close();
    throw error;
  }
}

export { LevelDbStorage, WatchCache };
export type { LevelDbStorageOptions, WatchCacheOptions };
