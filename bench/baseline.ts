// Starts the bare baseline server (bench/baseline-server.ts) as its own process, so it has a core
// to itself exactly like the API server it is compared with.

import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { readMemory, type MemoryReading } from './processes.ts';

const ENTRY = path.join(path.dirname(fileURLToPath(import.meta.url)), 'baseline-server.ts');

export interface BaselineServer {
  url: string;
  memory(): MemoryReading | undefined;
  stop(): Promise<void>;
}

export async function startBaselineServer(options: {
  dataDir: string; certFile: string; keyFile: string; mode: 'leveldb' | 'null'; sync: boolean;
}): Promise<BaselineServer> {
  const args = ['--import', 'tsx', ENTRY, '--data-dir', options.dataDir, '--cert', options.certFile, '--key', options.keyFile, '--mode', options.mode];
  if (!options.sync) args.push('--no-sync');
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const lines = createInterface({ input: child.stdout });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('baseline server did not start in time')), 30_000);
    lines.once('line', (line) => {
      clearTimeout(timer);
      resolve((JSON.parse(line) as { port: number }).port);
    });
    child.once('exit', (code) => reject(new Error(`baseline server exited with ${code}`)));
  });
  const pid = child.pid ?? 0;
  return {
    url: `https://127.0.0.1:${port}`,
    memory: () => readMemory(pid),
    async stop() {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
