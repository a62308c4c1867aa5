// The benchmark command at tiny sizes: every scenario runs through `bench/main.ts` (the same
// commander definition `kubefacade bench` mounts), writes its JSON, and the figures are
// consistent: counts add up, every pod Running, ratio = results / baseline. Never timings.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { JsonObject, ScenarioReport } from '../bench/report.ts';
import { valueAt } from '../bench/report.ts';
import { percentile, summarizeLatencies } from '../bench/stats.ts';
import { summarizeProfile, type CpuProfile } from '../bench/profile-summary.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

interface BenchRun {
  report: ScenarioReport;
  stdout: string;
}

/** Runs `bench <args> --json F --quiet` in a child process and returns the parsed report. */
async function bench(args: string[]): Promise<BenchRun> {
  const dir = await mkdtemp(path.join(tmpdir(), 'kubefacade-bench-test-'));
  const json = path.join(dir, 'report.json');
  try {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench', 'main.ts'), ...args, '--json', json, '--quiet', '--work-dir', dir, '--timeout', '120'], {
      cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.equal(code, 0, `bench ${args.join(' ')} failed:\n${stderr}\n${stdout}`);
    const report = JSON.parse(await readFile(json, 'utf8')) as ScenarioReport;
    return { report, stdout };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function object(value: unknown): JsonObject {
  assert.ok(value !== null && typeof value === 'object' && !Array.isArray(value), `expected an object, got ${JSON.stringify(value)}`);
  return value as JsonObject;
}

function assertShape(run: BenchRun, scenario: string): void {
  const { report } = run;
  assert.equal(report.scenario, scenario);
  for (const field of ['params', 'results', 'baseline', 'machine'] as const) object(report[field]);
  // The ratio is exactly what the JSON's own figures give.
  const ours = valueAt(report.results, report.ratioMetric);
  const theirs = valueAt(report.baseline, report.ratioMetric);
  assert.ok(Number.isFinite(ours) && Number.isFinite(theirs), `${report.ratioMetric} present in results and baseline`);
  assert.equal(report.ratio, Math.round((ours / theirs) * 1000) / 1000);
  assert.ok(Object.keys(report.targets).length > 0);
  for (const met of Object.values(report.targets)) assert.equal(typeof met, 'boolean');
  // The summary table names the scenario and the ratio.
  assert.match(run.stdout, new RegExp(`== ${scenario} `));
  assert.match(run.stdout, /ratio\s+\S+ \(/);
}

function assertLatency(value: unknown, count: number): void {
  const latency = object(value);
  assert.equal(latency.count, count);
  const p50 = latency.p50Ms as number;
  const p99 = latency.p99Ms as number;
  const max = latency.maxMs as number;
  assert.ok(p50 <= p99 && p99 <= max, `percentiles ordered: ${JSON.stringify(latency)}`);
}

test('stats: nearest-rank percentiles', () => {
  const values = Array.from({ length: 100 }, (_, i) => i + 1);
  assert.equal(percentile(Float64Array.from(values), 0.5), 50);
  assert.equal(percentile(Float64Array.from(values), 0.99), 99);
  const summary = summarizeLatencies([5, 1, 3]);
  assert.deepEqual([summary.count, summary.p50Ms, summary.maxMs, summary.meanMs], [3, 3, 5, 3]);
  assert.ok(Number.isNaN(summarizeLatencies([]).p99Ms));
});

test('profile summary: self time per function and file', () => {
  const frame = (functionName: string, url: string) => ({ functionName, url, lineNumber: 0 });
  const profile: CpuProfile = {
    nodes: [
      { id: 1, callFrame: frame('(root)', ''), children: [2, 3] },
      { id: 2, callFrame: frame('hot', 'file:///x/a.ts') },
      { id: 3, callFrame: frame('(idle)', '') },
    ],
    samples: [2, 2, 2, 3],
    timeDeltas: [1000, 1000, 1000, 1000],
    startTime: 0, endTime: 4000,
  };
  const summary = summarizeProfile(profile);
  assert.equal(summary.totalMs, 4);
  assert.equal(summary.functions[0].name, 'hot /x/a.ts:1');
  assert.equal(summary.functions[0].share, 75);
  assert.equal(summary.idleShare, 0.25);
});

test('bench create: full stack, baseline, client ceiling', async () => {
  const run = await bench(['create', '--pods', '120', '--concurrency', '8']);
  assertShape(run, 'create');
  const { results, baseline } = run.report;
  assert.equal(results.succeeded, 120);
  assert.equal(results.failed, 0);
  assert.equal(object(results.statuses)['201'], 120);
  // Every create reached the one watcher.
  assert.equal(results.watcherEvents, 120);
  assertLatency(results.latency, 120);
  assert.equal(baseline.succeeded, 120);
  assertLatency(baseline.latency, 120);
  assert.equal(run.report.ratioMetric, 'createsPerSecond');
  assert.ok((object(results.clientCeiling).requestsPerSecond as number) > 0);
  if (baseline.etcd !== undefined) assert.equal(object(baseline.etcd).puts, 120);
});

test('bench density: every pod Running, phases add up', async () => {
  const run = await bench(['density', '--nodes', '4', '--pods-per-node', '3', '--steady-pods', '4', '--steady-rate', '20']);
  assertShape(run, 'density');
  const { results } = run.report;
  assert.equal(results.podsRunning, 12);
  assert.equal(results.allRunning, true);
  const saturation = object(results.saturation);
  const steady = object(results.steady);
  assert.equal(saturation.pods, 8);
  assert.equal(steady.pods, 4);
  assert.equal((saturation.running as number) + (steady.running as number), 12);
  assertLatency(saturation.startupLatency, 8);
  assertLatency(steady.startupLatency, 4);
  const memory = object(results.memory);
  const parts = ['serverPeakRssMiB', 'kubeletPeakRssMiB', 'schedulerPeakRssMiB'].map((key) => memory[key] as number);
  for (const part of parts) assert.ok(part > 0);
  assert.ok(Math.abs(parts.reduce((a, b) => a + b, 0) - (memory.totalPeakRssMiB as number)) < 0.5);
});

test('bench ui: the browser drew every change the bench saw, every pod Running', async () => {
  const run = await bench(['ui', '--nodes', '3', '--pods', '12']);
  assertShape(run, 'ui');
  const { results } = run.report;
  assert.equal(results.allRunning, true);
  assert.ok((results.changesSeen as number) >= 12 * 2, 'each pod was created and then changed at least once');
  assert.equal(results.changesNotDrawn, 0, 'every change the bench saw was drawn by the page');
  assert.match(String(results.legend), /Running: 1[2-3]/, 'the page counts the pods Running (and the warm-up pod)');
  for (const key of ['busyPercent', 'heapMiB']) assert.ok((results[key] as number) > 0, key);
});

test('bench scale: holds at a tiny size, lists see every pod', async () => {
  const run = await bench(['scale', '--nodes', '5', '--pods', '30', '--list-samples', '1', '--get-samples', '10']);
  assertShape(run, 'scale');
  const { results } = run.report;
  assert.equal(results.holds, true);
  assert.equal(results.podsRunning, 30);
  assert.equal(results.readyNodes, 5);
  const lists = object(results.list);
  for (const variant of ['json', 'table', 'jsonLimit500', 'tableLimit500']) {
    assert.equal(object(lists[variant]).succeeded, 1, `${variant} list succeeded`);
  }
  // Paged lists cover the 30 pods plus the warm-up pod.
  assert.equal(object(lists.jsonLimit500).itemsPerList, 31);
  assert.equal(object(object(results.get).settled).count, 10);
});

test('bench watch: every delivery counted, the stalled watcher bounded', async () => {
  const run = await bench(['watch', '--watchers', '6', '--updates', '60', '--pods', '6', '--rate', '0', '--fanout', 'all']);
  assertShape(run, 'watch');
  const { results } = run.report;
  assert.equal(object(results.updates).succeeded, 60);
  assert.equal(results.expectedDeliveries, 360);
  assert.equal(results.deliveries, 360);
  assertLatency(results.delivery, 360);
  assert.equal(results.watchersEndedEarly, 0);
  assert.equal(object(results.stalledWatcher).bounded, true);
  assert.equal(run.report.targets['stalled watcher bounded'], true);
});

test('bench scheduler: every pod bound at each node count', async () => {
  const run = await bench(['scheduler', '--nodes', '3,6', '--pods', '20']);
  assertShape(run, 'scheduler');
  const { results } = run.report;
  for (const key of ['nodes3', 'nodes6']) {
    const one = object(results[key]);
    assert.equal(one.podsBound, 20);
    assert.equal(one.allBound, true);
  }
  assert.equal(results.atNodes, 6);
  assert.equal(results.podsPerSecond, object(results.nodes6).podsPerSecond);
});

test('bench workloads: Deployments Available, rolled and deleted by the controller manager', async () => {
  const run = await bench(['workloads', '--deployments', '2', '--replicas', '2', '--nodes', '2']);
  assertShape(run, 'workloads');
  const { results, params } = run.report;
  assert.equal(params.pods, 4);
  for (const flag of ['allAvailable', 'rolled', 'allGone', 'bareRunning']) assert.equal(results[flag], true, flag);
  for (const figure of ['deploymentPodsPerSecond', 'barePodsPerSecond', 'createToAvailableSeconds', 'rollingUpdateSeconds', 'cascadeDeleteSeconds']) {
    assert.ok((results[figure] as number) > 0, figure);
  }
  assert.ok((object(results.controllerManager).peakRssMiB as number) > 0);
});

test('bench endpointslices: every service\'s slices complete, readiness changes timed to their slices', async () => {
  const run = await bench(['endpointslices', '--services', '3', '--pods-per-service', '2', '--nodes', '2', '--readiness-changes', '2', '--change-rate', '10']);
  assertShape(run, 'endpointslices');
  const { results, params } = run.report;
  assert.equal(params.pods, 6);
  for (const flag of ['allReady', 'slicesComplete', 'unreadyShown', 'readyShown']) assert.equal(results[flag], true, flag);
  const latency = object(results.readinessToSliceMs);
  // Two pods made unready and ready again: four changes, each matched to its slice.
  assert.equal(latency.samples, 4);
  assert.equal(latency.unmatched, 0);
  assert.ok((latency.p99 as number) >= (latency.p50 as number));
  assert.ok(Math.abs((results.readinessToSliceP99Seconds as number) - (latency.p99 as number) / 1000) <= 0.001);
  assert.ok((results.lastReadyToSlicesCompleteSeconds as number) >= 0);
  assert.ok((object(results.serviceCreatesPerSecond).secondHalf as number) > 0);
  assert.ok((object(results.controllers).peakRssMiB as number) > 0);
});

test('bench startup: built package and run-time TypeScript loading, each start measured', async () => {
  const run = await bench(['startup', '--runs', '1']);
  assertShape(run, 'startup');
  const { results, baseline } = run.report;
  for (const report of [results, baseline]) {
    for (const key of ['serverCold', 'serverWarm', 'startCluster3Nodes']) {
      const figures = object(report[key]);
      assert.equal(figures.runs, 1);
      assert.ok((figures.minMs as number) > 0 && figures.minMs === figures.maxMs, `${key}: ${JSON.stringify(figures)}`);
      // CPU time used by the start, beside its wall time.
      const cpu = object(object(report.cpu)[key]);
      assert.ok(cpu.runs === 1 && (cpu.minMs as number) > 0, `${key} CPU: ${JSON.stringify(cpu)}`);
    }
    assert.ok((report.idleRssMiB as number) > 10);
  }
  assert.equal(run.report.ratioMetric, 'serverWarm.medianMs');
  assert.deepEqual(Object.keys(run.report.targets).sort(), ['idleRssAtMost120MiB', 'serverColdMedianAtMost1s', 'serverWarmMedianAtMost300ms', 'startCluster3NodesMedianAtMost1s']);
});

test('bench encoding: JSON and protobuf LISTs of the same pods, protobuf smaller', async () => {
  const run = await bench(['encoding', '--pods', '60', '--lists', '2', '--concurrency', '8']);
  assertShape(run, 'encoding');
  const { results, baseline } = run.report;
  assert.equal(run.report.ratioMetric, 'bytesPerList');
  assert.equal(results.contentType, 'application/vnd.kubernetes.protobuf');
  assert.equal(baseline.contentType, 'application/json');
  const protobufBytes = results.bytesPerList as number;
  const jsonBytes = baseline.bytesPerList as number;
  assert.ok(protobufBytes > 0 && protobufBytes < jsonBytes, `protobuf ${protobufBytes} < JSON ${jsonBytes}`);
  assert.equal(results.bytesRatioToJson, Math.round((protobufBytes / jsonBytes) * 1000) / 1000);
  assert.equal(results.bytesPerPod, Math.round((protobufBytes / 60) * 10) / 10);
  for (const figures of [results, baseline]) assert.ok((figures.serverCpuMsPerList as number) >= 0);
  assert.ok((baseline.managedFieldsBytesPerPod as number) > 0);
});

test('bench exec: echo hi round trips over WebSocket beside GETs of the same pod', async () => {
  const run = await bench(['exec', '--execs', '5', '--warmup', '1']);
  assertShape(run, 'exec');
  const { results, baseline } = run.report;
  assert.equal(run.report.ratioMetric, 'latency.p50Ms');
  assertLatency(results.latency, 5);
  assertLatency(baseline.latency, 5);
  const exec = object(results.latency);
  const get = object(baseline.latency);
  assert.equal(results.addedP50Ms, Math.round(((exec.p50Ms as number) - (get.p50Ms as number)) * 100) / 100);
  assert.equal(results.addedP99Ms, Math.round(((exec.p99Ms as number) - (get.p99Ms as number)) * 100) / 100);
});

test('bench port-forward: the same bytes through the tunnel and over direct loopback TCP', async () => {
  const run = await bench(['port-forward', '--megabytes', '4']);
  assertShape(run, 'port-forward');
  const { results, baseline } = run.report;
  assert.equal(run.report.ratioMetric, 'mbPerSecond');
  for (const figures of [results, baseline]) {
    assert.equal(figures.bytes, 4 * 1024 * 1024);
    assert.ok((figures.seconds as number) > 0);
    // MB/s from the bytes and the (rounded) seconds: equal but for rounding.
    const recomputed = (figures.bytes as number) / 1e6 / (figures.seconds as number);
    assert.ok(Math.abs((figures.mbPerSecond as number) - recomputed) <= recomputed * 0.01 + 0.1, `${figures.mbPerSecond} vs ${recomputed}`);
  }
});

test('bench metrics-scrape: /metrics before and after the pods are stored, with the heap each scrape allocates', async () => {
  const run = await bench(['metrics-scrape', '--pods', '30', '--scrapes', '3', '--concurrency', '8']);
  assertShape(run, 'metrics-scrape');
  const { results, baseline } = run.report;
  assert.equal(run.report.ratioMetric, 'latency.p50Ms');
  assertLatency(results.latency, 3);
  assertLatency(baseline.latency, 3);
  for (const figures of [results, baseline]) {
    assert.ok((figures.bytesPerScrape as number) > 1000);
    assert.ok((figures.heapAllocatedPerScrape as number) > 0, 'a scrape allocates at least its text');
    assert.equal(figures.heapPerTextByte, Math.round(((figures.heapAllocatedPerScrape as number) / (figures.bytesPerScrape as number)) * 100) / 100);
  }
  // apiserver_storage_objects{resource="pods"} and the request counters grow with what was stored.
  assert.ok((results.bytesPerScrape as number) > (baseline.bytesPerScrape as number));
});
