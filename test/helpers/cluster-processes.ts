// Runs kubefacade's CLI subcommands (`up`, `kubelet`, `scheduler`, `controllers`) as child processes, the way an
// operator starts them, so tests can read what they print, SIGKILL one, and start it again. Children still alive
// when the test process exits (a failed hook, an uncaught error) are killed on the way out: they would otherwise
// keep loopback ports and the data dir's LevelDB lock for the next run.
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = join(REPO_ROOT, 'server', 'cli.ts');

const liveChildren = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of liveChildren) child.kill('SIGKILL');
});

export interface CliProcess {
  readonly child: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves with the first match of `pattern` in the output; rejects if the process exits first or on timeout. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Sends `signal` (SIGTERM by default) unless the process has exited, and resolves once it has. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  readonly exited: Promise<number | null>;
}

/** `node --import tsx server/cli.ts <args>` from the repository root. */
export function startCli(args: string[]): CliProcess {
  // `up` serves the web view on a fixed port by default: suites running side by side take any free one.
  if ((args[0] === 'up' || args[0] === 'server') && !args.includes('--ui-port')) args = [...args, '--ui-port', '0'];
  // An API server alone runs no controller that creates each namespace's `default` service account, so the
  // ServiceAccount admission plugin would refuse every pod there; kube's own integration tests turn it off the same way.
  if (args[0] === 'server' && !args.includes('--disable-admission-plugins')) args = [...args, '--disable-admission-plugins', 'ServiceAccount'];
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  liveChildren.add(child);
  let log = '';
  let hasExited = false;
  const listeners = new Set<() => void>();
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => {
    hasExited = true;
    liveChildren.delete(child);
    for (const listener of listeners) listener();
    done(code);
  }));
  const append = (chunk: Buffer): void => {
    log += chunk.toString();
    for (const listener of listeners) listener();
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  return {
    child,
    exited,
    output: () => log,
    waitForOutput(pattern, timeoutMs = 60_000) {
      return new Promise((resolveMatch, reject) => {
        const check = (): void => {
          const match = log.match(pattern);
          if (match) finish(() => resolveMatch(match));
          else if (hasExited) finish(() => reject(new Error(`kubefacade ${args[0]} exited before printing ${pattern}:\n${log}`)));
        };
        const timer = setTimeout(() => finish(() => reject(new Error(`kubefacade ${args[0]} did not print ${pattern} in time:\n${log}`))), timeoutMs);
        const finish = (settle: () => void): void => {
          clearTimeout(timer);
          listeners.delete(check);
          settle();
        };
        listeners.add(check);
        check();
      });
    },
    async kill(signal: NodeJS.Signals = 'SIGTERM') {
      if (!hasExited) child.kill(signal);
      await exited;
    },
  };
}

/** Polls `probe` until it returns something other than undefined; a thrown error counts as "not yet". */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`gave up waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`);
    }
    await new Promise((done) => setTimeout(done, 100));
  }
}

/** True when the dotted IPv4 address lies in the CIDR block. */
export function ipInCidr(ip: string, cidr: string): boolean {
  const toNumber = (address: string): number => address.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0);
  const [base, bits] = cidr.split('/');
  const size = 2 ** (32 - Number(bits));
  return Math.floor(toNumber(ip) / size) === Math.floor(toNumber(base) / size);
}
