// The DaemonSet controller (pkg/controller/daemon): one pod per eligible node (nodeSelector, node
// affinity, taints against the template's and the default daemon tolerations), created with a
// required node affinity on the node's name so the scheduler binds it there, as upstream does since
// ScheduleDaemonSetPods; pods on nodes that no longer qualify and surplus pods are deleted; a node
// added later gets its pod; RollingUpdate replaces out-of-date pods within maxUnavailable; OnDelete
// waits for the user. Templates are recorded as ControllerRevisions (`kubectl rollout history ds`).

import { ApiStatusError } from '../../clients/json-api-client.ts';
import {
  apiVersionOf, collectionPath, CONTROLLER_REVISIONS, DAEMON_SETS, NODES, objectPath, PODS,
} from '../framework/api-paths.ts';
import { objectKey, type CachedInformer } from '../framework/cached-informer.ts';
import { ControllerExpectations } from '../framework/expectations.ts';
import { QueueController, type ControllerContext } from '../framework/controller.ts';
import { controllerOf, nodeView, podAvailable, podView, workloadObject, type PodView, type WorkloadObject } from '../framework/object-views.ts';
import { objectReference, ownerReference, PodControl, type PodTemplate } from '../framework/pod-control.ts';
import { computeTemplateHash } from '../deployment/util.ts';
import { nodeShouldRunDaemonPod, withDaemonTolerations, type Toleration } from './node-eligibility.ts';

const COMPONENT = 'daemonset-controller';
const FAILED_PODS_BACKOFF_MS = 1000;
const FAILED_PODS_MAX_BACKOFF_MS = 15 * 60_000;
const DS_KIND = { apiVersion: apiVersionOf(DAEMON_SETS), kind: 'DaemonSet' };
const REVISION_LABEL = 'controller-revision-hash';
const TEMPLATE_GENERATION_LABEL = 'pod-template-generation';

function int(value: unknown, fallback: number): number {
  return typeof value === 'number' ? value : fallback;
}

function scaled(value: unknown, total: number, roundUp: boolean): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.endsWith('%')) {
    const exact = (Number(value.slice(0, -1)) * total) / 100;
    return roundUp ? Math.ceil(exact) : Math.floor(exact);
  }
  return Number(value ?? 0) || 0;
}

/** ReplaceDaemonSetPodNodeNameNodeAffinity: the pod requires exactly this node. */
function pinToNode(spec: Record<string, unknown>, nodeName: string): void {
  const affinity = (spec.affinity ?? {}) as Record<string, unknown>;
  const nodeAffinity = (affinity.nodeAffinity ?? {}) as Record<string, unknown>;
  const required = (nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution ?? {}) as { nodeSelectorTerms?: Record<string, unknown>[] };
  const field = { key: 'metadata.name', operator: 'In', values: [nodeName] };
  const terms = required.nodeSelectorTerms?.length ? required.nodeSelectorTerms : [{}];
  required.nodeSelectorTerms = terms.map((term) => ({
    ...term, matchFields: [...((term.matchFields ?? []) as { key: string }[]).filter((f) => f.key !== 'metadata.name'), field],
  }));
  spec.affinity = { ...affinity, nodeAffinity: { ...nodeAffinity, requiredDuringSchedulingIgnoredDuringExecution: required } };
}

export class DaemonSetController extends QueueController {
  readonly sets: CachedInformer<WorkloadObject>;
  readonly pods: CachedInformer<PodView>;
  readonly nodes: CachedInformer<WorkloadObject>;
  readonly revisions: CachedInformer<WorkloadObject>;
  private readonly podControl: PodControl;
  /** failedPodsBackoff: per DaemonSet and node, 1 s doubling to 15 min between kills of failed daemon pods. */
  private readonly failedPodsBackoff = new Map<string, { delayMs: number; updatedAtMs: number }>();
  private readonly expectations = new ControllerExpectations();

  constructor(ctx: ControllerContext) {
    super(COMPONENT, ctx);
    this.pods = ctx.informers.informer(collectionPath(PODS), podView);
    this.nodes = ctx.informers.informer(collectionPath(NODES), nodeView);
    this.sets = ctx.informers.informer(collectionPath(DAEMON_SETS), workloadObject);
    this.revisions = ctx.informers.informer(collectionPath(CONTROLLER_REVISIONS), workloadObject);
    this.podControl = new PodControl(ctx.client, ctx.recorder, COMPONENT);
    const enqueueSet = (set: WorkloadObject): void => this.enqueue(objectKey(set.metadata.namespace, set.metadata.name));
    this.sets.addHandlers({
      add: enqueueSet, update: (_old, set) => enqueueSet(set),
      delete: (set) => {
        for (const backoffKey of this.failedPodsBackoff.keys()) if (backoffKey.startsWith(`${set.metadata.uid}/`)) this.failedPodsBackoff.delete(backoffKey);
      },
    });
    // Expectations as upstream's controller keeps them: a sync after creates or deletes waits until the informer has
    // seen them, so a stale cache never makes a second pod for a node (or surges twice onto one).
    const ownerKey = (pod: PodView): string | undefined => {
      const ref = controllerOf(pod.metadata);
      return ref?.kind === 'DaemonSet' ? objectKey(pod.metadata.namespace, ref.name) : undefined;
    };
    const podKey = (pod: PodView): string => objectKey(pod.metadata.namespace, pod.metadata.name);
    this.pods.addHandlers({
      add: (pod) => {
        const key = ownerKey(pod);
        if (!key) return;
        if (pod.metadata.deletionTimestamp) this.expectations.deletionObserved(key, podKey(pod));
        else this.expectations.creationObserved(key);
        this.enqueue(key);
      },
      update: (old, pod) => {
        const key = ownerKey(pod);
        if (!key) return;
        if (pod.metadata.deletionTimestamp && !old.metadata.deletionTimestamp) this.expectations.deletionObserved(key, podKey(pod));
        this.enqueue(key);
      },
      delete: (pod) => {
        const key = ownerKey(pod);
        if (!key) return;
        this.expectations.deletionObserved(key, podKey(pod));
        this.enqueue(key);
      },
    });
    const everySet = (): void => { for (const set of this.sets.list()) enqueueSet(set); };
    this.nodes.addHandlers({
      add: everySet,
      // Node heartbeats change status every few seconds: only labels, taints and schedulability matter.
      update: (old, node) => {
        if (JSON.stringify([old.metadata.labels, old.spec]) !== JSON.stringify([node.metadata.labels, node.spec])) everySet();
      },
      delete: everySet,
    });
  }

  private async revisionFor(set: WorkloadObject): Promise<string> {
    const template = set.spec?.template ?? {};
    const hash = computeTemplateHash(template, int(set.status?.collisionCount, 0));
    const owned = this.revisions.controlledBy(set.metadata.uid);
    const name = `${set.metadata.name}-${hash}`;
    if (owned.some((rev) => rev.metadata.name === name)) return hash;
    const revision = owned.reduce((max, rev) => Math.max(max, int(rev.revision, 0)), 0) + 1;
    try {
      await this.ctx.client.request('POST', collectionPath(CONTROLLER_REVISIONS, set.metadata.namespace), {
        apiVersion: 'apps/v1', kind: 'ControllerRevision',
        metadata: {
          name, namespace: set.metadata.namespace,
          labels: { ...((template as PodTemplate).metadata?.labels ?? {}), [REVISION_LABEL]: hash },
          ownerReferences: [ownerReference(DS_KIND, set.metadata)],
        },
        data: { spec: { template: { ...(template as Record<string, unknown>), $patch: 'replace' } } },
        revision,
      });
    } catch (err) {
      if (!(err instanceof ApiStatusError && err.code === 409)) throw err;
    }
    return hash;
  }

  protected async sync(key: string): Promise<void> {
    const set = this.sets.getByKey(key);
    if (!set) this.expectations.delete(key);
    if (!set || set.metadata.deletionTimestamp) return;
    if (!this.expectations.satisfied(key)) return;
    const namespace = set.metadata.namespace ?? '';
    const ref = objectReference(DS_KIND, set.metadata);
    const template = (set.spec?.template ?? {}) as Record<string, unknown> & PodTemplate;
    const hash = await this.revisionFor(set);
    const pods = this.pods.controlledBy(set.metadata.uid).filter((pod) => !pod.metadata.deletionTimestamp);
    const byNode = new Map<string, PodView[]>();
    for (const pod of pods) {
      const node = pod.nodeName ?? pod.targetNode ?? '';
      byNode.set(node, [...(byNode.get(node) ?? []), pod]);
    }
    const nodes = this.nodes.list();
    const eligible = nodes.filter((node) => nodeShouldRunDaemonPod(node, template));
    const eligibleNames = new Set(eligible.map((node) => node.metadata.name));
    const strategy = (set.spec?.updateStrategy ?? {}) as { type?: string; rollingUpdate?: { maxUnavailable?: unknown; maxSurge?: unknown } };
    const rolling = strategy.type !== 'OnDelete';
    const maxSurge = rolling ? scaled(strategy.rollingUpdate?.maxSurge ?? 0, eligible.length, true) : 0;
    const toCreate: string[] = [];
    const toDelete: PodView[] = [];
    const byAge = (a: PodView, b: PodView): number => (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '');
    for (const node of eligible) {
      const onNode = byNode.get(node.metadata.name) ?? [];
      const failed = onNode.filter((pod) => pod.phase === 'Failed');
      for (const pod of failed) {
        // podsShouldBeOnNode: a failed daemon pod is killed so a new one can take its place, at most as often as
        // the node's back-off allows (a pod that fails at once would otherwise be recreated in a hot loop).
        const backoffKey = `${set.metadata.uid}/${node.metadata.name}`;
        const backoff = this.failedPodsBackoff.get(backoffKey);
        const clock = this.ctx.now();
        if (backoff && clock - backoff.updatedAtMs < backoff.delayMs) {
          this.enqueueAfter(key, backoff.delayMs - (clock - backoff.updatedAtMs) + 100);
          continue;
        }
        this.failedPodsBackoff.set(backoffKey, { delayMs: backoff ? Math.min(backoff.delayMs * 2, FAILED_PODS_MAX_BACKOFF_MS) : FAILED_PODS_BACKOFF_MS, updatedAtMs: clock });
        this.ctx.recorder.event(COMPONENT, ref, 'Warning', 'FailedDaemonPod', `Found failed daemon pod ${namespace}/${pod.metadata.name} on node ${node.metadata.name}, will try to kill it`);
        toDelete.push(pod);
      }
      const running = onNode.filter((pod) => pod.phase !== 'Failed').sort(byAge);
      if (running.length === 0 && failed.length === 0) toCreate.push(node.metadata.name);
      if (maxSurge > 0) {
        // Surging: a node may hold its oldest out-of-date pod and its oldest updated one; any other goes.
        const oldestNew = running.find((pod) => pod.metadata.labels?.[REVISION_LABEL] === hash);
        const oldestOld = running.find((pod) => pod.metadata.labels?.[REVISION_LABEL] !== hash);
        toDelete.push(...running.filter((pod) => pod !== oldestNew && pod !== oldestOld));
      } else {
        // More than one: keep the oldest.
        toDelete.push(...running.slice(1));
      }
    }
    for (const [node, onNode] of byNode) if (!eligibleNames.has(node)) toDelete.push(...onNode);

    const minReady = int(set.spec?.minReadySeconds, 0);
    const now = this.ctx.now();
    if (rolling && toCreate.length === 0 && maxSurge > 0) {
      toCreate.push(...this.surge(eligible.map((node) => node.metadata.name), byNode, hash, maxSurge, minReady, now, toDelete));
    } else if (rolling && toCreate.length === 0) {
      // RollingUpdate without surge: replace out-of-date pods while at most maxUnavailable nodes lack an available pod.
      const maxUnavailable = Math.max(1, scaled(strategy.rollingUpdate?.maxUnavailable ?? 1, eligible.length, true));
      const current = eligible.map((node) => (byNode.get(node.metadata.name) ?? [])[0]).filter((p): p is PodView => Boolean(p));
      let unavailable = eligible.length - current.filter((pod) => podAvailable(pod, minReady, now)).length;
      const stale = current.filter((pod) => pod.metadata.labels?.[REVISION_LABEL] !== hash)
        .sort((a, b) => Number(podAvailable(a, minReady, now)) - Number(podAvailable(b, minReady, now)));
      for (const pod of stale) {
        const wasAvailable = podAvailable(pod, minReady, now);
        if (wasAvailable && unavailable >= maxUnavailable) break;
        toDelete.push(pod);
        if (wasAvailable) unavailable++;
      }
    }
    const hostNetwork = (template.spec as Record<string, unknown> | undefined)?.hostNetwork === true;
    const controllerRef = ownerReference(DS_KIND, set.metadata);
    const deletions = [...new Set(toDelete)];
    this.expectations.expect(key, toCreate.length, deletions.map((pod) => objectKey(pod.metadata.namespace, pod.metadata.name)));
    const results = await Promise.allSettled([
      ...toCreate.map((nodeName) => this.podControl.create(namespace, template, ref, controllerRef, {
        extraLabels: { [REVISION_LABEL]: hash, [TEMPLATE_GENERATION_LABEL]: String(set.metadata.generation ?? 1) },
        mutateSpec: (spec) => {
          pinToNode(spec, nodeName);
          spec.tolerations = withDaemonTolerations((spec.tolerations ?? []) as Toleration[], hostNetwork);
        },
      })),
      ...deletions.map((pod) => this.podControl.delete(namespace, pod.metadata.name, ref)),
    ]);
    // What failed will never be observed.
    results.forEach((result, i) => {
      if (result.status === 'fulfilled') return;
      if (i < toCreate.length) this.expectations.lowerCreations(key);
      else { const pod = deletions[i - toCreate.length]; this.expectations.deletionObserved(key, objectKey(pod.metadata.namespace, pod.metadata.name)); }
    });
    await this.writeStatus(set, eligible.map((n) => n.metadata.name), byNode, eligibleNames, hash, minReady, now);
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure) throw failure.reason;
    if (minReady > 0) this.enqueueAfter(key, minReady * 1000 + 500);
  }

  /**
   * The surge half of upstream's rollingUpdate (maxSurge > 0, maxUnavailable 0): an updated pod is created beside
   * an out-of-date one on at most maxSurge nodes at a time (at once where the old pod is unavailable), and the old
   * pod is deleted once the new one is available. Returns the nodes to create an updated pod on; adds the old pods
   * to delete to `toDelete`.
   */
  private surge(nodes: string[], byNode: Map<string, PodView[]>, hash: string, maxSurge: number, minReady: number, now: number,
    toDelete: PodView[]): string[] {
    const allowed: string[] = [];
    const candidates: string[] = [];
    let surging = 0;
    for (const node of nodes) {
      const running = (byNode.get(node) ?? []).filter((pod) => pod.phase !== 'Failed');
      const updated = running.find((pod) => pod.metadata.labels?.[REVISION_LABEL] === hash);
      const old = running.find((pod) => pod.metadata.labels?.[REVISION_LABEL] !== hash);
      if (!old) continue;
      if (!updated) {
        if (!podAvailable(old, minReady, now)) allowed.push(node);
        else if (surging < maxSurge) candidates.push(node);
      } else if (!podAvailable(updated, minReady, now)) {
        surging++;
      } else {
        toDelete.push(old);
      }
    }
    const remaining = Math.max(0, Math.min(maxSurge - surging, candidates.length));
    return [...allowed, ...candidates.slice(0, remaining)];
  }

  private async writeStatus(set: WorkloadObject, eligible: string[], byNode: Map<string, PodView[]>, eligibleNames: Set<string>,
    hash: string, minReady: number, now: number): Promise<void> {
    const scheduled = eligible.filter((node) => (byNode.get(node) ?? []).some((p) => p.nodeName));
    // With surge a node may hold an updated pod beside an old one: the updated one speaks for the node.
    const firstPod = (node: string): PodView | undefined => {
      const onNode = byNode.get(node) ?? [];
      return onNode.find((pod) => pod.metadata.labels?.[REVISION_LABEL] === hash) ?? onNode[0];
    };
    const ready = eligible.filter((node) => firstPod(node)?.ready).length;
    const available = eligible.filter((node) => { const pod = firstPod(node); return pod ? podAvailable(pod, minReady, now) : false; }).length;
    const status: Record<string, unknown> = {
      ...(set.status ?? {}),
      currentNumberScheduled: scheduled.length,
      numberMisscheduled: [...byNode.keys()].filter((node) => node && !eligibleNames.has(node) && (byNode.get(node) ?? []).some((p) => p.nodeName)).length,
      desiredNumberScheduled: eligible.length,
      numberReady: ready,
      observedGeneration: set.metadata.generation ?? 0,
      updatedNumberScheduled: eligible.filter((node) => firstPod(node)?.metadata.labels?.[REVISION_LABEL] === hash && firstPod(node)?.nodeName).length,
      numberAvailable: available,
      numberUnavailable: eligible.length - available,
    };
    for (const field of ['numberAvailable', 'numberUnavailable', 'updatedNumberScheduled']) if (status[field] === 0) delete status[field];
    if (JSON.stringify(status) === JSON.stringify(set.status ?? {})) return;
    try {
      await this.ctx.client.request('PUT', objectPath(DAEMON_SETS, set.metadata.namespace, set.metadata.name, 'status'), { ...set, status });
    } catch (err) {
      if (!(err instanceof ApiStatusError && err.code === 404)) throw err;
    }
  }
}
