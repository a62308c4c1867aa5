// What the controller manager keeps of the objects it watches. Workload objects (few) are kept
// whole; pods (many) are trimmed to the fields the controllers read, so the cache costs a few
// hundred bytes per pod rather than the pod's full JSON.

import type { KubernetesObject } from '@kubernetes/client-node';

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMetaView {
  name: string;
  namespace?: string;
  uid: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
}

/** A whole object as JSON.parse left it, with typed metadata. */
export interface WorkloadObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMetaView;
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
  [field: string]: unknown;
}

export interface ContainerExit {
  name: string;
  exitCode: number;
}

export interface PodView {
  metadata: ObjectMetaView;
  nodeName?: string;
  phase: string;
  ready: boolean;
  /** When the Ready condition last changed (for minReadySeconds). */
  readySince?: string;
  restartCount: number;
  /** Exit codes of terminated containers (the job controller's podFailurePolicy). */
  exits: ContainerExit[];
  /** Condition types that are True (DisruptionTarget, ...). */
  trueConditions: string[];
  restartPolicy?: string;
  hostname?: string;
  /** The node a DaemonSet pod is pinned to by its required node affinity (matchFields metadata.name). */
  targetNode?: string;
  /** Tolerations that can match a NoExecute taint (effect NoExecute or empty), for the taint eviction controller. */
  noExecuteTolerations?: TolerationView[];
}

export interface TolerationView {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
  tolerationSeconds?: number;
}

/**
 * Almost every pod carries the same NoExecute tolerations (DefaultTolerationSeconds' two, a DaemonSet's), so
 * equal lists are shared (read-only) rather than kept once per pod; the table is bounded.
 */
const internedTolerations = new Map<string, TolerationView[]>();
const MAX_INTERNED_TOLERATIONS = 1024;

function internTolerations(tolerations: TolerationView[]): TolerationView[] {
  const key = JSON.stringify(tolerations);
  const shared = internedTolerations.get(key);
  if (shared) return shared;
  if (internedTolerations.size < MAX_INTERNED_TOLERATIONS) internedTolerations.set(key, tolerations);
  return tolerations;
}

function tolerationView(raw: Json): TolerationView {
  const view: TolerationView = {};
  if (typeof raw.key === 'string') view.key = raw.key;
  if (typeof raw.operator === 'string') view.operator = raw.operator;
  if (typeof raw.value === 'string') view.value = raw.value;
  if (typeof raw.effect === 'string') view.effect = raw.effect;
  if (typeof raw.tolerationSeconds === 'number') view.tolerationSeconds = raw.tolerationSeconds;
  return view;
}

/** Annotations the controllers read; the rest are dropped from the pod cache. */
const KEPT_POD_ANNOTATIONS = new Set([
  'controller.kubernetes.io/pod-deletion-cost', 'batch.kubernetes.io/job-completion-index',
]);

type Json = Record<string, unknown>;

function asObject(value: unknown): Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? value as Json : {};
}

function asArray(value: unknown): Json[] {
  return Array.isArray(value) ? value.filter((item): item is Json => item !== null && typeof item === 'object') : [];
}

function stringMap(value: unknown): Record<string, string> | undefined {
  const map = asObject(value);
  const keys = Object.keys(map);
  return keys.length ? map as Record<string, string> : undefined;
}

export function metaView(raw: KubernetesObject): ObjectMetaView {
  const meta = asObject(raw.metadata);
  if (typeof meta.name !== 'string' || typeof meta.uid !== 'string') throw new Error('object without name or uid');
  const view: ObjectMetaView = { name: meta.name, uid: meta.uid };
  if (typeof meta.namespace === 'string') view.namespace = meta.namespace;
  if (typeof meta.resourceVersion === 'string') view.resourceVersion = meta.resourceVersion;
  if (typeof meta.generation === 'number') view.generation = meta.generation;
  if (typeof meta.creationTimestamp === 'string') view.creationTimestamp = meta.creationTimestamp;
  if (typeof meta.deletionTimestamp === 'string') view.deletionTimestamp = meta.deletionTimestamp;
  const labels = stringMap(meta.labels);
  if (labels) view.labels = labels;
  const owners = asArray(meta.ownerReferences) as unknown as OwnerReference[];
  if (owners.length) view.ownerReferences = owners;
  if (Array.isArray(meta.finalizers) && meta.finalizers.length) view.finalizers = meta.finalizers.map(String);
  return view;
}

/** Metadata only: what the garbage collector keeps of the kinds it does not otherwise watch. */
export function metadataOnly(raw: KubernetesObject): { metadata: ObjectMetaView } {
  return { metadata: metaView(raw) };
}

/**
 * A workload object whole, but for metadata.managedFields: no controller reads them, and they are the largest part
 * of an object written by both a client and a controller (a Deployment's pod template appears in them once per
 * manager). Writes of a cached object without them keep the stored ones, as kube-apiserver keeps them when a
 * request leaves them out.
 */
export function workloadObject(raw: KubernetesObject): WorkloadObject {
  metaView(raw); // validates name and uid
  const meta = raw.metadata as Json;
  if ('managedFields' in meta) delete meta.managedFields;
  return raw as unknown as WorkloadObject;
}

/** A Node as the DaemonSet controller reads it: metadata and spec (labels, taints, unschedulable), no status. */
export function nodeView(raw: KubernetesObject): WorkloadObject {
  const view: WorkloadObject = { metadata: metaView(raw) };
  if (raw.apiVersion) view.apiVersion = raw.apiVersion;
  if (raw.kind) view.kind = raw.kind;
  const spec = asObject((raw as Json).spec);
  if (Object.keys(spec).length) view.spec = spec;
  return view;
}

export function podView(raw: KubernetesObject): PodView {
  const metadata = metaView(raw);
  const annotations = asObject(asObject(raw.metadata).annotations);
  for (const key of Object.keys(annotations)) {
    if (KEPT_POD_ANNOTATIONS.has(key)) (metadata.annotations ??= {})[key] = String(annotations[key]);
  }
  const spec = asObject((raw as Json).spec);
  const status = asObject((raw as Json).status);
  const conditions = asArray(status.conditions);
  const readyCondition = conditions.find((c) => c.type === 'Ready');
  const statuses = [...asArray(status.initContainerStatuses), ...asArray(status.containerStatuses)];
  const exits: ContainerExit[] = [];
  let restartCount = 0;
  for (const container of asArray(status.containerStatuses)) {
    restartCount += typeof container.restartCount === 'number' ? container.restartCount : 0;
  }
  for (const container of statuses) {
    const terminated = asObject(asObject(container.state).terminated);
    const last = asObject(asObject(container.lastState).terminated);
    const exit = typeof terminated.exitCode === 'number' ? terminated.exitCode : typeof last.exitCode === 'number' ? last.exitCode : undefined;
    if (exit !== undefined) exits.push({ name: String(container.name ?? ''), exitCode: exit });
  }
  const view: PodView = {
    metadata,
    phase: typeof status.phase === 'string' ? status.phase : 'Pending',
    ready: readyCondition?.status === 'True',
    restartCount,
    exits,
    trueConditions: conditions.filter((c) => c.status === 'True').map((c) => String(c.type)),
  };
  if (typeof spec.nodeName === 'string') view.nodeName = spec.nodeName;
  if (typeof readyCondition?.lastTransitionTime === 'string') view.readySince = readyCondition.lastTransitionTime;
  if (typeof spec.restartPolicy === 'string') view.restartPolicy = spec.restartPolicy;
  if (typeof spec.hostname === 'string') view.hostname = spec.hostname;
  const terms = asArray(asObject(asObject(asObject(spec.affinity).nodeAffinity).requiredDuringSchedulingIgnoredDuringExecution).nodeSelectorTerms);
  for (const term of terms) {
    const field = asArray(term.matchFields).find((f) => f.key === 'metadata.name' && f.operator === 'In');
    if (field && Array.isArray(field.values) && field.values.length === 1) view.targetNode = String(field.values[0]);
  }
  const tolerations = asArray(spec.tolerations).map(tolerationView).filter((t) => !t.effect || t.effect === 'NoExecute');
  if (tolerations.length) view.noExecuteTolerations = internTolerations(tolerations);
  return view;
}

/** The owner reference marked controller: true, if any. */
export function controllerOf(meta: ObjectMetaView): OwnerReference | undefined {
  return meta.ownerReferences?.find((ref) => ref.controller === true);
}

/** podutil.IsPodAvailable: ready for at least minReadySeconds at `nowMs`. */
export function podAvailable(pod: PodView, minReadySeconds: number, nowMs: number): boolean {
  if (!pod.ready) return false;
  if (minReadySeconds <= 0) return true;
  const since = pod.readySince ? Date.parse(pod.readySince) : NaN;
  return !Number.isNaN(since) && since + minReadySeconds * 1000 <= nowMs;
}

export function podActive(pod: PodView): boolean {
  return pod.phase !== 'Succeeded' && pod.phase !== 'Failed' && !pod.metadata.deletionTimestamp;
}
