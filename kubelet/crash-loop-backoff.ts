// CrashLoopBackOff timing, as the kubelet's flowcontrol.Backoff drives it (pkg/kubelet/kuberuntime doBackOff):
// the first exit restarts at once and arms a 10 s back-off; each later exit waits the armed back-off, then doubles it
// up to 5 min. A container that stayed up longer than twice the cap since its last restart starts over.

export interface BackOffPolicy {
  initialMs: number;
  maxMs: number;
}

export const KUBELET_BACKOFF: BackOffPolicy = { initialMs: 10_000, maxMs: 300_000 };

export interface BackOffEntry {
  backoffMs: number;
  /** When the back-off was last advanced (the restart it allowed). */
  lastUpdateMs: number;
}

export interface RestartDecision {
  /** How long to wait after the exit before starting the container again (0: right away). */
  delayMs: number;
  /** The entry to keep once the restart happens. */
  next: BackOffEntry;
}

export function decideRestart(entry: BackOffEntry | undefined, exitedAtMs: number, policy: BackOffPolicy = KUBELET_BACKOFF): RestartDecision {
  const expired = entry === undefined || exitedAtMs - entry.lastUpdateMs > 2 * policy.maxMs;
  if (expired) return { delayMs: 0, next: { backoffMs: policy.initialMs, lastUpdateMs: exitedAtMs } };
  const delayMs = entry.backoffMs;
  return { delayMs, next: { backoffMs: Math.min(entry.backoffMs * 2, policy.maxMs), lastUpdateMs: exitedAtMs + delayMs } };
}

/** Whether a container that exited with `exitCode` is started again under the pod's restartPolicy. */
export function shouldRestart(restartPolicy: string | undefined, exitCode: number): boolean {
  if (restartPolicy === 'Never') return false;
  if (restartPolicy === 'OnFailure') return exitCode !== 0;
  return true;
}
