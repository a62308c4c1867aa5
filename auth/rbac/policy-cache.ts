// The RBAC objects in memory, kept current by storage watches (the informers behind kube-apiserver's
// RBAC listers). The watch cache delivers an event to watchers before it acknowledges the write, so a
// binding created by one request is in force for the very next request.

import type { KubeObject } from '../../api/object.ts';
import type { Storage, StorageEvent, WatchHandle } from '../../storage/interface.ts';
import { compareByName, type PolicySource } from './policy-source.ts';

const PREFIXES = {
  roles: '/registry/roles/',
  clusterRoles: '/registry/clusterroles/',
  roleBindings: '/registry/rolebindings/',
  clusterRoleBindings: '/registry/clusterrolebindings/',
} as const;

type Kind = keyof typeof PREFIXES;

export class PolicyCache implements PolicySource {
  private readonly maps: Record<Kind, Map<string, KubeObject>> = {
    roles: new Map(), clusterRoles: new Map(), roleBindings: new Map(), clusterRoleBindings: new Map(),
  };
  /** Sorted views, rebuilt lazily after a change. */
  private sortedClusterRoleBindings: KubeObject[] | undefined;
  private readonly roleBindingsByNamespace = new Map<string, KubeObject[]>();
  private roleBindingsIndexStale = true;
  private readonly watches: WatchHandle[] = [];
  private readonly clusterRoleListeners: (() => void)[] = [];
  private stopped = false;

  private constructor(private readonly storage: Storage) {}

  static async start(storage: Storage): Promise<PolicyCache> {
    const cache = new PolicyCache(storage);
    for (const kind of Object.keys(PREFIXES) as Kind[]) await cache.follow(kind);
    return cache;
  }

  /** Called (synchronously) after any ClusterRole is added, changed or removed. */
  onClusterRoleChange(listener: () => void): void {
    this.clusterRoleListeners.push(listener);
  }

  stop(): void {
    this.stopped = true;
    for (const watch of this.watches.splice(0)) watch.stop();
  }

  getRole(namespace: string, name: string): KubeObject | undefined {
    return this.maps.roles.get(`${PREFIXES.roles}${namespace}/${name}`);
  }

  getClusterRole(name: string): KubeObject | undefined {
    return this.maps.clusterRoles.get(`${PREFIXES.clusterRoles}${name}`);
  }

  listClusterRoles(): KubeObject[] {
    return [...this.maps.clusterRoles.values()].sort(compareByName);
  }

  listClusterRoleBindings(): KubeObject[] {
    this.sortedClusterRoleBindings ??= [...this.maps.clusterRoleBindings.values()].sort(compareByName);
    return this.sortedClusterRoleBindings;
  }

  listRoleBindings(namespace: string): KubeObject[] {
    if (this.roleBindingsIndexStale) {
      this.roleBindingsByNamespace.clear();
      for (const binding of this.maps.roleBindings.values()) {
        const ns = binding.metadata.namespace ?? '';
        const list = this.roleBindingsByNamespace.get(ns) ?? [];
        list.push(binding);
        this.roleBindingsByNamespace.set(ns, list);
      }
      for (const list of this.roleBindingsByNamespace.values()) list.sort(compareByName);
      this.roleBindingsIndexStale = false;
    }
    return this.roleBindingsByNamespace.get(namespace) ?? [];
  }

  private async follow(kind: Kind): Promise<void> {
    const prefix = PREFIXES[kind];
    const listed = await this.storage.list(prefix);
    const map = this.maps[kind];
    map.clear();
    listed.items.forEach((item, index) => map.set(listed.keys?.[index] ?? keyOf(kind, item), item));
    this.changed(kind);
    const handle = this.storage.watch(prefix, { fromRevision: listed.revision }, {
      onEvent: (event) => this.apply(kind, event),
      onError: () => {
        // The watch ended (e.g. the cache lost its backend): list again and resume, as a reflector does.
        if (this.stopped) return;
        const index = this.watches.indexOf(handle);
        if (index >= 0) this.watches.splice(index, 1);
        void this.follow(kind).catch(() => undefined);
      },
    });
    this.watches.push(handle);
  }

  private apply(kind: Kind, event: StorageEvent): void {
    if (event.type === 'DELETED') this.maps[kind].delete(event.key);
    else this.maps[kind].set(event.key, event.object);
    this.changed(kind);
  }

  private changed(kind: Kind): void {
    if (kind === 'clusterRoleBindings') this.sortedClusterRoleBindings = undefined;
    if (kind === 'roleBindings') this.roleBindingsIndexStale = true;
    if (kind === 'clusterRoles') for (const listener of this.clusterRoleListeners) listener();
  }
}

function keyOf(kind: Kind, object: KubeObject): string {
  const ns = object.metadata.namespace;
  return ns && (kind === 'roles' || kind === 'roleBindings')
    ? `${PREFIXES[kind]}${ns}/${object.metadata.name}`
    : `${PREFIXES[kind]}${object.metadata.name}`;
}
