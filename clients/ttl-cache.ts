// A small cache of answers with an expiry each (TokenReview and SubjectAccessReview results, as the
// kubelet's and kube-scheduler's delegated authentication and authorisation cache them). Bounded: when
// full it starts over, which costs only repeated reviews.

const DEFAULT_LIMIT = 10_000;

export class TtlCache<V> {
  private readonly entries = new Map<string, { value: V; expires: number }>();

  constructor(private readonly limit = DEFAULT_LIMIT) {}

  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expires > Date.now()) return entry.value;
    this.entries.delete(key);
    return undefined;
  }

  set(key: string, value: V, ttlMs: number): void {
    if (this.entries.size >= this.limit) this.entries.clear();
    this.entries.set(key, { value, expires: Date.now() + ttlMs });
  }
}
