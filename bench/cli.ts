// `kubefacade bench SCENARIO [--json FILE] [size flags]`: one subcommand per scenario plus `all`.
// Each scenario's size flags default to the full size; small values make a run of seconds.
// A summary table goes to stdout, the progress bar to stderr, the figures to --json FILE.

import { InvalidArgumentError, type Command } from 'commander';
import type { CommonOptions } from './scenario.ts';
import type { ScenarioReport } from './report.ts';
import { useBuiltComponents } from './processes.ts';
import { CREATE_DEFAULTS, DENSITY_DEFAULTS, ENCODING_DEFAULTS, ENDPOINTSLICES_DEFAULTS, SCALE_DEFAULTS, SCHEDULER_DEFAULTS, STARTUP_DEFAULTS, UI_DEFAULTS, WATCH_DEFAULTS, WORKLOADS_DEFAULTS } from './defaults.ts';
import { EXEC_DEFAULTS, METRICS_SCRAPE_DEFAULTS, PORT_FORWARD_DEFAULTS } from './defaults.ts';

function count(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0) throw new InvalidArgumentError('must be a non-negative integer');
  return parsed;
}

function positive(value: string): number {
  const parsed = count(value);
  if (parsed === 0) throw new InvalidArgumentError('must be at least 1');
  return parsed;
}

function countList(value: string): number[] {
  return value.split(',').map((item) => positive(item.trim()));
}

interface CommonFlags {
  json?: string;
  quiet?: boolean;
  profileDir?: string;
  keep?: boolean;
  serverHeapMb?: number;
  timeout: number;
  workDir?: string;
  built?: boolean;
}

function withCommonFlags(command: Command): Command {
  return command
    .option('--json <file>', 'also write the figures as JSON to this file')
    .option('--quiet', 'no progress output')
    .option('--profile-dir <dir>', 'write a V8 .cpuprofile of each component process into this directory')
    .option('--keep', 'keep the run directory (data and component logs)')
    .option('--server-heap-mb <mib>', 'V8 heap limit of the API server process', positive)
    .option('--timeout <seconds>', 'upper bound on each waiting phase', positive, 1800)
    .option('--work-dir <dir>', 'parent directory of the temporary run directory')
    .option('--built', 'run the components from the built package (npm run build) instead of the sources through tsx');
}

/** A scenario's own options out of the parsed flags (the common flags stay out of its params). */
function pick<T extends object>(flags: object, defaults: T): T {
  const picked = { ...defaults };
  for (const key of Object.keys(defaults) as (keyof T)[]) {
    const value = (flags as Partial<T>)[key];
    if (value !== undefined) picked[key] = value as T[keyof T];
  }
  return picked;
}

function commonOptions(flags: CommonFlags): CommonOptions {
  useBuiltComponents(Boolean(flags.built));
  return {
    quiet: Boolean(flags.quiet), profileDir: flags.profileDir, keep: Boolean(flags.keep),
    serverHeapMb: flags.serverHeapMb, timeoutSeconds: flags.timeout, workDir: flags.workDir,
  };
}

async function finish(reports: ScenarioReport[], flags: CommonFlags): Promise<void> {
  const { renderSummary, writeJson } = await import('./report.ts');
  process.stdout.write(renderSummary(reports));
  if (flags.json) await writeJson(flags.json, reports);
}

/** The scenarios in the order `bench all` runs them (cheapest first). */
export const SCENARIOS = ['create', 'encoding', 'watch', 'scheduler', 'density', 'workloads', 'endpointslices', 'ui', 'scale', 'exec', 'port-forward', 'metrics-scrape'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

async function runNamed(name: ScenarioName, common: CommonOptions): Promise<ScenarioReport> {
  switch (name) {
    case 'create': return (await import('./scenarios/create.ts')).runCreate(common, CREATE_DEFAULTS);
    case 'encoding': return (await import('./scenarios/encoding.ts')).runEncoding(common, ENCODING_DEFAULTS);
    case 'density': return (await import('./scenarios/density.ts')).runDensity(common, DENSITY_DEFAULTS);
    case 'scale': return (await import('./scenarios/scale.ts')).runScale(common, SCALE_DEFAULTS);
    case 'watch': return (await import('./scenarios/watch.ts')).runWatch(common, WATCH_DEFAULTS);
    case 'scheduler': return (await import('./scenarios/scheduler.ts')).runScheduler(common, SCHEDULER_DEFAULTS);
    case 'workloads': return (await import('./scenarios/workloads.ts')).runWorkloads(common, WORKLOADS_DEFAULTS);
    case 'endpointslices': return (await import('./scenarios/endpointslices.ts')).runEndpointSlices(common, ENDPOINTSLICES_DEFAULTS);
    case 'ui': return (await import('./scenarios/ui.ts')).runUi(common, UI_DEFAULTS);
    case 'exec': return (await import('./scenarios/exec.ts')).runExec(common, EXEC_DEFAULTS);
    case 'port-forward': return (await import('./scenarios/port-forward.ts')).runPortForward(common, PORT_FORWARD_DEFAULTS);
    case 'metrics-scrape': return (await import('./scenarios/metrics-scrape.ts')).runMetricsScrape(common, METRICS_SCRAPE_DEFAULTS);
  }
}

export function registerBenchCommand(program: Command): void {
  const bench = program.command('bench').description('benchmark scenarios against a fresh local cluster (see bench/README.md)');

  withCommonFlags(bench.command('create'))
    .description('pod creates at a concurrency through the full stack, against a bare https+LevelDB baseline and raw etcd')
    .option('--pods <n>', 'pods to create', positive, CREATE_DEFAULTS.pods)
    .option('--concurrency <n>', 'requests in flight', positive, CREATE_DEFAULTS.concurrency)
    .option('--no-baseline', 'skip the bare https+LevelDB baseline')
    .option('--no-etcd', 'skip raw etcd puts even if etcd is installed')
    .option('--kind <kind>', 'pod, or crd: then also as many custom resources of a CRD with 10 CEL rules, in the same run', (value: string) => {
      if (value !== 'pod' && value !== 'crd') throw new Error('--kind must be pod or crd');
      return value;
    }, CREATE_DEFAULTS.kind)
    .action(async (flags: CommonFlags & { pods: number; concurrency: number; baseline: boolean; etcd: boolean; kind: 'pod' | 'crd' }) => {
      const { runCreate } = await import('./scenarios/create.ts');
      await finish([await runCreate(commonOptions(flags), pick(flags, CREATE_DEFAULTS))], flags);
    });

  withCommonFlags(bench.command('density'))
    .description('simulated nodes in one kubelet process, pods created as fast as accepted, then at a steady rate')
    .option('--nodes <n>', 'simulated nodes', positive, DENSITY_DEFAULTS.nodes)
    .option('--pods-per-node <n>', 'pods per node (total = nodes x pods-per-node)', positive, DENSITY_DEFAULTS.podsPerNode)
    .option('--steady-pods <n>', 'of the total, pods created at the steady rate after the saturation phase', count, DENSITY_DEFAULTS.steadyPods)
    .option('--steady-rate <n>', 'pods per second in the steady phase', positive, DENSITY_DEFAULTS.steadyRate)
    .option('--concurrency <n>', 'creates in flight in the saturation phase', positive, DENSITY_DEFAULTS.concurrency)
    .action(async (flags: CommonFlags & typeof DENSITY_DEFAULTS) => {
      const { runDensity } = await import('./scenarios/density.ts');
      await finish([await runDensity(commonOptions(flags), pick(flags, DENSITY_DEFAULTS))], flags);
    });

  withCommonFlags(bench.command('scale'))
    .description('a large cluster: nodes and pods to all Running, then LIST and GET latency under it')
    .option('--nodes <n>', 'simulated nodes', positive, SCALE_DEFAULTS.nodes)
    .option('--pods <n>', 'pods', positive, SCALE_DEFAULTS.pods)
    .option('--kubelets <n>', 'kubelet processes the nodes are split over (more are used past 3,072 nodes)', positive, SCALE_DEFAULTS.kubelets)
    .option('--concurrency <n>', 'creates in flight', positive, SCALE_DEFAULTS.concurrency)
    .option('--running-timeout <seconds>', 'longest wait for all pods Running after the creates (0: --timeout)', count, SCALE_DEFAULTS.runningTimeout)
    .option('--list-samples <n>', 'LIST requests per variant', positive, SCALE_DEFAULTS.listSamples)
    .option('--get-samples <n>', 'single-pod GETs', positive, SCALE_DEFAULTS.getSamples)
    .action(async (flags: CommonFlags & typeof SCALE_DEFAULTS) => {
      const { runScale } = await import('./scenarios/scale.ts');
      await finish([await runScale(commonOptions(flags), pick(flags, SCALE_DEFAULTS))], flags);
    });

  withCommonFlags(bench.command('watch'))
    .description('many concurrent pod watchers while pods are updated: delivery latency, server memory, a stalled watcher')
    .option('--watchers <n>', 'concurrent watchers', positive, WATCH_DEFAULTS.watchers)
    .option('--updates <n>', 'pod updates', positive, WATCH_DEFAULTS.updates)
    .option('--pods <n>', 'pods the updates go round', positive, WATCH_DEFAULTS.pods)
    .option('--rate <n>', 'updates per second (0: as fast as accepted)', count, WATCH_DEFAULTS.rate)
    .option('--fanout <mode>', 'node: each watcher watches one node\'s pods (kubelet-like); all: every watcher gets every event', WATCH_DEFAULTS.fanout)
    .action(async (flags: CommonFlags & typeof WATCH_DEFAULTS) => {
      if (flags.fanout !== 'node' && flags.fanout !== 'all') throw new InvalidArgumentError('--fanout must be node or all');
      const { runWatch } = await import('./scenarios/watch.ts');
      await finish([await runWatch(commonOptions(flags), pick(flags, WATCH_DEFAULTS))], flags);
    });

  withCommonFlags(bench.command('scheduler'))
    .description('scheduling throughput alone: Ready nodes and pending pods created via the API, then the scheduler started')
    .option('--nodes <list>', 'node counts, comma-separated (one run each)', countList, SCHEDULER_DEFAULTS.nodes)
    .option('--pods <n>', 'pending pods per run', positive, SCHEDULER_DEFAULTS.pods)
    .option('--concurrency <n>', 'creates in flight while setting up', positive, SCHEDULER_DEFAULTS.concurrency)
    .option('--parallelism <n>', 'the scheduler\'s --parallelism (bindings in flight; 0: its default)', count, SCHEDULER_DEFAULTS.parallelism)
    .action(async (flags: CommonFlags & typeof SCHEDULER_DEFAULTS) => {
      const { runScheduler } = await import('./scenarios/scheduler.ts');
      await finish([await runScheduler(commonOptions(flags), pick(flags, SCHEDULER_DEFAULTS))], flags);
    });

  withCommonFlags(bench.command('workloads'))
    .description('Deployments through the controller manager: create to Available, a rolling update, cascading deletion')
    .option('--deployments <n>', 'Deployments', positive, WORKLOADS_DEFAULTS.deployments)
    .option('--replicas <n>', 'replicas per Deployment', positive, WORKLOADS_DEFAULTS.replicas)
    .option('--nodes <n>', 'simulated nodes', positive, WORKLOADS_DEFAULTS.nodes)
    .option('--concurrency <n>', 'Deployment writes in flight', positive, WORKLOADS_DEFAULTS.concurrency)
    .action(async (flags: CommonFlags & typeof WORKLOADS_DEFAULTS) => {
      const { runWorkloads } = await import('./scenarios/workloads.ts');
      await finish([await runWorkloads(commonOptions(flags), pick(flags, WORKLOADS_DEFAULTS))], flags);
    });

  withCommonFlags(bench.command('endpointslices'))
    .description('EndpointSlice reconciliation: Services x pods to complete slices, then readiness changes timed to their slices')
    .option('--services <n>', 'Services', positive, ENDPOINTSLICES_DEFAULTS.services)
    .option('--pods-per-service <n>', 'pods each Service selects', positive, ENDPOINTSLICES_DEFAULTS.podsPerService)
    .option('--nodes <n>', 'simulated nodes', positive, ENDPOINTSLICES_DEFAULTS.nodes)
    .option('--readiness-changes <n>', 'pods made unready then ready again', positive, ENDPOINTSLICES_DEFAULTS.readinessChanges)
    .option('--change-rate <n>', 'readiness changes started per second', positive, ENDPOINTSLICES_DEFAULTS.changeRate)
    .option('--concurrency <n>', 'creates in flight', positive, ENDPOINTSLICES_DEFAULTS.concurrency)
    .action(async (flags: CommonFlags & typeof ENDPOINTSLICES_DEFAULTS) => {
      const { runEndpointSlices } = await import('./scenarios/endpointslices.ts');
      await finish([await runEndpointSlices(commonOptions(flags), pick(flags, ENDPOINTSLICES_DEFAULTS))], flags);
    });

  withCommonFlags(bench.command('ui'))
    .description('the web view\'s cluster view in headless Chromium during a density-style load: repaint latency, main-thread busy, tab heap')
    .option('--nodes <n>', 'simulated nodes', positive, UI_DEFAULTS.nodes)
    .option('--pods <n>', 'pods', positive, UI_DEFAULTS.pods)
    .option('--rate <n>', 'creates per second (0: as fast as accepted)', count, UI_DEFAULTS.rate)
    .option('--concurrency <n>', 'creates in flight', positive, UI_DEFAULTS.concurrency)
    .option('--chromium <path>', 'headless Chromium executable', UI_DEFAULTS.chromium)
    .action(async (flags: CommonFlags & typeof UI_DEFAULTS) => {
      const { runUi } = await import('./scenarios/ui.ts');
      await finish([await runUi(commonOptions(flags), pick(flags, UI_DEFAULTS))], flags);
    });

  withCommonFlags(bench.command('startup'))
    .description('launch to /readyz (server cold and warm) and startCluster to 3 Ready nodes, built package against run-time TypeScript loading; idle RSS')
    .option('--runs <n>', 'measurements of each start per start path', positive, STARTUP_DEFAULTS.runs)
    .action(async (flags: CommonFlags & typeof STARTUP_DEFAULTS) => {
      const { runStartup } = await import('./scenarios/startup.ts');
      await finish([await runStartup(commonOptions(flags), pick(flags, STARTUP_DEFAULTS))], flags);
    });

  withCommonFlags(bench.command('encoding'))
    .description('LIST of N pods in JSON and in protobuf: bytes and API-server CPU per LIST (target: protobuf <= 0.7x JSON bytes)')
    .option('--pods <n>', 'pods in the listed namespace', positive, ENCODING_DEFAULTS.pods)
    .option('--lists <n>', 'LISTs per encoding in the measured batch', positive, ENCODING_DEFAULTS.lists)
    .option('--concurrency <n>', 'creates in flight while setting up', positive, ENCODING_DEFAULTS.concurrency)
    .action(async (flags: CommonFlags & typeof ENCODING_DEFAULTS) => {
      const { runEncoding } = await import('./scenarios/encoding.ts');
      await finish([await runEncoding(commonOptions(flags), pick(flags, ENCODING_DEFAULTS))], flags);
    });

  withCommonFlags(bench.command('exec'))
    .description('the round trip of exec -- echo hi over WebSocket against a GET of the same pod, alternated (target: adds <= 20 ms)')
    .option('--execs <n>', 'measured round trips', positive, EXEC_DEFAULTS.execs)
    .option('--warmup <n>', 'round trips before measuring', count, EXEC_DEFAULTS.warmup)
    .action(async (flags: CommonFlags & typeof EXEC_DEFAULTS) => {
      const { runExec } = await import('./scenarios/exec.ts');
      await finish([await runExec(commonOptions(flags), pick(flags, EXEC_DEFAULTS))], flags);
    });

  withCommonFlags(bench.command('port-forward'))
    .description('MB/s uploaded through pods/portforward to a declared container port, against a direct loopback TCP copy (target: >= 50 MB/s)')
    .option('--megabytes <n>', 'MiB sent through the tunnel and through the direct copy', positive, PORT_FORWARD_DEFAULTS.megabytes)
    .option('--chunk-kib <n>', 'KiB per write', positive, PORT_FORWARD_DEFAULTS.chunkKib)
    .action(async (flags: CommonFlags & typeof PORT_FORWARD_DEFAULTS) => {
      const { runPortForward } = await import('./scenarios/port-forward.ts');
      await finish([await runPortForward(commonOptions(flags), pick(flags, PORT_FORWARD_DEFAULTS))], flags);
    });

  withCommonFlags(bench.command('metrics-scrape'))
    .description('GET /metrics of the API server with N pods stored: ms, bytes and server heap allocated per scrape (target: <= 100 ms at 150,000 pods)')
    .option('--pods <n>', 'pods stored before the measured scrapes', positive, METRICS_SCRAPE_DEFAULTS.pods)
    .option('--scrapes <n>', 'measured scrapes', positive, METRICS_SCRAPE_DEFAULTS.scrapes)
    .option('--concurrency <n>', 'creates in flight', positive, METRICS_SCRAPE_DEFAULTS.concurrency)
    .action(async (flags: CommonFlags & typeof METRICS_SCRAPE_DEFAULTS) => {
      const { runMetricsScrape } = await import('./scenarios/metrics-scrape.ts');
      await finish([await runMetricsScrape(commonOptions(flags), pick(flags, METRICS_SCRAPE_DEFAULTS))], flags);
    });

  withCommonFlags(bench.command('all'))
    .description(`every scenario at its default (full) size, in the order ${SCENARIOS.join(', ')}`)
    .action(async (flags: CommonFlags) => {
      const reports: ScenarioReport[] = [];
      for (const name of SCENARIOS) reports.push(await runNamed(name, commonOptions(flags)));
      await finish(reports, flags);
    });
}
