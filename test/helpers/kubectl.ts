// Runs the real kubectl binary against a test server: always with an explicit --kubeconfig and a
// private --cache-dir, so the developer's ~/.kube (and its 6-hour discovery cache for a port that
// an earlier run used) never leaks into a test. A missing kubectl is an error, never a skip.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface KubectlResult {
  stdout: string;
  stderr: string;
  code: number | null;
}

export interface KubectlRunOptions {
  /** Written to kubectl's stdin (for `-f -`). */
  input?: string;
  /** Kill kubectl after this long (default 60 s) so a hang fails the test instead of the runner. */
  timeoutMs?: number;
  /** Extra environment (e.g. KUBE_EDITOR for `edit`). */
  env?: Record<string, string>;
}

/** A long-running kubectl (e.g. `get -w`) whose output is read while it runs. */
export interface KubectlStream {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with all stdout so far once `pattern` matches it; rejects on timeout or early exit. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Kills kubectl (SIGTERM) and resolves once it has exited. */
  stop(): Promise<void>;
}

const liveStreams = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of liveStreams) child.kill('SIGKILL');
});

/** Throws a clear error when kubectl is not on PATH. Call it from `before` so the suite fails. */
export function requireKubectl(binary = 'kubectl'): void {
  const probe = spawnSync(binary, ['version', '--client'], { encoding: 'utf8' });
  if (probe.error) {
    throw new Error(`these tests need the real kubectl binary (${binary}), and running it failed: ${probe.error.message}`);
  }
  if (probe.status !== 0) throw new Error(`kubectl version --client exited ${probe.status}: ${probe.stderr}`);
}

export class Kubectl {
  private constructor(readonly kubeconfigPath: string, readonly cacheDir: string, readonly binary: string) {}

  /** `binary` picks an exact kubectl (e.g. /usr/lib/google-cloud-sdk/bin/kubectl.1.27); the default is the one on PATH. */
  static async create(kubeconfigPath: string, binary = 'kubectl'): Promise<Kubectl> {
    requireKubectl(binary);
    const cacheDir = await mkdtemp(join(tmpdir(), 'kubefacade-kubectl-cache-'));
    return new Kubectl(kubeconfigPath, cacheDir, binary);
  }

  private argv(args: string[]): string[] {
    return ['--kubeconfig', this.kubeconfigPath, '--cache-dir', this.cacheDir, ...args];
  }

  run(args: string[], options: KubectlRunOptions = {}): Promise<KubectlResult> {
    const child = spawn(this.binary, this.argv(args), { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...options.env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    child.stdin.end(options.input ?? '');
    return new Promise((resolveRun, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`kubectl ${args.join(' ')} did not finish in time\nstdout: ${stdout}\nstderr: ${stderr}`));
      }, options.timeoutMs ?? 60_000);
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      child.once('close', (code) => {
        clearTimeout(timer);
        resolveRun({ stdout, stderr, code });
      });
    });
  }

  /** Runs kubectl and throws (with its stderr) unless it exits 0; returns stdout. */
  async ok(args: string[], options: KubectlRunOptions = {}): Promise<string> {
    const result = await this.run(args, options);
    if (result.code !== 0) {
      throw new Error(`kubectl ${args.join(' ')} exited ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
    }
    return result.stdout;
  }

  stream(args: string[]): KubectlStream {
    const child = spawn(this.binary, this.argv(args), { stdio: ['ignore', 'pipe', 'pipe'] });
    liveStreams.add(child);
    let out = '';
    let err = '';
    let exited = false;
    const exit = new Promise<void>((done) => child.once('close', () => {
      exited = true;
      liveStreams.delete(child);
      done();
    }));
    const listeners = new Set<() => void>();
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      for (const listener of listeners) listener();
    });
    child.stderr?.on('data', (chunk: Buffer) => { err += chunk.toString(); });
    void exit.then(() => { for (const listener of listeners) listener(); });
    return {
      child,
      stdout: () => out,
      stderr: () => err,
      waitFor(pattern, timeoutMs = 20_000) {
        return new Promise((resolveWait, reject) => {
          const check = () => {
            if (pattern.test(out)) {
              cleanup();
              resolveWait(out);
            } else if (exited) {
              cleanup();
              reject(new Error(`kubectl ${args.join(' ')} exited before printing ${pattern}\nstdout: ${out}\nstderr: ${err}`));
            }
          };
          const timer = setTimeout(() => {
            cleanup();
            reject(new Error(`kubectl ${args.join(' ')} did not print ${pattern} in time\nstdout: ${out}\nstderr: ${err}`));
          }, timeoutMs);
          const cleanup = () => {
            clearTimeout(timer);
            listeners.delete(check);
          };
          listeners.add(check);
          check();
        });
      },
      async stop() {
        if (!exited) child.kill('SIGTERM');
        await exit;
      },
    };
  }

  async dispose(): Promise<void> {
    await rm(this.cacheDir, { recursive: true, force: true });
  }
}

/** Splits kubectl's column output into rows of cells (columns are separated by 2+ spaces). */
export function parseColumns(output: string): string[][] {
  return output.trimEnd().split('\n').filter((line) => line.trim() !== '').map((line) => line.trim().split(/\s{2,}/));
}
