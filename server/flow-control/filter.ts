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
// Long-running requests (watch, proxy, and the attach, exec, log, portforward, proxy subresources)
// take no seat, as in the max-in-flight filter. (Upstream APF holds a seat while a watch sends its
// initial events; here a watch never waits.)

import { createHash } from 'node:crypto';
import type { Request, Response } from 'express';
import type { UserInfo } from '../../auth/user.ts';
import { SYSTEM_MASTERS_GROUP } from '../../auth/well-known.ts';
import type { RequestInfo } from '../request-info.ts';
import { FLOW_SCHEMAS, PRIORITY_LEVELS, classify } from './bootstrap-configuration.ts';
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

export function flowControlFilter(options: FlowControlOptions): FlowControlFilter {
  return options.priorityAndFairness ? priorityAndFairness(options) : maxInFlight(options);
}

function priorityAndFairness(options: FlowControlOptions): FlowControlFilter {
  const serverLimit = options.maxRequestsInflight + options.maxMutatingRequestsInflight;
  let totalShares = 0;
  for (const level of PRIORITY_LEVELS) if (!level.exempt) totalShares += level.shares;
  const levels = new Map<string, QueueSet | 'exempt'>();
  for (const level of PRIORITY_LEVELS) {
    if (level.exempt) {
      levels.set(level.name, 'exempt');
      continue;
    }
    const queuing = level.limitResponse.type === 'queue' ? level.limitResponse : undefined;
    levels.set(level.name, new QueueSet({
      concurrencyLimit: Math.ceil(serverLimit * level.shares / totalShares),
      queues: queuing?.queues ?? 0,
      handSize: queuing?.handSize ?? 0,
      queueLengthLimit: queuing?.queueLengthLimit ?? 0,
      waitLimitMs: options.queueWaitLimitMs ?? 15_000,
    }));
  }
  // Requests executing and waiting per priority level and flow schema, for /metrics (apiserver_flowcontrol_*).
  const flows = new Map<string, Map<string, { executing: number; waiting: number }>>();
  const flowOf = (level: string, schema: string): { executing: number; waiting: number } => {
    let schemas = flows.get(level);
    if (!schemas) flows.set(level, schemas = new Map());
    let flow = schemas.get(schema);
    if (!flow) schemas.set(schema, flow = { executing: 0, waiting: 0 });
    return flow;
  };
  apiServerMetrics.addFlowControlSource((): FlowControlSnapshot[] => PRIORITY_LEVELS.map((level) => {
    const queueSet = levels.get(level.name);
    return {
      priorityLevel: level.name,
      nominalLimitSeats: queueSet instanceof QueueSet ? queueSet.config.concurrencyLimit : 0,
      flows: [...(flows.get(level.name) ?? new Map<string, { executing: number; waiting: number }>())].map(([flowSchema, f]) => ({ flowSchema, ...f })),
    };
  }));
  return (req, res, user, info, next) => {
    if (isLongRunning(info)) return next();
    const { flowSchema, flowKey } = classify(user, info);
    const labels = { priority_level: flowSchema.priorityLevel, flow_schema: flowSchema.name };
    const flow = flowOf(flowSchema.priorityLevel, flowSchema.name);
    const dispatch = (): void => {
      apiServerMetrics.dispatched.inc(labels);
      flow.executing++;
      res.once('close', () => { flow.executing--; });
      next();
    };
    res.setHeader('X-Kubernetes-PF-FlowSchema-UID', FLOW_SCHEMA_UIDS.get(flowSchema.name) as string);
    res.setHeader('X-Kubernetes-PF-PriorityLevel-UID', PRIORITY_LEVEL_UIDS.get(flowSchema.priorityLevel) as string);
    const level = levels.get(flowSchema.priorityLevel) as QueueSet | 'exempt';
    if (level === 'exempt') return dispatch();
    const admission = level.admit(flowKey);
    const rejected = (reason: string): void => { apiServerMetrics.rejected.inc({ ...labels, reason }); };
    if (admission.admitted === 'pending') {
      flow.waiting++;
      waitInQueue(res, admission, dispatch, rejected, () => { flow.waiting--; });
      return;
    }
    run(res, admission, dispatch, rejected);
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

/** Stable UIDs for the response headers: the bootstrap objects are not served, so derived from their names. */
function uidOf(kind: string, name: string): string {
  const hex = createHash('sha256').update(`${kind}/${name}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

const FLOW_SCHEMA_UIDS = new Map(FLOW_SCHEMAS.map((schema) => [schema.name, uidOf('flowschemas', schema.name)]));
const PRIORITY_LEVEL_UIDS = new Map(PRIORITY_LEVELS.map((level) => [level.name, uidOf('prioritylevelconfigurations', level.name)]));
