// An example operator, written as operator authors write them with @kubernetes/client-node: an
// informer on a custom kind (CronTab, stable.example.com/v1), a work queue that collapses repeated
// events for one object and retries failures with back-off, and a reconcile that writes the
// object's status through the status subresource. Run it against kubefacade (or any cluster):
//
//   node --import tsx examples/crontab-controller/controller.ts --kubeconfig data/admin.kubeconfig
//
// It reports status.replicas (= spec.replicas), status.observedGeneration and a Ready condition.

import * as k8s from '@kubernetes/client-node';

export const GROUP = 'stable.example.com';
export const VERSION = 'v1';
export const PLURAL = 'crontabs';

export interface CronTab extends k8s.KubernetesObject {
  spec?: { cronSpec?: string; image?: string; replicas?: number };
  status?: {
    replicas?: number;
    observedGeneration?: number;
    conditions?: { type: string; status: 'True' | 'False'; reason: string; message: string; lastTransitionTime: string }[];
  };
}

interface CronTabList extends k8s.KubernetesListObject<CronTab> {}

/** Keys queued once however many events arrive; failed keys come back after a growing delay. */
class WorkQueue {
  private readonly queued = new Set<string>();
  private readonly failures = new Map<string, number>();
  private waiting: (() => void) | undefined;
  private stopped = false;

  add(key: string): void {
    if (this.stopped) return;
    this.queued.add(key);
    this.waiting?.();
  }

  retryLater(key: string): void {
    const attempts = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, attempts);
    setTimeout(() => this.add(key), Math.min(5 * 2 ** attempts, 10_000)).unref();
  }

  forget(key: string): void {
    this.failures.delete(key);
  }

  async next(): Promise<string | undefined> {
    while (!this.stopped && this.queued.size === 0) await new Promise<void>((resolve) => { this.waiting = resolve; });
    if (this.stopped) return undefined;
    const [key] = this.queued;
    this.queued.delete(key);
    return key;
  }

  stop(): void {
    this.stopped = true;
    this.waiting?.();
  }
}

export interface RunningController {
  /** Resolves when the informer has listed everything once. */
  synced: Promise<void>;
  stop(): Promise<void>;
}

export function startCronTabController(kubeconfig: k8s.KubeConfig, log: (line: string) => void = () => undefined): RunningController {
  const api = kubeconfig.makeApiClient(k8s.CustomObjectsApi);
  const listFn = async (): Promise<CronTabList> =>
    (await api.listClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL })) as CronTabList;
  const informer = k8s.makeInformer<CronTab>(kubeconfig, `/apis/${GROUP}/${VERSION}/${PLURAL}`, listFn);
  const queue = new WorkQueue();
  const keyOf = (o: CronTab): string => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
  informer.on('add', (o) => queue.add(keyOf(o)));
  informer.on('update', (o) => queue.add(keyOf(o)));
  informer.on('error', (err) => {
    log(`informer error: ${String(err)}; restarting`);
    setTimeout(() => void informer.start(), 1000).unref();
  });

  const reconcile = async (key: string): Promise<void> => {
    const [namespace, name] = key.split('/');
    const cached = informer.get(name, namespace);
    if (!cached) return; // deleted meanwhile
    const replicas = cached.spec?.replicas ?? 1;
    const generation = cached.metadata?.generation ?? 0;
    if (cached.status?.replicas === replicas && cached.status.observedGeneration === generation) return;
    const ready = Boolean(cached.spec?.image);
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const updated: CronTab = structuredClone(cached);
    updated.status = {
      replicas,
      observedGeneration: generation,
      conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', reason: ready ? 'Scheduled' : 'NoImage', message: ready ? `running ${replicas} replica(s) of ${cached.spec?.image}` : 'spec.image is empty', lastTransitionTime: now }],
    };
    // A PUT on /status with the cached resourceVersion: a conflict means a newer object is on its way.
    await api.replaceNamespacedCustomObjectStatus({ group: GROUP, version: VERSION, namespace, plural: PLURAL, name, body: updated });
    log(`reconciled ${key}: replicas=${replicas}`);
  };

  let running = true;
  const worker = (async () => {
    for (;;) {
      const key = await queue.next();
      if (key === undefined || !running) return;
      try {
        await reconcile(key);
        queue.forget(key);
      } catch (err) {
        log(`reconcile ${key} failed: ${(err as Error).message}`);
        queue.retryLater(key);
      }
    }
  })();

  return {
    synced: informer.start(),
    async stop() {
      running = false;
      queue.stop();
      await informer.stop();
      await worker;
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const at = process.argv.indexOf('--kubeconfig');
  const kubeconfig = new k8s.KubeConfig();
  if (at > 0) kubeconfig.loadFromFile(process.argv[at + 1]);
  else kubeconfig.loadFromDefault();
  const controller = startCronTabController(kubeconfig, (line) => console.log(line));
  process.once('SIGINT', () => void controller.stop().then(() => process.exit(0)));
  process.once('SIGTERM', () => void controller.stop().then(() => process.exit(0)));
}
