// client-node's ListWatch relists by itself on 410 Gone, but on any other error (API server down, connection reset)
// it emits 'error' and stops. This keeps it running: restart with capped exponential back-off.
import type { Informer, KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from './pod-worker.ts';

export interface InformerKeeper {
  stop(): Promise<void>;
}

export function keepInformerRunning<T extends KubernetesObject>(informer: Informer<T>, what: string, logger: Logger,
  backoff: { minMs: number; maxMs: number } = { minMs: 200, maxMs: 5000 }): InformerKeeper {
  let stopped = false;
  let delayMs = backoff.minMs;
  let timer: NodeJS.Timeout | undefined;
  let failing = false;
  informer.on('error', (error?: unknown) => {
    if (stopped) return;
    failing = true;
    logger.warn(`${what} watch failed (${String((error as Error | undefined)?.message ?? error)}); retrying in ${delayMs}ms`);
    timer = setTimeout(() => {
      timer = undefined;
      if (!stopped) void informer.start().catch(() => undefined);
    }, delayMs);
    delayMs = Math.min(delayMs * 2, backoff.maxMs);
  });
  const healthy = (): void => {
    if (failing) logger.info(`${what} watch re-established`);
    failing = false;
    delayMs = backoff.minMs;
  };
  informer.on('add', healthy);
  informer.on('update', healthy);
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await informer.stop();
    },
  };
}
