// FieldsV1, the JSON trie managedFields store a field set as: members are `{}` leaves, or carry
// `".": {}` when they have children, and every level is sorted in fieldpath's element order.
//
// Most writes leave most managers' sets alone, so neither direction redoes work it can avoid:
// a FieldsV1 object decodes to the same (never mutated) FieldSet every time it is seen, a set
// read from a canonical FieldsV1 object (exactly what encoding would produce) is written back as
// that same object while it is unchanged, and a set a write builds from scratch comes with its
// trie from the walk. Stored FieldsV1 objects are shared between versions of an object and are
// never modified in place.

import { setOwnValue, type JsonObject, type JsonValue } from '../object.ts';
import { SEPARATOR, type FieldSet } from './field-set.ts';
import { isPlainObject } from './json-value.ts';

/** What a FieldsV1 object decodes to, and whether it is exactly the encoding of that set. */
export interface DecodedFields {
  set: FieldSet;
  canonical: boolean;
}

/**
 * FieldsV1 object → what it decodes to, for the most recently decoded or encoded objects. Bounded
 * rather than weak: a WeakMap kept a decoded set alive for as long as its stored object, which is
 * several KiB per pod for every pod in the watch cache; the writes that reuse a decode (a pod's
 * bind and status updates) follow its previous write closely.
 */
const decoded = new Map<object, DecodedFields>();
const MAX_DECODED = 16_384;

function keepDecoded(fields: object, known: DecodedFields): void {
  if (decoded.size >= MAX_DECODED) decoded.delete(decoded.keys().next().value as object);
  decoded.set(fields, known);
}

/**
 * Parses a FieldsV1 object; unknown shapes are skipped rather than failing the request. The
 * returned set is shared: callers must never modify it.
 */
export function decodeFieldsV1(fields: unknown): DecodedFields {
  if (!isPlainObject(fields)) return { set: new Set(), canonical: false };
  let known = decoded.get(fields);
  if (!known) {
    const set = new Set<string>();
    known = { set, canonical: decodeNode(fields, '', true, set) };
    keepDecoded(fields, known);
  }
  return known;
}

/**
 * Lets a later decode of `encoded`, an encoding of `set`, return `set` itself. Only for sets
 * whose iteration order nothing depends on (Update entries): a decoded set is otherwise in
 * document order.
 */
export function rememberDecoded(encoded: JsonObject, set: FieldSet): void {
  if (!decoded.has(encoded)) keepDecoded(encoded, { set, canonical: true });
}

/**
 * Adds the members below `node` (whose own path is `prefix`) in document order, and says whether
 * the node is canonical: what toFieldsV1 would write for the same members, key for key.
 */
function decodeNode(node: Record<string, unknown>, prefix: string, root: boolean, set: FieldSet): boolean {
  let canonical = true;
  let previous: string | undefined;
  let first = true;
  let children = 0;
  for (const element in node) {
    const child = node[element];
    if (element === '.') {
      // `"."` marks the node itself a member; canonical only first, empty, and beside children.
      if (!root) set.add(prefix);
      if (root || !first || !isPlainObject(child) || !isEmptyObject(child)) canonical = false;
      first = false;
      continue;
    }
    first = false;
    children++;
    if (!isCanonicalElement(element) || (previous !== undefined && compareElements(previous, element) >= 0)) canonical = false;
    previous = element;
    const key = root ? element : prefix + SEPARATOR + element;
    if (isPlainObject(child)) {
      if (isEmptyObject(child)) set.add(key);
      else if (!decodeNode(child, key, false, set)) canonical = false;
    } else {
      canonical = false;
    }
  }
  // A lone `"."` is a member without children, which encodes as `{}`.
  if (!root && children === 0) canonical = false;
  return canonical;
}

/** `f:`, `k:`, `v:` or `i:<n>` elements without a separator: the only ones that round-trip unchanged and in order. */
function isCanonicalElement(element: string): boolean {
  if (element.length < 2 || element.charCodeAt(1) !== 58 /* : */) return false;
  const kind = element[0];
  // Indexes compare as numbers: only plain integers keep a strict order (no NaN, no `01` = `1`).
  if (kind === 'i') return /^i:(0|[1-9]\d*)$/.test(element);
  if (kind !== 'f' && kind !== 'k' && kind !== 'v') return false;
  return !element.includes(SEPARATOR);
}

function isEmptyObject(value: Record<string, unknown>): boolean {
  for (const _ in value) return false;
  return true;
}

/**
 * What is already known about encoding `fields`: the canonical FieldsV1 object it was read from,
 * or the trie built while it was walked. Stale (ignored) once an entry's set is replaced.
 */
export interface KnownEncoding {
  fields: FieldSet;
  fieldsV1?: JsonObject;
  trie?: FieldTrie;
}

/** The FieldsV1 object of a set, from what is known about it when that still describes it. */
export function encodeFieldsV1(fields: FieldSet, known: KnownEncoding | undefined): JsonObject {
  if (known?.fields === fields) {
    if (known.fieldsV1) return known.fieldsV1;
    if (known.trie) return encodeFieldTrie(known.trie);
  }
  return toFieldsV1(fields);
}

/**
 * A FieldsV1 trie built while the set was walked: each position once, children in visiting
 * order (sorted when encoded). Non-members always have children.
 */
export interface FieldTrie {
  element: string;
  member: boolean;
  children: FieldTrie[] | undefined;
}

/** The FieldsV1 object of the set a trie was built for. Sorts the trie's children in place. */
function encodeFieldTrie(node: FieldTrie): JsonObject {
  return encodeTrieNode(node);
}

function encodeTrieNode(node: FieldTrie): { [key: string]: JsonValue } {
  const out: { [key: string]: JsonValue } = {};
  const children = node.children;
  if (!children) return out;
  if (node.member) out['.'] = {};
  if (children.length > 1) children.sort(byElement);
  for (const child of children) setOwnValue(out, child.element, encodeTrieNode(child));
  return out;
}

function byElement(a: FieldTrie, b: FieldTrie): number {
  return compareElements(a.element, b.element);
}

interface Trie {
  member: boolean;
  children: Map<string, Trie> | undefined;
}

/** Serialises a set as a FieldsV1 object (no memo). */
function toFieldsV1(set: Iterable<string>): JsonObject {
  const root: Trie = { member: false, children: undefined };
  for (const key of set) {
    let node = root;
    if (key !== '') {
      let start = 0;
      for (;;) {
        const end = key.indexOf(SEPARATOR, start);
        const element = end < 0 ? (start === 0 ? key : key.slice(start)) : key.slice(start, end);
        node.children ??= new Map();
        let child = node.children.get(element);
        if (!child) {
          child = { member: false, children: undefined };
          node.children.set(element, child);
        }
        node = child;
        if (end < 0) break;
        start = end + 1;
      }
    }
    node.member = true;
  }
  return encodeTrie(root);
}

function encodeTrie(node: Trie): { [key: string]: JsonValue } {
  const out: { [key: string]: JsonValue } = {};
  const children = node.children;
  if (!children) return out;
  if (node.member) out['.'] = {};
  if (children.size === 1) {
    for (const [element, child] of children) setOwnValue(out, element, encodeTrie(child));
    return out;
  }
  for (const element of [...children.keys()].sort(compareElements)) setOwnValue(out, element, encodeTrie(children.get(element)!));
  return out;
}

/** fieldpath's element order: field names, then keys, then values, then indexes. */
export function compareElements(a: string, b: string): number {
  const rank = elementRank(a) - elementRank(b);
  if (rank !== 0) return rank;
  if (a[0] === 'i') return Number(a.slice(2)) - Number(b.slice(2));
  return a < b ? -1 : a > b ? 1 : 0;
}

function elementRank(element: string): number {
  switch (element[0]) {
    case 'f': return 0;
    case 'k': return 1;
    case 'v': return 2;
    case 'i': return 3;
    default: return 4;
  }
}
