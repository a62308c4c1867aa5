// The leader election flags, named as kube-scheduler and kube-controller-manager name them, for
// any subcommand that runs a component which must be the only active instance.

import { InvalidArgumentError, type Command } from 'commander';
import type { LeaderElectionOptions } from './leader-election.ts';

export interface LeaderElectionFlags {
  leaderElect?: boolean;
  leaderElectLeaseDuration: string;
  leaderElectRenewDeadline: string;
  leaderElectRetryPeriod: string;
  leaderElectResourceName: string;
  leaderElectResourceNamespace: string;
}

/** Go durations as kube flags take them: 500ms, 2s, 1m30s. */
export function parseGoDurationMs(value: string): number {
  const text = value.trim();
  if (!/^(\d+(\.\d+)?(ms|s|m|h))+$/.test(text)) throw new InvalidArgumentError('must be a duration such as 500ms, 2s or 1m');
  let total = 0;
  for (const part of text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) {
    const amount = Number(part[1]);
    total += amount * { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[part[2] as 'ms' | 's' | 'm' | 'h'];
  }
  return total;
}

export function addLeaderElectionFlags(command: Command, defaultResourceName: string): Command {
  return command
    .option('--leader-elect', 'run as one of several candidates; only the holder of the leader Lease is active')
    .option('--leader-elect-lease-duration <duration>', 'how long a leader holds the lease without renewing it', '15s')
    .option('--leader-elect-renew-deadline <duration>', 'how long the leader retries renewing before it stops leading', '10s')
    .option('--leader-elect-retry-period <duration>', 'time between attempts to acquire or renew the lease', '2s')
    .option('--leader-elect-resource-name <name>', 'name of the Lease used for election', defaultResourceName)
    .option('--leader-elect-resource-namespace <namespace>', 'namespace of the Lease used for election', 'kube-system');
}

/** The elector settings when --leader-elect is given, else undefined. */
export function leaderElectionFromFlags(flags: LeaderElectionFlags, kubeconfigPath: string): LeaderElectionOptions | undefined {
  if (!flags.leaderElect) return undefined;
  return {
    kubeconfigPath,
    leaseName: flags.leaderElectResourceName,
    leaseNamespace: flags.leaderElectResourceNamespace,
    leaseDurationMs: parseGoDurationMs(flags.leaderElectLeaseDuration),
    renewDeadlineMs: parseGoDurationMs(flags.leaderElectRenewDeadline),
    retryPeriodMs: parseGoDurationMs(flags.leaderElectRetryPeriod),
  };
}
