// The API server's Prometheus metrics, named and labelled as kube-apiserver's
// (k8s.io/apiserver/pkg/endpoints/metrics, pkg/storage, pkg/util/flowcontrol/metrics), through prom-client. One
// registry per process, as one kube-apiserver process has one: request counts and latencies by verb, group, version,
// resource, subresource, scope, component and code; requests in flight; long-running requests; watch events; objects
// in storage (counted when scraped); storage operation latency; API Priority and Fairness by priority level and flow
// schema; and Node.js process metrics. Scraping costs one pass over the series, nothing on the request path.
import { renderRegistry } from './text-exposition.ts';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RequestInfo } from '../request-info.ts';

/** apiserver_request_duration_seconds buckets (upstream, 1.32). */
export const REQUEST_DURATION_BUCKETS = [0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60];
/** etcd_request_duration_seconds buckets (upstream). */
/** k8s.io/apiserver/pkg/util/flowcontrol/metrics requestDurationSecondsBuckets. */
const FLOW_CONTROL_WAIT_BUCKETS = [0, 0.005, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30];
const STORAGE_DURATION_BUCKETS = [0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60];

const REQUEST_LABELS = ['verb', 'dry_run', 'group', 'version', 'resource', 'subresource', 'scope', 'component'] as const;
const CONNECT_SUBRESOURCES = new Set(['exec', 'attach', 'portforward', 'proxy']);

export interface RequestLabels {
  verb: string;
  dry_run: string;
  group: string;
  version: string;
  resource: string;
  subresource: string;
  scope: string;
  component: string;
}

/** The verb label as kube-apiserver reports it (installer action verbs, CleanVerb): LIST, WATCH, POST, APPLY, CONNECT … */
export function reportedVerb(info: RequestInfo, method: string, contentType: string | undefined): string {
  if (!info.isResourceRequest) return method.toUpperCase();
  if (CONNECT_SUBRESOURCES.has(info.subresource)) return 'CONNECT';
  switch (info.verb) {
    case 'get': return 'GET';
    case 'list': return 'LIST';
    case 'watch': return 'WATCH';
    case 'create': return 'POST';
    case 'update': return 'PUT';
    case 'patch': return contentType?.startsWith('application/apply-patch') ? 'APPLY' : 'PATCH';
    case 'delete': return 'DELETE';
    case 'deletecollection': return 'DELETECOLLECTION';
    default: return method.toUpperCase();
  }
}

/** CleanScope: resource (named, or a create), namespace, cluster; empty for non-resource paths. */
export function reportedScope(info: RequestInfo): string {
  if (!info.isResourceRequest) return '';
  if (info.name || info.verb === 'create') return 'resource';
  if (info.namespace) return 'namespace';
  return 'cluster';
}

export function requestLabels(info: RequestInfo, method: string, contentType: string | undefined, dryRun: boolean): RequestLabels {
  const resource = info.isResourceRequest;
  return {
    verb: reportedVerb(info, method, contentType),
    dry_run: dryRun ? 'All' : '',
    group: resource ? info.apiGroup : '',
    version: resource ? info.apiVersion : '',
    resource: resource ? info.resource : '',
    subresource: resource ? info.subresource : '',
    scope: reportedScope(info),
    component: 'apiserver',
  };
}

/** What the flow-control filter reports for each priority level and flow schema. */
export interface FlowControlSnapshot {
  priorityLevel: string;
  nominalLimitSeats: number;
  /** The nominal seats less what the level may lend, and plus what it may borrow. */
  lowerLimitSeats: number;
  upperLimitSeats: number;
  /** Per flow schema: requests executing and waiting in queues. */
  flows: { flowSchema: string; executing: number; waiting: number }[];
}

/** Counts objects per resource for apiserver_storage_objects (resource label as upstream: `pods`, `leases.coordination.k8s.io`). */
export type ObjectCounter = () => Promise<Map<string, number>>;

export class ApiServerMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<(typeof REQUEST_LABELS)[number] | 'code'>;
  readonly requestDuration: Histogram<(typeof REQUEST_LABELS)[number]>;
  readonly inflight: Gauge<'request_kind'>;
  readonly longRunning: Gauge<(typeof REQUEST_LABELS)[number]>;
  readonly watchEvents: Counter<'group' | 'version' | 'resource'>;
  readonly storageDuration: Histogram<'operation' | 'type'>;
  readonly dispatched: Counter<'priority_level' | 'flow_schema'>;
  readonly rejected: Counter<'priority_level' | 'flow_schema' | 'reason'>;
  /** How long a request of a limited level waited for its seat (`execute`: whether it then ran). */
  readonly flowControlWait: Histogram<'priority_level' | 'flow_schema' | 'execute'>;
  private readonly objectCounters = new Set<ObjectCounter>();
  private readonly flowControlSources = new Set<() => FlowControlSnapshot[]>();

  constructor() {
    const registers = [this.registry];
    this.requests = new Counter({
      name: 'apiserver_request_total', registers,
      help: 'Counter of apiserver requests broken out for each verb, dry run value, group, version, resource, scope, component, and HTTP response code.',
      labelNames: [...REQUEST_LABELS, 'code'],
    });
    this.requestDuration = new Histogram({
      name: 'apiserver_request_duration_seconds', registers, buckets: REQUEST_DURATION_BUCKETS,
      help: 'Response latency distribution in seconds for each verb, dry run value, group, version, resource, subresource, scope and component.',
      labelNames: [...REQUEST_LABELS],
    });
    this.inflight = new Gauge({
      name: 'apiserver_current_inflight_requests', registers, labelNames: ['request_kind'],
      help: 'Maximal number of currently used inflight request limit of this apiserver per request kind in last second.',
    });
    this.inflight.set({ request_kind: 'readOnly' }, 0);
    this.inflight.set({ request_kind: 'mutating' }, 0);
    this.longRunning = new Gauge({
      name: 'apiserver_longrunning_requests', registers, labelNames: [...REQUEST_LABELS],
      help: 'Gauge of all active long-running apiserver requests broken out by verb, group, version, resource, scope and component. Not all requests are tracked this way.',
    });
    this.watchEvents = new Counter({
      name: 'apiserver_watch_events_total', registers, labelNames: ['group', 'version', 'resource'],
      help: 'Number of events sent in watch clients',
    });
    this.storageDuration = new Histogram({
      name: 'etcd_request_duration_seconds', registers, buckets: STORAGE_DURATION_BUCKETS, labelNames: ['operation', 'type'],
      help: 'Etcd request latency in seconds for each operation and object type.',
    });
    this.dispatched = new Counter({
      name: 'apiserver_flowcontrol_dispatched_requests_total', registers, labelNames: ['priority_level', 'flow_schema'],
      help: 'Number of requests executed by API Priority and Fairness subsystem',
    });
    this.rejected = new Counter({
      name: 'apiserver_flowcontrol_rejected_requests_total', registers, labelNames: ['priority_level', 'flow_schema', 'reason'],
      help: 'Number of requests rejected by API Priority and Fairness subsystem',
    });
    this.flowControlWait = new Histogram({
      name: 'apiserver_flowcontrol_request_wait_duration_seconds', registers, buckets: FLOW_CONTROL_WAIT_BUCKETS,
      labelNames: ['priority_level', 'flow_schema', 'execute'], help: 'Length of time a request spent waiting in its queue',
    });
    const counters = this.objectCounters;
    new Gauge({
      name: 'apiserver_storage_objects', registers, labelNames: ['resource'],
      help: 'Number of stored objects at the time of last check split by kind. In case of a fetching error, the value will be -1.',
      async collect() {
        this.reset();
        for (const count of counters) {
          for (const [resource, value] of await count().catch(() => new Map<string, number>())) this.inc({ resource }, value);
        }
      },
    });
    const flowSources = this.flowControlSources;
    const levels = (): FlowControlSnapshot[] => [...flowSources].flatMap((source) => source());
    new Gauge({
      name: 'apiserver_flowcontrol_nominal_limit_seats', registers, labelNames: ['priority_level'],
      help: 'Nominal number of execution seats configured for each priority level',
      collect() {
        this.reset();
        for (const level of levels()) this.set({ priority_level: level.priorityLevel }, level.nominalLimitSeats);
      },
    });
    new Gauge({
      name: 'apiserver_flowcontrol_lower_limit_seats', registers, labelNames: ['priority_level'],
      help: 'Configured lower bound on number of execution seats available to each priority level',
      collect() {
        this.reset();
        for (const level of levels()) this.set({ priority_level: level.priorityLevel }, level.lowerLimitSeats);
      },
    });
    new Gauge({
      name: 'apiserver_flowcontrol_upper_limit_seats', registers, labelNames: ['priority_level'],
      help: 'Configured upper bound on number of execution seats available to each priority level',
      collect() {
        this.reset();
        for (const level of levels()) this.set({ priority_level: level.priorityLevel }, level.upperLimitSeats);
      },
    });
    new Gauge({
      name: 'apiserver_flowcontrol_current_executing_requests', registers, labelNames: ['priority_level', 'flow_schema'],
      help: 'Number of requests in initial (for a WATCH) or any (for a non-WATCH) execution stage in the API Priority and Fairness subsystem',
      collect() {
        this.reset();
        for (const level of levels()) for (const flow of level.flows) this.set({ priority_level: level.priorityLevel, flow_schema: flow.flowSchema }, flow.executing);
      },
    });
    new Gauge({
      // Every request takes one seat here (no work estimation), so seats are requests.
      name: 'apiserver_flowcontrol_current_executing_seats', registers, labelNames: ['priority_level', 'flow_schema'],
      help: 'Concurrency (number of seats) occupied by the currently executing (initial stage for a WATCH, any stage otherwise) requests in the API Priority and Fairness subsystem',
      collect() {
        this.reset();
        for (const level of levels()) for (const flow of level.flows) this.set({ priority_level: level.priorityLevel, flow_schema: flow.flowSchema }, flow.executing);
      },
    });
    new Gauge({
      name: 'apiserver_flowcontrol_current_inqueue_requests', registers, labelNames: ['priority_level', 'flow_schema'],
      help: 'Number of requests currently pending in queues of the API Priority and Fairness subsystem',
      collect() {
        this.reset();
        for (const level of levels()) for (const flow of level.flows) this.set({ priority_level: level.priorityLevel, flow_schema: flow.flowSchema }, flow.waiting);
      },
    });
    collectDefaultMetrics({ register: this.registry });
  }

  addObjectCounter(counter: ObjectCounter): () => void {
    this.objectCounters.add(counter);
    return () => this.objectCounters.delete(counter);
  }

  addFlowControlSource(source: () => FlowControlSnapshot[]): () => void {
    this.flowControlSources.add(source);
    return () => this.flowControlSources.delete(source);
  }

  /** One watch stream's event counter, bound to its labels once. */
  watchEventCounter(info: RequestInfo | undefined): { inc(): void } {
    if (!info?.isResourceRequest) return { inc: () => undefined };
    return this.watchEvents.labels({ group: info.apiGroup, version: info.apiVersion, resource: info.resource });
  }

  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await renderRegistry(this.registry) };
  }
}

/** The process's metrics (one API server per process in production; tests that run several share it). */
export const apiServerMetrics = new ApiServerMetrics();
