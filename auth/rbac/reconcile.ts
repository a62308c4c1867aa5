// Bootstrap policy reconciliation at every start (pkg/registry/rbac/rest PostStartHook with
// pkg/registry/rbac/reconciliation): missing default roles and bindings are created; existing ones get
// missing rules, labels, annotations, aggregation selectors and subjects added (a union: nothing an
// administrator added is removed); a binding whose roleRef changed is recreated. Objects annotated
// `rbac.authorization.kubernetes.io/autoupdate: "false"` are left alone.

import { isDeepStrictEqual } from 'node:util';
import { StatusError } from '../../api/errors.ts';
import { deepCopy, isPlainObject, type KubeObject } from '../../api/object.ts';
import type { RequestContext } from '../../api/resource.ts';
import type { GenericStore } from '../../api/registry/store.ts';
import { AUTOUPDATE_ANNOTATION } from './bootstrap-roles.ts';
import { covers } from './covers.ts';
import { rulesOf, subjectsOf } from './policy-rule.ts';
import { aggregationSelectors } from './aggregation.ts';

const WRITE = { dryRun: false, fieldValidation: 'Ignore' as const, fieldManager: 'kube-apiserver', internal: true };

// Objects are reconciled concurrently: at first start that is some thirty creates, which the storage
// then commits in a few synced batches instead of one each.

export async function reconcileClusterRoles(store: GenericStore, ctx: RequestContext, expected: KubeObject[]): Promise<void> {
  await Promise.all(expected.map((role) => retryOnConflict(() => reconcileClusterRole(store, ctx, role))));
}

export async function reconcileClusterRoleBindings(store: GenericStore, ctx: RequestContext, expected: KubeObject[]): Promise<void> {
  await Promise.all(expected.map((binding) => retryOnConflict(() => reconcileClusterRoleBinding(store, ctx, binding))));
}

/** Several API servers on one etcd reconcile at the same time; a lost race is retried on fresh data. */
async function retryOnConflict(attempt: () => Promise<void>): Promise<void> {
  for (let tries = 1; ; tries++) {
    try {
      return await attempt();
    } catch (err) {
      const conflict = err instanceof StatusError && (err.reason === 'Conflict' || err.reason === 'AlreadyExists' || err.reason === 'NotFound');
      if (!conflict || tries >= 5) throw err;
    }
  }
}

async function reconcileClusterRole(store: GenericStore, ctx: RequestContext, role: KubeObject): Promise<void> {
  const name = role.metadata.name!;
  const existing = await getIfExists(store, name);
  if (!existing) {
    await createIgnoringRace(store, ctx, role);
    return;
  }
  if (protectedFromUpdate(existing)) return;
  const next = deepCopy(existing);
  mergeMetadata(next, role);
  const expectedSelectors = aggregationSelectors(role);
  // Aggregated roles get their rules from the aggregation controller; comparing them is pointless.
  if (expectedSelectors === undefined || aggregationSelectors(existing) === undefined) {
    const missing = covers(rulesOf(existing), rulesOf(role)).missing;
    if (missing.length) next.rules = [...rulesOf(existing), ...missing];
  }
  if (expectedSelectors !== undefined) {
    const current = aggregationSelectors(existing) ?? [];
    const added = expectedSelectors.filter((selector) => !current.some((s) => isDeepStrictEqual(s, selector)));
    if (added.length) next.aggregationRule = { clusterRoleSelectors: [...current, ...added] };
  }
  if (!isDeepStrictEqual(next, existing)) await store.update(ctx, name, next, '', WRITE);
}

async function reconcileClusterRoleBinding(store: GenericStore, ctx: RequestContext, binding: KubeObject): Promise<void> {
  const name = binding.metadata.name!;
  const existing = await getIfExists(store, name);
  if (!existing) {
    await createIgnoringRace(store, ctx, binding);
    return;
  }
  if (protectedFromUpdate(existing)) return;
  if (!isDeepStrictEqual(existing.roleRef, binding.roleRef)) {
    // roleRef is immutable: the only way to point a default binding at its role again is to recreate it.
    await store.delete(ctx, name, { dryRun: false });
    const recreated = deepCopy(binding);
    const subjects = [...subjectsOf(binding)];
    for (const subject of subjectsOf(existing)) if (!subjects.some((s) => isDeepStrictEqual(s, subject))) subjects.push(subject);
    if (subjects.length) recreated.subjects = subjects;
    await createIgnoringRace(store, ctx, recreated);
    return;
  }
  const next = deepCopy(existing);
  mergeMetadata(next, binding);
  const subjects = subjectsOf(existing);
  const missing = subjectsOf(binding).filter((subject) => !subjects.some((s) => isDeepStrictEqual(s, subject)));
  if (missing.length) next.subjects = [...(Array.isArray(existing.subjects) ? existing.subjects : []), ...missing];
  if (!isDeepStrictEqual(next, existing)) await store.update(ctx, name, next, '', WRITE);
}

function protectedFromUpdate(object: KubeObject): boolean {
  return object.metadata.annotations?.[AUTOUPDATE_ANNOTATION] === 'false';
}

/** Expected labels and annotations are added; values already set on the object win (reconciliation's merge). */
function mergeMetadata(target: KubeObject, expected: KubeObject): void {
  for (const field of ['labels', 'annotations'] as const) {
    const wanted = expected.metadata[field];
    if (!isPlainObject(wanted)) continue;
    target.metadata[field] = { ...(wanted as Record<string, string>), ...(target.metadata[field] ?? {}) };
  }
}

async function getIfExists(store: GenericStore, name: string): Promise<KubeObject | undefined> {
  try {
    return await store.get('', name);
  } catch (err) {
    if (err instanceof StatusError && err.reason === 'NotFound') return undefined;
    throw err;
  }
}

async function createIgnoringRace(store: GenericStore, ctx: RequestContext, object: KubeObject): Promise<void> {
  try {
    await store.create(ctx, deepCopy(object), WRITE);
  } catch (err) {
    if (!(err instanceof StatusError && err.reason === 'AlreadyExists')) throw err;
  }
}
