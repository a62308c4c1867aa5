// The text exposition of a prom-client registry, byte for byte what `registry.metrics()` writes, with less garbage:
// prom-client's histogram export builds an object per bucket per label set (with the labels copied into each) and its
// formatter an array per sample before joining; with kube-apiserver's 24 latency buckets and a few dozen label sets
// that was most of the 1.5 MB a /metrics request allocated for an 80 KB text. Here each label set's labels are
// formatted once and every line is appended to one string. Histograms are read from their per-label-set state
// (prom-client 15's `hashMap`: labels, cumulative-per-bound counts, sum, count); every other metric through its
// public `get()`, which also runs its collect function.
import { Histogram, type Registry } from 'prom-client';

interface HistogramEntry {
  labels: Record<string, string | number>;
  bucketValues: Record<string, number>;
  sum: number;
  count: number;
}

interface HistogramInternals {
  hashMap: Record<string, HistogramEntry>;
  upperBounds: number[];
  collect?: () => unknown;
}

interface SampleValue {
  value: number;
  labels?: Record<string, string | number>;
  metricName?: string;
  sharedLabels?: Record<string, string | number>;
}

const escapeString = (text: string): string => text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');

function escapeLabelValue(value: string | number): string {
  return typeof value === 'string' ? escapeString(value).replace(/"/g, '\\"') : String(value);
}

/** prom-client's getValueAsString ("Nan" is its spelling). */
function valueText(value: number): string {
  if (Number.isNaN(value)) return 'Nan';
  if (!Number.isFinite(value)) return value < 0 ? '-Inf' : '+Inf';
  return `${value}`;
}

function formatLabels(labels: Record<string, string | number> | undefined, exclude?: Record<string, unknown>): string {
  let text = '';
  if (!labels) return text;
  for (const name in labels) {
    if (!Object.prototype.hasOwnProperty.call(labels, name)) continue;
    if (exclude && Object.prototype.hasOwnProperty.call(exclude, name)) continue;
    text += `${text ? ',' : ''}${name}="${escapeLabelValue(labels[name])}"`;
  }
  return text;
}

function histogramText(name: string, state: HistogramInternals): string {
  let text = '';
  for (const hash in state.hashMap) {
    const entry = state.hashMap[hash];
    const shared = formatLabels(entry.labels);
    const rest = shared ? `,${shared}` : '';
    let cumulative = 0;
    for (const bound of state.upperBounds) {
      cumulative += entry.bucketValues[bound];
      text += `\n${name}_bucket{le="${bound}"${rest}} ${valueText(cumulative)}`;
    }
    text += `\n${name}_bucket{le="+Inf"${rest}} ${valueText(entry.count)}`;
    const braces = shared ? `{${shared}}` : '';
    text += `\n${name}_sum${braces} ${valueText(entry.sum)}\n${name}_count${braces} ${valueText(entry.count)}`;
  }
  return text;
}

function samplesText(name: string, values: SampleValue[]): string {
  let text = '';
  for (const sample of values) {
    const own = formatLabels(sample.labels, sample.sharedLabels);
    const shared = formatLabels(sample.sharedLabels);
    const labels = own && shared ? `${own},${shared}` : own || shared;
    text += `\n${sample.metricName ?? name}${labels ? `{${labels}}` : ''} ${valueText(sample.value)}`;
  }
  return text;
}

/** What `registry.metrics()` returns (Prometheus text format 0.0.4; registries without default labels). */
export async function renderRegistry(registry: Registry): Promise<string> {
  let text = '';
  for (const metric of registry.getMetricsAsArray()) {
    let name: string;
    let help: string;
    let type: string;
    let body: string;
    if (metric instanceof Histogram) {
      const state = metric as unknown as HistogramInternals;
      if (state.collect) await state.collect();
      ({ name, help, type } = metric as unknown as { name: string; help: string; type: string });
      body = histogramText(escapeString(name), state);
    } else {
      const data = await (metric as unknown as { get(): Promise<{ name: string; help: string; type: string; values: SampleValue[] }> }).get();
      ({ name, help, type } = data);
      body = samplesText(escapeString(name), data.values);
    }
    text += `${text ? '\n\n' : ''}# HELP ${escapeString(name)} ${escapeString(help)}\n# TYPE ${escapeString(name)} ${type}${body}`;
  }
  return `${text}\n`;
}
