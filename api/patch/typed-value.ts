// Walking an object against its schema the way structured-merge-diff's typed values do: the
// field set of an applied configuration, the added/modified/removed sets between two versions,
// the merge of an applied configuration into a live object, and removal of owned paths.
// List items are identified by their list-map keys (or by value in sets); atomic lists and maps
// are leaves.

import type { SchemaNode } from '../openapi/schema-node.ts';
import { fieldElement, keyElement, pathKey, splitPathKey, valueElement, type FieldPath, type FieldSet } from './field-set.ts';
import { isPlainObject, jsonEqual, type JsonMap } from './json-value.ts';
import { fieldSchema, isAtomicMap, itemSchema, listSemantics, type ListSemantics } from './schema-lookup.ts';

/** The path element naming one item of an associative list; undefined for atomic lists. */
export function itemElement(item: unknown, semantics: ListSemantics, schema: SchemaNode | undefined): string | undefined {
  if (semantics.kind === 'set') return valueElement(item);
  if (semantics.kind !== 'map' || !isPlainObject(item)) return undefined;
  const fields: Record<string, unknown> = {};
  const itemNode = itemSchema(schema);
  for (const key of semantics.keys) {
    // A key left out falls back to its schema default (ports' protocol defaults to TCP upstream).
    const value = item[key] ?? (fieldSchema(itemNode, key) as { default?: unknown } | undefined)?.default;
    if (value !== undefined) fields[key] = value;
  }
  return keyElement(fields);
}

type Shape = 'object' | 'list' | 'leaf';

function shapeOf(l: unknown, r: unknown, schema: SchemaNode | undefined): Shape {
  const present = [l, r].filter((v) => v !== undefined && v !== null);
  const objects = present.filter(isPlainObject);
  const lists = present.filter(Array.isArray);
  if (objects.length === present.length && objects.length > 0) {
    if (isAtomicMap(schema) || objects.every((o) => Object.keys(o).length === 0)) return 'leaf';
    return 'object';
  }
  if (lists.length === present.length && lists.length > 0) {
    if (listSemantics(schema).kind === 'atomic' || lists.every((a) => a.length === 0)) return 'leaf';
    return 'list';
  }
  return 'leaf';
}

export interface Comparison {
  added: FieldSet;
  modified: FieldSet;
  removed: FieldSet;
}

/**
 * Compares two versions of an object (typed.Compare). `undefined` means absent; `null` is a
 * present value that takes the shape of the other side. With `markContainers`, maps and list
 * items that appear or disappear are recorded themselves too (the merging walker's postItemHook),
 * which is what Update operations record; without it only leaves and list items are recorded,
 * which is ToFieldSet's view of an applied configuration.
 */
export function compare(lhs: unknown, rhs: unknown, schema: SchemaNode | undefined, markContainers = true): Comparison {
  const result: Comparison = { added: new Set(), modified: new Set(), removed: new Set() };
  walkCompare(lhs, rhs, schema, [], result, markContainers);
  return result;
}

/** The set of fields an applied configuration specifies. */
export function fieldSetOf(value: unknown, schema: SchemaNode | undefined): FieldSet {
  return compare(undefined, value, schema, false).added;
}

function walkCompare(l: unknown, r: unknown, schema: SchemaNode | undefined, path: FieldPath, out: Comparison, markContainers: boolean): void {
  if (l === undefined && r === undefined) return;
  const shape = shapeOf(l, r, schema);
  const key = pathKey(path);
  if (shape === 'leaf') {
    if (path.length === 0) return;
    if (l === undefined) out.added.add(key);
    else if (r === undefined) out.removed.add(key);
    else if (!jsonEqual(l, r)) out.modified.add(key);
    return;
  }
  if (shape === 'object') {
    const lm = isPlainObject(l) ? l : undefined;
    const rm = isPlainObject(r) ? r : undefined;
    const keys = new Set([...(lm ? Object.keys(lm) : []), ...(rm ? Object.keys(rm) : [])]);
    for (const name of keys) {
      walkCompare(lm?.[name], rm?.[name], fieldSchema(schema, name), [...path, fieldElement(name)], out, markContainers);
    }
  } else {
    const semantics = listSemantics(schema);
    const items = itemSchema(schema);
    const lItems = indexItems(Array.isArray(l) ? l : [], semantics, schema);
    const rItems = indexItems(Array.isArray(r) ? r : [], semantics, schema);
    for (const [element, lItem] of lItems) walkItem(lItem, rItems.get(element), element);
    for (const [element, rItem] of rItems) if (!lItems.has(element)) walkItem(undefined, rItem, element);
    function walkItem(lItem: unknown, rItem: unknown, element: string) {
      const itemPath = [...path, element];
      walkCompare(lItem, rItem, items, itemPath, out, markContainers);
      // List items are members of the set whether or not containers are marked (set items are leaves anyway).
      if (!markContainers && semantics.kind === 'map') {
        if (lItem === undefined) out.added.add(pathKey(itemPath));
        else if (rItem === undefined) out.removed.add(pathKey(itemPath));
      }
    }
  }
  if (markContainers && path.length > 0) {
    if (l === undefined) out.added.add(key);
    else if (r === undefined) out.removed.add(key);
  }
}

function indexItems(list: unknown[], semantics: ListSemantics, schema: SchemaNode | undefined): Map<string, unknown> {
  const index = new Map<string, unknown>();
  for (const item of list) {
    const element = itemElement(item, semantics, schema);
    if (element !== undefined && !index.has(element)) index.set(element, item);
  }
  return index;
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
    live[name] = mergeValue(live[name], value, fieldSchema(schema, name));
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
export function removePaths(root: JsonMap, paths: Iterable<string>, schema: SchemaNode | undefined): void {
  for (const key of paths) removePath(root, splitPathKey(key), schema);
}

function removePath(root: JsonMap, path: FieldPath, schema: SchemaNode | undefined): void {
  const trail: { container: JsonMap | unknown[]; element: string; schema: SchemaNode | undefined }[] = [];
  let current: unknown = root;
  let node = schema;
  for (const element of path) {
    if (isPlainObject(current) && element.startsWith('f:')) {
      trail.push({ container: current, element, schema: node });
      current = current[element.slice(2)];
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
  }
}
