// Ad-hoc micro-benchmark (not a test): creates per second at a given concurrency with ~2 KB
// objects, against the raw LevelDB backend and the watch cache over it.
// Run: node --import tsx storage/leveldb-bench.ts [total] [concurrency]

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KubeObject } from '../api/object.ts';
import type { Storage } from './interface.ts';
import { LevelDbStorage, type LevelDbStorageOptions } from './leveldb.ts';
import { WatchCache } from './watch-cache.ts';

export interface CreateBenchmarkResult {
  label: string;
  creates: number;
  seconds: number;
  createsPerSecond: number;
}

function twoKilobytePod(index: number): KubeObject {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: `pod-${index}`, namespace: 'bench', uid: `uid-${index}`, labels: { app: 'bench', index: String(index) } },
    spec: {
      nodeName: `node-${index % 100}`,
      containers: [{ name: 'main', image: 'registry.example/bench:1.0', args: ['x'.repeat(1700)] }],
    },
  };
}

/** Creates `total` objects with `concurrency` writers in flight and reports the rate. */
export async function benchmarkCreates(label: string, storage: Storage, total: number, concurrency: number): Promise<CreateBenchmarkResult> {
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < total) {
      const index = next++;
      await storage.create(`/registry/pods/bench/pod-${index}`, twoKilobytePod(index));
    }
  }));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { label, creates: total, seconds, createsPerSecond: Math.round(total / seconds) };
}

async function main(): Promise<void> {
  const total = Number(process.argv[2] ?? 20_000);
  const concurrency = Number(process.argv[3] ?? 64);
  const runs: [string, LevelDbStorageOptions, boolean][] = [
    ['leveldb (synced batches)', {}, false],
    ['watch cache over leveldb (synced batches)', {}, true],
    ['leveldb (no fsync, for comparison)', { sync: false }, false],
  ];
  for (const [label, options, cached] of runs) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kubefacade-bench-'));
    const backend = await LevelDbStorage.open(dir, options);
    const storage: Storage = cached ? await WatchCache.start(backend) : backend;
    try {
      const result = await benchmarkCreates(label, storage, total, concurrency);
      console.log(`${result.label}: ${result.creates} creates at concurrency ${concurrency} in ${result.seconds.toFixed(2)} s = ${result.createsPerSecond}/s`);
    } finally {
      await storage.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
