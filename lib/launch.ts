// The one start path of the library and the CLI: options checked, the environment checked before
// anything is written (port free, data dir writable, etcd answering), the API server (and for a
// cluster the scheduler, kubelets and controllers) started, and everything created by a start that
// fails removed again. Returns handles without client-node objects, so `kubefacade server` does not
// load client-node; lib/index.ts adds them for library users.

import { constants } from 'node:fs';
import { access, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import type { RequestListener } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ApiServerOptions as ServerStartOptions, RunningApiServer } from '../server/start.ts';
import type { UpOptions } from '../server/up.ts';
import { DEFAULT_FLOW_CONTROL } from '../server/flow-control/filter.ts';
import type { RequestJournal } from '../server/ui/request-journal.ts';
import { KubefacadeStartError } from './errors.ts';
import { checkOptions, resolveStorage, type ApiServerOptions, type ClusterOptions, type ResolvedStorage } from './options.ts';
import { bootstrapKeys, resetStore, waitForReadyNodes } from './reset.ts';
import { startPhase } from '../server/start-timeline.ts';

/** A started API server (or cluster), before client-node objects are added. */
export interface LaunchedServer {
  url: string;
  port: number;
  /** The data dir: PKI, admin token, kubeconfigs (and LevelDB's `db/`). */
  dataDir: string;
  kubeconfigPath: string;
  adminToken: string;
  caCertPem: string;
  /** The server's request handler (for supertest). */
  app: RequestListener;
  /** Nodes started (empty for an API server alone). */
  nodes: string[];
  /** The scheduler's /metrics URL, when schedulerMetricsPort was given. */
  schedulerMetricsUrl?: string;
  /** The pod writes the server saw (with `requestJournal`), for the web view. */
  journal?: RequestJournal;
  /** A bearer token this server accepts for `identity`, valid `ttlSeconds`. */
  mintToken(identity: { username: string; groups: string[] }, ttlSeconds: number): string;
  /** A kubeconfig (YAML) for `user` in `groups`, with a bearer token signed by this server (valid a day). */
  userKubeconfigYaml(user: string, groups: string[]): string;
  reset(): Promise<void>;
  stop(): Promise<void>;
}

const TOKEN_TTL_SECONDS = 24 * 3600;

export async function launchApiServer(options: ApiServerOptions = {}): Promise<LaunchedServer> {
  startPhase('launch');
  checkOptions(options, 'apiServer');
  return launch(options, undefined);
}

export async function launchCluster(options: ClusterOptions = {}): Promise<LaunchedServer> {
  startPhase('launch');
  checkOptions(options, 'cluster');
  return launch(options, options);
}

async function launch(options: ApiServerOptions, cluster: ClusterOptions | undefined): Promise<LaunchedServer> {
  const storage = resolveStorage(options.storage);
  const bind = options.bind ?? '127.0.0.1';
  const port = options.port ?? 0;
  // Fail before generating keys: a port in use or an etcd that does not answer.
  if (port !== 0) await ensurePortFree(bind, port);
  if (storage.kind === 'etcd') await ensureEtcdAnswers(storage);
  const workspace = await prepareDataDir(options.dataDir ?? (storage.kind === 'leveldb' ? storage.dir : undefined));
  const serverOptions: ServerStartOptions = {
    dataDir: workspace.dir,
    bind,
    port,
    tlsSans: options.tlsSans ?? [],
    tlsCertFile: options.tlsCertFile === undefined ? undefined : resolve(options.tlsCertFile),
    tlsPrivateKeyFile: options.tlsPrivateKeyFile === undefined ? undefined : resolve(options.tlsPrivateKeyFile),
    tokenAuthFile: options.tokenAuthFile === undefined ? undefined : resolve(options.tokenAuthFile),
    anonymousAuth: options.anonymousAuth ?? false,
    anonymousPublicInfo: options.anonymousPublicInfo ?? true,
    auditLogPath: options.auditLogPath === undefined || options.auditLogPath === '-' ? options.auditLogPath : resolve(options.auditLogPath),
    auditPolicyFile: options.auditPolicyFile === undefined ? undefined : resolve(options.auditPolicyFile),
    auditLogRotation: options.auditLogRotation,
    requestTimeoutMs: options.requestTimeoutMs,
    requestJournal: options.requestJournal,
    encryptionProviderConfig: options.encryptionProviderConfig === undefined ? undefined : resolve(options.encryptionProviderConfig),
    disableAdmissionPlugins: options.disableAdmissionPlugins,
    serviceClusterIpRange: options.serviceClusterIpRange,
    serviceNodePortRange: options.serviceNodePortRange,
    watchBufferBudgetBytes: options.watchBufferBudgetBytes,
    historyRevisions: options.historyRevisions,
    bookmarkIntervalMs: options.bookmarkIntervalMs,
    log: options.log,
    storage: storage.kind === 'memory' ? 'memory' : 'leveldb',
    etcd: storage.kind === 'etcd'
      ? { kind: 'etcd', endpoints: storage.endpoints, prefix: storage.prefix, compactionIntervalMs: storage.compactionIntervalMs }
      : undefined,
    flowControl: {
      maxRequestsInflight: options.maxRequestsInflight ?? DEFAULT_FLOW_CONTROL.maxRequestsInflight,
      maxMutatingRequestsInflight: options.maxMutatingRequestsInflight ?? DEFAULT_FLOW_CONTROL.maxMutatingRequestsInflight,
      priorityAndFairness: options.enablePriorityAndFairness ?? DEFAULT_FLOW_CONTROL.priorityAndFairness,
    },
  };
  let apiServer: RunningApiServer | undefined;
  let stopComponents: () => Promise<void> = async () => undefined;
  let nodes: string[] = [];
  let schedulerMetricsUrl: string | undefined;
  try {
    if (cluster) {
      const { startCluster } = await import('../server/up.ts');
      const up: UpOptions = {
        ...serverOptions,
        nodes: cluster.nodes ?? 3,
        nodeCpu: cluster.nodeCpu ?? '4',
        nodeMemory: cluster.nodeMemory ?? '8Gi',
        nodePods: cluster.nodePods ?? 110,
        imagePullDelayMs: cluster.imagePullDelayMs,
        kubeletPort: cluster.kubeletPort ?? 0,
        nodeMonitorGracePeriodSeconds: cluster.nodeMonitorGracePeriodSeconds ?? 40,
        leaderElect: cluster.leaderElect,
        loadBalancerIpPool: cluster.loadBalancerIpPool,
        horizontalPodAutoscaler: cluster.horizontalPodAutoscaler,
        controlPlanePods: cluster.controlPlanePods,
        verbosity: cluster.verbosity,
        schedulerMetricsPort: cluster.schedulerMetricsPort,
        clusterSigningDurationSeconds: cluster.clusterSigningDurationSeconds,
        quiet: cluster.quiet ?? true,
      };
      const running = await startCluster(up);
      apiServer = running.apiServer;
      nodes = running.nodes;
      schedulerMetricsUrl = running.schedulerMetricsUrl;
      stopComponents = () => running.stop();
      if (cluster.waitForNodes ?? true) await waitForReadyNodes(apiServer.storage, nodes);
      startPhase('nodes Ready');
    } else {
      const { startApiServer } = await import('../server/start.ts');
      apiServer = await startApiServer(serverOptions);
      const server = apiServer;
      stopComponents = () => server.close();
    }
  } catch (error) {
    await stopComponents().catch(() => undefined);
    await workspace.discard();
    throw translateStartError(error, storage, workspace.dir);
  }
  const running = apiServer;
  const keep = await bootstrapKeys(running.storage);
  startPhase('started');
  let stopped: Promise<void> | undefined;
  return {
    url: running.url,
    port: running.port,
    dataDir: workspace.dir,
    kubeconfigPath: running.adminKubeconfigPath,
    adminToken: running.adminToken,
    caCertPem: running.caCertPem,
    app: running.app,
    nodes,
    schedulerMetricsUrl,
    journal: running.journal,
    mintToken: (identity, ttlSeconds) => running.credentials.token(identity, ttlSeconds),
    userKubeconfigYaml: (user, groups) => running.credentials.tokenKubeconfig(running.url, { username: user, groups }, TOKEN_TTL_SECONDS),
    reset: () => resetStore(running.storage, keep),
    stop() {
      stopped ??= (async () => {
        await stopComponents();
        await workspace.release();
      })();
      return stopped;
    },
  };
}

interface DataDirWorkspace {
  dir: string;
  /** After a failed start: remove what this start created (the whole dir if it created it). */
  discard(): Promise<void>;
  /** At stop: remove the dir if it is a temporary one. */
  release(): Promise<void>;
}

async function prepareDataDir(given: string | undefined): Promise<DataDirWorkspace> {
  if (given === undefined) {
    const dir = await mkdtemp(join(tmpdir(), 'kubefacade-'));
    const remove = () => rm(dir, { recursive: true, force: true });
    return { dir, discard: remove, release: remove };
  }
  const dir = resolve(given);
  let before: Set<string> | undefined;
  try {
    before = new Set(await readdir(dir));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw notWritable(dir, error);
  }
  try {
    await mkdir(dir, { recursive: true });
    await access(dir, constants.W_OK | constants.X_OK);
  } catch (error) {
    throw notWritable(dir, error);
  }
  const existing = before;
  return {
    dir,
    async discard() {
      if (!existing) {
        await rm(dir, { recursive: true, force: true });
        return;
      }
      for (const entry of await readdir(dir).catch(() => [])) {
        if (!existing.has(entry)) await rm(join(dir, entry), { recursive: true, force: true });
      }
    },
    release: async () => undefined,
  };
}

function notWritable(dir: string, error: unknown): KubefacadeStartError {
  const code = (error as NodeJS.ErrnoException).code;
  return new KubefacadeStartError('DataDirNotWritable', `data dir ${dir} is not writable${code ? ` (${code})` : ''}`, { cause: error });
}

async function ensurePortFree(host: string, port: number): Promise<void> {
  const probe = createServer();
  await new Promise<void>((done, fail) => {
    probe.once('error', fail);
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => done()));
  }).catch((error: NodeJS.ErrnoException) => {
    throw portError(host, port, error);
  });
}

function portError(host: string, port: number, error: NodeJS.ErrnoException): Error {
  if (error.code === 'EADDRINUSE') return new KubefacadeStartError('PortInUse', `port ${port} on ${host} is already in use`, { cause: error });
  if (error.code === 'EACCES') return new KubefacadeStartError('PortInUse', `port ${port} on ${host} may not be used by this process (EACCES)`, { cause: error });
  return error;
}

/** How long a start waits for etcd to answer once before giving up. */
const ETCD_PROBE_TIMEOUT_MS = 3000;

async function ensureEtcdAnswers(storage: Extract<ResolvedStorage, { kind: 'etcd' }>): Promise<void> {
  const { EtcdConnection } = await import('../storage/etcd-client.ts');
  const connection = new EtcdConnection({ endpoints: storage.endpoints, retryTimeoutMs: ETCD_PROBE_TIMEOUT_MS });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      connection.call(() => connection.client.kv.range({ key: Buffer.from(`${storage.prefix}/`), count_only: true })),
      new Promise((_, fail) => { timer = setTimeout(() => fail(new Error(`no answer within ${ETCD_PROBE_TIMEOUT_MS}ms`)), ETCD_PROBE_TIMEOUT_MS); }),
    ]);
  } catch (error) {
    throw new KubefacadeStartError('EtcdUnreachable', `etcd is not reachable at ${storage.endpoints.join(', ')}: ${(error as Error).message}`, { cause: error });
  } finally {
    clearTimeout(timer);
    connection.close();
  }
}

function translateStartError(error: unknown, storage: ResolvedStorage, dataDir: string): unknown {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EADDRINUSE') return new KubefacadeStartError('PortInUse', (error as Error).message, { cause: error });
  if (code === 'EACCES' || code === 'EROFS' || code === 'EPERM') return notWritable(dataDir, error);
  if (error instanceof Error && error.name === 'IncompatibleDataDirError') {
    return new KubefacadeStartError('IncompatibleDataDir', error.message, { cause: error });
  }
  if (storage.kind === 'etcd' && error instanceof Error && /etcd|UNAVAILABLE|ECONNREFUSED/i.test(error.message)) {
    return new KubefacadeStartError('EtcdUnreachable', `etcd is not reachable at ${storage.endpoints.join(', ')}: ${error.message}`, { cause: error });
  }
  return error;
}

