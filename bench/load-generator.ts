// The load loop: `count` requests from a template, at most `concurrency` in flight, either as fast
// as the server accepts them (rate 0) or started on a fixed schedule (rate > 0, open-loop, so a slow
// server shows up as latency rather than as a slower arrival rate). Bounded by count and by time.

import { performance } from 'node:perf_hooks';
import { BenchClient } from './http-client.ts';
import type { ClientTarget } from './kubeconfig.ts';
import { nowMs } from './stats.ts';

export interface LoadPlan {
  target: ClientTarget;
  method: string;
  /** Request path; `__I__` becomes the request's index. */
  path: string;
  /** Request body; `__I__` becomes the index, `__T__` the send time (epoch ms) for delivery-latency probes. */
  body?: string;
  contentType?: string;
  count: number;
  concurrency: number;
  /** Requests started per second; 0: as fast as accepted. */
  rate: number;
  /** Index of the first request (default 0); the index is (first + n) % modulo when modulo is set. */
  firstIndex?: number;
  modulo?: number;
  /** The loop stops starting requests after this long; unsent ones stay NaN. */
  timeoutMs: number;
}

export interface LoadResult {
  /** Per request, in index order: latency in ms (NaN: not sent or failed at the socket). */
  latenciesMs: Float64Array;
  /** Per request: when it was sent (epoch ms). */
  sentAtMs: Float64Array;
  /** Count of replies per HTTP status ("error" for socket errors). */
  statuses: Record<string, number>;
  /** The first few failures, for the report. */
  errors: string[];
  sent: number;
  succeeded: number;
  startedAtMs: number;
  finishedAtMs: number;
  /** Busy share of the load loop's event loop (close to 1: the client, not the server, is the limit). */
  clientEventLoopUtilization: number;
}

const MAX_ERRORS_KEPT = 5;

/** Splits a template once so each request is a cheap join, not a scan of the whole body. */
function compile(template: string): (index: number, sentAt: number) => string {
  const parts = template.split(/(__I__|__T__)/);
  if (parts.length === 1) return () => template;
  return (index, sentAt) => {
    let out = '';
    for (const part of parts) out += part === '__I__' ? String(index) : part === '__T__' ? String(Math.round(sentAt)) : part;
    return out;
  };
}

export async function generateLoad(plan: LoadPlan, onProgress?: (done: number) => void): Promise<LoadResult> {
  const client = new BenchClient(plan.target, plan.concurrency);
  const latencies = new Float64Array(plan.count).fill(Number.NaN);
  const sentAt = new Float64Array(plan.count).fill(Number.NaN);
  const statuses: Record<string, number> = {};
  const errors: string[] = [];
  const pathOf = compile(plan.path);
  const bodyOf = plan.body === undefined ? undefined : compile(plan.body);
  const headers: Record<string, string> = plan.contentType ? { 'content-type': plan.contentType } : {};
  const first = plan.firstIndex ?? 0;
  const indexOf = (n: number): number => (plan.modulo ? (first + n) % plan.modulo : first + n);
  const startedAt = nowMs();
  const deadline = startedAt + plan.timeoutMs;
  const eluStart = performance.eventLoopUtilization();
  let next = 0;
  let done = 0;
  let succeeded = 0;
  const progressTimer = onProgress ? setInterval(() => onProgress(done), 200) : undefined;

  const one = async (n: number): Promise<void> => {
    const index = indexOf(n);
    const start = nowMs();
    sentAt[n] = start;
    try {
      const reply = await client.request(plan.method, pathOf(index, start), bodyOf?.(index, start), headers);
      latencies[n] = nowMs() - start;
      statuses[reply.status] = (statuses[reply.status] ?? 0) + 1;
      if (reply.status >= 200 && reply.status < 300) succeeded++;
      else if (errors.length < MAX_ERRORS_KEPT) errors.push(`HTTP ${reply.status}: ${reply.body.slice(0, 200)}`);
    } catch (error) {
      statuses.error = (statuses.error ?? 0) + 1;
      if (errors.length < MAX_ERRORS_KEPT) errors.push(String(error));
    }
    done++;
  };

  const lane = async (): Promise<void> => {
    while (next < plan.count && nowMs() < deadline) {
      const n = next++;
      if (plan.rate > 0) {
        const due = startedAt + (n * 1000) / plan.rate;
        const wait = due - nowMs();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        if (nowMs() >= deadline) return;
      }
      await one(n);
    }
  };

  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(plan.concurrency, plan.count)) }, lane));
  } finally {
    if (progressTimer) clearInterval(progressTimer);
    client.close();
  }
  onProgress?.(done);
  const elu = performance.eventLoopUtilization(eluStart);
  return {
    latenciesMs: latencies, sentAtMs: sentAt, statuses, errors, sent: done, succeeded,
    startedAtMs: startedAt, finishedAtMs: nowMs(), clientEventLoopUtilization: Math.round(elu.utilization * 1000) / 1000,
  };
}
