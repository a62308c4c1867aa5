// Scenario `watch`: many concurrent pod watchers while pods are updated at a steady rate. Each
// update stamps its send time into the pod, so every watcher measures delivery latency (update
// sent → event read). Watchers run on a worker thread, the updater on another. One more watcher
// stops reading: the server must drop it (watch-stream's buffered-bytes limit) rather than grow.

import type { WatchOptions } from '../defaults.ts';
import { BenchClient } from '../http-client.ts';
import { runLoad } from '../load.ts';
import { BENCH_NAMESPACE, podTemplate } from '../pod-template.ts';
import { sleep } from '../processes.ts';
import type { JsonObject, ScenarioReport } from '../report.ts';
import { ensureNamespace, mib, runScenario, startServer, type CommonOptions } from '../scenario.ts';
import { ratePerSecond, summarizeLatencies } from '../stats.ts';
import { openWatch, watchAgent } from '../watch-client.ts';
import { startWatcherPool } from '../watchers.ts';


const NAME_PREFIX = 'watch-pod-';
const NODE_PREFIX = 'bench-node-';
/** The server's limit on bytes buffered for one watch (server/start.ts watchMaxBufferedBytes). */
const SERVER_WATCH_BUFFER_LIMIT = 16 * 1024 * 1024;

export function runWatch(common: CommonOptions, options: WatchOptions): Promise<ScenarioReport> {
  return runScenario('watch', common, async (context) => {
    const timeoutMs = common.timeoutSeconds * 1000;
    const server = await startServer(context);
    const agent = watchAgent(server.target);
    try {
      const target = server.target;
      const client = new BenchClient(target, 1);
      await ensureNamespace(client);
      // Pod i runs on node i, so a node-scoped watcher sees exactly its pod's updates (as a kubelet).
      context.progress.phase('pods', options.pods);
      const setup = await runLoad({
        target, method: 'POST', path: `/api/v1/namespaces/${BENCH_NAMESPACE}/pods`,
        body: podTemplate({ namePrefix: NAME_PREFIX, nodeName: `${NODE_PREFIX}__I__` }), count: options.pods, concurrency: 64, rate: 0, timeoutMs,
      }, (done) => context.progress.update(done));
      if (setup.succeeded !== options.pods) throw new Error(`created ${setup.succeeded}/${options.pods} pods: ${setup.errors.join(' | ')}`);
      const list = await client.json<{ metadata: { resourceVersion: string } }>('GET', `/api/v1/namespaces/${BENCH_NAMESPACE}/pods?limit=1`);
      client.close();
      const rv = list.metadata.resourceVersion;
      const base = `/api/v1/namespaces/${BENCH_NAMESPACE}/pods?watch=1&timeoutSeconds=3600&resourceVersion=${rv}`;
      const rssBeforeWatchers = server.memory()?.rssBytes ?? 0;

      context.progress.note(`opening ${options.watchers} watchers (${options.fanout})`);
      const paths = Array.from({ length: options.watchers }, (_, j) => options.fanout === 'all'
        ? base : `${base}&fieldSelector=${encodeURIComponent(`spec.nodeName=${NODE_PREFIX}${j % options.pods}`)}`);
      const pool = await startWatcherPool({ target, paths, openConcurrency: 50 });
      // A healthy all-pods watcher (what the stalled one should have got) and the stalled one.
      const reference = await openWatch({ target, agent, path: base, onLine: () => undefined });
      const stalled = await openWatch({ target, agent, path: base, onLine: () => undefined });
      stalled.pause();
      await sleep(500);
      const rssWithWatchers = server.memory()?.rssBytes ?? 0;

      context.progress.phase(`updates at ${options.rate || 'max'}/s`, options.updates);
      const updates = await runLoad({
        target, method: 'PATCH', path: `/api/v1/namespaces/${BENCH_NAMESPACE}/pods/${NAME_PREFIX}__I__`,
        body: '{"metadata":{"annotations":{"bench.kubefacade.io/sent-at":"__T__"}}}', contentType: 'application/merge-patch+json',
        count: options.updates, concurrency: 64, rate: options.rate, modulo: options.pods, timeoutMs,
      }, (done) => context.progress.update(done));
      const expected = options.fanout === 'all'
        ? updates.succeeded * options.watchers
        : Array.from({ length: options.watchers }, (_, j) => countUpdatesOf(j % options.pods, updates.succeeded, options.pods)).reduce((a, b) => a + b, 0);
      context.progress.phase('deliveries', expected);
      const deadline = Date.now() + Math.min(timeoutMs, 120_000);
      while ((pool.events < expected || reference.events < updates.succeeded) && Date.now() < deadline) {
        context.progress.update(pool.events);
        await sleep(100);
      }
      context.progress.end();
      const rssAfterUpdates = server.memory()?.rssBytes ?? 0;
      const result = await pool.stop();

      // Did the server give up on the stalled watcher? Read what it was sent; a dropped stream ends early.
      const stalledBytesWhilePaused = stalled.bytes;
      stalled.resume();
      const ending = await Promise.race([stalled.ended.then((reason) => reason ?? 'ended'), sleep(5_000).then(() => undefined)]);
      const disconnected = ending !== undefined || stalled.bytes < reference.bytes;
      const backlogAtPeak = reference.bytes - stalledBytesWhilePaused;
      stalled.close();
      reference.close();
      await sleep(1_000);
      const rssAfterStalledGone = server.memory()?.rssBytes ?? 0;

      const delivery = summarizeLatencies(result.latenciesMs);
      const peak = server.memory()?.peakRssBytes ?? 0;
      const bounded = disconnected || backlogAtPeak <= SERVER_WATCH_BUFFER_LIMIT + 16 * 1024 * 1024;
      const updateSpan = updates.finishedAtMs - updates.startedAtMs;
      return {
        params: { ...options },
        results: {
          deliveryP99Ms: delivery.p99Ms,
          delivery: { ...delivery },
          deliveries: result.events, expectedDeliveries: expected, watchersEndedEarly: result.endedEarly,
          watcherEventLoopUtilization: result.eventLoopUtilization,
          updaterEventLoopUtilization: updates.clientEventLoopUtilization,
          watcherMiB: mib(result.bytes),
          updates: {
            succeeded: updates.succeeded, failed: updates.sent - updates.succeeded, perSecond: ratePerSecond(updates.succeeded, updateSpan),
            latency: { ...summarizeLatencies(updates.latenciesMs.filter((value) => !Number.isNaN(value))) },
          },
          serverMemory: {
            rssBeforeWatchersMiB: mib(rssBeforeWatchers), rssWithWatchersMiB: mib(rssWithWatchers),
            rssAfterUpdatesMiB: mib(rssAfterUpdates), rssAfterStalledWatcherGoneMiB: mib(rssAfterStalledGone), peakRssMiB: mib(peak),
          },
          stalledWatcher: {
            disconnected, bounded, endReason: ending ?? 'still open', bytesReadBeforeResume: stalledBytesWhilePaused,
            bytesReadInTotal: stalled.bytes, healthyWatcherBytes: reference.bytes, backlogAtPeakMiB: mib(backlogAtPeak),
          },
        },
        baseline: { deliveryP99Ms: 100, source: 'issue target (delivery p99 <= 100 ms with 1,000 watchers)' },
        ratioMetric: 'deliveryP99Ms',
        targets: { 'delivery p99 <= 100 ms': delivery.p99Ms <= 100, 'stalled watcher bounded': bounded },
      };
    } finally {
      agent.destroy();
      await server.stop();
    }
  });
}

/** How many of `updates` round-robin updates over `pods` pods hit pod `index`. */
function countUpdatesOf(index: number, updates: number, pods: number): number {
  return Math.floor(updates / pods) + (index < updates % pods ? 1 : 0);
}
