// The garbage collector (pkg/controller/garbagecollector): it watches every deletable resource and
// keeps a graph of ownerReferences (uid → object, owner uid → dependents). It deletes objects whose
// owners are all gone (checked with a live GET before anything is deleted); removes references to
// owners that are gone while others remain; for an owner deleted in the foreground (the
// foregroundDeletion finalizer) deletes its dependents that have no other solid owner — those with
// dependents of their own in the foreground too — drops its reference from the others, and removes the finalizer once no dependent with blockOwnerDeletion is left; for an
// owner deleted with the orphan finalizer removes its reference from every dependent, then the finalizer.

import { ApiStatusError } from '../../clients/json-api-client.ts';
import { collectionPath, objectPath, apiVersionOf, type KindInfo } from '../framework/api-paths.ts';
import { QueueController, type ControllerContext } from '../framework/controller.ts';
import { metadataOnly, type ObjectMetaView, type OwnerReference } from '../framework/object-views.ts';
import { discoverDeletableResources, type DeletableResource } from './resources.ts';

const FOREGROUND = 'foregroundDeletion';
const ORPHAN = 'orphan';
const COMPONENT = 'garbage-collector-controller';
const REDISCOVERY_INTERVAL_MS = 30_000;

interface Node {
  resource: DeletableResource;
  meta: ObjectMetaView;
}

function hasFinalizer(meta: ObjectMetaView, finalizer: string): boolean {
  return meta.finalizers?.includes(finalizer) ?? false;
}

function waitingForDependents(meta: ObjectMetaView): boolean {
  return Boolean(meta.deletionTimestamp) && hasFinalizer(meta, FOREGROUND);
}

export class GarbageCollector extends QueueController {
  private readonly nodes = new Map<string, Node>();
  /** owner uid → dependent uids. */
  private readonly dependents = new Map<string, Set<string>>();
  /** `apiVersion/kind` → resource, for owners named by their references. */
  private readonly byKind = new Map<string, DeletableResource>();
  private readonly watched = new Set<string>();
  private synced = false;
  private rediscovery: NodeJS.Timeout | undefined;

  constructor(ctx: ControllerContext) {
    super('garbage-collector', ctx);
  }

  /** Discovers the resources and registers an informer for each, before the informers start. */
  async prepare(): Promise<void> {
    await this.watchDiscoveredResources();
  }

  private async watchDiscoveredResources(): Promise<boolean> {
    const resources = await discoverDeletableResources(this.ctx.client);
    let added = false;
    for (const resource of resources) {
      this.byKind.set(`${apiVersionOf(resource)}/${resource.kind}`, resource);
      const path = collectionPath(resource);
      if (this.watched.has(path)) continue;
      this.watched.add(path);
      added = true;
      const informer = this.ctx.informers.informer(path, metadataOnly);
      informer.addHandlers({
        add: (obj) => this.observe(resource, undefined, obj.metadata),
        update: (old, obj) => this.observe(resource, old.metadata, obj.metadata),
        delete: (obj) => this.forget(obj.metadata),
      });
    }
    return added;
  }

  override run(workers: number): void {
    // Everything was listed: now look at every object once (owners may have gone while we were away).
    this.synced = true;
    for (const [uid, node] of this.nodes) {
      if (node.meta.ownerReferences?.length || this.gcFinalizing(node.meta)) this.enqueue(uid);
    }
    super.run(workers);
    const rediscover = async (): Promise<void> => {
      try {
        if (await this.watchDiscoveredResources()) await this.ctx.informers.start();
      } catch (err) {
        this.ctx.logger.warn(`garbage-collector: discovery failed: ${String(err)}`);
      }
      this.rediscovery = setTimeout(() => void rediscover(), REDISCOVERY_INTERVAL_MS);
      this.rediscovery.unref?.();
    };
    this.rediscovery = setTimeout(() => void rediscover(), REDISCOVERY_INTERVAL_MS);
    this.rediscovery.unref?.();
  }

  override async stop(): Promise<void> {
    if (this.rediscovery) clearTimeout(this.rediscovery);
    await super.stop();
  }

  private gcFinalizing(meta: ObjectMetaView): boolean {
    return Boolean(meta.deletionTimestamp) && (hasFinalizer(meta, FOREGROUND) || hasFinalizer(meta, ORPHAN));
  }

  private observe(resource: DeletableResource, old: ObjectMetaView | undefined, meta: ObjectMetaView): void {
    const oldOwners = old?.ownerReferences ?? [];
    for (const ref of oldOwners) this.dependents.get(ref.uid)?.delete(meta.uid);
    this.nodes.set(meta.uid, { resource, meta });
    for (const ref of meta.ownerReferences ?? []) {
      let set = this.dependents.get(ref.uid);
      if (!set) this.dependents.set(ref.uid, (set = new Set()));
      set.add(meta.uid);
    }
    if (!this.synced) return;
    if (this.gcFinalizing(meta)) this.enqueue(meta.uid);
    // An owner that is gone, or waiting for its dependents: this object needs a look.
    for (const ref of meta.ownerReferences ?? []) {
      const owner = this.nodes.get(ref.uid);
      if (!owner) this.enqueue(meta.uid);
      else if (this.gcFinalizing(owner.meta)) {
        this.enqueue(meta.uid);
        this.enqueue(ref.uid);
      }
    }
    // References removed (released or orphaned): an owner waiting on them may finish.
    for (const ref of oldOwners) {
      if (!(meta.ownerReferences ?? []).some((r) => r.uid === ref.uid)) this.enqueue(ref.uid);
    }
  }

  private forget(meta: ObjectMetaView): void {
    const node = this.nodes.get(meta.uid);
    this.nodes.delete(meta.uid);
    for (const ref of node?.meta.ownerReferences ?? meta.ownerReferences ?? []) {
      const set = this.dependents.get(ref.uid);
      set?.delete(meta.uid);
      if (set && set.size === 0) this.dependents.delete(ref.uid);
      if (this.synced && this.nodes.has(ref.uid)) this.enqueue(ref.uid);
    }
    if (!this.synced) return;
    for (const dependent of this.dependents.get(meta.uid) ?? []) this.enqueue(dependent);
  }

  private dependentNodes(uid: string): Node[] {
    return [...(this.dependents.get(uid) ?? [])].map((dep) => this.nodes.get(dep)).filter((n): n is Node => n !== undefined);
  }

  protected async sync(uid: string): Promise<void> {
    const node = this.nodes.get(uid);
    if (!node) return;
    const meta = node.meta;
    if (meta.deletionTimestamp) {
      if (hasFinalizer(meta, ORPHAN)) await this.orphanDependents(node);
      else if (hasFinalizer(meta, FOREGROUND)) await this.deleteDependents(node);
      return;
    }
    if (meta.ownerReferences?.length) await this.attemptToDelete(node);
  }

  /** The orphan finalizer: drop this owner from every dependent's references, then the finalizer. */
  private async orphanDependents(owner: Node): Promise<void> {
    for (const dep of this.dependentNodes(owner.meta.uid)) {
      await this.patchOwnerReferences(dep, (refs) => refs.filter((ref) => ref.uid !== owner.meta.uid));
    }
    await this.removeFinalizer(owner, ORPHAN);
  }

  /**
   * The foregroundDeletion finalizer (processDeletingDependentsItem): every dependent goes through
   * attemptToDelete, which deletes it only when no other owner is solid (a dependent with another
   * owner just loses its reference to this one); finish when none blocks the owner any longer.
   */
  private async deleteDependents(owner: Node): Promise<void> {
    const deps = this.dependentNodes(owner.meta.uid);
    for (const dep of deps) {
      if (dep.meta.deletionTimestamp) continue;
      await this.attemptToDelete(dep);
    }
    const blocking = deps.filter((dep) => dep.meta.ownerReferences?.some((ref) => ref.uid === owner.meta.uid && ref.blockOwnerDeletion === true));
    if (blocking.length === 0) await this.removeFinalizer(owner, FOREGROUND);
  }

  /** attemptToDeleteItem: classify the owners; delete the object if none is solid, else drop dangling references. */
  private async attemptToDelete(node: Node): Promise<void> {
    const solid: OwnerReference[] = [];
    const dangling: OwnerReference[] = [];
    const waiting: OwnerReference[] = [];
    for (const ref of node.meta.ownerReferences ?? []) {
      const state = await this.ownerState(node, ref);
      if (state === 'absent') dangling.push(ref);
      else if (state === 'waiting') waiting.push(ref);
      else solid.push(ref);
    }
    if (solid.length > 0) {
      if (dangling.length === 0 && waiting.length === 0) return;
      const drop = new Set([...dangling, ...waiting].map((ref) => ref.uid));
      await this.patchOwnerReferences(node, (refs) => refs.filter((ref) => !drop.has(ref.uid)));
      return;
    }
    let policy: string;
    const dependents = this.dependentNodes(node.meta.uid);
    if (waiting.length > 0 && dependents.length > 0) {
      // An owner waits for this object, which has dependents of its own: it goes in the foreground. When
      // one of those dependents waits for its dependents too there may be a cycle (a owns b owns c owns a,
      // all deleted in the foreground): this object stops blocking its owners, so the cycle unwinds.
      if (dependents.some((dep) => waitingForDependents(dep.meta))) await this.unblockOwnerReferences(node);
      policy = 'Foreground';
    } else if (hasFinalizer(node.meta, ORPHAN)) policy = 'Orphan';
    else if (hasFinalizer(node.meta, FOREGROUND)) policy = 'Foreground';
    else policy = 'Background';
    const dependent = `${node.resource.kind} ${node.meta.namespace ? `${node.meta.namespace}/` : ''}${node.meta.name}`;
    this.ctx.logger.info(`garbage-collector: deleting ${dependent} (propagationPolicy ${policy}): its owners are gone or being deleted`);
    await this.deleteObject(node, policy);
  }

  /** Whether an owner exists (live GET, as isDangling does: the cache may lag), and whether it waits for dependents. */
  private async ownerState(node: Node, ref: OwnerReference): Promise<'absent' | 'waiting' | 'solid'> {
    const cached = this.nodes.get(ref.uid);
    if (cached) return waitingForDependents(cached.meta) ? 'waiting' : 'solid';
    const resource = this.byKind.get(`${ref.apiVersion}/${ref.kind}`);
    // An owner kind this server does not serve cannot be checked: leave the object alone (upstream retries).
    if (!resource) return 'solid';
    const namespace = resource.namespaced ? node.meta.namespace : undefined;
    if (resource.namespaced && !namespace) return 'absent'; // a cluster-scoped object cannot have a namespaced owner
    try {
      const owner = await this.ctx.client.request<{ metadata: ObjectMetaView }>('GET', objectPath(resource, namespace, ref.name));
      if (owner.metadata.uid !== ref.uid) return 'absent';
      return waitingForDependents(owner.metadata) ? 'waiting' : 'solid';
    } catch (err) {
      if (err instanceof ApiStatusError && err.code === 404) return 'absent';
      throw err;
    }
  }

  private async deleteObject(node: Node, propagationPolicy: string): Promise<void> {
    try {
      await this.ctx.client.request('DELETE', objectPath(node.resource, node.meta.namespace, node.meta.name), {
        kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy, preconditions: { uid: node.meta.uid },
      });
    } catch (err) {
      // Gone already, or replaced by a new object of the same name (the uid precondition): nothing to do.
      if (err instanceof ApiStatusError && (err.code === 404 || err.code === 409)) return;
      throw err;
    }
  }

  /** A JSON patch guarded by the object's resourceVersion, computed from a fresh read. */
  private async patchFresh(node: Node, change: (meta: ObjectMetaView) => unknown[] | undefined): Promise<void> {
    const path = objectPath(node.resource as KindInfo, node.meta.namespace, node.meta.name);
    let fresh: { metadata: ObjectMetaView };
    try {
      fresh = await this.ctx.client.request<{ metadata: ObjectMetaView }>('GET', path);
    } catch (err) {
      if (err instanceof ApiStatusError && err.code === 404) return;
      throw err;
    }
    if (fresh.metadata.uid !== node.meta.uid) return;
    const operations = change(fresh.metadata);
    if (!operations) return;
    try {
      await this.ctx.client.request('PATCH', path, [
        { op: 'test', path: '/metadata/resourceVersion', value: fresh.metadata.resourceVersion }, ...operations,
      ], 'application/json-patch+json');
    } catch (err) {
      if (err instanceof ApiStatusError && err.code === 404) return;
      // The resourceVersion test failed: the object changed since the read. Retry like a conflict.
      if (err instanceof ApiStatusError && err.code === 422) throw new ApiStatusError(409, err.body);
      throw err;
    }
  }

  private patchOwnerReferences(node: Node, keep: (refs: OwnerReference[]) => OwnerReference[]): Promise<void> {
    return this.patchFresh(node, (meta) => {
      const refs = meta.ownerReferences ?? [];
      const kept = keep(refs);
      if (kept.length === refs.length) return undefined;
      return kept.length ? [{ op: 'replace', path: '/metadata/ownerReferences', value: kept }] : [{ op: 'remove', path: '/metadata/ownerReferences' }];
    });
  }

  /** unblockOwnerReferences: every blockOwnerDeletion of the object's references set to false. */
  private unblockOwnerReferences(node: Node): Promise<void> {
    return this.patchFresh(node, (meta) => {
      const refs = meta.ownerReferences ?? [];
      if (!refs.some((ref) => ref.blockOwnerDeletion === true)) return undefined;
      return [{ op: 'replace', path: '/metadata/ownerReferences', value: refs.map((ref) => (ref.blockOwnerDeletion === true ? { ...ref, blockOwnerDeletion: false } : ref)) }];
    });
  }

  private removeFinalizer(node: Node, finalizer: string): Promise<void> {
    return this.patchFresh(node, (meta) => {
      const finalizers = meta.finalizers ?? [];
      if (!finalizers.includes(finalizer)) return undefined;
      const kept = finalizers.filter((f) => f !== finalizer);
      return kept.length ? [{ op: 'replace', path: '/metadata/finalizers', value: kept }] : [{ op: 'remove', path: '/metadata/finalizers' }];
    });
  }

  get component(): string {
    return COMPONENT;
  }
}
