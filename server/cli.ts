// The `kubefacade` command line. Each subcommand is one registration function in SUBCOMMANDS, so adding
// `scheduler`, `kubelet` or `up` is one function plus one list entry. Flags are named as kube-apiserver
// names them where it has an equivalent (--bind-address, --secure-port, --tls-cert-file, ...).

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, Option, InvalidArgumentError } from 'commander';
import { registerSchedulerCommand } from '../scheduler/cli.ts';
import { registerKubeletCommand } from '../kubelet/cli.ts';
import { addLeaderElectionFlags, leaderElectionFromFlags, type LeaderElectionFlags } from '../clients/leader-election-flags.ts';
import { registerCredentialCommands } from '../auth/cli.ts';
import { registerMigrateCommand } from './migrate-command.ts';
import { registerRepairCommand } from './repair-command.ts';
import { registerBenchCommand } from '../bench/cli.ts';
import { addStorageFlags, storageFromFlags, type StorageFlags } from './storage-flags.ts';
import { DEFAULT_FLOW_CONTROL } from './flow-control/filter.ts';
import { addUiFlags, startUiFromFlags, type UiFlags } from './ui/ui-flags.ts';
import { KubefacadeOptionError } from '../lib/errors.ts';
import type { ApiServerOptions } from '../lib/options.ts';

export type RegisterSubcommand = (program: Command) => void;

interface ServerCommandOptions extends StorageFlags, UiFlags {
  dataDir: string;
  bind?: string;
  bindAddress?: string;
  port?: number;
  securePort?: number;
  tlsSan: string[];
  tlsCertFile?: string;
  tlsPrivateKeyFile?: string;
  tokenAuthFile?: string;
  encryptionProviderConfig?: string;
  anonymousAuth: boolean;
  anonymousPublicInfo: boolean;
  auditLogPath?: string;
  auditPolicyFile?: string;
  auditLogMaxsize: number;
  auditLogMaxbackup: number;
  auditLogMaxage: number;
  disableAdmissionPlugins?: string;
  serviceClusterIpRange?: string;
  serviceNodePortRange?: string;
  watchBufferBudget?: number;
  maxRequestsInflight: number;
  maxMutatingRequestsInflight: number;
  enablePriorityAndFairness: boolean;
  requestTimeout: string;
}

const DEFAULT_BIND = '127.0.0.1';
const DEFAULT_PORT = 6443;

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidArgumentError('must be a port number (0-65535)');
  return port;
}

function collect(value: string, previous: string[]): string[] {
  // Repeatable, and comma-separated like kube-apiserver's string slices.
  return [...previous, ...value.split(',').map((item) => item.trim()).filter(Boolean)];
}

/** Runs until SIGINT/SIGTERM, then closes `close` once and exits. */
export function closeOnSignals(close: () => Promise<void>, log: (line: string) => void = console.error): void {
  let closing = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (closing) return;
    closing = true;
    log(`received ${signal}, shutting down`);
    close().then(() => process.exit(0), (err: unknown) => {
      log(`shutdown failed: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    });
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
}

export const registerServerCommand: RegisterSubcommand = (program) => {
  addUiFlags(addServerFlags(program.command('server')), false)
    .description('run the Kubernetes-compatible API server')
    .action(async (options: ServerCommandOptions) => {
      // Imported here so this file loads (and `--help` works) independently of the server's dependencies.
      const { launchApiServer } = await import('../lib/launch.ts');
      const server = await launchApiServer(serverOptions(options)).catch(rethrowWithFlagNames);
      console.error(`kubefacade API server listening on ${server.url}`);
      console.error(`admin kubeconfig: ${server.kubeconfigPath}`);
      console.error(`  kubectl --kubeconfig ${server.kubeconfigPath} get nodes`);
      const ui = await startUiFromFlags(options, server);
      // The second wall against prototype pollution, once every module is loaded (harden-intrinsics.ts).
      (await import('./harden-intrinsics.ts')).hardenIntrinsics();
      closeOnSignals(async () => {
        await ui?.close();
        await server.stop();
      });
    });
};

interface UpCommandOptions extends ServerCommandOptions {
  nodes: number;
  nodeCpu: string;
  nodeMemory: string;
  nodePods: number;
  imagePullDelay?: string;
  kubeletPort: number;
  nodeMonitorGracePeriod: string;
  leaderElect?: boolean;
  loadBalancerIpPool?: string;
  controlPlanePods: boolean;
  v: number;
  schedulerMetricsPort: number;
}

interface HpaFlags {
  horizontalPodAutoscalerSyncPeriod: string;
  horizontalPodAutoscalerDownscaleStabilization: string;
  horizontalPodAutoscalerTolerance: string;
  horizontalPodAutoscalerCpuInitializationPeriod: string;
  horizontalPodAutoscalerInitialReadinessDelay: string;
}

/** kube-controller-manager's --horizontal-pod-autoscaler-* flags, with upstream's defaults. */
function addHpaFlags(command: Command): Command {
  return command
    .option('--horizontal-pod-autoscaler-sync-period <duration>', 'how often each HorizontalPodAutoscaler is synced', '15s')
    .option('--horizontal-pod-autoscaler-downscale-stabilization <duration>', 'how far back the autoscaler looks for a higher recommendation before scaling down', '5m0s')
    .option('--horizontal-pod-autoscaler-tolerance <ratio>', 'minimum change (from 1.0) of the usage ratio before the autoscaler acts', '0.1')
    .option('--horizontal-pod-autoscaler-cpu-initialization-period <duration>', 'time after pod start during which CPU samples may be skipped', '5m0s')
    .option('--horizontal-pod-autoscaler-initial-readiness-delay <duration>', 'time after pod start during which readiness changes count as initial readiness', '30s');
}

function hpaOptionsFromFlags(options: HpaFlags): { syncPeriodMs: number; downscaleStabilizationMs: number; tolerance: number; cpuInitializationPeriodMs: number; delayOfInitialReadinessStatusMs: number } {
  const tolerance = Number(options.horizontalPodAutoscalerTolerance);
  if (!Number.isFinite(tolerance) || tolerance < 0) throw new InvalidArgumentError('--horizontal-pod-autoscaler-tolerance must be a non-negative number');
  const syncPeriodMs = parseDurationMs(options.horizontalPodAutoscalerSyncPeriod);
  if (syncPeriodMs <= 0) throw new InvalidArgumentError('--horizontal-pod-autoscaler-sync-period must be positive');
  return {
    syncPeriodMs, tolerance,
    downscaleStabilizationMs: parseDurationMs(options.horizontalPodAutoscalerDownscaleStabilization),
    cpuInitializationPeriodMs: parseDurationMs(options.horizontalPodAutoscalerCpuInitializationPeriod),
    delayOfInitialReadinessStatusMs: parseDurationMs(options.horizontalPodAutoscalerInitialReadinessDelay),
  };
}

function parseCount(value: string): number {
  const count = Number(value);
  if (!Number.isInteger(count) || count < 0) throw new InvalidArgumentError('must be a non-negative integer');
  return count;
}

/** Byte counts as kube quantities spell them: 536870912, 512Mi, 1Gi. */
function parseBytes(value: string): number {
  const match = /^(\d+)(Ki|Mi|Gi)?$/.exec(value.trim());
  if (!match) throw new InvalidArgumentError('must be a byte count such as 536870912, 512Mi or 1Gi');
  const unit = match[2] === 'Gi' ? 1024 ** 3 : match[2] === 'Mi' ? 1024 ** 2 : match[2] === 'Ki' ? 1024 : 1;
  return Number(match[1]) * unit;
}

/** Go-style durations as kube flags take them: 500ms, 2s, 1m, 1m30s. */
function parseDurationMs(value: string): number {
  const match = /^((?:\d+(?:\.\d+)?(?:ms|s|m|h))+)$/.exec(value.trim());
  if (!match) throw new InvalidArgumentError('must be a duration such as 500ms, 2s or 1m');
  let total = 0;
  for (const part of value.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) {
    const amount = Number(part[1]);
    total += part[2] === 'ms' ? amount : part[2] === 's' ? amount * 1000 : part[2] === 'm' ? amount * 60_000 : amount * 3_600_000;
  }
  return total;
}

function requestTimeoutMs(value: string): number {
  const ms = parseDurationMs(value);
  if (ms <= 0) throw new InvalidArgumentError('--request-timeout must be positive');
  return ms;
}

/** The library's options from the `server` flags: the CLI starts through the library (lib/launch.ts). */
function serverOptions(options: ServerCommandOptions): ApiServerOptions {
  if (Boolean(options.tlsCertFile) !== Boolean(options.tlsPrivateKeyFile)) {
    throw new InvalidArgumentError('--tls-cert-file and --tls-private-key-file must be given together');
  }
  if (options.enablePriorityAndFairness && options.maxRequestsInflight + options.maxMutatingRequestsInflight === 0) {
    throw new InvalidArgumentError('--max-requests-inflight plus --max-mutating-requests-inflight must be positive with priority and fairness enabled');
  }
  const dataDir = path.resolve(options.dataDir);
  return {
    dataDir,
    storage: storageFromFlags(options, dataDir),
    bind: options.bindAddress ?? options.bind ?? DEFAULT_BIND,
    port: options.securePort ?? options.port ?? DEFAULT_PORT,
    tlsSans: options.tlsSan,
    tlsCertFile: options.tlsCertFile,
    tlsPrivateKeyFile: options.tlsPrivateKeyFile,
    tokenAuthFile: options.tokenAuthFile,
    encryptionProviderConfig: options.encryptionProviderConfig,
    anonymousAuth: options.anonymousAuth,
    anonymousPublicInfo: options.anonymousPublicInfo,
    auditLogPath: options.auditLogPath,
    auditPolicyFile: options.auditPolicyFile,
    auditLogRotation: { maxSizeMB: options.auditLogMaxsize, maxBackups: options.auditLogMaxbackup, maxAgeDays: options.auditLogMaxage },
    requestTimeoutMs: requestTimeoutMs(options.requestTimeout),
    requestJournal: options.ui,
    watchBufferBudgetBytes: options.watchBufferBudget,
    disableAdmissionPlugins: options.disableAdmissionPlugins?.split(',').map((name) => name.trim()).filter(Boolean),
    serviceClusterIpRange: options.serviceClusterIpRange,
    serviceNodePortRange: options.serviceNodePortRange,
    maxRequestsInflight: options.maxRequestsInflight,
    maxMutatingRequestsInflight: options.maxMutatingRequestsInflight,
    enablePriorityAndFairness: options.enablePriorityAndFairness,
  };
}

/** kube-style booleans: `--flag`, `--flag=true`, `--flag=false`. */
function parseBool(value: string): boolean {
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new InvalidArgumentError('must be true or false');
}

function addServerFlags(command: Command): Command {
  return addStorageFlags(command
    .option('--data-dir <dir>', 'directory for the database, PKI and admin kubeconfig', './data')
    .addOption(new Option('--bind <address>', `address to listen on (default: ${DEFAULT_BIND})`).conflicts('bindAddress'))
    .addOption(new Option('--bind-address <address>', 'alias of --bind (kube-apiserver name)').hideHelp())
    .addOption(new Option('--port <port>', `HTTPS port to listen on (default: ${DEFAULT_PORT})`).argParser(parsePort).conflicts('securePort'))
    .addOption(new Option('--secure-port <port>', 'alias of --port (kube-apiserver name)').argParser(parsePort).hideHelp())
    .option('--tls-san <name>', 'extra subject alternative name (IP or DNS) for the serving certificate; repeatable', collect, [] as string[])
    .option('--tls-cert-file <file>', 'serving certificate (PEM) instead of the generated one')
    .option('--tls-private-key-file <file>', 'private key (PEM) for --tls-cert-file')
    .option('--token-auth-file <file>', 'static bearer tokens, CSV: token,user,uid[,"group1,group2"]')
    .option('--encryption-provider-config <file>', 'EncryptionConfiguration (apiserver.config.k8s.io/v1, YAML or JSON): resources encrypted at rest with aescbc, aesgcm or secretbox; unset: stored as is')
    .option('--anonymous-auth [enabled]', 'serve requests without credentials as system:anonymous (RBAC still applies)', parseBool, false)
    .option('--anonymous-public-info [enabled]', 'serve /healthz, /livez, /readyz and /version to requests without credentials (system:public-info-viewer), even without --anonymous-auth', parseBool, true)
    .option('--service-cluster-ip-range <cidr>', 'CIDR cluster IPs are allocated from, or two of different families (IPv4,IPv6 or IPv6,IPv4) for dual-stack services (default 10.96.0.0/12; the first address of the first range is the kubernetes service\'s; up: two ranges also make the pod network dual-stack)')
    .option('--service-node-port-range <range>', 'ports NodePort and LoadBalancer services are given (default 30000-32767)')
    .option('--disable-admission-plugins <names>', 'comma-separated default admission plugins not to run: ServiceAccount, LimitRanger, Priority, DefaultStorageClass, DefaultIngressClass, RuntimeClass, ResourceQuota')
    .option('--audit-log-path <file>', 'write an audit.k8s.io/v1 event per request to this file as JSON lines (- for stdout)')
    .option('--audit-policy-file <file>', 'audit.k8s.io/v1 Policy: levels, omitStages and rules (default: every request at Metadata)')
    .option('--audit-log-maxsize <MB>', 'rotate the audit log once it reaches this size (0: 100 MB)', parseCount, 0)
    .option('--audit-log-maxbackup <count>', 'rotated audit logs kept (0: all)', parseCount, 0)
    .option('--audit-log-maxage <days>', 'days a rotated audit log is kept (0: no limit)', parseCount, 0)
    .option('--watch-buffer-budget <bytes>', 'bytes all watch streams together may hold unsent before the largest is closed (default 512Mi; each stream alone at most 16Mi)', parseBytes)
    .option('--max-requests-inflight <count>', 'requests running at once (read-only ones without priority and fairness; 0: no limit there)', parseCount, DEFAULT_FLOW_CONTROL.maxRequestsInflight)
    .option('--max-mutating-requests-inflight <count>', 'mutating requests running at once (with priority and fairness: added to --max-requests-inflight and shared by the priority levels)', parseCount, DEFAULT_FLOW_CONTROL.maxMutatingRequestsInflight)
    .option('--request-timeout <duration>', 'deadline of every request that is not long-running (watch, exec, logs ...), waiting for a seat and reading the body included; past it 504 Timeout', '1m0s')
    .option('--enable-priority-and-fairness [enabled]', 'API Priority and Fairness: priority levels, fair queues and 429 when full (false: the max-in-flight filter)', parseBool, DEFAULT_FLOW_CONTROL.priorityAndFairness));
}

/** The library names options as its fields; the CLI user knows them as flags. */
function rethrowWithFlagNames(error: unknown): never {
  if (error instanceof KubefacadeOptionError) {
    const flag = FLAG_OF_OPTION[error.option] ?? `--${error.option.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`;
    throw new InvalidArgumentError(`${flag}: ${error.message.replace(/^invalid option \S+: /, '')}`);
  }
  throw error;
}

const FLAG_OF_OPTION: Record<string, string> = {
  'storage.etcd': '--etcd-servers', 'storage.prefix': '--etcd-prefix', 'storage.compactionIntervalMs': '--etcd-compaction-interval',
  tlsSans: '--tls-san', watchBufferBudgetBytes: '--watch-buffer-budget', imagePullDelayMs: '--image-pull-delay',
  nodeMonitorGracePeriodSeconds: '--node-monitor-grace-period',
};

export const registerUpCommand: RegisterSubcommand = (program) => {
  addHpaFlags(addUiFlags(addServerFlags(program.command('up')), true))
    .description('run the API server, the scheduler, simulated nodes and the controller manager in one process')
    .option('--nodes <count>', 'number of simulated nodes (node01, node02, ...)', parseCount, 3)
    .option('--node-cpu <quantity>', 'cpu capacity of each simulated node', '4')
    .option('--node-memory <quantity>', 'memory capacity of each simulated node', '8Gi')
    .option('--node-pods <count>', 'pod capacity of each simulated node', parseCount, 110)
    .option('--image-pull-delay <duration>', 'simulated time per image pull (default: 0.5-2.5s, stable per image)')
    .option('--kubelet-port <port>', 'port of each simulated kubelet on its loopback address (0: any free port)', parsePort, 10250)
    .option('--node-monitor-grace-period <duration>', 'time without lease renewal before a node is marked Unknown', '40s')
    .option('--leader-elect', 'scheduler and controller manager only run while holding their leader Lease (several `up --nodes 0` on one etcd)')
    .option('--control-plane-pods [enabled]', 'mirror pods for kube-apiserver, kube-scheduler, kube-controller-manager and the store in kube-system on the first node, logging the components\' own lines', parseBool, true)
    .option('--scheduler-metrics-port <port>', 'the scheduler serves GET /metrics on 127.0.0.1 at this port (kube-scheduler\'s secure port; taken: any free port)', parsePort, 10259)
    .option('-v, --v <level>', 'log verbosity (klog) of the scheduler, controller manager and API server: 2 logs every scheduling decision, 3 every request', parseCount, 0)
    .option('--load-balancer-ip-pool <range>', 'addresses LoadBalancer services get in status.loadBalancer.ingress (CIDR or a.b.c.d-e.f.g.h; unset: they stay <pending>)')
    .action(async (options: UpCommandOptions & HpaFlags) => {
      const { launchCluster } = await import('../lib/launch.ts');
      const cluster = await launchCluster({
        ...serverOptions(options),
        nodes: options.nodes,
        nodeCpu: options.nodeCpu,
        nodeMemory: options.nodeMemory,
        nodePods: options.nodePods,
        imagePullDelayMs: options.imagePullDelay === undefined ? undefined : parseDurationMs(options.imagePullDelay),
        kubeletPort: options.kubeletPort,
        nodeMonitorGracePeriodSeconds: parseDurationMs(options.nodeMonitorGracePeriod) / 1000,
        leaderElect: options.leaderElect,
        loadBalancerIpPool: options.loadBalancerIpPool,
        horizontalPodAutoscaler: hpaOptionsFromFlags(options),
        controlPlanePods: options.controlPlanePods,
        verbosity: options.v,
        schedulerMetricsPort: options.schedulerMetricsPort,
        quiet: false,
        // With --leader-elect another replica may be the one whose controllers run: report once listening.
        waitForNodes: !options.leaderElect,
      }).catch(rethrowWithFlagNames);
      console.error(`kubefacade is up: API server ${cluster.url}, nodes ${cluster.nodes.join(', ')}`);
      console.error(`  kubectl --kubeconfig ${cluster.kubeconfigPath} get nodes`);
      if (cluster.schedulerMetricsUrl) console.error(`  scheduler metrics: ${cluster.schedulerMetricsUrl}`);
      const ui = await startUiFromFlags(options, cluster);
      // The second wall against prototype pollution, once every module is loaded (harden-intrinsics.ts).
      (await import('./harden-intrinsics.ts')).hardenIntrinsics();
      closeOnSignals(async () => {
        await ui?.close();
        await cluster.stop();
      });
    });
};

export const registerControllersCommand: RegisterSubcommand = (program) => {
  addHpaFlags(addLeaderElectionFlags(program.command('controllers'), 'kube-controller-manager'))
    .description('run the controller manager (workload, service, quota, certificate and volume controllers, horizontal pod autoscaler, garbage collector, node lifecycle, taint eviction) against an API server')
    .requiredOption('--kubeconfig <file>', 'kubeconfig with the API server address and credentials')
    .option('--node-monitor-grace-period <duration>', 'time without lease renewal before a node is marked Unknown', '40s')
    .option('--controllers <list>', 'controllers to run, comma-separated; * is all, -name disables one (as kube-controller-manager)', '*')
    .option('--cluster-signing-cert-file <file>', 'CA certificate (PEM) the csrsigning controller issues kube-apiserver-client certificates with')
    .option('--cluster-signing-key-file <file>', 'private key (PEM) of --cluster-signing-cert-file')
    .action(async (options: { kubeconfig: string; nodeMonitorGracePeriod: string; controllers: string; clusterSigningCertFile?: string;
      clusterSigningKeyFile?: string } & LeaderElectionFlags & HpaFlags) => {
      const { runControllerManager, selectControllers } = await import('../controllers/manager.ts');
      const kubeconfigPath = path.resolve(options.kubeconfig);
      const controllers = selectControllers(options.controllers);
      const horizontalPodAutoscaler = hpaOptionsFromFlags(options);
      if (Boolean(options.clusterSigningCertFile) !== Boolean(options.clusterSigningKeyFile)) {
        throw new Error('--cluster-signing-cert-file and --cluster-signing-key-file must be given together');
      }
      const clusterSigning = options.clusterSigningCertFile && options.clusterSigningKeyFile
        ? { certPem: await readFile(options.clusterSigningCertFile, 'utf8'), keyPem: await readFile(options.clusterSigningKeyFile, 'utf8') }
        : undefined;
      const run = () => runControllerManager({
        kubeconfigPath, controllers, nodeMonitorGracePeriodSeconds: parseDurationMs(options.nodeMonitorGracePeriod) / 1000, horizontalPodAutoscaler,
        ...(clusterSigning ? { clusterSigning } : {}),
      });
      // With --leader-elect only the holder of the kube-system/kube-controller-manager Lease acts.
      const election = leaderElectionFromFlags(options, kubeconfigPath);
      const { runLeaderElected } = await import('../clients/leader-election.ts');
      const controller = election
        ? runLeaderElected({ ...election, logger: { info: (m) => console.error(`controllers: ${m}`), warn: (m) => console.error(`controllers: ${m}`) } }, run)
        : await run();
      closeOnSignals(() => controller.stop());
    });
};

/** Subcommands in help order. */
export const SUBCOMMANDS: RegisterSubcommand[] = [
  registerUpCommand, registerServerCommand, registerSchedulerCommand,
  (program) => { registerKubeletCommand(program); }, registerControllersCommand, registerMigrateCommand, registerRepairCommand,
  registerCredentialCommands, registerBenchCommand,
];

export function buildCli(subcommands: RegisterSubcommand[] = SUBCOMMANDS): Command {
  const program = new Command('kubefacade')
    .description('A Kubernetes-compatible API server with a bundled scheduler and simulated kubelets')
    .showHelpAfterError()
    .enablePositionalOptions();
  for (const register of subcommands) register(program);
  return program;
}

export async function runCli(argv: string[] = process.argv): Promise<void> {
  await buildCli().parseAsync(argv);
}

const invokedDirectly = process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  runCli().catch((err: unknown) => {
    console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
