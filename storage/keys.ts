// Key-range helpers shared by backends and the watch cache. Storage keys are plain strings laid
// out like kube-apiserver's (`/registry/pods/<namespace>/<name>`); ranges are half-open
// [prefix, prefixUpperBound(prefix)).

/** The smallest string greater than every string that starts with `prefix` ('' has no bound). */
export function prefixUpperBound(prefix: string): string | undefined {
  if (prefix === '') return undefined;
  const last = prefix.charCodeAt(prefix.length - 1);
  return prefix.slice(0, -1) + String.fromCharCode(last + 1);
}

/**
 * Every `/`-terminated prefix of a key, shortest first: `/registry/pods/ns/name` gives `/`,
 * `/registry/`, `/registry/pods/`, `/registry/pods/ns/`. Used to find watchers by exact prefix
 * instead of testing every watcher against every event.
 */
export function slashPrefixes(key: string): string[] {
  const prefixes: string[] = [];
  let at = key.indexOf('/');
  while (at !== -1) {
    prefixes.push(key.slice(0, at + 1));
    at = key.indexOf('/', at + 1);
  }
  return prefixes;
}
