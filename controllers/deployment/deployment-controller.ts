// The Deployment controller (pkg/controller/deployment): owns ReplicaSets named
// `<deployment>-<pod-template-hash>` (adopting and releasing them by selector), rolls out template
// changes with RollingUpdate or Recreate, keeps revisions in annotations (so `kubectl rollout
// history` and `undo` work), trims history to revisionHistoryLimit, handles pause/resume and
// resizing mid-rollout, and reports Available/Progressing conditions with upstream's reasons and
// ScalingReplicaSet events ("Scaled up replica set web-5d4b7c9f8 from 0 to 3").

import { ApiStatusError } from '../../clients/json-api-client.ts';
import {
  apiVersionOf, collectionPath, DEPLOYMENTS, objectPath, PODS, REPLICA_SETS,
} from '../framework/api-paths.ts';
import { objectKey, type CachedInformer } from '../framework/cached-informer.ts';
import { claimObjects } from '../framework/controller-ref.ts';
import { QueueController, type ControllerContext } from '../framework/controller.ts';
import type { ObjectReference } from '../framework/event-recorder.ts';
import { isLabelSelector, selectorMatches, type LabelSelector } from '../framework/label-selector.ts';
import { controllerOf, podView, workloadObject, type PodView, type WorkloadObject } from '../framework/object-views.ts';
import { apiErrorMessage, objectReference, ownerReference } from '../framework/pod-control.ts';
import {
  cleanupOldReplicaSets, isScalingEvent, newRSNewReplicas, oldPodsRunning, rollingStep, scaleDeployment,
  scaleDownOldForRecreate, type RolloutOps,
} from './rollout.ts';
import {
  byCreation, computeTemplateHash, conditionOf, hasProgressDeadline, int, maxRevision, maxSurge, maxUnavailable,
  newCondition, POD_TEMPLATE_HASH_LABEL, REASON, removeCondition, REVISION_ANNOTATION, setCondition,
  setNewReplicaSetAnnotations, setReplicasAnnotations, specReplicas, statusInt, sumSpecReplicas, sumStatus,
  templatesEqualIgnoringHash, type DeploymentCondition,
} from './util.ts';

const COMPONENT = 'deployment-controller';
const DEPLOYMENT_KIND = { apiVersion: apiVersionOf(DEPLOYMENTS), kind: 'Deployment' };
const RS_KIND = { apiVersion: apiVersionOf(REPLICA_SETS), kind: 'ReplicaSet' };

function selectorOf(d: WorkloadObject): LabelSelector | undefined {
  return isLabelSelector(d.spec?.selector) ? d.spec.selector as LabelSelector : undefined;
}

export class DeploymentController extends QueueController {
  readonly deployments: CachedInformer<WorkloadObject>;
  readonly replicaSets: CachedInformer<WorkloadObject>;
  readonly pods: CachedInformer<PodView>;

  constructor(ctx: ControllerContext) {
    super(COMPONENT, ctx);
    this.pods = ctx.informers.informer(collectionPath(PODS), podView);
    this.replicaSets = ctx.informers.informer(collectionPath(REPLICA_SETS), workloadObject);
    this.deployments = ctx.informers.informer(collectionPath(DEPLOYMENTS), workloadObject);
    const enqueueDeployment = (d: WorkloadObject): void => this.enqueue(objectKey(d.metadata.namespace, d.metadata.name));
    this.deployments.addHandlers({ add: enqueueDeployment, update: (_old, d) => enqueueDeployment(d), delete: enqueueDeployment });
    this.replicaSets.addHandlers({
      add: (rs) => this.replicaSetChanged(rs),
      update: (old, rs) => {
        const oldOwner = this.ownerOf(old);
        if (oldOwner && oldOwner !== this.ownerOf(rs)) enqueueDeployment(oldOwner);
        this.replicaSetChanged(rs);
      },
      delete: (rs) => {
        const owner = this.ownerOf(rs);
        if (owner) enqueueDeployment(owner);
      },
    });
    // Recreate waits for old pods to be gone.
    this.pods.addHandlers({
      delete: (pod) => {
        const rsRef = controllerOf(pod.metadata);
        const rs = rsRef?.kind === 'ReplicaSet' ? this.replicaSets.get(pod.metadata.namespace, rsRef.name) : undefined;
        const owner = rs ? this.ownerOf(rs) : undefined;
        if (owner && (owner.spec?.strategy as { type?: string } | undefined)?.type === 'Recreate') enqueueDeployment(owner);
      },
    });
  }

  private ownerOf(rs: WorkloadObject): WorkloadObject | undefined {
    const ref = controllerOf(rs.metadata);
    if (!ref || ref.kind !== 'Deployment') return undefined;
    const d = this.deployments.get(rs.metadata.namespace, ref.name);
    return d && d.metadata.uid === ref.uid ? d : undefined;
  }

  private replicaSetChanged(rs: WorkloadObject): void {
    const owner = this.ownerOf(rs);
    if (owner) {
      this.enqueue(objectKey(owner.metadata.namespace, owner.metadata.name));
      return;
    }
    if (controllerOf(rs.metadata)) return;
    for (const d of this.deployments.list(rs.metadata.namespace ?? '')) {
      try {
        if (selectorMatches(selectorOf(d), rs.metadata.labels)) this.enqueue(objectKey(d.metadata.namespace, d.metadata.name));
      } catch {
        // a deployment with a malformed selector adopts nothing
      }
    }
  }

  protected async sync(key: string): Promise<void> {
    const cached = this.deployments.getByKey(key);
    if (!cached) return;
    const d = structuredClone(cached);
    const ref = objectReference(DEPLOYMENT_KIND, d.metadata);
    const selector = selectorOf(d);
    try {
      selectorMatches(selector, {});
    } catch (err) {
      this.ctx.recorder.event(COMPONENT, ref, 'Warning', 'InvalidSelector', `invalid label selector: ${String(err)}`);
      return;
    }
    const run = new DeploymentSync(this, d, ref);
    const rsList = await this.replicaSetsFor(d, selector);
    if (d.metadata.deletionTimestamp) {
      await run.syncStatusOnly(rsList);
      return;
    }
    await run.checkPausedConditions();
    if (d.spec?.paused === true) {
      await run.syncScaling(rsList);
      return;
    }
    const { newRS, oldRSs } = await run.replicaSets(rsList, false);
    if (isScalingEvent(d, newRS, oldRSs)) {
      await run.syncScaling(rsList);
      return;
    }
    if ((d.spec?.strategy as { type?: string } | undefined)?.type === 'Recreate') await run.rolloutRecreate(rsList);
    else await run.rolloutRolling(rsList);
  }

  /** getReplicaSetsForDeployment: the ReplicaSets it controls, adopting matching orphans. */
  private async replicaSetsFor(d: WorkloadObject, selector: LabelSelector | undefined): Promise<WorkloadObject[]> {
    const namespace = d.metadata.namespace ?? '';
    const candidates = this.replicaSets.list(namespace);
    const claimed = await claimObjects(this.ctx.client, candidates, {
      meta: d.metadata,
      controllerRef: ownerReference(DEPLOYMENT_KIND, d.metadata),
      canAdopt: async () => {
        const fresh = await this.ctx.client.request<WorkloadObject>('GET', objectPath(DEPLOYMENTS, namespace, d.metadata.name));
        return fresh.metadata.uid === d.metadata.uid && !fresh.metadata.deletionTimestamp;
      },
    }, (rs) => selectorMatches(selector, rs.metadata.labels), (rs) => objectPath(REPLICA_SETS, namespace, rs.metadata.name));
    return claimed.map((rs) => structuredClone(rs));
  }

  /** The pods a ReplicaSet controls (Recreate's wait). */
  podsOf(rs: WorkloadObject): PodView[] {
    return this.pods.controlledBy(rs.metadata.uid);
  }

  get context(): ControllerContext {
    return this.ctx;
  }
}

/** One sync of one Deployment: `d` is a working copy updated after each write. */
class DeploymentSync implements RolloutOps {
  private readonly ctx: ControllerContext;

  constructor(private readonly controller: DeploymentController, private d: WorkloadObject, private readonly ref: ObjectReference) {
    this.ctx = controller.context;
  }

  private get namespace(): string {
    return this.d.metadata.namespace ?? '';
  }

  private event(type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.ctx.recorder.event(COMPONENT, this.ref, type, reason, message);
  }

  private async updateStatus(status: Record<string, unknown>): Promise<void> {
    const updated = await this.ctx.client.request<WorkloadObject>('PUT',
      objectPath(DEPLOYMENTS, this.namespace, this.d.metadata.name, 'status'), { ...this.d, status });
    this.d = updated;
  }

  async checkPausedConditions(): Promise<void> {
    if (!hasProgressDeadline(this.d)) return;
    const current = conditionOf(this.d, 'Progressing');
    if (current?.reason === REASON.timedOut) return;
    const pausedExists = current?.reason === REASON.paused;
    const paused = this.d.spec?.paused === true;
    if (paused === pausedExists) return;
    const status = structuredClone(this.d.status ?? {});
    setCondition(status, paused
      ? newCondition('Progressing', 'Unknown', REASON.paused, 'Deployment is paused', this.ctx.now())
      : newCondition('Progressing', 'Unknown', REASON.resumed, 'Deployment is resumed', this.ctx.now()));
    await this.updateStatus(status);
  }

  /** getAllReplicaSetsAndSyncRevision: the new ReplicaSet (created when asked) and the old ones. */
  async replicaSets(rsList: WorkloadObject[], create: boolean): Promise<{ newRS: WorkloadObject | undefined; oldRSs: WorkloadObject[] }> {
    const template = this.d.spec?.template;
    const matching = rsList.filter((rs) => templatesEqualIgnoringHash(rs.spec?.template, template)).sort(byCreation);
    const existing = matching[0];
    const oldRSs = rsList.filter((rs) => rs !== existing);
    const newRevision = maxRevision(oldRSs) + 1;
    if (existing) return { newRS: await this.syncExistingNewReplicaSet(existing, newRevision), oldRSs };
    if (!create) return { newRS: undefined, oldRSs };
    return { newRS: await this.createNewReplicaSet(oldRSs, newRevision), oldRSs };
  }

  private async syncExistingNewReplicaSet(rs: WorkloadObject, newRevision: number): Promise<WorkloadObject> {
    let current = rs;
    const copy = structuredClone(rs);
    const annotationsChanged = setNewReplicaSetAnnotations(this.d, copy, newRevision, true);
    const minReady = int(this.d.spec?.minReadySeconds);
    if (annotationsChanged || int(copy.spec?.minReadySeconds) !== minReady) {
      copy.spec = { ...(copy.spec ?? {}), minReadySeconds: minReady };
      if (minReady === 0) delete copy.spec.minReadySeconds;
      current = await this.ctx.client.request<WorkloadObject>('PUT', objectPath(REPLICA_SETS, this.namespace, rs.metadata.name), copy);
    }
    await this.setDeploymentRevision(current.metadata.annotations?.[REVISION_ANNOTATION]);
    if (hasProgressDeadline(this.d) && !conditionOf(this.d, 'Progressing')) {
      const status = structuredClone(this.d.status ?? {});
      setCondition(status, newCondition('Progressing', 'True', REASON.foundNewRS, `Found new replica set "${current.metadata.name}"`, this.ctx.now()));
      await this.updateStatus(status);
    }
    return current;
  }

  /** SetDeploymentRevision: the Deployment carries its newest revision as an annotation. */
  private async setDeploymentRevision(revision: string | undefined): Promise<void> {
    if (revision === undefined || this.d.metadata.annotations?.[REVISION_ANNOTATION] === revision) return;
    const copy = structuredClone(this.d);
    copy.metadata.annotations = { ...(copy.metadata.annotations ?? {}), [REVISION_ANNOTATION]: revision };
    this.d = await this.ctx.client.request<WorkloadObject>('PUT', objectPath(DEPLOYMENTS, this.namespace, this.d.metadata.name), copy);
  }

  private async createNewReplicaSet(oldRSs: WorkloadObject[], newRevision: number): Promise<WorkloadObject> {
    const collisionCount = typeof this.d.status?.collisionCount === 'number' ? this.d.status.collisionCount : undefined;
    const template = structuredClone((this.d.spec?.template ?? {}) as { metadata?: { labels?: Record<string, string> } });
    const hash = computeTemplateHash(template, collisionCount);
    template.metadata = { ...(template.metadata ?? {}), labels: { ...(template.metadata?.labels ?? {}), [POD_TEMPLATE_HASH_LABEL]: hash } };
    const selector = structuredClone(this.d.spec?.selector as LabelSelector);
    selector.matchLabels = { ...(selector.matchLabels ?? {}), [POD_TEMPLATE_HASH_LABEL]: hash };
    const name = `${this.d.metadata.name}-${hash}`;
    const newRS: WorkloadObject = {
      apiVersion: 'apps/v1', kind: 'ReplicaSet',
      metadata: {
        name, namespace: this.namespace, uid: '', labels: template.metadata.labels,
        ownerReferences: [ownerReference(DEPLOYMENT_KIND, this.d.metadata)],
      },
      spec: { replicas: 0, selector, template, ...(int(this.d.spec?.minReadySeconds) ? { minReadySeconds: int(this.d.spec?.minReadySeconds) } : {}) },
    };
    const replicas = newRSNewReplicas(this.d, [...oldRSs, newRS], newRS);
    newRS.spec!.replicas = replicas;
    setNewReplicaSetAnnotations(this.d, newRS, newRevision, false);
    const body = { ...newRS, metadata: { ...newRS.metadata, uid: undefined } };
    let created: WorkloadObject;
    let alreadyExists = false;
    try {
      created = await this.ctx.client.request<WorkloadObject>('POST', collectionPath(REPLICA_SETS, this.namespace), body);
    } catch (err) {
      if (err instanceof ApiStatusError && err.code === 409) {
        const existing = await this.ctx.client.request<WorkloadObject>('GET', objectPath(REPLICA_SETS, this.namespace, name));
        const ours = controllerOf(existing.metadata)?.uid === this.d.metadata.uid;
        if (ours && templatesEqualIgnoringHash(existing.spec?.template, this.d.spec?.template)) {
          created = existing;
          alreadyExists = true;
        } else {
          // A hash collision: bump collisionCount so the next attempt hashes differently.
          const status = structuredClone(this.d.status ?? {});
          status.collisionCount = (collisionCount ?? 0) + 1;
          await this.updateStatus(status);
          throw err;
        }
      } else {
        const message = `Failed to create new replica set "${name}": ${apiErrorMessage(err)}`;
        if (hasProgressDeadline(this.d)) {
          const status = structuredClone(this.d.status ?? {});
          setCondition(status, newCondition('Progressing', 'False', REASON.failedRSCreate, message, this.ctx.now()));
          await this.updateStatus(status).catch(() => undefined);
        }
        this.event('Warning', 'FailedCreate', message);
        throw err;
      }
    }
    if (!alreadyExists && replicas > 0) this.event('Normal', 'ScalingReplicaSet', `Scaled up replica set ${created.metadata.name} from 0 to ${replicas}`);
    await this.setDeploymentRevision(String(newRevision));
    if (!alreadyExists && hasProgressDeadline(this.d)) {
      const status = structuredClone(this.d.status ?? {});
      setCondition(status, newCondition('Progressing', 'True', REASON.newRSCreated, `Created new replica set "${created.metadata.name}"`, this.ctx.now()));
      await this.updateStatus(status);
    }
    return created;
  }

  // ---- RolloutOps ----

  async scale(rs: WorkloadObject, size: number, d: WorkloadObject): Promise<boolean> {
    const oldSize = int(rs.spec?.replicas, 1);
    const copy = structuredClone(rs);
    const annotationsChanged = setReplicasAnnotations(copy, specReplicas(d), specReplicas(d) + maxSurge(d));
    if (oldSize === size && !annotationsChanged) return false;
    copy.spec = { ...(copy.spec ?? {}), replicas: size };
    const updated = await this.ctx.client.request<WorkloadObject>('PUT', objectPath(REPLICA_SETS, this.namespace, rs.metadata.name), copy);
    Object.assign(rs, updated);
    if (oldSize !== size) {
      this.event('Normal', 'ScalingReplicaSet', `Scaled ${size > oldSize ? 'up' : 'down'} replica set ${rs.metadata.name} from ${oldSize} to ${size}`);
    }
    return oldSize !== size;
  }

  podsOf(rs: WorkloadObject): PodView[] {
    return this.controller.podsOf(rs);
  }

  async deleteReplicaSet(rs: WorkloadObject): Promise<void> {
    try {
      await this.ctx.client.request('DELETE', objectPath(REPLICA_SETS, this.namespace, rs.metadata.name), {
        kind: 'DeleteOptions', apiVersion: 'v1', preconditions: { uid: rs.metadata.uid },
      });
    } catch (err) {
      if (!(err instanceof ApiStatusError && err.code === 404)) throw err;
    }
  }

  // ---- strategies ----

  async rolloutRolling(rsList: WorkloadObject[]): Promise<void> {
    const { newRS, oldRSs } = await this.replicaSets(rsList, true);
    const allRSs = [...oldRSs, newRS!];
    if (!(await rollingStep(this, newRS!, oldRSs, this.d)) && this.complete(this.calculateStatus(allRSs, newRS))) {
      await cleanupOldReplicaSets(this, oldRSs, this.d);
    }
    await this.syncRolloutStatus(allRSs, newRS);
  }

  async rolloutRecreate(rsList: WorkloadObject[]): Promise<void> {
    let { newRS, oldRSs } = await this.replicaSets(rsList, false);
    if (await scaleDownOldForRecreate(this, oldRSs, this.d)) {
      await this.syncRolloutStatus([...oldRSs, ...(newRS ? [newRS] : [])], newRS);
      return;
    }
    if (oldPodsRunning(this, newRS, oldRSs)) {
      await this.syncRolloutStatus([...oldRSs, ...(newRS ? [newRS] : [])], newRS);
      return;
    }
    if (!newRS) ({ newRS, oldRSs } = await this.replicaSets(rsList, true));
    await this.scale(newRS!, specReplicas(this.d), this.d);
    const allRSs = [...oldRSs, newRS!];
    if (this.complete(this.calculateStatus(allRSs, newRS))) await cleanupOldReplicaSets(this, oldRSs, this.d);
    await this.syncRolloutStatus(allRSs, newRS);
  }

  /** sync(): resize or paused — scale proportionally, trim history when paused, sync status. */
  async syncScaling(rsList: WorkloadObject[]): Promise<void> {
    const { newRS, oldRSs } = await this.replicaSets(rsList, false);
    await scaleDeployment(this, this.d, newRS, oldRSs);
    if (this.d.spec?.paused === true) await cleanupOldReplicaSets(this, oldRSs, this.d);
    await this.syncDeploymentStatus([...oldRSs, ...(newRS ? [newRS] : [])], newRS);
  }

  async syncStatusOnly(rsList: WorkloadObject[]): Promise<void> {
    const { newRS, oldRSs } = await this.replicaSets(rsList, false);
    await this.syncDeploymentStatus([...oldRSs, ...(newRS ? [newRS] : [])], newRS);
  }

  // ---- status ----

  private calculateStatus(allRSs: WorkloadObject[], newRS: WorkloadObject | undefined): Record<string, unknown> {
    const available = sumStatus(allRSs, 'availableReplicas');
    const total = sumSpecReplicas(allRSs);
    const status: Record<string, unknown> = {
      observedGeneration: this.d.metadata.generation ?? 0,
      replicas: sumStatus(allRSs, 'replicas'),
      updatedReplicas: newRS ? statusInt(newRS, 'replicas') : 0,
      readyReplicas: sumStatus(allRSs, 'readyReplicas'),
      availableReplicas: available,
      unavailableReplicas: Math.max(0, total - available),
    };
    // Zero counts are omitted, as the Go types' omitempty does.
    for (const field of ['replicas', 'updatedReplicas', 'readyReplicas', 'availableReplicas', 'unavailableReplicas']) {
      if (status[field] === 0) delete status[field];
    }
    if (this.d.status?.collisionCount !== undefined) status.collisionCount = this.d.status.collisionCount;
    if (Array.isArray(this.d.status?.conditions)) status.conditions = structuredClone(this.d.status.conditions);
    const now = this.ctx.now();
    if (available >= specReplicas(this.d) - maxUnavailable(this.d)) {
      setCondition(status, newCondition('Available', 'True', REASON.minimumAvailable, 'Deployment has minimum availability.', now));
    } else {
      setCondition(status, newCondition('Available', 'False', REASON.minimumUnavailable, 'Deployment does not have minimum availability.', now));
    }
    return status;
  }

  private complete(status: Record<string, unknown>): boolean {
    const replicas = specReplicas(this.d);
    return int(status.updatedReplicas) === replicas && int(status.replicas) === replicas && int(status.availableReplicas) === replicas
      && int(status.observedGeneration) >= (this.d.metadata.generation ?? 0);
  }

  private progressing(status: Record<string, unknown>): boolean {
    const old = this.d.status ?? {};
    const oldOld = int(old.replicas) - int(old.updatedReplicas);
    const newOld = int(status.replicas) - int(status.updatedReplicas);
    return int(status.updatedReplicas) > int(old.updatedReplicas) || newOld < oldOld
      || int(status.readyReplicas) > int(old.readyReplicas) || int(status.availableReplicas) > int(old.availableReplicas);
  }

  private timedOut(status: Record<string, unknown>): boolean {
    if (!hasProgressDeadline(this.d)) return false;
    const condition = ((status.conditions ?? []) as DeploymentCondition[]).find((c) => c.type === 'Progressing');
    if (!condition || condition.reason === REASON.newRSAvailable) return false;
    if (condition.reason === REASON.timedOut) return true;
    const from = Date.parse(condition.lastUpdateTime ?? '');
    return !Number.isNaN(from) && from + int(this.d.spec?.progressDeadlineSeconds) * 1000 < this.ctx.now();
  }

  private async syncRolloutStatus(allRSs: WorkloadObject[], newRS: WorkloadObject | undefined): Promise<void> {
    const status = this.calculateStatus(allRSs, newRS);
    if (!hasProgressDeadline(this.d)) removeCondition(status, 'Progressing');
    const current = conditionOf(this.d, 'Progressing');
    const completed = int(status.replicas) === int(status.updatedReplicas) && current?.reason === REASON.newRSAvailable;
    const now = this.ctx.now();
    if (hasProgressDeadline(this.d) && !completed) {
      const rsName = newRS?.metadata.name ?? '';
      if (this.complete(status)) {
        setCondition(status, newCondition('Progressing', 'True', REASON.newRSAvailable, `ReplicaSet "${rsName}" has successfully progressed.`, now));
      } else if (this.progressing(status)) {
        const condition = newCondition('Progressing', 'True', REASON.rsUpdated,
          newRS ? `ReplicaSet "${rsName}" is progressing.` : `Deployment "${this.d.metadata.name}" is progressing.`, now);
        if (current?.status === 'True') condition.lastTransitionTime = current.lastTransitionTime;
        removeCondition(status, 'Progressing');
        setCondition(status, condition);
      } else if (this.timedOut(status)) {
        setCondition(status, newCondition('Progressing', 'False', REASON.timedOut, `ReplicaSet "${rsName}" has timed out progressing.`, now));
      }
    }
    const failure = allRSs.flatMap((rs) => ((rs.status?.conditions ?? []) as DeploymentCondition[]).filter((c) => c.type === 'ReplicaFailure' && c.status === 'True'))[0];
    if (failure) setCondition(status, newCondition('ReplicaFailure', 'True', failure.reason ?? '', failure.message ?? '', now));
    else removeCondition(status, 'ReplicaFailure');
    if (!sameStatus(this.d.status, status)) await this.updateStatus(status);
    this.requeueStuck(status);
  }

  private async syncDeploymentStatus(allRSs: WorkloadObject[], newRS: WorkloadObject | undefined): Promise<void> {
    const status = this.calculateStatus(allRSs, newRS);
    if (!sameStatus(this.d.status, status)) await this.updateStatus(status);
  }

  /** requeueStuckDeployment: look again when the progress deadline would pass. */
  private requeueStuck(status: Record<string, unknown>): void {
    const condition = ((status.conditions ?? []) as DeploymentCondition[]).find((c) => c.type === 'Progressing');
    if (!hasProgressDeadline(this.d) || !condition || condition.status !== 'True' || condition.reason === REASON.newRSAvailable) return;
    if (this.complete(status)) return;
    const from = Date.parse(condition.lastUpdateTime ?? '');
    if (Number.isNaN(from)) return;
    const after = from + int(this.d.spec?.progressDeadlineSeconds) * 1000 - this.ctx.now();
    this.controller.enqueueAfter(objectKey(this.namespace, this.d.metadata.name), Math.max(after, 0) + 1000);
  }
}

function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (v && typeof v === 'object' && !Array.isArray(v)
    ? Object.fromEntries(Object.keys(v as object).sort().filter((k) => (v as Record<string, unknown>)[k] !== undefined).map((k) => [k, (v as Record<string, unknown>)[k]])) : v));
}

/** Statuses equal ignoring key order and lastUpdateTime of unchanged conditions (set only on change). */
function sameStatus(a: unknown, b: unknown): boolean {
  return canonical(a ?? {}) === canonical(b ?? {});
}
