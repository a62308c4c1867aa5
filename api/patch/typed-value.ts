// Walking an object against its schema the way structured-merge-diff's typed values do: the
// path element of a list item, the merge of an applied configuration into a live object, and
// removal of owned paths. Comparing two versions is in typed-compare.ts.
// List items are identified by their list-map keys (or by value in sets); atomic lists and maps
// are leaves.

import { ownValue, setOwnValue } from '../object.ts';
import type { SchemaNode } from '../openapi/schema-node.ts';
import { keyElement, pathKey, splitPathKey, valueElement, type FieldPath } from './field-set.ts';
import { isPlainObject, type JsonMap } from './json-value.ts';
import { fieldSchema, isAtomicMap, itemSchema, listSemantics, mapKeyPlan, type ListSemantics } from './schema-lookup.ts';

/** The path element naming one item of an associative list; undefined for atomic lists. */
export function itemElement(item: unknown, semantics: ListSemantics, schema: SchemaNode | undefined): string | undefined {
  if (semantics.kind === 'set') return valueElement(item);
  if (semantics.kind !== 'map' || !isPlainObject(item)) return undefined;
  const plan = mapKeyPlan(schema, semantics.keys);
  if (plan.indexLikeName) return slowKeyElement(item, semantics.keys, schema);
  let body = '';
  for (let i = 0; i < plan.names.length; i++) {
    // A key left out falls back to its schema default (ports' protocol defaults to TCP upstream).
    const value = ownValue(item, plan.names[i]) ?? plan.defaults[i];
    if (value === undefined) continue;
    body += (body === '' ? '' : ',') + plan.prefixes[i] + JSON.stringify(value);
  }
  return `k:{${body}}`;
}

function slowKeyElement(item: JsonMap, keys: string[], schema: SchemaNode | undefined): string {
  const fields: Record<string, unknown> = {};
  const itemNode = itemSchema(schema);
  for (const key of keys) {
    const value = ownValue(item, key) ?? (fieldSchema(itemNode, key) as { default?: unknown } | undefined)?.default;
    if (value !== undefined) setOwnValue(fields, key, value);
  }
  return keyElement(fields);
}

/**
 * Merges an applied configuration into `live` in place (typed.Merge): maps merge by member,
 * associative lists by key keeping live-only items where they were and shared items in the
 * applied order; atomic values are replaced. Applied values are copied in.
 */
export function mergeInto(live: JsonMap, applied: JsonMap, schema: SchemaNode | undefined): JsonMap {
  for (const [name, value] of Object.entries(applied)) {
    if (value === undefined) continue;
    if (value === null) {
      delete live[name];
      continue;
    }
    setOwnValue(live, name, mergeValue(ownValue(live, name), value, fieldSchema(schema, name)));
  }
  return live;
}

function mergeValue(live: unknown, applied: unknown, schema: SchemaNode | undefined): unknown {
  if (isPlainObject(live) && isPlainObject(applied) && !isAtomicMap(schema)) return mergeInto(live, applied, schema);
  if (Array.isArray(live) && Array.isArray(applied)) {
    const semantics = listSemantics(schema);
    if (semantics.kind !== 'atomic') return mergeLists(live, applied, semantics, schema);
  }
  return structuredClone(applied);
}

/** structured-merge-diff's visitListItems ordering. */
function mergeLists(live: unknown[], applied: unknown[], semantics: ListSemantics, schema: SchemaNode | undefined): unknown[] {
  const items = itemSchema(schema);
  const lhs = live.map((item) => ({ item, element: itemElement(item, semantics, schema) }));
  const rhs = applied.map((item) => ({ item, element: itemElement(item, semantics, schema) }));
  const lhsIndex = new Map(lhs.map((e) => [e.element, e.item]));
  const rhsIndex = new Map(rhs.map((e) => [e.element, e.item]));
  const shared = rhs.filter((e) => lhsIndex.has(e.element)).map((e) => e.element);
  let nextShared = 0;
  const merged = new Set<string | undefined>();
  const out: unknown[] = [];
  const mergeItem = (element: string | undefined) => {
    const lItem = lhsIndex.get(element);
    const rItem = rhsIndex.get(element);
    if (rItem === undefined) return lItem;
    if (lItem === undefined) return structuredClone(rItem);
    return semantics.kind === 'set' ? rItem : mergeValue(lItem, rItem, items);
  };
  let l = 0;
  let r = 0;
  while (l < lhs.length || r < rhs.length) {
    if (l < lhs.length && r < rhs.length) {
      const element = lhs[l].element;
      if (element === rhs[r].element) {
        merged.add(element);
        out.push(mergeItem(element));
        if (shared[nextShared] === element) nextShared++;
        l++;
        r++;
        continue;
      }
      // A shared item that the applied order wants later: it is emitted when the applied side reaches it.
      if (rhsIndex.has(element) && nextShared < shared.length && shared[nextShared] !== element) {
        l++;
        continue;
      }
    }
    if (l < lhs.length) {
      const element = lhs[l].element;
      if (!rhsIndex.has(element)) {
        out.push(lhs[l].item);
        l++;
        continue;
      }
      if (merged.has(element)) {
        l++;
        continue;
      }
    }
    if (r < rhs.length) {
      const element = rhs[r].element;
      merged.add(element);
      out.push(mergeItem(element));
      if (shared[nextShared] === element) nextShared++;
      r++;
    } else {
      l++;
    }
  }
  return out;
}

/**
 * Removes the given paths from `root` in place. Lists and maps emptied by a removal are dropped
 * too, up to the first list item or top-level field, as a typed (omitempty) object would omit them.
 */
export function removePaths(root: JsonMap, paths: Iterable<string>, schema: SchemaNode | undefined, kept?: ReadonlySet<string>): void {
  for (const key of paths) removePath(root, splitPathKey(key), schema, kept);
}

function removePath(root: JsonMap, path: FieldPath, schema: SchemaNode | undefined, kept: ReadonlySet<string> | undefined): void {
  const trail: { container: JsonMap | unknown[]; element: string; schema: SchemaNode | undefined }[] = [];
  let current: unknown = root;
  let node = schema;
  for (const element of path) {
    if (isPlainObject(current) && element.startsWith('f:')) {
      trail.push({ container: current, element, schema: node });
      current = ownValue(current, element.slice(2));
      node = fieldSchema(node, element.slice(2));
    } else if (Array.isArray(current)) {
      trail.push({ container: current, element, schema: node });
      const semantics = listSemantics(node);
      current = element.startsWith('i:')
        ? current[Number(element.slice(2))]
        : current.find((item) => itemElement(item, semantics, node) === element);
      node = itemSchema(node);
    } else {
      return;
    }
    if (current === undefined) return;
  }
  for (let depth = trail.length - 1; depth >= 0; depth--) {
    const { container, element, schema: containerSchema } = trail[depth];
    if (Array.isArray(container)) {
      const semantics = listSemantics(containerSchema);
      const at = element.startsWith('i:')
        ? Number(element.slice(2))
        : container.findIndex((item) => itemElement(item, semantics, containerSchema) === element);
      if (at >= 0) container.splice(at, 1);
    } else {
      delete container[element.slice(2)];
    }
    // Keep walking up only while the removal left an empty list or map that a typed object
    // would omit; never past top-level fields and never removing a list item itself.
    const emptied = Array.isArray(container) ? container.length === 0 : Object.keys(container).length === 0;
    if (!emptied || depth <= 1 || Array.isArray(trail[depth - 1].container)) return;
    // An emptied struct the applier still sets (`typeChecking: {}`) stays: structured-merge-diff keeps
    // it and a typed object encodes it; an emptied map (`data: {}`) is omitted as before.
    if (!Array.isArray(container) && containerSchema?.properties && kept?.has(pathKey(path.slice(0, depth)))) return;
  }
}
