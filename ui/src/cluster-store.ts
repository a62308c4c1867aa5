// The page's live picture of nodes and pods, fed by one list+watch of each. Objects are kept slim
// (what the views draw, not the whole pod) so that 150,000 pods fit in a browser tab; views
// subscribe and are told, at most once per animation frame, that something changed.

import { listWatch, type ApiError, type KubeObject, type Watch } from './api.ts';
import { podState, readyText, type PodLike, type PodState } from './pod-state.ts';

export interface NodeView {
  name: string;
  ready: 'True' | 'False' | 'Unknown';
  unschedulable: boolean;
  taints: string[];
  labels: Record<string, string>;
  podCapacity: number;
}

export interface PodView {
  uid: string;
  namespace: string;
  name: string;
  node: string;
  state: PodState;
  ready: string;
  labels: Record<string, string>;
}

type Listener = () => void;

const asRecord = (value: unknown): Record<string, unknown> => (typeof value === 'object' && value !== null ? value as Record<string, unknown> : {});

function nodeView(object: KubeObject): NodeView {
  const spec = asRecord(object.spec);
  const status = asRecord(object.status);
  const conditions = Array.isArray(status.conditions) ? status.conditions.map(asRecord) : [];
  const ready = conditions.find((c) => c.type === 'Ready')?.status;
  const taints = Array.isArray(spec.taints) ? spec.taints.map(asRecord).map((t) => `${String(t.key)}${t.value ? `=${String(t.value)}` : ''}:${String(t.effect)}`) : [];
  const pods = Number(asRecord(status.allocatable).pods ?? asRecord(status.capacity).pods ?? 110);
  return {
    name: object.metadata.name ?? '',
    ready: ready === 'True' || ready === 'False' ? ready : 'Unknown',
    unschedulable: spec.unschedulable === true,
    taints,
    labels: object.metadata.labels ?? {},
    podCapacity: Number.isFinite(pods) && pods > 0 ? pods : 110,
  };
}

function podView(object: KubeObject): PodView {
  const pod = object as unknown as PodLike & { spec?: { nodeName?: string; containers?: unknown[] } };
  return {
    uid: object.metadata.uid ?? `${object.metadata.namespace}/${object.metadata.name}`,
    namespace: object.metadata.namespace ?? '',
    name: object.metadata.name ?? '',
    node: pod.spec?.nodeName ?? '',
    state: podState(pod),
    ready: readyText(pod as Parameters<typeof readyText>[0]),
    labels: object.metadata.labels ?? {},
  };
}

export class ClusterStore {
  readonly nodes = new Map<string, NodeView>();
  readonly pods = new Map<string, PodView>();
  /** Watch events not yet drawn: their resourceVersion and arrival (performance.now()), where repaint latency starts. */
  pending: { resourceVersion: string; at: number }[] = [];
  private readonly listeners = new Set<Listener>();
  private readonly connection = new Map<string, boolean>();
  private scheduled = false;
  /** performance.now() before which listeners are not told again (see changed()). */
  private quietUntil = 0;
  private watches: Watch[] = [];
  /** Bumped when a node is added or removed (not when one changes), so views can keep their sorted node list. */
  nodeSetVersion = 0;

  /** What the API server answered when it refused a list or watch (e.g. Forbidden), by resource. */
  readonly refusals = new Map<string, string>();

  constructor(private readonly onConnection: (connected: boolean) => void) {}

  private refused(which: string, error: ApiError | undefined): void {
    if (error) this.refusals.set(which, error.message);
    else if (!this.refusals.delete(which)) return;
    this.changed();
  }

  start(): void {
    this.watches = [
      listWatch('/api/v1/nodes', nodeView, {
        reset: (items) => {
          this.nodes.clear();
          for (const node of items) this.nodes.set(node.name, node);
          this.nodeSetVersion++;
          this.changed();
        },
        event: (type, node, object) => {
          if (type === 'DELETED') {
            if (this.nodes.delete(node.name)) this.nodeSetVersion++;
          } else {
            if (!this.nodes.has(node.name)) this.nodeSetVersion++;
            this.nodes.set(node.name, node);
          }
          this.changed(object.metadata.resourceVersion);
        },
        connection: (connected) => this.setConnected('nodes', connected),
        refused: (error) => this.refused('nodes', error),
      }),
      listWatch('/api/v1/pods', podView, {
        reset: (items) => {
          this.pods.clear();
          for (const pod of items) this.pods.set(pod.uid, pod);
          this.changed();
        },
        event: (type, pod, object) => {
          if (type === 'DELETED') this.pods.delete(pod.uid);
          else this.pods.set(pod.uid, pod);
          this.changed(object.metadata.resourceVersion);
        },
        connection: (connected) => this.setConnected('pods', connected),
        refused: (error) => this.refused('pods', error),
      }),
    ];
  }

  stop(): void {
    for (const watch of this.watches) watch.stop();
    this.watches = [];
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private setConnected(which: string, connected: boolean): void {
    this.connection.set(which, connected);
    this.onConnection([...this.connection.values()].every(Boolean));
  }

  private changed(resourceVersion?: string): void {
    if (resourceVersion) this.pending.push({ resourceVersion, at: performance.now() });
    if (this.scheduled) return;
    this.scheduled = true;
    const notify = (): void => {
      requestAnimationFrame(() => {
        const started = performance.now();
        this.scheduled = false;
        for (const listener of this.listeners) listener();
        this.pending = [];
        // While changes keep coming, the views' work gets at most a quarter of the main thread: the next
        // notification waits three times as long as this one took. A small cluster redraws every frame; with
        // tens of thousands of pods a redraw costs tens of milliseconds, and drawing every frame kept the
        // page busy most of the time for changes nobody can follow at 60 frames a second.
        const ended = performance.now();
        this.quietUntil = ended + 3 * (ended - started);
      });
    };
    const wait = this.quietUntil - performance.now();
    if (wait > 0) setTimeout(notify, wait);
    else notify();
  }
}
