// The ReplicaSet controller (pkg/controller/replicaset), also run for ReplicationControllers with the
// same code as upstream does: keeps spec.replicas active pods by creating pods from the template in
// slow-start batches (at most 500 per sync) or deleting the most deletable ones, adopts and releases
// pods by selector, honours expectations, and writes status (replicas, fullyLabeledReplicas,
// readyReplicas, availableReplicas, observedGeneration, the ReplicaFailure condition).

import { ApiStatusError } from '../../clients/json-api-client.ts';
import {
  apiVersionOf, collectionPath, objectPath, PODS, REPLICA_SETS, REPLICATION_CONTROLLERS, type KindInfo,
} from '../framework/api-paths.ts';
import type { CachedInformer } from '../framework/cached-informer.ts';
import { objectKey } from '../framework/cached-informer.ts';
import { claimObjects } from '../framework/controller-ref.ts';
import { QueueController, type ControllerContext } from '../framework/controller.ts';
import { ControllerExpectations } from '../framework/expectations.ts';
import {
  isLabelSelector, selectorFromMap, selectorMatches, type LabelSelector,
} from '../framework/label-selector.ts';
import {
  controllerOf, podActive, podAvailable, podView, workloadObject, type PodView, type WorkloadObject,
} from '../framework/object-views.ts';
import {
  apiErrorMessage, objectReference, ownerReference, PodControl, slowStartBatch, type PodTemplate,
} from '../framework/pod-control.ts';
import { rankPodsForDeletion } from './victims.ts';

/** BurstReplicas: the most pods one sync creates or deletes. */
export const BURST_REPLICAS = 500;

export interface ReplicaSetFlavor {
  kind: KindInfo;
  component: string;
  selectorOf(owner: WorkloadObject): LabelSelector | undefined;
}

export const REPLICA_SET_FLAVOR: ReplicaSetFlavor = {
  kind: REPLICA_SETS,
  component: 'replicaset-controller',
  selectorOf: (rs) => (isLabelSelector(rs.spec?.selector) ? rs.spec.selector as LabelSelector : undefined),
};

export const REPLICATION_CONTROLLER_FLAVOR: ReplicaSetFlavor = {
  kind: REPLICATION_CONTROLLERS,
  component: 'replication-controller',
  selectorOf: (rc) => selectorFromMap(rc.spec?.selector as Record<string, string> | undefined),
};

function num(value: unknown, fallback = 0): number {
  return typeof value === 'number' ? value : fallback;
}

function templateOf(owner: WorkloadObject): PodTemplate {
  return (owner.spec?.template ?? {}) as PodTemplate;
}

export class ReplicaSetController extends QueueController {
  readonly owners: CachedInformer<WorkloadObject>;
  readonly pods: CachedInformer<PodView>;
  private readonly expectations = new ControllerExpectations();
  private readonly podControl: PodControl;
  private readonly apiVersion: string;

  constructor(ctx: ControllerContext, private readonly flavor: ReplicaSetFlavor) {
    super(flavor.component, ctx);
    this.apiVersion = apiVersionOf(flavor.kind);
    this.pods = ctx.informers.informer(collectionPath(PODS), podView);
    this.owners = ctx.informers.informer(collectionPath(flavor.kind), workloadObject);
    this.podControl = new PodControl(ctx.client, ctx.recorder, flavor.component);
    this.owners.addHandlers({
      add: (owner) => this.enqueueOwner(owner),
      update: (_old, owner) => this.enqueueOwner(owner),
      delete: (owner) => {
        const key = objectKey(owner.metadata.namespace, owner.metadata.name);
        this.expectations.delete(key);
        this.enqueue(key);
      },
    });
    this.pods.addHandlers({
      add: (pod) => this.podAdded(pod),
      update: (old, pod) => this.podUpdated(old, pod),
      delete: (pod) => this.podDeleted(pod),
    });
  }

  private enqueueOwner(owner: WorkloadObject): void {
    this.enqueue(objectKey(owner.metadata.namespace, owner.metadata.name));
  }

  /** The owner a pod's controllerRef names, if it is one of ours and the uid matches. */
  private ownerOf(pod: PodView): WorkloadObject | undefined {
    const ref = controllerOf(pod.metadata);
    if (!ref || ref.kind !== this.flavor.kind.kind) return undefined;
    const owner = this.owners.get(pod.metadata.namespace, ref.name);
    return owner && owner.metadata.uid === ref.uid ? owner : undefined;
  }

  /** Owners of the namespace whose selector matches an orphan pod (they may adopt it). */
  private ownersSelecting(pod: PodView): WorkloadObject[] {
    return this.owners.list(pod.metadata.namespace ?? '').filter((owner) => {
      try {
        return selectorMatches(this.flavor.selectorOf(owner), pod.metadata.labels);
      } catch {
        return false;
      }
    });
  }

  private podAdded(pod: PodView): void {
    if (pod.metadata.deletionTimestamp) {
      this.podDeleted(pod);
      return;
    }
    const owner = this.ownerOf(pod);
    if (owner) {
      const key = objectKey(owner.metadata.namespace, owner.metadata.name);
      this.expectations.creationObserved(key);
      this.enqueue(key);
      return;
    }
    if (!controllerOf(pod.metadata)) for (const candidate of this.ownersSelecting(pod)) this.enqueueOwner(candidate);
  }

  private podUpdated(old: PodView, pod: PodView): void {
    if (pod.metadata.deletionTimestamp && !old.metadata.deletionTimestamp) {
      this.podDeleted(pod);
      return;
    }
    const labelsChanged = JSON.stringify(old.metadata.labels) !== JSON.stringify(pod.metadata.labels);
    const oldOwner = this.ownerOf(old);
    const owner = this.ownerOf(pod);
    if (oldOwner && oldOwner !== owner) this.enqueueOwner(oldOwner);
    if (owner) {
      const key = objectKey(owner.metadata.namespace, owner.metadata.name);
      this.enqueue(key);
      // A pod that just became ready becomes available minReadySeconds later: look again then.
      const minReady = num(owner.spec?.minReadySeconds);
      if (!old.ready && pod.ready && minReady > 0) this.enqueueAfter(key, minReady * 1000 + 1000);
      return;
    }
    if ((labelsChanged || oldOwner) && !controllerOf(pod.metadata)) for (const candidate of this.ownersSelecting(pod)) this.enqueueOwner(candidate);
  }

  private podDeleted(pod: PodView): void {
    const owner = this.ownerOf(pod);
    if (!owner) return;
    const key = objectKey(owner.metadata.namespace, owner.metadata.name);
    this.expectations.deletionObserved(key, objectKey(pod.metadata.namespace, pod.metadata.name));
    this.enqueue(key);
  }

  protected async sync(key: string): Promise<void> {
    const owner = this.owners.getByKey(key);
    if (!owner) {
      this.expectations.delete(key);
      return;
    }
    const namespace = owner.metadata.namespace ?? '';
    const ref = objectReference({ apiVersion: this.apiVersion, kind: this.flavor.kind.kind }, owner.metadata);
    let selector: LabelSelector | undefined;
    try {
      selector = this.flavor.selectorOf(owner);
      selectorMatches(selector, {});
    } catch (err) {
      // A selector the API should have refused: report it once per change and do nothing else.
      this.ctx.recorder.event(this.flavor.component, ref, 'Warning', 'InvalidSelector', `invalid selector: ${String(err)}`);
      return;
    }
    const needsSync = this.expectations.satisfied(key) && !owner.metadata.deletionTimestamp;
    const matches = (pod: PodView): boolean => selectorMatches(selector, pod.metadata.labels);
    const candidates = this.pods.list(namespace).filter(podActive);
    const controllerRef = ownerReference({ apiVersion: this.apiVersion, kind: this.flavor.kind.kind }, owner.metadata);
    const claimed = await claimObjects(this.ctx.client, candidates, {
      meta: owner.metadata, controllerRef,
      canAdopt: async () => {
        const fresh = await this.ctx.client.request<WorkloadObject>('GET', objectPath(this.flavor.kind, namespace, owner.metadata.name));
        return fresh.metadata.uid === owner.metadata.uid && !fresh.metadata.deletionTimestamp;
      },
    }, matches, (pod) => objectPath(PODS, namespace, pod.metadata.name));

    let manageError: unknown;
    if (needsSync) {
      try {
        await this.manageReplicas(key, owner, claimed, ref, controllerRef);
      } catch (err) {
        manageError = err;
      }
    }
    await this.updateStatus(owner, claimed, manageError);
    if (manageError) throw manageError;
  }

  private async manageReplicas(key: string, owner: WorkloadObject, pods: PodView[], ref: ReturnType<typeof objectReference>,
    controllerRef: ReturnType<typeof ownerReference>): Promise<void> {
    const namespace = owner.metadata.namespace ?? '';
    const diff = pods.length - num(owner.spec?.replicas, 1);
    if (diff < 0) {
      const count = Math.min(-diff, BURST_REPLICAS);
      this.expectations.expectCreations(key, count);
      const template = templateOf(owner);
      const { successes, error } = await slowStartBatch(count, 1, async () => {
        await this.podControl.create(namespace, template, ref, controllerRef);
      });
      // Creations that were never attempted or failed will never be observed.
      if (successes < count) this.expectations.lowerCreations(key, count - successes);
      if (error) throw error;
      return;
    }
    if (diff > 0) {
      const count = Math.min(diff, BURST_REPLICAS);
      const related = this.relatedPods(owner);
      const victims = rankPodsForDeletion(pods, related).slice(0, count);
      this.expectations.expectDeletions(key, victims.map((pod) => objectKey(pod.metadata.namespace, pod.metadata.name)));
      const results = await Promise.allSettled(victims.map((pod) => this.podControl.delete(namespace, pod.metadata.name, ref)));
      results.forEach((result, i) => {
        if (result.status === 'rejected') this.expectations.deletionObserved(key, objectKey(namespace, victims[i].metadata.name));
      });
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    }
  }

  /** Pods of this owner and of the other owners sharing its controller (a Deployment's ReplicaSets). */
  private relatedPods(owner: WorkloadObject): PodView[] {
    const parent = controllerOf(owner.metadata);
    const siblings = parent
      ? this.owners.list(owner.metadata.namespace ?? '').filter((other) => controllerOf(other.metadata)?.uid === parent.uid)
      : [owner];
    return siblings.flatMap((sibling) => this.pods.controlledBy(sibling.metadata.uid));
  }

  private async updateStatus(owner: WorkloadObject, pods: PodView[], manageError: unknown): Promise<void> {
    const now = this.ctx.now();
    const minReady = num(owner.spec?.minReadySeconds);
    const templateLabels = templateOf(owner).metadata?.labels ?? {};
    const fullyLabeled = pods.filter((pod) => Object.entries(templateLabels).every(([k, v]) => pod.metadata.labels?.[k] === v)).length;
    const ready = pods.filter((pod) => pod.ready).length;
    const available = pods.filter((pod) => podAvailable(pod, minReady, now)).length;
    const status: Record<string, unknown> = {
      ...(owner.status ?? {}),
      replicas: pods.length,
      fullyLabeledReplicas: fullyLabeled,
      readyReplicas: ready,
      availableReplicas: available,
      observedGeneration: owner.metadata.generation ?? 0,
    };
    const conditions = Array.isArray(owner.status?.conditions) ? (owner.status.conditions as Record<string, unknown>[]).filter((c) => c.type !== 'ReplicaFailure') : [];
    if (manageError) {
      // calculateStatus: the condition is set when there is none and then kept as it is while errors go on, so a
      // failing sync does not write status again (each write would start another sync).
      const creating = pods.length < num(owner.spec?.replicas, 1);
      const previous = (owner.status?.conditions as Record<string, unknown>[] | undefined)?.find((c) => c.type === 'ReplicaFailure');
      conditions.push(previous ?? {
        type: 'ReplicaFailure', status: 'True', lastTransitionTime: new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        reason: creating ? 'FailedCreate' : 'FailedDelete', message: apiErrorMessage(manageError),
      });
    }
    if (conditions.length) status.conditions = conditions;
    else delete status.conditions;
    // Zero counters are omitted on the wire (omitempty) except replicas.
    for (const field of ['fullyLabeledReplicas', 'readyReplicas', 'availableReplicas']) if (status[field] === 0) delete status[field];
    const key = objectKey(owner.metadata.namespace, owner.metadata.name);
    if (JSON.stringify(status) !== JSON.stringify(owner.status ?? {})) {
      try {
        await this.ctx.client.request('PUT', objectPath(this.flavor.kind, owner.metadata.namespace, owner.metadata.name, 'status'), { ...owner, status });
      } catch (err) {
        if (err instanceof ApiStatusError && err.code === 404) return;
        throw err;
      }
    }
    // Pods ready but not yet available: look again when they will be.
    if (minReady > 0 && ready > available) this.enqueueAfter(key, minReady * 1000);
  }
}
