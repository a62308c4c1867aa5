// /healthz, /livez and /readyz as k8s.io/apiserver/pkg/server/healthz serves them: "ok", or with
// ?verbose one line per check ("[+]ping ok") and "<name> check passed"; ?exclude=<check> skips a
// check; a failing check makes the answer 500 with every line and "<name> check failed" (the reason is
// withheld, since these paths are public); /<endpoint>/<check> runs one check ("ok", or 500
// "internal server error: <reason>").

import type { Response } from 'express';

export interface HealthCheck {
  name: string;
  /** Resolves when healthy; rejects (or throws) with the reason otherwise. */
  check(): Promise<void> | void;
}

export type HealthEndpoint = 'healthz' | 'livez' | 'readyz';

export interface HealthChecks {
  healthz: HealthCheck[];
  livez: HealthCheck[];
  readyz: HealthCheck[];
}

export interface HealthState {
  /** Whether the storage answers (kube-apiserver's etcd check). */
  storageResponds(): Promise<void>;
  /** Whether the server is shutting down (readyz's shutdown check fails then, as upstream's does). */
  shuttingDown(): boolean;
}

/** How long the storage may take to answer before its check fails (upstream's etcd check: 2 s by default). */
const STORAGE_CHECK_TIMEOUT_MS = 2000;

function withTimeout(promise: Promise<void>, ms: number, what: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms}ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The checks each endpoint runs, named as kube-apiserver names the corresponding ones. */
export function apiServerHealthChecks(state: HealthState): HealthChecks {
  const ping: HealthCheck = { name: 'ping', check: () => undefined };
  // Upstream's log check fails when the log flusher is stuck; here logging is synchronous stderr writes.
  const log: HealthCheck = { name: 'log', check: () => undefined };
  const storage: HealthCheck = { name: 'etcd', check: () => withTimeout(state.storageResponds(), STORAGE_CHECK_TIMEOUT_MS, 'storage') };
  const storageReadiness: HealthCheck = { name: 'etcd-readiness', check: storage.check };
  const shutdown: HealthCheck = {
    name: 'shutdown',
    check: () => {
      if (state.shuttingDown()) throw new Error('process is shutting down');
    },
  };
  return {
    healthz: [ping, log, storage],
    livez: [ping, log, storage],
    readyz: [ping, log, storage, storageReadiness, shutdown],
  };
}

/** Which endpoint and check a path names, or undefined when it is none of them. */
export function healthPath(path: string): { endpoint: HealthEndpoint; check?: string } | undefined {
  for (const endpoint of ['healthz', 'livez', 'readyz'] as const) {
    if (path === `/${endpoint}`) return { endpoint };
    if (path.startsWith(`/${endpoint}/`)) return { endpoint, check: path.slice(endpoint.length + 2) };
  }
  return undefined;
}

async function run(check: HealthCheck): Promise<Error | undefined> {
  try {
    await check.check();
    return undefined;
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}

function sendText(res: Response, status: number, body: string): void {
  res.status(status);
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.end(body);
}

/**
 * Serves one health path. Returns false when `check` names no installed check (the caller answers 404,
 * as upstream's mux does).
 */
export async function serveHealth(
  res: Response, checks: HealthChecks, endpoint: HealthEndpoint, checkName: string | undefined, query: URLSearchParams,
  log: (line: string) => void = () => undefined,
): Promise<boolean> {
  const installed = checks[endpoint];
  if (checkName !== undefined) {
    const check = installed.find((candidate) => candidate.name === checkName);
    if (!check) return false;
    const failure = await run(check);
    // http.Error appends a newline; a success is the bare "ok".
    if (failure) sendText(res, 500, `internal server error: ${failure.message}\n`);
    else sendText(res, 200, 'ok');
    return true;
  }
  const excluded = new Set(query.getAll('exclude'));
  let lines = '';
  const failed: string[] = [];
  for (const check of installed) {
    if (excluded.delete(check.name)) {
      lines += `[+]${check.name} excluded: ok\n`;
      continue;
    }
    const failure = await run(check);
    if (failure) {
      lines += `[-]${check.name} failed: reason withheld\n`;
      failed.push(check.name);
      log(`${endpoint}: [-]${check.name} failed: ${failure.message}`);
    } else {
      lines += `[+]${check.name} ok\n`;
    }
  }
  if (excluded.size > 0) {
    lines += `warn: some health checks cannot be excluded: no matches for ${[...excluded].sort().map((name) => JSON.stringify(name)).join(',')}\n`;
  }
  if (failed.length > 0) {
    sendText(res, 500, `${lines}${endpoint} check failed\n`);
    return true;
  }
  sendText(res, 200, query.has('verbose') ? `${lines}${endpoint} check passed\n` : 'ok');
  return true;
}
