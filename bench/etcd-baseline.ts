// Raw etcd put throughput of the same bytes at the same concurrency, where an `etcd` binary is on
// PATH: a single-member etcd on loopback in a temporary directory (its WAL fsyncs every commit,
// batched, like our store), driven over gRPC by the etcd3 package.

import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { performance } from 'node:perf_hooks';
import path from 'node:path';
import { Etcd3 } from 'etcd3';
import { nowMs, ratePerSecond, summarizeLatencies, type LatencySummary } from './stats.ts';
import { sleep } from './processes.ts';

export interface EtcdPutResult {
  etcdVersion: string;
  puts: number;
  failed: number;
  seconds: number;
  putsPerSecond: number;
  latency: LatencySummary;
  clientEventLoopUtilization: number;
}

export function findEtcd(): string | undefined {
  const found = spawnSync('which', ['etcd'], { encoding: 'utf8' });
  const binary = found.status === 0 ? found.stdout.trim() : '';
  return binary || undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export async function measureEtcdPuts(options: {
  binary: string; dir: string; bodies: (index: number) => string; count: number; concurrency: number; timeoutMs: number;
  onProgress?: (done: number) => void;
}): Promise<EtcdPutResult> {
  const version = spawnSync(options.binary, ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0]?.trim() ?? 'unknown';
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const clientUrl = `http://127.0.0.1:${clientPort}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  const child = spawn(options.binary, [
    '--name', 'bench', '--data-dir', path.join(options.dir, 'etcd'),
    '--listen-client-urls', clientUrl, '--advertise-client-urls', clientUrl,
    '--listen-peer-urls', peerUrl, '--initial-advertise-peer-urls', peerUrl,
    '--initial-cluster', `bench=${peerUrl}`, '--log-level', 'error',
  ], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const client = new Etcd3({ hosts: clientUrl });
  try {
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        await client.put('/bench/ready').value('1');
        break;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await sleep(200);
      }
    }
    const latencies = new Float64Array(options.count).fill(Number.NaN);
    let next = 0;
    let done = 0;
    let failed = 0;
    const started = nowMs();
    const stopAt = started + options.timeoutMs;
    const elu = performance.eventLoopUtilization();
    const timer = options.onProgress ? setInterval(() => options.onProgress?.(done), 200) : undefined;
    await Promise.all(Array.from({ length: options.concurrency }, async () => {
      while (next < options.count && nowMs() < stopAt) {
        const index = next++;
        const start = nowMs();
        try {
          await client.put(`/registry/pods/bench/bench-pod-${index}`).value(options.bodies(index));
          latencies[index] = nowMs() - start;
        } catch {
          failed++;
        }
        done++;
      }
    }));
    if (timer) clearInterval(timer);
    const elapsed = nowMs() - started;
    const measured = latencies.filter((value) => !Number.isNaN(value));
    return {
      etcdVersion: version, puts: measured.length, failed, seconds: Math.round(elapsed) / 1000,
      putsPerSecond: ratePerSecond(measured.length, elapsed), latency: summarizeLatencies(measured),
      clientEventLoopUtilization: Math.round(performance.eventLoopUtilization(elu).utilization * 1000) / 1000,
    };
  } finally {
    client.close();
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}
