// The set of served resources: one GenericStore per strategy, looked up by group/version/resource
// (the API installer of kube-apiserver, without the HTTP part).

import type { AdmissionChain } from '../admission.ts';
import type { ResourceStrategy } from '../resource.ts';
import type { Storage } from '../../storage/interface.ts';
import { GenericStore, type NamespaceLookup } from './store.ts';
import { ConvertedStorage } from './converted-storage.ts';

export class ApiRegistry {
  private readonly stores = new Map<string, GenericStore>();
  readonly namespaces: NamespaceLookup;
  private admission: AdmissionChain | undefined;

  constructor(readonly strategies: ResourceStrategy[], readonly storage: Storage) {
    const namespaceStrategy = strategies.find((s) => s.group === '' && s.resource === 'namespaces');
    const namespaceStore = namespaceStrategy ? new GenericStore(namespaceStrategy, storage, undefined) : undefined;
    this.namespaces = {
      phase: async (namespace: string) => {
        if (!namespaceStore) return 'Active';
        const object = await storage.get(namespaceStore.key('', namespace));
        if (!object) return undefined;
        const status = object.status as { phase?: string } | undefined;
        return status?.phase === 'Terminating' || object.metadata.deletionTimestamp ? 'Terminating' : 'Active';
      },
    };
    for (const strategy of strategies) {
      const served = strategy.storageConversion ? new ConvertedStorage(storage, strategy.storageConversion) : storage;
      const store = strategy === namespaceStrategy && namespaceStore ? namespaceStore : new GenericStore(strategy, served, this.namespaces);
      this.stores.set(registryKey(strategy.group, strategy.version, strategy.resource), store);
    }
  }

  lookup(group: string, version: string, resource: string): GenericStore | undefined {
    return this.stores.get(registryKey(group, version, resource));
  }

  /**
   * Serves a resource from now on (custom resources: a CRD version became established). A
   * strategy for a group/version/resource already served replaces it (the CRD changed).
   */
  add(strategy: ResourceStrategy): GenericStore {
    const store = new GenericStore(strategy, this.storage, this.namespaces);
    store.admission = this.admission;
    this.stores.set(registryKey(strategy.group, strategy.version, strategy.resource), store);
    return store;
  }

  /** Stops serving a resource added with add(); its stored objects are left alone. */
  remove(group: string, version: string, resource: string): void {
    this.stores.delete(registryKey(group, version, resource));
  }

  /** Installs the admission chain every store runs on writes (also for stores added later). */
  setAdmission(admission: AdmissionChain | undefined): void {
    this.admission = admission;
    for (const store of this.stores.values()) store.admission = admission;
  }

  all(): GenericStore[] {
    return [...this.stores.values()];
  }
}

function registryKey(group: string, version: string, resource: string): string {
  return `${group}/${version}/${resource}`;
}
