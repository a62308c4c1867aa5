// The MutatingAdmissionWebhook and ValidatingAdmissionWebhook plugins: every configuration (in
// name order) and webhook (in list order) whose rules, namespaceSelector, objectSelector and
// matchConditions match the request gets an admission.k8s.io/v1 AdmissionReview. Mutating
// webhooks run one after the other and their JSONPatch is applied to the object in place (the
// store then defaults and validates it again); with reinvocationPolicy IfNeeded a webhook is
// called once more when a later one changed the object. Validating webhooks may only refuse.
// Failures obey failurePolicy; denials, failures and warnings are worded as upstream. CONNECT requests
// (pods/attach, exec, portforward) are reviewed too, with the connect options as the object.

import { randomUUID } from 'node:crypto';
import { applyOperations } from '../../api/patch/json-patch.ts';
import type { AdmissionAttributes, MutatingAdmission, ValidatingAdmission } from '../../api/admission.ts';
import { StatusError, badRequest, internalError } from '../../api/errors.ts';
import { deepCopy, isPlainObject, type KubeObject } from '../../api/object.ts';
import { webhooksOf, type WebhookJson } from '../../api/resources/webhook-validation.ts';
import { compileCelExpression, jsonToCel, type CelProgram } from '../../api/cel/expressions.ts';
import type { ObjectSource } from './object-source.ts';
import { callWebhook, WebhookCallError } from './webhook-client.ts';
import {
  isAdmissionConfigurationResource, namespaceSelectorMatches, objectSelectorMatches, ruleMatches, type NamespaceLabels,
} from './webhook-matching.ts';

interface Candidate {
  configName: string;
  configUid: string;
  webhook: WebhookJson;
  conditions: { name: string; program?: CelProgram; error?: string }[];
}

/** Compiled view of a configuration source, rebuilt when the source changes. */
class WebhookSet {
  private generation = -1;
  private candidates: Candidate[] = [];

  constructor(private readonly source: ObjectSource) {}

  all(): Candidate[] {
    if (this.generation !== this.source.generation) {
      this.generation = this.source.generation;
      this.candidates = this.source.list().flatMap((config) => webhooksOf(config).map((webhook) => ({
        configName: config.metadata.name ?? '',
        configUid: config.metadata.uid ?? '',
        webhook,
        conditions: (webhook.matchConditions ?? []).map((c) => ({ name: c.name, ...compileCelExpression(c.expression) })),
      })));
    }
    return this.candidates;
  }
}

function gvr(attributes: AdmissionAttributes): { group: string; version: string; resource: string } {
  return { group: attributes.group, version: attributes.version ?? '', resource: attributes.resource };
}

const OPTIONS_KIND: Record<string, string | undefined> = { CREATE: 'CreateOptions', UPDATE: 'UpdateOptions', DELETE: 'DeleteOptions' };

function reviewRequest(attributes: AdmissionAttributes, uid: string): Record<string, unknown> {
  const kind = { group: attributes.group, version: attributes.version ?? '', kind: attributes.kind ?? '' };
  const request: Record<string, unknown> = {
    uid,
    kind,
    resource: gvr(attributes),
    requestKind: kind,
    requestResource: gvr(attributes),
    name: attributes.name || attributes.object?.metadata.name || '',
    operation: attributes.operation,
    userInfo: { username: attributes.user.username, ...(attributes.user.uid ? { uid: attributes.user.uid } : {}), groups: attributes.user.groups, ...(attributes.user.extra ? { extra: attributes.user.extra } : {}) },
    object: attributes.operation === 'DELETE' ? null : attributes.object ?? null,
    oldObject: attributes.operation === 'CREATE' || attributes.operation === 'CONNECT' ? null : attributes.oldObject ?? null,
    dryRun: attributes.dryRun ?? false,
    // ConnectResource admits with nil options: the connect options are the object.
    options: OPTIONS_KIND[attributes.operation] ? { kind: OPTIONS_KIND[attributes.operation], apiVersion: 'meta.k8s.io/v1' } : null,
  };
  if (attributes.namespace) request.namespace = attributes.namespace;
  if (attributes.subresource) {
    request.subResource = attributes.subresource;
    request.requestSubResource = attributes.subresource;
  }
  return request;
}

/** The CEL `request` variable of matchConditions (admission.k8s.io AdmissionRequest fields). */
function celRequest(attributes: AdmissionAttributes): Record<string, unknown> {
  return jsonToCel(reviewRequest(attributes, '')) as Record<string, unknown>;
}

interface ReviewResponse {
  uid?: string;
  allowed?: boolean;
  status?: { code?: number; message?: string; reason?: string; status?: string; details?: unknown };
  patch?: string;
  patchType?: string;
  warnings?: string[];
  auditAnnotations?: Record<string, string>;
}

export class WebhookAdmission implements MutatingAdmission, ValidatingAdmission {
  private readonly webhooks: WebhookSet;
  /** Webhooks see CONNECT requests (pods/exec, pods/attach, pods/portforward) as upstream's do. */
  readonly handlesConnect = true;

  constructor(private readonly mutating: boolean, source: ObjectSource, private readonly namespaceLabels: NamespaceLabels) {
    this.webhooks = new WebhookSet(source);
  }

  async admit(attributes: AdmissionAttributes): Promise<void> {
    if (!this.mutating) return;
    const matched = await this.matching(attributes);
    const ranAt = new Map<Candidate, number>();
    let lastChange = -1;
    let step = 0;
    for (const candidate of matched) {
      if (await this.call(candidate, attributes)) lastChange = step;
      ranAt.set(candidate, step++);
    }
    // reinvocationPolicy IfNeeded: once more for webhooks that ran before a later change.
    for (const candidate of matched) {
      if (candidate.webhook.reinvocationPolicy === 'IfNeeded' && (ranAt.get(candidate) ?? 0) < lastChange) {
        await this.call(candidate, attributes);
      }
    }
  }

  async validate(attributes: AdmissionAttributes): Promise<void> {
    if (this.mutating) return;
    const matched = await this.matching(attributes);
    // Validating webhooks are called in parallel, as upstream; the first refusal in order wins.
    const outcomes = await Promise.allSettled(matched.map((candidate) => this.call(candidate, attributes)));
    for (const outcome of outcomes) if (outcome.status === 'rejected') throw outcome.reason;
  }

  private async matching(attributes: AdmissionAttributes): Promise<Candidate[]> {
    if (isAdmissionConfigurationResource(attributes)) return [];
    const all = this.webhooks.all();
    if (all.length === 0) return [];
    const target = {
      operation: attributes.operation, group: attributes.group, version: attributes.version ?? '', resource: attributes.resource,
      subresource: attributes.subresource, namespaced: attributes.namespace !== '',
    };
    const matched: Candidate[] = [];
    for (const candidate of all) {
      const { webhook } = candidate;
      if (!(webhook.rules ?? []).some((rule) => ruleMatches(rule, target))) continue;
      if (!await namespaceSelectorMatches(webhook.namespaceSelector, attributes, this.namespaceLabels)) continue;
      if (!objectSelectorMatches(webhook.objectSelector, attributes)) continue;
      if (!this.conditionsMatch(candidate, attributes)) continue;
      matched.push(candidate);
    }
    return matched;
  }

  /** matchConditions: all must be true; an error obeys failurePolicy (Ignore: the webhook is skipped). */
  private conditionsMatch(candidate: Candidate, attributes: AdmissionAttributes): boolean {
    if (candidate.conditions.length === 0) return true;
    const context = {
      object: attributes.operation === 'DELETE' ? null : jsonToCel(attributes.object ?? null),
      oldObject: attributes.operation === 'CREATE' || attributes.operation === 'CONNECT' ? null : jsonToCel(attributes.oldObject ?? null),
      request: celRequest(attributes),
    };
    for (const condition of candidate.conditions) {
      let result: unknown;
      try {
        if (!condition.program) throw new Error(condition.error);
        result = condition.program(context);
      } catch (error) {
        if (candidate.webhook.failurePolicy === 'Ignore') return false;
        throw internalError(new Error(`failed calling webhook "${candidate.webhook.name}": failed to evaluate match condition "${condition.name}": ${(error as Error).message}`));
      }
      if (result !== true) return false;
    }
    return true;
  }

  /** One review; returns whether the object was changed (mutating). */
  private async call(candidate: Candidate, attributes: AdmissionAttributes): Promise<boolean> {
    const { webhook } = candidate;
    if (attributes.dryRun && webhook.sideEffects !== 'None' && webhook.sideEffects !== 'NoneOnDryRun') {
      throw badRequest(`admission webhook "${webhook.name}" does not support dry run`);
    }
    const uid = randomUUID();
    let response: ReviewResponse;
    try {
      const answer = await callWebhook(`${candidate.configUid}/${webhook.name}`, webhook.clientConfig, webhook.timeoutSeconds ?? 10, {
        kind: 'AdmissionReview', apiVersion: 'admission.k8s.io/v1', request: reviewRequest(attributes, uid),
      });
      response = this.parseReview(answer, uid);
    } catch (error) {
      if (!(error instanceof WebhookCallError)) throw error;
      if (webhook.failurePolicy === 'Ignore') return false;
      throw new StatusError(500, 'InternalError', `Internal error occurred: failed calling webhook "${webhook.name}": ${error.message}`, {
        causes: [{ message: `failed calling webhook "${webhook.name}": ${error.message}` }],
      });
    }
    for (const warning of response.warnings ?? []) if (typeof warning === 'string' && warning.trim()) attributes.warnings?.push(warning);
    // Upstream records a webhook's audit annotations as `<webhook name>/<key>`.
    for (const [key, value] of Object.entries(response.auditAnnotations ?? {})) {
      if (attributes.auditAnnotations && typeof value === 'string') attributes.auditAnnotations[`${webhook.name}/${key}`] = value;
    }
    if (!response.allowed) throw deniedError(webhook.name, response.status);
    if (!this.mutating || !response.patch) return false;
    if (response.patchType !== 'JSONPatch') {
      throw internalError(new Error(`failed calling webhook "${webhook.name}": unsupported patch type "${String(response.patchType)}"`));
    }
    if (!attributes.object) return false;
    let operations: Record<string, unknown>[];
    try {
      operations = JSON.parse(Buffer.from(response.patch, 'base64').toString('utf8')) as Record<string, unknown>[];
      if (!Array.isArray(operations) || !operations.every(isPlainObject)) throw new Error('the patch is not a JSON array of operations');
    } catch (error) {
      throw internalError(new Error(`failed calling webhook "${webhook.name}": received invalid webhook response: ${(error as Error).message}`));
    }
    const before = JSON.stringify(attributes.object);
    let patched: KubeObject;
    try {
      // The same engine as PATCH requests: own members only, kube's copy-size cap.
      patched = applyOperations(deepCopy(attributes.object), operations) as KubeObject;
    } catch (error) {
      throw internalError(new Error(`failed calling webhook "${webhook.name}": JSON patch could not be applied: ${(error as Error).message}`));
    }
    // CONNECT's options have no metadata; the connection is made with the patched options.
    if (!isPlainObject(patched) || (attributes.operation !== 'CONNECT' && !isPlainObject(patched.metadata))) throw internalError(new Error(`failed calling webhook "${webhook.name}": the patched object has no metadata`));
    for (const key of Object.keys(attributes.object)) delete (attributes.object as Record<string, unknown>)[key];
    Object.assign(attributes.object, patched);
    return JSON.stringify(attributes.object) !== before;
  }

  private parseReview(answer: unknown, uid: string): ReviewResponse {
    if (!isPlainObject(answer) || !isPlainObject(answer.response)) throw new WebhookCallError('received invalid webhook response: expected response in AdmissionReview');
    if (answer.apiVersion !== 'admission.k8s.io/v1' && answer.apiVersion !== 'admission.k8s.io/v1beta1') {
      throw new WebhookCallError(`received invalid webhook response: expected webhook response of admission.k8s.io/v1, Kind=AdmissionReview, got ${String(answer.apiVersion)}, Kind=${String(answer.kind)}`);
    }
    const response = answer.response as ReviewResponse;
    if (response.uid !== uid) throw new WebhookCallError(`expected response.uid="${uid}", got "${String(response.uid ?? '')}"`);
    return response;
  }
}

/** webhookerrors.ToStatusErr: the webhook's Status with its message prefixed, at least a 400. */
function deniedError(name: string, status: ReviewResponse['status']): StatusError {
  const deniedBy = `admission webhook "${name}" denied the request`;
  const code = status?.code && status.code >= 400 ? status.code : 400;
  const message = status?.message ? `${deniedBy}: ${status.message}` : status?.reason ? `${deniedBy}: ${status.reason}` : `${deniedBy} without explanation`;
  return new StatusError(code, (status?.reason ?? '') as StatusError['reason'], message);
}
