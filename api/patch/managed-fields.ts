// metadata.managedFields as kube-apiserver's fieldmanager keeps them: decoding into per-manager
// field sets, encoding back (sorted like sortEncodedManagedFields), the manager identity that
// decides which entry an operation updates, and the fields no manager ever owns.

import type { KubeObject, ManagedFieldsEntry } from '../object.ts';
import type { SchemaNode } from '../openapi/schema-node.ts';
import { fieldElement, fromFieldsV1, pathKey, toFieldsV1, withoutSubtrees, type FieldSet } from './field-set.ts';
import { isPlainObject, type JsonMap } from './json-value.ts';

export interface ManagerEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time: string | undefined;
  subresource: string;
  fields: FieldSet;
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
    const entry: ManagerEntry = {
      manager: text(raw.manager),
      operation: raw.operation === 'Apply' ? 'Apply' : 'Update',
      apiVersion: text(raw.apiVersion),
      time: text(raw.time) || undefined,
      subresource: text(raw.subresource),
      fields: fromFieldsV1(raw.fieldsV1),
    };
    const identity = managerIdentity(entry);
    const previous = managers.get(identity);
    if (previous) for (const path of entry.fields) previous.fields.add(path);
    else managers.set(identity, entry);
  }
  return managers;
}

/** Entries with empty sets are dropped; Apply entries come first, then by time, manager, apiVersion, subresource. */
export function encodeManagedFields(managers: Map<string, ManagerEntry>): ManagedFieldsEntry[] {
  const entries = [...managers.values()].filter((entry) => entry.fields.size > 0);
  entries.sort((p, q) => {
    if (p.operation !== q.operation) return p.operation < q.operation ? -1 : 1;
    const pSeconds = p.time ? Date.parse(p.time) : 0;
    const qSeconds = q.time ? Date.parse(q.time) : 0;
    if (pSeconds !== qSeconds) return pSeconds - qSeconds;
    if (p.manager !== q.manager) return p.manager < q.manager ? -1 : 1;
    if (p.apiVersion !== q.apiVersion) return p.apiVersion < q.apiVersion ? -1 : 1;
    return p.subresource < q.subresource ? -1 : p.subresource > q.subresource ? 1 : 0;
  });
  return entries.map((entry) => {
    const encoded: ManagedFieldsEntry = {
      manager: entry.manager,
      operation: entry.operation,
      apiVersion: entry.apiVersion,
    };
    if (entry.time) encoded.time = entry.time;
    encoded.fieldsType = 'FieldsV1';
    encoded.fieldsV1 = toFieldsV1(entry.fields);
    if (entry.subresource) encoded.subresource = entry.subresource;
    return encoded;
  });
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

/**
 * The fields an operation may own: without the stripped metadata, and without the part of the
 * object the endpoint resets (status on the main resource, spec on /status) — the strategies'
 * GetResetFields.
 */
export function trackedFields(set: FieldSet, subresource: string | undefined): FieldSet {
  const ignored = subresource === 'status' ? [[fieldElement('spec')]] : subresource ? [] : [[fieldElement('status')]];
  const result = withoutSubtrees(set, ignored);
  for (const path of STRIPPED_PATHS) result.delete(path);
  return result;
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

/**
 * What a freshly created Go object of the kind looks like before the request is applied to it
 * (objectCreater.New): top-level structs exist, required lists and maps inside them are null.
 * Comparing against it is what makes a create record `.metadata.labels` but not `.spec`.
 */
export function emptyObjectOf(schema: SchemaNode): JsonMap {
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
