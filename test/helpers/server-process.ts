// Runs `server/cli.ts server` as a child process, the way an operator runs it, so end-to-end tests
// can SIGKILL it and restart it on the same data dir and port. Readiness is checked the way a client
// sees it: `/readyz` over HTTPS, verified against the CA and credential from the written kubeconfig.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = join(REPO_ROOT, 'server', 'cli.ts');
// Generous: a first start generates keys and the bootstrap policy, and a busy 2-core machine is slow at it.
const READY_TIMEOUT_MS = 120_000;

export interface ServerProcess {
  readonly dataDir: string;
  readonly port: number;
  readonly url: string;
  readonly kubeconfigPath: string;
  /** A KubeConfig loaded from the server's admin kubeconfig (CA data + bearer token). */
  kubeConfig(): KubeConfig;
  /** Sends `signal` and resolves once the process has exited. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts the server again on the same data dir and port; resolves once /readyz answers. */
  restart(): Promise<void>;
  /** Stops the process (if running) and removes the data dir. Safe to call more than once. */
  dispose(): Promise<void>;
  /** What the server wrote to stdout/stderr since it was last started, for failure messages. */
  output(): string;
}

// Children still running when the test process exits (a crash, an uncaught assertion in a hook)
// would hold the port and the LevelDB lock for the next run, so they are killed on the way out.
const liveChildren = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of liveChildren) child.kill('SIGKILL');
});

/** A loopback port that was free a moment ago (the server binds it right after). */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolvePort(port));
    });
  });
}

/**
 * `serviceAccountAdmission`: keep the ServiceAccount plugin on (pods in `default` and kube-system, whose accounts the
 * server creates itself, get their token volume as on a cluster; pods in new namespaces would be refused).
 */
export async function startServerProcess(prefix = 'kubefacade-e2e-', options: { serviceAccountAdmission?: boolean } = {}): Promise<ServerProcess> {
  const dataDir = await mkdtemp(join(tmpdir(), prefix));
  const port = await freePort();
  const url = `https://127.0.0.1:${port}`;
  const kubeconfigPath = join(dataDir, 'admin.kubeconfig');
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let log = '';

  const launch = async (): Promise<void> => {
    log = '';
    const proc = spawn(process.execPath, ['--import', 'tsx', CLI, 'server', '--data-dir', dataDir, '--port', String(port),
      // No controller creates `default` service accounts beside a lone API server (see cluster-processes.ts).
      ...(options.serviceAccountAdmission ? [] : ['--disable-admission-plugins', 'ServiceAccount'])], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    liveChildren.add(proc);
    proc.stdout?.on('data', (chunk: Buffer) => { log += chunk.toString(); });
    proc.stderr?.on('data', (chunk: Buffer) => { log += chunk.toString(); });
    exited = new Promise((done) => proc.once('exit', () => {
      liveChildren.delete(proc);
      if (child === proc) child = undefined;
      done();
    }));
    await waitReady(() => child === proc, kubeconfigPath, url, () => log);
  };

  const kill = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<void> => {
    const proc = child;
    if (!proc) return;
    proc.kill(signal);
    await exited;
  };

  try {
    await launch();
  } catch (err) {
    await kill('SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }

  return {
    dataDir, port, url, kubeconfigPath,
    kubeConfig() {
      const config = new KubeConfig();
      config.loadFromFile(kubeconfigPath);
      return config;
    },
    kill,
    async restart() {
      if (child) throw new Error('restart: the server process is still running; kill it first');
      await launch();
    },
    async dispose() {
      await kill('SIGKILL');
      await rm(dataDir, { recursive: true, force: true });
    },
    output: () => log,
  };
}

async function waitReady(running: () => boolean, kubeconfigPath: string, url: string, log: () => string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let lastError = 'no attempt yet';
  while (Date.now() < deadline) {
    if (!running()) throw new Error(`kubefacade server exited before it was ready:\n${log()}`);
    if (existsSync(kubeconfigPath)) {
      try {
        const status = await getReadyz(kubeconfigPath, url);
        if (status === 200) return;
        lastError = `/readyz answered ${status}`;
      } catch (err) {
        lastError = err instanceof Error ? err.message : String(err);
      }
    }
    await new Promise((done) => setTimeout(done, 100));
  }
  throw new Error(`kubefacade server not ready after ${READY_TIMEOUT_MS} ms (${lastError}):\n${log()}`);
}

function getReadyz(kubeconfigPath: string, url: string): Promise<number> {
  const config = new KubeConfig();
  config.loadFromFile(kubeconfigPath);
  const cluster = config.getCurrentCluster();
  const token = config.getCurrentUser()?.token;
  if (!cluster?.caData) throw new Error(`${kubeconfigPath} carries no certificate-authority-data`);
  const ca = Buffer.from(cluster.caData, 'base64');
  return new Promise((resolveStatus, reject) => {
    const req = request(`${url}/readyz`, {
      ca,
      headers: token ? { Authorization: `Bearer ${token}` } : {},
      timeout: 2_000,
    }, (res) => {
      res.resume();
      res.on('end', () => resolveStatus(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy(new Error('/readyz timed out')));
    req.on('error', reject);
    req.end();
  });
}
