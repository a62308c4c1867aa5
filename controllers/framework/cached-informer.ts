// An informer with a cache, as the controllers need one (client-go's SharedIndexInformer): it runs
// the lean list-and-watch informer (clients/lean-informer.ts) and keeps each object after an
// optional transform (client-go's SetTransform), so the controller manager holds only the fields
// its controllers read. Objects are indexed by namespace; handlers see (old, new) on updates.

import type { KubernetesObject } from '@kubernetes/client-node';
import type { JsonApiClient } from '../../clients/json-api-client.ts';
import { startLeanInformer, type InformerLogger, type LeanInformer } from '../../clients/lean-informer.ts';

export interface CachedObject {
  metadata: {
    name: string; namespace?: string; uid: string; resourceVersion?: string;
    ownerReferences?: { uid: string; controller?: boolean }[];
  };
}

function controllerUid(obj: CachedObject): string | undefined {
  return obj.metadata.ownerReferences?.find((ref) => ref.controller === true)?.uid;
}

export interface InformerHandlers<T> {
  add?(obj: T): void;
  update?(old: T, obj: T): void;
  delete?(obj: T): void;
}

export function objectKey(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

export function splitKey(key: string): { namespace: string; name: string } {
  const slash = key.indexOf('/');
  return slash < 0 ? { namespace: '', name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

export class CachedInformer<T extends CachedObject> {
  private readonly items = new Map<string, T>();
  private readonly byNamespace = new Map<string, Map<string, T>>();
  /** Objects by the uid of their controller (an owner's pods without scanning its namespace). */
  private readonly byControllerUid = new Map<string, Map<string, T>>();
  private readonly handlers: InformerHandlers<T>[] = [];
  private informer: LeanInformer | undefined;

  constructor(
    readonly path: string,
    private readonly transform: (raw: KubernetesObject) => T,
  ) {}

  addHandlers(handlers: InformerHandlers<T>): void {
    this.handlers.push(handlers);
  }

  start(client: JsonApiClient, logger: InformerLogger): Promise<void> {
    this.informer ??= startLeanInformer<KubernetesObject>(client, this.path, undefined, {
      add: (raw) => this.upsert(raw),
      update: (raw) => this.upsert(raw),
      delete: (raw) => this.remove(raw),
    }, logger);
    return this.informer.synced;
  }

  async stop(): Promise<void> {
    await this.informer?.stop();
  }

  get(namespace: string | undefined, name: string): T | undefined {
    return this.items.get(objectKey(namespace, name));
  }

  getByKey(key: string): T | undefined {
    return this.items.get(key);
  }

  list(namespace?: string): T[] {
    if (namespace === undefined) return [...this.items.values()];
    return [...(this.byNamespace.get(namespace)?.values() ?? [])];
  }

  /** The objects whose controller ownerReference has this uid. */
  controlledBy(uid: string): T[] {
    return [...(this.byControllerUid.get(uid)?.values() ?? [])];
  }

  get size(): number {
    return this.items.size;
  }

  private upsert(raw: KubernetesObject): void {
    let obj: T;
    try {
      obj = this.transform(raw);
    } catch {
      return; // A malformed object is not cached; the controllers never see it.
    }
    const key = objectKey(obj.metadata.namespace, obj.metadata.name);
    const old = this.items.get(key);
    this.items.set(key, obj);
    const namespace = obj.metadata.namespace ?? '';
    let index = this.byNamespace.get(namespace);
    if (!index) this.byNamespace.set(namespace, (index = new Map()));
    index.set(key, obj);
    const oldOwner = old ? controllerUid(old) : undefined;
    const owner = controllerUid(obj);
    if (oldOwner && oldOwner !== owner) this.unindexOwner(oldOwner, key);
    if (owner) {
      let owned = this.byControllerUid.get(owner);
      if (!owned) this.byControllerUid.set(owner, (owned = new Map()));
      owned.set(key, obj);
    }
    for (const handlers of this.handlers) {
      if (old) handlers.update?.(old, obj);
      else handlers.add?.(obj);
    }
  }

  private unindexOwner(owner: string, key: string): void {
    const owned = this.byControllerUid.get(owner);
    owned?.delete(key);
    if (owned && owned.size === 0) this.byControllerUid.delete(owner);
  }

  private remove(raw: KubernetesObject): void {
    const key = objectKey(raw.metadata?.namespace, raw.metadata?.name ?? '');
    const old = this.items.get(key);
    if (!old) return;
    this.items.delete(key);
    const index = this.byNamespace.get(old.metadata.namespace ?? '');
    index?.delete(key);
    if (index && index.size === 0) this.byNamespace.delete(old.metadata.namespace ?? '');
    const owner = controllerUid(old);
    if (owner) this.unindexOwner(owner, key);
    for (const handlers of this.handlers) handlers.delete?.(old);
  }
}
