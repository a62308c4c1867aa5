// `kubefacade up`: the API server, the scheduler, N simulated nodes and the node lifecycle
// controller in one process. The components still talk to the API server over HTTPS with a
// kubeconfig, exactly as they would as separate processes (or against a real cluster).

import { runNodeLifecycleController } from '../controllers/node-lifecycle.ts';
import { runKubelets } from '../kubelet/index.ts';
import { runScheduler } from '../scheduler/index.ts';
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
  quiet?: boolean;
}

export interface RunningCluster {
  apiServer: RunningApiServer;
  nodes: string[];
  stop(): Promise<void>;
}

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

export async function startCluster(options: UpOptions): Promise<RunningCluster> {
  const apiServer = await startApiServer(options);
  const kubeconfigPath = apiServer.adminKubeconfigPath;
  const stops: (() => Promise<void>)[] = [];
  try {
    const scheduler = await runScheduler({ kubeconfigPath, ...(options.quiet ? { logger: silent } : {}) });
    stops.push(() => scheduler.stop());
    const controller = await runNodeLifecycleController({
      kubeconfigPath, gracePeriodSeconds: options.nodeMonitorGracePeriodSeconds, ...(options.quiet ? { logger: silent } : {}),
    });
    stops.push(() => controller.stop());
    const kubelets = await runKubelets({
      kubeconfigPath,
      nodeCount: options.nodes,
      cpu: options.nodeCpu,
      memory: options.nodeMemory,
      pods: options.nodePods,
      imagePullDelayMs: options.imagePullDelayMs,
      kubeletPort: options.kubeletPort,
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
