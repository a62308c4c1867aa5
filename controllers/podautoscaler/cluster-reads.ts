// What the horizontal pod autoscaler reads and writes through the API: the target's scale subresource (the
// resource found by discovery from scaleTargetRef's apiVersion and kind, as upstream's RESTMapper does), pod
// metrics from metrics.k8s.io (what metrics-server serves and `kubectl top` reads; getPodMetrics sums the
// containers, in thousandths), and the pods the scale's selector picks. Errors carry client-go's texts: the
// Status message of a failed request.

import { ApiStatusError, type JsonApiClient } from '../../clients/json-api-client.ts';
import { quantityMilliValue } from '../../scheduler/quantity.ts';
import type { PodForScaling, PodMetric } from './replica-calculator.ts';

type Json = Record<string, unknown>;

export interface Scale {
  apiVersion?: string;
  kind?: string;
  metadata: Json;
  spec: { replicas?: number };
  status: { replicas?: number; selector?: string };
}

export interface ScaleTarget {
  /** The collection path of the target's kind, namespace included. */
  path: string;
  /** `deployments.apps`, for messages. */
  groupResource: string;
}

/** client-go prints a failed request as its Status message. */
export function statusMessage(err: unknown): string {
  if (err instanceof ApiStatusError) {
    try {
      const status = JSON.parse(err.body) as { message?: unknown };
      if (typeof status.message === 'string') return status.message;
    } catch {
      // not a Status body
    }
    return err.body || err.message;
  }
  return err instanceof Error ? err.message : String(err);
}

function asObject(value: unknown): Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? value as Json : {};
}

function timestamp(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

/** metav1.Duration text from metrics-server (`15s`, `1m0s`, `20.5s`) in milliseconds. */
function durationMs(value: unknown): number {
  if (typeof value !== 'string') return 0;
  let total = 0;
  for (const [, amount, unit] of value.matchAll(/([\d.]+)(h|ms|m|s)/g)) {
    total += Number(amount) * { h: 3_600_000, m: 60_000, s: 1000, ms: 1 }[unit as 'h' | 'm' | 's' | 'ms'];
  }
  return total;
}

export class ClusterReads {
  /** `group/version` → kind → resource with a scale subresource (discovery, cached until a miss). */
  private readonly scalable = new Map<string, Map<string, string>>();

  constructor(private readonly client: JsonApiClient) {}

  private async discover(apiVersion: string): Promise<Map<string, string>> {
    const cached = this.scalable.get(apiVersion);
    if (cached) return cached;
    const path = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    const list = await this.client.request<{ resources?: { name: string; kind: string }[] }>('GET', path);
    const resources = list.resources ?? [];
    const withScale = new Set(resources.filter((r) => r.name.endsWith('/scale')).map((r) => r.name.slice(0, -'/scale'.length)));
    const byKind = new Map<string, string>();
    for (const resource of resources) if (!resource.name.includes('/') && withScale.has(resource.name)) byKind.set(resource.kind, resource.name);
    this.scalable.set(apiVersion, byKind);
    return byKind;
  }

  /** RESTMappings for the reference's group and kind; throws upstream's NoKindMatchError text. */
  async scaleTarget(namespace: string, apiVersion: string, kind: string): Promise<ScaleTarget> {
    const group = apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '';
    const noMatch = new Error(`no matches for kind "${kind}" in group "${group}"`);
    let byKind: Map<string, string>;
    try {
      byKind = await this.discover(apiVersion);
    } catch (err) {
      if (err instanceof ApiStatusError && err.code === 404) throw noMatch;
      throw err;
    }
    let resource = byKind.get(kind);
    if (resource === undefined) {
      this.scalable.delete(apiVersion);
      resource = (await this.discover(apiVersion)).get(kind);
      if (resource === undefined) throw noMatch;
    }
    const prefix = group ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    return { path: `${prefix}/namespaces/${encodeURIComponent(namespace)}/${resource}`, groupResource: group ? `${resource}.${group}` : resource };
  }

  async getScale(target: ScaleTarget, name: string): Promise<Scale> {
    return this.client.request<Scale>('GET', `${target.path}/${encodeURIComponent(name)}/scale`);
  }

  async updateScale(target: ScaleTarget, name: string, scale: Scale): Promise<Scale> {
    return this.client.request<Scale>('PUT', `${target.path}/${encodeURIComponent(name)}/scale`, scale);
  }

  /**
   * resourceMetricsClient.GetResourceMetric: per pod, the sum of its containers' usage of `resource` (or the one
   * named container's), and the timestamp of the first item.
   */
  async podMetrics(namespace: string, selector: string, resource: string, container: string): Promise<{ metrics: Map<string, PodMetric>; timestampMs: number }> {
    let list: { items?: Json[] };
    try {
      list = await this.client.request('GET', `/apis/metrics.k8s.io/v1beta1/namespaces/${encodeURIComponent(namespace)}/pods?labelSelector=${encodeURIComponent(selector)}`);
    } catch (err) {
      throw new Error(`unable to fetch metrics from resource metrics API: ${statusMessage(err)}`);
    }
    const items = list.items ?? [];
    if (items.length === 0) throw new Error('no metrics returned from resource metrics API');
    const metrics = new Map<string, PodMetric>();
    for (const item of items) {
      const name = String(asObject(item.metadata).name ?? '');
      const containers = Array.isArray(item.containers) ? item.containers.map(asObject) : [];
      const timestampMs = timestamp(item.timestamp) ?? 0;
      const windowMs = durationMs(item.window);
      if (container !== '') {
        const match = containers.find((c) => c.name === container);
        if (!match) throw new Error(`failed to get container metrics: container ${container} not present in metrics for pod ${String(asObject(item.metadata).namespace)}/${name}`);
        const usage = asObject(match.usage)[resource];
        if (usage !== undefined) metrics.set(name, { timestampMs, windowMs, value: quantityMilliValue(String(usage)) });
        continue;
      }
      let sum = 0;
      let missing = containers.length === 0;
      for (const c of containers) {
        const usage = asObject(c.usage)[resource];
        if (usage === undefined) {
          missing = true;
          break;
        }
        sum += quantityMilliValue(String(usage));
      }
      if (!missing) metrics.set(name, { timestampMs, windowMs, value: sum });
    }
    return { metrics, timestampMs: timestamp(items[0].timestamp) ?? 0 };
  }

  /** The pods the selector picks, as the calculator reads them. */
  async pods(namespace: string, selector: string): Promise<PodForScaling[]> {
    let list: { items?: Json[] };
    try {
      list = await this.client.request('GET', `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods?labelSelector=${encodeURIComponent(selector)}&resourceVersion=0`);
    } catch (err) {
      throw new Error(`unable to get pods while calculating replica count: ${statusMessage(err)}`);
    }
    return (list.items ?? []).map((pod) => {
      const metadata = asObject(pod.metadata);
      const spec = asObject(pod.spec);
      const status = asObject(pod.status);
      const ready = (Array.isArray(status.conditions) ? status.conditions.map(asObject) : []).find((c) => c.type === 'Ready');
      const sidecars = (Array.isArray(spec.initContainers) ? spec.initContainers.map(asObject) : []).filter((c) => c.restartPolicy === 'Always');
      const containers = [...(Array.isArray(spec.containers) ? spec.containers.map(asObject) : []), ...sidecars];
      return {
        name: String(metadata.name ?? ''),
        phase: typeof status.phase === 'string' ? status.phase : 'Pending',
        deleting: metadata.deletionTimestamp !== undefined && metadata.deletionTimestamp !== null,
        ready: ready ? { status: String(ready.status ?? ''), lastTransitionMs: timestamp(ready.lastTransitionTime) ?? 0 } : undefined,
        startTimeMs: timestamp(status.startTime),
        containers: containers.map((c) => ({
          name: String(c.name ?? ''),
          requests: Object.fromEntries(Object.entries(asObject(asObject(c.resources).requests)).map(([k, v]) => [k, String(v)])),
        })),
      };
    });
  }
}
