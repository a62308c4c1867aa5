// The request filters kube-apiserver runs before any handler, in its order: authentication (401
// Unauthorized), audit (server/audit-filter.ts: the policy's level for this user and request, events
// per stage), impersonation, authorization (403 with kube's wording).

import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { unauthorized } from '../api/errors.ts';
import { preciseNow, type AuditRecord } from '../auth/audit-log.ts';
import { METADATA_FOR_EVERYTHING } from '../auth/audit-policy.ts';
import { errorStatusOf, startAudit } from './audit-filter.ts';
import { forbiddenError } from '../auth/forbidden.ts';
import { impersonate } from '../auth/impersonation.ts';
import { requestAttributes } from '../auth/request-attributes.ts';
import type { RequestSecurity } from '../auth/security.ts';
import type { UserInfo } from '../auth/user.ts';
import { clientCertificateOf } from '../auth/x509-authenticator.ts';
import { replyMetadata } from './reply-metadata.ts';
import { parseRequestInfo, type RequestInfo, type ResourceRequestInfo } from './request-info.ts';
import { parseSchedulingDecision, SCHEDULING_DECISION_HEADER } from '../clients/scheduling-decision-header.ts';
import { journalUser, type RequestJournal } from './ui/request-journal.ts';

declare module 'express-serve-static-core' {
  interface Request {
    kubeUser?: UserInfo;
    requestInfo?: RequestInfo;
    /** The query string, parsed once here for every later filter and handler. */
    requestQuery?: URLSearchParams;
    /** Who authenticated, when impersonating someone else (kubeUser is then the impersonated user). */
    authenticatedUser?: UserInfo;
    impersonatedUser?: UserInfo;
    authorizationDecision?: AuditRecord['decision'];
  }
}

export { noteErrorStatus } from './audit-filter.ts';

const JOURNALED_VERBS = new Set(['create', 'update', 'patch', 'delete']);

export function securityMiddleware(security: RequestSecurity, journal?: RequestJournal) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const received = preciseNow();
    const auditID = randomUUID();
    res.setHeader('Audit-Id', auditID);
    const url = new URL(req.originalUrl, 'http://localhost');
    req.requestInfo = parseRequestInfo(req.method, url.pathname, url.searchParams);
    req.requestQuery = url.searchParams;
    const audit = security.audit;
    const info = req.requestInfo;
    if (journal && info.isResourceRequest && info.apiGroup === '' && info.resource === 'pods' && info.namespace && JOURNALED_VERBS.has(info.verb)) {
      res.once('close', () => journalRecord(journal, req, res, info, auditID, received));
    }

    const outcome = security.authentication.authenticate({
      authorization: req.headers.authorization,
      clientCertificate: clientCertificateOf(req.socket),
      path: url.pathname,
    });
    if ('failure' in outcome) {
      if (audit) startAudit(req, res, audit, security.auditPolicy ?? METADATA_FOR_EVERYTHING, auditID, received);
      return next(unauthorized());
    }
    req.authenticatedUser = outcome.user;
    req.kubeUser = outcome.user;
    if (audit) startAudit(req, res, audit, security.auditPolicy ?? METADATA_FOR_EVERYTHING, auditID, received);
    try {
      const impersonated = impersonate(outcome.user, hasImpersonationHeader(req.rawHeaders) ? req.headersDistinct : NO_HEADERS, security.authorizer);
      req.kubeUser = impersonated ?? outcome.user;
      if (impersonated) req.impersonatedUser = impersonated;
      const attributes = requestAttributes(req.kubeUser, req.requestInfo, url.searchParams);
      const result = security.authorizer.authorize(attributes);
      req.authorizationDecision = { decision: result.decision === 'allow' ? 'allow' : 'forbid', reason: result.reason };
      if (result.decision !== 'allow') return next(forbiddenError(attributes, result.reason));
      next();
    } catch (err) {
      next(err);
    }
  };
}

const NO_HEADERS: Readonly<Record<string, string[]>> = Object.freeze({});

/**
 * Whether any header is an Impersonate-* one. `req.headersDistinct` builds an array per header
 * on every access; nearly no request impersonates, so the raw names are scanned first.
 */
function hasImpersonationHeader(rawHeaders: string[]): boolean {
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i];
    if (name.length >= 12 && (name.charCodeAt(0) | 0x20) === 0x69 && name.slice(0, 12).toLowerCase() === 'impersonate-') return true;
  }
  return false;
}

/** A pod write as the request journal keeps it, once its response has completed. */
function journalRecord(journal: RequestJournal, req: Request, res: Response, info: ResourceRequestInfo, auditID: string, received: number): void {
  const written = replyMetadata(res);
  const name = info.name || written?.name;
  if (!name) return;
  const status = errorStatusOf(res);
  const userAgent = req.headers['user-agent'];
  const schedulingDecision = info.subresource === 'binding' ? parseSchedulingDecision(req.headers[SCHEDULING_DECISION_HEADER]) : undefined;
  journal.record(info.namespace, name, {
    auditID, verb: info.verb, subresource: info.subresource,
    user: journalUser(req.kubeUser ?? req.authenticatedUser),
    ...(req.authorizationDecision ? { authorization: req.authorizationDecision.reason } : {}),
    ...(userAgent ? { userAgent } : {}),
    receivedMs: received, completedMs: preciseNow(), code: status?.code ?? res.statusCode,
    ...(status?.message ? { message: status.message } : {}),
    ...(written?.uid ? { uid: written.uid } : {}),
    ...(written?.resourceVersion ? { resourceVersion: written.resourceVersion } : {}),
    ...(schedulingDecision ? { schedulingDecision } : {}),
  });
}
