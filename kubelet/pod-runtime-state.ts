// What the simulated runtime knows about one pod: the kubelet's in-memory truth that pod status is composed from.

export interface TerminatedState {
  exitCode: number;
  reason: string;
  startedAtMs: number;
  finishedAtMs: number;
  containerId: string;
}

export type ContainerState =
  | { kind: 'waiting'; reason: string; message?: string }
  | { kind: 'running'; startedAtMs: number }
  | { kind: 'terminated'; terminated: TerminatedState };

export interface ContainerRuntimeState {
  name: string;
  /** The image as the spec names it. */
  image: string;
  /** A regular init container (sidecars with restartPolicy Always count as long-running). */
  isInit: boolean;
  isSidecar: boolean;
  restartCount: number;
  state: ContainerState;
  lastTerminated?: TerminatedState;
  /** ID of the current (or last) container instance; absent before the first create. */
  containerId?: string;
  /** Once the image is on the node the status reports its normalised name and digest. */
  imageResolved: boolean;
  /** The service variables the instance was created with (kubelet/service-environment.ts), fixed at its start. */
  serviceEnv?: ReadonlyMap<string, string>;
  /** With a readiness probe: its current result (false until it has succeeded). Absent: ready once running. */
  probeReady?: boolean;
  /** With a startup probe: whether it has succeeded in this instance. Absent: started once running. */
  probeStarted?: boolean;
}

export interface ConditionRecord {
  status: string;
  reason?: string;
  message?: string;
  lastTransitionMs: number;
}

export interface PodRuntimeState {
  uid: string;
  name: string;
  namespace: string;
  restartPolicy: string;
  hostIp: string;
  podIp?: string;
  /** status.podIPs: podIp, then its IPv6 sibling in a dual-stack cluster. */
  podIps?: string[];
  startTimeMs?: number;
  sandboxReady: boolean;
  initContainers: ContainerRuntimeState[];
  containers: ContainerRuntimeState[];
  /** Ephemeral containers added with pods/ephemeralcontainers (kubectl debug); they never restart. */
  ephemeralContainers?: ContainerRuntimeState[];
  /** Set once the pod is being torn down or has finished for good: the phase is computed as terminal. */
  terminal: boolean;
  /** Set when the kubelet itself failed the pod (activeDeadlineSeconds): phase Failed with this reason. */
  failure?: { reason: string; message: string };
  /** Last condition values written, to keep lastTransitionTime stable. */
  conditions: Map<string, ConditionRecord>;
}

export function waitingState(reason: string, message?: string): ContainerState {
  return message === undefined ? { kind: 'waiting', reason } : { kind: 'waiting', reason, message };
}

/** The reason a terminated container shows: Completed for 0, Error otherwise (OOMKilled is not simulated). */
export function terminationReason(exitCode: number): string {
  return exitCode === 0 ? 'Completed' : 'Error';
}
