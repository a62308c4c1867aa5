// The apiextensions-apiserver's controllers for CustomResourceDefinitions, run inside the API
// server: the naming controller (names checked against the other CRDs of the group, NamesAccepted
// and status.acceptedNames), the establishing controller (Established), the serving side (a
// strategy per served version added to the registry, discovery and OpenAPI told), and the
// finalizer (a CRD being deleted has its custom resources deleted, then its
// customresourcecleanup finalizer removed, then it stops being served).
//
// start() serves every stored CRD before returning, so after a restart custom resources are
// served before the server listens. Work is serialised: one sync at a time, in event order.

import { StatusError } from '../errors.ts';
import { deepCopy, type KubeObject } from '../object.ts';
import type { ApiRegistry } from '../registry/registry.ts';
import { ADMIN_SYSTEM_USER } from '../registry/system-user.ts';
import { KeyNotFoundError, type Storage, type WatchHandle } from '../../storage/interface.ts';
import { customResourceStrategy, type CustomResourceStrategy, type RuleSet } from './strategy.ts';
import {
  CLEANUP_FINALIZER, CRD_GROUP, asCrd, conditionOf, isConditionTrue, setCondition, type CrdNames, type CrdVersion, type CustomResourceDefinition,
} from './types.ts';

const CRD_PREFIX = `/registry/${CRD_GROUP}/customresourcedefinitions/`;

export interface ServedCustomResource {
  crd: CustomResourceDefinition;
  /** One per served version, in the CRD's version order. */
  strategies: CustomResourceStrategy[];
}

export interface CustomResourceControllerOptions {
  /** Called after the set of served custom resources changed (discovery, OpenAPI). */
  onServedChange?: (served: ServedCustomResource[]) => void;
  /** Compiles a version's x-kubernetes-validations (CEL); undefined when it has none. */
  compileRules?: (crd: CustomResourceDefinition, version: CrdVersion) => RuleSet | undefined;
  /** The conversion of a version of a CRD with conversion strategy Webhook (a ConversionReview client). */
  converterFor?: (crd: CustomResourceDefinition, version: string) => ((objects: KubeObject[]) => Promise<KubeObject[]>) | undefined;
  onError?: (error: unknown) => void;
  /** Retry interval while instances with finalizers hold a CRD deletion. */
  retryMs?: number;
}

export class CustomResourceController {
  private readonly served = new Map<string, { uid: string; specJson: string; entry: ServedCustomResource }>();
  private watch: WatchHandle | undefined;
  private queue: Promise<void> = Promise.resolve();
  private stopped = false;
  private readonly retryTimers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly registry: ApiRegistry,
    private readonly storage: Storage,
    private readonly options: CustomResourceControllerOptions = {},
  ) {}

  async start(): Promise<void> {
    const listed = await this.storage.list(CRD_PREFIX);
    for (const crd of listed.items) await this.sync(crd.metadata.name ?? '');
    this.watch = this.storage.watch(CRD_PREFIX, { fromRevision: listed.revision }, {
      onEvent: (event) => this.enqueue(event.object.metadata.name ?? ''),
      onError: (error) => this.options.onError?.(error),
    });
  }

  stop(): void {
    this.stopped = true;
    this.watch?.stop();
    for (const timer of this.retryTimers) clearTimeout(timer);
  }

  /** Resolves once every queued sync has run (tests; the bench waits for Established this way). */
  async settle(): Promise<void> {
    let current: Promise<void>;
    do {
      current = this.queue;
      await current;
    } while (current !== this.queue);
  }

  servedResources(): ServedCustomResource[] {
    return [...this.served.values()].map((s) => s.entry);
  }

  private enqueue(name: string): void {
    this.queue = this.queue.then(() => (this.stopped ? undefined : this.sync(name))).catch((error) => this.options.onError?.(error));
  }

  private async sync(name: string): Promise<void> {
    const stored = await this.storage.get(`${CRD_PREFIX}${name}`);
    if (!stored) {
      this.unserve(name);
      return;
    }
    const crd = asCrd(deepCopy(stored));
    if (crd.metadata.deletionTimestamp) {
      await this.finalize(crd);
      return;
    }
    const updated = await this.updateNamesAndConditions(crd);
    if (isConditionTrue(updated, 'Established')) this.serve(updated);
  }

  /** The naming and establishing controllers: acceptedNames and the NamesAccepted/Established conditions. */
  private async updateNamesAndConditions(crd: CustomResourceDefinition): Promise<CustomResourceDefinition> {
    const conflict = await this.nameConflict(crd);
    const key = `${CRD_PREFIX}${crd.metadata.name}`;
    const result = await this.storage.guaranteedUpdate(key, (current) => {
      const next = asCrd(deepCopy(current));
      const now = new Date();
      let changed = false;
      if (conflict) {
        changed = setCondition(next, { type: 'NamesAccepted', status: 'False', reason: conflict.reason, message: conflict.message }, now) || changed;
        if (!isConditionTrue(next, 'Established')) {
          changed = setCondition(next, { type: 'Established', status: 'False', reason: 'NotAccepted', message: 'not all names are accepted' }, now) || changed;
        }
      } else {
        const accepted = acceptedNamesOf(next.spec.names);
        if (JSON.stringify(next.status?.acceptedNames) !== JSON.stringify(accepted)) {
          next.status = { ...(next.status ?? {}), acceptedNames: accepted };
          changed = true;
        }
        changed = setCondition(next, { type: 'NamesAccepted', status: 'True', reason: 'NoConflicts', message: 'no conflicts found' }, now) || changed;
        if (!isConditionTrue(next, 'Established')) {
          changed = setCondition(next, { type: 'Established', status: 'True', reason: 'InitialNamesAccepted', message: 'the initial names have been accepted' }, now) || changed;
        }
      }
      return changed ? next : current;
    });
    return asCrd(deepCopy(result));
  }

  /** Whether another CRD of the same group already accepted one of the requested names. */
  private async nameConflict(crd: CustomResourceDefinition): Promise<{ reason: string; message: string } | undefined> {
    const others = (await this.storage.list(CRD_PREFIX)).items
      .map((o) => asCrd(deepCopy(o)))
      .filter((o) => o.metadata.name !== crd.metadata.name && o.spec.group === crd.spec.group);
    const taken = { resources: new Set<string>(), kinds: new Set<string>() };
    for (const other of others) {
      const names = other.status?.acceptedNames ?? {};
      for (const n of [names.plural, names.singular, ...(names.shortNames ?? [])]) if (n) taken.resources.add(n);
      for (const k of [names.kind, names.listKind]) if (k) taken.kinds.add(k);
    }
    const requested = crd.spec.names;
    const accepted = crd.status?.acceptedNames ?? {};
    // The naming controller checks every name and keeps going: the condition tells the last conflict
    // in its order (plural, singular, short names, kind, list kind), so look from the end.
    if (requested.listKind && requested.listKind !== accepted.listKind && taken.kinds.has(requested.listKind)) return { reason: 'ListKindConflict', message: `"${requested.listKind}" is already in use` };
    if (requested.kind !== accepted.kind && taken.kinds.has(requested.kind)) return { reason: 'KindConflict', message: `"${requested.kind}" is already in use` };
    for (const short of requested.shortNames ?? []) {
      if (!(accepted.shortNames ?? []).includes(short) && taken.resources.has(short)) return { reason: 'ShortNamesConflict', message: `"${short}" is already in use` };
    }
    if (requested.singular && requested.singular !== accepted.singular && taken.resources.has(requested.singular)) return { reason: 'SingularConflict', message: `"${requested.singular}" is already in use` };
    if (requested.plural !== accepted.plural && taken.resources.has(requested.plural)) return { reason: 'PluralConflict', message: `"${requested.plural}" is already in use` };
    return undefined;
  }

  /** (Re)builds the strategies of a CRD whose spec changed, and swaps them into the registry. */
  private serve(crd: CustomResourceDefinition): void {
    const name = crd.metadata.name ?? '';
    const specJson = JSON.stringify(crd.spec);
    const existing = this.served.get(name);
    if (existing && existing.uid === crd.metadata.uid && existing.specJson === specJson) {
      existing.entry.crd = crd;
      return;
    }
    const strategies = crd.spec.versions.filter((v) => v.served)
      .map((version) => customResourceStrategy(crd, version, this.options.compileRules?.(crd, version), this.options.converterFor?.(crd, version.name)));
    if (existing) {
      for (const old of existing.entry.strategies) {
        if (!strategies.some((s) => s.version === old.version && s.resource === old.resource)) this.registry.remove(old.group, old.version, old.resource);
      }
    }
    for (const strategy of strategies) this.registry.add(strategy);
    this.served.set(name, { uid: crd.metadata.uid ?? '', specJson, entry: { crd, strategies } });
    this.options.onServedChange?.(this.servedResources());
  }

  private unserve(name: string): void {
    const existing = this.served.get(name);
    if (!existing) return;
    for (const strategy of existing.entry.strategies) this.registry.remove(strategy.group, strategy.version, strategy.resource);
    this.served.delete(name);
    this.options.onServedChange?.(this.servedResources());
  }

  /** The finalizer: delete every instance, then release the CRD (finalizer off, object removed). */
  private async finalize(crd: CustomResourceDefinition): Promise<void> {
    const name = crd.metadata.name ?? '';
    const served = this.served.get(name);
    for (const strategy of served?.entry.strategies ?? []) strategy.terminating = true;
    if (!(crd.metadata.finalizers ?? []).includes(CLEANUP_FINALIZER)) return;
    const key = `${CRD_PREFIX}${name}`;
    if (conditionOf(crd, 'Terminating')?.reason !== 'InstanceDeletionInProgress') {
      await this.updateStatus(key, (next) => setCondition(next, { type: 'Terminating', status: 'True', reason: 'InstanceDeletionInProgress', message: 'CustomResource deletion is in progress' }, new Date()));
    }
    const remaining = await this.deleteInstances(crd, served?.entry.strategies[0]);
    if (remaining > 0) {
      // Instances with finalizers of their own: look again shortly.
      const timer = setTimeout(() => {
        this.retryTimers.delete(timer);
        this.enqueue(name);
      }, this.options.retryMs ?? 1000);
      this.retryTimers.add(timer);
      return;
    }
    const released = await this.updateStatus(key, (next) => {
      setCondition(next, { type: 'Terminating', status: 'False', reason: 'InstanceDeletionCompleted', message: 'removed all instances' }, new Date());
      next.metadata.finalizers = (next.metadata.finalizers ?? []).filter((f) => f !== CLEANUP_FINALIZER);
      return true;
    });
    if (released && (released.metadata.finalizers ?? []).length === 0) {
      try {
        await this.storage.delete(key, { preconditions: { uid: released.metadata.uid } });
      } catch (err) {
        if (!(err instanceof KeyNotFoundError)) throw err;
      }
    }
  }

  /** Deletes the instances through their store (their finalizers are honoured); returns how many remain. */
  private async deleteInstances(crd: CustomResourceDefinition, strategy: CustomResourceStrategy | undefined): Promise<number> {
    const prefix = `/registry/${crd.spec.group}/${crd.spec.names.plural}/`;
    const instances = await this.storage.list(prefix);
    const store = strategy ? this.registry.lookup(strategy.group, strategy.version, strategy.resource) : undefined;
    for (const item of instances.items) {
      if (item.metadata.deletionTimestamp) continue;
      if (!store) {
        await this.storage.delete(instances.keys?.[instances.items.indexOf(item)] ?? '', {}).catch(() => undefined);
        continue;
      }
      try {
        await store.delete({ user: ADMIN_SYSTEM_USER, namespace: item.metadata.namespace ?? '', now: new Date() }, item.metadata.name ?? '', { dryRun: false, propagationPolicy: 'Background' });
      } catch (err) {
        if (!(err instanceof StatusError && (err.code === 404 || err.code === 409))) throw err;
      }
    }
    return this.storage.count(prefix);
  }

  private async updateStatus(key: string, change: (crd: CustomResourceDefinition) => boolean): Promise<KubeObject | undefined> {
    try {
      return await this.storage.guaranteedUpdate(key, (current) => {
        const next = asCrd(deepCopy(current));
        return change(next) ? next : current;
      });
    } catch (err) {
      if (err instanceof KeyNotFoundError) return undefined;
      throw err;
    }
  }
}

function acceptedNamesOf(names: CrdNames): Partial<CrdNames> {
  const accepted: Partial<CrdNames> = { plural: names.plural, singular: names.singular, kind: names.kind, listKind: names.listKind };
  if (names.shortNames?.length) accepted.shortNames = [...names.shortNames];
  if (names.categories?.length) accepted.categories = [...names.categories];
  return accepted;
}
