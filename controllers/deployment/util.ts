// The arithmetic of pkg/controller/deployment/util/deployment_util.go: pod-template-hash, revisions
// and their annotations, maxSurge/maxUnavailable resolution, replica counts over ReplicaSets,
// proportional scaling fractions, and deployment conditions.

import type { WorkloadObject } from '../framework/object-views.ts';

export const POD_TEMPLATE_HASH_LABEL = 'pod-template-hash';
export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
export const REVISION_HISTORY_ANNOTATION = 'deployment.kubernetes.io/revision-history';
export const DESIRED_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/desired-replicas';
export const MAX_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/max-replicas';
const ROLLBACK_TO_ANNOTATION = 'deprecated.deployment.rollback.to';
const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';
/** Annotations a Deployment does not copy to its ReplicaSets (skipCopyAnnotation). */
const SKIPPED_ANNOTATIONS = new Set([
  LAST_APPLIED_ANNOTATION, REVISION_ANNOTATION, REVISION_HISTORY_ANNOTATION, DESIRED_REPLICAS_ANNOTATION,
  MAX_REPLICAS_ANNOTATION, ROLLBACK_TO_ANNOTATION,
]);

// Condition reasons (deployment_util.go).
export const REASON = {
  newRSAvailable: 'NewReplicaSetAvailable',
  timedOut: 'ProgressDeadlineExceeded',
  rsUpdated: 'ReplicaSetUpdated',
  failedRSCreate: 'ReplicaSetCreateError',
  newRSCreated: 'NewReplicaSetCreated',
  foundNewRS: 'FoundNewReplicaSet',
  paused: 'DeploymentPaused',
  resumed: 'DeploymentResumed',
  minimumAvailable: 'MinimumReplicasAvailable',
  minimumUnavailable: 'MinimumReplicasUnavailable',
} as const;

export interface DeploymentCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  lastUpdateTime?: string;
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

export function int(value: unknown, fallback = 0): number {
  return typeof value === 'number' ? value : fallback;
}

export function specReplicas(object: WorkloadObject): number {
  return int(object.spec?.replicas, 1);
}

export function statusInt(object: WorkloadObject | undefined, field: string): number {
  return int(object?.status?.[field]);
}

/** FNV-1a, 32 bits. */
function fnv32a(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

const SAFE_ALPHANUMS = 'bcdfghjklmnpqrstvwxz2456789';

/** rand.SafeEncodeString: each byte mapped into an alphabet without vowels or look-alikes. */
function safeEncode(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) out += SAFE_ALPHANUMS[byte % SAFE_ALPHANUMS.length];
  return out;
}

function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (v && typeof v === 'object' && !Array.isArray(v)
    ? Object.fromEntries(Object.keys(v as object).sort().map((k) => [k, (v as Record<string, unknown>)[k]])) : v));
}

/**
 * controller.ComputeHash: a 32-bit FNV-1a of the template (and the collision count), encoded as
 * upstream encodes it. Upstream hashes Go's deep-printed struct; this hashes canonical JSON, so values
 * differ from a real cluster's but are stable and equally collision-protected.
 */
export function computeTemplateHash(template: unknown, collisionCount: number | undefined): string {
  let text = canonicalJson(semantic(template) ?? {});
  if (collisionCount !== undefined) text += `\u0000${collisionCount}`;
  return safeEncode(String(fnv32a(text)));
}

function withoutHash(template: unknown): unknown {
  const copy = structuredClone((template ?? {}) as Record<string, unknown>);
  const meta = copy.metadata as { labels?: Record<string, string> } | undefined;
  if (meta?.labels) {
    delete meta.labels[POD_TEMPLATE_HASH_LABEL];
    if (Object.keys(meta.labels).length === 0) delete meta.labels;
  }
  return copy;
}

/** Semantic equality's view of a value: nulls, empty maps and empty lists are the same as absent. */
function semantic(value: unknown): unknown {
  if (Array.isArray(value)) return value.length ? value.map(semantic) : undefined;
  if (value === null) return undefined;
  if (typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
    const normal = semantic(child);
    if (normal !== undefined) out[key] = normal;
  }
  return Object.keys(out).length ? out : undefined;
}

/** EqualIgnoreHash (Semantic.DeepEqual): templates equal once the pod-template-hash label is ignored. */
export function templatesEqualIgnoringHash(a: unknown, b: unknown): boolean {
  return canonicalJson(semantic(withoutHash(a)) ?? {}) === canonicalJson(semantic(withoutHash(b)) ?? {});
}

export function revisionOf(rs: WorkloadObject): number {
  const value = Number(rs.metadata.annotations?.[REVISION_ANNOTATION] ?? '0');
  return Number.isFinite(value) ? value : 0;
}

export function maxRevision(replicaSets: WorkloadObject[]): number {
  return replicaSets.reduce((max, rs) => Math.max(max, revisionOf(rs)), 0);
}

/** GetScaledValueFromIntOrPercent. */
function scaledValue(value: unknown, total: number, roundUp: boolean): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    if (/^\d+$/.test(value)) return Number(value);
    const percent = Number(value.replace(/%$/, ''));
    if (Number.isNaN(percent)) return 0;
    const exact = (percent * total) / 100;
    return roundUp ? Math.ceil(exact) : Math.floor(exact);
  }
  return 0;
}

export function isRollingUpdate(d: WorkloadObject): boolean {
  return (d.spec?.strategy as { type?: string } | undefined)?.type !== 'Recreate';
}

/** ResolveFenceposts: [maxSurge, maxUnavailable]; both 0 would deadlock, so unavailable becomes 1. */
export function resolveFenceposts(d: WorkloadObject): [number, number] {
  const rolling = ((d.spec?.strategy as { rollingUpdate?: Record<string, unknown> } | undefined)?.rollingUpdate) ?? {};
  const desired = specReplicas(d);
  const surge = scaledValue(rolling.maxSurge ?? '25%', desired, true);
  let unavailable = scaledValue(rolling.maxUnavailable ?? '25%', desired, false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return [surge, unavailable];
}

export function maxSurge(d: WorkloadObject): number {
  return isRollingUpdate(d) ? resolveFenceposts(d)[0] : 0;
}

export function maxUnavailable(d: WorkloadObject): number {
  const replicas = specReplicas(d);
  if (!isRollingUpdate(d) || replicas === 0) return 0;
  return Math.min(resolveFenceposts(d)[1], replicas);
}

export function sumSpecReplicas(replicaSets: (WorkloadObject | undefined)[]): number {
  return replicaSets.reduce((sum, rs) => sum + (rs ? specReplicas(rs) : 0), 0);
}

export function sumStatus(replicaSets: (WorkloadObject | undefined)[], field: string): number {
  return replicaSets.reduce((sum, rs) => sum + statusInt(rs, field), 0);
}

/** FilterActiveReplicaSets: those with replicas wanted. */
export function activeReplicaSets(replicaSets: (WorkloadObject | undefined)[]): WorkloadObject[] {
  return replicaSets.filter((rs): rs is WorkloadObject => rs !== undefined && specReplicas(rs) > 0);
}

export function byCreation(a: WorkloadObject, b: WorkloadObject): number {
  const at = Date.parse(a.metadata.creationTimestamp ?? '') || 0;
  const bt = Date.parse(b.metadata.creationTimestamp ?? '') || 0;
  return at !== bt ? at - bt : a.metadata.name.localeCompare(b.metadata.name);
}

/** The ReplicaSet annotations a Deployment's own annotations imply (copyDeploymentAnnotationsToReplicaSet). */
export function copyDeploymentAnnotations(d: WorkloadObject, rs: WorkloadObject): boolean {
  let changed = false;
  const annotations = (rs.metadata.annotations ??= {});
  for (const [key, value] of Object.entries(d.metadata.annotations ?? {})) {
    if (SKIPPED_ANNOTATIONS.has(key) || annotations[key] === value) continue;
    annotations[key] = value;
    changed = true;
  }
  return changed;
}

/** SetReplicasAnnotations: desired-replicas and max-replicas (what proportional scaling reads). */
export function setReplicasAnnotations(rs: WorkloadObject, desired: number, max: number): boolean {
  const annotations = (rs.metadata.annotations ??= {});
  let changed = false;
  if (annotations[DESIRED_REPLICAS_ANNOTATION] !== String(desired)) {
    annotations[DESIRED_REPLICAS_ANNOTATION] = String(desired);
    changed = true;
  }
  if (annotations[MAX_REPLICAS_ANNOTATION] !== String(max)) {
    annotations[MAX_REPLICAS_ANNOTATION] = String(max);
    changed = true;
  }
  return changed;
}

/** SetNewReplicaSetAnnotations, including the revision history kept when an old ReplicaSet is reused. */
export function setNewReplicaSetAnnotations(d: WorkloadObject, rs: WorkloadObject, newRevision: number, exists: boolean): boolean {
  let changed = copyDeploymentAnnotations(d, rs);
  const annotations = (rs.metadata.annotations ??= {});
  const oldText = annotations[REVISION_ANNOTATION];
  const oldRevision = oldText === undefined ? 0 : Number(oldText);
  if (oldText !== undefined && Number.isNaN(oldRevision)) return false;
  if (oldRevision < newRevision) {
    annotations[REVISION_ANNOTATION] = String(newRevision);
    changed = true;
    if (oldText !== undefined) {
      const history = annotations[REVISION_HISTORY_ANNOTATION];
      annotations[REVISION_HISTORY_ANNOTATION] = history ? `${history},${oldText}` : oldText;
    }
  }
  if (!exists && setReplicasAnnotations(rs, specReplicas(d), specReplicas(d) + maxSurge(d))) changed = true;
  return changed;
}

export function desiredReplicasAnnotation(rs: WorkloadObject): number | undefined {
  const text = rs.metadata.annotations?.[DESIRED_REPLICAS_ANNOTATION];
  const value = text === undefined ? NaN : Number(text);
  return Number.isInteger(value) ? value : undefined;
}

function maxReplicasAnnotation(rs: WorkloadObject): number | undefined {
  const text = rs.metadata.annotations?.[MAX_REPLICAS_ANNOTATION];
  const value = text === undefined ? NaN : Number(text);
  return Number.isInteger(value) ? value : undefined;
}

/** GetProportion: this ReplicaSet's share of replicas to add (or remove) when a Deployment is resized mid-rollout. */
export function proportion(rs: WorkloadObject, d: WorkloadObject, toAdd: number, added: number): number {
  if (specReplicas(rs) === 0 || toAdd === 0 || toAdd === added) return 0;
  let fraction: number;
  if (specReplicas(d) === 0) {
    fraction = -specReplicas(rs);
  } else {
    const deploymentReplicas = specReplicas(d) + maxSurge(d);
    const annotated = maxReplicasAnnotation(rs) ?? statusInt(d, 'replicas');
    fraction = Math.round((specReplicas(rs) * deploymentReplicas) / annotated) - specReplicas(rs);
  }
  const allowed = toAdd - added;
  return toAdd > 0 ? Math.min(fraction, allowed) : Math.max(fraction, allowed);
}

export function conditionOf(d: WorkloadObject, type: string): DeploymentCondition | undefined {
  return ((d.status?.conditions ?? []) as DeploymentCondition[]).find((c) => c.type === type);
}

export function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** SetDeploymentCondition: a condition whose status and reason are unchanged is left alone. */
export function setCondition(status: Record<string, unknown>, condition: DeploymentCondition): void {
  const conditions = (Array.isArray(status.conditions) ? status.conditions : []) as DeploymentCondition[];
  const current = conditions.find((c) => c.type === condition.type);
  if (current && current.status === condition.status && current.reason === condition.reason) return;
  if (current && current.status === condition.status) condition.lastTransitionTime = current.lastTransitionTime;
  status.conditions = [...conditions.filter((c) => c.type !== condition.type), condition];
}

export function removeCondition(status: Record<string, unknown>, type: string): void {
  if (!Array.isArray(status.conditions)) return;
  status.conditions = (status.conditions as DeploymentCondition[]).filter((c) => c.type !== type);
  if ((status.conditions as unknown[]).length === 0) delete status.conditions;
}

export function newCondition(type: string, status: DeploymentCondition['status'], reason: string, message: string, nowMs: number): DeploymentCondition {
  const now = rfc3339(nowMs);
  return { type, status, lastUpdateTime: now, lastTransitionTime: now, reason, message };
}

export function hasProgressDeadline(d: WorkloadObject): boolean {
  const deadline = d.spec?.progressDeadlineSeconds;
  return typeof deadline === 'number' && deadline !== 2147483647;
}
