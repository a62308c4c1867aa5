// metrics.k8s.io/v1beta1 NodeMetrics and PodMetrics, what `kubectl top nodes` and `kubectl top pods [--containers]`
// read. A real cluster serves them from metrics-server through the aggregation layer; here the API server answers
// them itself from the simulated usage (kubelet/simulated-usage.ts: the simulated runtime's model, which the
// kubelets' /metrics/resource and /stats/summary report too), listed in discovery like any group.
// Read-only (get, list; label selectors), authorised by RBAC as upstream (`get`/`list` on nodes or pods in
// metrics.k8s.io). A usage annotation that does not parse is ignored and reported once with a Warning event.
import { randomBytes } from 'node:crypto';
import type { Request, Response } from 'express';
import { methodNotAllowed, notFound, StatusError } from '../../api/errors.ts';
import type { KubeObject } from '../../api/object.ts';
import { listObjects } from '../../api/registry/list.ts';
import type { ApiRegistry } from '../../api/registry/registry.ts';
import { ADMIN_SYSTEM_USER } from '../../api/registry/system-user.ts';
import type { DiscoveryResource } from '../discovery.ts';
import type { ResourceRequestInfo } from '../request-info.ts';
import {
  CPU_USAGE_ANNOTATION, MEMORY_USAGE_ANNOTATION, SYSTEM_RESERVE, containerUsage, formatUsage, parseUsageAnnotation,
  windowStart, type ContainerLike, type Usage,
} from '../../kubelet/simulated-usage.ts';

export const METRICS_GROUP = 'metrics.k8s.io';
const VERSION = 'v1beta1';
const API_VERSION = `${METRICS_GROUP}/${VERSION}`;

export const METRICS_DISCOVERY_RESOURCES: DiscoveryResource[] = [
  { group: METRICS_GROUP, version: VERSION, resource: 'nodes', singular: '', kind: 'NodeMetrics', namespaced: false, verbs: ['get', 'list'], shortNames: [], categories: [], subresources: [] },
  { group: METRICS_GROUP, version: VERSION, resource: 'pods', singular: '', kind: 'PodMetrics', namespaced: true, verbs: ['get', 'list'], shortNames: [], categories: [], subresources: [] },
];

interface PodView {
  metadata: { name?: string; namespace?: string; uid?: string; labels?: Record<string, string>; annotations?: Record<string, string>; creationTimestamp?: string };
  spec?: { nodeName?: string; containers?: ContainerLike[] };
  status?: { phase?: string; containerStatuses?: { name: string; state?: { running?: unknown } }[] };
}

export class MetricsApi {
  /** Pod UID + annotation text already reported as invalid (one Warning event each). */
  private readonly reported = new Set<string>();

  constructor(private readonly registry: ApiRegistry) {}

  async handle(req: Request, res: Response, info: ResourceRequestInfo): Promise<void> {
    if (info.apiVersion !== VERSION || (info.resource !== 'nodes' && info.resource !== 'pods') || info.subresource) {
      throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
    }
    if (info.verb !== 'get' && info.verb !== 'list') throw methodNotAllowed();
    const labelSelector = req.requestQuery?.get('labelSelector') ?? undefined;
    const at = windowStart(Date.now());
    const pods = await this.runningPods(info.resource === 'pods' ? info.namespace : '', info.resource === 'pods' ? labelSelector : undefined);
    const common = { timestamp: new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z'), window: '15s' };
    let items: KubeObject[];
    if (info.resource === 'pods') {
      items = [];
      for (const pod of pods) {
        if (info.name && pod.metadata.name !== info.name) continue;
        const containers = await this.podUsage(pod, at);
        items.push({
          metadata: { name: pod.metadata.name, namespace: pod.metadata.namespace, creationTimestamp: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'), labels: pod.metadata.labels ?? {} },
          ...common,
          containers: containers.map(({ name, usage }) => ({ name, usage: formatUsage(usage) })),
        } as KubeObject);
      }
    } else {
      const nodeStore = this.registry.lookup('', 'v1', 'nodes');
      if (!nodeStore) throw notFound({ group: METRICS_GROUP, resource: 'nodes' }, info.name);
      const nodes = (await listObjects(nodeStore, '', { labelSelector, resourceVersion: '0' })).items;
      const perNode = new Map<string, Usage>();
      for (const pod of pods) {
        const node = pod.spec?.nodeName ?? '';
        const total = perNode.get(node) ?? { cpuCores: 0, memoryBytes: 0 };
        for (const { usage } of await this.podUsage(pod, at)) {
          total.cpuCores += usage.cpuCores;
          total.memoryBytes += usage.memoryBytes;
        }
        perNode.set(node, total);
      }
      items = nodes.filter((node) => !info.name || node.metadata.name === info.name).map((node) => {
        const pods = perNode.get(node.metadata.name ?? '') ?? { cpuCores: 0, memoryBytes: 0 };
        const usage = { cpuCores: pods.cpuCores + SYSTEM_RESERVE.cpuCores, memoryBytes: pods.memoryBytes + SYSTEM_RESERVE.memoryBytes };
        return {
          metadata: { name: node.metadata.name, creationTimestamp: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'), labels: node.metadata.labels ?? {} },
          ...common,
          usage: formatUsage(usage),
        } as KubeObject;
      });
    }
    const kind = info.resource === 'pods' ? 'PodMetrics' : 'NodeMetrics';
    if (info.name) {
      if (items.length === 0) throw notFound({ group: METRICS_GROUP, resource: info.resource }, info.name);
      res.status(200).json({ kind, apiVersion: API_VERSION, ...items[0] });
      return;
    }
    res.status(200).json({ kind: `${kind}List`, apiVersion: API_VERSION, metadata: {}, items });
  }

  private async runningPods(namespace: string, labelSelector: string | undefined): Promise<PodView[]> {
    const pods = this.registry.lookup('', 'v1', 'pods');
    if (!pods) return [];
    const list = await listObjects(pods, namespace, { labelSelector, resourceVersion: '0' });
    return (list.items as unknown as PodView[]).filter((pod) => pod.status?.phase === 'Running' && pod.spec?.nodeName);
  }

  /** Usage of the pod's running containers; bad annotations are ignored (and reported once). */
  private async podUsage(pod: PodView, at: number): Promise<{ name: string; usage: Usage }[]> {
    const annotations = pod.metadata.annotations ?? {};
    const read = async (key: string) => {
      try {
        return parseUsageAnnotation(annotations[key]);
      } catch (error) {
        await this.reportInvalid(pod, key, annotations[key] ?? '', error instanceof Error ? error.message : String(error));
        return { byContainer: new Map<string, number>() };
      }
    };
    const cpu = await read(CPU_USAGE_ANNOTATION);
    const memory = await read(MEMORY_USAGE_ANNOTATION);
    const running = new Set((pod.status?.containerStatuses ?? []).filter((s) => s.state?.running).map((s) => s.name));
    return (pod.spec?.containers ?? []).filter((c) => running.has(c.name)).map((container) => ({
      name: container.name,
      usage: containerUsage(pod.metadata.uid ?? '', container, at, {
        cpu: cpu.byContainer.get(container.name) ?? cpu.all,
        memory: memory.byContainer.get(container.name) ?? memory.all,
      }),
    }));
  }

  private async reportInvalid(pod: PodView, annotation: string, value: string, reason: string): Promise<void> {
    const key = `${pod.metadata.uid}/${annotation}/${value}`;
    if (this.reported.has(key)) return;
    if (this.reported.size > 10_000) this.reported.clear();
    this.reported.add(key);
    const events = this.registry.lookup('', 'v1', 'events');
    if (!events) return;
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const namespace = pod.metadata.namespace ?? 'default';
    await events.create({ user: ADMIN_SYSTEM_USER, namespace, now: new Date() }, {
      apiVersion: 'v1', kind: 'Event',
      metadata: { name: `${pod.metadata.name}.${randomBytes(8).toString('hex')}`, namespace },
      involvedObject: { apiVersion: 'v1', kind: 'Pod', name: pod.metadata.name, namespace, uid: pod.metadata.uid },
      reason: 'InvalidUsageAnnotation', type: 'Warning',
      message: `ignoring annotation ${annotation}=${JSON.stringify(value)}: ${reason}`,
      source: { component: 'kubefacade-metrics' }, reportingComponent: 'kubefacade-metrics', reportingInstance: '',
      firstTimestamp: now, lastTimestamp: now, count: 1,
    } as KubeObject, { dryRun: false, fieldValidation: 'Ignore' }).catch(() => undefined);
  }
}
