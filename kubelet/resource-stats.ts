// One node's CPU and memory statistics, as the kubelet's summary provider composes them from cAdvisor (the Summary of
// k8s.io/kubelet/pkg/apis/stats/v1alpha1): the node, each running pod and each of its running containers. Both
// GET /stats/summary (the Summary JSON) and GET /metrics/resource (resource-metrics.ts) are rendered from it.
//
// The values are the simulated runtime's (simulated-usage.ts), the model metrics.k8s.io serves, so `kubectl top` and
// these agree: memory is the current 15 s window's working set; CPU "usageNanoCores" the window's rate and
// "usageCoreNanoSeconds" a cumulative counter. Counters only grow: each container instance keeps its own, advanced at
// every read by the integral of its usage since the previous read (from its start at the first); when an instance
// goes away (restart, pod deleted) what it counted moves to its pod's, or the node's, total, as a pod cgroup keeps its
// exited containers' CPU time and the root cgroup everything's. The node adds a system reserve from its start.
import {
  CPU_USAGE_ANNOTATION, MEMORY_USAGE_ANNOTATION, SYSTEM_RESERVE, containerUsage, cpuSecondsBetween, parseUsageAnnotation,
  windowStart, type ContainerLike,
} from './simulated-usage.ts';
import { parseQuantity } from './quantity.ts';

/** A running container instance, as the pod worker knows it. */
export interface ContainerUsageInput extends ContainerLike {
  /** The instance (a restart is a new one, with a counter from zero). */
  containerId: string;
  startedAtMs: number;
}

/** What the statistics read of one pod: its running regular containers and its usage annotations. */
export interface PodUsageInput {
  uid: string;
  name: string;
  namespace: string;
  startTimeMs?: number;
  containers: ContainerUsageInput[];
  annotations: { [CPU_USAGE_ANNOTATION]?: string; [MEMORY_USAGE_ANNOTATION]?: string };
}

export interface CpuSample {
  timeMs: number;
  usageNanoCores: number;
  usageCoreNanoSeconds: number;
}

export interface MemorySample {
  timeMs: number;
  workingSetBytes: number;
  /** The limit (a container's, the node's capacity) minus the working set; absent without a limit. */
  availableBytes?: number;
}

export interface ContainerSample {
  name: string;
  startTimeMs: number;
  cpu: CpuSample;
  memory: MemorySample;
}

export interface PodSample {
  podRef: { name: string; namespace: string; uid: string };
  startTimeMs: number;
  containers: ContainerSample[];
  cpu: CpuSample;
  memory: MemorySample;
}

export interface NodeSample {
  nodeName: string;
  startTimeMs: number;
  cpu: CpuSample;
  memory: MemorySample;
  /** The "pods" system container: every pod together. */
  pods: { cpu: CpuSample; memory: MemorySample };
}

export interface SummarySample {
  node: NodeSample;
  pods: PodSample[];
}

interface CpuCounter {
  podUid: string;
  lastMs: number;
  seconds: number;
}

/** A usage annotation's value for one container; an annotation that does not parse is ignored (the API server warns). */
function override(annotation: string | undefined, container: string): number | undefined {
  try {
    const parsed = parseUsageAnnotation(annotation);
    return parsed.byContainer.get(container) ?? parsed.all;
  } catch {
    return undefined;
  }
}

export class ResourceStats {
  /** Cumulative CPU per running container instance (containerId). */
  private readonly counters = new Map<string, CpuCounter>();
  /** CPU seconds of a pod's instances that are gone, by pod UID. */
  private readonly podRetired = new Map<string, number>();
  /** CPU seconds of pods that are gone. */
  private nodeRetired = 0;

  constructor(private readonly nodeName: string, private readonly startMs: number, private readonly memoryCapacityBytes?: number) {}

  /** The node's statistics now, given the pods it runs. */
  sample(pods: Iterable<PodUsageInput>, nowMs = Date.now()): SummarySample {
    const window = windowStart(nowMs);
    const running = [...pods];
    // Instances gone since the last read hand over their count first, so that totals never dip.
    this.retire(new Set(running.flatMap((pod) => pod.containers.map((c) => c.containerId))), new Set(running.map((pod) => pod.uid)));
    const podSamples: PodSample[] = [];
    for (const pod of running) {
      const containers: ContainerSample[] = [];
      for (const container of pod.containers) {
        const cpuOverride = override(pod.annotations[CPU_USAGE_ANNOTATION], container.name);
        const memoryOverride = override(pod.annotations[MEMORY_USAGE_ANNOTATION], container.name);
        const counter = this.counters.get(container.containerId) ?? { podUid: pod.uid, lastMs: container.startedAtMs, seconds: 0 };
        if (nowMs > counter.lastMs) {
          counter.seconds += cpuSecondsBetween(pod.uid, container, counter.lastMs, nowMs, cpuOverride);
          counter.lastMs = nowMs;
        }
        this.counters.set(container.containerId, counter);
        const usage = containerUsage(pod.uid, container, window, { cpu: cpuOverride, memory: memoryOverride });
        const memoryLimit = container.resources?.limits?.memory;
        const limitBytes = memoryLimit === undefined ? undefined : quantityBytes(memoryLimit);
        containers.push({
          name: container.name,
          startTimeMs: container.startedAtMs,
          cpu: cpuSample(nowMs, usage.cpuCores, counter.seconds),
          memory: memorySample(nowMs, usage.memoryBytes, limitBytes),
        });
      }
      const cpuCores = sum(containers, (c) => c.cpu.usageNanoCores) / 1e9;
      const cpuSeconds = (this.podRetired.get(pod.uid) ?? 0) + sum(containers, (c) => c.cpu.usageCoreNanoSeconds) / 1e9;
      podSamples.push({
        podRef: { name: pod.name, namespace: pod.namespace, uid: pod.uid },
        startTimeMs: pod.startTimeMs ?? nowMs,
        containers,
        cpu: cpuSample(nowMs, cpuCores, cpuSeconds),
        memory: memorySample(nowMs, sum(containers, (c) => c.memory.workingSetBytes)),
      });
    }
    const podsCores = sum(podSamples, (p) => p.cpu.usageNanoCores) / 1e9;
    const podsSeconds = this.nodeRetired + sum(podSamples, (p) => p.cpu.usageCoreNanoSeconds) / 1e9;
    const podsBytes = sum(podSamples, (p) => p.memory.workingSetBytes);
    const reserveSeconds = (SYSTEM_RESERVE.cpuCores * Math.max(0, nowMs - this.startMs)) / 1000;
    return {
      node: {
        nodeName: this.nodeName,
        startTimeMs: this.startMs,
        cpu: cpuSample(nowMs, podsCores + SYSTEM_RESERVE.cpuCores, podsSeconds + reserveSeconds),
        memory: memorySample(nowMs, podsBytes + SYSTEM_RESERVE.memoryBytes, this.memoryCapacityBytes),
        pods: { cpu: cpuSample(nowMs, podsCores, podsSeconds), memory: memorySample(nowMs, podsBytes) },
      },
      pods: podSamples,
    };
  }

  /** Instances not running any more hand their count to their pod; pods gone hand theirs to the node. */
  private retire(seenContainers: Set<string>, seenPods: Set<string>): void {
    for (const [id, counter] of this.counters) {
      if (seenContainers.has(id)) continue;
      this.counters.delete(id);
      if (seenPods.has(counter.podUid)) this.podRetired.set(counter.podUid, (this.podRetired.get(counter.podUid) ?? 0) + counter.seconds);
      else this.nodeRetired += counter.seconds;
    }
    for (const [uid, seconds] of this.podRetired) {
      if (seenPods.has(uid)) continue;
      this.podRetired.delete(uid);
      this.nodeRetired += seconds;
    }
  }
}

function sum<T>(items: T[], value: (item: T) => number): number {
  let total = 0;
  for (const item of items) total += value(item);
  return total;
}

function cpuSample(timeMs: number, cores: number, seconds: number): CpuSample {
  return { timeMs, usageNanoCores: Math.round(cores * 1e9), usageCoreNanoSeconds: Math.round(seconds * 1e9) };
}

function memorySample(timeMs: number, bytes: number, limitBytes?: number): MemorySample {
  const workingSetBytes = Math.round(bytes);
  return limitBytes === undefined ? { timeMs, workingSetBytes } : { timeMs, workingSetBytes, availableBytes: Math.max(0, Math.round(limitBytes) - workingSetBytes) };
}

function quantityBytes(text: string): number | undefined {
  try {
    return parseQuantity(text);
  } catch {
    return undefined;
  }
}

/** metav1.Time in JSON: RFC 3339 to the second. */
function rfc3339(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

function cpuJson(cpu: CpuSample): object {
  return { time: rfc3339(cpu.timeMs), usageNanoCores: cpu.usageNanoCores, usageCoreNanoSeconds: cpu.usageCoreNanoSeconds };
}

/** The simulation has no page cache and no faults: usage and RSS are the working set. */
function memoryJson(memory: MemorySample): object {
  return {
    time: rfc3339(memory.timeMs),
    ...(memory.availableBytes === undefined ? {} : { availableBytes: memory.availableBytes }),
    usageBytes: memory.workingSetBytes, workingSetBytes: memory.workingSetBytes, rssBytes: memory.workingSetBytes,
    pageFaults: 0, majorPageFaults: 0,
  };
}

/** The Summary JSON of GET /stats/summary (statsapi.Summary field names and order). */
export function summaryJson(sample: SummarySample): object {
  const { node } = sample;
  return {
    node: {
      nodeName: node.nodeName,
      systemContainers: [{ name: 'pods', startTime: rfc3339(node.startTimeMs), cpu: cpuJson(node.pods.cpu), memory: memoryJson(node.pods.memory) }],
      startTime: rfc3339(node.startTimeMs),
      cpu: cpuJson(node.cpu),
      memory: memoryJson(node.memory),
    },
    pods: sample.pods.map((pod) => ({
      podRef: pod.podRef,
      startTime: rfc3339(pod.startTimeMs),
      containers: pod.containers.map((container) => ({
        name: container.name, startTime: rfc3339(container.startTimeMs), cpu: cpuJson(container.cpu), memory: memoryJson(container.memory),
      })),
      cpu: cpuJson(pod.cpu),
      memory: memoryJson(pod.memory),
    })),
  };
}
