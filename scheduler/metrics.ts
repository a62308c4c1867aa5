// The scheduler's own metrics (pkg/scheduler/metrics, the STABLE ones kube-scheduler's dashboards read), through
// prom-client in a registry of its own (the API server's registry lives in the same process under `up`):
// scheduler_schedule_attempts_total{result,profile}, scheduler_scheduling_attempt_duration_seconds{result,profile}
// (scheduling algorithm + binding; ExponentialBuckets(0.001, 2, 15)) and scheduler_pending_pods{queue}.
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { generateEcKeyPair, issueCertificate } from '../auth/x509.ts';
import { ALWAYS_ALLOW_PATHS, type DelegatedAuth } from '../clients/delegated-auth.ts';

export type AttemptResult = 'scheduled' | 'unschedulable' | 'error';

export interface PendingCounts {
  active: number;
  backoff: number;
  unschedulable: number;
}

export class SchedulerMetrics {
  readonly registry = new Registry();
  private readonly attempts: Counter<'result' | 'profile'>;
  private readonly duration: Histogram<'result' | 'profile'>;

  constructor(private readonly profile: string, pending: () => PendingCounts) {
    this.attempts = new Counter({
      name: 'scheduler_schedule_attempts_total',
      help: "[STABLE] Number of attempts to schedule pods, by the result. 'unschedulable' means a pod could not be scheduled, while 'error' means an internal scheduler problem.",
      labelNames: ['result', 'profile'], registers: [this.registry],
    });
    this.duration = new Histogram({
      name: 'scheduler_scheduling_attempt_duration_seconds',
      help: '[STABLE] Scheduling attempt latency in seconds (scheduling algorithm + binding)',
      labelNames: ['result', 'profile'], buckets: Array.from({ length: 15 }, (_, i) => 0.001 * 2 ** i), registers: [this.registry],
    });
    new Gauge({
      name: 'scheduler_pending_pods',
      help: "[STABLE] Number of pending pods, by the queue type. 'active' means number of pods in activeQ; 'backoff' means number of pods in backoffQ; 'unschedulable' means number of pods in unschedulablePods that the scheduler attempted to schedule and failed; 'gated' is the number of unschedulable pods that the scheduler never attempted to schedule because they are gated.",
      labelNames: ['queue'], registers: [this.registry],
      collect() {
        const counts = pending();
        this.set({ queue: 'active' }, counts.active);
        this.set({ queue: 'backoff' }, counts.backoff);
        this.set({ queue: 'unschedulable' }, counts.unschedulable);
        this.set({ queue: 'gated' }, 0);
      },
    });
  }

  /** One attempt, from the start of its scheduling cycle (performance.now()) to its outcome (binding included). */
  attempt(result: AttemptResult, startedAt: number): void {
    this.attempts.inc({ result, profile: this.profile });
    this.duration.observe({ result, profile: this.profile }, (performance.now() - startedAt) / 1000);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}

/**
 * kube-scheduler's secure port: HTTPS with a self-signed certificate generated at start (kube-scheduler's default
 * without --tls-cert-file), callers authenticated and authorised by delegation to the API server
 * (clients/delegated-auth.ts): GET /metrics needs `get` on the non-resource URL /metrics (system:monitoring has it);
 * /healthz, /readyz and /livez are open to anyone.
 */
export async function serveSchedulerMetrics(metrics: SchedulerMetrics, host: string, port: number, auth: DelegatedAuth): Promise<{ port: number; close(): Promise<void> }> {
  const cert = selfSignedServingCert(host);
  const server: Server = createServer({ cert: cert.certPem, key: cert.keyPem }, (request, response) => {
    const path = new URL(request.url ?? '/', 'https://scheduler').pathname;
    auth.check(request.method ?? 'GET', path, request.headers.authorization).then((refused) => {
      if (refused) {
        response.writeHead(refused.status, { 'Content-Type': 'application/json', 'X-Content-Type-Options': 'nosniff' }).end(`${refused.body}\n`);
        return;
      }
      if (request.method !== 'GET' || !['/metrics', ...ALWAYS_ALLOW_PATHS].includes(path)) {
        response.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('404 page not found\n');
        return;
      }
      if (path !== '/metrics') {
        response.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' }).end('ok');
        return;
      }
      return metrics.text().then((text) => response.writeHead(200, { 'Content-Type': metrics.registry.contentType }).end(text));
    }).catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' }).end(String(error));
      else response.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** A self-signed certificate for the port's host (and localhost, the loopback addresses), as kube-scheduler makes one. */
function selfSignedServingCert(host: string): { certPem: string; keyPem: string } {
  const { publicKeyPem, privateKeyPem } = generateEcKeyPair();
  const names = new Set(['localhost', '127.0.0.1', '::1']);
  if (host && host !== '0.0.0.0' && host !== '::') names.add(host);
  const certPem = issueCertificate({
    commonName: `localhost@${Math.floor(Date.now() / 1000)}`, publicKeyPem, days: 365, isCa: false,
    keyUsage: { digitalSignature: true, keyEncipherment: true }, extKeyUsage: ['serverAuth'], subjectAltNames: [...names],
  }, { privateKeyPem });
  return { certPem, keyPem: privateKeyPem };
}
