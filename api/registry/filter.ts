// The predicate that list and watch share (storage.SelectionPredicate): label selector on
// metadata.labels, field selector on the strategy's selectable fields.

import type { KubeObject } from '../object.ts';
import type { ResourceStrategy } from '../resource.ts';
import { parseLabelSelector } from '../selectors/label-selector.ts';
import { checkSupportedFields, parseFieldSelector, type FieldSelector } from '../selectors/field-selector.ts';
import type { WatchIndexHint } from '../../storage/watcher-index.ts';

export interface ObjectFilter {
  /** True when the object passes both selectors. */
  matches: (object: KubeObject) => boolean;
  /** True when no selector was given (every object matches). */
  everything: boolean;
  /** Set when the field selector pins metadata.name to one value (a single-key lookup suffices). */
  exactName?: string;
  /** Set when the field selector pins an indexed field: the watch cache dispatches by its value. */
  indexHint?: WatchIndexHint;
}

// Fields whose watchers the watch cache indexes, as kube-apiserver's cacher indexes pods by
// spec.nodeName (every kubelet watches its node's pods: 5,000 watchers, one of them interested).
const INDEXED_FIELDS = ['spec.nodeName'];

// Stored objects are shared and never mutated, so their selectable fields can be computed once per
// object instead of once per watcher and event (1,000 field-selector watchers made this the watch
// path's largest cost). An object belongs to exactly one resource, so the object alone is the key.
const fieldsByObject = new WeakMap<KubeObject, Record<string, string>>();

export function selectableFields(strategy: ResourceStrategy, object: KubeObject): Record<string, string> {
  const cached = fieldsByObject.get(object);
  if (cached) return cached;
  const fields: Record<string, string> = {
    'metadata.name': object.metadata.name ?? '',
  };
  if (strategy.namespaced) fields['metadata.namespace'] = object.metadata.namespace ?? '';
  const all = strategy.selectableFields ? { ...fields, ...strategy.selectableFields(object) } : fields;
  fieldsByObject.set(object, all);
  return all;
}

export function objectFilter(strategy: ResourceStrategy, labelSelector: string | undefined, fieldSelector: string | undefined): ObjectFilter {
  const labels = labelSelector ? parseLabelSelector(labelSelector) : undefined;
  const supported = new Set(['metadata.name', ...(strategy.namespaced ? ['metadata.namespace'] : []), ...(strategy.selectableFieldNames ?? [])]);
  const fields = fieldSelector ? parseFieldSelector(fieldSelector) : undefined;
  // Kinds that declare no selectable fields of their own use the default metadata-only conversion.
  if (fields) checkSupportedFields(fields, supported, (strategy.selectableFieldNames ?? []).length === 0);
  const labelsEmpty = !labels || labels.empty;
  const fieldsEmpty = !fields || fields.empty;
  if (labelsEmpty && fieldsEmpty) return { matches: () => true, everything: true };
  const matches = (object: KubeObject): boolean => {
    if (labels && !labelsEmpty && !labels.matches(object.metadata.labels ?? {})) return false;
    if (fields && !fieldsEmpty && !fields.matches(selectableFields(strategy, object))) return false;
    return true;
  };
  return { matches, everything: false, exactName: fields?.requiredValue('metadata.name'), indexHint: fields && indexHintFor(strategy, fields) };
}

function indexHintFor(strategy: ResourceStrategy, fields: FieldSelector): WatchIndexHint | undefined {
  for (const name of INDEXED_FIELDS) {
    if (!(strategy.selectableFieldNames ?? []).includes(name)) continue;
    const value = fields.requiredValue(name);
    // selectableFields() is what the filter matches on (a missing field reads as ''), so the
    // index can never disagree with the filter.
    if (value !== undefined) return { name, value, valueOf: (object) => selectableFields(strategy, object)[name] ?? '' };
  }
  return undefined;
}
