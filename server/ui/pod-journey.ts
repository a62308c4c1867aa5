// A pod's way through the control plane, as a list of steps the web view lights up: the API server's
// handling of the create (from the request journal: who, authentication, authorization, admission and
// validation, storage), the scheduler's decision and binding, and the kubelet's work per container
// (from the pod's events and status). Every step carries its time and its actor; nothing is invented:
// a step with no evidence yet is `pending`, one the evidence says went wrong is `failed`.

import type { KubeObject } from '../../api/object.ts';
import type { JournalRecord } from './request-journal.ts';

export type JourneyComponent = 'client' | 'api-server' | 'store' | 'scheduler' | 'kubelet';
export type JourneyState = 'done' | 'pending' | 'failed';

export interface JourneyStep {
  id: string;
  component: JourneyComponent;
  title: string;
  state: JourneyState;
  /** RFC 3339 with milliseconds, when the step happened. */
  time?: string;
  /** Who did it: a user, `default-scheduler`, `kubelet (node01)`. */
  actor?: string;
  detail?: string;
}

export interface PodJourney {
  namespace: string;
  name: string;
  uid?: string;
  nodeName?: string;
  steps: JourneyStep[];
}

type Json = Record<string, unknown>;

const asMap = (value: unknown): Json => (typeof value === 'object' && value !== null && !Array.isArray(value) ? value as Json : {});
const asList = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const asString = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);
const iso = (epochMs: number): string => new Date(epochMs).toISOString();

interface EventView {
  reason: string;
  message: string;
  type: string;
  fieldPath: string;
  time?: string;
  component: string;
  host: string;
}

function eventView(event: KubeObject): EventView {
  const involved = asMap(event.involvedObject);
  const source = asMap(event.source);
  return {
    reason: asString(event.reason) ?? '',
    message: asString(event.message) ?? '',
    type: asString(event.type) ?? 'Normal',
    fieldPath: asString(involved.fieldPath) ?? '',
    time: asString(event.lastTimestamp) ?? asString(event.eventTime) ?? asString(event.firstTimestamp) ?? asString(event.metadata.creationTimestamp),
    component: asString(source.component) ?? asString(event.reportingComponent) ?? '',
    host: asString(source.host) ?? asString(event.reportingInstance) ?? '',
  };
}

function conditionTime(pod: KubeObject | undefined, type: string): string | undefined {
  const condition = asList(asMap(pod?.status).conditions).map(asMap).find((c) => c.type === type && c.status === 'True');
  return condition ? asString(condition.lastTransitionTime) : undefined;
}

function actorOf(event: EventView): string {
  if (event.component === 'kubelet' && event.host) return `kubelet (${event.host})`;
  return event.component || 'unknown';
}

/** `kubectl/v1.32.4 (linux/amd64) kubernetes/abc` → `kubectl/v1.32.4`. */
function clientName(userAgent: string | undefined): string {
  return userAgent?.split(' ')[0] || 'unknown client';
}

/** The steps of the API server's handling of the create, from its journal record. */
function requestSteps(pod: KubeObject | undefined, create: JournalRecord | undefined): JourneyStep[] {
  if (!create) {
    // Not in the journal (written before this server started, or evicted from it): what the object says.
    const created = asString(pod?.metadata.creationTimestamp);
    const manager = asString(asMap(asList(pod?.metadata.managedFields)[0]).manager);
    const detail = 'the create request is not in the journal (made before the server started, or evicted from it)';
    return [
      { id: 'received', component: 'api-server', title: 'Request received', state: pod ? 'done' : 'pending', ...(created ? { time: created } : {}), ...(manager ? { actor: manager } : {}), detail },
      { id: 'authenticated', component: 'api-server', title: 'Authenticated', state: pod ? 'done' : 'pending', detail },
      { id: 'authorized', component: 'api-server', title: 'Authorized', state: pod ? 'done' : 'pending', detail },
      { id: 'admitted', component: 'api-server', title: 'Admitted and validated', state: pod ? 'done' : 'pending', detail },
      { id: 'stored', component: 'store', title: 'Stored', state: pod ? 'done' : 'pending', ...(created ? { time: created } : {}), detail: pod ? `uid ${pod.metadata.uid ?? ''}` : detail },
    ];
  }
  const user = create.user.username;
  const received = iso(create.receivedMs);
  const completed = iso(create.completedMs);
  const refusedBy = (code: number): boolean => create.code === code;
  const authFailed = refusedBy(401);
  const forbidden = refusedBy(403);
  const succeeded = create.code >= 200 && create.code < 300;
  const admissionFailed = !succeeded && !authFailed && !forbidden;
  return [
    {
      id: 'sent', component: 'client', title: 'Request sent', state: 'done', time: received, actor: clientName(create.userAgent),
      detail: `${create.verb === 'patch' ? 'server-side apply (PATCH)' : 'create (POST)'} as ${user || 'anonymous'}`,
    },
    { id: 'received', component: 'api-server', title: 'Request received', state: 'done', time: received, actor: user || 'anonymous', ...(create.userAgent ? { detail: create.userAgent } : {}) },
    {
      id: 'authenticated', component: 'api-server', title: 'Authenticated', state: authFailed ? 'failed' : 'done', time: received,
      actor: user || 'anonymous', detail: authFailed ? create.message ?? 'Unauthorized' : `groups: ${create.user.groups.join(', ') || '(none)'}`,
    },
    {
      id: 'authorized', component: 'api-server', title: 'Authorized', state: authFailed ? 'pending' : forbidden ? 'failed' : 'done', time: received,
      actor: user, detail: forbidden ? create.message ?? 'Forbidden' : create.authorization || 'allowed',
    },
    {
      id: 'admitted', component: 'api-server', title: 'Admitted and validated', state: admissionFailed ? 'failed' : succeeded ? 'done' : 'pending',
      ...(succeeded || admissionFailed ? { time: completed } : {}), actor: 'kube-apiserver',
      detail: admissionFailed ? create.message ?? `HTTP ${create.code}` : 'admission plugins and the OpenAPI schema accepted the pod',
    },
    {
      id: 'stored', component: 'store', title: 'Stored', state: succeeded ? 'done' : 'pending', ...(succeeded ? { time: completed } : {}),
      actor: 'kube-apiserver', ...(succeeded ? { detail: `resourceVersion ${create.resourceVersion ?? '?'}, uid ${create.uid ?? '?'}` } : {}),
    },
  ];
}

function schedulerSteps(pod: KubeObject | undefined, events: EventView[], binding: JournalRecord | undefined): JourneyStep[] {
  const nodeName = asString(asMap(pod?.spec).nodeName);
  const scheduled = events.find((e) => e.reason === 'Scheduled');
  const failures = events.filter((e) => e.reason === 'FailedScheduling');
  const lastFailure = failures[failures.length - 1];
  // The feasible count is known only when the scheduler sent it with its binding (ours does; see request-journal.ts).
  const decision = binding?.schedulingDecision;
  const filtered = decision ? `; ${decision.feasibleNodes} of ${decision.evaluatedNodes} evaluated nodes feasible` : '';
  const scheduledStep: JourneyStep = scheduled
    ? { id: 'scheduled', component: 'scheduler', title: 'Scheduled', state: 'done', ...(scheduled.time ? { time: scheduled.time } : {}), actor: actorOf(scheduled), detail: `${scheduled.message}${filtered}` }
    : lastFailure
      ? { id: 'scheduled', component: 'scheduler', title: 'Scheduled', state: nodeName ? 'done' : 'failed', ...(lastFailure.time ? { time: lastFailure.time } : {}), actor: actorOf(lastFailure), detail: lastFailure.message }
      : { id: 'scheduled', component: 'scheduler', title: 'Scheduled', state: nodeName ? 'done' : 'pending', ...(nodeName ? { detail: `assigned to ${nodeName}${filtered}` } : {}) };
  const boundTime = binding && binding.code < 300 ? iso(binding.completedMs) : conditionTime(pod, 'PodScheduled');
  const bound: JourneyStep = nodeName
    ? {
      id: 'bound', component: 'scheduler', title: 'Bound to a node', state: 'done', ...(boundTime ? { time: boundTime } : {}),
      actor: binding?.user.username ?? 'default-scheduler', detail: `spec.nodeName: ${nodeName}`,
    }
    : { id: 'bound', component: 'scheduler', title: 'Bound to a node', state: 'pending' };
  return [scheduledStep, bound];
}

interface ContainerRef {
  name: string;
  image: string;
  /** `spec.containers{name}` or `spec.initContainers{name}`. */
  fieldPath: string;
}

const CONTAINER_STAGES: { reason: string; title: string }[] = [
  { reason: 'Pulling', title: 'Pulling image' },
  { reason: 'Pulled', title: 'Image pulled' },
  { reason: 'Created', title: 'Container created' },
  { reason: 'Started', title: 'Container started' },
];
const CONTAINER_FAILURES = new Set(['Failed', 'BackOff', 'FailedCreatePodSandBox', 'ErrImagePull', 'Unhealthy']);

function containerSteps(container: ContainerRef, events: EventView[], node: string | undefined): JourneyStep[] {
  const mine = events.filter((e) => e.fieldPath === container.fieldPath);
  const failure = [...mine].reverse().find((e) => CONTAINER_FAILURES.has(e.reason));
  let reachedUntil = -1;
  const steps = CONTAINER_STAGES.map((stage, index): JourneyStep => {
    const event = mine.find((e) => e.reason === stage.reason);
    if (event) reachedUntil = index;
    return {
      id: `${container.name}-${stage.reason.toLowerCase()}`, component: 'kubelet', title: `${stage.title}: ${container.name}`,
      state: event ? 'done' : 'pending', ...(event?.time ? { time: event.time } : {}),
      actor: event ? actorOf(event) : node ? `kubelet (${node})` : 'kubelet', detail: event ? event.message : `image ${container.image}`,
    };
  });
  // The first stage not reached carries the failure the kubelet reported for this container.
  if (failure && reachedUntil < steps.length - 1) {
    const next = steps[reachedUntil + 1];
    next.state = 'failed';
    next.detail = `${failure.reason}: ${failure.message}`;
    if (failure.time) next.time = failure.time;
  }
  return steps;
}

function containersOf(pod: KubeObject | undefined): ContainerRef[] {
  const spec = asMap(pod?.spec);
  const refs = (field: string): ContainerRef[] => asList(spec[field]).map(asMap).map((c) => ({
    name: asString(c.name) ?? '', image: asString(c.image) ?? '', fieldPath: `spec.${field}{${asString(c.name) ?? ''}}`,
  }));
  return [...refs('initContainers'), ...refs('containers')];
}

export interface JourneyInput {
  namespace: string;
  name: string;
  pod: KubeObject | undefined;
  /** core/v1 Events whose involvedObject is the pod. */
  events: KubeObject[];
  records: JournalRecord[];
}

export function podJourney(input: JourneyInput): PodJourney {
  const { pod } = input;
  const uid = pod?.metadata.uid;
  // A pod deleted and created again under the same name: only the current incarnation's evidence counts.
  const events = input.events
    .filter((e) => !uid || !asString(asMap(e.involvedObject).uid) || asMap(e.involvedObject).uid === uid)
    .map(eventView)
    .sort((a, b) => (a.time ?? '').localeCompare(b.time ?? ''));
  const records = input.records.filter((r) => !uid || !r.uid || r.uid === uid);
  // A create, or a server-side apply that created the pod (a PATCH answered 201 Created).
  const creates = records.filter((r) => r.subresource === '' && (r.verb === 'create' || (r.verb === 'patch' && r.code === 201)));
  const create = creates.find((r) => r.uid === uid) ?? (pod ? undefined : creates[creates.length - 1]);
  const binding = records.find((r) => r.subresource === 'binding' && r.code < 300 && r.receivedMs >= (create?.receivedMs ?? 0));
  const nodeName = asString(asMap(pod?.spec).nodeName);
  const firstNodeWrite = records.find((r) => r.subresource === 'status' && r.user.username.startsWith('system:node:') && r.code < 300);
  const firstKubeletEvent = events.find((e) => e.component === 'kubelet');
  const kubeletSeen: JourneyStep = firstNodeWrite || firstKubeletEvent
    ? {
      id: 'kubelet-seen', component: 'kubelet', title: 'Seen by the kubelet', state: 'done',
      ...(firstNodeWrite ? { time: iso(firstNodeWrite.completedMs) } : firstKubeletEvent?.time ? { time: firstKubeletEvent.time } : {}),
      actor: firstNodeWrite?.user.username ?? (firstKubeletEvent ? actorOf(firstKubeletEvent) : 'kubelet'),
      detail: firstNodeWrite ? 'first pod status written by the node' : 'first event from the node',
    }
    : { id: 'kubelet-seen', component: 'kubelet', title: 'Seen by the kubelet', state: 'pending', ...(nodeName ? { actor: `kubelet (${nodeName})` } : {}) };
  const readyTime = conditionTime(pod, 'Ready');
  const ready: JourneyStep = readyTime
    ? { id: 'ready', component: 'kubelet', title: 'Ready', state: 'done', time: readyTime, actor: nodeName ? `kubelet (${nodeName})` : 'kubelet', detail: 'condition Ready is True' }
    : { id: 'ready', component: 'kubelet', title: 'Ready', state: 'pending' };
  return {
    namespace: input.namespace,
    name: input.name,
    ...(uid ? { uid } : {}),
    ...(nodeName ? { nodeName } : {}),
    steps: [
      ...requestSteps(pod, create),
      ...schedulerSteps(pod, events, binding),
      kubeletSeen,
      ...containersOf(pod).flatMap((c) => containerSteps(c, events, nodeName)),
      ready,
    ],
  };
}
