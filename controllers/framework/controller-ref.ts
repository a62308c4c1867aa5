// ClaimPods / ClaimReplicaSets (pkg/controller/controller_ref_manager.go): an owner keeps the objects
// it controls that its selector still matches, adopts matching orphans (unless it is being deleted),
// and releases the ones it controls that no longer match. Adoption and release are JSON patches
// guarded by a `test` of the object's uid, so a recreated object of the same name is never touched.

import { ApiStatusError, type JsonApiClient } from '../../clients/json-api-client.ts';
import type { ObjectMetaView, OwnerReference } from './object-views.ts';

export interface ClaimOwner {
  meta: ObjectMetaView;
  controllerRef: OwnerReference;
  /** Whether the owner may adopt now (not being deleted; upstream also re-reads it once). */
  canAdopt: () => Promise<boolean>;
  /** Finalizers an adopted object gets too (the Job controller's batch.kubernetes.io/job-tracking). */
  finalizers?: string[];
}

export async function claimObjects<T extends { metadata: ObjectMetaView }>(
  client: JsonApiClient,
  objects: T[],
  owner: ClaimOwner,
  matches: (obj: T) => boolean,
  pathOf: (obj: T) => string,
): Promise<T[]> {
  const claimed: T[] = [];
  let adoptable: boolean | undefined;
  for (const obj of objects) {
    const refs = obj.metadata.ownerReferences ?? [];
    const controllerIndex = refs.findIndex((ref) => ref.controller === true);
    const controller = controllerIndex >= 0 ? refs[controllerIndex] : undefined;
    if (controller) {
      if (controller.uid !== owner.meta.uid) continue; // someone else's
      if (matches(obj)) {
        claimed.push(obj);
        continue;
      }
      // Ours but no longer selected: release it (unless we are going away anyway).
      if (owner.meta.deletionTimestamp) continue;
      await patchIgnoringGone(client, pathOf(obj), [
        { op: 'test', path: '/metadata/uid', value: obj.metadata.uid },
        { op: 'test', path: `/metadata/ownerReferences/${controllerIndex}/uid`, value: owner.meta.uid },
        { op: 'remove', path: `/metadata/ownerReferences/${controllerIndex}` },
      ]);
      continue;
    }
    // An orphan: adopt it when it matches, the owner is not being deleted, and the object is not either.
    if (!matches(obj) || owner.meta.deletionTimestamp || obj.metadata.deletionTimestamp) continue;
    adoptable ??= await owner.canAdopt();
    if (!adoptable) continue;
    const finalizers = obj.metadata.finalizers ?? [];
    const missing = (owner.finalizers ?? []).filter((f) => !finalizers.includes(f));
    const adopted = await patchIgnoringGone(client, pathOf(obj), [
      { op: 'test', path: '/metadata/uid', value: obj.metadata.uid },
      { op: 'add', path: '/metadata/ownerReferences', value: [...refs, owner.controllerRef] },
      // Decided on the cached finalizers: a test makes a stale decision fail (and the owner retry later).
      ...(owner.finalizers?.length && finalizers.length ? [{ op: 'test', path: '/metadata/finalizers', value: finalizers }] : []),
      ...(missing.length ? [{ op: 'add', path: '/metadata/finalizers', value: [...finalizers, ...missing] }] : []),
    ]);
    if (adopted) claimed.push(obj);
    else if (owner.finalizers?.length && await stillThere(client, pathOf(obj), obj.metadata.uid)) {
      // The finalizers test failed on a changed object (not a recreated one): adopt on a retry rather than
      // treat it as gone (and replace it).
      throw new Error(`${obj.metadata.name} changed while being adopted; retrying`);
    }
  }
  return claimed;
}

async function stillThere(client: JsonApiClient, path: string, uid: string): Promise<boolean> {
  try {
    return (await client.request<{ metadata?: { uid?: string } }>('GET', path)).metadata?.uid === uid;
  } catch (err) {
    if (err instanceof ApiStatusError && err.code === 404) return false;
    throw err;
  }
}

/** True when patched; false when the object is gone or changed identity (404, or a failed test: 422/409). */
async function patchIgnoringGone(client: JsonApiClient, path: string, operations: unknown[]): Promise<boolean> {
  try {
    await client.request('PATCH', path, operations, 'application/json-patch+json');
    return true;
  } catch (err) {
    if (err instanceof ApiStatusError && [404, 409, 422].includes(err.code)) return false;
    throw err;
  }
}
