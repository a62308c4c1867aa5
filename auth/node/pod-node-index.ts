// The part of the Node authorizer's graph kubefacade needs: which node each pod is bound to
// (plugin/pkg/auth/authorizer/node graph_populator adds a pod -> node edge once spec.nodeName is set).
// Kept from a storage watch so authorization stays synchronous.

import { isPlainObject, type KubeObject } from '../../api/object.ts';
import type { Storage, WatchHandle } from '../../storage/interface.ts';
import { podReferences, type ReferencedKind } from './pod-references.ts';

const PODS_PREFIX = '/registry/pods/';

export interface PodNodeLookup {
  /** The node the pod is bound to, or undefined when the pod is unknown or not bound. */
  nodeOf(namespace: string, name: string): string | undefined;
  /** Whether a pod bound to `node` references the secret, configmap or service account. */
  referencedFrom?(node: string, kind: ReferencedKind, namespace: string, name: string): boolean;
}

export class PodNodeIndex implements PodNodeLookup {
  private readonly nodes = new Map<string, string>();
  /** Pod key → the `kind/ns/name` edges it adds for its node. */
  private readonly podEdges = new Map<string, string[]>();
  /** `node kind/ns/name` → number of that node's pods referencing it. */
  private readonly edges = new Map<string, number>();
  private watch: WatchHandle | undefined;
  private stopped = false;

  private constructor(private readonly storage: Storage) {}

  static async start(storage: Storage): Promise<PodNodeIndex> {
    const index = new PodNodeIndex(storage);
    await index.follow();
    return index;
  }

  nodeOf(namespace: string, name: string): string | undefined {
    return this.nodes.get(`${PODS_PREFIX}${namespace}/${name}`);
  }

  referencedFrom(node: string, kind: ReferencedKind, namespace: string, name: string): boolean {
    return (this.edges.get(`${node} ${kind}/${namespace}/${name}`) ?? 0) > 0;
  }

  stop(): void {
    this.stopped = true;
    this.watch?.stop();
  }

  private async follow(): Promise<void> {
    const listed = await this.storage.list(PODS_PREFIX);
    this.nodes.clear();
    this.podEdges.clear();
    this.edges.clear();
    listed.items.forEach((pod, i) => this.record(listed.keys?.[i] ?? `${PODS_PREFIX}${pod.metadata.namespace}/${pod.metadata.name}`, pod));
    this.watch = this.storage.watch(PODS_PREFIX, { fromRevision: listed.revision }, {
      onEvent: (event) => {
        if (event.type === 'DELETED') {
          this.nodes.delete(event.key);
          this.setEdges(event.key, []);
        } else {
          this.record(event.key, event.object);
        }
      },
      onError: () => {
        if (!this.stopped) void this.follow().catch(() => undefined);
      },
    });
  }

  private record(key: string, pod: KubeObject): void {
    const spec = isPlainObject(pod.spec) ? pod.spec : {};
    const nodeName = typeof spec.nodeName === 'string' ? spec.nodeName : '';
    if (nodeName) this.nodes.set(key, nodeName);
    else this.nodes.delete(key);
    const namespace = pod.metadata.namespace ?? '';
    this.setEdges(key, nodeName ? podReferences(pod).map((ref) => {
      const slash = ref.indexOf('/');
      return `${nodeName} ${ref.slice(0, slash)}/${namespace}/${ref.slice(slash + 1)}`;
    }) : []);
  }

  private setEdges(podKey: string, next: string[]): void {
    for (const edge of this.podEdges.get(podKey) ?? []) {
      const count = (this.edges.get(edge) ?? 1) - 1;
      if (count > 0) this.edges.set(edge, count);
      else this.edges.delete(edge);
    }
    if (next.length === 0) this.podEdges.delete(podKey);
    else this.podEdges.set(podKey, next);
    for (const edge of next) this.edges.set(edge, (this.edges.get(edge) ?? 0) + 1);
  }
}
