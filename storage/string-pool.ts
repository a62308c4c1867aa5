// Shared instances of the short strings that stored objects repeat. JSON.parse gives every object
// its own copy of every string value, so 30,000 cached pods hold 30,000 copies each of their image
// names, pull policies, condition types, namespace, node name, field manager and so on (a heap
// snapshot of a 4,500-pod server showed ~300 string values per pod, most of them repeats). The
// watch cache keeps each current object for as long as it is current, so it swaps those values for
// one shared instance per distinct string. Strings are immutable in JS: nothing can observe the
// swap, and the object's JSON text is unchanged.

/** Longer values (annotations carrying whole manifests, long messages) are rarely repeated verbatim. */
const DEFAULT_MAX_LENGTH = 256;
/**
 * Distinct strings remembered. Unique values (uids, names, timestamps) fill the pool too; when it is
 * full it starts over, and the repeated values are pooled again on their next sighting.
 */
const DEFAULT_CAPACITY = 200_000;

export class StringPool {
  private pool = new Map<string, string>();

  constructor(private readonly capacity = DEFAULT_CAPACITY, private readonly maxLength = DEFAULT_MAX_LENGTH) {}

  /** Distinct strings currently pooled (at most the capacity). */
  get size(): number {
    return this.pool.size;
  }

  /** Replaces, in place, every short string value inside `value` (objects and arrays, any depth) by its pooled instance. */
  internValues(value: unknown): void {
    // Frozen values (shared constants a writer may have put into an object) are left as they are.
    if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return;
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const item: unknown = value[i];
        // Always stored: `!==` compares string contents, not instances, so it cannot tell a copy apart.
        if (typeof item === 'string') {
          value[i] = this.intern(item);
        } else if (typeof item === 'object' && item !== null) {
          this.internValues(item);
        }
      }
      return;
    }
    const record = value as Record<string, unknown>;
    for (const name in record) {
      const field = record[name];
      if (typeof field === 'string') {
        if (name !== '__proto__') record[name] = this.intern(field);
      } else if (typeof field === 'object' && field !== null) {
        this.internValues(field);
      }
    }
  }

  private intern(text: string): string {
    if (text.length > this.maxLength) return text;
    const pooled = this.pool.get(text);
    if (pooled !== undefined) return pooled;
    if (this.pool.size >= this.capacity) this.pool = new Map();
    this.pool.set(text, text);
    return text;
  }
}
