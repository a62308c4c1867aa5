// Ad-hoc micro-benchmark (not a test): creates per second against an etcd cluster, with ~2 KB
// objects, through the raw etcd backend and through the watch cache over it (which waits for each
// write to come back on its watch). Each run uses its own key prefix, deleted afterwards.
// Run: node --import tsx storage/etcd-bench.ts http://127.0.0.1:2379[,...] [total] [concurrency]

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Etcd3 } from 'etcd3';
import { EtcdStorage } from './etcd.ts';
import { parseEtcdServers } from './etcd-client.ts';
import type { Storage } from './interface.ts';
import { benchmarkCreates } from './leveldb-bench.ts';
import { WatchCache } from './watch-cache.ts';

async function main(): Promise<void> {
  const endpoints = parseEtcdServers(process.argv[2] ?? 'http://127.0.0.1:2379');
  const total = Number(process.argv[3] ?? 5_000);
  const concurrency = Number(process.argv[4] ?? 64);
  for (const [label, cached, inFlight] of [
    ['etcd, one writer', false, 1], [`etcd, ${concurrency} writers`, false, concurrency], [`watch cache over etcd, ${concurrency} writers`, true, concurrency],
  ] as const) {
    const prefix = `/kubefacade-bench-${Date.now()}`;
    const backend = await EtcdStorage.open({ endpoints, prefix, compactionIntervalMs: 0 });
    const storage: Storage = cached ? await WatchCache.start(backend, { consistentReads: true }) : backend;
    try {
      const count = inFlight === 1 ? Math.min(total, 1_000) : total;
      const result = await benchmarkCreates(label, storage, count, inFlight);
      console.log(`${result.label}: ${result.creates} creates in ${result.seconds.toFixed(2)} s = ${result.createsPerSecond}/s`);
    } finally {
      await storage.close();
      const client = new Etcd3({ hosts: endpoints });
      await client.delete().prefix(`${prefix}/`);
      client.close();
    }
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
