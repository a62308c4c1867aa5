// The API Priority and Fairness configuration objects as kube-apiserver keeps them: at start the
// mandatory and suggested FlowSchemas and PriorityLevelConfigurations are created when missing
// (the config producer; a mandatory object keeps its fixed spec and comes back when deleted),
// and every FlowSchema's Dangling condition says whether its priority level exists (the config
// consumer). The fair-queuing filter (filter.ts) subscribes: it gets the objects once they are read
// and again after every change (the watches fold a burst of changes into one reconcile).

import { isDeepStrictEqual } from 'node:util';
import { StatusError } from '../../api/errors.ts';
import { deepCopy, isPlainObject, type KubeObject } from '../../api/object.ts';
import type { ApiRegistry } from '../../api/registry/registry.ts';
import type { GenericStore } from '../../api/registry/store.ts';
import { rfc3339 } from '../../api/registry/object-meta.ts';
import { ADMIN_SYSTEM_USER } from '../../api/registry/system-user.ts';
import {
  MANDATORY_FLOW_SCHEMAS, MANDATORY_PRIORITY_LEVELS, SUGGESTED_FLOW_SCHEMAS, SUGGESTED_PRIORITY_LEVELS,
} from '../../api/resources/flowcontrol-bootstrap.ts';
import type { WatchHandle } from '../../storage/interface.ts';
import { parsePriorityLevel, type FlowControlObjects } from './configuration.ts';
import type { FlowControlObjectsFeed } from './filter.ts';

const PRODUCER = 'api-priority-and-fairness-config-producer-v1';
const CONSUMER = 'api-priority-and-fairness-config-consumer-v1';
const GROUP = 'flowcontrol.apiserver.k8s.io';

interface DanglingCondition { status: 'True' | 'False'; reason: string; message: string }

/** The Dangling condition the config consumer writes (apf_controller.go's wording). */
export function danglingCondition(levelName: string, levelExists: boolean): DanglingCondition {
  return levelExists
    ? { status: 'False', reason: 'Found', message: `This FlowSchema references the PriorityLevelConfiguration object named "${levelName}" and it exists` }
    : { status: 'True', reason: 'NotFound', message: `This FlowSchema references the PriorityLevelConfiguration object named "${levelName}" but there is no such object` };
}

export class FlowControlConfigurationObjects implements FlowControlObjectsFeed {
  private readonly flowSchemas: GenericStore;
  private readonly priorityLevels: GenericStore;
  private readonly watches: WatchHandle[] = [];
  private running: Promise<void> = Promise.resolve();
  private pending = false;
  private halted = false;
  private current: FlowControlObjects | undefined;
  private readonly listeners = new Set<(objects: FlowControlObjects) => void>();
  private readonly stopping = new AbortController();
  readonly stopped = this.stopping.signal;

  constructor(registry: ApiRegistry, private readonly onError: (error: unknown) => void) {
    const flowSchemas = registry.lookup(GROUP, 'v1', 'flowschemas');
    const priorityLevels = registry.lookup(GROUP, 'v1', 'prioritylevelconfigurations');
    if (!flowSchemas || !priorityLevels) throw new Error('the flowcontrol.apiserver.k8s.io resources are not registered');
    this.flowSchemas = flowSchemas;
    this.priorityLevels = priorityLevels;
  }

  async start(): Promise<void> {
    await this.ensure(this.priorityLevels, [...MANDATORY_PRIORITY_LEVELS, ...SUGGESTED_PRIORITY_LEVELS]);
    await this.ensure(this.flowSchemas, [...MANDATORY_FLOW_SCHEMAS, ...SUGGESTED_FLOW_SCHEMAS]);
    await this.updateConditions();
    for (const store of [this.flowSchemas, this.priorityLevels]) {
      const revision = await store.storage.currentRevision();
      this.watches.push(store.storage.watch(`/registry/${store.strategy.storageResource}/`, { fromRevision: revision }, {
        onEvent: (event) => {
          const mandatory = [...MANDATORY_FLOW_SCHEMAS, ...MANDATORY_PRIORITY_LEVELS]
            .some((object) => object.kind === store.strategy.kind && object.metadata.name === event.object.metadata.name);
          this.schedule(event.type === 'DELETED' && mandatory);
        },
      }));
    }
  }

  /** The listener gets the objects now (once read) and after every change. */
  subscribe(listener: (objects: FlowControlObjects) => void): () => void {
    this.listeners.add(listener);
    if (this.current) listener(this.current);
    return () => this.listeners.delete(listener);
  }

  stop(): void {
    this.halted = true;
    this.stopping.abort();
    for (const watch of this.watches) watch.stop();
  }

  /** Runs one reconcile after the current one (changes arriving meanwhile fold into it). */
  private schedule(restoreMandatory: boolean): void {
    if (this.pending && !restoreMandatory) return;
    this.pending = true;
    this.running = this.running.then(async () => {
      this.pending = false;
      if (this.halted) return;
      if (restoreMandatory) {
        await this.ensure(this.priorityLevels, MANDATORY_PRIORITY_LEVELS);
        await this.ensure(this.flowSchemas, MANDATORY_FLOW_SCHEMAS);
      }
      await this.updateConditions();
    }).catch((error: unknown) => this.onError(error));
  }

  private async ensure(store: GenericStore, objects: readonly KubeObject[]): Promise<void> {
    const ctx = { user: ADMIN_SYSTEM_USER, namespace: '', now: new Date() };
    // One read of what is there, so that a warm start creates nothing and compiles no validator.
    const present = new Set((await store.storage.list(`/registry/${store.strategy.storageResource}/`)).items.map((item) => item.metadata.name));
    for (const object of objects) {
      if (present.has(object.metadata.name)) continue;
      try {
        // Our own constants: no decoding check, as kube-apiserver's typed in-process writes have none.
        await store.create(ctx, deepCopy(object), { dryRun: false, fieldManager: PRODUCER, fieldValidation: 'Strict', internal: true });
      } catch (err) {
        if (!(err instanceof StatusError && err.reason === 'AlreadyExists')) throw err;
      }
    }
  }

  private async updateConditions(): Promise<void> {
    const priorityLevels = (await this.priorityLevels.storage.list('/registry/prioritylevelconfigurations/')).items;
    const schemas = (await this.flowSchemas.storage.list('/registry/flowschemas/')).items;
    if (this.halted) return;
    this.current = { flowSchemas: schemas, priorityLevels };
    for (const listener of this.listeners) {
      try {
        listener(this.current);
      } catch (error) {
        // The filter keeps its previous configuration; the conditions are still written.
        this.onError(error);
      }
    }
    // A level the filter cannot use counts as missing, as upstream (it is ignored there too).
    const levels = new Set(priorityLevels.filter((level) => typeof parsePriorityLevel(level) !== 'string').map((level) => level.metadata.name));
    for (const schema of schemas) {
      const levelName = isPlainObject(schema.spec) && isPlainObject(schema.spec.priorityLevelConfiguration) ? String(schema.spec.priorityLevelConfiguration.name ?? '') : '';
      const wanted = danglingCondition(levelName, levels.has(levelName));
      const conditions = isPlainObject(schema.status) && Array.isArray(schema.status.conditions) ? schema.status.conditions.filter(isPlainObject) : [];
      const current = conditions.find((condition) => condition.type === 'Dangling');
      if (current && isDeepStrictEqual({ status: current.status, reason: current.reason, message: current.message }, wanted)) continue;
      const now = new Date();
      try {
        await this.flowSchemas.guaranteedUpdate(
          { user: ADMIN_SYSTEM_USER, namespace: '', now }, schema.metadata.name ?? '', 'status', { dryRun: false, fieldManager: CONSUMER, fieldValidation: 'Ignore' },
          (latest) => {
            const next = deepCopy(latest);
            const status = isPlainObject(next.status) ? next.status : {};
            const others = (Array.isArray(status.conditions) ? status.conditions.filter(isPlainObject) : []).filter((c) => c.type !== 'Dangling');
            next.status = { ...status, conditions: [...others, { type: 'Dangling', ...wanted, lastTransitionTime: rfc3339(now) }] };
            return next;
          },
        );
      } catch (err) {
        // Deleted meanwhile: nothing to keep.
        if (!(err instanceof StatusError && err.reason === 'NotFound')) throw err;
      }
    }
  }
}
