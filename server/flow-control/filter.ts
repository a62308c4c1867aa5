// How many requests run at once, kube-apiserver's way: API Priority and Fairness by default
// (--enable-priority-and-fairness), else the older max-in-flight filter. Either way the server's
// concurrency limit is --max-requests-inflight + --max-mutating-requests-inflight, with
// kube-apiserver's defaults (400 + 200). Under overload, the priority levels keep one kind of
// client from crowding out another: 5,000 nodes' lease renewals (node-high) cannot take the seats
// of the same kubelets' pod writes (system), nor either of them the scheduler's (workload-high);
// within a level, fair queues keep one busy user or namespace from starving the others.
//
// Measured on the `scale` bench (5,000 nodes, 20,000 pods, 2 cores): all Running after 239 s with no
// limit at all, 244 s with the defaults, 246 s with a quarter of them (100 + 50): within noise. A
// lower limit was tried because every request in progress holds its body and working copies
// through young-generation collections; the queueing it added cost what the smaller heap saved.
//
// Requests are classified by the stored FlowSchemas and PriorityLevelConfigurations
// (configuration.ts, match.ts): the filter takes a new configuration whenever they change
// (configuration-objects.ts watches them), and uses kube-apiserver's bootstrap objects until then.
//
// Long-running requests (watch, proxy, and the attach, exec, log, portforward, proxy subresources)
// take no seat, as in the max-in-flight filter. (Upstream APF holds a seat while a watch sends its
// initial events; here a watch never waits.)

import type { Request, Response } from 'express';
import type { UserInfo } from '../../auth/user.ts';
import { SYSTEM_MASTERS_GROUP } from '../../auth/well-known.ts';
import type { RequestInfo } from '../request-info.ts';
import { BOOTSTRAP_OBJECTS } from './bootstrap-configuration.ts';
import { classifyRequest, compileConfiguration, type FlowControlConfiguration, type FlowControlObjects } from './configuration.ts';
import { QueueSet, type Admission, type PendingAdmission } from './queue-set.ts';
import { apiServerMetrics, type FlowControlSnapshot } from '../metrics/api-server-metrics.ts';

export interface FlowControlOptions {
  /** --max-requests-inflight (default 400, as kube-apiserver). */
  maxRequestsInflight: number;
  /** --max-mutating-requests-inflight (default 200). */
  maxMutatingRequestsInflight: number;
  /** --enable-priority-and-fairness (default true, as upstream). */
  priorityAndFairness: boolean;
  /** Longest wait in a queue (upstream: a quarter of the 60 s request timeout). */
  queueWaitLimitMs?: number;
}

/** kube-apiserver's defaults. */
export const DEFAULT_FLOW_CONTROL: FlowControlOptions = { maxRequestsInflight: 400, maxMutatingRequestsInflight: 200, priorityAndFairness: true };

const LONG_RUNNING_VERBS = new Set(['watch', 'proxy']);
const LONG_RUNNING_SUBRESOURCES = new Set(['attach', 'exec', 'log', 'portforward', 'proxy']);
const READ_ONLY_VERBS = new Set(['get', 'list', 'watch']);
const TOO_MANY_REQUESTS = 'Too many requests, please try again later.\n';

export function isLongRunning(info: RequestInfo): boolean {
  return info.isResourceRequest && (LONG_RUNNING_VERBS.has(info.verb) || LONG_RUNNING_SUBRESOURCES.has(info.subresource));
}

/** Runs `next` when the request may execute, or answers 429 as kube-apiserver does (plain text, Retry-After). */
export type FlowControlFilter = (req: Request, res: Response, user: UserInfo, info: RequestInfo, next: () => void) => void;

/** With a feed, API Priority and Fairness follows the stored objects; without, the bootstrap configuration. */
export function flowControlFilter(options: FlowControlOptions, objects?: FlowControlObjectsFeed): FlowControlFilter {
  return options.priorityAndFairness ? priorityAndFairness(options, objects) : maxInFlight(options);
}

/** Where the filter learns the stored FlowSchemas and PriorityLevelConfigurations (now, and at every change). */
export interface FlowControlObjectsFeed {
  subscribe(listener: (objects: FlowControlObjects) => void): () => void;
  /** Aborted when the server stops: the filter then leaves /metrics (the metrics registry is process-wide). */
  readonly stopped: AbortSignal;
}

interface FlowCounts { executing: number; waiting: number }

function priorityAndFairness(options: FlowControlOptions, feed: FlowControlObjectsFeed | undefined): FlowControlFilter {
  const serverLimit = options.maxRequestsInflight + options.maxMutatingRequestsInflight;
  const waitLimitMs = options.queueWaitLimitMs ?? 15_000;
  let configuration = compileConfiguration(BOOTSTRAP_OBJECTS, serverLimit);
  // One queue set per limited level, kept across configuration changes so that waiting and
  // executing requests keep their places; a removed level's set lives on in its requests' hands.
  const queueSets = new Map<string, QueueSet>();
  const configure = (next: FlowControlConfiguration): void => {
    configuration = next;
    for (const level of next.levels.values()) {
      if (level.exempt) continue;
      const config = {
        concurrencyLimit: level.nominalLimitSeats,
        queues: level.queuing?.queues ?? 0,
        handSize: level.queuing?.handSize ?? 0,
        queueLengthLimit: level.queuing?.queueLengthLimit ?? 0,
        waitLimitMs,
      };
      const existing = queueSets.get(level.name);
      if (existing) existing.reconfigure(config);
      else queueSets.set(level.name, new QueueSet(config));
    }
    for (const name of [...queueSets.keys()]) if (next.levels.get(name)?.exempt !== false) queueSets.delete(name);
  };
  configure(configuration);
  const unsubscribe = feed?.subscribe((objects) => configure(compileConfiguration(objects, serverLimit)));
  // Requests executing and waiting per priority level and flow schema, for /metrics (apiserver_flowcontrol_*).
  const flows = new Map<string, Map<string, FlowCounts>>();
  const flowOf = (level: string, schema: string): FlowCounts => {
    let schemas = flows.get(level);
    if (!schemas) flows.set(level, schemas = new Map());
    let flow = schemas.get(schema);
    if (!flow) schemas.set(schema, flow = { executing: 0, waiting: 0 });
    return flow;
  };
  const removeSource = apiServerMetrics.addFlowControlSource((): FlowControlSnapshot[] => [...configuration.levels.values()].map((level) => ({
    priorityLevel: level.name,
    nominalLimitSeats: level.nominalLimitSeats,
    lowerLimitSeats: level.lowerLimitSeats,
    upperLimitSeats: level.upperLimitSeats,
    flows: [...(flows.get(level.name) ?? new Map<string, FlowCounts>())].map(([flowSchema, f]) => ({ flowSchema, ...f })),
  })));
  feed?.stopped.addEventListener('abort', () => {
    unsubscribe?.();
    removeSource();
  }, { once: true });
  return (req, res, user, info, next) => {
    if (isLongRunning(info)) return next();
    const { flowSchema, level, flowKey } = classifyRequest(configuration, user, info);
    const labels = { priority_level: level.name, flow_schema: flowSchema.name };
    const flow = flowOf(level.name, flowSchema.name);
    const dispatch = (): void => {
      apiServerMetrics.dispatched.inc(labels);
      flow.executing++;
      res.once('close', () => { flow.executing--; });
      next();
    };
    res.setHeader('X-Kubernetes-PF-FlowSchema-UID', flowSchema.uid);
    res.setHeader('X-Kubernetes-PF-PriorityLevel-UID', level.uid);
    const queueSet = queueSets.get(level.name);
    if (level.exempt || !queueSet) return dispatch();
    const arrived = performance.now();
    const waited = (execute: boolean): void => {
      apiServerMetrics.flowControlWait.observe({ ...labels, execute: String(execute) }, (performance.now() - arrived) / 1000);
    };
    const dispatchAfterWait = (): void => {
      waited(true);
      dispatch();
    };
    const rejected = (reason: string): void => {
      waited(false);
      apiServerMetrics.rejected.inc({ ...labels, reason });
    };
    const admission = queueSet.admit(flowKey);
    if (admission.admitted === 'pending') {
      flow.waiting++;
      waitInQueue(res, admission, dispatchAfterWait, rejected, () => { flow.waiting--; });
      return;
    }
    run(res, admission, dispatchAfterWait, rejected);
  };
}

function waitInQueue(res: Response, admission: PendingAdmission, next: () => void, rejected: (reason: string) => void, dequeued: () => void): void {
  const onClose = (): void => admission.cancel();
  res.once('close', onClose);
  void admission.pending.then((settled) => {
    dequeued();
    res.off('close', onClose);
    if (settled.admitted && res.destroyed) {
      settled.release();
      return;
    }
    run(res, settled, next, rejected);
  });
}

function run(res: Response, admission: Admission, next: () => void, rejected?: (reason: string) => void): void {
  if (!admission.admitted) {
    rejected?.(admission.reason === 'cancelled' ? 'cancelled' : admission.reason);
    if (admission.reason !== 'cancelled') tooManyRequests(res);
    return;
  }
  res.once('close', admission.release);
  next();
}

/** The max-in-flight filter: a read-only and a mutating limit, 429 at once when full; system:masters never limited. */
function maxInFlight(options: FlowControlOptions): FlowControlFilter {
  const inFlight = { readOnly: 0, mutating: 0 };
  return (_req, res, user, info, next) => {
    if (isLongRunning(info) || user.groups.includes(SYSTEM_MASTERS_GROUP)) return next();
    const kind = READ_ONLY_VERBS.has(info.verb) ? 'readOnly' : 'mutating';
    const limit = kind === 'readOnly' ? options.maxRequestsInflight : options.maxMutatingRequestsInflight;
    // A limit of 0 means unlimited, as upstream.
    if (limit > 0 && inFlight[kind] >= limit) return tooManyRequests(res);
    inFlight[kind]++;
    res.once('close', () => { inFlight[kind]--; });
    next();
  };
}

function tooManyRequests(res: Response): void {
  // http.Error's reply, as kube-apiserver's tooManyRequests writes it (client-go turns it into a
  // TooManyRequests StatusError and retries after Retry-After).
  res.status(429);
  res.setHeader('Retry-After', '1');
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.end(TOO_MANY_REQUESTS);
}
