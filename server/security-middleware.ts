// The request filters kube-apiserver runs before any handler, in its order: audit bookkeeping,
// authentication (401 Unauthorized), impersonation, authorization (403 with kube's wording). The audit
// event is written when the response closes, whatever the outcome.

import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { unauthorized, type Status } from '../api/errors.ts';
import { preciseNow, type AuditRecord } from '../auth/audit-log.ts';
import { forbiddenError } from '../auth/forbidden.ts';
import { impersonate } from '../auth/impersonation.ts';
import { requestAttributes } from '../auth/request-attributes.ts';
import type { RequestSecurity } from '../auth/security.ts';
import type { UserInfo } from '../auth/user.ts';
import { clientCertificateOf } from '../auth/x509-authenticator.ts';
import { parseRequestInfo, type RequestInfo } from './request-info.ts';

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

const STATUS_LOCAL = 'kubeStatus';

/** Remembers the Status an error reply carried, for the audit event. */
export function noteErrorStatus(res: Response, status: Status): void {
  res.locals[STATUS_LOCAL] = status;
}

export function securityMiddleware(security: RequestSecurity) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const received = preciseNow();
    const auditID = randomUUID();
    res.setHeader('Audit-Id', auditID);
    const url = new URL(req.originalUrl, 'http://localhost');
    req.requestInfo = parseRequestInfo(req.method, url.pathname, url.searchParams);
    req.requestQuery = url.searchParams;
    const audit = security.audit;
    if (audit) res.once('close', () => audit.write(auditRecord(req, res, auditID, received)));

    const outcome = security.authentication.authenticate({
      authorization: req.headers.authorization,
      clientCertificate: clientCertificateOf(req.socket),
      path: url.pathname,
    });
    if ('failure' in outcome) return next(unauthorized());
    try {
      const impersonated = impersonate(outcome.user, hasImpersonationHeader(req.rawHeaders) ? req.headersDistinct : NO_HEADERS, security.authorizer);
      req.authenticatedUser = outcome.user;
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

function auditRecord(req: Request, res: Response, auditID: string, received: number): AuditRecord {
  const info = req.requestInfo;
  const status = res.locals[STATUS_LOCAL] as Status | undefined;
  const remote = req.socket.remoteAddress ?? '';
  return {
    auditID,
    requestURI: req.originalUrl,
    verb: info?.verb ?? req.method.toLowerCase(),
    user: req.authenticatedUser,
    impersonatedUser: req.impersonatedUser,
    sourceIPs: remote ? [remote.replace(/^::ffff:/, '')] : [],
    userAgent: req.headers['user-agent'],
    objectRef: info?.isResourceRequest ? {
      resource: info.resource, namespace: info.namespace, name: info.name,
      apiGroup: info.apiGroup, apiVersion: info.apiVersion, subresource: info.subresource,
    } : undefined,
    responseStatus: status
      ? { code: status.code, status: status.status, message: status.message, reason: status.reason || undefined }
      : { code: res.statusCode },
    requestReceived: received,
    stageCompleted: preciseNow(),
    decision: req.authorizationDecision,
  };
}
