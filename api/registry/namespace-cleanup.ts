// What kube-controller-manager's namespace controller does, run inside the API server process:
// a namespace marked for deletion (phase Terminating) has everything in it deleted, and once it is
// empty its `kubernetes` finalizer is removed and the namespace goes. Pods bound to nodes are
// deleted gracefully, so the namespace stays until their kubelets confirm.

import { StatusError } from '../errors.ts';
import { deepCopy, isPlainObject, type KubeObject } from '../object.ts';
import type { ApiRegistry } from './registry.ts';
import { ADMIN_SYSTEM_USER } from './system-user.ts';

const FINALIZER = 'kubernetes';

export class NamespaceCleanup {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private stopped = false;

  constructor(private readonly registry: ApiRegistry, private readonly intervalMs = 1000) {}

  start(): void {
    const tick = async (): Promise<void> => {
      if (this.stopped) return;
      if (!this.running) {
        this.running = true;
        try {
          await this.sweep();
        } catch {
          // A failed sweep is retried on the next tick (e.g. a conflicting write meanwhile).
        } finally {
          this.running = false;
        }
      }
      if (!this.stopped) this.timer = setTimeout(tick, this.intervalMs);
    };
    this.timer = setTimeout(tick, this.intervalMs);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  /** One pass over all terminating namespaces. */
  async sweep(): Promise<void> {
    const namespaces = this.registry.lookup('', 'v1', 'namespaces');
    if (!namespaces) return;
    const listed = await namespaces.storage.list(namespaces.prefix(''), { predicate: (ns) => Boolean(ns.metadata.deletionTimestamp) });
    for (const ns of listed.items) await this.cleanup(ns);
  }

  private async cleanup(ns: KubeObject): Promise<void> {
    const name = ns.metadata.name!;
    let remaining = 0;
    for (const store of this.registry.all()) {
      if (!store.strategy.namespaced) continue;
      const contents = await store.storage.list(store.prefix(name));
      remaining += contents.items.length;
      for (const item of contents.items) {
        if (item.metadata.deletionTimestamp) continue;
        try {
          await store.delete({ user: ADMIN_SYSTEM_USER, namespace: name, now: new Date() }, item.metadata.name!, { dryRun: false, propagationPolicy: 'Background' });
        } catch (err) {
          if (!(err instanceof StatusError && (err.code === 404 || err.code === 409))) throw err;
        }
      }
    }
    if (remaining > 0) return;
    const namespaces = this.registry.lookup('', 'v1', 'namespaces')!;
    const key = namespaces.key('', name);
    const finalized = await namespaces.storage.guaranteedUpdate(key, (current) => {
      const spec = isPlainObject(current.spec) ? current.spec : {};
      const finalizers = Array.isArray(spec.finalizers) ? spec.finalizers : [];
      if (!finalizers.includes(FINALIZER)) return current;
      const next = deepCopy(current);
      next.spec = { ...spec, finalizers: finalizers.filter((f) => f !== FINALIZER) };
      return next;
    });
    const left = (finalized.spec as { finalizers?: string[] } | undefined)?.finalizers ?? [];
    if (left.length === 0 && (finalized.metadata.finalizers ?? []).length === 0) {
      await namespaces.storage.delete(key, { preconditions: { uid: finalized.metadata.uid } });
    }
  }
}
