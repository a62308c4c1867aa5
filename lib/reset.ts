// cluster.reset() and the wait for Ready nodes, done on the store itself (as etcd's own tooling would):
// the objects that existed once the cluster was up (default namespaces, bootstrap RBAC, nodes and
// their leases, leader leases, ...) are the bootstrap set; reset deletes every other key. Deletes go
// through the store like any delete, so resourceVersions keep increasing and every watcher (informers,
// kubelets, the scheduler, the server's own caches) sees DELETED.

import type { KubeObject } from '../api/object.ts';
import { KeyNotFoundError, type Storage, type WatchHandle } from '../storage/interface.ts';

const ROOT = '/registry/';
/** Deletes in flight at once: the LevelDB committer groups them into few batches. */
const DELETE_CONCURRENCY = 64;

async function allKeys(storage: Storage): Promise<string[]> {
  const listed = await storage.list(ROOT);
  if (!listed.keys) throw new Error('the store did not return the keys of a list');
  return listed.keys;
}

/** The keys present now: what reset keeps. */
export async function bootstrapKeys(storage: Storage): Promise<ReadonlySet<string>> {
  return new Set(await allKeys(storage));
}

/** Deletes every key not in `keep`; bootstrap objects changed since are left as they are. */
export async function resetStore(storage: Storage, keep: ReadonlySet<string>): Promise<void> {
  // Namespaced objects before their namespaces, so no watcher sees an object outlive its namespace.
  const doomed = (await allKeys(storage)).filter((key) => !keep.has(key))
    .sort((a, b) => Number(a.startsWith('/registry/namespaces/')) - Number(b.startsWith('/registry/namespaces/')));
  const namespaces = doomed.filter((key) => key.startsWith('/registry/namespaces/'));
  const others = doomed.filter((key) => !key.startsWith('/registry/namespaces/'));
  for (const keys of [others, namespaces]) {
    for (let i = 0; i < keys.length; i += DELETE_CONCURRENCY) {
      await Promise.all(keys.slice(i, i + DELETE_CONCURRENCY).map(async (key) => {
        try {
          await storage.delete(key);
        } catch (error) {
          // Deleted meanwhile (a kubelet confirming a pod's deletion, the namespace controller).
          if (!(error instanceof KeyNotFoundError)) throw error;
        }
      }));
    }
  }
}

function isReady(node: KubeObject): boolean {
  const conditions = (node.status as { conditions?: { type?: string; status?: string }[] } | undefined)?.conditions ?? [];
  return conditions.some((condition) => condition.type === 'Ready' && condition.status === 'True');
}

/** Resolves once every named node has Ready=True (watching the store); rejects after `timeoutMs`. */
export async function waitForReadyNodes(storage: Storage, names: readonly string[], timeoutMs = 60_000): Promise<void> {
  if (names.length === 0) return;
  const pending = new Set(names);
  const listed = await storage.list('/registry/nodes/');
  for (const node of listed.items) if (isReady(node) && node.metadata.name) pending.delete(node.metadata.name);
  if (pending.size === 0) return;
  await new Promise<void>((done, fail) => {
    // Events may arrive synchronously from inside watch(): the handle is stopped once it exists.
    let handle: WatchHandle | undefined;
    let finished = false;
    const finish = (error?: Error) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      handle?.stop();
      if (error) fail(error);
      else done();
    };
    const timer = setTimeout(() => finish(new Error(`nodes not Ready within ${timeoutMs}ms: ${[...pending].join(', ')}`)), timeoutMs);
    handle = storage.watch('/registry/nodes/', { fromRevision: listed.revision }, {
      onEvent(event) {
        const name = event.object.metadata.name;
        if (event.type !== 'DELETED' && name && isReady(event.object)) pending.delete(name);
        if (pending.size === 0) finish();
      },
      onError: (error) => finish(error),
    });
    if (finished) handle.stop();
  });
}
