// The options of startApiServer and startCluster: every `kubefacade server` / `up` flag as a typed
// field, checked here (a KubefacadeOptionError names the first bad one) and turned into what
// server/start.ts and server/up.ts take. The CLI builds these same objects from its flags.

import type { HorizontalControllerOptions } from '../controllers/podautoscaler/horizontal-controller.ts';
import { parseEtcdServers } from '../storage/etcd-servers.ts';
import { DEFAULT_FLOW_CONTROL } from '../server/flow-control/filter.ts';
import { KubefacadeOptionError } from './errors.ts';
import { clusterIPRanges, nodePortRange } from '../api/registry/service-ranges.ts';

/** A request as the API server logs it (`log` option). */
export interface RequestLogLine {
  verb: string;
  path: string;
  status: number;
  latencyMs: number;
  user: string;
}

/** etcd v3 as the store (kube-apiserver's --etcd-servers, --etcd-prefix, --etcd-compaction-interval). */
export interface EtcdStorageOption {
  /** Client URLs, e.g. `http://127.0.0.1:2379`; a string may list several, comma-separated. */
  etcd: string | string[];
  /** Prefix of every key (default `/registry`). */
  prefix?: string;
  /** How often history is compacted, in ms (default 5 minutes; 0 disables). */
  compactionIntervalMs?: number;
}

/**
 * Where objects are stored: `'memory'` (nothing on disk, gone at stop; the default), `{ leveldb: dir }`
 * (LevelDB in `dir/db`, kept across restarts), or `{ etcd: servers }`.
 */
export type StorageOption = 'memory' | { leveldb: string } | EtcdStorageOption;

/** Options of startApiServer (and of startCluster, which adds the node options). */
export interface ApiServerOptions {
  /** Default `'memory'`. */
  storage?: StorageOption;
  /**
   * Directory for the PKI, the admin token and the kubeconfigs. Default: the LevelDB directory with
   * `{ leveldb: dir }`, otherwise a new temporary directory that stop() removes.
   */
  dataDir?: string;
  /** Address to listen on (--bind-address; default 127.0.0.1). */
  bind?: string;
  /** HTTPS port (--secure-port); default 0: a free port chosen by the OS, read it from `url`. */
  port?: number;
  /** Extra subject alternative names of the serving certificate (--tls-san). */
  tlsSans?: string[];
  /** Serving certificate and key (PEM files) instead of generated ones; both or neither. */
  tlsCertFile?: string;
  tlsPrivateKeyFile?: string;
  /** Static bearer tokens, kube-apiserver's CSV format (--token-auth-file). */
  tokenAuthFile?: string;
  /** Requests without credentials are system:anonymous (--anonymous-auth; default false). */
  anonymousAuth?: boolean;
  /** /healthz, /livez, /readyz and /version readable without credentials (--anonymous-public-info; default true). */
  anonymousPublicInfo?: boolean;
  /** One audit.k8s.io/v1 event per request as JSON lines; `-` for stdout (--audit-log-path). */
  auditLogPath?: string;
  /** An audit.k8s.io/v1 Policy file (--audit-policy-file); default: every request at level Metadata. */
  auditPolicyFile?: string;
  /** Audit log rotation (--audit-log-maxsize MB, --audit-log-maxbackup, --audit-log-maxage days; 0: upstream's defaults). */
  auditLogRotation?: { maxSizeMB: number; maxBackups: number; maxAgeDays: number };
  /** Deadline of each request that is not long-running, body read included (--request-timeout; default 60,000 ms). */
  requestTimeoutMs?: number;
  /** Keep the journal of pod writes that the web view's pod journey reads (on when the web view is served). */
  requestJournal?: boolean;
  /** An apiserver.config.k8s.io/v1 EncryptionConfiguration file: resources encrypted at rest (--encryption-provider-config). */
  encryptionProviderConfig?: string;
  /** Default admission plugins not to run (--disable-admission-plugins): ServiceAccount, LimitRanger, Priority, RuntimeClass, ResourceQuota. */
  disableAdmissionPlugins?: string[];
  /** CIDR cluster IPs are allocated from, or two of different families for dual-stack services and pods (--service-cluster-ip-range; default 10.96.0.0/12). */
  serviceClusterIpRange?: string;
  /** Ports NodePort services get (--service-node-port-range; default 30000-32767). */
  serviceNodePortRange?: string;
  /** Bytes all watch streams of the process may hold unsent (--watch-buffer-budget; default 512 MiB). Process-wide. */
  watchBufferBudgetBytes?: number;
  /** --max-requests-inflight (default 400). */
  maxRequestsInflight?: number;
  /** --max-mutating-requests-inflight (default 200). */
  maxMutatingRequestsInflight?: number;
  /** --enable-priority-and-fairness (default true). */
  enablePriorityAndFairness?: boolean;
  /** Revisions of watch history kept (default 50,000 in the watch cache); small values make 410 Gone reachable. */
  historyRevisions?: number;
  /** Least time between watch bookmarks in ms (default 60,000). */
  bookmarkIntervalMs?: number;
  /** Called once per request; default: no request log. */
  log?: (line: RequestLogLine) => void;
}

/** Options of startCluster: the API server's, plus the scheduler, simulated nodes and controllers. */
export interface ClusterOptions extends ApiServerOptions {
  /** Addresses LoadBalancer services get (--load-balancer-ip-pool: a CIDR or a.b.c.d-e.f.g.h); unset: they stay pending. */
  loadBalancerIpPool?: string;
  /** Simulated nodes node01, node02, ... (default 3). */
  nodes?: number;
  /** CPU capacity of each node (default `'4'`). */
  nodeCpu?: string;
  /** Memory capacity of each node (default `'8Gi'`). */
  nodeMemory?: string;
  /** Pod capacity of each node (default 110). */
  nodePods?: number;
  /** Simulated time per image pull in ms; default 0.5–2.5 s, stable per image. */
  imagePullDelayMs?: number;
  /** Port of each simulated kubelet on its loopback address (default 0: any free port). */
  kubeletPort?: number;
  /** Time without lease renewal before a node is marked Unknown, in seconds (default 40). */
  nodeMonitorGracePeriodSeconds?: number;
  /** Scheduler and node lifecycle controller act only while holding their leader Leases. */
  leaderElect?: boolean;
  /** Keep the components' logs off stderr (default true). */
  quiet?: boolean;
  /** Resolve only once every node is Ready (default true). */
  waitForNodes?: boolean;
  /**
   * The horizontal pod autoscaler's kube-controller-manager settings (--horizontal-pod-autoscaler-*), in ms:
   * syncPeriodMs 15000, downscaleStabilizationMs 300000, tolerance 0.1, cpuInitializationPeriodMs 300000,
   * delayOfInitialReadinessStatusMs 30000.
   */
  horizontalPodAutoscaler?: Partial<HorizontalControllerOptions>;
  /** Mirror pods of the control plane in kube-system on the first node (default false; `kubefacade up`: true). */
  controlPlanePods?: boolean;
  /** klog's --v of the scheduler, controller manager and API server logs (default 0). */
  verbosity?: number;
  /** Serve the scheduler's GET /metrics on 127.0.0.1 at this port (0: any free port; unset: not served). */
  schedulerMetricsPort?: number;
}

const API_SERVER_KEYS: readonly (keyof ApiServerOptions)[] = [
  'storage', 'dataDir', 'bind', 'port', 'tlsSans', 'tlsCertFile', 'tlsPrivateKeyFile', 'tokenAuthFile', 'anonymousAuth',
  'anonymousPublicInfo', 'auditLogPath', 'auditPolicyFile', 'auditLogRotation', 'requestTimeoutMs', 'requestJournal', 'encryptionProviderConfig', 'disableAdmissionPlugins', 'serviceClusterIpRange', 'serviceNodePortRange', 'watchBufferBudgetBytes', 'maxRequestsInflight', 'maxMutatingRequestsInflight',
  'enablePriorityAndFairness', 'historyRevisions', 'bookmarkIntervalMs', 'log',
];
const CLUSTER_KEYS: readonly (keyof ClusterOptions)[] = [
  ...API_SERVER_KEYS, 'loadBalancerIpPool', 'nodes', 'nodeCpu', 'nodeMemory', 'nodePods', 'imagePullDelayMs', 'kubeletPort',
  'nodeMonitorGracePeriodSeconds', 'leaderElect', 'quiet', 'waitForNodes', 'horizontalPodAutoscaler', 'controlPlanePods', 'verbosity', 'schedulerMetricsPort',
];

/** What the library resolved from the options: where things go, and the storage. */
export type ResolvedStorage =
  | { kind: 'memory' }
  | { kind: 'leveldb'; dir: string }
  | { kind: 'etcd'; endpoints: string[]; prefix: string; compactionIntervalMs: number };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkInteger(options: Record<string, unknown>, key: string, min: number, max = Number.MAX_SAFE_INTEGER): void {
  const value = options[key];
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new KubefacadeOptionError(key, `must be an integer from ${min} to ${max === Number.MAX_SAFE_INTEGER ? 'any size' : max}, got ${JSON.stringify(value)}`);
  }
}

function checkNonNegativeNumber(options: Record<string, unknown>, key: string): void {
  const value = options[key];
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new KubefacadeOptionError(key, `must be a non-negative number, got ${JSON.stringify(value)}`);
  }
}

function checkType(options: Record<string, unknown>, key: string, type: 'string' | 'boolean' | 'function'): void {
  const value = options[key];
  if (value === undefined) return;
  if (typeof value !== type || (type === 'string' && value === '')) {
    throw new KubefacadeOptionError(key, `must be a ${type === 'string' ? 'non-empty string' : type}, got ${JSON.stringify(value) ?? typeof value}`);
  }
}

const QUANTITY = /^\d+(\.\d+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/;

/** Checks every option; throws KubefacadeOptionError naming the first invalid one. */
export function checkOptions(options: unknown, kind: 'apiServer' | 'cluster'): asserts options is ClusterOptions {
  if (options === undefined) return;
  if (!isRecord(options)) throw new KubefacadeOptionError('options', 'must be an object');
  const known = new Set<string>(kind === 'cluster' ? CLUSTER_KEYS : API_SERVER_KEYS);
  for (const key of Object.keys(options)) {
    if (!known.has(key)) {
      const hint = kind === 'apiServer' && (CLUSTER_KEYS as readonly string[]).includes(key) ? ' (a startCluster option)' : '';
      throw new KubefacadeOptionError(key, `unknown option${hint}`);
    }
  }
  resolveStorage(options.storage);
  for (const key of ['dataDir', 'bind', 'tlsCertFile', 'tlsPrivateKeyFile', 'tokenAuthFile', 'auditLogPath', 'auditPolicyFile', 'encryptionProviderConfig', 'serviceClusterIpRange', 'serviceNodePortRange', 'loadBalancerIpPool', 'nodeCpu', 'nodeMemory']) checkType(options, key, 'string');
  // The service ranges are read as the server reads its flags, so a bad one is refused before anything starts.
  for (const [key, parse] of [['serviceClusterIpRange', clusterIPRanges], ['serviceNodePortRange', nodePortRange]] as const) {
    const value = options[key];
    if (typeof value !== 'string') continue;
    try {
      parse(value);
    } catch (err) {
      throw new KubefacadeOptionError(key, err instanceof Error ? err.message : String(err));
    }
  }
  if (options.disableAdmissionPlugins !== undefined && (!Array.isArray(options.disableAdmissionPlugins) || options.disableAdmissionPlugins.some((n) => typeof n !== 'string'))) {
    throw new KubefacadeOptionError('disableAdmissionPlugins', 'must be an array of plugin names');
  }
  for (const key of ['anonymousAuth', 'anonymousPublicInfo', 'requestJournal', 'enablePriorityAndFairness', 'leaderElect', 'quiet', 'waitForNodes']) checkType(options, key, 'boolean');
  checkType(options, 'log', 'function');
  checkInteger(options, 'port', 0, 65535);
  checkInteger(options, 'kubeletPort', 0, 65535);
  checkInteger(options, 'nodes', 0);
  checkInteger(options, 'nodePods', 0);
  checkInteger(options, 'maxRequestsInflight', 0);
  checkInteger(options, 'maxMutatingRequestsInflight', 0);
  checkInteger(options, 'historyRevisions', 1);
  checkInteger(options, 'watchBufferBudgetBytes', 1);
  for (const key of ['imagePullDelayMs', 'bookmarkIntervalMs']) checkNonNegativeNumber(options, key);
  const timeout = options.requestTimeoutMs;
  if (timeout !== undefined && (typeof timeout !== 'number' || !Number.isFinite(timeout) || timeout <= 0)) {
    throw new KubefacadeOptionError('requestTimeoutMs', `must be a positive number of milliseconds, got ${JSON.stringify(timeout)}`);
  }
  const rotation = options.auditLogRotation;
  if (rotation !== undefined && (!isRecord(rotation) || ['maxSizeMB', 'maxBackups', 'maxAgeDays'].some((k) => typeof rotation[k] !== 'number' || (rotation[k] as number) < 0))) {
    throw new KubefacadeOptionError('auditLogRotation', 'must be { maxSizeMB, maxBackups, maxAgeDays } of non-negative numbers');
  }
  const grace = options.nodeMonitorGracePeriodSeconds;
  if (grace !== undefined && (typeof grace !== 'number' || !Number.isFinite(grace) || grace <= 0)) {
    throw new KubefacadeOptionError('nodeMonitorGracePeriodSeconds', `must be a positive number of seconds, got ${JSON.stringify(grace)}`);
  }
  if (options.tlsSans !== undefined && (!Array.isArray(options.tlsSans) || options.tlsSans.some((san) => typeof san !== 'string' || san === ''))) {
    throw new KubefacadeOptionError('tlsSans', 'must be an array of IP addresses or DNS names');
  }
  for (const key of ['nodeCpu', 'nodeMemory'] as const) {
    const value = options[key];
    if (typeof value === 'string' && !QUANTITY.test(value)) throw new KubefacadeOptionError(key, `must be a quantity such as 4, 500m or 8Gi, got ${JSON.stringify(value)}`);
  }
  if ((options.tlsCertFile === undefined) !== (options.tlsPrivateKeyFile === undefined)) {
    throw new KubefacadeOptionError(options.tlsCertFile === undefined ? 'tlsCertFile' : 'tlsPrivateKeyFile', 'tlsCertFile and tlsPrivateKeyFile must be given together');
  }
  const inflight = (options.maxRequestsInflight ?? DEFAULT_FLOW_CONTROL.maxRequestsInflight) as number;
  const mutating = (options.maxMutatingRequestsInflight ?? DEFAULT_FLOW_CONTROL.maxMutatingRequestsInflight) as number;
  if (options.enablePriorityAndFairness !== false && inflight + mutating === 0) {
    throw new KubefacadeOptionError('maxRequestsInflight', 'maxRequestsInflight plus maxMutatingRequestsInflight must be positive with priority and fairness enabled');
  }
}

/** The storage option, checked and normalised. */
export function resolveStorage(storage: unknown): ResolvedStorage {
  if (storage === undefined || storage === 'memory') return { kind: 'memory' };
  if (!isRecord(storage)) throw new KubefacadeOptionError('storage', `must be 'memory', { leveldb: dir } or { etcd: servers }, got ${JSON.stringify(storage)}`);
  const keys = Object.keys(storage);
  if ('leveldb' in storage) {
    if (keys.length !== 1) throw new KubefacadeOptionError('storage', '{ leveldb: dir } takes no other field');
    if (typeof storage.leveldb !== 'string' || storage.leveldb === '') throw new KubefacadeOptionError('storage.leveldb', 'must be a directory path');
    return { kind: 'leveldb', dir: storage.leveldb };
  }
  if ('etcd' in storage) {
    const extra = keys.find((key) => !['etcd', 'prefix', 'compactionIntervalMs'].includes(key));
    if (extra) throw new KubefacadeOptionError(`storage.${extra}`, 'unknown field of { etcd }');
    const given = storage.etcd;
    let servers: string[] = [];
    if (typeof given === 'string' || (Array.isArray(given) && given.every((url) => typeof url === 'string'))) {
      try {
        servers = parseEtcdServers(given);
      } catch (error) {
        throw new KubefacadeOptionError('storage.etcd', (error as Error).message);
      }
    }
    if (servers.length === 0) {
      throw new KubefacadeOptionError('storage.etcd', `must list etcd client URLs such as http://127.0.0.1:2379, got ${JSON.stringify(given)}`);
    }
    if (storage.prefix !== undefined && (typeof storage.prefix !== 'string' || !storage.prefix.startsWith('/'))) {
      throw new KubefacadeOptionError('storage.prefix', `must be a key prefix starting with /, got ${JSON.stringify(storage.prefix)}`);
    }
    const interval = storage.compactionIntervalMs;
    if (interval !== undefined && (typeof interval !== 'number' || !Number.isFinite(interval) || interval < 0)) {
      throw new KubefacadeOptionError('storage.compactionIntervalMs', `must be a non-negative number of ms, got ${JSON.stringify(interval)}`);
    }
    return { kind: 'etcd', endpoints: servers, prefix: (storage.prefix as string | undefined) ?? '/registry', compactionIntervalMs: (interval as number | undefined) ?? 5 * 60_000 };
  }
  throw new KubefacadeOptionError('storage', `must be 'memory', { leveldb: dir } or { etcd: servers }, got ${JSON.stringify(storage)}`);
}
