// `kubefacade kubelet …`: the commander definition the main CLI mounts (server/cli.ts adds it with
// registerKubeletCommand(program)). Runs until SIGINT/SIGTERM.
import { join } from 'node:path';
import type { Command } from 'commander';
import { parseDurationMs } from './container-behaviour.ts';
import { parseNodeLabels, parseRegistrationTaints, type RegistrationTaint } from './node-object.ts';

function duration(value: string): number {
  const ms = parseDurationMs(value);
  if (ms === undefined) throw new Error(`invalid duration "${value}" (use e.g. 500ms, 2s, 1m)`);
  return ms;
}

function integer(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0) throw new Error(`invalid number "${value}"`);
  return parsed;
}

export function registerKubeletCommand(program: Command): Command {
  return program
    .command('kubelet')
    .description('run simulated kubelets (nodes) against an API server')
    .requiredOption('--kubeconfig <file>', 'kubeconfig of the API server to register with')
    .option('--node-kubeconfig-dir <dir>', 'per-node credentials: each node writes with <dir>/<node>.kubeconfig (system:node:<node>)')
    .option('--nodes <count>', 'number of simulated nodes', integer, 3)
    .option('--name-prefix <prefix>', 'node names are <prefix>01, <prefix>02 …', 'node')
    .option('--first-index <n>', 'index of the first node (for several kubelet processes)', integer, 1)
    .option('--cpu <quantity>', 'cpu capacity per node', '4')
    .option('--memory <quantity>', 'memory capacity per node', '8Gi')
    .option('--pods <count>', 'pod capacity per node', integer, 110)
    .option('--node-labels <labels>', 'labels to add when registering the nodes: key=value,key2=value2', parseNodeLabels)
    .option('--register-with-taints <taints>', 'taints to register the nodes with: key=value:Effect,key:Effect', parseRegistrationTaints)
    .option('--image-pull-delay <duration>', 'simulated time per image pull (default: 0.5-2.5s, stable per image)', duration)
    .option('--step-delay <duration>', 'simulated time from an image being ready to the container being created (0s: a pod starts in one status write)', duration, 100)
    .option('--kubelet-port <port>', 'HTTPS port of each node\'s endpoint on its loopback IP (0: any)', integer, 10250)
    .option('--node-lease-renew-interval <duration>', 'lease renewal period', duration, 10_000)
    .option('--node-status-update-frequency <duration>', 'node status check period', duration, 10_000)
    .option('--dual-stack', 'dual-stack pod network: each node also gets an IPv6 /64 from fd00:10:244::/48 and each pod an IPv6 address in status.podIPs (default: IPv4 only)', false)
    .option('-v, --v <level>', 'log verbosity (klog): 2 logs the sync loop\'s pod additions, removals and container starts', integer, 0)
    .option('--show-hidden-metrics-for-version <version>', 'the previous minor version (1.31): show metrics hidden since it (scrape_error on /metrics/resource)')
    .action(async (options: {
      kubeconfig: string; nodeKubeconfigDir?: string; nodes: number; namePrefix: string; firstIndex: number; cpu: string; memory: string; pods: number;
      nodeLabels?: Record<string, string>; registerWithTaints?: RegistrationTaint[];
      imagePullDelay?: number; stepDelay: number; kubeletPort: number; nodeLeaseRenewInterval: number; nodeStatusUpdateFrequency: number; v: number; dualStack: boolean;
      showHiddenMetricsForVersion?: string;
    }) => {
      // Loaded on use: the kubelets' client stack is not needed by the other subcommands.
      const { runKubelets } = await import('./index.ts');
      const running = await runKubelets({
        kubeconfigPath: options.kubeconfig,
        nodeKubeconfig: options.nodeKubeconfigDir ? (node) => join(options.nodeKubeconfigDir!, `${node}.kubeconfig`) : undefined,
        nodeCount: options.nodes, namePrefix: options.namePrefix, firstIndex: options.firstIndex,
        cpu: options.cpu, memory: options.memory, pods: options.pods,
        nodeLabels: options.nodeLabels, registerWithTaints: options.registerWithTaints, imagePullDelayMs: options.imagePullDelay,
        stepDelayMs: options.stepDelay, dualStack: options.dualStack,
        kubeletPort: options.kubeletPort, leaseRenewIntervalMs: options.nodeLeaseRenewInterval,
        statusUpdateIntervalMs: options.nodeStatusUpdateFrequency,
        verbosity: options.v,
        showHiddenMetricsForVersion: options.showHiddenMetricsForVersion,
      });
      console.log(`kubelet: running nodes ${running.nodes.join(', ')}`);
      await new Promise<void>((resolve) => {
        const shutdown = (): void => resolve();
        process.once('SIGINT', shutdown);
        process.once('SIGTERM', shutdown);
      });
      await running.stop();
    });
}
