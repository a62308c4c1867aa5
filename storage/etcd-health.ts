// The `etcd` health check of /healthz and /readyz for the etcd backend, as kube-apiserver's: etcd
// must answer a read within --etcd-healthcheck-timeout (2 s). /readyz asks synchronously here, so
// the read runs in the background every `intervalMs` and the check reports the latest outcome.

import type { StorageHealth } from './interface.ts';

export class EtcdHealthProbe {
  private state: StorageHealth = { healthy: true };
  private timer: NodeJS.Timeout | undefined;
  private inFlight = false;

  constructor(private readonly read: () => Promise<unknown>, private readonly intervalMs = 2_000, private readonly timeoutMs = 2_000) {}

  start(): void {
    this.timer = setInterval(() => void this.probe(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  health(): StorageHealth {
    return this.state;
  }

  private async probe(): Promise<void> {
    if (this.inFlight) {
      // The previous read has not come back at all: etcd is not answering.
      this.state = { healthy: false, reason: `etcd did not answer within ${this.intervalMs} ms` };
      return;
    }
    this.inFlight = true;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.timeoutMs);
      timer.unref();
    });
    const read = this.read().then(() => 'ok' as const);
    read.catch(() => undefined).finally(() => { this.inFlight = false; });
    try {
      const outcome = await Promise.race([read, timedOut]);
      this.state = outcome === 'ok' ? { healthy: true } : { healthy: false, reason: `etcd did not answer within ${this.timeoutMs} ms` };
    } catch (error) {
      this.state = { healthy: false, reason: `etcd: ${(error as Error).message}` };
    } finally {
      clearTimeout(timer);
    }
  }
}
