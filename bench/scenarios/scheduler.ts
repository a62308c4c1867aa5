// Scenario `scheduler`: scheduling throughput on its own, as kube-scheduler's scheduler_perf
// SchedulingBasic measures it. Per node count: Ready nodes created through the API (no kubelets),
// pending pods created, then `kubefacade scheduler` started as its own process; the bench watches
// the pods and times the bindings from the first to the last.

import type { SchedulerBenchOptions } from '../defaults.ts';
import path from 'node:path';
import { BenchClient } from '../http-client.ts';
import { runLoad, type LoadResult } from '../load.ts';
import { nodeTemplate } from '../node-template.ts';
import { PodTracker } from '../pod-tracker.ts';
import { BENCH_NAMESPACE, podTemplate } from '../pod-template.ts';
import { spawnComponent, type ComponentProcess } from '../processes.ts';
import type { JsonObject, ScenarioReport } from '../report.ts';
import {
  componentNodeArgs, ensureNamespace, memoryReport, runScenario, startServer, stopAll, type CommonOptions, type ScenarioContext,
} from '../scenario.ts';
import { nowMs, ratePerSecond } from '../stats.ts';


/** kube-scheduler's scheduler_perf CI threshold for SchedulingBasic at 5,000 nodes (performance-config.yaml). */
const KUBE_SCHEDULER_5000_NODES_PODS_PER_SECOND = 680;

async function create(context: ScenarioContext, label: string, run: () => Promise<LoadResult>, total: number): Promise<LoadResult> {
  context.progress.phase(label, total);
  const result = await run();
  context.progress.end();
  if (result.succeeded !== total) throw new Error(`${label}: ${result.succeeded}/${total} created; first errors: ${result.errors.join(' | ')}`);
  return result;
}

async function measureOne(context: ScenarioContext, nodeCount: number, options: SchedulerBenchOptions): Promise<JsonObject> {
  const timeoutMs = context.common.timeoutSeconds * 1000;
  const server = await startServer(context, `server-${nodeCount}`);
  let scheduler: ComponentProcess | undefined;
  let tracker: PodTracker | undefined;
  try {
    const client = new BenchClient(server.target, 1);
    await ensureNamespace(client);
    client.close();
    const target = server.target;
    await create(context, `${nodeCount} Ready nodes`, () => runLoad({
      target, method: 'POST', path: '/api/v1/nodes', body: nodeTemplate('bench-node-'), count: nodeCount,
      concurrency: options.concurrency, rate: 0, timeoutMs,
    }, (done) => context.progress.update(done)), nodeCount);
    await create(context, `${options.pods} pending pods`, () => runLoad({
      target, method: 'POST', path: `/api/v1/namespaces/${BENCH_NAMESPACE}/pods`, body: podTemplate({ namePrefix: 'bench-pod-' }),
      count: options.pods, concurrency: options.concurrency, rate: 0, timeoutMs,
    }, (done) => context.progress.update(done)), options.pods);

    tracker = await PodTracker.start(target, BENCH_NAMESPACE);
    const startedAt = nowMs();
    const extra = options.parallelism > 0 ? ['--parallelism', String(options.parallelism)] : [];
    scheduler = spawnComponent('scheduler', ['scheduler', '--kubeconfig', server.kubeconfigPath, ...extra], {
      logDir: path.dirname(server.kubeconfigPath), nodeArgs: componentNodeArgs(context),
    });
    context.progress.phase(`scheduling on ${nodeCount} nodes`, options.pods);
    const allBound = await tracker.waitForScheduled(options.pods, timeoutMs, (bound) => context.progress.update(bound));
    context.progress.end();
    const times = [...tracker.scheduledAt.values()].sort((a, b) => a - b);
    const first = times[0] ?? Number.NaN;
    const last = times[times.length - 1] ?? Number.NaN;
    const memory = memoryReport([server, scheduler]);
    return {
      nodes: nodeCount,
      podsBound: times.length,
      allBound,
      // Between the first and the last binding: the scheduler's steady throughput.
      podsPerSecond: ratePerSecond(Math.max(0, times.length - 1), last - first),
      // From process start: includes start-up and the informers' initial lists.
      podsPerSecondFromStart: ratePerSecond(times.length, last - startedAt),
      secondsToFirstBinding: Math.round(first - startedAt) / 1000,
      secondsToAllBound: Math.round(last - startedAt) / 1000,
      ...memory,
    };
  } finally {
    await tracker?.stop();
    await stopAll([scheduler, server]);
  }
}

export function runScheduler(common: CommonOptions, options: SchedulerBenchOptions): Promise<ScenarioReport> {
  return runScenario('scheduler', common, async (context) => {
    const runs: JsonObject = {};
    const counts = [...options.nodes].sort((a, b) => a - b);
    for (const nodeCount of counts) runs[`nodes${nodeCount}`] = await measureOne(context, nodeCount, options);
    const largest = runs[`nodes${counts[counts.length - 1]}`] as JsonObject;
    const podsPerSecond = largest.podsPerSecond as number;
    // The target is at 5,000 nodes; smaller runs are held to the same rate at their largest size.
    const largestCount = counts[counts.length - 1];
    const targets = { [`>= 1,000 pods/s at ${largestCount.toLocaleString('en-US')} nodes`]: podsPerSecond >= 1000 };
    return {
      params: { nodes: counts, pods: options.pods, concurrency: options.concurrency, parallelism: options.parallelism || 'default' },
      results: { podsPerSecond, atNodes: counts[counts.length - 1], ...runs },
      baseline: {
        podsPerSecond: KUBE_SCHEDULER_5000_NODES_PODS_PER_SECOND,
        source: 'kube-scheduler scheduler_perf SchedulingBasic/5000Nodes CI threshold (680-810 pods/s); real 5,000-node clusters ~100 pods/s',
      },
      ratioMetric: 'podsPerSecond',
      targets,
    };
  });
}
