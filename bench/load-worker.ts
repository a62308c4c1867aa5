// Worker-thread entry of the load generator: the load loop gets its own event loop (and core),
// so the main thread's watch parsing and progress bar never slow the request stream down.

import { parentPort, workerData } from 'node:worker_threads';
import { generateLoad, type LoadPlan } from './load-generator.ts';

if (parentPort) {
  const port = parentPort;
  const result = await generateLoad(workerData as LoadPlan, (done) => port.postMessage({ type: 'progress', done }));
  port.postMessage({ type: 'done', result }, [result.latenciesMs.buffer as ArrayBuffer, result.sentAtMs.buffer as ArrayBuffer]);
}
