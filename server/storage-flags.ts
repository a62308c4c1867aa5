// The storage flags of `server` and `up`, named as kube-apiserver names them: --storage picks the
// backend (LevelDB in --data-dir, memory for tests, or etcd), --etcd-servers/--etcd-prefix/--etcd-compaction-interval
// configure etcd.

import { InvalidArgumentError, Option, type Command } from 'commander';
import { parseGoDurationMs } from '../clients/leader-election-flags.ts';
import { parseEtcdServers } from '../storage/etcd-servers.ts';
import type { EtcdStorageConfig } from '../storage/index.ts';
import type { StorageOption } from '../lib/options.ts';

export interface StorageFlags {
  storage: 'leveldb' | 'memory' | 'etcd';
  etcdServers?: string;
  etcdPrefix: string;
  etcdCompactionInterval: string;
}

export function addStorageFlags(command: Command): Command {
  return command
    .addOption(new Option('--storage <backend>', 'where objects are stored: leveldb (in --data-dir), memory (gone when the process ends; for tests) or etcd (--etcd-servers)').choices(['leveldb', 'memory', 'etcd']).default('leveldb'))
    .option('--etcd-servers <urls>', 'etcd client URLs, comma-separated (with --storage etcd), e.g. http://127.0.0.1:2379')
    .option('--etcd-prefix <prefix>', 'prefix of every key in etcd', '/registry')
    .option('--etcd-compaction-interval <duration>', 'how often etcd history is compacted (0 disables)', '5m');
}

/** The etcd configuration, or undefined for LevelDB and memory. */
export function etcdFromFlags(flags: StorageFlags): EtcdStorageConfig | undefined {
  if (flags.storage !== 'etcd') {
    if (flags.etcdServers) throw new InvalidArgumentError('--etcd-servers needs --storage etcd');
    return undefined;
  }
  if (!flags.etcdServers) throw new InvalidArgumentError('--storage etcd needs --etcd-servers');
  const interval = flags.etcdCompactionInterval.trim();
  return {
    kind: 'etcd',
    endpoints: parseEtcdServers(flags.etcdServers),
    prefix: flags.etcdPrefix,
    compactionIntervalMs: interval === '0' ? 0 : parseGoDurationMs(interval),
  };
}

/** The library's storage option from the flags (--data-dir holds LevelDB's `db/`). */
export function storageFromFlags(flags: StorageFlags, dataDir: string): StorageOption {
  const etcd = etcdFromFlags(flags);
  if (etcd) return { etcd: etcd.endpoints, prefix: etcd.prefix, compactionIntervalMs: etcd.compactionIntervalMs };
  return flags.storage === 'memory' ? 'memory' : { leveldb: dataDir };
}
