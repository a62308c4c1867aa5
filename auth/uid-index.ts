// The uid of every object under one storage prefix (`/registry/serviceaccounts/`, `/registry/pods/`),
// kept from a storage watch so that bearer-token authentication, which is synchronous, can tell at
// once whether the service account or pod a token is bound to still exists (and is the same object).

import type { Storage, WatchHandle } from '../storage/interface.ts';

export class UidIndex {
  private readonly uids = new Map<string, string>();
  private watch: WatchHandle | undefined;
  private stopped = false;

  private constructor(private readonly storage: Storage, private readonly prefix: string) {}

  static async start(storage: Storage, prefix: string): Promise<UidIndex> {
    const index = new UidIndex(storage, prefix);
    await index.follow();
    return index;
  }

  /** The uid of `<prefix><namespace>/<name>`, or undefined when there is no such object. */
  uidOf(namespace: string, name: string): string | undefined {
    return this.uids.get(`${this.prefix}${namespace}/${name}`);
  }

  stop(): void {
    this.stopped = true;
    this.watch?.stop();
  }

  private async follow(): Promise<void> {
    const listed = await this.storage.list(this.prefix);
    this.uids.clear();
    listed.items.forEach((object, i) => {
      const key = listed.keys?.[i] ?? `${this.prefix}${object.metadata.namespace}/${object.metadata.name}`;
      if (object.metadata.uid) this.uids.set(key, object.metadata.uid);
    });
    this.watch = this.storage.watch(this.prefix, { fromRevision: listed.revision }, {
      onEvent: (event) => {
        if (event.type === 'DELETED') this.uids.delete(event.key);
        else if (event.object.metadata.uid) this.uids.set(event.key, event.object.metadata.uid);
      },
      onError: () => {
        if (!this.stopped) void this.follow().catch(() => undefined);
      },
    });
  }
}
