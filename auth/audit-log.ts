// The audit log (--audit-log-path): one audit.k8s.io/v1 Event per request, JSON lines, written at level
// Metadata when the response completes (stage ResponseComplete): who (user, impersonatedUser, source IPs,
// user agent), what (verb, requestURI, objectRef), the outcome (responseStatus) and the authorization
// decision. `-` writes to standard output, as kube-apiserver's flag does.

import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { UserInfo } from './user.ts';

export interface AuditObjectRef {
  resource?: string;
  namespace?: string;
  name?: string;
  apiGroup?: string;
  apiVersion?: string;
  subresource?: string;
}

export interface AuditResponseStatus {
  code: number;
  status?: string;
  message?: string;
  reason?: string;
}

export interface AuditRecord {
  auditID: string;
  requestURI: string;
  verb: string;
  /** The authenticated user; undefined when authentication failed. */
  user?: UserInfo;
  impersonatedUser?: UserInfo;
  sourceIPs: string[];
  userAgent?: string;
  objectRef?: AuditObjectRef;
  responseStatus: AuditResponseStatus;
  requestReceived: number;
  stageCompleted: number;
  /** authorization.k8s.io/decision and /reason, once authorization ran. */
  decision?: { decision: 'allow' | 'forbid'; reason: string };
  /** Admission's annotations (webhooks' auditAnnotations, ValidatingAdmissionPolicy audit). */
  annotations?: Record<string, string>;
}

/** MicroTime: RFC 3339 in UTC with six fraction digits, from an epoch time in (fractional) milliseconds. */
export function microTime(epochMs: number): string {
  const micros = Math.floor(epochMs * 1000);
  const base = new Date(Math.floor(micros / 1000)).toISOString().slice(0, 19);
  return `${base}.${String(micros % 1_000_000).padStart(6, '0')}Z`;
}

/** The current time with sub-millisecond precision. */
export function preciseNow(): number {
  return performance.timeOrigin + performance.now();
}

function userJson(user: UserInfo): Record<string, unknown> {
  return {
    username: user.username,
    ...(user.uid ? { uid: user.uid } : {}),
    ...(user.groups.length ? { groups: user.groups } : {}),
    ...(user.extra && Object.keys(user.extra).length ? { extra: user.extra } : {}),
  };
}

export function auditEvent(record: AuditRecord): Record<string, unknown> {
  const ref = record.objectRef;
  return {
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: 'Metadata',
    auditID: record.auditID,
    stage: 'ResponseComplete',
    requestURI: record.requestURI,
    verb: record.verb,
    user: record.user ? userJson(record.user) : {},
    ...(record.impersonatedUser ? { impersonatedUser: userJson(record.impersonatedUser) } : {}),
    sourceIPs: record.sourceIPs,
    ...(record.userAgent ? { userAgent: record.userAgent } : {}),
    ...(ref ? {
      objectRef: {
        ...(ref.resource ? { resource: ref.resource } : {}),
        ...(ref.namespace ? { namespace: ref.namespace } : {}),
        ...(ref.name ? { name: ref.name } : {}),
        ...(ref.apiGroup ? { apiGroup: ref.apiGroup } : {}),
        ...(ref.apiVersion ? { apiVersion: ref.apiVersion } : {}),
        ...(ref.subresource ? { subresource: ref.subresource } : {}),
      },
    } : {}),
    responseStatus: {
      metadata: {},
      ...(record.responseStatus.status ? { status: record.responseStatus.status } : {}),
      ...(record.responseStatus.message ? { message: record.responseStatus.message } : {}),
      ...(record.responseStatus.reason ? { reason: record.responseStatus.reason } : {}),
      code: record.responseStatus.code,
    },
    requestReceivedTimestamp: microTime(record.requestReceived),
    stageTimestamp: microTime(record.stageCompleted),
    ...(record.decision || (record.annotations && Object.keys(record.annotations).length) ? {
      annotations: {
        ...(record.decision ? {
          'authorization.k8s.io/decision': record.decision.decision,
          'authorization.k8s.io/reason': record.decision.reason,
        } : {}),
        ...(record.annotations ?? {}),
      },
    } : {}),
  };
}

export class AuditLog {
  private constructor(private readonly stream: WriteStream | NodeJS.WriteStream, private readonly owned: boolean) {}

  static async open(file: string): Promise<AuditLog> {
    if (file === '-') return new AuditLog(process.stdout, false);
    await mkdir(path.dirname(path.resolve(file)), { recursive: true });
    const stream = createWriteStream(file, { flags: 'a', mode: 0o600 });
    await new Promise<void>((resolve, reject) => {
      stream.once('open', () => resolve());
      stream.once('error', reject);
    });
    return new AuditLog(stream, true);
  }

  write(record: AuditRecord): void {
    this.stream.write(`${JSON.stringify(auditEvent(record))}\n`);
  }

  async close(): Promise<void> {
    if (!this.owned) return;
    await new Promise<void>((resolve) => (this.stream as WriteStream).end(() => resolve()));
  }
}
