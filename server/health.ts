// /healthz, /livez and /readyz as kube-apiserver's healthz package serves them: "ok" when every
// check passes; with ?verbose one `[+]name ok` line per check and `<endpoint> check passed`; on a
// failure 500 with the listing (`[-]name failed: reason withheld`) and `<endpoint> check failed`;
// /readyz/<check> runs one check (`internal server error: <reason>` on failure); ?exclude=<check>
// skips one. The storage check is named `etcd` as upstream names its storage check, whichever
// backend is configured: it fails while writes to the store fail (a full disk), so a load balancer
// or kubectl sees the server unready. /livez leaves it out: restarting the process does not make a
// full disk writable (the restart itself failed with ENOSPC in the original report).

import type { Response } from 'express';
import type { StorageHealth } from '../storage/interface.ts';

export interface HealthCheck {
  name: string;
  /** undefined when healthy, else the reason. */
  check(): string | undefined;
}

export function healthChecks(storageHealth: () => StorageHealth): Record<'/healthz' | '/livez' | '/readyz', HealthCheck[]> {
  const ping: HealthCheck = { name: 'ping', check: () => undefined };
  const log: HealthCheck = { name: 'log', check: () => undefined };
  const storage: HealthCheck = {
    name: 'etcd',
    check: () => {
      const health = storageHealth();
      return health.healthy ? undefined : health.reason;
    },
  };
  return { '/healthz': [ping, log, storage], '/livez': [ping, log], '/readyz': [ping, log, storage] };
}

function plainText(res: Response, status: number, body: string): void {
  res.status(status);
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.send(body);
}

/** Serves `path` (an endpoint or endpoint/check) if it is a health path; false otherwise. */
export function serveHealth(res: Response, path: string, url: URL, endpoints: Record<string, HealthCheck[]>): boolean {
  const endpoint = Object.keys(endpoints).find((name) => path === name || path.startsWith(`${name}/`));
  if (!endpoint) return false;
  const checks = endpoints[endpoint];
  const name = endpoint.slice(1);
  if (path !== endpoint) {
    const check = checks.find((c) => path === `${endpoint}/${c.name}`);
    // No such check: the caller answers kube-apiserver's NotFound Status, as for any unknown path.
    if (!check) return false;
    const failure = check.check();
    if (failure === undefined) plainText(res, 200, 'ok');
    else plainText(res, 500, `internal server error: ${failure}\n`);
    return true;
  }
  const excluded = new Set(url.searchParams.getAll('exclude'));
  let listing = '';
  let failed = false;
  for (const check of checks) {
    if (excluded.delete(check.name)) {
      listing += `[+]${check.name} excluded: ok\n`;
      continue;
    }
    if (check.check() === undefined) listing += `[+]${check.name} ok\n`;
    else {
      failed = true;
      listing += `[-]${check.name} failed: reason withheld\n`;
    }
  }
  if (excluded.size > 0) listing += `warn: some health checks cannot be excluded: no matches for ${[...excluded].sort().map((e) => `"${e}"`).join(',')}\n`;
  if (failed) plainText(res, 500, `${listing}${name} check failed\n`);
  else if (url.searchParams.has('verbose')) plainText(res, 200, `${listing}${name} check passed\n`);
  else plainText(res, 200, 'ok');
  return true;
}
