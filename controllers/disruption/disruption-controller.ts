// The disruption controller (pkg/controller/disruption): keeps each PodDisruptionBudget's status —
// expectedPods, desiredHealthy, currentHealthy, disruptionsAllowed, the DisruptionAllowed condition
// and observedGeneration — which the pods/eviction subresource reads. Expected pods come from the
// scale of the pods' controllers (Deployment through its ReplicaSet, ReplicaSet, StatefulSet,
// ReplicationController) when the budget is a percentage or maxUnavailable, as upstream; pods the
// eviction API recorded in disruptedPods do not count as healthy until they are gone (or 2 minutes pass).

import { ApiStatusError } from '../../clients/json-api-client.ts';
import {
  collectionPath, DEPLOYMENTS, objectPath, PODS, POD_DISRUPTION_BUDGETS, REPLICA_SETS, REPLICATION_CONTROLLERS, STATEFUL_SETS,
} from '../framework/api-paths.ts';
import { objectKey, type CachedInformer } from '../framework/cached-informer.ts';
import { QueueController, type ControllerContext } from '../framework/controller.ts';
import { isLabelSelector, selectorIsEmpty, selectorMatches, type LabelSelector } from '../framework/label-selector.ts';
import { controllerOf, podView, workloadObject, type PodView, type WorkloadObject } from '../framework/object-views.ts';
import { objectReference } from '../framework/pod-control.ts';

const COMPONENT = 'controllermanager';
/** DeletionTimeout: how long an evicted pod may linger before it counts again. */
const DELETION_TIMEOUT_MS = 2 * 60 * 1000;

function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function scaled(value: unknown, total: number, roundUp: boolean): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string') return undefined;
  if (/^\d+$/.test(value)) return Number(value);
  const percent = Number(value.replace(/%$/, ''));
  if (Number.isNaN(percent)) return undefined;
  const exact = (percent * total) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}

export class DisruptionController extends QueueController {
  readonly pdbs: CachedInformer<WorkloadObject>;
  readonly pods: CachedInformer<PodView>;
  private readonly owners: Record<string, CachedInformer<WorkloadObject>>;

  constructor(ctx: ControllerContext) {
    super('disruption', ctx);
    this.pods = ctx.informers.informer(collectionPath(PODS), podView);
    this.pdbs = ctx.informers.informer(collectionPath(POD_DISRUPTION_BUDGETS), workloadObject);
    this.owners = {
      ReplicaSet: ctx.informers.informer(collectionPath(REPLICA_SETS), workloadObject),
      Deployment: ctx.informers.informer(collectionPath(DEPLOYMENTS), workloadObject),
      StatefulSet: ctx.informers.informer(collectionPath(STATEFUL_SETS), workloadObject),
      ReplicationController: ctx.informers.informer(collectionPath(REPLICATION_CONTROLLERS), workloadObject),
    };
    const enqueuePdb = (pdb: WorkloadObject): void => this.enqueue(objectKey(pdb.metadata.namespace, pdb.metadata.name));
    this.pdbs.addHandlers({ add: enqueuePdb, update: (_old, pdb) => enqueuePdb(pdb) });
    const podChanged = (pod: PodView): void => {
      for (const pdb of this.pdbs.list(pod.metadata.namespace ?? '')) {
        try {
          if (selectorMatches(this.selectorOf(pdb), pod.metadata.labels)) enqueuePdb(pdb);
        } catch {
          // a budget with a malformed selector guards nothing
        }
      }
    };
    this.pods.addHandlers({ add: podChanged, update: (_old, pod) => podChanged(pod), delete: podChanged });
    // A scale change changes expectedPods.
    for (const informer of [this.owners.ReplicaSet, this.owners.Deployment, this.owners.StatefulSet, this.owners.ReplicationController]) {
      informer.addHandlers({ update: (old, obj) => {
        if (old.spec?.replicas !== obj.spec?.replicas) for (const pdb of this.pdbs.list(obj.metadata.namespace ?? '')) enqueuePdb(pdb);
      } });
    }
  }

  private selectorOf(pdb: WorkloadObject): LabelSelector | undefined {
    return isLabelSelector(pdb.spec?.selector) ? pdb.spec.selector as LabelSelector : undefined;
  }

  /** The replicas the pod's controller asks for, by controller uid (getExpectedScale's finders). */
  private controllerScale(pod: PodView): { uid: string; replicas: number } | undefined {
    const ref = controllerOf(pod.metadata);
    if (!ref) return undefined;
    const namespace = pod.metadata.namespace;
    if (ref.kind === 'ReplicaSet') {
      const rs = this.owners.ReplicaSet.get(namespace, ref.name);
      if (!rs || rs.metadata.uid !== ref.uid) return undefined;
      const parent = controllerOf(rs.metadata);
      if (parent?.kind === 'Deployment') {
        const d = this.owners.Deployment.get(namespace, parent.name);
        if (d && d.metadata.uid === parent.uid) return { uid: d.metadata.uid, replicas: Number(d.spec?.replicas ?? 1) };
      }
      return { uid: rs.metadata.uid, replicas: Number(rs.spec?.replicas ?? 1) };
    }
    const informer = this.owners[ref.kind];
    if (!informer) return undefined;
    const owner = informer.get(namespace, ref.name);
    if (!owner || owner.metadata.uid !== ref.uid) return undefined;
    return { uid: owner.metadata.uid, replicas: Number(owner.spec?.replicas ?? 1) };
  }

  protected async sync(key: string): Promise<void> {
    const pdb = this.pdbs.getByKey(key);
    if (!pdb || pdb.metadata.deletionTimestamp) return;
    const now = this.ctx.now();
    const ref = objectReference({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget' }, pdb.metadata);
    const spec = pdb.spec ?? {};
    const selector = this.selectorOf(pdb);
    let pods: PodView[] = [];
    if (!selectorIsEmpty(selector)) {
      try {
        pods = this.pods.list(pdb.metadata.namespace ?? '').filter((pod) => selectorMatches(selector, pod.metadata.labels));
      } catch {
        pods = [];
      }
    } else {
      this.ctx.recorder.event(COMPONENT, ref, 'Normal', 'NoPods', 'No matching pods found');
    }
    let expected = pods.length;
    let desired = 0;
    let failed = false;
    const needsScale = spec.maxUnavailable !== undefined || (typeof spec.minAvailable === 'string' && spec.minAvailable.endsWith('%'));
    if (needsScale) {
      const scales = new Map<string, number>();
      for (const pod of pods) {
        const scale = this.controllerScale(pod);
        if (!scale) {
          failed = true;
          this.ctx.recorder.event(COMPONENT, ref, 'Warning', 'NoControllers', `found no controllers for pod "${pod.metadata.name}"`);
          break;
        }
        scales.set(scale.uid, scale.replicas);
      }
      expected = [...scales.values()].reduce((a, b) => a + b, 0);
      if (spec.maxUnavailable !== undefined) desired = Math.max(0, expected - (scaled(spec.maxUnavailable, expected, true) ?? 0));
      else desired = scaled(spec.minAvailable, expected, true) ?? 0;
    } else {
      desired = scaled(spec.minAvailable, expected, true) ?? 0;
    }
    const disrupted = { ...((pdb.status?.disruptedPods ?? {}) as Record<string, string>) };
    let nextExpiry: number | undefined;
    for (const [name, at] of Object.entries(disrupted)) {
      const pod = pods.find((p) => p.metadata.name === name);
      const expires = Date.parse(at) + DELETION_TIMEOUT_MS;
      if (!pod || pod.metadata.deletionTimestamp || expires <= now) delete disrupted[name];
      else nextExpiry = Math.min(nextExpiry ?? expires, expires);
    }
    const healthy = pods.filter((pod) => pod.ready && !pod.metadata.deletionTimestamp && !(pod.metadata.name in disrupted)).length;
    const allowed = failed ? 0 : Math.max(0, healthy - desired);
    const previous = ((pdb.status?.conditions ?? []) as { type: string; status: string; reason?: string; lastTransitionTime?: string }[]).find((c) => c.type === 'DisruptionAllowed');
    const conditionStatus = allowed > 0 ? 'True' : 'False';
    const reason = failed ? 'SyncFailed' : allowed > 0 ? 'SufficientPods' : 'InsufficientPods';
    const condition = {
      type: 'DisruptionAllowed', status: conditionStatus, observedGeneration: pdb.metadata.generation ?? 0,
      lastTransitionTime: previous && previous.status === conditionStatus ? previous.lastTransitionTime : rfc3339(now), reason, message: '',
    };
    const status: Record<string, unknown> = {
      ...(Object.keys(disrupted).length ? { disruptedPods: disrupted } : {}),
      disruptionsAllowed: allowed, currentHealthy: healthy, desiredHealthy: desired, expectedPods: expected,
      observedGeneration: pdb.metadata.generation ?? 0,
      conditions: [condition],
    };
    if (JSON.stringify(status) !== JSON.stringify(pdb.status ?? {})) {
      try {
        await this.ctx.client.request('PUT', objectPath(POD_DISRUPTION_BUDGETS, pdb.metadata.namespace, pdb.metadata.name, 'status'), { ...pdb, status });
      } catch (err) {
        if (!(err instanceof ApiStatusError && err.code === 404)) throw err;
      }
    }
    if (nextExpiry !== undefined) this.enqueueAfter(key, nextExpiry - now + 100);
  }
}
