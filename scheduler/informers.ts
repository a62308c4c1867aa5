// client-node informers that keep running: ListWatch emits 'error' and stops on connection errors or
// failed lists (a 410 alone makes it relist). We restart it with capped exponential backoff, so the
// scheduler survives API server restarts; the relist reconciles whatever changed meanwhile.
import { ListWatch, Watch, type KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import type { EventLogger } from './event-recorder.ts';

export interface InformerHandlers<T> {
  add(obj: T): void;
  update(obj: T): void;
  delete(obj: T): void;
}

export interface ResilientInformer {
  /** Resolves after the first successful list has been delivered. */
  synced: Promise<void>;
  stop(): Promise<void>;
}

const INITIAL_RESTART_DELAY_MS = 200;
const MAX_RESTART_DELAY_MS = 5_000;

export function startResilientInformer<T extends KubernetesObject>(
  kubeConfig: KubeConfig,
  path: string,
  list: () => Promise<KubernetesListObject<T>>,
  fieldSelector: string | undefined,
  handlers: InformerHandlers<T>,
  logger: EventLogger,
): ResilientInformer {
  let stopped = false;
  let restartTimer: NodeJS.Timeout | undefined;
  let restartDelay = INITIAL_RESTART_DELAY_MS;
  let markSynced: () => void = () => {};
  const synced = new Promise<void>((resolve) => {
    markSynced = resolve;
  });
  const listAndMarkSynced = async (): Promise<KubernetesListObject<T>> => {
    const result = await list();
    restartDelay = INITIAL_RESTART_DELAY_MS;
    // Handlers for the listed items run synchronously right after this resolves; mark synced after them.
    setImmediate(markSynced);
    return result;
  };
  const informer = new ListWatch<T>(path, new Watch(kubeConfig), listAndMarkSynced, false, undefined, fieldSelector);
  informer.on('add', (obj) => handlers.add(obj));
  informer.on('update', (obj) => handlers.update(obj));
  informer.on('delete', (obj) => handlers.delete(obj));
  informer.on('error', (err) => {
    if (stopped) return;
    logger.error('informer stopped, restarting', { path, fieldSelector, error: String(err), retryInMs: restartDelay });
    restartTimer = setTimeout(() => {
      restartTimer = undefined;
      if (!stopped) void informer.start();
    }, restartDelay);
    restartDelay = Math.min(restartDelay * 2, MAX_RESTART_DELAY_MS);
  });
  void informer.start();
  return {
    synced,
    async stop() {
      stopped = true;
      if (restartTimer) clearTimeout(restartTimer);
      await informer.stop();
    },
  };
}
