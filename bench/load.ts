// Runs a load plan on a worker thread and hands back its result.

import { Worker } from 'node:worker_threads';
import type { LoadPlan, LoadResult } from './load-generator.ts';

export type { LoadPlan, LoadResult } from './load-generator.ts';

type WorkerMessage = { type: 'progress'; done: number } | { type: 'done'; result: LoadResult };

/**
 * Starts a TypeScript worker. Workers inherit neither `--import tsx` reliably (Node 20) nor a loader
 * registered through tsx's API, so the worker's first act is to register tsx itself and then import
 * the entry.
 */
export function startTsWorker(entry: URL, workerData: unknown): Worker {
  // In the built package (dist/, JavaScript) each worker is an entry point of its own beside this code.
  if (!import.meta.url.endsWith('.ts')) {
    const built = new URL(`./${entry.pathname.split('/').pop()!.replace(/\.ts$/, '.js')}`, import.meta.url);
    return new Worker(built, { workerData, execArgv: process.execArgv.filter((arg) => !arg.startsWith('--cpu-prof')) });
  }
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((api) => { api.register(); return import(${JSON.stringify(entry.href)}); })`;
  // A CPU profile of the bench itself is not wanted per worker.
  const execArgv = process.execArgv.filter((arg) => !arg.startsWith('--cpu-prof'));
  return new Worker(bootstrap, { eval: true, workerData, execArgv });
}

export function runLoad(plan: LoadPlan, onProgress?: (done: number) => void): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const worker = startTsWorker(new URL('./load-worker.ts', import.meta.url), plan);
    let result: LoadResult | undefined;
    worker.on('message', (message: WorkerMessage) => {
      if (message.type === 'progress') onProgress?.(message.done);
      else result = message.result;
    });
    worker.on('error', reject);
    worker.on('exit', (code) => {
      if (result) resolve(result);
      else reject(new Error(`load worker exited with code ${code} before reporting`));
    });
  });
}
