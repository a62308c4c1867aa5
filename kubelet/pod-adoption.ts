// Picks up a pod this node already ran before the kubelet process restarted, from the status it last wrote, so a
// restart neither re-runs finished pods nor replays a running pod's start-up events.
import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import type { PodIpAllocator } from './node-addressing.ts';
import type { ContainerRuntimeState, PodRuntimeState } from './pod-runtime-state.ts';

export type Adoption = 'fresh' | 'running' | 'terminal';

function timeMs(value: unknown): number | undefined {
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'string') {
    const parsed = Date.parse(value);
    return Number.isNaN(parsed) ? undefined : parsed;
  }
  return undefined;
}

function adoptContainer(runtime: ContainerRuntimeState, status: V1ContainerStatus | undefined): boolean {
  if (!status) return false;
  runtime.restartCount = status.restartCount ?? 0;
  runtime.containerId = status.containerID;
  runtime.imageResolved = Boolean(status.imageID);
  const terminated = status.state?.terminated;
  const running = status.state?.running;
  if (running) {
    runtime.state = { kind: 'running', startedAtMs: timeMs(running.startedAt) ?? Date.now() };
    return true;
  }
  if (terminated) {
    runtime.state = { kind: 'terminated', terminated: {
      exitCode: terminated.exitCode, reason: terminated.reason ?? '', containerId: terminated.containerID ?? '',
      startedAtMs: timeMs(terminated.startedAt) ?? Date.now(), finishedAtMs: timeMs(terminated.finishedAt) ?? Date.now(),
    } };
    return true;
  }
  return false;
}

export function adoptRuntimeState(pod: V1Pod, state: PodRuntimeState, ips: PodIpAllocator): Adoption {
  const status = pod.status;
  const phase = status?.phase;
  if (!status?.startTime || (phase !== 'Running' && phase !== 'Succeeded' && phase !== 'Failed')) return 'fresh';
  const byName = new Map([...(status.initContainerStatuses ?? []), ...(status.containerStatuses ?? [])].map((s) => [s.name, s]));
  const all = [...state.initContainers, ...state.containers];
  const adopted = all.map((runtime) => adoptContainer(runtime, byName.get(runtime.name)));
  const terminal = phase === 'Succeeded' || phase === 'Failed';
  const resumable = state.containers.every((runtime) => runtime.state.kind === 'running') && adopted.every(Boolean);
  if (!terminal && !resumable) {
    for (const runtime of all) {
      runtime.state = { kind: 'waiting', reason: 'ContainerCreating' };
      runtime.restartCount = 0;
      runtime.containerId = undefined;
      runtime.imageResolved = false;
    }
    return 'fresh';
  }
  state.startTimeMs = timeMs(status.startTime);
  state.podIp = status.podIP;
  state.podIps = status.podIPs?.map((entry) => entry.ip);
  if (status.podIP) ips.adopt(state.uid, status.podIP);
  state.sandboxReady = !terminal;
  state.terminal = terminal;
  for (const condition of status.conditions ?? []) {
    const since = timeMs(condition.lastTransitionTime);
    if (since !== undefined) state.conditions.set(condition.type, { status: condition.status, lastTransitionMs: since });
  }
  return terminal ? 'terminal' : 'running';
}
