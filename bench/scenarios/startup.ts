// `kubefacade bench startup`: how long until a test can use kubefacade. For the built package
// (bin/kubefacade.js → dist/) and, in the same run, the previous start path (sources through the tsx
// loader at run time) as the baseline:
//   server cold   launch of `kubefacade server` on an empty data dir → first /readyz 200 (keys, certificates)
//   server warm   the same on the data dir the cold run left → first /readyz 200
//   cluster       startCluster({ storage: 'memory', nodes: 3 }) in a fresh process → resolved (3 Ready nodes),
//                 the call alone (module loading is in the server figures)
//   idle RSS      of `kubefacade server` a second after a warm start
// Beside each wall time, the CPU time the started process had used by then (user + system): on a
// machine shared with other work the wall time mostly measures the neighbours, the CPU time does not.
// Each is measured `runs` times; min, median and max are reported.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:https';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StartupOptions } from '../defaults.ts';
import { readCpuSeconds, readMemory } from '../processes.ts';
import type { JsonObject, ScenarioReport } from '../report.ts';
import { runScenario, type CommonOptions } from '../scenario.ts';
import { round } from '../stats.ts';

/** The package root: two levels above this file in sources (bench/scenarios/), one in the bundle (dist/). */
function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
}
const REPO_ROOT = packageRoot();

interface StartPath {
  name: string;
  /** node arguments that run the CLI. */
  cli: string[];
  /** node arguments and the module URL of the library. */
  library: { nodeArgs: string[]; entry: string };
}

function startPaths(): { built: StartPath; baseline: StartPath } {
  return {
    built: {
      name: 'built package (dist/)',
      cli: [path.join(REPO_ROOT, 'bin', 'kubefacade.js')],
      library: { nodeArgs: [], entry: path.join(REPO_ROOT, 'dist', 'index.js') },
    },
    baseline: {
      name: 'sources through tsx at run time',
      cli: ['--import', 'tsx', path.join(REPO_ROOT, 'server', 'cli.ts')],
      library: { nodeArgs: ['--import', 'tsx'], entry: path.join(REPO_ROOT, 'lib', 'index.ts') },
    },
  };
}

function readyz(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(`${url}/readyz`, { rejectUnauthorized: false, agent: false, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

/** Launches `server`, returns ms (wall and CPU) to the first /readyz 200 and (optionally) the idle RSS, then stops it. */
async function timeServer(cli: string[], dataDir: string, timeoutMs: number, measureIdle: boolean): Promise<{ ms: number; cpuMs: number; idleRssMiB?: number }> {
  const started = performance.now();
  const child = spawn(process.execPath, [...cli, 'server', '--data-dir', dataDir, '--port', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  try {
    let url: string | undefined;
    child.stderr.on('data', (chunk: Buffer) => {
      log += chunk.toString();
      url ??= /listening on (https:\/\/\S+)/.exec(log)?.[1];
    });
    for (;;) {
      if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}: ${log}`);
      if (performance.now() - started > timeoutMs) throw new Error(`server not ready within ${timeoutMs} ms: ${log}`);
      if (url && await readyz(url)) break;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    const ms = performance.now() - started;
    const cpuMs = ((child.pid === undefined ? undefined : readCpuSeconds(child.pid)) ?? Number.NaN) * 1000;
    if (!measureIdle) return { ms, cpuMs };
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const memory = child.pid === undefined ? undefined : readMemory(child.pid);
    return { ms, cpuMs, idleRssMiB: memory ? round(memory.rssBytes / 2 ** 20, 1) : undefined };
  } finally {
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  }
}

/** startCluster in a fresh process; the child reports the call's own duration, wall and CPU. */
async function timeCluster(library: StartPath['library'], timeoutMs: number): Promise<{ ms: number; cpuMs: number }> {
  const script = `
    const { startCluster } = await import(${JSON.stringify(new URL(`file://${library.entry}`).href)});
    const started = performance.now();
    const cpu = process.cpuUsage();
    const cluster = await startCluster({ storage: 'memory', nodes: 3 });
    const ms = performance.now() - started;
    const used = process.cpuUsage(cpu);
    await cluster.stop();
    console.log(JSON.stringify({ ms, cpuMs: (used.user + used.system) / 1000 }));`;
  const child = spawn(process.execPath, [...library.nodeArgs, '--input-type=module', '-e', script], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString(); });
  child.stderr.on('data', (chunk: Buffer) => { err += chunk.toString(); });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  clearTimeout(timer);
  if (code !== 0) throw new Error(`startCluster run failed (${code}): ${err}`);
  return JSON.parse(out.trim().split('\n').pop()!) as { ms: number; cpuMs: number };
}

function spread(samples: number[]): JsonObject {
  const sorted = [...samples].sort((a, b) => a - b);
  return { runs: sorted.length, minMs: round(sorted[0], 1), medianMs: round(sorted[Math.floor((sorted.length - 1) / 2)], 1), maxMs: round(sorted[sorted.length - 1], 1) };
}

async function measure(start: StartPath, options: StartupOptions, runDir: string, timeoutMs: number, note: (line: string) => void): Promise<JsonObject> {
  const cold: number[] = [];
  const warm: number[] = [];
  const cluster: number[] = [];
  const coldCpu: number[] = [];
  const warmCpu: number[] = [];
  const clusterCpu: number[] = [];
  let idleRssMiB: number | undefined;
  for (let run = 0; run < options.runs; run++) {
    const dataDir = await mkdtemp(path.join(runDir, 'server-'));
    try {
      const coldRun = await timeServer(start.cli, dataDir, timeoutMs, false);
      cold.push(coldRun.ms);
      coldCpu.push(coldRun.cpuMs);
      const last = run === options.runs - 1;
      const warmRun = await timeServer(start.cli, dataDir, timeoutMs, last);
      warm.push(warmRun.ms);
      warmCpu.push(warmRun.cpuMs);
      if (last) idleRssMiB = warmRun.idleRssMiB;
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
    const clusterRun = await timeCluster(start.library, timeoutMs);
    cluster.push(clusterRun.ms);
    clusterCpu.push(clusterRun.cpuMs);
    note(`${start.name}: run ${run + 1}/${options.runs}`);
  }
  return {
    path: start.name, serverCold: spread(cold), serverWarm: spread(warm), startCluster3Nodes: spread(cluster),
    cpu: { serverCold: spread(coldCpu), serverWarm: spread(warmCpu), startCluster3Nodes: spread(clusterCpu) },
    idleRssMiB: idleRssMiB ?? null,
  };
}

export async function runStartup(common: CommonOptions, options: StartupOptions): Promise<ScenarioReport> {
  return runScenario('startup', common, async ({ progress, runDir }) => {
    if (!existsSync(path.join(REPO_ROOT, 'dist', 'index.js'))) throw new Error('the package is not built: run `npm run build` first');
    const paths = startPaths();
    const timeoutMs = common.timeoutSeconds * 1000;
    const note = (line: string) => progress.note(line);
    const results = await measure(paths.built, options, runDir, timeoutMs, note);
    const baseline = await measure(paths.baseline, options, runDir, timeoutMs, note);
    const median = (report: JsonObject, key: string) => (report[key] as JsonObject).medianMs as number;
    return {
      params: { runs: options.runs },
      results,
      baseline,
      ratioMetric: 'serverWarm.medianMs',
      targets: {
        serverWarmMedianAtMost300ms: median(results, 'serverWarm') <= 300,
        serverColdMedianAtMost1s: median(results, 'serverCold') <= 1000,
        startCluster3NodesMedianAtMost1s: median(results, 'startCluster3Nodes') <= 1000,
        idleRssAtMost120MiB: typeof results.idleRssMiB === 'number' && results.idleRssMiB <= 120,
      },
    };
  });
}
