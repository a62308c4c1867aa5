// An in-memory, always-current copy of the objects under one storage prefix (the webhook
// configurations, admission policies and their bindings), kept by a list and a watch, so that
// admission on every write reads a snapshot without touching storage. Objects are kept sorted by
// name, the order kube-apiserver calls webhook configurations and evaluates policies in.

import type { KubeObject } from '../../api/object.ts';
import type { Storage, WatchHandle } from '../../storage/interface.ts';

export class ObjectSource {
  private readonly objects = new Map<string, KubeObject>();
  private sorted: KubeObject[] = [];
  private watch: WatchHandle | undefined;
  /** Bumped on every change: consumers cache what they compile from the objects by it. */
  generation = 0;

  private constructor(private readonly storage: Storage, private readonly prefix: string) {}

  static async start(storage: Storage, prefix: string, onError?: (error: unknown) => void): Promise<ObjectSource> {
    const source = new ObjectSource(storage, prefix);
    const listed = await storage.list(prefix);
    for (const object of listed.items) source.objects.set(object.metadata.name ?? '', object);
    source.resort();
    source.watch = storage.watch(prefix, { fromRevision: listed.revision }, {
      onEvent: (event) => {
        const name = event.object.metadata.name ?? '';
        if (event.type === 'DELETED') source.objects.delete(name);
        else source.objects.set(name, event.object);
        source.resort();
      },
      onError: (error) => onError?.(error),
    });
    return source;
  }

  private resort(): void {
    this.sorted = [...this.objects.values()].sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
    this.generation++;
  }

  list(): readonly KubeObject[] {
    return this.sorted;
  }

  get(name: string): KubeObject | undefined {
    return this.objects.get(name);
  }

  stop(): void {
    this.watch?.stop();
  }
}
