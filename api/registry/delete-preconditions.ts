// DeleteOptions.preconditions (uid, resourceVersion) as kube-apiserver reports a mismatch: the
// early check in rest.BeforeDelete, and the etcd3 store's check when a write races past it.

import { conflict, type GroupResource, type StatusError } from '../errors.ts';
import type { KubeObject } from '../object.ts';
import type { ResourceStrategy } from '../resource.ts';
import type { PreconditionError, Preconditions } from '../../storage/interface.ts';

/** BeforeDelete's early check, worded as it is (its GroupResource names the Kind: `on Pod "web"`). */
export function checkDeletePreconditions(strategy: ResourceStrategy, name: string, current: KubeObject, preconditions: Preconditions | undefined): void {
  if (!preconditions) return;
  const on = { group: strategy.group, resource: strategy.kind };
  if (preconditions.uid && preconditions.uid !== current.metadata.uid) {
    throw conflict(on, name, `the UID in the precondition (${preconditions.uid}) does not match the UID in record (${current.metadata.uid ?? ''}). The object might have been deleted and then recreated`);
  }
  if (preconditions.resourceVersion && preconditions.resourceVersion !== current.metadata.resourceVersion) {
    throw conflict(on, name, `the ResourceVersion in the precondition (${preconditions.resourceVersion}) does not match the ResourceVersion in record (${current.metadata.resourceVersion ?? ''}). The object might have been modified`);
  }
}

/** A precondition that failed inside storage (a race after the early check): the etcd3 store's InvalidObjError wording. */
export function storagePreconditionConflict(gr: GroupResource, name: string, err: PreconditionError): StatusError {
  const field = err.field === 'uid' ? 'UID' : 'ResourceVersion';
  return conflict(gr, name, `StorageError: invalid object, Code: 4, Key: ${err.key}, ResourceVersion: 0, AdditionalErrorMsg: Precondition failed: ${field} in precondition: ${err.expected}, ${field} in object meta: ${err.actual}`);
}
