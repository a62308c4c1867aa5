// Main-thread handle on the watch worker: start it with the watch paths, follow its event count,
// stop it and collect the delivery latencies.

import { startTsWorker } from './load.ts';
import type { WatchWorkerPlan, WatchWorkerResult } from './watch-worker.ts';

type Message = { type: 'ready' } | { type: 'progress'; events: number } | { type: 'done'; result: WatchWorkerResult };

export interface WatcherPool {
  /** Events received by all watchers so far. */
  readonly events: number;
  stop(): Promise<WatchWorkerResult>;
}

export function startWatcherPool(plan: WatchWorkerPlan): Promise<WatcherPool> {
  return new Promise((resolveReady, rejectReady) => {
    const worker = startTsWorker(new URL('./watch-worker.ts', import.meta.url), plan);
    let events = 0;
    let settleDone: (result: WatchWorkerResult) => void = () => undefined;
    let failDone: (error: Error) => void = () => undefined;
    const done = new Promise<WatchWorkerResult>((resolve, reject) => { settleDone = resolve; failDone = reject; });
    worker.on('message', (message: Message) => {
      if (message.type === 'progress') events = message.events;
      else if (message.type === 'done') settleDone(message.result);
      else resolveReady({
        get events() { return events; },
        async stop() {
          worker.postMessage('stop');
          const result = await done;
          await worker.terminate();
          return result;
        },
      });
    });
    worker.on('error', (error) => {
      rejectReady(error);
      failDone(error);
    });
  });
}
