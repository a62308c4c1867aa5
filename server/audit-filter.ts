// The audit filter: once the user is known (or authentication failed), the policy decides the
// request's level; at level None nothing is written. Events go out per stage, as kube-apiserver
// emits them: RequestReceived at once, ResponseStarted when a long-running request (watch, logs,
// exec, attach, port-forward, proxy) sends its headers, then ResponseComplete when the response
// closes, or Panic when the handler failed with an unexpected error.

import type { Request, Response } from 'express';
import type { Status } from '../api/errors.ts';
import { preciseNow, type AuditLog, type AuditRecord } from '../auth/audit-log.ts';
import { evaluateAuditPolicy, type AuditPolicy, type AuditStage } from '../auth/audit-policy.ts';

const STATUS_LOCAL = 'kubeStatus';
const PANIC_LOCAL = 'kubeAuditPanic';
const LONG_RUNNING_SUBRESOURCES = new Set(['log', 'exec', 'attach', 'portforward', 'proxy']);
/** Replies kept for level RequestResponse (kube-apiserver's body limit is 3 MiB). */
const MAX_CAPTURED_BYTES = 3 * 1024 * 1024;

declare module 'express-serve-static-core' {
  interface Request {
    /** The body as the handler read it (server/resource-handler.ts readBody), for the audit event. */
    receivedBody?: Buffer;
  }
}

/** Remembers the Status an error reply carried, for the audit event. */
/** The Status an error reply carried (undefined for a success). */
export function errorStatusOf(res: Response): Status | undefined {
  return res.locals[STATUS_LOCAL] as Status | undefined;
}

export function noteErrorStatus(res: Response, status: Status, unexpected: boolean): void {
  res.locals[STATUS_LOCAL] = status;
  if (unexpected) res.locals[PANIC_LOCAL] = status.message;
}

export function startAudit(req: Request, res: Response, log: AuditLog, policy: AuditPolicy, auditID: string, received: number): void {
  const info = req.requestInfo;
  const decision = evaluateAuditPolicy(policy, {
    user: req.kubeUser, verb: info?.verb ?? req.method.toLowerCase(), resourceRequest: info?.isResourceRequest ?? false,
    path: info?.path ?? req.path,
    ...(info?.isResourceRequest ? { apiGroup: info.apiGroup, namespace: info.namespace, resource: info.resource, subresource: info.subresource, name: info.name } : {}),
  });
  if (decision.level === 'None') return;
  const emit = (stage: AuditStage, at: number): void => {
    if (!decision.omitStages.has(stage)) log.write(auditRecord(req, res, auditID, received, at, stage, decision.level, captured));
  };
  // The request body is what the handler read (readBody keeps it on the request): listening here
  // would start the stream flowing before the handler is there to read it.
  const captured: { request?: Buffer[]; response?: Buffer[] } = {};
  const isCreate = info?.isResourceRequest && info.verb === 'create';
  if (decision.level === 'RequestResponse' || isCreate) captureResponse(res, captured);
  emit('RequestReceived', received);
  const longRunning = info?.isResourceRequest && (info.verb === 'watch' || LONG_RUNNING_SUBRESOURCES.has(info.subresource));
  if (longRunning) {
    const writeHead = res.writeHead;
    let started = false;
    res.writeHead = function (this: Response, ...args: Parameters<Response['writeHead']>) {
      const result = writeHead.apply(this, args);
      if (!started) {
        started = true;
        emit('ResponseStarted', preciseNow());
      }
      return result;
    } as Response['writeHead'];
  }
  res.once('close', () => emit(res.locals[PANIC_LOCAL] !== undefined ? 'Panic' : 'ResponseComplete', preciseNow()));
}

/** Keeps a copy of what the handler sends (JSON replies only; watches and logs stream other things). */
function captureResponse(res: Response, captured: { response?: Buffer[] }): void {
  const write = res.write;
  const end = res.end;
  let size = 0;
  captured.response = [];
  const keep = (chunk: unknown, encoding?: unknown): void => {
    if (chunk === undefined || chunk === null || typeof chunk === 'function' || !captured.response) return;
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk), typeof encoding === 'string' ? encoding as BufferEncoding : 'utf8');
    size += buffer.length;
    if (size > MAX_CAPTURED_BYTES) captured.response = undefined;
    else captured.response.push(buffer);
  };
  res.write = function (this: Response, chunk: unknown, ...rest: unknown[]) {
    keep(chunk, rest[0]);
    return (write as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
  } as Response['write'];
  res.end = function (this: Response, chunk?: unknown, ...rest: unknown[]) {
    keep(chunk, rest[0]);
    return (end as (...a: unknown[]) => Response).call(this, chunk, ...rest);
  } as Response['end'];
}

function parseJson(chunks: Buffer[] | undefined): unknown {
  if (!chunks || chunks.length === 0) return undefined;
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return undefined;
  }
}

function auditRecord(
  req: Request, res: Response, auditID: string, received: number, at: number, stage: AuditStage,
  level: AuditRecord['level'], captured: { response?: Buffer[] },
): AuditRecord {
  const info = req.requestInfo;
  const status = res.locals[STATUS_LOCAL] as Status | undefined;
  const remote = req.socket.remoteAddress ?? '';
  const complete = stage === 'ResponseComplete' || stage === 'Panic';
  const isJson = String(res.getHeader('content-type') ?? '').startsWith('application/json');
  const response = complete && isJson ? parseJson(captured.response) : undefined;
  // A create's objectRef names the object it created (the name may have been generated).
  let name = info?.isResourceRequest ? info.name : '';
  if (!name && complete && info?.isResourceRequest && info.verb === 'create' && res.statusCode < 300) {
    const metadata = (response as { metadata?: { name?: unknown } } | undefined)?.metadata;
    if (typeof metadata?.name === 'string') name = metadata.name;
  }
  const panic = res.locals[PANIC_LOCAL] as string | undefined;
  return {
    level, stage, auditID,
    requestURI: req.originalUrl,
    verb: info?.verb ?? req.method.toLowerCase(),
    user: req.authenticatedUser,
    impersonatedUser: req.impersonatedUser,
    sourceIPs: remote ? [remote.replace(/^::ffff:/, '')] : [],
    userAgent: req.headers['user-agent'],
    objectRef: info?.isResourceRequest ? {
      resource: info.resource, namespace: info.namespace, name,
      apiGroup: info.apiGroup, apiVersion: info.apiVersion, subresource: info.subresource,
    } : undefined,
    responseStatus: stage === 'Panic'
      ? { code: 500, status: 'Failure', reason: 'InternalError', message: `APIServer panic'd: ${panic}` }
      : status && complete
        ? { code: status.code, status: status.status, message: status.message, reason: status.reason || undefined }
        : { code: res.statusCode },
    requestReceived: received,
    stageCompleted: at,
    decision: stage === 'RequestReceived' ? undefined : req.authorizationDecision,
    // Admission's annotations (webhooks, ValidatingAdmissionPolicy), known once the request has run.
    annotations: stage === 'RequestReceived' ? undefined : res.locals.auditAnnotations as Record<string, string> | undefined,
    requestObject: complete && req.receivedBody ? parseJson([req.receivedBody]) : undefined,
    responseObject: response,
  };
}
