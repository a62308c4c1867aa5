// Sets of field paths as structured-merge-diff keeps them for managedFields. A path is a list of
// path elements already in their FieldsV1 spelling (`f:name`, `k:{"name":"nginx"}`, `v:"x"`,
// `i:0`); a set is a JS Set of paths joined with NUL, so union/difference are plain set
// operations. FieldsV1 (de)serialisation and the `.spec.containers[name="nginx"].image` form
// used in conflict messages live here too.

import type { JsonObject, JsonValue } from '../object.ts';
import { isPlainObject } from './json-value.ts';

const SEPARATOR = '\u0000';

export type FieldPath = string[];
export type FieldSet = Set<string>;

export function pathKey(path: FieldPath): string {
  return path.join(SEPARATOR);
}

export function splitPathKey(key: string): FieldPath {
  return key === '' ? [] : key.split(SEPARATOR);
}

export function fieldElement(name: string): string {
  return `f:${name}`;
}

/** `k:{...}` with the key fields sorted by name, as fieldpath.KeyByFields orders them. */
export function keyElement(fields: Record<string, unknown>): string {
  const sorted: Record<string, unknown> = {};
  for (const name of Object.keys(fields).sort()) sorted[name] = fields[name];
  return `k:${JSON.stringify(sorted)}`;
}

export function valueElement(value: unknown): string {
  return `v:${JSON.stringify(value)}`;
}

export function union(...sets: FieldSet[]): FieldSet {
  const result = new Set<string>();
  for (const set of sets) for (const path of set) result.add(path);
  return result;
}

export function difference(a: FieldSet, b: FieldSet): FieldSet {
  const result = new Set<string>();
  for (const path of a) if (!b.has(path)) result.add(path);
  return result;
}

export function intersection(a: FieldSet, b: FieldSet): FieldSet {
  const result = new Set<string>();
  for (const path of a) if (b.has(path)) result.add(path);
  return result;
}

/** Drops every path under (or equal to) one of the prefixes: fieldpath.Set.RecursiveDifference. */
export function withoutSubtrees(set: FieldSet, prefixes: FieldPath[]): FieldSet {
  if (prefixes.length === 0) return set;
  const keys = prefixes.map(pathKey);
  const result = new Set<string>();
  for (const path of set) {
    if (!keys.some((prefix) => path === prefix || path.startsWith(prefix + SEPARATOR))) result.add(path);
  }
  return result;
}

/** Whether the set holds `path` itself or anything below it. */
export function ownsPathOrBelow(set: FieldSet, path: string): boolean {
  if (set.has(path)) return true;
  const prefix = path + SEPARATOR;
  for (const member of set) if (member.startsWith(prefix)) return true;
  return false;
}

interface Trie {
  member: boolean;
  children: Map<string, Trie>;
}

/** Serialises a set as a FieldsV1 object: members are `{}` leaves, or carry `".": {}` when they have children. */
export function toFieldsV1(set: FieldSet): JsonObject {
  const root: Trie = { member: false, children: new Map() };
  for (const key of set) {
    let node = root;
    for (const element of splitPathKey(key)) {
      let child = node.children.get(element);
      if (!child) {
        child = { member: false, children: new Map() };
        node.children.set(element, child);
      }
      node = child;
    }
    node.member = true;
  }
  return encodeTrie(root);
}

function encodeTrie(node: Trie): { [key: string]: JsonValue } {
  const out: { [key: string]: JsonValue } = {};
  if (node.member && node.children.size > 0) out['.'] = {};
  for (const element of [...node.children.keys()].sort(compareElements)) out[element] = encodeTrie(node.children.get(element)!);
  return out;
}

const ELEMENT_RANK: Record<string, number> = { f: 0, k: 1, v: 2, i: 3 };

/** fieldpath's element order: field names, then keys, then values, then indexes. */
function compareElements(a: string, b: string): number {
  const rank = (ELEMENT_RANK[a[0]] ?? 4) - (ELEMENT_RANK[b[0]] ?? 4);
  if (rank !== 0) return rank;
  if (a[0] === 'i') return Number(a.slice(2)) - Number(b.slice(2));
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Parses a FieldsV1 object; unknown shapes are skipped rather than failing the request. */
export function fromFieldsV1(fields: unknown): FieldSet {
  const set = new Set<string>();
  const walk = (node: unknown, path: FieldPath) => {
    if (!isPlainObject(node)) return;
    for (const [element, child] of Object.entries(node)) {
      if (element === '.') {
        if (path.length > 0) set.add(pathKey(path));
        continue;
      }
      const childPath = [...path, element];
      if (isPlainObject(child) && Object.keys(child).length === 0) set.add(pathKey(childPath));
      else walk(child, childPath);
    }
  };
  walk(fields, []);
  return set;
}

/** fieldpath.Path.String(): `.metadata.labels.app`, `.spec.containers[name="nginx"].image`, `[="x"]`, `[0]`. */
export function pathString(key: string): string {
  return splitPathKey(key).map(elementString).join('');
}

function elementString(element: string): string {
  const body = element.slice(2);
  switch (element[0]) {
    case 'f':
      return `.${body}`;
    case 'k': {
      const fields = JSON.parse(body) as Record<string, unknown>;
      return `[${Object.entries(fields).map(([name, value]) => `${name}=${JSON.stringify(value)}`).join(',')}]`;
    }
    case 'v':
      return `[=${body}]`;
    case 'i':
      return `[${body}]`;
    default:
      return element;
  }
}
