// The etcd v3 backend, mapped onto etcd as kube-apiserver's etcd3 store maps it: an object is the
// JSON value of its key (stored without metadata.resourceVersion), and its resourceVersion is the
// key's mod_revision. Creates are transactions on create_revision == 0, updates and deletes are
// transactions on the mod_revision that was read (a lost compare-and-swap retries with the value
// the failed transaction returned), lists read at one revision in pages, and watches are etcd
// watches with prev_kv. Any number of API server replicas can share one etcd: etcd orders every
// write, so they share one resourceVersion sequence and compare-and-swap holds across them.

import type { IEvent, IKeyValue, IRangeResponse, ITxnRequest, ITxnResponse } from 'etcd3';
import { CompareResult, CompareTarget } from 'etcd3';
import type { KubeObject } from '../api/object.ts';
import {
  KeyExistsError, KeyNotFoundError, RevisionCompactedError,
  type DeleteOptions, type ListOptions, type ListResult, type Preconditions, type Storage, type StorageEvent,
  type StorageHealth, type UpdateFunction, type WatchCallbacks, type WatchHandle, type WatchOptions,
} from './interface.ts';
import { EtcdHealthProbe } from './etcd-health.ts';
import { EtcdConnection, isCompactedError, isFutureRevisionError } from './etcd-client.ts';
import { EtcdCompactor } from './etcd-compactor.ts';
import { EtcdKeyspace } from './etcd-keyspace.ts';
import { EtcdWatch } from './etcd-watch.ts';
import { checkPreconditions, withResourceVersion } from './object-versioning.ts';
import type { KeyTransformers } from './value-transformer.ts';

export interface EtcdStorageOptions {
  /** Client URLs of the cluster's members. */
  endpoints: string[];
  /** Replaces the leading `/registry` of every key (kube-apiserver's --etcd-prefix; default /registry). */
  prefix?: string;
  /** --etcd-compaction-interval (default 5 minutes; 0 disables). */
  compactionIntervalMs?: number;
  /** Keep only about this many latest revisions, compacting after writes (tests). */
  historyRevisions?: number;
  /** How long a call keeps retrying while etcd is unreachable or has no leader (default 20 s). */
  retryTimeoutMs?: number;
  /** How often the `etcd` health check reads from etcd (default 2 s; it must answer within 2 s). */
  healthCheckIntervalMs?: number;
  /**
   * Encryption at rest (--encryption-provider-config): the value transformer of each key's
   * resource. Values are stored exactly as kube-apiserver stores them (`k8s:enc:aescbc:v1:<key>:`
   * + ciphertext), with the etcd key as authenticated data.
   */
  transformers?: KeyTransformers;
}

/** Keys per range request when a list is read in pages. */
const LIST_PAGE = 1_000;

interface Current {
  kv: IKeyValue;
  object: KubeObject;
  /** The object's bytes before the value transformer (kv.value itself when nothing is encrypted). */
  plain: Buffer;
  /** Read through a transformer other than the one writes use: rewrite even when unchanged. */
  stale: boolean;
}

export class EtcdStorage implements Storage {
  private readonly watches = new Set<EtcdWatch>();
  private closed = false;
  private healthProbe: EtcdHealthProbe | undefined;

  private constructor(
    private readonly connection: EtcdConnection,
    private readonly keyspace: EtcdKeyspace,
    private readonly compactor: EtcdCompactor,
    private readonly transformers: KeyTransformers | undefined,
  ) {}

  /** kube-apiserver's `etcd` check: unhealthy while etcd does not answer a read within 2 s. */
  health(): StorageHealth {
    return this.healthProbe?.health() ?? { healthy: true };
  }

  /** Connects and checks etcd answers (retrying for a while, so a cluster still starting is fine). */
  static async open(options: EtcdStorageOptions): Promise<EtcdStorage> {
    const connection = new EtcdConnection({ endpoints: options.endpoints, retryTimeoutMs: options.retryTimeoutMs });
    const keyspace = new EtcdKeyspace(options.prefix);
    const storage: EtcdStorage = new EtcdStorage(connection, keyspace, new EtcdCompactor(connection, () => storage.currentRevision(), {
      intervalMs: options.compactionIntervalMs ?? 5 * 60_000,
      historyRevisions: options.historyRevisions,
    }), options.transformers);
    try {
      await storage.currentRevision();
    } catch (error) {
      connection.close();
      throw error;
    }
    storage.compactor.start();
    storage.healthProbe = new EtcdHealthProbe(() => storage.currentRevision(), options.healthCheckIntervalMs);
    storage.healthProbe.start();
    return storage;
  }

  async currentRevision(): Promise<number> {
    this.assertOpen();
    // Any read's header carries the store's revision; a count of one absent key is the cheapest.
    const response = await this.connection.call(() => this.connection.client.kv.range({ key: Buffer.from(`${this.keyspace.prefix}/`), count_only: true }));
    return Number(response.header.revision);
  }

  async get(key: string): Promise<KubeObject | undefined> {
    return (await this.readCurrent(key))?.object;
  }

  async count(prefix: string): Promise<number> {
    this.assertOpen();
    const range = this.keyspace.range(prefix);
    if (!range) return 0;
    const response = await this.connection.call(() => this.connection.client.kv.range({ key: range.start, range_end: range.end, count_only: true }));
    return Number(response.count);
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListResult> {
    this.assertOpen();
    const range = this.keyspace.range(prefix);
    if (!range) return { items: [], keys: [], revision: options.revision ?? await this.currentRevision() };
    let start = range.start;
    if (options.startAfterKey !== undefined && options.startAfterKey.startsWith('/registry/')) {
      const after = EtcdKeyspace.after(this.keyspace.toEtcd(options.startAfterKey));
      if (Buffer.compare(after, start) > 0) start = after;
    }
    const { predicate } = options;
    const limit = options.limit && options.limit > 0 ? options.limit : Infinity;
    // 0 reads the latest revision; the first page pins it for the rest.
    let revision = options.revision ?? 0;
    const items: KubeObject[] = [];
    const keys: string[] = [];
    let lastKey: string | undefined;
    let remainingItemCount: number | undefined;
    for (;;) {
      const pageLimit = predicate || !Number.isFinite(limit) ? LIST_PAGE : Math.min(LIST_PAGE, limit - items.length);
      let response: IRangeResponse;
      try {
        response = await this.readRange(start, range.end, revision, pageLimit);
      } catch (error) {
        // A revision this etcd has not reached (a continue token from before a reset): read the
        // latest state instead, as LevelDB does.
        if (isFutureRevisionError(error) && revision > 0 && items.length === 0) {
          revision = 0;
          continue;
        }
        throw error;
      }
      // A historical read's header still carries the latest revision: only adopt it for latest reads.
      if (revision === 0) revision = Number(response.header.revision);
      let consumed = 0;
      for (const kv of response.kvs) {
        if (items.length >= limit) break;
        consumed++;
        const object = this.decode(kv).object;
        if (predicate && !predicate(object)) continue;
        items.push(object);
        keys.push(this.keyspace.fromEtcd(kv.key));
      }
      const more = consumed < response.kvs.length || response.more;
      if (items.length >= limit) {
        if (more) {
          lastKey = keys[keys.length - 1];
          if (!predicate) remainingItemCount = Number(response.count) - consumed;
        }
        break;
      }
      if (!response.more || response.kvs.length === 0) break;
      start = EtcdKeyspace.after(response.kvs[response.kvs.length - 1].key);
    }
    const result: ListResult = { items, keys, revision };
    if (lastKey !== undefined) {
      result.lastKey = lastKey;
      if (remainingItemCount !== undefined) result.remainingItemCount = remainingItemCount;
    }
    return result;
  }

  async create(key: string, object: KubeObject): Promise<KubeObject> {
    this.assertOpen();
    const etcdKey = this.keyspace.toEtcd(key);
    const plain = encode(object);
    const value = this.seal(etcdKey, plain);
    const { response, uncertain } = await this.txn({
      compare: [{ key: etcdKey, target: CompareTarget.Create, result: CompareResult.Equal, create_revision: 0 }],
      success: [{ request_put: { key: etcdKey, value } }],
      failure: [{ request_range: { key: etcdKey } }],
    });
    if (response.succeeded) return this.written(plain, Number(response.header.revision));
    const existing = failureRead(response);
    // Our own earlier attempt, applied although its reply was lost (the object's uid makes the
    // bytes unique to this create; an encrypted value's random IV makes them unique anyway).
    if (uncertain && existing && existing.value.equals(value)) return decodeValue(plain, Number(existing.mod_revision));
    throw new KeyExistsError(key);
  }

  /**
   * `cached` is the caller's copy of the current object (the watch cache's): the first attempt
   * starts from it instead of reading etcd, as kube-apiserver's store starts from the cacher's
   * object. The compare-and-swap catches a stale copy; an error or a "nothing changed" computed
   * from an unverified copy is retried once against etcd's value before it counts.
   */
  async guaranteedUpdate(key: string, tryUpdate: UpdateFunction, preconditions?: Preconditions, cached?: KubeObject): Promise<KubeObject> {
    const etcdKey = this.keyspace.toEtcd(key);
    let current = cached ? fromCached(cached) : await this.readCurrent(key);
    let verified = !cached;
    for (;;) {
      if (!current) throw new KeyNotFoundError(key);
      let next: KubeObject;
      try {
        checkPreconditions(key, current.object, preconditions);
        next = await tryUpdate(current.object);
      } catch (error) {
        if (verified) throw error;
        current = await this.readCurrent(key);
        verified = true;
        continue;
      }
      const plain = encode(next);
      // Same bytes as stored: like the etcd3 store, write nothing and keep the revision, unless
      // the stored value was read through an older key (then the rewrite moves it to the current one).
      if ((next === current.object || plain.equals(current.plain)) && !(verified && current.stale)) {
        if (verified) return current.object;
        current = await this.readCurrent(key);
        verified = true;
        continue;
      }
      this.assertOpen();
      const value = this.seal(etcdKey, plain);
      const { response, uncertain } = await this.txn({
        compare: [{ key: etcdKey, target: CompareTarget.Mod, result: CompareResult.Equal, mod_revision: current.kv.mod_revision }],
        success: [{ request_put: { key: etcdKey, value } }],
        failure: [{ request_range: { key: etcdKey } }],
      });
      if (response.succeeded) return this.written(plain, Number(response.header.revision));
      const fresh = failureRead(response);
      // After an attempt whose reply was lost, the exact bytes we wrote mean that attempt landed.
      if (uncertain && fresh && fresh.value.equals(value)) return decodeValue(plain, Number(fresh.mod_revision));
      current = fresh ? this.decode(fresh) : undefined;
      verified = true;
    }
  }

  /** `cached`: as for guaranteedUpdate. */
  async delete(key: string, options: DeleteOptions = {}, cached?: KubeObject): Promise<KubeObject> {
    const etcdKey = this.keyspace.toEtcd(key);
    let current = cached ? fromCached(cached) : await this.readCurrent(key);
    let verified = !cached;
    for (;;) {
      if (!current) throw new KeyNotFoundError(key);
      try {
        checkPreconditions(key, current.object, options.preconditions);
        if (options.validateDeletion) await options.validateDeletion(current.object);
      } catch (error) {
        if (verified) throw error;
        current = await this.readCurrent(key);
        verified = true;
        continue;
      }
      this.assertOpen();
      const { response, uncertain } = await this.txn({
        compare: [{ key: etcdKey, target: CompareTarget.Mod, result: CompareResult.Equal, mod_revision: current.kv.mod_revision }],
        success: [{ request_delete_range: { key: etcdKey } }],
        failure: [{ request_range: { key: etcdKey } }],
      });
      if (response.succeeded) {
        const revision = Number(response.header.revision);
        await this.compactor.afterWrite(revision);
        return withResourceVersion(current.object, revision);
      }
      const fresh = failureRead(response);
      // Gone after an attempt whose reply was lost: probably our delete, but its revision is unknown.
      if (uncertain && !fresh) throw new Error(`etcd: lost the reply to deleting ${key}; the key is gone`);
      current = fresh ? this.decode(fresh) : undefined;
      verified = true;
    }
  }

  watch(prefix: string, options: WatchOptions, callbacks: WatchCallbacks): WatchHandle {
    this.assertOpen();
    const { fromRevision } = options;
    const compacted = this.compactor.compactedRevision;
    // etcd keeps revision `compacted` itself; the watch needs everything after fromRevision.
    if (fromRevision + 1 < compacted) throw new RevisionCompactedError(fromRevision, compacted);
    const range = this.keyspace.range(prefix);
    // No storage key can have this prefix: nothing will ever happen.
    if (!range) return { stop: () => undefined };
    const watch: EtcdWatch = new EtcdWatch(this.connection, range, fromRevision, {
      onEvents: (events) => {
        for (const event of events) callbacks.onEvent(this.toStorageEvent(event));
      },
      onProgress: (revision) => callbacks.onProgress?.(revision),
      onCompacted: (revision) => this.compactor.learn(revision),
      onError: (error) => {
        this.watches.delete(watch);
        callbacks.onError?.(error);
      },
    });
    this.watches.add(watch);
    return { stop: () => { this.watches.delete(watch); watch.stop(); } };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.healthProbe?.stop();
    for (const watch of this.watches) watch.stop();
    this.watches.clear();
    await this.compactor.stop();
    this.connection.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('storage is closed');
  }

  private async readCurrent(key: string): Promise<Current | undefined> {
    this.assertOpen();
    const etcdKey = this.keyspace.toEtcd(key);
    const response = await this.connection.call(() => this.connection.client.kv.range({ key: etcdKey }));
    const kv = response.kvs[0];
    return kv ? this.decode(kv) : undefined;
  }

  /** The bytes stored for `plain` under `etcdKey`: through the resource's transformer, if any. */
  private seal(etcdKey: Buffer, plain: Buffer): Buffer {
    const transformer = this.transformers?.forKey(this.keyspace.fromEtcd(etcdKey));
    return transformer ? transformer.toStorage(plain, etcdKey) : plain;
  }

  private decode(kv: IKeyValue): Current {
    const key = this.keyspace.fromEtcd(kv.key);
    const transformer = this.transformers?.forKey(key);
    let plain = kv.value;
    let stale = false;
    if (transformer) {
      try {
        ({ data: plain, stale } = transformer.fromStorage(kv.value, kv.key));
      } catch (error) {
        throw new Error(`unable to transform key "${key}": ${(error as Error).message}`);
      }
    }
    return { kv, object: decodeValue(plain, Number(kv.mod_revision)), plain, stale };
  }

  private async readRange(start: Buffer, end: Buffer, revision: number, limit: number): Promise<IRangeResponse> {
    try {
      return await this.connection.call(() => this.connection.client.kv.range({ key: start, range_end: end, revision, limit }));
    } catch (error) {
      if (isCompactedError(error)) {
        this.compactor.learn(revision + 1);
        throw new RevisionCompactedError(revision, Math.max(this.compactor.compactedRevision, revision + 1));
      }
      throw error;
    }
  }

  /** `uncertain`: an earlier attempt failed in a way that may still have applied it. */
  private async txn(request: ITxnRequest): Promise<{ response: ITxnResponse; uncertain: boolean }> {
    let uncertain = false;
    const response = await this.connection.call(() => this.connection.client.kv.txn(request), () => { uncertain = true; });
    return { response, uncertain };
  }

  private async written(value: Buffer, revision: number): Promise<KubeObject> {
    await this.compactor.afterWrite(revision);
    return decodeValue(value, revision);
  }

  private toStorageEvent(event: IEvent): StorageEvent {
    const key = this.keyspace.fromEtcd(event.kv.key);
    const revision = Number(event.kv.mod_revision);
    const prevObject = event.prev_kv ? this.decode(event.prev_kv).object : undefined;
    if (String(event.type).toUpperCase() === 'DELETE') {
      // etcd drops prev_kv only when the previous revision is compacted; then the object is unknown.
      if (!prevObject) throw new Error(`etcd delete event for ${key} without the previous value`);
      return { type: 'DELETED', key, object: withResourceVersion(prevObject, revision), prevObject, revision };
    }
    const object = this.decode(event.kv).object;
    if (event.kv.create_revision === event.kv.mod_revision) return { type: 'ADDED', key, object, revision };
    return { type: 'MODIFIED', key, object, ...(prevObject ? { prevObject } : {}), revision };
  }
}

/** The stored bytes: the object as JSON without metadata.resourceVersion (the revision is etcd's). */
function encode(object: KubeObject): Buffer {
  const { resourceVersion: _ignored, ...metadata } = object.metadata;
  return Buffer.from(JSON.stringify({ ...object, metadata }));
}

function decodeValue(value: Buffer, revision: number): KubeObject {
  const object = JSON.parse(value.toString()) as KubeObject;
  object.metadata = { ...object.metadata, resourceVersion: String(revision) };
  return object;
}

/** The caller's copy as if read from etcd: its resourceVersion is the mod_revision it was read at. */
function fromCached(object: KubeObject): Current {
  const plain = encode(object);
  const kv: IKeyValue = {
    key: Buffer.alloc(0), value: plain, mod_revision: object.metadata.resourceVersion ?? '0',
    create_revision: '0', version: '0', lease: '0',
  };
  // Whether the stored value is stale is only known once read from etcd (an unverified copy is re-read).
  return { kv, object, plain, stale: false };
}

function failureRead(response: ITxnResponse): IKeyValue | undefined {
  return response.responses[0]?.response_range?.kvs[0];
}
