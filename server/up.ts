// `kubefacade up`: the API server, the scheduler, N simulated nodes and the controller manager
// (workload controllers, garbage collector, node lifecycle, service-account, endpoints, EndpointSlice
// and resource quota controllers) in one process. The components still talk to the API server over HTTPS with a
// kubeconfig, exactly as they would as separate processes (or against a real cluster), each with
// its own least-privilege identity (server/component-credentials.ts).

import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { runControllerManager } from '../controllers/manager.ts';
import type { HorizontalControllerOptions } from '../controllers/podautoscaler/horizontal-controller.ts';
import { runLoadBalancerController } from '../controllers/service-load-balancer.ts';
import { runKubelets } from '../kubelet/index.ts';
import { nodeName } from '../kubelet/node-addressing.ts';
import { runScheduler } from '../scheduler/index.ts';
import { runLeaderElected, type LeaderWork } from '../clients/leader-election.ts';
import { writeComponentKubeconfigs } from './component-credentials.ts';
import { startApiServer, type ApiServerOptions, type RunningApiServer } from './start.ts';
import { startPhase } from './start-timeline.ts';
import { controlPlaneLogging } from './control-plane-pods.ts';

export interface UpOptions extends ApiServerOptions {
  nodes: number;
  nodeCpu: string;
  nodeMemory: string;
  nodePods: number;
  /** Simulated image pull time; undefined: 0.5–2.5 s, stable per image. */
  imagePullDelayMs?: number;
  /** Port of every simulated kubelet on its own loopback address (0: any free port). */
  kubeletPort: number;
  nodeMonitorGracePeriodSeconds: number;
  /** Kubelet lease renewal and status check period; default: 10 s, or a quarter of a shorter grace period. */
  nodeLeaseRenewIntervalMs?: number;
  /** How often the node lifecycle controller checks nodes; default: 5 s, or a quarter of a shorter grace period. */
  nodeMonitorPeriodSeconds?: number;
  quiet?: boolean;
  /** Run the scheduler and the controller only while holding their leader Leases (replicas on one etcd). */
  leaderElect?: boolean;
  /** Addresses for LoadBalancer services (the simulated cloud load balancer); unset: they stay pending. */
  loadBalancerIpPool?: string;
  /**
   * Mirror pods for the control plane in kube-system on the first node (kube-apiserver-node01, …), whose logs are
   * the components' own lines (server/control-plane-pods.ts). `kubefacade up` turns them on; the library leaves
   * them off unless asked, so suites that count pods see only their own.
   */
  controlPlanePods?: boolean;
  /** The scheduler's GET /metrics on 127.0.0.1:<port> (0: any free port; unset: none). */
  schedulerMetricsPort?: number;
  /** klog's --v for the scheduler, controller manager and API server logs (0: default). */
  verbosity?: number;
  /** The horizontal pod autoscaler's --horizontal-pod-autoscaler-* settings (default: upstream's). */
  horizontalPodAutoscaler?: Partial<HorizontalControllerOptions>;
  /** The controller manager's clock (tests that move time for CronJobs): milliseconds since the epoch. */
  controllerClock?: () => number;
}

export interface RunningCluster {
  apiServer: RunningApiServer;
  nodes: string[];
  /** Where the scheduler serves /metrics, when asked (schedulerMetricsPort). */
  schedulerMetricsUrl?: string;
  stop(): Promise<void>;
}

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

export async function startCluster(options: UpOptions): Promise<RunningCluster> {
  // Upstream's defaults keep renewal (10 s) and monitoring (5 s) well inside the 40 s grace period. A shorter grace
  // period with the same renewal would declare every healthy node Unknown, so both scale down with it.
  const quarterOfGraceMs = (options.nodeMonitorGracePeriodSeconds * 1000) / 4;
  const leaseRenewIntervalMs = options.nodeLeaseRenewIntervalMs ?? Math.max(100, Math.min(10_000, quarterOfGraceMs));
  const monitorPeriodSeconds = options.nodeMonitorPeriodSeconds ?? Math.max(0.1, Math.min(5, quarterOfGraceMs / 1000));
  const verbosity = options.verbosity ?? 0;
  const controlPlane = options.controlPlanePods
    ? controlPlaneLogging({ verbosity, quiet: options.quiet ?? false, storeKind: options.etcd ? 'etcd' : options.storage === 'memory' ? 'memory' : 'leveldb' })
    : undefined;
  const requestLog = controlPlane && verbosity >= 3
    ? (line: { verb: string; path: string; status: number; latencyMs: number; user: string }) => {
      // httplog's line, which kube-apiserver writes at --v=3.
      controlPlane.apiServer.info('HTTP', { verb: line.verb, URI: line.path, latency: `${line.latencyMs}ms`, user: line.user, resp: line.status });
      options.log?.(line);
    }
    : options.log;
  const apiServer = await startApiServer({ ...options, log: requestLog });
  if (controlPlane) {
    const store = options.etcd ? `etcd ${options.etcd.endpoints.join(',')}` : options.storage === 'memory' ? 'memory' : `LevelDB in ${resolve(options.dataDir)}`;
    controlPlane.store.info('Storage opened', { backend: store, revision: await apiServer.storage.currentRevision() });
    controlPlane.apiServer.info(`Serving securely on ${apiServer.url.replace(/^https:\/\//, '')}`);
  }
  const stops: (() => Promise<void>)[] = [];
  try {
    const kubeconfigs = await writeComponentKubeconfigs(resolve(options.dataDir), apiServer.url, apiServer.credentials,
      Array.from({ length: options.nodes }, (_, i) => nodeName('node', i + 1)));
    startPhase('component kubeconfigs');
    const elected = async (kubeconfigPath: string, leaseName: string, start: () => Promise<LeaderWork>): Promise<LeaderWork> => (options.leaderElect
      ? runLeaderElected({ kubeconfigPath, leaseName, logger: options.quiet ? silent : { info: console.error, warn: console.error } }, start)
      : start());
    const scheduler = await elected(kubeconfigs.scheduler, 'kube-scheduler', () => runScheduler({
      kubeconfigPath: kubeconfigs.scheduler, verbosity,
      ...(options.schedulerMetricsPort !== undefined ? { metricsBindAddress: { host: '127.0.0.1', port: options.schedulerMetricsPort } } : {}),
      ...(controlPlane ? { logger: controlPlane.scheduler } : options.quiet ? { logger: silent } : {}),
    }));
    stops.push(() => scheduler.stop());
    startPhase('scheduler');
    // The controller manager's controllers run under one leader Lease, as kube-controller-manager's do.
    const controller = await elected(kubeconfigs.controllerManager, 'kube-controller-manager', async () => {
      const workloads = await runControllerManager({
        kubeconfigPath: kubeconfigs.controllerManager, nodeMonitorGracePeriodSeconds: options.nodeMonitorGracePeriodSeconds,
        nodeMonitorPeriodSeconds: monitorPeriodSeconds, horizontalPodAutoscaler: options.horizontalPodAutoscaler, rootCaCertPem: apiServer.caCertPem,
        // kube-controller-manager's --cluster-signing-cert-file/--cluster-signing-key-file: the cluster CA.
        clusterSigning: { certPem: apiServer.caCertPem, keyPem: await readFile(join(resolve(options.dataDir), 'pki', 'ca.key'), 'utf8') },
        ...(options.controllerClock ? { now: options.controllerClock } : {}),
        ...(controlPlane ? { logger: controlPlane.controllerManager } : options.quiet ? { logger: silent } : {}),
      });
      const loadBalancers = options.loadBalancerIpPool === undefined ? undefined : await runLoadBalancerController({
        kubeconfigPath: kubeconfigs.controllerManager, pool: options.loadBalancerIpPool, ...(options.quiet ? { logger: silent } : {}),
      }).catch(async (err: unknown) => { await workloads.stop(); throw err; });
      return {
        async stop() {
          await loadBalancers?.stop();
          await workloads.stop();
        },
      };
    });
    stops.push(() => controller.stop());
    startPhase('controllers');
    const kubelets = await runKubelets({
      kubeconfigPath: kubeconfigs.kubelet,
      nodeKubeconfig: kubeconfigs.node,
      nodeCount: options.nodes,
      cpu: options.nodeCpu,
      memory: options.nodeMemory,
      pods: options.nodePods,
      imagePullDelayMs: options.imagePullDelayMs,
      kubeletPort: options.kubeletPort,
      // A cluster whose services have two families has a dual-stack pod network too.
      dualStack: (options.serviceClusterIpRange ?? '').split(',').length === 2,
      leaseRenewIntervalMs,
      statusUpdateIntervalMs: leaseRenewIntervalMs,
      ...(controlPlane ? { staticPods: controlPlane.staticPods } : {}),
      verbosity,
      ...(options.quiet ? { logger: silent } : {}),
    });
    stops.push(() => kubelets.stop());
    startPhase('kubelets started');
    const schedulerMetricsPort = (scheduler as { metricsPort?: number }).metricsPort;
    return {
      apiServer,
      nodes: kubelets.nodes,
      ...(schedulerMetricsPort !== undefined ? { schedulerMetricsUrl: `https://127.0.0.1:${schedulerMetricsPort}/metrics` } : {}),
      async stop() {
        for (const stop of stops.reverse()) await stop();
        await apiServer.close();
      },
    };
  } catch (err) {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    await apiServer.close();
    throw err;
  }
}
