// List-and-watch informers over raw JSON that keep running: on a failed list or watch they relist with capped
// exponential backoff (so the components survive API server restarts), on 410 Gone they relist at once, and a watch
// the server closes normally resumes from the last resourceVersion. Lists come in pages, so a relist holds one page
// of parsed objects at a time, not the whole collection.
//
// Unlike client-node's ListWatch they keep no copy of the objects: the handlers get each parsed object and keep what
// they need (the scheduler a pod's requests, the kubelet a PodView). The informer remembers only key → uid per
// object, enough to report the objects a relist no longer returns (or returns under a new uid) as deleted. At
// 150,000 pods that is the difference between a few MiB and every pod object resident in each component.
//
// Objects are as JSON.parse leaves them: fields client-node's models type as Date arrive as RFC 3339 strings.
import type { KubernetesObject } from '@kubernetes/client-node';
import { ApiStatusError, type JsonApiClient, type WatchEvent } from './json-api-client.ts';

export interface LeanInformerHandlers<T> {
  add(obj: T): void;
  update(obj: T): void;
  /**
   * `finalStateUnknown` (client-go's DeletedFinalStateUnknown): the object vanished while the informer was not
   * watching, found by a relist, and `obj` is a tombstone with metadata name, namespace and uid only.
   */
  delete(obj: T, finalStateUnknown: boolean): void;
}

/** The scheduler's EventLogger has this shape; the kubelet adapts its own logger to it. */
export interface InformerLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export interface LeanInformer {
  /** Resolves after the first successful list has been delivered. */
  synced: Promise<void>;
  stop(): Promise<void>;
}

interface ObjectList {
  metadata?: { resourceVersion?: string; continue?: string };
  items?: KubernetesObject[];
}

interface DeletedObjectTombstone {
  metadata: { name?: string; namespace?: string; uid?: string };
}

const INITIAL_RESTART_DELAY_MS = 200;
const MAX_RESTART_DELAY_MS = 5_000;
/** Pages keep the list's peak memory to one page of parsed objects at a time. */
export const LIST_PAGE_SIZE = 1000;
/** Watches end server-side after this long and resume from the last resourceVersion, as reflectors do. */
const WATCH_TIMEOUT_SECONDS = 300;

function objectKey(obj: KubernetesObject): string {
  const meta = obj.metadata;
  return meta?.namespace ? `${meta.namespace}/${meta.name}` : (meta?.name ?? '');
}

/** The stand-in handlers.delete gets for an object a relist no longer returns. */
function tombstoneFor(key: string, uid: string): DeletedObjectTombstone {
  const slash = key.indexOf('/');
  return slash < 0
    ? { metadata: { name: key, uid: uid || undefined } }
    : { metadata: { namespace: key.slice(0, slash), name: key.slice(slash + 1), uid: uid || undefined } };
}

function query(params: Record<string, string | undefined>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== undefined && value !== '') search.set(name, value);
  const text = search.toString();
  return text ? `?${text}` : '';
}

/** Thrown inside the loop when the watch reports 410 Gone: relist without waiting. */
class ResourceVersionExpired extends Error {}

/**
 * Lists `path` (a collection URL such as /api/v1/pods) with `fieldSelector`, then watches it from the list's
 * resourceVersion, delivering every object to `handlers` until stop().
 */
export function startLeanInformer<T extends KubernetesObject>(
  client: JsonApiClient,
  path: string,
  fieldSelector: string | undefined,
  handlers: LeanInformerHandlers<T>,
  logger: InformerLogger,
): LeanInformer {
  /** Object key (namespace/name) to uid: all the informer remembers of an object. */
  const known = new Map<string, string>();
  const abort = new AbortController();
  let restartDelay = INITIAL_RESTART_DELAY_MS;
  let failing = false;
  let markSynced: () => void = () => {};
  const synced = new Promise<void>((resolve) => {
    markSynced = resolve;
  });

  const deliver = (obj: KubernetesObject): void => {
    const key = objectKey(obj);
    const uid = obj.metadata?.uid ?? '';
    const knownUid = known.get(key);
    known.set(key, uid);
    if (knownUid === undefined) return handlers.add(obj as T);
    if (knownUid === uid || !knownUid || !uid) return handlers.update(obj as T);
    // Deleted and recreated under the same name while the informer was not watching: to handlers that track objects
    // by uid (the kubelet's pod workers, the scheduler's cache) these are two objects, not one that changed.
    handlers.delete(tombstoneFor(key, knownUid) as unknown as T, true);
    handlers.add(obj as T);
  };

  async function list(): Promise<string> {
    const seen = new Set<string>();
    let continueToken: string | undefined;
    let resourceVersion = '';
    do {
      const page = await client.request<ObjectList>('GET', path + query({
        fieldSelector, limit: String(LIST_PAGE_SIZE), continue: continueToken,
      }));
      if (abort.signal.aborted) return '';
      resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
      continueToken = page.metadata?.continue || undefined;
      for (const item of page.items ?? []) {
        seen.add(objectKey(item));
        deliver(item);
      }
    } while (continueToken);
    for (const [key, uid] of known) {
      if (seen.has(key)) continue;
      known.delete(key);
      handlers.delete(tombstoneFor(key, uid) as unknown as T, true);
    }
    return resourceVersion;
  }

  async function watchFrom(resourceVersion: string): Promise<string> {
    let latest = resourceVersion;
    await client.watch(path + query({
      watch: 'true', resourceVersion, allowWatchBookmarks: 'true', fieldSelector, timeoutSeconds: String(WATCH_TIMEOUT_SECONDS),
    }), (event: WatchEvent) => {
      if (event.type === 'ERROR') {
        if (event.object.code === 410) throw new ResourceVersionExpired(event.object.message ?? 'resource version expired');
        throw new Error(`watch error: ${event.object.message ?? JSON.stringify(event.object)}`);
      }
      latest = event.object.metadata?.resourceVersion ?? latest;
      if (event.type === 'BOOKMARK') return;
      const obj = event.object as KubernetesObject;
      if (event.type === 'DELETED') {
        known.delete(objectKey(obj));
        handlers.delete(obj as T, false);
      } else {
        deliver(obj);
      }
    }, abort.signal);
    return latest;
  }

  const sleep = (ms: number): Promise<void> => new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    abort.signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });

  async function run(): Promise<void> {
    let resourceVersion = '';
    while (!abort.signal.aborted) {
      try {
        if (!resourceVersion) {
          resourceVersion = await list();
          restartDelay = INITIAL_RESTART_DELAY_MS;
          if (failing) logger.info('informer resumed', { path, fieldSelector });
          failing = false;
          markSynced();
        }
        if (abort.signal.aborted) break;
        resourceVersion = await watchFrom(resourceVersion);
      } catch (err) {
        // Includes the AbortError of a watch stopped before the server answered.
        if (abort.signal.aborted) break;
        resourceVersion = '';
        const expired = err instanceof ResourceVersionExpired || (err instanceof ApiStatusError && err.code === 410);
        if (expired) continue;
        failing = true;
        logger.error('informer stopped, restarting', { path, fieldSelector, error: String(err), retryInMs: restartDelay });
        await sleep(restartDelay);
        restartDelay = Math.min(restartDelay * 2, MAX_RESTART_DELAY_MS);
      }
    }
  }

  const running = run();
  return {
    synced,
    async stop() {
      abort.abort();
      await running;
    },
  };
}
