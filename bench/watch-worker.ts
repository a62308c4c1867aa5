// Worker-thread side of the watch scenario: holds many watch streams, and for every event reads
// the send time the updater stamped into the pod (an annotation) to get its delivery latency.
// Messages: in 'stop'; out 'ready', 'progress' {events}, 'done' {latencies, ...}.

import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import type { ClientTarget } from './kubeconfig.ts';
import { openWatch, watchAgent, type WatchStream } from './watch-client.ts';

export interface WatchWorkerPlan {
  target: ClientTarget;
  paths: string[];
  /** Watches opened at once while connecting. */
  openConcurrency: number;
}

export interface WatchWorkerResult {
  latenciesMs: Float64Array;
  events: number;
  bytes: number;
  /** Streams that ended before the bench stopped them (server closed them, or errors). */
  endedEarly: number;
  /** Busy share of this thread's event loop from ready to stop (near 1: the watchers, not the server, lag). */
  eventLoopUtilization: number;
}

const SENT_AT = /"bench\.kubefacade\.io\/sent-at":"(\d+)"/;

class Samples {
  private buffer = new Float64Array(1 << 16);
  length = 0;

  push(value: number): void {
    if (this.length === this.buffer.length) {
      const grown = new Float64Array(this.buffer.length * 2);
      grown.set(this.buffer);
      this.buffer = grown;
    }
    this.buffer[this.length++] = value;
  }

  take(): Float64Array {
    return this.buffer.slice(0, this.length);
  }
}

async function main(port: NonNullable<typeof parentPort>, plan: WatchWorkerPlan): Promise<void> {
  const agent = watchAgent(plan.target);
  const samples = new Samples();
  const streams: WatchStream[] = [];
  let stopping = false;
  let endedEarly = 0;
  const onLine = (line: string, receivedAt: number): void => {
    const match = SENT_AT.exec(line);
    if (match) samples.push(receivedAt - Number(match[1]));
  };
  for (let i = 0; i < plan.paths.length; i += plan.openConcurrency) {
    const batch = plan.paths.slice(i, i + plan.openConcurrency);
    streams.push(...await Promise.all(batch.map((path) => openWatch({ target: plan.target, agent, path, onLine }))));
  }
  for (const stream of streams) void stream.ended.then(() => { if (!stopping) endedEarly++; });
  const events = (): number => streams.reduce((sum, stream) => sum + stream.events, 0);
  const timer = setInterval(() => port.postMessage({ type: 'progress', events: events() }), 200);
  const elu = performance.eventLoopUtilization();
  port.postMessage({ type: 'ready' });
  await new Promise<void>((resolve) => port.once('message', () => resolve()));
  stopping = true;
  clearInterval(timer);
  const result: WatchWorkerResult = {
    latenciesMs: samples.take(), events: events(), bytes: streams.reduce((sum, stream) => sum + stream.bytes, 0), endedEarly,
    eventLoopUtilization: Math.round(performance.eventLoopUtilization(elu).utilization * 1000) / 1000,
  };
  for (const stream of streams) stream.close();
  agent.destroy();
  port.postMessage({ type: 'done', result }, [result.latenciesMs.buffer as ArrayBuffer]);
}

if (parentPort) await main(parentPort, workerData as WatchWorkerPlan);
