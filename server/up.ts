// `kubefacade up`: the API server, the scheduler, N simulated nodes and the controller manager
// (workload controllers, garbage collector, node lifecycle, service-account, endpoints, EndpointSlice
// and resource quota controllers) in one process. The components still talk to the API server over HTTPS with a
// kubeconfig, exactly as they would as separate processes (or against a real cluster), each with
// its own least-privilege identity (server/component-credentials.ts).

import { resolve } from 'node:path';
import { runControllerManager } from '../controllers/manager.ts';
import { runLoadBalancerController } from '../controllers/service-load-balancer.ts';
import { runKubelets } from '../kubelet/index.ts';
import { nodeName } from '../kubelet/node-addressing.ts';
import { runScheduler } from '../scheduler/index.ts';
import { runLeaderElected, type LeaderWork } from '../clients/leader-election.ts';
import { writeComponentKubeconfigs } from './component-credentials.ts';
import { startApiServer, type ApiServerOptions, type RunningApiServer } from './start.ts';

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
}

export interface RunningCluster {
  apiServer: RunningApiServer;
  nodes: string[];
  stop(): Promise<void>;
}

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

export async function startCluster(options: UpOptions): Promise<RunningCluster> {
  // Upstream's defaults keep renewal (10 s) and monitoring (5 s) well inside the 40 s grace period. A shorter grace
  // period with the same renewal would declare every healthy node Unknown, so both scale down with it.
  const quarterOfGraceMs = (options.nodeMonitorGracePeriodSeconds * 1000) / 4;
  const leaseRenewIntervalMs = options.nodeLeaseRenewIntervalMs ?? Math.max(100, Math.min(10_000, quarterOfGraceMs));
  const monitorPeriodSeconds = options.nodeMonitorPeriodSeconds ?? Math.max(0.1, Math.min(5, quarterOfGraceMs / 1000));
  const apiServer = await startApiServer(options);
  const stops: (() => Promise<void>)[] = [];
  try {
    const kubeconfigs = await writeComponentKubeconfigs(resolve(options.dataDir), apiServer.url, apiServer.credentials,
      Array.from({ length: options.nodes }, (_, i) => nodeName('node', i + 1)));
    const elected = async (kubeconfigPath: string, leaseName: string, start: () => Promise<LeaderWork>): Promise<LeaderWork> => (options.leaderElect
      ? runLeaderElected({ kubeconfigPath, leaseName, logger: options.quiet ? silent : { info: console.error, warn: console.error } }, start)
      : start());
    const scheduler = await elected(kubeconfigs.scheduler, 'kube-scheduler', () => runScheduler({
      kubeconfigPath: kubeconfigs.scheduler, ...(options.quiet ? { logger: silent } : {}),
    }));
    stops.push(() => scheduler.stop());
    // The controller manager's controllers run under one leader Lease, as kube-controller-manager's do.
    const controller = await elected(kubeconfigs.controllerManager, 'kube-controller-manager', async () => {
      const workloads = await runControllerManager({
        kubeconfigPath: kubeconfigs.controllerManager, nodeMonitorGracePeriodSeconds: options.nodeMonitorGracePeriodSeconds,
        nodeMonitorPeriodSeconds: monitorPeriodSeconds, rootCaCertPem: apiServer.caCertPem,
        ...(options.quiet ? { logger: silent } : {}),
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
    const kubelets = await runKubelets({
      kubeconfigPath: kubeconfigs.kubelet,
      nodeKubeconfig: kubeconfigs.node,
      nodeCount: options.nodes,
      cpu: options.nodeCpu,
      memory: options.nodeMemory,
      pods: options.nodePods,
      imagePullDelayMs: options.imagePullDelayMs,
      kubeletPort: options.kubeletPort,
      leaseRenewIntervalMs,
      statusUpdateIntervalMs: leaseRenewIntervalMs,
      ...(options.quiet ? { logger: silent } : {}),
    });
    stops.push(() => kubelets.stop());
    return {
      apiServer,
      nodes: kubelets.nodes,
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
