// One node's kubelet metrics, served at GET /metrics of its endpoint (and through the API server's node proxy,
// /api/v1/nodes/<node>/proxy/metrics) in Prometheus text format with pkg/kubelet/metrics' names, labels, help
// texts and buckets: kubelet_node_name{node}, kubelet_running_pods, kubelet_running_containers{container_state},
// kubelet_pod_start_duration_seconds (histogram), kubelet_started_pods_total and
// kubelet_started_containers_total{container_type}. Counts are plain numbers per node rendered at scrape time: a
// prom-client registry per node would cost kilobytes per node in processes that simulate thousands.

import type { PodRuntimeState } from './pod-runtime-state.ts';

/** podStartDurationBuckets (pkg/kubelet/metrics/metrics.go). */
export const POD_START_DURATION_BUCKETS = [0.5, 1, 2, 3, 4, 5, 6, 8, 10, 20, 30, 45, 60, 120, 180, 240, 300, 360, 480, 600, 900, 1200, 1800, 2700, 3600];

const escapeLabel = (value: string): string => value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

export class NodeMetrics {
  private readonly buckets = new Array<number>(POD_START_DURATION_BUCKETS.length).fill(0);
  private durationSum = 0;
  private durationCount = 0;
  private startedPods = 0;
  private startedContainers = 0;
  private startedInitContainers = 0;
  /** When this node first saw each pod (uid), until it starts running. */
  private readonly firstSeen = new Map<string, number>();

  constructor(private readonly nodeName: string) {}

  podSeen(uid: string, atMs = Date.now()): void {
    if (!this.firstSeen.has(uid)) this.firstSeen.set(uid, atMs);
  }

  podForgotten(uid: string): void {
    this.firstSeen.delete(uid);
  }

  /** The pod's status went Running for the first time: observe how long that took since the node first saw it. */
  podRunning(uid: string, atMs = Date.now()): void {
    const seen = this.firstSeen.get(uid);
    if (seen === undefined) return;
    this.firstSeen.delete(uid);
    const seconds = (atMs - seen) / 1000;
    POD_START_DURATION_BUCKETS.forEach((bound, i) => { if (seconds <= bound) this.buckets[i]++; });
    this.durationSum += seconds;
    this.durationCount++;
    this.startedPods++;
  }

  containerStarted(init: boolean): void {
    if (init) this.startedInitContainers++;
    else this.startedContainers++;
  }

  /** The text exposition of this node's metrics, given the pods it runs now. */
  render(pods: Iterable<Readonly<PodRuntimeState>>): string {
    let runningPods = 0;
    const states = { created: 0, exited: 0, running: 0, unknown: 0 };
    for (const pod of pods) {
      if (pod.sandboxReady && !pod.terminal) runningPods++;
      for (const container of [...pod.initContainers, ...pod.containers, ...(pod.ephemeralContainers ?? [])]) {
        if (container.state.kind === 'running') states.running++;
        else if (container.state.kind === 'terminated' || container.lastTerminated) states.exited++;
        else if (container.containerId) states.created++;
      }
    }
    const lines = [
      '# HELP kubelet_node_name [ALPHA] The node\'s name. The count is always 1.',
      '# TYPE kubelet_node_name gauge',
      `kubelet_node_name{node="${escapeLabel(this.nodeName)}"} 1`,
      '# HELP kubelet_pod_start_duration_seconds [ALPHA] Duration in seconds from kubelet seeing a pod for the first time to the pod starting to run',
      '# TYPE kubelet_pod_start_duration_seconds histogram',
      ...POD_START_DURATION_BUCKETS.map((bound, i) => `kubelet_pod_start_duration_seconds_bucket{le="${bound}"} ${this.buckets[i]}`),
      `kubelet_pod_start_duration_seconds_bucket{le="+Inf"} ${this.durationCount}`,
      `kubelet_pod_start_duration_seconds_sum ${this.durationSum}`,
      `kubelet_pod_start_duration_seconds_count ${this.durationCount}`,
      '# HELP kubelet_running_containers [ALPHA] Number of containers currently running',
      '# TYPE kubelet_running_containers gauge',
      ...Object.entries(states).map(([state, count]) => `kubelet_running_containers{container_state="${state}"} ${count}`),
      '# HELP kubelet_running_pods [ALPHA] Number of pods that have a running pod sandbox',
      '# TYPE kubelet_running_pods gauge',
      `kubelet_running_pods ${runningPods}`,
      '# HELP kubelet_started_containers_total [ALPHA] Cumulative number of containers started',
      '# TYPE kubelet_started_containers_total counter',
      `kubelet_started_containers_total{container_type="container"} ${this.startedContainers}`,
      `kubelet_started_containers_total{container_type="init_container"} ${this.startedInitContainers}`,
      '# HELP kubelet_started_pods_total [ALPHA] Cumulative number of pods started',
      '# TYPE kubelet_started_pods_total counter',
      `kubelet_started_pods_total ${this.startedPods}`,
    ];
    return `${lines.join('\n')}\n`;
  }
}
