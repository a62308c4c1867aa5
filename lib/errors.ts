// The errors the library throws, typed so a test harness can tell a mistake in its options from an
// environment that cannot host a cluster (port taken, data dir unwritable or from another version,
// etcd unreachable).

/** An option of startCluster/startApiServer is invalid; `option` names it as the options object spells it. */
export class KubefacadeOptionError extends TypeError {
  override readonly name = 'KubefacadeOptionError';
  constructor(readonly option: string, problem: string) {
    super(`invalid option ${option}: ${problem}`);
  }
}

export type StartFailureReason = 'PortInUse' | 'DataDirNotWritable' | 'IncompatibleDataDir' | 'EtcdUnreachable';

/** The cluster could not start; nothing it created is left behind (no listener, no half-written data dir). */
export class KubefacadeStartError extends Error {
  override readonly name = 'KubefacadeStartError';
  constructor(readonly reason: StartFailureReason, message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
