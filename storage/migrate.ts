// Copies every object from one storage backend to another (LevelDB → etcd to scale out, or back).
// Objects keep everything (uid, creationTimestamp, labels, status, managedFields, ...) except
// resourceVersion, which the target assigns: revisions are per store. The source is read at one
// revision, in pages, so a consistent snapshot is copied; the target must be empty, so a migration
// never merges two clusters.

import path from 'node:path';
import { EtcdStorage } from './etcd.ts';
import { parseEtcdServers } from './etcd-client.ts';
import type { Storage } from './interface.ts';
import { LevelDbStorage } from './leveldb.ts';
import type { KeyTransformers } from './value-transformer.ts';

export type StoreLocation =
  | { kind: 'leveldb'; dataDir: string }
  | { kind: 'etcd'; endpoints: string[]; prefix?: string };

export interface MigrationReport {
  /** Objects copied, in total and per resource (the key segment after /registry/). */
  total: number;
  byResource: Record<string, number>;
  /** The source revision the copy was read at. */
  sourceRevision: number;
}

export interface MigrateOptions {
  /** Creates in flight at once (default 64). */
  concurrency?: number;
  /** Called after each page with the running total. */
  progress?: (copied: number) => void;
}

const PAGE = 500;

/** `leveldb:<data dir>` or `etcd:<url>[,<url>...]`, as the migrate command takes them. */
export function parseStoreLocation(text: string, etcdPrefix?: string): StoreLocation {
  const colon = text.indexOf(':');
  const kind = colon < 0 ? '' : text.slice(0, colon);
  const rest = text.slice(colon + 1);
  if (kind === 'leveldb' && rest) return { kind: 'leveldb', dataDir: path.resolve(rest) };
  if (kind === 'etcd' && rest) return { kind: 'etcd', endpoints: parseEtcdServers(rest), prefix: etcdPrefix };
  throw new Error(`expected leveldb:<data dir> or etcd:<url>[,<url>...], got "${text}"`);
}

/** `transformers`: encryption at rest of both stores (--encryption-provider-config), so encrypted values are read and written encrypted. */
export async function openStoreLocation(location: StoreLocation, transformers?: KeyTransformers): Promise<Storage> {
  if (location.kind === 'leveldb') return LevelDbStorage.open(location.dataDir, { transformers });
  // No compaction loop: a migration is short, and the running servers compact.
  return EtcdStorage.open({ endpoints: location.endpoints, prefix: location.prefix, compactionIntervalMs: 0, transformers });
}

function resourceOf(key: string): string {
  return key.split('/')[2] ?? '';
}

export async function migrate(source: Storage, target: Storage, options: MigrateOptions = {}): Promise<MigrationReport> {
  const existing = await target.count('');
  if (existing > 0) throw new Error(`the target already holds ${existing} objects; migrate into an empty store`);
  const concurrency = Math.max(1, options.concurrency ?? 64);
  const byResource: Record<string, number> = {};
  let total = 0;
  let revision: number | undefined;
  let startAfterKey: string | undefined;
  for (;;) {
    const page = await source.list('', { limit: PAGE, startAfterKey, revision });
    revision = page.revision;
    const keys = page.keys ?? [];
    if (keys.length !== page.items.length) throw new Error('the source store did not report item keys');
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < keys.length) {
        const i = next++;
        await target.create(keys[i], page.items[i]);
        const resource = resourceOf(keys[i]);
        byResource[resource] = (byResource[resource] ?? 0) + 1;
        total++;
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, keys.length) }, worker));
    options.progress?.(total);
    if (page.lastKey === undefined) break;
    startAfterKey = page.lastKey;
  }
  return { total, byResource, sourceRevision: revision ?? 0 };
}
