// `kubefacade scheduler --kubeconfig F`: flags named as kube-scheduler names them. Registered into the
// CLI by server/cli.ts's SUBCOMMANDS list (this folder imports nothing from server/).
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { addLeaderElectionFlags, leaderElectionFromFlags, type LeaderElectionFlags } from '../clients/leader-election-flags.ts';

interface SchedulerCommandOptions extends LeaderElectionFlags {
  kubeconfig: string;
  schedulerName: string;
  percentageOfNodesToScore: number;
  parallelism: number;
  v: number;
  metricsBindAddress?: string;
}

function parseNonNegativeInteger(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0) throw new InvalidArgumentError('must be a non-negative integer');
  return parsed;
}

function parseHostPort(value: string): { host: string; port: number } {
  const at = value.lastIndexOf(':');
  const port = Number(value.slice(at + 1));
  if (at <= 0 || !Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidArgumentError('--metrics-bind-address must be host:port');
  return { host: value.slice(0, at).replace(/^\[|\]$/g, ''), port };
}

export function registerSchedulerCommand(program: Command): void {
  addLeaderElectionFlags(program.command('scheduler'), 'kube-scheduler')
    .description('run the bundled scheduler against an API server (kube-scheduler default plugins)')
    .requiredOption('--kubeconfig <file>', 'kubeconfig with the API server address and credentials')
    .option('--scheduler-name <name>', 'schedule pods whose spec.schedulerName is this', 'default-scheduler')
    .option('--percentage-of-nodes-to-score <percent>', 'share of nodes to find feasible before scoring; 0 = adaptive', parseNonNegativeInteger, 0)
    .option('--parallelism <n>', 'bindings in flight at once; 0 = default (64)', parseNonNegativeInteger, 0)
    .option('--metrics-bind-address <host:port>', 'serve GET /metrics over HTTPS on this address, callers authorised by TokenReview and SubjectAccessReview (kube-scheduler: its secure port 10259)')
    .option('-v, --v <level>', 'log verbosity (klog): 2 logs every scheduling decision', parseNonNegativeInteger, 0)
    .action(async (options: SchedulerCommandOptions) => {
      const { runScheduler } = await import('./index.ts');
      const kubeconfigPath = path.resolve(options.kubeconfig);
      const run = () => runScheduler({
        kubeconfigPath,
        schedulerName: options.schedulerName,
        percentageOfNodesToScore: options.percentageOfNodesToScore,
        parallelism: options.parallelism,
        verbosity: options.v,
        ...(options.metricsBindAddress ? { metricsBindAddress: parseHostPort(options.metricsBindAddress) } : {}),
      });
      // With --leader-elect only the holder of the kube-system/kube-scheduler Lease schedules.
      const election = leaderElectionFromFlags(options, kubeconfigPath);
      const { runLeaderElected } = await import('../clients/leader-election.ts');
      const scheduler = election
        ? runLeaderElected({ ...election, logger: { info: (m) => console.error(`scheduler: ${m}`), warn: (m) => console.error(`scheduler: ${m}`) } }, run)
        : await run();
      let stopping = false;
      const onSignal = (): void => {
        if (stopping) return;
        stopping = true;
        scheduler.stop().then(() => process.exit(0), () => process.exit(1));
      };
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
    });
}
