// Shared instances of the field sets (FieldsV1 tries) in held objects' managedFields. Every pod a
// client creates from one template records the same set of fields for that manager, and the
// kubelet's status set is the same for every pod with the same containers; parsed, each copy is a
// trie of a few hundred small objects. Measured on a 7.5 KB pod with a creator's and a kubelet's
// entry: 16.1 KB of heap parsed, 6.4 KB with both tries shared — at 150,000 pods the difference is
// about 1.4 GiB of the API server's heap. The watch cache keeps each current object for as long as
// it is current, so it swaps each trie for the one shared instance of an equal trie, as it swaps
// repeated strings (string-pool.ts). Nothing can observe the swap: the tries are equal, stored
// objects are never mutated (api/patch/fields-v1.ts writes a changed set as a new trie), and the
// object's JSON text is unchanged. Shared tries are deep-frozen, so a write that broke that rule
// would throw instead of changing other objects; frozen is also how a trie is known to be shared.

import { deepFreeze } from './deep-freeze.ts';

/** Distinct tries remembered; when full the pool starts over and common sets are shared again on their next write. */
const DEFAULT_CAPACITY = 4_096;

export class FieldsV1Pool {
  private pool = new Map<string, object>();

  constructor(private readonly capacity = DEFAULT_CAPACITY) {}

  /** Distinct tries currently pooled (at most the capacity). */
  get size(): number {
    return this.pool.size;
  }

  /** Replaces, in place, each `metadata.managedFields[i].fieldsV1` of `object` by the shared instance of an equal trie. */
  shareFieldSets(object: unknown): void {
    const metadata = (object as { metadata?: unknown } | null)?.metadata;
    if (typeof metadata !== 'object' || metadata === null || Object.isFrozen(metadata)) return;
    const entries = (metadata as { managedFields?: unknown }).managedFields;
    if (!Array.isArray(entries)) return;
    for (const entry of entries) {
      if (typeof entry !== 'object' || entry === null || Object.isFrozen(entry)) continue;
      const fields = (entry as { fieldsV1?: unknown }).fieldsV1;
      // Frozen: already the shared instance (the write kept the previous version's unchanged set).
      if (typeof fields !== 'object' || fields === null || Object.isFrozen(fields)) continue;
      (entry as { fieldsV1: object }).fieldsV1 = this.shared(fields);
    }
  }

  private shared(fields: object): object {
    // Key order is part of the text, so only tries that would serialize identically are shared.
    const text = JSON.stringify(fields);
    const pooled = this.pool.get(text);
    if (pooled !== undefined) return pooled;
    if (this.pool.size >= this.capacity) this.pool = new Map();
    deepFreeze(fields);
    this.pool.set(text, fields);
    return fields;
  }
}
