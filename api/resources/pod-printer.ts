// `kubectl get pods` rows, as printPod in pkg/printers/internalversion/printers.go computes them.

import type { KubeObject } from '../object.ts';
import type { TableCell, TableConvertor } from '../resource.ts';
import { age, ageColumn, column, list, nameColumn, obj, str } from './printing.ts';

type Json = Record<string, unknown>;

const NODE_UNREACHABLE_POD_REASON = 'NodeLost';

function isRestartableInitContainer(container: Json | undefined): boolean {
  return container?.restartPolicy === 'Always';
}

function conditionIsTrue(pod: KubeObject, type: string): boolean {
  return list(pod, 'status', 'conditions').some((c) => c.type === type && c.status === 'True');
}

/** Latest `lastState.terminated.finishedAt` seen, as epoch ms (0 = none). */
function laterFinish(current: number, status: Json): number {
  const finished = str(status, 'lastState', 'terminated', 'finishedAt');
  const at = finished ? Date.parse(finished) : NaN;
  return !Number.isNaN(at) && at > current ? at : current;
}

function terminatedReason(terminated: Json, prefix: string): string {
  const reason = str(terminated, 'reason');
  if (reason) return `${prefix}${reason}`;
  const signal = typeof terminated.signal === 'number' ? terminated.signal : 0;
  const exitCode = typeof terminated.exitCode === 'number' ? terminated.exitCode : 0;
  return signal !== 0 ? `${prefix}Signal:${signal}` : `${prefix}ExitCode:${exitCode}`;
}

export function podRowCells(pod: KubeObject, now: Date): TableCell[] {
  const phase = str(pod, 'status', 'phase');
  let reason = str(pod, 'status', 'reason') || phase;
  if (list(pod, 'status', 'conditions').some((c) => c.type === 'PodScheduled' && c.reason === 'SchedulingGated')) {
    reason = 'SchedulingGated';
  }
  const specInit = list(pod, 'spec', 'initContainers');
  const initByName = new Map(specInit.map((c) => [str(c, 'name'), c]));
  const totalContainers = list(pod, 'spec', 'containers').length + specInit.filter(isRestartableInitContainer).length;
  let readyContainers = 0;
  let restarts = 0;
  let restartableInitRestarts = 0;
  let lastRestart = 0;
  let lastRestartableInitRestart = 0;

  let initializing = false;
  const initStatuses = list(pod, 'status', 'initContainerStatuses');
  for (let i = 0; i < initStatuses.length; i++) {
    const status = initStatuses[i];
    const restartCount = typeof status.restartCount === 'number' ? status.restartCount : 0;
    restarts += restartCount;
    lastRestart = laterFinish(lastRestart, status);
    const restartable = isRestartableInitContainer(initByName.get(str(status, 'name')));
    if (restartable) {
      restartableInitRestarts += restartCount;
      lastRestartableInitRestart = laterFinish(lastRestartableInitRestart, status);
    }
    const terminated = obj(status, 'state', 'terminated');
    const waitingReason = str(status, 'state', 'waiting', 'reason');
    if (terminated && (terminated.exitCode ?? 0) === 0) continue;
    if (restartable && status.started === true) {
      if (status.ready === true) readyContainers++;
      continue;
    }
    if (terminated) reason = terminatedReason(terminated, 'Init:');
    else if (waitingReason && waitingReason !== 'PodInitializing') reason = `Init:${waitingReason}`;
    else reason = `Init:${i}/${specInit.length}`;
    initializing = true;
    break;
  }

  if (!initializing || conditionIsTrue(pod, 'Initialized')) {
    restarts = restartableInitRestarts;
    lastRestart = lastRestartableInitRestart;
    let hasRunning = false;
    const statuses = list(pod, 'status', 'containerStatuses');
    for (let i = statuses.length - 1; i >= 0; i--) {
      const status = statuses[i];
      restarts += typeof status.restartCount === 'number' ? status.restartCount : 0;
      lastRestart = laterFinish(lastRestart, status);
      const waitingReason = str(status, 'state', 'waiting', 'reason');
      const terminated = obj(status, 'state', 'terminated');
      if (waitingReason) reason = waitingReason;
      else if (terminated) reason = terminatedReason(terminated, '');
      else if (status.ready === true && obj(status, 'state', 'running')) {
        hasRunning = true;
        readyContainers++;
      }
    }
    // A pod whose last container completed while another still runs is shown as running.
    if (reason === 'Completed' && hasRunning) reason = conditionIsTrue(pod, 'Ready') ? 'Running' : 'NotReady';
  }

  const deleting = Boolean(pod.metadata.deletionTimestamp);
  if (deleting && str(pod, 'status', 'reason') === NODE_UNREACHABLE_POD_REASON) reason = 'Unknown';
  else if (deleting && phase !== 'Succeeded' && phase !== 'Failed') reason = 'Terminating';

  let restartsText = String(restarts);
  if (restarts !== 0 && lastRestart !== 0) restartsText = `${restarts} (${age(new Date(lastRestart).toISOString(), now)} ago)`;

  const podIP = str(pod, 'status', 'podIPs', 0, 'ip') || '<none>';
  const nodeName = str(pod, 'spec', 'nodeName') || '<none>';
  const nominated = str(pod, 'status', 'nominatedNodeName') || '<none>';
  const gates = list(pod, 'spec', 'readinessGates');
  let readinessGates = '<none>';
  if (gates.length > 0) {
    const conditions = list(pod, 'status', 'conditions');
    const trueCount = gates.filter((g) => conditions.find((c) => c.type === g.conditionType)?.status === 'True').length;
    readinessGates = `${trueCount}/${gates.length}`;
  }
  return [pod.metadata.name ?? '', `${readyContainers}/${totalContainers}`, reason, restartsText,
    age(pod.metadata.creationTimestamp, now), podIP, nodeName, nominated, readinessGates];
}

export const podTable: TableConvertor = {
  columns: [
    nameColumn(),
    column('Ready', 'The aggregate readiness state of this pod for accepting traffic.'),
    column('Status', 'The aggregate status of the containers in this pod.'),
    column('Restarts', 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.'),
    ageColumn(),
    column('IP', 'podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.', 1),
    column('Node', 'NodeName indicates in which node this pod is scheduled. If empty, this pod is a candidate for scheduling by the scheduler defined in schedulerName. Once this field is set, the kubelet for this node becomes responsible for the lifecycle of this pod. This field should not be used to express a desire for the pod to be scheduled on a specific node. https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#nodename', 1),
    column('Nominated Node', 'nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled right away as preemption victims receive their graceful termination periods. This field does not guarantee that the pod will be scheduled on this node. Scheduler may decide to place the pod elsewhere if other nodes become available sooner. Scheduler may also decide to give the resources on this node to a higher priority pod that is created after preemption. As a result, this field may be different than PodSpec.nodeName when the pod is scheduled.', 1),
    column('Readiness Gates', 'If specified, all readiness gates will be evaluated for pod readiness. A pod is ready when all its containers are ready AND all conditions specified in the readiness gates have status equal to "True" More info: https://git.k8s.io/enhancements/keps/sig-network/580-pod-readiness-gates', 1),
  ],
  cells: podRowCells,
};

