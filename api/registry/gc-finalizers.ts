// deletionFinalizersForGarbageCollection (k8s.io/apiserver/pkg/registry/generic/registry/store.go):
// a DELETE with propagationPolicy Orphan or Foreground does not remove the object; it gets the
// `orphan` or `foregroundDeletion` finalizer and a deletionTimestamp, and the garbage collector
// orphans or deletes its dependents before it removes the finalizer. Background (and the default
// of most kinds) removes the object at once and leaves its dependents to the garbage collector.

import type { KubeObject } from '../object.ts';

export const FINALIZER_ORPHAN_DEPENDENTS = 'orphan';
export const FINALIZER_DELETE_DEPENDENTS = 'foregroundDeletion';

export type GarbageCollectionPolicy = 'Orphan' | 'Background';

/**
 * The finalizers the object should have once deleted with `propagationPolicy` (undefined when the
 * request names none), or undefined when they are already right.
 */
export function finalizersForDeletion(object: KubeObject, propagationPolicy: string | undefined,
  defaultPolicy: GarbageCollectionPolicy = 'Background'): string[] | undefined {
  const existing = object.metadata.finalizers ?? [];
  let orphan: boolean;
  let foreground: boolean;
  if (propagationPolicy !== undefined) {
    orphan = propagationPolicy === 'Orphan';
    foreground = propagationPolicy === 'Foreground';
  } else {
    // No policy in the request: keep what earlier requests asked for, else the kind's default.
    foreground = existing.includes(FINALIZER_DELETE_DEPENDENTS);
    orphan = existing.includes(FINALIZER_ORPHAN_DEPENDENTS) || (!foreground && defaultPolicy === 'Orphan');
  }
  const next = existing.filter((f) => f !== FINALIZER_ORPHAN_DEPENDENTS && f !== FINALIZER_DELETE_DEPENDENTS);
  if (orphan) next.push(FINALIZER_ORPHAN_DEPENDENTS);
  if (foreground) next.push(FINALIZER_DELETE_DEPENDENTS);
  const same = next.length === existing.length && next.every((f) => existing.includes(f));
  return same ? undefined : next;
}
