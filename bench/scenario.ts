// What every scenario shares: the common flags, a temporary run directory (removed afterwards
// unless --keep), the API server process with an optional CPU profile, and small API helpers.

import { mkdtemp, rm, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BenchClient, HttpError } from './http-client.ts';
import { Progress } from './progress.ts';
import { cpuProfileArgs, startServerProcess, type ComponentProcess, type ServerProcess } from './processes.ts';
import { currentLoad, machineInfo, ratioOf, type JsonObject, type ScenarioReport } from './report.ts';
import { BENCH_NAMESPACE } from './pod-template.ts';

export interface CommonOptions {
  quiet: boolean;
  /** Directory for .cpuprofile files of the API server (and other components); unset: no profile. */
  profileDir?: string;
  /** Keep the run directory (data, logs) for inspection. */
  keep: boolean;
  /** V8 old-space limit of the API server process in MiB (unset: node's default). */
  serverHeapMb?: number;
  /** Upper bound on each waiting phase, in seconds. */
  timeoutSeconds: number;
  /** Parent of the run directory (default: the OS temp dir). */
  workDir?: string;
}

export interface ScenarioContext {
  common: CommonOptions;
  progress: Progress;
  runDir: string;
}

export interface ScenarioOutcome {
  params: JsonObject;
  results: JsonObject;
  baseline: JsonObject;
  ratioMetric: string;
  targets: { [name: string]: boolean };
}

export async function runScenario(
  name: string, common: CommonOptions, body: (context: ScenarioContext) => Promise<ScenarioOutcome>,
): Promise<ScenarioReport> {
  const parent = common.workDir ?? tmpdir();
  await mkdir(parent, { recursive: true });
  const runDir = await mkdtemp(path.join(parent, `kubefacade-bench-${name}-`));
  const progress = new Progress({ quiet: common.quiet });
  const started = Date.now();
  const loadAtStart = currentLoad();
  try {
    const outcome = await body({ common, progress, runDir });
    return {
      scenario: name, params: outcome.params, results: outcome.results, baseline: outcome.baseline,
      ratio: ratioOf(outcome.results, outcome.baseline, outcome.ratioMetric), ratioMetric: outcome.ratioMetric,
      targets: outcome.targets, machine: machineInfo(loadAtStart), startedAt: new Date(started).toISOString(),
      durationSeconds: (Date.now() - started) / 1000,
    };
  } finally {
    progress.end();
    if (common.keep) progress.note(`run directory kept: ${runDir}`);
    else await rm(runDir, { recursive: true, force: true });
  }
}

/**
 * The young generation `npm start` gives the server too (package.json). With node's default (16 MiB semi-spaces) a
 * server holding 100,000 pods ran a scavenge every ~140 ms, each ~55 ms on this 2-core machine: 38% of its main
 * thread. With 64 MiB: one every ~400 ms at about the same cost, 15%.
 */
export const SERVER_YOUNG_GENERATION = '--max-semi-space-size=64';

/** Starts `kubefacade server` in `<runDir>/<label>`, with the profile and heap flags from the common options. */
export async function startServer(context: ScenarioContext, label = 'server', extraNodeArgs: string[] = []): Promise<ServerProcess> {
  const dataDir = path.join(context.runDir, label);
  await mkdir(dataDir, { recursive: true });
  const nodeArgs = [...cpuProfileArgs(context.common.profileDir), SERVER_YOUNG_GENERATION, ...extraNodeArgs];
  if (context.common.serverHeapMb) nodeArgs.push(`--max-old-space-size=${context.common.serverHeapMb}`);
  return startServerProcess(dataDir, { nodeArgs, logDir: context.runDir });
}

/** Node flags for a non-server component: profiled too when profiling is on. */
export function componentNodeArgs(context: ScenarioContext): string[] {
  return cpuProfileArgs(context.common.profileDir);
}

export async function ensureNamespace(client: BenchClient, name = BENCH_NAMESPACE): Promise<void> {
  try {
    await client.json('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  } catch (error) {
    if (!(error instanceof HttpError && error.status === 409)) throw error;
  }
}

/** Peak RSS per process (MiB, one decimal) and their sum. */
export function memoryReport(processes: ComponentProcess[]): JsonObject {
  const report: JsonObject = {};
  let total = 0;
  for (const process of processes) {
    const reading = process.memory();
    const peak = reading?.peakRssBytes ?? 0;
    total += peak;
    report[`${process.name}PeakRssMiB`] = mib(peak);
  }
  report.totalPeakRssMiB = mib(total);
  return report;
}

export function mib(bytes: number): number {
  return Math.round((bytes / 1048576) * 10) / 10;
}

/** Stops processes in order, ignoring those already gone. */
export async function stopAll(processes: (ComponentProcess | undefined)[]): Promise<void> {
  for (const process of processes) await process?.stop().catch(() => undefined);
}
