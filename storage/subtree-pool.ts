// Shared instances of the parts of held objects that many objects repeat: the field sets (FieldsV1
// tries) in managedFields, and what a spec holds as objects and lists (a pod's containers, volumes,
// tolerations). Every pod a client creates from one template records the same field set for that
// manager and carries the same containers; the kubelet's status field set is the same for every pod
// with the same containers. Parsed, each copy is hundreds of small objects. Measured on a 7.5 KB
// running pod with a creator's and a kubelet's managedFields entry: 16.1 KiB of heap parsed, 6.4 KiB
// with both field sets shared, 3.4 KiB with its containers, volumes and tolerations shared too.
//
// The watch cache keeps each current object for as long as it is current, so it swaps each such part
// for the one shared instance of an equal part, as it swaps repeated strings (string-pool.ts). Nothing
// can observe the swap: the parts are equal, the object's JSON text is unchanged, and stored objects
// are never mutated (a write builds its object from copies: patches start from structuredClone or
// deepCopy, managedFields writes a changed set as a new trie). Shared parts are deep-frozen, so a write
// that broke that rule would throw instead of changing other objects; frozen is also how a part is
// known to be shared already (a write that kept the previous version's unchanged field set).
//
// Status is not pooled: it carries per-object timestamps, addresses and ids, and changes on every write.

import { deepFreeze } from './deep-freeze.ts';

/** Distinct parts remembered; when full the pool starts over and common parts are shared again on their next write. */
const DEFAULT_CAPACITY = 4_096;
/**
 * Parts whose JSON is shorter are left alone: they save little, and many are unique (a node's `podCIDRs`), which
 * would only fill the pool.
 */
const MIN_TEXT_LENGTH = 64;

export class SubtreePool {
  private pool = new Map<string, object>();

  constructor(private readonly capacity = DEFAULT_CAPACITY) {}

  /** Distinct parts currently pooled (at most the capacity). */
  get size(): number {
    return this.pool.size;
  }

  /**
   * Replaces, in place, each `metadata.managedFields[i].fieldsV1` and each object or list value of `spec` in
   * `object` by the shared instance of an equal one.
   */
  shareSubtrees(object: unknown): void {
    if (typeof object !== 'object' || object === null) return;
    const { metadata, spec } = object as { metadata?: unknown; spec?: unknown };
    if (typeof metadata === 'object' && metadata !== null && !Object.isFrozen(metadata)) {
      const entries = (metadata as { managedFields?: unknown }).managedFields;
      if (Array.isArray(entries)) {
        for (const entry of entries) {
          if (typeof entry === 'object' && entry !== null && !Object.isFrozen(entry)) this.shareMember(entry as Record<string, unknown>, 'fieldsV1');
        }
      }
    }
    if (typeof spec === 'object' && spec !== null && !Array.isArray(spec) && !Object.isFrozen(spec)) {
      const record = spec as Record<string, unknown>;
      for (const name in record) {
        if (name !== '__proto__') this.shareMember(record, name);
      }
    }
  }

  private shareMember(parent: Record<string, unknown>, name: string): void {
    const value = parent[name];
    // Frozen: already the shared instance.
    if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return;
    // Key order is part of the text, so only parts that serialize identically are shared.
    const text = JSON.stringify(value);
    if (text.length < MIN_TEXT_LENGTH) return;
    const pooled = this.pool.get(text);
    if (pooled !== undefined) {
      parent[name] = pooled;
      return;
    }
    if (this.pool.size >= this.capacity) this.pool = new Map();
    deepFreeze(value);
    this.pool.set(text, value);
  }
}
