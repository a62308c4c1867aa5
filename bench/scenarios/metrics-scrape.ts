// Scenario `metrics-scrape`: GET /metrics of the API server with N pods stored (created through the API as the
// `create` scenario creates them: the server's own write path, no shortcut into its store), against the same scrape
// of the same server before the pods were created. Per scrape: wall time (percentiles), bytes of the text, and the
// server's heap allocated by the request, read through the inspector (the server runs with --inspect on loopback):
// used heap before and after one scrape with no garbage collection in between (a GC counter in the server says
// so; a measurement a GC interrupted is dropped and taken again), so the difference is what the scrape allocated
// (with whatever the server's own timers allocated in those milliseconds, which is little next to it).
// The targets: a scrape in at most 100 ms with 150,000 pods, and no allocation beyond the text itself
// (taken here as at most twice the text's bytes: the text, and the pieces it is joined from).
import type { MetricsScrapeOptions } from '../defaults.ts';
import { BenchClient } from '../http-client.ts';
import { InspectorSession } from '../inspector.ts';
import { BENCH_NAMESPACE, podBody } from '../pod-template.ts';
import type { JsonObject, ScenarioReport } from '../report.ts';
import { ensureNamespace, runScenario, startServer, type CommonOptions } from '../scenario.ts';
import { nowMs, round, summarizeLatencies } from '../stats.ts';
import { sleep } from '../processes.ts';

const TARGET_P50_MS = 100;
const TARGET_ALLOCATION_FACTOR = 2;
/** Measurements of the heap a scrape allocates (the median is reported). */
const ALLOCATION_SAMPLES = 7;

const GC_COUNTER = `(() => {
  if (globalThis.__benchGcCount === undefined) {
    globalThis.__benchGcCount = 0;
    new PerformanceObserver((list) => { globalThis.__benchGcCount += list.getEntries().length; }).observe({ entryTypes: ['gc'] });
  }
  return globalThis.__benchGcCount;
})()`;

async function scrape(client: BenchClient): Promise<{ ms: number; bytes: number }> {
  const started = nowMs();
  const reply = await client.request('GET', '/metrics', undefined, { accept: 'text/plain' });
  const ms = nowMs() - started;
  if (reply.status !== 200) throw new Error(`GET /metrics: HTTP ${reply.status}: ${reply.body.slice(0, 300)}`);
  return { ms, bytes: Buffer.byteLength(reply.body) };
}

/** Heap the server allocates for one request: the median of measurements no GC interrupted. */
async function heapPerRequest(inspector: InspectorSession, request: () => Promise<unknown>): Promise<{ bytes: number; discarded: number }> {
  const samples: number[] = [];
  let discarded = 0;
  while (samples.length < ALLOCATION_SAMPLES) {
    if (discarded > ALLOCATION_SAMPLES * 10) throw new Error('every heap measurement was interrupted by a garbage collection');
    // No forced collection first: a full GC shrinks the young generation, and the next scrape then always meets a
    // scavenge. Garbage left by earlier requests does not matter: without a GC, used heap only grows by allocation.
    const gcBefore = await inspector.evaluate<number>(GC_COUNTER);
    const before = await inspector.send<{ usedSize: number }>('Runtime.getHeapUsage');
    await request();
    const after = await inspector.send<{ usedSize: number }>('Runtime.getHeapUsage');
    // GC entries reach the observer asynchronously: give them a moment before reading the counter.
    await sleep(50);
    if ((await inspector.evaluate<number>(GC_COUNTER)) !== gcBefore) {
      discarded++;
      continue;
    }
    samples.push(after.usedSize - before.usedSize);
  }
  samples.sort((a, b) => a - b);
  return { bytes: samples[Math.floor(samples.length / 2)], discarded };
}

async function measure(inspector: InspectorSession, client: BenchClient, scrapes: number): Promise<JsonObject> {
  for (let i = 0; i < 2; i++) await scrape(client);
  const times: number[] = [];
  let bytes = 0;
  for (let i = 0; i < scrapes; i++) {
    const one = await scrape(client);
    times.push(one.ms);
    bytes = one.bytes;
  }
  const heap = await heapPerRequest(inspector, () => scrape(client));
  // What any small GET costs the server (authentication, flow control, audit, routing, the reply): the part of a
  // scrape's allocation that is not the metrics'.
  const version = await heapPerRequest(inspector, async () => {
    const reply = await client.request('GET', '/version');
    if (reply.status !== 200) throw new Error(`GET /version: HTTP ${reply.status}`);
  });
  return {
    latency: { ...summarizeLatencies(times) }, bytesPerScrape: bytes, heapAllocatedPerScrape: heap.bytes,
    heapPerTextByte: round(heap.bytes / bytes, 2), heapAllocatedPerVersionGet: version.bytes,
    heapMeasurementsDiscardedForGc: heap.discarded + version.discarded,
  };
}

async function createPods(client: BenchClient, options: MetricsScrapeOptions, onDone: () => void): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < options.pods) {
      const index = next++;
      const reply = await client.request('POST', `/api/v1/namespaces/${BENCH_NAMESPACE}/pods`, podBody({ namePrefix: 'scrape-' }, index));
      if (reply.status !== 201) throw new Error(`creating pod ${index}: HTTP ${reply.status}: ${reply.body.slice(0, 300)}`);
      onDone();
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, options.pods) }, worker));
}

export function runMetricsScrape(common: CommonOptions, options: MetricsScrapeOptions): Promise<ScenarioReport> {
  return runScenario('metrics-scrape', common, async (context) => {
    const server = await startServer(context, 'server', ['--inspect=127.0.0.1:0']);
    const client = new BenchClient(server.target, options.concurrency);
    let inspector: InspectorSession | undefined;
    try {
      inspector = await InspectorSession.connect(server.logFile);
      await inspector.evaluate<number>(GC_COUNTER);
      await ensureNamespace(client);
      context.progress.phase('scrapes, empty store', 1);
      const empty = await measure(inspector, client, options.scrapes);
      context.progress.update(1);
      context.progress.phase('create pods', options.pods);
      let created = 0;
      const createStarted = nowMs();
      await createPods(client, options, () => context.progress.update(++created));
      const createSeconds = (nowMs() - createStarted) / 1000;
      context.progress.phase(`scrapes, ${options.pods} pods`, 1);
      const full = await measure(inspector, client, options.scrapes);
      context.progress.update(1);
      const p50 = (full.latency as { p50Ms: number }).p50Ms;
      const heapFactor = full.heapPerTextByte as number;
      return {
        params: { ...options },
        results: { ...full, podsCreatedPerSecond: round(options.pods / createSeconds, 0) },
        baseline: { ...empty, pods: 0 },
        ratioMetric: 'latency.p50Ms',
        targets: {
          [`scrape p50 <= ${TARGET_P50_MS} ms`]: p50 <= TARGET_P50_MS,
          [`heap allocated per scrape <= ${TARGET_ALLOCATION_FACTOR}x the text`]: heapFactor <= TARGET_ALLOCATION_FACTOR,
        },
      };
    } finally {
      await inspector?.close();
      client.close();
      await server.stop();
    }
  });
}
