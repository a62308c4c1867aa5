// What the API server itself saw of the requests that wrote each pod: who sent them, what
// authentication and authorization decided, when they arrived and completed, and the
// resourceVersion they stored. The web view's pod journey reads it (server/ui/pod-journey.ts):
// the request side of a pod's creation is known only to the server, never to a client, so it is
// recorded here rather than reconstructed. Bounded: the most recent pods, a few writes each.

import type { UserInfo } from '../../auth/user.ts';
import type { SchedulingDecision } from '../../clients/scheduling-decision-header.ts';

export interface JournalRecord {
  auditID: string;
  /** create, update, patch, delete. */
  verb: string;
  /** '' for the pod itself; 'binding', 'status', 'eviction', ... */
  subresource: string;
  user: { username: string; groups: string[] };
  /** The authorizer's reason, e.g. `RBAC: allowed by ClusterRoleBinding "x" of ClusterRole "y" to User "z"`. */
  authorization?: string;
  userAgent?: string;
  /** Epoch milliseconds (fractional) when the request arrived and when its response completed. */
  receivedMs: number;
  completedMs: number;
  code: number;
  /** The Status message of a refused request. */
  message?: string;
  uid?: string;
  resourceVersion?: string;
  /** On a binding: how many nodes the scheduler evaluated and found feasible, as it reported them. */
  schedulingDecision?: SchedulingDecision;
}

export interface JournalEntry {
  namespace: string;
  name: string;
  record: JournalRecord;
}

export type JournalListener = (entry: JournalEntry) => void;

const DEFAULT_MAX_PODS = 5_000;
const MAX_RECORDS_PER_POD = 24;

export class RequestJournal {
  // Insertion order doubles as recency order: a pod written again is moved to the end.
  private readonly pods = new Map<string, JournalRecord[]>();
  private readonly listeners = new Set<JournalListener>();

  constructor(private readonly maxPods = DEFAULT_MAX_PODS) {}

  record(namespace: string, name: string, record: JournalRecord): void {
    const key = `${namespace}/${name}`;
    let records = this.pods.get(key);
    if (records) this.pods.delete(key);
    else records = [];
    records.push(record);
    // The first writes (create, binding, first status) are the journey: keep them, drop the middle.
    if (records.length > MAX_RECORDS_PER_POD) records.splice(MAX_RECORDS_PER_POD / 2, 1);
    this.pods.set(key, records);
    if (this.pods.size > this.maxPods) {
      const oldest = this.pods.keys().next().value;
      if (oldest !== undefined) this.pods.delete(oldest);
    }
    for (const listener of this.listeners) listener({ namespace, name, record });
  }

  /** The writes recorded for one pod, oldest first (a copy). */
  recordsFor(namespace: string, name: string): JournalRecord[] {
    return [...(this.pods.get(`${namespace}/${name}`) ?? [])];
  }

  subscribe(listener: JournalListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get size(): number {
    return this.pods.size;
  }
}

export function journalUser(user: UserInfo | undefined): JournalRecord['user'] {
  return { username: user?.username ?? '', groups: [...(user?.groups ?? [])] };
}
