// WATCH for the generic store: initial state (synthetic ADDED events, or the watch-list protocol
// with sendInitialEvents), then live events filtered with the same predicate as LIST. An object
// that stops matching the selectors is delivered as DELETED, one that starts matching as ADDED
// (k8s.io/apiserver/pkg/storage/cacher: cacheWatcher.convertToWatchEvent).

import { StatusError, resourceExpired } from '../errors.ts';
import type { KubeObject } from '../object.ts';
import { RevisionCompactedError, type StorageEvent, type WatchHandle } from '../../storage/interface.ts';
import type { CacheWatchOptions } from '../../storage/watcher-index.ts';
import { objectFilter } from './filter.ts';
import { withResourceVersion } from '../../storage/object-versioning.ts';
import { parseResourceVersion, tooLargeResourceVersion, type ListQuery } from './list.ts';
import { validateListOptions } from './list-options.ts';
import type { GenericStore } from './store.ts';
import { convertingWatchSink } from './watch-conversion.ts';

export interface WatchQuery extends ListQuery {
  allowWatchBookmarks?: boolean;
  sendInitialEvents?: boolean;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface WatchSink {
  event(type: WatchEventType, object: KubeObject): void;
  bookmark(resourceVersion: string, initialEventsEnd: boolean): void;
  /** The watch cannot go on (e.g. 410 Expired): send an ERROR event and end the stream. */
  error(status: StatusError): void;
}

export interface RegistryWatchOptions {
  /** Least time between two periodic bookmarks to one watcher. */
  bookmarkIntervalMs: number;
}

export async function startWatch(
  store: GenericStore, namespace: string, query: WatchQuery, client: WatchSink, options: RegistryWatchOptions,
): Promise<WatchHandle> {
  // Custom resources: objects written through another version are converted on their way out, in order.
  const converting = store.strategy.convert ? convertingWatchSink(store.apiVersion, store.strategy.convert.bind(store.strategy), client) : undefined;
  const sink: WatchSink = converting ?? client;
  const filter = objectFilter(store.strategy, query.labelSelector, query.fieldSelector);
  const prefix = store.prefix(namespace);
  const requested = parseResourceVersion(query.resourceVersion);
  validateListOptions(query, true);

  // No resourceVersion, "0", or sendInitialEvents=true: the stream starts with the current state.
  const withInitialState = query.sendInitialEvents ?? (requested === undefined || requested === 0);
  let fromRevision: number;
  let initial: KubeObject[] = [];
  if (withInitialState) {
    const listed = await store.storage.list(prefix, { predicate: filter.matches });
    if (requested !== undefined && requested > listed.revision) throw tooLargeResourceVersion(requested, listed.revision);
    initial = listed.items;
    fromRevision = listed.revision;
  } else {
    fromRevision = requested ?? (await store.storage.currentRevision());
  }

  const deliver = (event: StorageEvent): void => {
    const now = filter.everything || filter.matches(event.object);
    const before = event.prevObject !== undefined && (filter.everything || filter.matches(event.prevObject));
    if (event.type === 'DELETED') {
      if (before || (event.prevObject === undefined && now)) sink.event('DELETED', event.object);
      return;
    }
    if (now && before) sink.event('MODIFIED', event.object);
    else if (now) sink.event('ADDED', event.object);
    // Leaving the selector: the last state that matched, at this event's resourceVersion
    // (cacheWatcher.convertToWatchEvent), so the client never sees a non-matching object.
    else if (before && event.prevObject) sink.event('DELETED', withResourceVersion(event.prevObject, event.revision));
  };

  for (const object of initial) sink.event('ADDED', object);
  // The initial-events-end bookmark, like every bookmark, goes only to clients that allow bookmarks.
  if (query.sendInitialEvents && query.allowWatchBookmarks) sink.bookmark(String(fromRevision), true);

  let lastBookmark = Date.now();
  // The watch cache reads the hint; a plain backend ignores it.
  const watchOptions: CacheWatchOptions = { fromRevision, indexHint: filter.indexHint };
  try {
    const handle = store.storage.watch(prefix, watchOptions, {
      onEvent: deliver,
      onError: (err) => sink.error(new StatusError(500, 'InternalError', `Internal error occurred: ${err.message}`)),
      onProgress: (revision) => {
        if (!query.allowWatchBookmarks) return;
        const now = Date.now();
        if (now - lastBookmark < options.bookmarkIntervalMs) return;
        lastBookmark = now;
        sink.bookmark(String(revision), false);
      },
    });
    return converting ? { stop: () => { converting.stop(); handle.stop(); } } : handle;
  } catch (err) {
    if (err instanceof RevisionCompactedError) {
      sink.error(resourceExpired(`too old resource version: ${err.requested} (${err.oldest})`));
      return { stop: () => converting?.stop() };
    }
    throw err;
  }
}
