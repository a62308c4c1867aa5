// POST pods/{name}/eviction (pkg/registry/core/pod/storage/eviction.go): deletes a pod unless a
// PodDisruptionBudget forbids it, in which case the answer is 429 TooManyRequests with upstream's
// message and a DisruptionBudget cause, so `kubectl drain` retries. An allowed eviction takes one
// disruption from the budget's status (and records the pod in disruptedPods) before the pod is
// deleted, as kube-apiserver does; the disruption controller recomputes the budget afterwards.

import { StatusError, badRequest, type StatusCause } from '../api/errors.ts';
import { deepCopy, isPlainObject, type KubeObject } from '../api/object.ts';
import type { RequestContext } from '../api/resource.ts';
import type { ApiRegistry } from '../api/registry/registry.ts';
import type { GenericStore } from '../api/registry/store.ts';
import { rfc3339 } from '../api/registry/object-meta.ts';
import { labelSelectorFromSpec, type LabelSelectorSpec } from '../api/selectors/label-selector.ts';
import { OBJECT_BODY_FORMATS, decodeRequestBody, parseRequestContentType } from './negotiation.ts';
import type { SubresourceHandler } from './subresources.ts';

export const EVICTION_REFUSED_MESSAGE = "Cannot evict pod as it would violate the pod's disruption budget.";
const MAX_DISRUPTED_POD_SIZE = 2000;
const SUCCESS_CREATED = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 };

type Json = Record<string, unknown>;

function tooManyRequests(cause: StatusCause): StatusError {
  return new StatusError(429, 'TooManyRequests', EVICTION_REFUSED_MESSAGE, { causes: [cause] });
}

function podIsReady(pod: KubeObject): boolean {
  const conditions = isPlainObject(pod.status) && Array.isArray(pod.status.conditions) ? pod.status.conditions : [];
  return conditions.some((c) => isPlainObject(c) && c.type === 'Ready' && c.status === 'True');
}

/** canIgnorePDB: pods already being deleted, finished, or never started are evicted without a budget. */
function canIgnoreBudget(pod: KubeObject): boolean {
  if (pod.metadata.deletionTimestamp) return true;
  const phase = isPlainObject(pod.status) ? pod.status.phase : undefined;
  return phase === 'Succeeded' || phase === 'Failed' || phase === 'Pending';
}

async function budgetsFor(pdbs: GenericStore, pod: KubeObject): Promise<KubeObject[]> {
  const list = await pdbs.storage.list(pdbs.prefix(pod.metadata.namespace ?? ''));
  const labels = pod.metadata.labels ?? {};
  return list.items.filter((pdb) => {
    const selector = isPlainObject(pdb.spec) ? pdb.spec.selector : undefined;
    if (!isPlainObject(selector)) return false;
    try {
      const parsed = labelSelectorFromSpec(selector as LabelSelectorSpec);
      return !parsed.empty && parsed.matches(labels);
    } catch {
      return false;
    }
  });
}

/** Takes one disruption from the budget, or throws the 429 (or 403) kube-apiserver answers. */
async function takeDisruption(pdbs: GenericStore, ctx: RequestContext, pdb: KubeObject, pod: KubeObject, dryRun: boolean): Promise<void> {
  const name = pdb.metadata.name ?? '';
  await pdbs.storage.guaranteedUpdate(pdbs.key(ctx.namespace, name), (current) => {
    const status = (isPlainObject(current.status) ? current.status : {}) as Json;
    const observed = typeof status.observedGeneration === 'number' ? status.observedGeneration : 0;
    if (observed < (current.metadata.generation ?? 0)) {
      throw tooManyRequests({ reason: 'DisruptionBudget', message: `The disruption budget ${name} is still being processed by the server.` });
    }
    const allowed = typeof status.disruptionsAllowed === 'number' ? status.disruptionsAllowed : 0;
    if (allowed < 0) throw new StatusError(403, 'Forbidden', 'pdb disruptions allowed is negative');
    const disrupted = isPlainObject(status.disruptedPods) ? status.disruptedPods : {};
    if (Object.keys(disrupted).length > MAX_DISRUPTED_POD_SIZE) {
      throw new StatusError(403, 'Forbidden', 'DisruptedPods map too big - too many evictions not confirmed by PDB controller');
    }
    if (allowed === 0) {
      const desired = typeof status.desiredHealthy === 'number' ? status.desiredHealthy : 0;
      const healthy = typeof status.currentHealthy === 'number' ? status.currentHealthy : 0;
      throw tooManyRequests({ reason: 'DisruptionBudget', message: `The disruption budget ${name} needs ${desired} healthy pods and has ${healthy} currently` });
    }
    if (dryRun) return current;
    const next = deepCopy(current);
    next.status = { ...status, disruptionsAllowed: allowed - 1, disruptedPods: { ...disrupted, [pod.metadata.name ?? '']: rfc3339(ctx.now) } };
    return next;
  });
}

/**
 * addConditionAndDeletePod: before the pod is deleted, its status gets the DisruptionTarget condition
 * (EvictionByEvictionAPI), so the kubelet keeps it in the status it writes last and a Job's podFailurePolicy can
 * tell an eviction from a failure of its own.
 */
async function addDisruptionTarget(store: GenericStore, ctx: RequestContext, name: string, preconditions: { uid?: string } | undefined): Promise<void> {
  await store.guaranteedUpdate(ctx, name, 'status', { dryRun: false, fieldValidation: 'Ignore' }, (current) => {
    if (preconditions?.uid && preconditions.uid !== current.metadata.uid) return deepCopy(current);
    const next = deepCopy(current);
    const status = (isPlainObject(next.status) ? next.status : {}) as Json;
    const conditions = (Array.isArray(status.conditions) ? status.conditions : []) as Json[];
    const existing = conditions.find((c) => isPlainObject(c) && c.type === 'DisruptionTarget');
    const condition = {
      type: 'DisruptionTarget', status: 'True', reason: 'EvictionByEvictionAPI', message: 'Eviction API: evicting',
      lastTransitionTime: existing?.status === 'True' && typeof existing.lastTransitionTime === 'string' ? existing.lastTransitionTime : rfc3339(ctx.now),
    };
    status.conditions = existing ? conditions.map((c) => (c === existing ? condition : c)) : [...conditions, condition];
    next.status = status;
    return next;
  });
}

export function podEvictionHandler(registry: ApiRegistry): SubresourceHandler {
  return {
    verbs: ['create'],
    async handle(request) {
      const { info, ctx, store, res } = request;
      const format = parseRequestContentType(request.req.headers['content-type'], OBJECT_BODY_FORMATS);
      const body = decodeRequestBody(await request.body(), format);
      if (!isPlainObject(body)) throw badRequest('the body of the request must be an Eviction object');
      if (body.kind !== undefined && body.kind !== 'Eviction') {
        throw badRequest(`the kind in the data (${String(body.kind)}) does not match the expected kind (Eviction)`);
      }
      const named = isPlainObject(body.metadata) ? body.metadata.name : undefined;
      if (named !== undefined && named !== info.name) throw badRequest('name in URL does not match name in Eviction object');
      const deleteOptions = isPlainObject(body.deleteOptions) ? body.deleteOptions : {};
      const dryRun = request.query.getAll('dryRun').length > 0 || (Array.isArray(deleteOptions.dryRun) && deleteOptions.dryRun.length > 0);
      const pod = await store.get(ctx.namespace, info.name);
      const pdbs = registry.lookup('policy', 'v1', 'poddisruptionbudgets');
      if (pdbs && !canIgnoreBudget(pod)) {
        const budgets = await budgetsFor(pdbs, pod);
        if (budgets.length > 1) {
          throw new StatusError(500, 'InternalError', 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.');
        }
        const budget = budgets[0];
        if (budget) {
          const policy = isPlainObject(budget.spec) ? budget.spec.unhealthyPodEvictionPolicy : undefined;
          const status = (isPlainObject(budget.status) ? budget.status : {}) as Json;
          const healthyBudget = (Number(status.currentHealthy ?? 0) >= Number(status.desiredHealthy ?? 0)) && Number(status.desiredHealthy ?? 0) > 0;
          // An unready pod does not count towards the budget: it may go when the policy says so.
          const unreadyMayGo = !podIsReady(pod) && (policy === 'AlwaysAllow' || healthyBudget);
          if (!unreadyMayGo) await takeDisruption(pdbs, ctx, budget, pod, dryRun);
        }
      }
      const preconditions = isPlainObject(deleteOptions.preconditions) ? deleteOptions.preconditions as { uid?: string; resourceVersion?: string } : undefined;
      if (!dryRun) await addDisruptionTarget(store, ctx, info.name, preconditions);
      await store.delete(ctx, info.name, {
        dryRun,
        gracePeriodSeconds: typeof deleteOptions.gracePeriodSeconds === 'number' ? deleteOptions.gracePeriodSeconds : undefined,
        preconditions,
      });
      res.status(201).json(SUCCESS_CREATED);
    },
  };
}
