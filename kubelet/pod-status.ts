// Composes the pod status a 1.32 kubelet writes (generateAPIPodStatus/getPhase) from the simulated runtime state.
import { imageIdFor, normalizeImageReference } from './images.ts';
import type { ConditionRecord, ContainerRuntimeState, PodRuntimeState, TerminatedState } from './pod-runtime-state.ts';
import { rfc3339 } from './node-object.ts';
import { parseQuantity } from './quantity.ts';

export interface PodConditionOut {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastProbeTime: null;
  lastTransitionTime: string;
}

export interface ContainerStatusOut {
  name: string;
  image: string;
  imageID: string;
  containerID?: string;
  ready: boolean;
  started: boolean;
  restartCount: number;
  state: Record<string, Record<string, unknown>>;
  lastState: Record<string, Record<string, unknown>>;
}

export interface PodStatusOut {
  phase: string;
  /** Why the kubelet failed the pod itself (DeadlineExceeded), with its message. */
  reason?: string;
  message?: string;
  conditions: PodConditionOut[];
  hostIP: string;
  hostIPs: { ip: string }[];
  podIP?: string;
  podIPs?: { ip: string }[];
  startTime?: string;
  qosClass: string;
  initContainerStatuses?: ContainerStatusOut[];
  containerStatuses: ContainerStatusOut[];
  ephemeralContainerStatuses?: ContainerStatusOut[];
}

interface ResourcesLike {
  requests?: Record<string, string | number>;
  limits?: Record<string, string | number>;
}

/** pkg/apis/core/helper/qos: Guaranteed when every container limits cpu and memory with equal requests. */
export function qosClass(containers: { resources?: ResourcesLike }[]): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  const tracked = ['cpu', 'memory'];
  let anySet = false;
  let guaranteed = true;
  for (const container of containers) {
    const requests = container.resources?.requests ?? {};
    const limits = container.resources?.limits ?? {};
    for (const name of tracked) {
      const request = requests[name];
      const limit = limits[name];
      if (request !== undefined || limit !== undefined) anySet = true;
      if (limit === undefined) {
        guaranteed = false;
        continue;
      }
      if (request !== undefined && parseQuantity(String(request)) !== parseQuantity(String(limit))) guaranteed = false;
    }
  }
  if (!anySet) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

function terminatedOut(terminated: TerminatedState): Record<string, unknown> {
  return {
    exitCode: terminated.exitCode,
    reason: terminated.reason,
    startedAt: rfc3339(terminated.startedAtMs),
    finishedAt: rfc3339(terminated.finishedAtMs),
    containerID: terminated.containerId,
  };
}

export function containerIsReady(container: ContainerRuntimeState): boolean {
  return container.state.kind === 'running' && container.probeStarted !== false && container.probeReady !== false;
}

export function composeContainerStatus(container: ContainerRuntimeState): ContainerStatusOut {
  let state: Record<string, Record<string, unknown>>;
  switch (container.state.kind) {
    case 'waiting':
      state = { waiting: container.state.message === undefined
        ? { reason: container.state.reason }
        : { reason: container.state.reason, message: container.state.message } };
      break;
    case 'running':
      state = { running: { startedAt: rfc3339(container.state.startedAtMs) } };
      break;
    case 'terminated':
      state = { terminated: terminatedOut(container.state.terminated) };
      break;
  }
  const status: ContainerStatusOut = {
    name: container.name,
    image: container.imageResolved ? normalizeImageReference(container.image) : container.image,
    imageID: container.imageResolved ? imageIdFor(container.image) : '',
    ready: containerIsReady(container),
    started: container.state.kind === 'running' && container.probeStarted !== false,
    restartCount: container.restartCount,
    state,
    lastState: container.lastTerminated ? { terminated: terminatedOut(container.lastTerminated) } : {},
  };
  if (container.containerId) status.containerID = container.containerId;
  return status;
}

/** kubelet getPhase for the containers of a pod whose init containers are done. */
export function podPhase(state: PodRuntimeState): string {
  const regularInits = state.initContainers.filter((container) => !container.isSidecar);
  const initFailedForGood = state.restartPolicy === 'Never' && regularInits.some((container) =>
    container.state.kind === 'terminated' && container.state.terminated.exitCode !== 0);
  if (initFailedForGood) return 'Failed';
  const initPending = regularInits.some((container) =>
    !(container.state.kind === 'terminated' && container.state.terminated.exitCode === 0));
  let waiting = 0;
  let running = 0;
  let stopped = 0;
  let succeeded = 0;
  for (const container of state.containers) {
    if (container.state.kind === 'running') running++;
    else if (container.state.kind === 'terminated') {
      stopped++;
      if (container.state.terminated.exitCode === 0) succeeded++;
    } else if (container.lastTerminated) stopped++;
    else waiting++;
  }
  if (state.failure) return 'Failed';
  if (initPending && !state.terminal) return 'Pending';
  if (waiting > 0 && !state.terminal) return 'Pending';
  if (running > 0 && !state.terminal) return 'Running';
  if (stopped > 0 || state.terminal) {
    if (state.terminal) return stopped === succeeded && running === 0 && waiting === 0 ? 'Succeeded' : 'Failed';
    if (state.restartPolicy === 'Always') return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    if (state.restartPolicy === 'Never') return 'Failed';
    return 'Running';
  }
  return 'Pending';
}

function condition(state: PodRuntimeState, type: string, status: string, nowMs: number, reason?: string, message?: string): PodConditionOut {
  const previous = state.conditions.get(type);
  const lastTransitionMs = previous && previous.status === status ? previous.lastTransitionMs : nowMs;
  const record: ConditionRecord = { status, lastTransitionMs };
  if (reason !== undefined) record.reason = reason;
  if (message !== undefined) record.message = message;
  state.conditions.set(type, record);
  const out: PodConditionOut = { type, status, lastProbeTime: null, lastTransitionTime: rfc3339(lastTransitionMs) };
  if (reason !== undefined) out.reason = reason;
  if (message !== undefined) out.message = message;
  return out;
}

export interface ComposeOptions {
  nowMs: number;
  qosClass: string;
  /** Conditions owned by others (PodScheduled from the scheduler, DisruptionTarget …), copied as they are. */
  foreignConditions?: unknown[];
}

/** Builds the status and records condition transitions in `state.conditions`. */
export function composePodStatus(state: PodRuntimeState, options: ComposeOptions): PodStatusOut {
  const { nowMs } = options;
  const phase = podPhase(state);
  const completed = phase === 'Succeeded' || phase === 'Failed';
  const incompleteInits = state.initContainers
    .filter((container) => container.isSidecar
      ? container.state.kind !== 'running' && !completed
      : !(container.state.kind === 'terminated' && container.state.terminated.exitCode === 0))
    .map((container) => container.name);
  const unready = [
    ...state.initContainers.filter((container) => container.isSidecar && !containerIsReady(container)),
    ...state.containers.filter((container) => !containerIsReady(container)),
  ].map((container) => container.name);

  const conditions: PodConditionOut[] = [];
  conditions.push(condition(state, 'PodReadyToStartContainers', state.sandboxReady ? 'True' : 'False', nowMs));
  conditions.push(incompleteInits.length === 0 || (completed && state.initContainers.every((c) => c.isSidecar || c.state.kind === 'terminated'))
    ? condition(state, 'Initialized', 'True', nowMs)
    : condition(state, 'Initialized', 'False', nowMs, 'ContainersNotInitialized', `containers with incomplete status: [${incompleteInits.join(' ')}]`));
  const readyReason = completed ? 'PodCompleted' : 'ContainersNotReady';
  const readyMessage = completed ? undefined : `containers with unready status: [${unready.join(' ')}]`;
  if (unready.length === 0 && !completed) {
    conditions.push(condition(state, 'Ready', 'True', nowMs));
    conditions.push(condition(state, 'ContainersReady', 'True', nowMs));
  } else {
    conditions.push(condition(state, 'Ready', 'False', nowMs, readyReason, readyMessage));
    conditions.push(condition(state, 'ContainersReady', 'False', nowMs, readyReason, readyMessage));
  }
  const ownTypes = new Set(conditions.map((c) => c.type));
  const foreign = (options.foreignConditions ?? []).filter((c) => {
    const type = (c as { type?: unknown }).type;
    return typeof type === 'string' && !ownTypes.has(type);
  }) as PodConditionOut[];
  // A pod created with spec.nodeName never met the scheduler; the kubelet reports PodScheduled True itself.
  if (!foreign.some((c) => c.type === 'PodScheduled')) conditions.push(condition(state, 'PodScheduled', 'True', nowMs));
  conditions.push(...foreign);

  const status: PodStatusOut = {
    phase,
    conditions,
    hostIP: state.hostIp,
    hostIPs: [{ ip: state.hostIp }],
    qosClass: options.qosClass,
    containerStatuses: state.containers.map(composeContainerStatus),
  };
  if (state.podIp) {
    status.podIP = state.podIp;
    status.podIPs = (state.podIps ?? [state.podIp]).map((ip) => ({ ip }));
  }
  if (state.startTimeMs !== undefined) status.startTime = rfc3339(state.startTimeMs);
  if (state.failure) {
    status.reason = state.failure.reason;
    status.message = state.failure.message;
  }
  if (state.initContainers.length > 0) status.initContainerStatuses = state.initContainers.map(composeContainerStatus);
  // Ephemeral containers take no part in readiness: the kubelet reports them never ready.
  if (state.ephemeralContainers?.length) status.ephemeralContainerStatuses = state.ephemeralContainers.map((c) => ({ ...composeContainerStatus(c), ready: false }));
  return status;
}
