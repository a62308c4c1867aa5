// Scenario `ui`: the web view's cluster view in headless Chromium while a density-style load runs
// (N simulated nodes, pods created as fast as accepted until all are Running). Measured: how long a
// pod's change takes from the API server's watch (a bench watcher beside the page, stamping each
// resourceVersion as it arrives) to the frame that draws it in the page; how busy the page's main
// thread is (Chrome's TaskDuration over the run); the tab's JavaScript heap. The page logs in with
// the admin token through the web view's server, started here in the bench process.

import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import type { UiOptions } from '../defaults.ts';
import { startBenchCluster } from '../cluster.ts';
import { runLoad } from '../load.ts';
import { PodTracker } from '../pod-tracker.ts';
import { BENCH_NAMESPACE, podTemplate } from '../pod-template.ts';
import type { JsonObject, ScenarioReport } from '../report.ts';
import { memoryReport, runScenario, type CommonOptions } from '../scenario.ts';
import { round, summarizeLatencies } from '../stats.ts';
import { openWatch, watchAgent, type WatchStream } from '../watch-client.ts';
import { startUiServer } from '../../server/ui/ui-server.ts';

const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const NAME_PREFIX = 'ui-';

const epochNow = (): number => performance.timeOrigin + performance.now();

export function runUi(common: CommonOptions, options: UiOptions): Promise<ScenarioReport> {
  return runScenario('ui', common, async (context) => {
    if (!existsSync(options.chromium)) throw new Error(`headless Chromium is required at ${options.chromium} (apt-get install chromium)`);
    const timeoutMs = common.timeoutSeconds * 1000;
    const cluster = await startBenchCluster(context, { nodes: options.nodes, kubeletProcesses: 1 });
    const target = cluster.server.target;
    const ui = await startUiServer({ api: { url: target.server, caCertPem: target.caPem }, port: 0 });
    const browser = await chromium.launch({ executablePath: options.chromium, args: CHROMIUM_ARGS });
    let tracker: PodTracker | undefined;
    let watch: WatchStream | undefined;
    const sampler: { timer?: NodeJS.Timeout } = {};
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      await page.goto(ui.url);
      await page.waitForSelector('#login:not([hidden])');
      await page.fill('#login-token', target.token ?? '');
      await page.click('#login-form button');
      await page.waitForFunction((nodes) => document.querySelectorAll('#node-table tr[data-ready="True"]').length === nodes, Math.min(options.nodes, 200), { timeout: timeoutMs });

      // The bench's own watch: when each resourceVersion left the API server (as near as a client can see it).
      const arrivals = new Map<string, number>();
      const list = await fetchResourceVersion(target.server, target.caPem, target.token ?? '');
      watch = await openWatch({
        target, agent: watchAgent(target),
        path: `/api/v1/namespaces/${BENCH_NAMESPACE}/pods?watch=1&resourceVersion=${list}&timeoutSeconds=14400`,
        onEvent: (event) => {
          const rv = (event.object.metadata as { resourceVersion?: string } | undefined)?.resourceVersion;
          if (rv && (event.type === 'ADDED' || event.type === 'MODIFIED')) arrivals.set(rv, epochNow());
        },
      });
      tracker = await PodTracker.start(target, BENCH_NAMESPACE);

      const cdp = await page.context().newCDPSession(page);
      await cdp.send('Performance.enable');
      const metric = async (): Promise<Map<string, number>> => {
        const { metrics } = await cdp.send('Performance.getMetrics') as { metrics: { name: string; value: number }[] };
        return new Map(metrics.map((m) => [m.name, m.value]));
      };
      const before = await metric();
      const started = epochNow();
      let peakHeap = before.get('JSHeapUsedSize') ?? 0;
      sampler.timer = setInterval(() => {
        metric().then((m) => { peakHeap = Math.max(peakHeap, m.get('JSHeapUsedSize') ?? 0); }, () => undefined);
      }, 1000);

      context.progress.phase('creating', options.pods);
      const load = await runLoad({
        target, method: 'POST', path: `/api/v1/namespaces/${BENCH_NAMESPACE}/pods`, body: podTemplate({ namePrefix: NAME_PREFIX }),
        count: options.pods, concurrency: options.concurrency, rate: options.rate, timeoutMs,
      }, (done) => context.progress.update(done));
      context.progress.phase('Running', options.pods);
      const allRunning = await tracker.waitForRunning(options.pods, timeoutMs, (running) => context.progress.update(running));
      context.progress.end();
      // The last frames: what arrived last must still be drawn.
      await new Promise((settle) => setTimeout(settle, 2000));
      clearInterval(sampler.timer);
      const after = await metric();
      const elapsedSeconds = (epochNow() - started) / 1000;
      const busy = ((after.get('TaskDuration') ?? 0) - (before.get('TaskDuration') ?? 0)) / elapsedSeconds;
      peakHeap = Math.max(peakHeap, after.get('JSHeapUsedSize') ?? 0);

      const painted = await page.evaluate(() => (globalThis as { kubefacadeUiStats?: { paintedAt: Record<string, number> } }).kubefacadeUiStats?.paintedAt ?? {});
      const latencies: number[] = [];
      let notDrawn = 0;
      for (const [rv, arrivedAt] of arrivals) {
        const at = painted[rv];
        if (at === undefined) notDrawn++;
        else latencies.push(Math.max(0, at - arrivedAt));
      }
      const repaint = summarizeLatencies(latencies.sort((a, b) => a - b));
      const shownCounts = await page.$eval('.legend', (legend) => legend.textContent ?? '');
      const repaintP99Ms = round(repaint.p99Ms);
      const busyPercent = round(busy * 100, 1);
      const heapMiB = round(peakHeap / 1024 / 1024, 1);
      const results: JsonObject = {
        repaintP99Ms, busyPercent, heapMiB,
        repaint: { p50Ms: round(repaint.p50Ms), p99Ms: repaintP99Ms, maxMs: round(repaint.maxMs) }, changesSeen: arrivals.size, changesNotDrawn: notDrawn,
        createsPerSecond: round(load.succeeded / Math.max(0.001, (load.finishedAtMs - load.startedAtMs) / 1000)), allRunning,
        legend: shownCounts, memory: memoryReport(cluster.processes),
      };
      return {
        params: { ...options, chromium: options.chromium },
        results,
        baseline: { repaintP99Ms: 500, busyPercent: 50, heapMiB: 300, source: 'issue targets' },
        ratioMetric: 'repaintP99Ms',
        targets: { 'repaint p99 <= 500 ms': repaintP99Ms <= 500, 'main thread busy <= 50%': busyPercent <= 50, 'tab heap <= 300 MiB': heapMiB <= 300 },
      };
    } finally {
      clearInterval(sampler.timer);
      watch?.close();
      await tracker?.stop();
      await browser.close();
      await ui.close();
      await cluster.stop();
    }
  });
}

/** The namespace's current resourceVersion, for a watch that sees every later change. */
async function fetchResourceVersion(server: string, caPem: string, token: string): Promise<string> {
  const { BenchClient } = await import('../http-client.ts');
  const client = new BenchClient({ server, caPem, token }, 1);
  try {
    const list = await client.json<{ metadata: { resourceVersion: string } }>('GET', `/api/v1/namespaces/${BENCH_NAMESPACE}/pods?limit=1`);
    return list.metadata.resourceVersion;
  } finally {
    client.close();
  }
}
