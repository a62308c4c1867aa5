// The exact reasons and messages a 1.32 kubelet records (pkg/kubelet/events, kuberuntime, images, status).
import { formatGoDuration } from './go-duration.ts';

export interface PodIdentity {
  name: string;
  namespace: string;
  uid: string;
}

/** format.Pod: `name_namespace(uid)`. */
export function formatPod(pod: PodIdentity): string {
  return `${pod.name}_${pod.namespace}(${pod.uid})`;
}

export interface EventText {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

export const podEvents = {
  pulling: (image: string): EventText => ({ type: 'Normal', reason: 'Pulling', message: `Pulling image "${image}"` }),
  pulled: (image: string, pullMs: number, totalMs: number, sizeBytes: number): EventText => ({
    type: 'Normal',
    reason: 'Pulled',
    message: `Successfully pulled image "${image}" in ${formatGoDuration(pullMs)} (${formatGoDuration(totalMs)} including waiting). Image size: ${sizeBytes} bytes.`,
  }),
  alreadyPresent: (image: string): EventText => ({
    type: 'Normal', reason: 'Pulled', message: `Container image "${image}" already present on machine`,
  }),
  neverPull: (image: string): EventText => ({
    type: 'Warning', reason: 'ErrImageNeverPull', message: `Container image "${image}" is not present with pull policy of Never`,
  }),
  /** The kubelet's event when a container cannot be created (CreateContainerConfigError and the like). */
  failed: (message: string): EventText => ({ type: 'Warning', reason: 'Failed', message: `Error: ${message}` }),
  created: (container: string): EventText => ({ type: 'Normal', reason: 'Created', message: `Created container: ${container}` }),
  started: (container: string): EventText => ({ type: 'Normal', reason: 'Started', message: `Started container ${container}` }),
  killing: (container: string): EventText => ({ type: 'Normal', reason: 'Killing', message: `Stopping container ${container}` }),
  /** activeDeadlineHandler.ShouldEvict's event and the pod status it sets. */
  deadlineExceeded: (): EventText => ({ type: 'Normal', reason: 'DeadlineExceeded', message: 'Pod was active on the node longer than the specified deadline' }),
  backOff: (container: string, pod: PodIdentity): EventText => ({
    type: 'Warning', reason: 'BackOff', message: `Back-off restarting failed container ${container} in pod ${formatPod(pod)}`,
  }),
};

/** The waiting message of a container in CrashLoopBackOff. */
export function crashLoopMessage(backoffMs: number, container: string, pod: PodIdentity): string {
  return `back-off ${formatGoDuration(backoffMs)} restarting failed container=${container} pod=${formatPod(pod)}`;
}

export const nodeEvents = {
  starting: (): EventText => ({ type: 'Normal', reason: 'Starting', message: 'Starting kubelet.' }),
  statusIsNow: (node: string, reason: string): EventText => ({ type: 'Normal', reason, message: `Node ${node} status is now: ${reason}` }),
  allocatableEnforced: (): EventText => ({ type: 'Normal', reason: 'NodeAllocatableEnforced', message: 'Updated Node Allocatable limit across pods' }),
};
