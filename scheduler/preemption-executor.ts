// Carrying out a preemption as DefaultPreemption's prepareCandidate does: each victim gets the
// DisruptionTarget condition (reason PreemptionByScheduler) through pods/status, is deleted (gracefully, as
// any DELETE without options) and gets a Preempted event; pods of lower priority nominated to the same node
// lose their nomination (status.nominatedNodeName cleared).
import type { V1Pod, V1PodDisruptionBudget } from '@kubernetes/client-node';
import { ApiStatusError, type JsonApiClient } from '../clients/json-api-client.ts';
import { isLabelSelector } from '../controllers/framework/label-selector.ts';
import type { EventLogger, EventRecorder } from './event-recorder.ts';
import type { PodIdentity, PodOnNode } from './node-info.ts';
import type { Nominator } from './nominator.ts';
import type { DisruptionBudget, PreemptionCandidate } from './preemption.ts';

export interface PreemptionDeps {
  client: JsonApiClient;
  recorder: EventRecorder;
  logger: EventLogger;
  schedulerName: string;
}

export function disruptionBudget(pdb: V1PodDisruptionBudget): DisruptionBudget {
  const selector = pdb.spec?.selector;
  return {
    namespace: pdb.metadata?.namespace ?? '',
    selector: isLabelSelector(selector) ? selector : undefined,
    disruptionsAllowed: pdb.status?.disruptionsAllowed ?? 0,
    disruptedPods: new Set(Object.keys(pdb.status?.disruptedPods ?? {})),
  };
}

function podPath(identity: PodIdentity, subresource = ''): string {
  const base = `/api/v1/namespaces/${encodeURIComponent(identity.namespace)}/pods/${encodeURIComponent(identity.name)}`;
  return subresource ? `${base}/${subresource}` : base;
}

function notFound(err: unknown): boolean {
  return err instanceof ApiStatusError && err.code === 404;
}

function asPod(identity: PodIdentity): V1Pod {
  return { metadata: { namespace: identity.namespace, name: identity.name, uid: identity.uid } };
}

async function preemptVictim(deps: PreemptionDeps, preemptor: V1Pod, nodeName: string, victim: PodIdentity): Promise<void> {
  const condition = {
    type: 'DisruptionTarget',
    status: 'True',
    reason: 'PreemptionByScheduler',
    message: `${preemptor.spec?.schedulerName || deps.schedulerName}: preempting to accommodate a higher priority pod`,
    lastTransitionTime: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
  };
  try {
    await deps.client.request('PATCH', podPath(victim, 'status'), { status: { conditions: [condition] } }, 'application/strategic-merge-patch+json');
    // The uid precondition keeps a pod recreated under the same name from being deleted in its place.
    await deps.client.request('DELETE', podPath(victim), { apiVersion: 'v1', kind: 'DeleteOptions', preconditions: { uid: victim.uid } });
  } catch (err) {
    if (notFound(err)) return;
    throw err;
  }
  deps.recorder.emitPodEvent(asPod(victim), 'Normal', 'Preempted', 'Preempting', `Preempted by pod ${preemptor.metadata?.uid} on node ${nodeName}`);
}

export async function executePreemption(deps: PreemptionDeps, preemptor: V1Pod, candidate: PreemptionCandidate,
  displaced: Array<[string, PodOnNode]>, nominator: Nominator): Promise<void> {
  const preemptorName = `${preemptor.metadata?.namespace}/${preemptor.metadata?.name}`;
  const results = await Promise.allSettled(candidate.victims.map((victim) => preemptVictim(deps, preemptor, candidate.nodeName, victim.identity)));
  for (const [i, result] of results.entries()) {
    if (result.status === 'rejected') {
      const victim = candidate.victims[i].identity;
      deps.logger.error('could not preempt victim', { preemptor: preemptorName, victim: `${victim.namespace}/${victim.name}`, error: String(result.reason) });
    }
  }
  for (const [key, entry] of displaced) {
    nominator.remove(key);
    if (!entry.identity) continue;
    try {
      await deps.client.request('PATCH', podPath(entry.identity, 'status'), { status: { nominatedNodeName: null } }, 'application/strategic-merge-patch+json');
    } catch (err) {
      if (!notFound(err)) deps.logger.error('could not clear nominatedNodeName', { pod: `${entry.identity.namespace}/${entry.identity.name}`, error: String(err) });
    }
  }
}
