// The StatefulSet controller (pkg/controller/statefulset): pods with stable ordinal names
// (`web-0`, `web-1`, ...), hostname and subdomain, the PersistentVolumeClaims of volumeClaimTemplates
// (`www-web-0`, created before their pod, reused, owned as persistentVolumeClaimRetentionPolicy says:
// statefulset-claims.ts) mounted by name, OrderedReady (one at a time, each Running and Ready before the next; scale-down in reverse) or
// Parallel management, ControllerRevisions for the template (`web-<hash>`, currentRevision /
// updateRevision), RollingUpdate from the highest ordinal down to the partition, or OnDelete.

import { ApiStatusError } from '../../clients/json-api-client.ts';
import {
  apiVersionOf, collectionPath, CONTROLLER_REVISIONS, objectPath, PERSISTENT_VOLUME_CLAIMS, PODS, STATEFUL_SETS,
} from '../framework/api-paths.ts';
import { objectKey, type CachedInformer } from '../framework/cached-informer.ts';
import { QueueController, type ControllerContext } from '../framework/controller.ts';
import {
  controllerOf, metadataOnly, podView, workloadObject, type ObjectMetaView, type PodView, type WorkloadObject,
} from '../framework/object-views.ts';
import { apiErrorMessage, objectReference, ownerReference, type PodTemplate } from '../framework/pod-control.ts';
import { computeTemplateHash } from '../deployment/util.ts';
import {
  claimName, claimOwnersUpToDate, claimTemplates, hasStaleRef, hasUnexpectedController, newClaim, retentionPolicy,
  STATEFUL_SET_API_VERSION, updatedClaimOwners,
} from './statefulset-claims.ts';

const COMPONENT = 'statefulset-controller';
const STS_KIND = { apiVersion: apiVersionOf(STATEFUL_SETS), kind: 'StatefulSet' };
const REVISION_LABEL = 'controller-revision-hash';
/** history.ControllerRevisionHashLabel: the label a StatefulSet's ControllerRevisions carry their hash in. */
const HISTORY_HASH_LABEL = 'controller.kubernetes.io/hash';
const POD_NAME_LABEL = 'statefulset.kubernetes.io/pod-name';
const POD_INDEX_LABEL = 'apps.kubernetes.io/pod-index';

function int(value: unknown, fallback: number): number {
  return typeof value === 'number' ? value : fallback;
}

export class StatefulSetController extends QueueController {
  readonly sets: CachedInformer<WorkloadObject>;
  readonly pods: CachedInformer<PodView>;
  readonly revisions: CachedInformer<WorkloadObject>;
  /** Metadata only (what the garbage collector keeps too): existence, deletion and ownerReferences. */
  readonly claims: CachedInformer<{ metadata: ObjectMetaView }>;

  constructor(ctx: ControllerContext) {
    super(COMPONENT, ctx);
    this.claims = ctx.informers.informer(collectionPath(PERSISTENT_VOLUME_CLAIMS), metadataOnly);
    this.pods = ctx.informers.informer(collectionPath(PODS), podView);
    this.sets = ctx.informers.informer(collectionPath(STATEFUL_SETS), workloadObject);
    this.revisions = ctx.informers.informer(collectionPath(CONTROLLER_REVISIONS), workloadObject);
    const enqueueSet = (set: WorkloadObject): void => this.enqueue(objectKey(set.metadata.namespace, set.metadata.name));
    this.sets.addHandlers({ add: enqueueSet, update: (_old, set) => enqueueSet(set) });
    const podChanged = (pod: PodView): void => {
      const ref = controllerOf(pod.metadata);
      if (ref?.kind === 'StatefulSet') this.enqueue(objectKey(pod.metadata.namespace, ref.name));
    };
    this.pods.addHandlers({ add: podChanged, update: (_old, pod) => podChanged(pod), delete: podChanged });
  }

  private event(set: WorkloadObject, type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.ctx.recorder.event(COMPONENT, objectReference(STS_KIND, set.metadata), type, reason, message);
  }

  /** The ControllerRevision for the current template: found by hash, or created with the next revision number. */
  private async updateRevision(set: WorkloadObject, owned: WorkloadObject[]): Promise<WorkloadObject> {
    const template = set.spec?.template ?? {};
    const hash = computeTemplateHash(template, int(set.status?.collisionCount, 0));
    const name = `${set.metadata.name}-${hash}`;
    const existing = owned.find((rev) => rev.metadata.name === name);
    const maxRevision = owned.reduce((max, rev) => Math.max(max, int(rev.revision, 0)), 0);
    if (existing && int(existing.revision, 0) === maxRevision) return existing;
    if (existing) {
      // A template equal to an older revision: a rollback, which makes that revision the newest (upstream
      // increments its Revision instead of creating another).
      return this.ctx.client.request<WorkloadObject>('PATCH', objectPath(CONTROLLER_REVISIONS, set.metadata.namespace, name),
        { revision: maxRevision + 1 }, 'application/merge-patch+json');
    }
    const body = {
      apiVersion: 'apps/v1', kind: 'ControllerRevision',
      metadata: {
        name, namespace: set.metadata.namespace,
        labels: { ...((template as PodTemplate).metadata?.labels ?? {}), [HISTORY_HASH_LABEL]: hash },
        ownerReferences: [ownerReference(STS_KIND, set.metadata)],
      },
      data: { spec: { template: { ...(template as Record<string, unknown>), $patch: 'replace' } } },
      revision: maxRevision + 1,
    };
    try {
      return await this.ctx.client.request<WorkloadObject>('POST', collectionPath(CONTROLLER_REVISIONS, set.metadata.namespace), body);
    } catch (err) {
      if (err instanceof ApiStatusError && err.code === 409) {
        return this.ctx.client.request<WorkloadObject>('GET', objectPath(CONTROLLER_REVISIONS, set.metadata.namespace, name));
      }
      throw err;
    }
  }

  /** The pod of `ordinal` at `revision`: the revision's template (an older one below the partition), not the spec's. */
  private podFor(set: WorkloadObject, ordinal: number, revision: WorkloadObject): Record<string, unknown> {
    const recorded = ((revision.data as { spec?: { template?: PodTemplate & { $patch?: string } } } | undefined)?.spec?.template);
    const template = structuredClone(recorded ?? (set.spec?.template ?? {}) as PodTemplate) as PodTemplate & { $patch?: string };
    delete template.$patch;
    const name = `${set.metadata.name}-${ordinal}`;
    const spec = (template.spec ?? {}) as Record<string, unknown>;
    spec.hostname = name;
    if (typeof set.spec?.serviceName === 'string' && set.spec.serviceName) spec.subdomain = set.spec.serviceName;
    const claims = Array.isArray(set.spec?.volumeClaimTemplates) ? set.spec.volumeClaimTemplates as { metadata?: { name?: string } }[] : [];
    const volumes = Array.isArray(spec.volumes) ? spec.volumes as { name: string }[] : [];
    for (const claim of claims) {
      const claimName = claim.metadata?.name;
      if (!claimName) continue;
      const volume = { name: claimName, persistentVolumeClaim: { claimName: `${claimName}-${name}` } };
      const at = volumes.findIndex((v) => v.name === claimName);
      if (at >= 0) volumes[at] = volume; else volumes.push(volume);
    }
    if (volumes.length) spec.volumes = volumes;
    return {
      apiVersion: 'v1', kind: 'Pod',
      metadata: {
        name, namespace: set.metadata.namespace,
        labels: {
          ...(template.metadata?.labels ?? {}), [POD_NAME_LABEL]: name, [POD_INDEX_LABEL]: String(ordinal),
          // Upstream labels the pod with the revision's name (setPodRevision), not its hash.
          [REVISION_LABEL]: revision.metadata.name,
        },
        ...(template.metadata?.annotations ? { annotations: template.metadata.annotations } : {}),
        ownerReferences: [ownerReference(STS_KIND, set.metadata)],
      },
      spec,
    };
  }

  /**
   * createPersistentVolumeClaims: the pod's missing claims, with the events upstream records; a claim being
   * deleted, or one that failed, stops the pod's creation (FailedCreate on the pod, as upstream).
   */
  private async createClaims(set: WorkloadObject, ordinal: number): Promise<void> {
    const podName = `${set.metadata.name}-${ordinal}`;
    const namespace = set.metadata.namespace ?? '';
    const errors: string[] = [];
    for (const template of claimTemplates(set)) {
      const name = claimName(template, set.metadata.name, ordinal);
      const cached = this.claims.getByKey(objectKey(namespace, name));
      if (cached) {
        if (cached.metadata.deletionTimestamp) errors.push(`pvc ${name} is being deleted`);
        continue;
      }
      // Created with the set's controller ref when the policy wants one (upstream adds it right after the pod).
      const body = newClaim(set, template, ordinal);
      const owners = updatedClaimOwners([], set, ordinal, undefined, false);
      if (owners.length) (body.metadata as Record<string, unknown>).ownerReferences = owners;
      try {
        await this.ctx.client.request('POST', collectionPath(PERSISTENT_VOLUME_CLAIMS, namespace), body);
        this.event(set, 'Normal', 'SuccessfulCreate', `create Claim ${name} Pod ${podName} in StatefulSet ${set.metadata.name} success`);
      } catch (err) {
        if (err instanceof ApiStatusError && err.code === 409) continue;
        const message = apiErrorMessage(err);
        errors.push(`failed to create PVC ${name}: ${message}`);
        this.event(set, 'Warning', 'FailedCreate', `create Claim ${name} for Pod ${podName} in StatefulSet ${set.metadata.name} failed error: ${message}`);
      }
    }
    if (errors.length) {
      // utilerrors.NewAggregate's text: the one error, or "[a, b]".
      const text = errors.length === 1 ? errors[0] : `[${errors.join(', ')}]`;
      this.event(set, 'Warning', 'FailedCreate', `create Pod ${podName} in StatefulSet ${set.metadata.name} failed error: ${text}`);
      throw new Error(text);
    }
  }

  /** PodClaimIsStale: with whenScaled Delete, a claim still owned by an earlier pod of this name is being deleted with it. */
  private claimIsStale(set: WorkloadObject, ordinal: number): boolean {
    if (retentionPolicy(set).whenScaled !== 'Delete') return false;
    const podOwner = { kind: 'Pod' as const, apiVersion: 'v1', name: `${set.metadata.name}-${ordinal}` };
    return claimTemplates(set).some((template) => {
      const claim = this.claims.getByKey(objectKey(set.metadata.namespace, claimName(template, set.metadata.name, ordinal)));
      return claim !== undefined && hasStaleRef(claim.metadata.ownerReferences ?? [], podOwner);
    });
  }

  /** UpdatePodClaimForRetentionPolicy: the ownerReferences of the pod's claims made to match the policy. */
  private async updateClaimsForRetention(set: WorkloadObject, ordinal: number, pod: PodView, scaledDown: boolean): Promise<void> {
    const namespace = set.metadata.namespace ?? '';
    for (const template of claimTemplates(set)) {
      const name = claimName(template, set.metadata.name, ordinal);
      const claim = this.claims.getByKey(objectKey(namespace, name));
      if (!claim || claim.metadata.deletionTimestamp) continue;
      const refs = claim.metadata.ownerReferences ?? [];
      if (claimOwnersUpToDate(refs, set, ordinal, pod, scaledDown)) continue;
      const setRef = { kind: 'StatefulSet' as const, apiVersion: STATEFUL_SET_API_VERSION, name: set.metadata.name, uid: set.metadata.uid };
      if (hasUnexpectedController(refs, setRef, { kind: 'Pod', apiVersion: 'v1', name: pod.metadata.name, uid: pod.metadata.uid })) {
        this.event(set, 'Warning', 'FailedUpdate', `update Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} failed error: PersistentVolumeClaim ${name} has a conflicting OwnerReference that acts as a manging controller, the retention policy is ignored for this claim`);
      }
      const ownerReferences = updatedClaimOwners(refs, set, ordinal, pod, scaledDown);
      try {
        // A merge patch of the refs alone, guarded by the resourceVersion the decision was made on.
        await this.ctx.client.request('PATCH', objectPath(PERSISTENT_VOLUME_CLAIMS, namespace, name),
          { metadata: { ownerReferences, resourceVersion: claim.metadata.resourceVersion } }, 'application/merge-patch+json');
      } catch (err) {
        if (err instanceof ApiStatusError && err.code === 404) continue;
        throw new Error(`could not update claim ${name} for delete policy ownerRefs: ${apiErrorMessage(err)}`);
      }
    }
  }

  private async createPod(set: WorkloadObject, ordinal: number, revision: WorkloadObject): Promise<void> {
    const name = `${set.metadata.name}-${ordinal}`;
    await this.createClaims(set, ordinal);
    try {
      await this.ctx.client.request('POST', collectionPath(PODS, set.metadata.namespace), this.podFor(set, ordinal, revision));
      this.event(set, 'Normal', 'SuccessfulCreate', `create Pod ${name} in StatefulSet ${set.metadata.name} successful`);
    } catch (err) {
      if (err instanceof ApiStatusError && err.code === 409) return;
      this.event(set, 'Warning', 'FailedCreate', `create Pod ${name} in StatefulSet ${set.metadata.name} failed error: ${apiErrorMessage(err)}`);
      throw err;
    }
  }

  private async deletePod(set: WorkloadObject, pod: PodView): Promise<void> {
    try {
      await this.ctx.client.request('DELETE', objectPath(PODS, pod.metadata.namespace, pod.metadata.name), {
        kind: 'DeleteOptions', apiVersion: 'v1', preconditions: { uid: pod.metadata.uid },
      });
      this.event(set, 'Normal', 'SuccessfulDelete', `delete Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} successful`);
    } catch (err) {
      if (err instanceof ApiStatusError && (err.code === 404 || err.code === 409)) return;
      this.event(set, 'Warning', 'FailedDelete', `delete Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} failed error: ${apiErrorMessage(err)}`);
      throw err;
    }
  }

  protected async sync(key: string): Promise<void> {
    const set = this.sets.getByKey(key);
    if (!set || set.metadata.deletionTimestamp) return;
    const spec = set.spec ?? {};
    const start = int((spec.ordinals as { start?: number } | undefined)?.start, 0);
    const replicas = int(spec.replicas, 1);
    const parallel = spec.podManagementPolicy === 'Parallel';
    const strategy = (spec.updateStrategy ?? {}) as { type?: string; rollingUpdate?: { partition?: number } };
    const partition = int(strategy.rollingUpdate?.partition, 0);
    const ownedRevisions = this.revisions.controlledBy(set.metadata.uid);
    const update = await this.updateRevision(set, ownedRevisions);
    const updateHash = update.metadata.name;
    const pods = this.pods.controlledBy(set.metadata.uid);
    const byOrdinal = new Map<number, PodView>();
    for (const pod of pods) {
      const ordinal = Number(pod.metadata.name.slice(set.metadata.name.length + 1));
      if (pod.metadata.name.startsWith(`${set.metadata.name}-`) && Number.isInteger(ordinal)) byOrdinal.set(ordinal, pod);
    }
    const healthy = (pod: PodView | undefined): boolean => Boolean(pod && pod.phase === 'Running' && pod.ready && !pod.metadata.deletionTimestamp);

    // Create or replace missing and failed pods, in order (or all at once when Parallel).
    let blocked = false;
    for (let ordinal = start; ordinal < start + replicas && !blocked; ordinal++) {
      const pod = byOrdinal.get(ordinal);
      if (pod && (pod.phase === 'Failed' || pod.phase === 'Succeeded') && !pod.metadata.deletionTimestamp) {
        // stateful_set_control.go: a failed pod is recreated (Warning), a succeeded one replaced (Normal).
        if (pod.phase === 'Failed') this.event(set, 'Warning', 'RecreatingFailedPod', `StatefulSet ${set.metadata.namespace}/${set.metadata.name} is recreating failed Pod ${pod.metadata.name}`);
        else this.event(set, 'Normal', 'RecreatingTerminatedPod', `StatefulSet ${set.metadata.namespace}/${set.metadata.name} is recreating terminated Pod ${pod.metadata.name}`);
        await this.deletePod(set, pod);
        if (!parallel) blocked = true;
        continue;
      }
      if (!pod) {
        if (this.claimIsStale(set, ordinal)) {
          // Its claims go with the pod that was scaled down: wait for the garbage collector.
          if (!parallel) blocked = true;
          continue;
        }
        const revision = strategy.type === 'OnDelete' || ordinal >= start + partition ? update : (this.currentRevision(set, ownedRevisions) ?? update);
        await this.createPod(set, ordinal, revision);
        if (!parallel) blocked = true;
        continue;
      }
      // A pending pod's claims deleted meanwhile are created again (createMissingPersistentVolumeClaims).
      if (pod.phase === 'Pending' && !pod.metadata.deletionTimestamp) await this.createClaims(set, ordinal);
      await this.updateClaimsForRetention(set, ordinal, pod, false);
      if (!parallel && !healthy(pod)) blocked = true;
    }
    // Scale down from the highest ordinal, one at a time unless Parallel; only when all others are healthy.
    const condemned = [...byOrdinal.keys()].filter((o) => o < start || o >= start + replicas).sort((a, b) => b - a);
    // The claims of condemned pods get their ownerReferences first (whenScaled Delete: the pod becomes their owner).
    for (const ordinal of condemned) await this.updateClaimsForRetention(set, ordinal, byOrdinal.get(ordinal)!, true);
    for (const ordinal of condemned) {
      const pod = byOrdinal.get(ordinal)!;
      if (pod.metadata.deletionTimestamp) {
        if (!parallel) break;
        continue;
      }
      if (!parallel && blocked) break;
      await this.deletePod(set, pod);
      if (!parallel) break;
    }
    // RollingUpdate: replace the highest ordinal not at the update revision, once every pod is healthy.
    if (strategy.type !== 'OnDelete' && !blocked && condemned.length === 0) {
      const inRange = [...byOrdinal.entries()].filter(([o]) => o >= start && o < start + replicas);
      const allHealthy = inRange.length === replicas && inRange.every(([, p]) => healthy(p));
      if (allHealthy || parallel) {
        const stale = inRange.filter(([o, p]) => o >= start + partition && p.metadata.labels?.[REVISION_LABEL] !== updateHash && !p.metadata.deletionTimestamp)
          .sort((a, b) => b[0] - a[0]);
        if (stale.length) await this.deletePod(set, stale[0][1]);
      }
    }
    await this.writeStatus(set, pods, update, ownedRevisions, replicas);
    await this.trimHistory(set, ownedRevisions, update, pods);
  }

  private currentRevision(set: WorkloadObject, owned: WorkloadObject[]): WorkloadObject | undefined {
    const name = set.status?.currentRevision;
    return owned.find((rev) => rev.metadata.name === name);
  }

  private async writeStatus(set: WorkloadObject, pods: PodView[], update: WorkloadObject, owned: WorkloadObject[], replicas: number): Promise<void> {
    const updateHash = update.metadata.name;
    const active = pods.filter((p) => !p.metadata.deletionTimestamp);
    const minReady = int(set.spec?.minReadySeconds, 0);
    const now = this.ctx.now();
    const ready = active.filter((p) => p.ready).length;
    const updated = active.filter((p) => p.metadata.labels?.[REVISION_LABEL] === updateHash).length;
    const currentName = typeof set.status?.currentRevision === 'string' ? set.status.currentRevision : update.metadata.name;
    const current = owned.find((rev) => rev.metadata.name === currentName) ?? update;
    const currentHash = current.metadata.name;
    // The rollout is finished when every replica runs the update revision: it becomes current.
    const done = updated === replicas && active.length === replicas;
    const status: Record<string, unknown> = {
      ...(set.status ?? {}),
      observedGeneration: set.metadata.generation ?? 0,
      replicas: active.length,
      readyReplicas: ready,
      currentReplicas: done ? updated : active.filter((p) => p.metadata.labels?.[REVISION_LABEL] === currentHash).length,
      updatedReplicas: updated,
      availableReplicas: active.filter((p) => p.ready && (minReady === 0 || (p.readySince && Date.parse(p.readySince) + minReady * 1000 <= now))).length,
      currentRevision: done ? update.metadata.name : current.metadata.name,
      updateRevision: update.metadata.name,
      collisionCount: int(set.status?.collisionCount, 0),
    };
    for (const field of ['readyReplicas', 'currentReplicas', 'updatedReplicas']) if (status[field] === 0) delete status[field];
    if (JSON.stringify(status) === JSON.stringify(set.status ?? {})) return;
    try {
      await this.ctx.client.request('PUT', objectPath(STATEFUL_SETS, set.metadata.namespace, set.metadata.name, 'status'), { ...set, status });
    } catch (err) {
      if (!(err instanceof ApiStatusError && err.code === 404)) throw err;
    }
  }

  /** Keep revisionHistoryLimit revisions besides the current and update ones (and any a pod still uses). */
  private async trimHistory(set: WorkloadObject, owned: WorkloadObject[], update: WorkloadObject, pods: PodView[]): Promise<void> {
    const limit = int(set.spec?.revisionHistoryLimit, 10);
    const live = new Set([update.metadata.name, String(set.status?.currentRevision ?? '')]);
    const inUse = new Set(pods.map((p) => p.metadata.labels?.[REVISION_LABEL]));
    const history = owned.filter((rev) => !live.has(rev.metadata.name) && !inUse.has(rev.metadata.name))
      .sort((a, b) => int(a.revision, 0) - int(b.revision, 0));
    for (const rev of history.slice(0, Math.max(0, history.length - limit))) {
      try {
        await this.ctx.client.request('DELETE', objectPath(CONTROLLER_REVISIONS, rev.metadata.namespace, rev.metadata.name));
      } catch (err) {
        if (!(err instanceof ApiStatusError && err.code === 404)) throw err;
      }
    }
  }
}
