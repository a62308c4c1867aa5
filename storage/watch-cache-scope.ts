// Which keys the watch cache keeps in memory. Like kube-apiserver, which disables the watch cache
// for events by default (DefaultWatchCacheSizes in pkg/kubeapiserver: events → 0), events are not
// held: a busy cluster writes several per pod, they are rarely read, and holding them all costs
// more memory than every pod. Their reads go to the backend; their watch events still pass through.

export const DEFAULT_UNCACHED_PREFIXES = ['/registry/events/'];

export class CacheScope {
  constructor(private readonly uncached: readonly string[]) {}

  /** The key's object is not held in memory. */
  excludes(key: string): boolean {
    for (const prefix of this.uncached) if (key.startsWith(prefix)) return true;
    return false;
  }

  /** A read of this prefix needs keys the cache does not hold (inside an uncached prefix, or a parent of one). */
  overlaps(prefix: string): boolean {
    for (const uncached of this.uncached) if (prefix.startsWith(uncached) || uncached.startsWith(prefix)) return true;
    return false;
  }
}
