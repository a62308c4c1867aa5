// Helpers shared by the table convertors, mirroring pkg/printers/internalversion/printers.go and
// k8s.io/apimachinery/pkg/util/duration. The server always prints the wide form (kubectl hides
// priority-1 columns itself), as kube-apiserver's TableConvertor does.

import type { TableColumnDefinition } from '../resource.ts';
import { isPlainObject, ownValue } from '../object.ts';

/** duration.HumanDuration: `5s`, `2m3s`, `10m`, `3h`, `2d4h`, `5y`; "<invalid>" for clock skew beyond 2s. */
export function humanDuration(milliseconds: number): string {
  const seconds = Math.trunc(milliseconds / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.trunc(seconds / 60);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.trunc(minutes / 60);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${Math.trunc(hours / 24)}d` : `${Math.trunc(hours / 24)}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const days = Math.trunc(hours / 24) % 365;
    const years = Math.trunc(hours / 24 / 365);
    return days === 0 ? `${years}y` : `${years}y${days}d`;
  }
  return `${Math.trunc(hours / 24 / 365)}y`;
}

/** translateTimestampSince: `<unknown>` for a missing timestamp. */
export function age(timestamp: unknown, now: Date): string {
  if (typeof timestamp !== 'string' || timestamp === '') return '<unknown>';
  const at = Date.parse(timestamp);
  if (Number.isNaN(at)) return '<unknown>';
  return humanDuration(now.getTime() - at);
}

// ---- safe readers for untyped JSON ----

export function field(value: unknown, ...path: (string | number)[]): unknown {
  let current = value;
  for (const key of path) {
    if (typeof key === 'number') {
      if (!Array.isArray(current)) return undefined;
      current = current[key];
    } else {
      if (!isPlainObject(current)) return undefined;
      current = ownValue(current, key);
    }
  }
  return current;
}

export function str(value: unknown, ...path: (string | number)[]): string {
  const v = field(value, ...path);
  return typeof v === 'string' ? v : '';
}

export function num(value: unknown, ...path: (string | number)[]): number | undefined {
  const v = field(value, ...path);
  return typeof v === 'number' ? v : undefined;
}

export function list(value: unknown, ...path: (string | number)[]): Record<string, unknown>[] {
  const v = field(value, ...path);
  return Array.isArray(v) ? v.filter(isPlainObject) : [];
}

export function obj(value: unknown, ...path: (string | number)[]): Record<string, unknown> | undefined {
  const v = field(value, ...path);
  return isPlainObject(v) ? v : undefined;
}

// ---- column definitions ----

/** Descriptions are the upstream SwaggerDoc strings (the same text as the OpenAPI descriptions). */
export const DESCRIPTIONS = {
  name: 'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names',
  creationTimestamp: 'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata',
} as const;

export function column(name: string, description: string, priority = 0, format = ''): TableColumnDefinition {
  return { name, type: 'string', format, description, priority };
}

export const nameColumn = (): TableColumnDefinition => column('Name', DESCRIPTIONS.name, 0, 'name');
export const ageColumn = (): TableColumnDefinition => column('Age', DESCRIPTIONS.creationTimestamp);
