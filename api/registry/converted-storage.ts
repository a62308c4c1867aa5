// A resource served from another resource's storage in another form (events.k8s.io/v1 Events over
// the core/v1 events): every object is converted on its way in and out, so the generic store, LIST,
// WATCH and the selectors only ever see the served form.

import type { KubeObject } from '../object.ts';
import type {
  DeleteOptions, ListOptions, ListResult, Preconditions, Storage, StorageEvent, UpdateFunction, WatchCallbacks, WatchHandle, WatchOptions,
} from '../../storage/interface.ts';

export interface StorageConversion {
  /** The served form → the stored form. */
  toStorage(object: KubeObject): KubeObject;
  /** The stored form → the served form. */
  fromStorage(object: KubeObject): KubeObject;
}

export class ConvertedStorage implements Storage {
  constructor(private readonly backend: Storage, private readonly conversion: StorageConversion) {}

  private out(object: KubeObject): KubeObject {
    return this.conversion.fromStorage(object);
  }

  async get(key: string): Promise<KubeObject | undefined> {
    const object = await this.backend.get(key);
    return object && this.out(object);
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListResult> {
    const predicate = options.predicate;
    const result = await this.backend.list(prefix, predicate ? { ...options, predicate: (object) => predicate(this.out(object)) } : options);
    return { ...result, items: result.items.map((item) => this.out(item)) };
  }

  async create(key: string, object: KubeObject): Promise<KubeObject> {
    return this.out(await this.backend.create(key, this.conversion.toStorage(object)));
  }

  async guaranteedUpdate(key: string, tryUpdate: UpdateFunction, preconditions?: Preconditions): Promise<KubeObject> {
    const updated = await this.backend.guaranteedUpdate(key, async (current) => {
      const served = this.out(current);
      const next = await tryUpdate(served);
      // Unchanged (the store hands back what it was given): keep the stored object, no write.
      return next === served ? current : this.conversion.toStorage(next);
    }, preconditions);
    return this.out(updated);
  }

  async delete(key: string, options?: DeleteOptions): Promise<KubeObject> {
    const validate = options?.validateDeletion;
    const converted = validate ? { ...options, validateDeletion: (current: KubeObject) => validate(this.out(current)) } : options;
    return this.out(await this.backend.delete(key, converted));
  }

  watch(prefix: string, options: WatchOptions, callbacks: WatchCallbacks): WatchHandle {
    // Index hints describe the served form's fields, not the stored ones: only the revision goes on.
    return this.backend.watch(prefix, { fromRevision: options.fromRevision }, {
      ...callbacks,
      onEvent: (event: StorageEvent) => callbacks.onEvent({
        ...event,
        object: this.out(event.object),
        ...(event.prevObject ? { prevObject: this.out(event.prevObject) } : {}),
      }),
    });
  }

  currentRevision(): Promise<number> {
    return this.backend.currentRevision();
  }

  count(prefix: string): Promise<number> {
    return this.backend.count(prefix);
  }

  async close(): Promise<void> {
    // The backend belongs to the registry's owner.
  }
}
