// Scenario `density`: N simulated nodes in one kubelet process, the scheduler and the API server
// as separate processes; nodes x podsPerNode pods, first as fast as the API accepts them
// (saturation: end-to-end and scheduler throughput), then the rest at a steady rate (pod startup
// latency on a loaded cluster, as clusterloader2's density test measures it). Image pulls are instant.

import type { DensityOptions } from '../defaults.ts';
import { startBenchCluster } from '../cluster.ts';
import { runLoad } from '../load.ts';
import { PodTracker } from '../pod-tracker.ts';
import { startupFigures } from '../pod-startup.ts';
import { BENCH_NAMESPACE, podTemplate } from '../pod-template.ts';
import type { JsonObject, ScenarioReport } from '../report.ts';
import { memoryReport, runScenario, type CommonOptions } from '../scenario.ts';


const NAME_PREFIX = 'density-';

export function runDensity(common: CommonOptions, options: DensityOptions): Promise<ScenarioReport> {
  return runScenario('density', common, async (context) => {
    const total = options.nodes * options.podsPerNode;
    const steadyPods = Math.min(options.steadyPods, total);
    const saturationPods = total - steadyPods;
    const timeoutMs = common.timeoutSeconds * 1000;
    const cluster = await startBenchCluster(context, { nodes: options.nodes, kubeletProcesses: 1 });
    let tracker: PodTracker | undefined;
    try {
      tracker = await PodTracker.start(cluster.server.target, BENCH_NAMESPACE);
      const body = podTemplate({ namePrefix: NAME_PREFIX });
      const path = `/api/v1/namespaces/${BENCH_NAMESPACE}/pods`;
      const phases: JsonObject = {};
      let allRunning = true;
      if (saturationPods > 0) {
        context.progress.phase('saturation: creating', saturationPods);
        const load = await runLoad({
          target: cluster.server.target, method: 'POST', path, body, count: saturationPods, concurrency: options.concurrency, rate: 0, timeoutMs,
        }, (done) => context.progress.update(done));
        context.progress.phase('saturation: Running', saturationPods);
        allRunning = await tracker.waitForRunning(saturationPods, timeoutMs, (running) => context.progress.update(running)) && allRunning;
        context.progress.end();
        phases.saturation = startupFigures(load, tracker, NAME_PREFIX, 0);
      }
      if (steadyPods > 0) {
        context.progress.phase(`steady ${options.steadyRate}/s: creating`, steadyPods);
        const load = await runLoad({
          target: cluster.server.target, method: 'POST', path, body, count: steadyPods, concurrency: options.concurrency,
          rate: options.steadyRate, firstIndex: saturationPods, timeoutMs,
        }, (done) => context.progress.update(done));
        context.progress.phase('steady: Running', steadyPods);
        allRunning = await tracker.waitForRunning(total, timeoutMs, (running) => context.progress.update(running - saturationPods)) && allRunning;
        context.progress.end();
        phases.steady = { rate: options.steadyRate, ...startupFigures(load, tracker, NAME_PREFIX, saturationPods) };
      }
      const memory = memoryReport(cluster.processes);
      const headline = (phases.saturation ?? phases.steady) as JsonObject;
      const latencyPhase = (phases.steady ?? phases.saturation) as JsonObject;
      const podsPerSecond = headline.endToEndPodsPerSecond as number;
      const startupP99Ms = (latencyPhase.startupLatency as JsonObject).p99Ms as number;
      return {
        params: { ...options, pods: total, saturationPods, imagePullDelay: '0s', kubeletProcesses: 1 },
        results: {
          podsPerSecond, startupP99Ms, podsRunning: tracker.runningAt.size, allRunning, podsDeleted: tracker.deleted,
          ...phases, memory,
        },
        baseline: {
          podsPerSecond: 1000, startupP99Ms: 1000,
          source: 'issue targets; references: SLO pod startup p99 <= 5 s, kwok CI allows 120 s for 1,000 pods Running',
        },
        ratioMetric: 'podsPerSecond',
        targets: { '>= 1,000 pods/s end-to-end': podsPerSecond >= 1000, 'startup p99 <= 1 s': startupP99Ms <= 1000 },
      };
    } finally {
      await tracker?.stop();
      await cluster.stop();
    }
  });
}
