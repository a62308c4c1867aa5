// Scenario `scale`: the sig-scalability thresholds on one machine: N simulated nodes, P pods
// created as fast as accepted until all are Running, while the bench samples single-pod GETs;
// then cluster-wide LISTs of every pod (JSON and Table, whole and in pages of 500 as kubectl
// reads them) and more GETs on the settled cluster. Reports whether it holds and what it costs.

import type { ScaleOptions } from '../defaults.ts';
import { BenchClient } from '../http-client.ts';
import { countReadyNodes, startBenchCluster } from '../cluster.ts';
import { runLoad } from '../load.ts';
import { PodTracker } from '../pod-tracker.ts';
import { startupFigures } from '../pod-startup.ts';
import { BENCH_NAMESPACE, podTemplate } from '../pod-template.ts';
import { sleep } from '../processes.ts';
import type { JsonObject, ScenarioReport } from '../report.ts';
import { memoryReport, mib, runScenario, type CommonOptions } from '../scenario.ts';
import { nowMs, summarizeLatencies } from '../stats.ts';


const NAME_PREFIX = 'scale-';
const TABLE = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';

/** One cluster-wide LIST variant, `samples` times in a row; paged variants follow every continue token. */
async function measureList(client: BenchClient, accept: string, limit: number | undefined, samples: number): Promise<JsonObject> {
  const totals: number[] = [];
  const pages: number[] = [];
  const failures: string[] = [];
  let bytes = 0;
  let items = 0;
  for (let i = 0; i < samples; i++) {
    const started = nowMs();
    try {
      if (limit === undefined) {
        const reply = await client.requestBytes('GET', '/api/v1/pods', { accept });
        if (reply.status !== 200) throw new Error(`HTTP ${reply.status}: ${reply.head}`);
        bytes = reply.bytes;
      } else {
        let token = '';
        let pageBytes = 0;
        let count = 0;
        do {
          const pageStarted = nowMs();
          const reply = await client.request('GET', `/api/v1/pods?limit=${limit}${token ? `&continue=${encodeURIComponent(token)}` : ''}`, undefined, { accept });
          pages.push(nowMs() - pageStarted);
          if (reply.status !== 200) throw new Error(`HTTP ${reply.status}: ${reply.body.slice(0, 300)}`);
          pageBytes += Buffer.byteLength(reply.body);
          const page = JSON.parse(reply.body) as { items?: unknown[]; rows?: unknown[]; metadata: { continue?: string } };
          count += (page.items ?? page.rows ?? []).length;
          token = page.metadata.continue ?? '';
        } while (token);
        bytes = pageBytes;
        items = count;
      }
      totals.push(nowMs() - started);
    } catch (error) {
      failures.push(String(error).slice(0, 300));
    }
  }
  return {
    samples, succeeded: totals.length, latency: { ...summarizeLatencies(totals) }, responseMiB: mib(bytes),
    ...(limit !== undefined ? { pageLatency: { ...summarizeLatencies(pages) }, itemsPerList: items } : {}),
    ...(failures.length ? { failures } : {}),
  };
}

/** GETs of random existing pods, one at a time, until `count` or `until()` says stop. */
async function sampleGets(client: BenchClient, existing: () => number, count: number, until: () => boolean, pauseMs: number): Promise<number[]> {
  const latencies: number[] = [];
  while (latencies.length < count && !until()) {
    const known = existing();
    if (known === 0) {
      await sleep(50);
      continue;
    }
    const name = `${NAME_PREFIX}${Math.floor(Math.random() * known)}`;
    const started = nowMs();
    const reply = await client.request('GET', `/api/v1/namespaces/${BENCH_NAMESPACE}/pods/${name}`);
    if (reply.status === 200) latencies.push(nowMs() - started);
    if (pauseMs > 0) await sleep(pauseMs);
  }
  return latencies;
}

export function runScale(common: CommonOptions, options: ScaleOptions): Promise<ScenarioReport> {
  return runScenario('scale', common, async (context) => {
    const timeoutMs = common.timeoutSeconds * 1000;
    const cluster = await startBenchCluster(context, { nodes: options.nodes, kubeletProcesses: options.kubelets });
    let tracker: PodTracker | undefined;
    const client = new BenchClient(cluster.server.target, 4);
    try {
      tracker = await PodTracker.start(cluster.server.target, BENCH_NAMESPACE);
      context.progress.phase('creating pods', options.pods);
      let created = 0;
      let loading = true;
      const load = runLoad({
        target: cluster.server.target, method: 'POST', path: `/api/v1/namespaces/${BENCH_NAMESPACE}/pods`,
        body: podTemplate({ namePrefix: NAME_PREFIX }), count: options.pods, concurrency: options.concurrency, rate: 0, timeoutMs,
      }, (done) => {
        created = done;
        context.progress.update(done);
      }).finally(() => { loading = false; });
      // GETs while the cluster is busiest; the pods below `created - concurrency` surely exist.
      const getsUnderLoad = sampleGets(client, () => Math.max(0, created - options.concurrency), options.getSamples, () => !loading, 20);
      const loadResult = await load;
      const busyGets = await getsUnderLoad;
      context.progress.phase('pods Running', options.pods);
      const runningTimeoutMs = options.runningTimeout > 0 ? options.runningTimeout * 1000 : timeoutMs;
      const allRunning = await tracker.waitForRunning(options.pods, runningTimeoutMs, (running) => context.progress.update(running));
      context.progress.end();
      const startup = startupFigures(loadResult, tracker, NAME_PREFIX, 0);
      const memoryAtRunning = memoryReport(cluster.processes);

      context.progress.phase('LIST and GET', options.listSamples * 4 + 1);
      const lists: JsonObject = {};
      const variants: [string, string, number | undefined][] = [
        ['json', 'application/json', undefined], ['table', TABLE, undefined],
        ['jsonLimit500', 'application/json', 500], ['tableLimit500', TABLE, 500],
      ];
      for (const [i, [name, accept, limit]] of variants.entries()) {
        lists[name] = await measureList(client, accept, limit, options.listSamples);
        context.progress.update((i + 1) * options.listSamples);
      }
      const settledGets = await sampleGets(client, () => loadResult.succeeded, options.getSamples, () => false, 0);
      context.progress.end();
      const readyNodes = await countReadyNodes(client);
      const memory = memoryReport(cluster.processes);
      const crashed = cluster.processes.filter((process) => process.exited).map((process) => process.name);
      const listP99 = Math.max(...Object.values(lists).map((list) => {
        const figures = list as JsonObject;
        return figures.succeeded === figures.samples ? ((figures.latency as JsonObject).p99Ms as number) : Number.POSITIVE_INFINITY;
      }));
      const getP99 = summarizeLatencies([...busyGets, ...settledGets]).p99Ms;
      const holds = allRunning && crashed.length === 0 && readyNodes === options.nodes;
      return {
        params: { ...options },
        results: {
          holds, podsCreated: loadResult.succeeded, podsRunning: tracker.runningAt.size, readyNodes, crashedProcesses: crashed.join(',') || 'none',
          secondsToLastRunning: startup.secondsToLastRunning, kubeletProcesses: cluster.kubelets.length, pods: startup,
          listP99Ms: listP99, getP99Ms: getP99,
          get: { underLoad: { ...summarizeLatencies(busyGets) }, settled: { ...summarizeLatencies(settledGets) } },
          list: lists,
          memoryAtAllRunning: memoryAtRunning, memory,
        },
        baseline: {
          podsRunning: options.pods, listP99Ms: 3000, getP99Ms: 20, totalPeakRssMiB: 4096,
          source: 'issue targets; SLO references: cluster-scope LIST p99 <= 30 s, single-object GET p99 <= 1 s (thresholds.md: 5,000 nodes, 150,000 pods)',
        },
        ratioMetric: 'podsRunning',
        targets: {
          'all pods Running': holds,
          'total RSS <= 4 GiB': (memory.totalPeakRssMiB as number) <= 4096,
          'LIST p99 <= 3 s': listP99 <= 3000,
          'GET p99 <= 20 ms': getP99 <= 20,
        },
      };
    } finally {
      client.close();
      await tracker?.stop();
      await cluster.stop();
    }
  });
}
