// Leader election over a coordination.k8s.io/v1 Lease, as client-go's tools/leaderelection does it,
// so that of several scheduler (or controller) processes exactly one is active. Every candidate
// tries every retryPeriod to acquire the Lease: it may take it when nobody holds it or when the
// holder has not renewed it for leaseDuration, measured on the candidate's own clock from when it
// last saw the Lease change (clock skew between machines does not matter). The holder renews every
// retryPeriod; if it cannot renew for renewDeadline it stops its work before the lease can expire
// for the others. Updates carry the Lease's resourceVersion, so two candidates can never both win.
// It speaks only the Kubernetes API (client-node), so it works against any API server.

import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { CoordinationV1Api, KubeConfig, type V1Lease, type V1LeaseSpec } from '@kubernetes/client-node';

export interface LeaderElectionLogger {
  info(message: string): void;
  warn(message: string): void;
}

export interface LeaderElectionOptions {
  kubeconfigPath: string;
  /** The Lease's name: kube-scheduler, kube-controller-manager, ... */
  leaseName: string;
  /** Default kube-system. */
  leaseNamespace?: string;
  /** Default `<hostname>_<uuid>`, as kube components name themselves. */
  identity?: string;
  /** How long a holder's lease lasts without renewal (default 15 s). */
  leaseDurationMs?: number;
  /** How long the holder keeps retrying a failed renewal before it gives up leading (default 10 s). */
  renewDeadlineMs?: number;
  /** Time between attempts to acquire or renew (default 2 s). */
  retryPeriodMs?: number;
  /** On stop, hand the lease back (holder cleared, 1 s duration) so another candidate takes over at once (default true). */
  releaseOnCancel?: boolean;
  logger?: LeaderElectionLogger;
}

/** The work done while leading: started on winning, stopped on losing or on stop(). */
export interface LeaderWork {
  stop(): Promise<void>;
}

export interface LeaderElectedComponent {
  readonly identity: string;
  isLeader(): boolean;
  /** Stops the work (if leading), releases the lease (if configured) and stops campaigning. */
  stop(): Promise<void>;
}

const JITTER_FACTOR = 1.2;

/** MicroTime as the API carries it: RFC 3339 with six fractional digits (a Date only has milliseconds). */
function microTime(date?: Date): string {
  if (date) return `${date.toISOString().slice(0, 23)}000Z`;
  const micros = Math.floor((performance.timeOrigin + performance.now()) * 1000);
  return `${new Date(Math.floor(micros / 1000)).toISOString().slice(0, 19)}.${String(micros % 1_000_000).padStart(6, '0')}Z`;
}

function timeText(value: Date | string | undefined): string | undefined {
  if (value === undefined) return undefined;
  return value instanceof Date ? microTime(value) : value;
}

function statusCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'number' ? code : undefined;
}

/** Settles like `work`, or rejects after `ms` (the request may still finish in the background). */
function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

export class LeaderElector {
  readonly identity: string;
  private readonly api: CoordinationV1Api;
  private readonly namespace: string;
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  /** The Lease as last read or written by us (its resourceVersion makes our updates conditional). */
  private lease: V1Lease | undefined;
  /** performance.now() when the Lease was last seen to change: leases expire on our own clock. */
  private observedAt = 0;
  private observedVersion: string | undefined;
  /** The acquireTime we wrote, verbatim (client-node reads it back as a Date, which drops the microseconds). */
  private acquireTime: string | undefined;

  constructor(private readonly options: LeaderElectionOptions) {
    this.identity = options.identity ?? `${os.hostname()}_${randomUUID()}`;
    this.namespace = options.leaseNamespace ?? 'kube-system';
    this.leaseDurationMs = options.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    const retryPeriodMs = options.retryPeriodMs ?? 2_000;
    if (this.leaseDurationMs <= this.renewDeadlineMs) throw new Error('leaseDuration must be greater than renewDeadline');
    if (this.renewDeadlineMs <= JITTER_FACTOR * retryPeriodMs) throw new Error('renewDeadline must be greater than retryPeriod*1.2');
    const config = new KubeConfig();
    config.loadFromFile(options.kubeconfigPath);
    this.api = config.makeApiClient(CoordinationV1Api);
  }

  isLeader(): boolean {
    return this.lease?.spec?.holderIdentity === this.identity;
  }

  /** One attempt (client-go's tryAcquireOrRenew): true when we hold the lease afterwards. */
  async tryAcquireOrRenew(): Promise<boolean> {
    const now = microTime();
    const name = this.options.leaseName;
    const record: V1LeaseSpec = {
      holderIdentity: this.identity,
      leaseDurationSeconds: Math.round(this.leaseDurationMs / 1000),
      acquireTime: now as unknown as Date,
      renewTime: now as unknown as Date,
      leaseTransitions: 0,
    };
    let current: V1Lease;
    try {
      current = await withTimeout(this.api.readNamespacedLease({ name, namespace: this.namespace }), this.renewDeadlineMs);
    } catch (error) {
      if (statusCode(error) !== 404) return false;
      try {
        const body: V1Lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace: this.namespace }, spec: record };
        this.observe(await withTimeout(this.api.createNamespacedLease({ namespace: this.namespace, body }), this.renewDeadlineMs));
        this.acquireTime = String(record.acquireTime);
        return true;
      } catch {
        return false;
      }
    }
    this.observe(current);
    const spec = current.spec ?? {};
    const held = Boolean(spec.holderIdentity) && spec.holderIdentity !== this.identity;
    const expiresAt = this.observedAt + (spec.leaseDurationSeconds ?? 0) * 1000;
    if (held && performance.now() < expiresAt) return false;
    if (spec.holderIdentity === this.identity) {
      record.acquireTime = (this.acquireTime ?? timeText(spec.acquireTime)) as unknown as Date;
      record.leaseTransitions = spec.leaseTransitions ?? 0;
    } else {
      record.leaseTransitions = (spec.leaseTransitions ?? 0) + 1;
    }
    try {
      const body: V1Lease = { ...current, spec: { ...spec, ...record } };
      this.observe(await withTimeout(this.api.replaceNamespacedLease({ name, namespace: this.namespace, body }), this.renewDeadlineMs));
      this.acquireTime = String(record.acquireTime);
      return true;
    } catch {
      // 409: someone else wrote the Lease since we read it; the next attempt re-reads it.
      return false;
    }
  }

  /** Hands the lease back: holder cleared and a 1 s duration, so a candidate may take it right away. */
  async release(): Promise<void> {
    if (!this.isLeader() || !this.lease) return;
    const now = microTime();
    const spec: V1LeaseSpec = {
      ...this.lease.spec, holderIdentity: '', leaseDurationSeconds: 1,
      acquireTime: now as unknown as Date, renewTime: now as unknown as Date,
    };
    try {
      const body: V1Lease = { ...this.lease, spec };
      this.observe(await withTimeout(this.api.replaceNamespacedLease({ name: this.options.leaseName, namespace: this.namespace, body }), this.renewDeadlineMs));
    } catch (error) {
      this.options.logger?.warn(`failed to release lease ${this.namespace}/${this.options.leaseName}: ${String(error)}`);
    }
  }

  private observe(lease: V1Lease): void {
    const version = lease.metadata?.resourceVersion;
    if (version !== this.observedVersion) {
      this.observedVersion = version;
      this.observedAt = performance.now();
    }
    this.lease = lease;
  }
}

/**
 * Campaigns for the lease and runs `start()`'s work while leading. Losing the lease stops the
 * work and the process campaigns again (client-go components exit instead; in one process with
 * other components, carrying on as a candidate is the friendlier equivalent).
 */
export function runLeaderElected(options: LeaderElectionOptions, start: () => Promise<LeaderWork>): LeaderElectedComponent {
  const elector = new LeaderElector(options);
  const retryPeriodMs = options.retryPeriodMs ?? 2_000;
  const renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
  const logger = options.logger;
  const lease = `${options.leaseNamespace ?? 'kube-system'}/${options.leaseName}`;
  let stopped = false;
  let wake: (() => void) | undefined;
  const sleep = (ms: number): Promise<void> => new Promise((resolve) => {
    const timer = setTimeout(() => { wake = undefined; resolve(); }, ms);
    wake = () => { clearTimeout(timer); wake = undefined; resolve(); };
  });

  const campaign = async (): Promise<void> => {
    while (!stopped) {
      logger?.info(`attempting to acquire leader lease ${lease}...`);
      while (!stopped && !(await elector.tryAcquireOrRenew())) await sleep(retryPeriodMs * (1 + Math.random() * JITTER_FACTOR));
      if (stopped) break;
      logger?.info(`successfully acquired lease ${lease} as ${elector.identity}`);
      // Renewal starts at once, not after the work has started: a slow start (informers listing
      // from a struggling API server) must not let the lease lapse while we act as leader.
      let startFailed = false;
      const starting = start().catch((error: unknown) => {
        logger?.warn(`starting the leader's work failed: ${String(error)}`);
        startFailed = true;
        return undefined;
      });
      let renewedAt = performance.now();
      while (!stopped && !startFailed) {
        await sleep(retryPeriodMs);
        if (stopped || startFailed) break;
        if (await elector.tryAcquireOrRenew()) {
          renewedAt = performance.now();
        } else if (!elector.isLeader() || performance.now() - renewedAt >= renewDeadlineMs) {
          logger?.warn(`leaderelection lost: ${lease}`);
          break;
        }
      }
      const work = await starting;
      await work?.stop().catch((error: unknown) => logger?.warn(`stopping the leader's work failed: ${String(error)}`));
      if (startFailed && !stopped) await sleep(retryPeriodMs);
    }
    if (options.releaseOnCancel ?? true) await elector.release();
  };
  const running = campaign();

  return {
    identity: elector.identity,
    isLeader: () => elector.isLeader(),
    async stop() {
      stopped = true;
      wake?.();
      await running;
    },
  };
}
