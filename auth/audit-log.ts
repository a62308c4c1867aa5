// The audit log (--audit-log-path): audit.k8s.io/v1 Events as JSON lines, one per request and stage
// (RequestReceived, ResponseStarted for long-running requests, ResponseComplete, or Panic), at the
// level the audit policy gives the request (Metadata for everything without --audit-policy-file):
// who (user, impersonatedUser, source IPs, user agent), what (verb, requestURI, objectRef), the
// outcome (responseStatus), the authorization decision, and at levels Request/RequestResponse the
// request and response objects. `-` writes to standard output, as kube-apiserver's flag does; a file
// rotates as kube-apiserver's lumberjack logger does (--audit-log-maxsize MB, default 100;
// --audit-log-maxbackup files kept, 0 = all; --audit-log-maxage days, 0 = no limit).

import { createWriteStream, readdirSync, renameSync, statSync, unlinkSync, type WriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { AuditLevel, AuditStage } from './audit-policy.ts';
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
  level: AuditLevel;
  stage: AuditStage;
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
  /** Levels Request and RequestResponse: the request body (a JSON object or patch). */
  requestObject?: unknown;
  /** Level RequestResponse: the JSON reply. */
  responseObject?: unknown;
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
  const withRequest = record.level === 'Request' || record.level === 'RequestResponse';
  return {
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: record.level,
    auditID: record.auditID,
    stage: record.stage,
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
    ...(record.stage === 'RequestReceived' ? {} : {
      responseStatus: {
        metadata: {},
        ...(record.responseStatus.status ? { status: record.responseStatus.status } : {}),
        ...(record.responseStatus.message ? { message: record.responseStatus.message } : {}),
        ...(record.responseStatus.reason ? { reason: record.responseStatus.reason } : {}),
        code: record.responseStatus.code,
      },
    }),
    ...(withRequest && record.requestObject !== undefined ? { requestObject: record.requestObject } : {}),
    ...(record.level === 'RequestResponse' && record.responseObject !== undefined ? { responseObject: record.responseObject } : {}),
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

export interface AuditLogRotation {
  /** --audit-log-maxsize in megabytes; 0 means lumberjack's default, 100. */
  maxSizeMB: number;
  /** --audit-log-maxbackup: rotated files kept; 0 keeps them all. */
  maxBackups: number;
  /** --audit-log-maxage in days; 0 keeps them whatever their age. */
  maxAgeDays: number;
}

const DEFAULT_ROTATION: AuditLogRotation = { maxSizeMB: 0, maxBackups: 0, maxAgeDays: 0 };

/** lumberjack's backup name: `audit-2006-01-02T15-04-05.000.log` next to `audit.log` (UTC). */
export function backupName(file: string, now: Date): string {
  const ext = path.extname(file);
  const base = file.slice(0, file.length - ext.length);
  return `${base}-${now.toISOString().replace(/:/g, '-').replace(/Z$/, '')}${ext}`;
}

export class AuditLog {
  private size = 0;

  private constructor(
    private stream: WriteStream | NodeJS.WriteStream,
    private readonly owned: boolean,
    private readonly file: string,
    private readonly rotation: AuditLogRotation,
  ) {}

  static async open(file: string, rotation: AuditLogRotation = DEFAULT_ROTATION): Promise<AuditLog> {
    if (file === '-') return new AuditLog(process.stdout, false, file, rotation);
    await mkdir(path.dirname(path.resolve(file)), { recursive: true });
    const log = new AuditLog(await openStream(file), true, file, rotation);
    try {
      log.size = statSync(file).size;
    } catch {
      log.size = 0;
    }
    return log;
  }

  write(record: AuditRecord): void {
    const line = `${JSON.stringify(auditEvent(record))}\n`;
    const bytes = Buffer.byteLength(line);
    if (this.owned && this.size > 0 && this.size + bytes > this.maxBytes()) this.rotate();
    this.stream.write(line);
    this.size += bytes;
  }

  private maxBytes(): number {
    return (this.rotation.maxSizeMB > 0 ? this.rotation.maxSizeMB : 100) * 1024 * 1024;
  }

  /** Renames the current file to its backup name (the old stream flushes into it) and starts a new one. */
  private rotate(): void {
    const old = this.stream as WriteStream;
    renameSync(this.file, backupName(this.file, new Date()));
    this.stream = createWriteStream(this.file, { flags: 'a', mode: 0o600 });
    this.size = 0;
    old.end();
    this.removeOldBackups();
  }

  private removeOldBackups(): void {
    const dir = path.dirname(path.resolve(this.file));
    const ext = path.extname(this.file);
    const prefix = `${path.basename(this.file, ext)}-`;
    const backups = readdirSync(dir)
      .filter((name) => name.startsWith(prefix) && name.endsWith(ext))
      .map((name) => ({ name, time: Date.parse(`${name.slice(prefix.length, name.length - ext.length).replace(/T(\d\d)-(\d\d)-(\d\d)/, 'T$1:$2:$3')}Z`) }))
      .filter((backup) => Number.isFinite(backup.time))
      .sort((a, b) => b.time - a.time);
    const cutoff = this.rotation.maxAgeDays > 0 ? Date.now() - this.rotation.maxAgeDays * 86_400_000 : -Infinity;
    backups.forEach((backup, index) => {
      const tooMany = this.rotation.maxBackups > 0 && index >= this.rotation.maxBackups;
      if (tooMany || backup.time < cutoff) unlinkSync(path.join(dir, backup.name));
    });
  }

  async close(): Promise<void> {
    if (!this.owned) return;
    await new Promise<void>((resolve) => (this.stream as WriteStream).end(() => resolve()));
  }
}

async function openStream(file: string): Promise<WriteStream> {
  const stream = createWriteStream(file, { flags: 'a', mode: 0o600 });
  await new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', reject);
  });
  return stream;
}
