// The cluster under test as separate OS processes, each started through the real CLI
// (`kubefacade server|scheduler|kubelet`), so every component's memory is its own (/proc RSS)
// and a CPU profile can be taken of the API server alone. Logs go to files in the run directory.

import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BenchClient } from './http-client.ts';
import { readClientTarget, type ClientTarget } from './kubeconfig.ts';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(REPO_ROOT, 'server', 'cli.ts');
const BUILT_CLI = path.join(REPO_ROOT, 'bin', 'kubefacade.js');
/**
 * Whether components run from the built package (`bin/kubefacade.js` → dist/, as `npx kubefacade` runs) rather
 * than the sources through tsx. Set once by the bench CLI (`--built`) before any component starts; a tsx-run
 * process carries the loader's own heap and worker thread (~100 MiB of RSS), which memory figures would count.
 */
let componentsBuilt = false;

export function useBuiltComponents(built: boolean): void {
  if (built && !existsSync(path.join(REPO_ROOT, 'dist', 'cli.js'))) throw new Error('--built needs the package built first: npm run build');
  componentsBuilt = built;
}

export interface MemoryReading {
  rssBytes: number;
  /** Highest RSS the process has had (VmHWM). */
  peakRssBytes: number;
}

export interface ComponentProcess {
  name: string;
  pid: number;
  logFile: string;
  memory(): MemoryReading | undefined;
  /** SIGTERM, then SIGKILL after `graceMs`. Resolves once the process has exited. */
  stop(graceMs?: number): Promise<void>;
  readonly exited: boolean;
}

export interface SpawnOptions {
  /** Extra node flags (heap size, --cpu-prof ...). */
  nodeArgs?: string[];
  logDir: string;
}

/** Reads VmRSS and VmHWM from /proc (Linux); undefined where /proc is not there or the process is gone. */
export function readMemory(pid: number): MemoryReading | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
    return { rssBytes: field('VmRSS'), peakRssBytes: field('VmHWM') };
  } catch {
    return undefined;
  }
}

/**
 * CPU time (user + system, seconds) the process has used so far, from /proc/<pid>/stat (Linux; clock ticks
 * at USER_HZ, which is 100 on every Linux the kernel ABI allows); undefined where /proc is not there.
 */
export function readCpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces, hence the last ')'): state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

/** Components still running: an interrupted bench (Ctrl-C) must not leave servers and kubelets behind. */
const liveChildren = new Set<ChildProcess>();
let interruptHandled = false;

function stopChildrenOnInterrupt(): void {
  if (interruptHandled) return;
  interruptHandled = true;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      for (const child of liveChildren) child.kill('SIGKILL');
      process.exit(signal === 'SIGINT' ? 130 : 143);
    });
  }
}

export function spawnComponent(name: string, args: string[], options: SpawnOptions): ComponentProcess {
  stopChildrenOnInterrupt();
  const logFile = path.join(options.logDir, `${name}.log`);
  const fd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    const entry = componentsBuilt ? [BUILT_CLI] : ['--import', 'tsx', CLI];
    child = spawn(process.execPath, [...(options.nodeArgs ?? []), ...entry, ...args], {
      cwd: REPO_ROOT, stdio: ['ignore', fd, fd],
    });
  } finally {
    closeSync(fd);
  }
  let exited = false;
  let lastPeak: MemoryReading | undefined;
  liveChildren.add(child);
  const exit = new Promise<void>((resolve) => child.once('exit', () => { exited = true; liveChildren.delete(child); resolve(); }));
  if (child.pid === undefined) throw new Error(`could not start ${name}`);
  const pid = child.pid;
  return {
    name, pid, logFile,
    get exited() { return exited; },
    memory() {
      // Keep the last reading: after exit /proc is gone, but the peak is still worth reporting.
      const reading = exited ? undefined : readMemory(pid);
      if (reading) lastPeak = reading;
      return reading ?? lastPeak;
    },
    async stop(graceMs = 15_000) {
      if (exited) return;
      this.memory();
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exit;
      clearTimeout(timer);
    },
  };
}

export interface ServerProcess extends ComponentProcess {
  kubeconfigPath: string;
  target: ClientTarget;
}

/** `kubefacade server` on a free loopback port; resolves once /readyz answers. */
export async function startServerProcess(dataDir: string, options: SpawnOptions, timeoutMs = 120_000): Promise<ServerProcess> {
  const component = spawnComponent('server', ['server', '--data-dir', dataDir, '--bind', '127.0.0.1', '--port', '0',
    // The bench runs no controller that creates `default` service accounts, so the plugin would refuse every pod.
    '--disable-admission-plugins', 'ServiceAccount'], options);
  const kubeconfigPath = path.join(dataDir, 'admin.kubeconfig');
  const deadline = Date.now() + timeoutMs;
  try {
    while (!existsSync(kubeconfigPath)) {
      if (component.exited) throw new Error(`the API server exited during start; see ${component.logFile}`);
      if (Date.now() > deadline) throw new Error(`the API server did not write ${kubeconfigPath} in time; see ${component.logFile}`);
      await sleep(100);
    }
    // The file may be mid-write: retry parsing until it reads whole.
    let target: ClientTarget | undefined;
    while (!target) {
      try {
        target = await readClientTarget(kubeconfigPath);
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await sleep(100);
      }
    }
    await waitReady(target, deadline);
    return Object.assign(component, { kubeconfigPath, target });
  } catch (error) {
    await component.stop(2_000);
    throw error;
  }
}

async function waitReady(target: ClientTarget, deadline: number): Promise<void> {
  const client = new BenchClient(target, 1);
  try {
    for (;;) {
      try {
        const reply = await client.request('GET', '/readyz');
        if (reply.status === 200) return;
      } catch (error) {
        if (Date.now() > deadline) throw error;
      }
      if (Date.now() > deadline) throw new Error('the API server did not become ready in time');
      await sleep(100);
    }
  } finally {
    client.close();
  }
}

/** utime + stime of a process in seconds (Linux /proc), or undefined elsewhere. */
export function cpuSeconds(pid: number): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Node flags for a CPU profile written into `dir` when the process exits. */
export function cpuProfileArgs(dir: string | undefined): string[] {
  return dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : [];
}
