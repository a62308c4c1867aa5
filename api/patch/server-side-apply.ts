// Field ownership for writes, after kube-apiserver's fieldmanager on top of structured-merge-diff:
// server-side apply (merge the applied configuration, drop what the applier stopped specifying,
// refuse to take fields other managers own unless forced) and the Update bookkeeping that
// create/update/non-apply patches do (the writer takes every field it changed from everyone).
// Managers' field sets are shared with the FieldsV1 memo: they are replaced, never modified, so
// an entry whose set did not change is written back as the FieldsV1 object it was read from.

import { badRequest, StatusError } from '../errors.ts';
import type { JsonObject, KubeObject, ManagedFieldsEntry } from '../object.ts';
import { createdFieldsV1 } from './created-fields.ts';
import type { SchemaNode } from '../openapi/schema-node.ts';
import { difference, intersection, overlaps, ownsPathOrBelow, pathString, union, type FieldSet } from './field-set.ts';
import { isPlainObject, jsonEqual, type JsonMap } from './json-value.ts';
import {
  capUpdateManagers, decodeManagedFields, emptyObjectOf, encodeManagedFields, formatTime, managerIdentity, ownershipFilter,
  withManagedFields, withoutManagedFields, type ManagerEntry,
} from './managed-fields.ts';
import { ownedChanges, ownedFieldSetOf } from './typed-compare.ts';
import { mergeInto, removePaths } from './typed-value.ts';

export interface ServerSideApplyArgs {
  live: KubeObject | undefined;
  applied: KubeObject;
  manager: string;
  force: boolean;
  schema: SchemaNode;
  apiVersion: string;
  now: Date;
  subresource?: string;
}

export interface TrackUpdateArgs {
  old: KubeObject | undefined;
  updated: KubeObject;
  manager: string;
  schema: SchemaNode;
  apiVersion: string;
  now: Date;
  subresource?: string;
}

/** Manager recorded for fields of an object that had no managedFields when first applied to. */
const BEFORE_FIRST_APPLY = 'before-first-apply';

export function serverSideApply(args: ServerSideApplyArgs): KubeObject {
  const { live, applied, manager, force, schema, apiVersion } = args;
  const subresource = args.subresource ?? '';
  const time = formatTime(args.now);
  checkApplied(applied, apiVersion, schema);

  const filter = ownershipFilter(subresource);
  const managers = decodeManagedFields(live?.metadata?.managedFields);
  const liveBase: Readonly<JsonMap> = live ? withoutManagedFields(live) : emptyObjectOf(schema);
  if (live && managers.size === 0) {
    recordUpdate(managers, emptyObjectOf(schema), liveBase, BEFORE_FIRST_APPLY, apiVersion, subresource, time, schema);
  }

  const merged = mergeInto(live ? structuredClone(liveBase) : {}, applied as unknown as JsonMap, schema);

  const identity = managerIdentity({ manager, operation: 'Apply', apiVersion, subresource });
  const previous = managers.get(identity);
  const appliedFields = ownedFieldSetOf(applied, schema, filter);
  const appliedSet = appliedFields.set;
  const applier: ManagerEntry = {
    manager, operation: 'Apply', apiVersion, time: previous?.time, subresource, fields: appliedSet,
    encoding: appliedFields.trie && { fields: appliedSet, trie: appliedFields.trie },
  };
  managers.set(identity, applier);

  if (previous && previous.fields.size > 0) {
    // Fields this applier set last time and no longer does go away unless someone still owns them.
    const owners = [...managers.values()].map((entry) => entry.fields);
    const abandoned = [...difference(previous.fields, appliedSet)]
      .filter((path) => !owners.some((owned) => ownsPathOrBelow(owned, path)));
    removePaths(merged, abandoned, schema, appliedSet);
  }

  const { changed: { set: changed }, removed } = ownedChanges(liveBase, merged, schema, filter, false);
  const conflicts: Conflict[] = [];
  for (const [id, entry] of managers) {
    if (id === identity) continue;
    const taken = intersection(entry.fields, changed);
    if (taken.size > 0) conflicts.push({ entry, paths: [...taken] });
  }
  if (conflicts.length > 0 && !force) throw conflictError(conflicts);
  // A forced apply takes the conflicting fields; removed fields leave every other set.
  const taken = new Map(conflicts.map(({ entry, paths }) => [entry, new Set(paths)]));
  for (const [id, entry] of managers) if (id !== identity) entry.fields = difference(entry.fields, taken.get(entry) ?? NOTHING, removed);

  if (!live || !applier.time || !jsonEqual(liveBase, merged)) applier.time = time;
  return withManagedFields(merged, encodeManagedFields(managers));
}

export function trackUpdateManagedFields(args: TrackUpdateArgs): KubeObject {
  const { old, updated, manager, schema, apiVersion } = args;
  const subresource = args.subresource ?? '';
  const updatedBase = withoutManagedFields(updated);
  const requested = updated.metadata?.managedFields;
  // `managedFields: [{}]` is the documented way to clear ownership; `[]` keeps the stored entries.
  if (Array.isArray(requested) && requested.length > 0 && requested.every((e) => isPlainObject(e) && Object.keys(e).length === 0)) {
    return withManagedFields(updatedBase, []);
  }
  if (!old && (subresource || requested === undefined || (Array.isArray(requested) && requested.length === 0))) {
    // A create with no managers to take fields from: its set is the whole object, encoded in one walk.
    const created = createdFieldsV1(emptyObjectOf(schema), updatedBase, schema, ownershipFilter(subresource));
    if (created.exact) return withManagedFields(updatedBase, created.fieldsV1 ? [createdEntry(args, subresource, created.fieldsV1)] : []);
  }
  const requestedManagers = subresource ? new Map<string, ManagerEntry>() : decodeManagedFields(requested);
  const managers = requestedManagers.size > 0 ? requestedManagers : decodeManagedFields(old?.metadata?.managedFields);
  const oldBase: Readonly<JsonMap> = old ? withoutManagedFields(old) : emptyObjectOf(schema);
  recordUpdate(managers, oldBase, updatedBase, manager, apiVersion, subresource, formatTime(args.now), schema);
  capUpdateManagers(managers);
  return withManagedFields(updatedBase, encodeManagedFields(managers));
}

const NOTHING: ReadonlySet<string> = new Set();

/** The one entry a create records, as encodeManagedFields writes an Update entry. */
function createdEntry(args: TrackUpdateArgs, subresource: string, fieldsV1: JsonObject): ManagedFieldsEntry {
  const entry: ManagedFieldsEntry = {
    manager: args.manager, operation: 'Update', apiVersion: args.apiVersion, time: formatTime(args.now), fieldsType: 'FieldsV1', fieldsV1,
  };
  if (subresource) entry.subresource = subresource;
  return entry;
}

/** One Update operation: the writer takes what it added or changed; removed fields leave every set. */
function recordUpdate(
  managers: Map<string, ManagerEntry>, before: Readonly<JsonMap>, after: Readonly<JsonMap>, manager: string,
  apiVersion: string, subresource: string, time: string, schema: SchemaNode,
): void {
  const identity = managerIdentity({ manager, operation: 'Update', apiVersion, subresource });
  const previous = managers.get(identity);
  // A writer new to the object takes exactly what it changed: worth building that set's trie on the way.
  const { changed, removed } = ownedChanges(before, after, schema, ownershipFilter(subresource), !previous);
  const taken = changed.set;
  for (const entry of managers.values()) entry.fields = difference(entry.fields, taken, removed);
  if (taken.size === 0) return;
  const fields = previous ? writerFields(previous.fields, taken, removed) : taken;
  const encoding = fields === taken ? changed.trie && { fields, trie: changed.trie } : previous?.encoding;
  managers.set(identity, { manager, operation: 'Update', apiVersion, time, subresource, fields, encoding });
}

/**
 * The writer's set after the write, `(previous − taken − removed) ∪ taken`: the previous set
 * itself when the write only touched fields the writer already owned (the usual status update).
 */
function writerFields(previous: FieldSet, taken: FieldSet, removed: FieldSet): FieldSet {
  if (!overlaps(previous, removed) && isSubset(taken, previous)) return previous;
  return union(difference(previous, taken, removed), taken);
}

function isSubset(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.size > b.size) return false;
  for (const path of a) if (!b.has(path)) return false;
  return true;
}

function checkApplied(applied: KubeObject, apiVersion: string, schema: SchemaNode): void {
  if (!isPlainObject(applied)) throw badRequest('error decoding YAML: the applied configuration must be an object');
  if (applied.metadata?.managedFields !== undefined) throw badRequest('metadata.managedFields must be nil');
  const kinds = schema['x-kubernetes-group-version-kind'] ?? [];
  const appliedVersion = typeof applied.apiVersion === 'string' ? applied.apiVersion : '';
  const appliedKind = typeof applied.kind === 'string' ? applied.kind : '';
  const kindMatches = kinds.length === 0 || kinds.some((gvk) => gvk.kind === appliedKind);
  if (appliedVersion !== apiVersion || !kindMatches || !appliedKind) {
    const slash = appliedVersion.indexOf('/');
    const group = slash >= 0 ? appliedVersion.slice(0, slash) : '';
    const version = slash >= 0 ? appliedVersion.slice(slash + 1) : appliedVersion;
    throw badRequest(`invalid object type: ${group}/${version}, Kind=${appliedKind}`);
  }
}

interface Conflict {
  entry: ManagerEntry;
  paths: string[];
}

/** printManager: `"kubectl-label" using v1`, `"kubectl" with subresource "status"`. */
function printManager(entry: ManagerEntry): string {
  let text = JSON.stringify(entry.manager);
  if (entry.subresource) text += ` with subresource ${JSON.stringify(entry.subresource)}`;
  if (entry.operation === 'Update') text += ` using ${entry.apiVersion}`;
  return text;
}

/** fieldmanager's NewConflictError: 409 Conflict, one FieldManagerConflict cause per field. */
function conflictError(conflicts: Conflict[]): StatusError {
  const sorted = conflicts
    .map((c) => ({ identity: managerIdentity(c.entry), printed: printManager(c.entry), paths: c.paths.sort().map(pathString) }))
    .sort((a, b) => (a.identity < b.identity ? -1 : a.identity > b.identity ? 1 : 0));
  const flat = sorted.flatMap((c) => c.paths.map((path) => ({ printed: c.printed, path })));
  let message: string;
  if (flat.length === 1) {
    message = `Apply failed with 1 conflict: conflict with ${flat[0].printed}: ${flat[0].path}`;
  } else {
    const lines = sorted.flatMap((c) => [`conflicts with ${c.printed}:`, ...c.paths.map((path) => `- ${path}`)]);
    message = `Apply failed with ${flat.length} conflicts: ${lines.join('\n')}`;
  }
  return new StatusError(409, 'Conflict', message, {
    causes: flat.map(({ printed, path }) => ({ reason: 'FieldManagerConflict', message: `conflict with ${printed}`, field: path })),
  });
}

