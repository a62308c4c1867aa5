// metadata.managedFields as kube-apiserver's fieldmanager keeps them: decoding into per-manager
// field sets, encoding back (sorted like sortEncodedManagedFields), the manager identity that
// decides which entry an operation updates, and the fields no manager ever owns.
// Entries' sets are shared with the FieldsV1 memo (fields-v1.ts): replace them, never modify them.

import type { JsonObject, KubeObject, ManagedFieldsEntry } from '../object.ts';
import type { SchemaNode } from '../openapi/schema-node.ts';
import { fieldElement, pathKey, union, type FieldSet } from './field-set.ts';
import { decodeFieldsV1, encodeFieldsV1, rememberDecoded, type KnownEncoding } from './fields-v1.ts';
import { isPlainObject, type JsonMap } from './json-value.ts';
import type { OwnershipFilter } from './typed-compare.ts';

export interface ManagerEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time: string | undefined;
  subresource: string;
  /** Shared with the FieldsV1 memo: replace it, never modify it. */
  fields: FieldSet;
  /** How `fields` encodes, when known without encoding it (only while it is still `fields`). */
  encoding?: KnownEncoding;
}

/**
 * BuildManagerIdentifier: appliers are identified without their apiVersion so each apply
 * replaces the previous one; updaters keep one entry per apiVersion.
 */
export function managerIdentity(entry: Pick<ManagerEntry, 'manager' | 'operation' | 'apiVersion' | 'subresource'>): string {
  const apiVersion = entry.operation === 'Apply' ? '' : entry.apiVersion;
  return JSON.stringify([entry.manager, entry.operation, apiVersion, entry.subresource]);
}

export function decodeManagedFields(entries: ManagedFieldsEntry[] | undefined): Map<string, ManagerEntry> {
  const managers = new Map<string, ManagerEntry>();
  for (const raw of entries ?? []) {
    if (!isPlainObject(raw)) continue;
    const text = (value: unknown) => (typeof value === 'string' ? value : '');
    const decoded = decodeFieldsV1(raw.fieldsV1);
    const entry: ManagerEntry = {
      manager: text(raw.manager),
      operation: raw.operation === 'Apply' ? 'Apply' : 'Update',
      apiVersion: text(raw.apiVersion),
      time: text(raw.time) || undefined,
      subresource: text(raw.subresource),
      fields: decoded.set,
      encoding: decoded.canonical ? { fields: decoded.set, fieldsV1: raw.fieldsV1 as JsonObject } : undefined,
    };
    const identity = managerIdentity(entry);
    const previous = managers.get(identity);
    if (previous) previous.fields = union(previous.fields, entry.fields);
    else managers.set(identity, entry);
  }
  return managers;
}

/** Entries with empty sets are dropped; Apply entries come first, then by time, manager, apiVersion, subresource. */
export function encodeManagedFields(managers: Map<string, ManagerEntry>): ManagedFieldsEntry[] {
  const entries: { entry: ManagerEntry; seconds: number }[] = [];
  for (const entry of managers.values()) if (entry.fields.size > 0) entries.push({ entry, seconds: entry.time ? Date.parse(entry.time) : 0 });
  entries.sort(({ entry: p, seconds: pSeconds }, { entry: q, seconds: qSeconds }) => {
    if (p.operation !== q.operation) return p.operation < q.operation ? -1 : 1;
    if (pSeconds !== qSeconds) return pSeconds - qSeconds;
    if (p.manager !== q.manager) return p.manager < q.manager ? -1 : 1;
    if (p.apiVersion !== q.apiVersion) return p.apiVersion < q.apiVersion ? -1 : 1;
    return p.subresource < q.subresource ? -1 : p.subresource > q.subresource ? 1 : 0;
  });
  return entries.map(({ entry }) => {
    const encoded: ManagedFieldsEntry = {
      manager: entry.manager,
      operation: entry.operation,
      apiVersion: entry.apiVersion,
    };
    if (entry.time) encoded.time = entry.time;
    encoded.fieldsType = 'FieldsV1';
    const fieldsV1 = encodeFieldsV1(entry.fields, entry.encoding);
    // An Update entry's set order never matters, so the next write may decode straight to it;
    // an Apply entry's set is iterated when fields are abandoned and must come back in document order.
    if (entry.operation === 'Update') rememberDecoded(fieldsV1, entry.fields);
    encoded.fieldsV1 = fieldsV1;
    if (entry.subresource) encoded.subresource = entry.subresource;
    return encoded;
  });
}

/** capmanagers.go's DefaultMaxUpdateManagers. */
export const MAX_UPDATE_MANAGERS = 10;
const OLD_UPDATES_MANAGER = 'ancient-changes';

/** BuildManagerIdentifier's JSON, the tie-break capUpdateManagers sorts by. */
function goManagerIdentifier(entry: ManagerEntry): string {
  return JSON.stringify({
    manager: entry.manager, operation: entry.operation, apiVersion: entry.apiVersion,
    ...(entry.subresource ? { subresource: entry.subresource } : {}),
  });
}

/**
 * capManagersManager.capUpdateManagers: an object updated by many managers (every kubectl
 * version, every controller) keeps at most MAX_UPDATE_MANAGERS Update entries. The oldest are
 * folded, per apiVersion, into one `ancient-changes` entry owning the union of their fields and
 * carrying the newest folded time. Apply entries are never capped.
 */
export function capUpdateManagers(managers: Map<string, ManagerEntry>, max = MAX_UPDATE_MANAGERS): void {
  const updaters = [...managers].filter(([, entry]) => entry.operation === 'Update' && entry.fields.size > 0);
  if (updaters.length <= max) return;
  const seconds = (entry: ManagerEntry) => (entry.time ? Math.floor(Date.parse(entry.time) / 1000) || 0 : 0);
  updaters.sort(([, a], [, b]) => {
    const bySeconds = seconds(a) - seconds(b);
    if (bySeconds !== 0) return bySeconds;
    const ia = goManagerIdentifier(a);
    const ib = goManagerIdentifier(b);
    return ia < ib ? -1 : ia > ib ? 1 : 0;
  });
  const firstByVersion = new Map<string, string>();
  let length = updaters.length;
  for (let i = 0; i < updaters.length && length > max; i++) {
    const [identity, entry] = updaters[i];
    const bucketEntry = { manager: OLD_UPDATES_MANAGER, operation: 'Update' as const, apiVersion: entry.apiVersion, subresource: '' };
    const bucket = managerIdentity(bucketEntry);
    const first = firstByVersion.get(entry.apiVersion);
    if (first === undefined) {
      firstByVersion.set(entry.apiVersion, identity);
      continue;
    }
    if (!managers.has(bucket)) {
      const firstEntry = managers.get(first)!;
      managers.delete(first);
      managers.set(bucket, { ...firstEntry, ...bucketEntry, encoding: undefined });
    }
    const merged = managers.get(bucket)!;
    managers.set(bucket, { ...merged, fields: union(merged.fields, entry.fields), time: entry.time, encoding: undefined });
    managers.delete(identity);
    length--;
  }
}

/** RFC 3339 with second precision, as metav1.Time serialises. */
export function formatTime(now: Date): string {
  return now.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** stripMetaManager's paths: server-owned metadata that no manager is recorded as owning. */
const STRIPPED_PATHS = [
  ['apiVersion'], ['kind'], ['metadata'], ['metadata', 'name'], ['metadata', 'namespace'],
  ['metadata', 'creationTimestamp'], ['metadata', 'selfLink'], ['metadata', 'uid'], ['metadata', 'clusterName'],
  ['metadata', 'generation'], ['metadata', 'managedFields'], ['metadata', 'resourceVersion'],
].map((names) => pathKey(names.map(fieldElement)));

const STRIPPED = new Set(STRIPPED_PATHS);
const MAIN_RESOURCE_FILTER: OwnershipFilter = { ignoredTopLevel: fieldElement('status'), stripped: STRIPPED };
const STATUS_FILTER: OwnershipFilter = { ignoredTopLevel: fieldElement('spec'), stripped: STRIPPED };
const OTHER_SUBRESOURCE_FILTER: OwnershipFilter = { ignoredTopLevel: undefined, stripped: STRIPPED };

/**
 * The fields an operation may own: without the stripped metadata, and without the part of the
 * object the endpoint resets (status on the main resource, spec on /status) — the strategies'
 * GetResetFields. Applied while walking, so excluded subtrees are never visited.
 */
export function ownershipFilter(subresource: string | undefined): OwnershipFilter {
  return subresource === 'status' ? STATUS_FILTER : subresource ? OTHER_SUBRESOURCE_FILTER : MAIN_RESOURCE_FILTER;
}

/** The object without metadata.managedFields (shallow: only the top level and metadata are new). */
export function withoutManagedFields(object: KubeObject): JsonMap {
  const { managedFields: _ignored, ...metadata } = object.metadata ?? {};
  return { ...(object as unknown as JsonMap), metadata };
}

export function withManagedFields(object: JsonMap, entries: ManagedFieldsEntry[]): KubeObject {
  const metadata = { ...(isPlainObject(object.metadata) ? object.metadata : {}) } as KubeObject['metadata'];
  if (entries.length > 0) metadata.managedFields = entries;
  else delete metadata.managedFields;
  return { ...object, metadata } as KubeObject;
}

/** Per kind schema: a create compares against it on every request. */
const emptyObjects = new WeakMap<SchemaNode, Readonly<JsonMap>>();

/**
 * What a freshly created Go object of the kind looks like before the request is applied to it
 * (objectCreater.New): top-level structs exist, required lists and maps inside them are null.
 * Comparing against it is what makes a create record `.metadata.labels` but not `.spec`.
 * Memoised and shared: callers only read it.
 */
export function emptyObjectOf(schema: SchemaNode): Readonly<JsonMap> {
  let empty = emptyObjects.get(schema);
  if (!empty) {
    empty = buildEmptyObject(schema);
    emptyObjects.set(schema, empty);
  }
  return empty;
}

function buildEmptyObject(schema: SchemaNode): JsonMap {
  const empty: JsonMap = {};
  for (const [name, node] of Object.entries(schema.properties ?? {})) {
    if (node.type !== 'object' || !node.properties) continue;
    const struct: JsonMap = {};
    for (const required of node.required ?? []) {
      const field = node.properties[required];
      if (field && (field.type === 'array' || field.type === 'object')) struct[required] = null;
    }
    empty[name] = struct;
  }
  return empty;
}
