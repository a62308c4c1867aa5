// The part of the Node authorizer's graph kubefacade needs: which node each pod is bound to
// (plugin/pkg/auth/authorizer/node graph_populator adds a pod -> node edge once spec.nodeName is set).
// Kept from a storage watch so authorization stays synchronous.

import { isPlainObject, type KubeObject } from '../../api/object.ts';
import type { Storage, WatchHandle } from '../../storage/interface.ts';

const PODS_PREFIX = '/registry/pods/';

export interface PodNodeLookup {
  /** The node the pod is bound to, or undefined when the pod is unknown or not bound. */
  nodeOf(namespace: string, name: string): string | undefined;
}

export class PodNodeIndex implements PodNodeLookup {
  private readonly nodes = new Map<string, string>();
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

  stop(): void {
    this.stopped = true;
    this.watch?.stop();
  }

  private async follow(): Promise<void> {
    const listed = await this.storage.list(PODS_PREFIX);
    this.nodes.clear();
    listed.items.forEach((pod, i) => this.record(listed.keys?.[i] ?? `${PODS_PREFIX}${pod.metadata.namespace}/${pod.metadata.name}`, pod));
    this.watch = this.storage.watch(PODS_PREFIX, { fromRevision: listed.revision }, {
      onEvent: (event) => {
        if (event.type === 'DELETED') this.nodes.delete(event.key);
        else this.record(event.key, event.object);
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
  }
}
