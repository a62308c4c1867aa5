// GET /metrics/resource: the kubelet's resource metrics collector (pkg/kubelet/metrics/collectors/resource_metrics.go)
// over the node's statistics (resource-stats.ts), in the text format client_golang writes: families sorted by name,
// samples by label values, labels by name, values as Go's strconv 'g' (1.6243962483020916e+09), and on every CPU and
// memory sample the millisecond timestamp of its statistics (NewLazyMetricWithTimestamp). Names, help texts and
// stability levels are a 1.32 kubelet's: `scrape_error` was deprecated in 1.29 in favour of `resource_scrape_error`
// and is hidden from 1.30 on (component-base hides metrics deprecated before the previous minor release), so only
// the latter is written, unless the kubelet runs with --show-hidden-metrics-for-version=1.31 (the only value
// component-base accepts: the previous minor release), which brings it back marked deprecated. Swap and Windows commit metrics are left out as a kubelet leaves them out when its
// statistics have none.
import type { CpuSample, MemorySample, SummarySample } from './resource-stats.ts';
import { KUBELET_VERSION } from './node-object.ts';

/**
 * component-base's check of --show-hidden-metrics-for-version: empty, or the release before the kubelet's.
 * Returns whether hidden metrics are shown; throws with upstream's message otherwise.
 */
export function showHiddenMetrics(version: string | undefined): boolean {
  if (!version) return false;
  const [major, minor] = KUBELET_VERSION.replace(/^v/, '').split('.').map(Number);
  const previous = `${major}.${minor - 1}`;
  if (version !== previous) {
    throw new Error(`--show-hidden-metrics-for-version must be omitted or have the value '${previous}'. Only the previous minor version is allowed`);
  }
  return true;
}

interface Sample {
  labels: [string, string][];
  value: number;
  timestampMs?: number;
}

interface Family {
  name: string;
  help: string;
  type: 'counter' | 'gauge';
  samples: Sample[];
}

/** strconv.FormatFloat(v, 'g', -1, 64), as client_golang's text encoder writes sample values. */
export function goFloat(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  if (value === 0) return Object.is(value, -0) ? '-0' : '0';
  const [mantissa, exponentText] = value.toExponential().split('e');
  const exponent = Number(exponentText);
  // With the shortest precision Go switches to %e from an exponent of 6 (or below -4); %e's exponent has 2+ digits.
  if (exponent < -4 || exponent >= 6) return `${mantissa}e${exponent < 0 ? '-' : '+'}${String(Math.abs(exponent)).padStart(2, '0')}`;
  return String(value);
}

const escapeLabel = (value: string): string => value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

function cpuSeconds(cpu: CpuSample): number {
  return cpu.usageCoreNanoSeconds / 1e9;
}

function memoryBytes(memory: MemorySample): number {
  return memory.workingSetBytes;
}

/** The text exposition of /metrics/resource for one node's statistics. */
export function renderResourceMetrics(stats: SummarySample, options: { showHidden?: boolean } = {}): string {
  const families: Family[] = [
    { name: 'container_cpu_usage_seconds_total', help: '[STABLE] Cumulative cpu time consumed by the container in core-seconds', type: 'counter', samples: [] },
    { name: 'container_memory_working_set_bytes', help: '[STABLE] Current working set of the container in bytes', type: 'gauge', samples: [] },
    { name: 'container_start_time_seconds', help: '[STABLE] Start time of the container since unix epoch in seconds', type: 'gauge', samples: [] },
    { name: 'node_cpu_usage_seconds_total', help: '[STABLE] Cumulative cpu time consumed by the node in core-seconds', type: 'counter', samples: [] },
    { name: 'node_memory_working_set_bytes', help: '[STABLE] Current working set of the node in bytes', type: 'gauge', samples: [] },
    { name: 'pod_cpu_usage_seconds_total', help: '[STABLE] Cumulative cpu time consumed by the pod in core-seconds', type: 'counter', samples: [] },
    { name: 'pod_memory_working_set_bytes', help: '[STABLE] Current working set of the pod in bytes', type: 'gauge', samples: [] },
    { name: 'resource_scrape_error', help: '[STABLE] 1 if there was an error while getting container metrics, 0 otherwise', type: 'gauge', samples: [] },
    { name: 'scrape_error', help: '[ALPHA] (Deprecated since 1.29.0) 1 if there was an error while getting container metrics, 0 otherwise', type: 'gauge', samples: [] },
  ];
  const [containerCpu, containerMemory, containerStart, nodeCpu, nodeMemory, podCpu, podMemory, scrapeError, deprecatedScrapeError] = families;
  const { node } = stats;
  nodeCpu.samples.push({ labels: [], value: cpuSeconds(node.cpu), timestampMs: node.cpu.timeMs });
  nodeMemory.samples.push({ labels: [], value: memoryBytes(node.memory), timestampMs: node.memory.timeMs });
  for (const pod of stats.pods) {
    const { name: podName, namespace } = pod.podRef;
    for (const container of pod.containers) {
      const labels: [string, string][] = [['container', container.name], ['namespace', namespace], ['pod', podName]];
      if (container.startTimeMs > 0) containerStart.samples.push({ labels, value: container.startTimeMs / 1000 });
      containerCpu.samples.push({ labels, value: cpuSeconds(container.cpu), timestampMs: container.cpu.timeMs });
      containerMemory.samples.push({ labels, value: memoryBytes(container.memory), timestampMs: container.memory.timeMs });
    }
    const labels: [string, string][] = [['namespace', namespace], ['pod', podName]];
    podCpu.samples.push({ labels, value: cpuSeconds(pod.cpu), timestampMs: pod.cpu.timeMs });
    podMemory.samples.push({ labels, value: memoryBytes(pod.memory), timestampMs: pod.memory.timeMs });
  }
  scrapeError.samples.push({ labels: [], value: 0 });
  if (options.showHidden) deprecatedScrapeError.samples.push({ labels: [], value: 0 });
  const lines: string[] = [];
  for (const family of families) {
    if (family.samples.length === 0) continue;
    lines.push(`# HELP ${family.name} ${family.help}`, `# TYPE ${family.name} ${family.type}`);
    family.samples.sort(compareLabels);
    for (const sample of family.samples) {
      const labels = sample.labels.length === 0 ? '' : `{${sample.labels.map(([key, value]) => `${key}="${escapeLabel(value)}"`).join(',')}}`;
      lines.push(`${family.name}${labels} ${goFloat(sample.value)}${sample.timestampMs === undefined ? '' : ` ${Math.floor(sample.timestampMs)}`}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** client_golang's order: by label values, label by label (the labels are already sorted by name). */
function compareLabels(a: Sample, b: Sample): number {
  for (let i = 0; i < a.labels.length; i++) {
    const left = a.labels[i][1];
    const right = b.labels[i]?.[1] ?? '';
    if (left !== right) return left < right ? -1 : 1;
  }
  return 0;
}
