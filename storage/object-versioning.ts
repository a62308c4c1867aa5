// Helpers every backend needs to treat metadata.resourceVersion as the storage revision and to
// check write preconditions the way k8s.io/apiserver's storage.Preconditions does.

import type { KubeObject } from '../api/object.ts';
import { PreconditionError, type Preconditions } from './interface.ts';

/** The revision that last wrote a stored object (0 when it carries none). */
export function revisionOf(object: KubeObject): number {
  const rv = object.metadata.resourceVersion;
  return rv ? Number(rv) : 0;
}

/** A copy of `object` whose metadata.resourceVersion is `revision`; nested values are shared. */
export function withResourceVersion(object: KubeObject, revision: number): KubeObject {
  return { ...object, metadata: { ...object.metadata, resourceVersion: String(revision) } };
}

export function checkPreconditions(key: string, current: KubeObject, preconditions: Preconditions | undefined): void {
  if (!preconditions) return;
  const { uid, resourceVersion } = preconditions;
  if (uid !== undefined && uid !== '' && uid !== (current.metadata.uid ?? '')) {
    throw new PreconditionError(key, 'uid', uid, current.metadata.uid ?? '');
  }
  if (resourceVersion !== undefined && resourceVersion !== '' && resourceVersion !== (current.metadata.resourceVersion ?? '')) {
    throw new PreconditionError(key, 'resourceVersion', resourceVersion, current.metadata.resourceVersion ?? '');
  }
}

/**
 * True when `next` would store exactly the same bytes as `current` (ignoring resourceVersion):
 * like the etcd3 store, such an update writes nothing and keeps the revision.
 */
export function isUnchanged(current: KubeObject, next: KubeObject): boolean {
  if (current === next) return true;
  const rv = current.metadata.resourceVersion;
  const normalised = next.metadata.resourceVersion === rv ? next : { ...next, metadata: { ...next.metadata, resourceVersion: rv } };
  return JSON.stringify(normalised) === JSON.stringify(current);
}
