// Comparing two versions of an object against its schema the way structured-merge-diff's typed
// values do: what a write added or modified and what it removed (typed.Compare), and the field
// set of an applied configuration (ToFieldSet). `undefined` means absent; `null` is a present
// value that takes the shape of the other side. Update walks mark containers (maps and list items
// that appear or disappear are recorded themselves, the merging walker's postItemHook); an applied
// configuration's walk records only leaves and list-map items. Ownership bookkeeping runs these on every write,
// so paths are built as strings on the way down, the parts of the object a write may not own are
// never visited, and the set a write takes can come with its FieldsV1 trie already built.

import { ownValue } from '../object.ts';
import type { SchemaNode } from '../openapi/schema-node.ts';
import { childKey, fieldElement, SEPARATOR, type FieldSet } from './field-set.ts';
import type { FieldTrie } from './fields-v1.ts';
import { isPlainObject, jsonEqual, type JsonMap } from './json-value.ts';
import { fieldSchema, isAtomicMap, itemSchema, listSemantics, type ListSemantics } from './schema-lookup.ts';
import { itemElement } from './typed-value.ts';

type Shape = 'object' | 'list' | 'leaf';

function isEmptyObject(value: JsonMap): boolean {
  for (const _ in value) return false;
  return true;
}

/** How a pair of values is walked; absent and null sides take the other side's shape. */
export function shapeOf(l: unknown, r: unknown, schema: SchemaNode | undefined): Shape {
  const lPresent = l !== undefined && l !== null;
  const rPresent = r !== undefined && r !== null;
  if (!lPresent && !rPresent) return 'leaf';
  if ((!lPresent || isPlainObject(l)) && (!rPresent || isPlainObject(r))) {
    if (isAtomicMap(schema)) return 'leaf';
    return (!lPresent || isEmptyObject(l as JsonMap)) && (!rPresent || isEmptyObject(r as JsonMap)) ? 'leaf' : 'object';
  }
  if ((!lPresent || Array.isArray(l)) && (!rPresent || Array.isArray(r))) {
    if (listSemantics(schema).kind === 'atomic') return 'leaf';
    return (!lPresent || (l as unknown[]).length === 0) && (!rPresent || (r as unknown[]).length === 0) ? 'leaf' : 'list';
  }
  return 'leaf';
}

/** Where a walk records: Update bookkeeping passes one set as both `added` and `modified`. */
interface Comparison {
  added: FieldSet;
  modified: FieldSet;
  removed: FieldSet;
}

/**
 * The part of an object a write may own (the strategies' GetResetFields plus stripMetaManager):
 * the subtree of one top-level field is skipped, and a few exact metadata paths (all within two
 * levels of the root) are never recorded.
 */
export interface OwnershipFilter {
  /** `f:status` on the main resource, `f:spec` on /status, undefined elsewhere. */
  ignoredTopLevel: string | undefined;
  stripped: ReadonlySet<string>;
}

/** A field set and, when asked for, the FieldsV1 trie of exactly that set. */
export interface WalkedSet {
  set: FieldSet;
  /** Undefined when not asked for, or when an element holds the path separator (the set then conflates paths). */
  trie: FieldTrie | undefined;
}

/**
 * What a write changes, restricted to what it may own: the added and modified paths together
 * (with their trie when `withTrie`), and the removed ones.
 */
export function ownedChanges(
  lhs: unknown, rhs: unknown, schema: SchemaNode | undefined, filter: OwnershipFilter, withTrie: boolean,
): { changed: WalkedSet; removed: FieldSet } {
  const changed = new Set<string>();
  const removed = new Set<string>();
  const root = withTrie ? newNode('') : undefined;
  const walk = new ComparisonWalk({ added: changed, modified: changed, removed }, true, filter);
  walk.walk(lhs, rhs, schema, '', '', 0, root, false);
  return { changed: { set: changed, trie: walk.trieIsExact ? root : undefined }, removed };
}

/** The fields an applied configuration specifies (ToFieldSet), restricted to what the applier may own, with their trie. */
export function ownedFieldSetOf(value: unknown, schema: SchemaNode | undefined, filter: OwnershipFilter): WalkedSet {
  const added = new Set<string>();
  const root = newNode('');
  const walk = new ComparisonWalk({ added, modified: added, removed: new Set() }, false, filter);
  walk.walk(undefined, value, schema, '', '', 0, root, false);
  return { set: added, trie: walk.trieIsExact ? root : undefined };
}

function newNode(element: string): FieldTrie {
  return { element, member: false, children: undefined };
}

/**
 * One comparison. Paths are built by appending to the parent's key string (never as element
 * arrays), and a subtree whose two sides are the same object is skipped: it cannot hold a change.
 * When walked with a trie root, every position that ends up in `added`/`modified` is also
 * attached below its parent's trie node once its own subtree is done.
 */
class ComparisonWalk {
  trieIsExact = true;

  constructor(
    private readonly out: Comparison,
    private readonly markContainers: boolean,
    private readonly filter: OwnershipFilter,
  ) {}

  /** Adds `key` unless filtered out; true when it went into the added/modified set. */
  private record(set: FieldSet, key: string, depth: number): boolean {
    if (depth <= 2 && this.filter.stripped.has(key)) return false;
    set.add(key);
    return set !== this.out.removed;
  }

  /**
   * `parent` is the trie node of the enclosing position (undefined without a trie); `mapItem`
   * marks an item of a list-map in a walk that does not mark containers, recorded after its subtree.
   */
  walk(
    l: unknown, r: unknown, schema: SchemaNode | undefined, key: string, element: string, depth: number,
    parent: FieldTrie | undefined, mapItem: boolean,
  ): void {
    if (l === undefined && r === undefined) return;
    if (l === r) return;
    const shape = shapeOf(l, r, schema);
    let member = false;
    let node: FieldTrie | undefined;
    if (shape === 'leaf') {
      if (depth === 0) return;
      if (l === undefined) member = this.record(this.out.added, key, depth);
      else if (r === undefined) this.record(this.out.removed, key, depth);
      else if (!jsonEqual(l, r)) member = this.record(this.out.modified, key, depth);
    } else {
      // The root position's node is the trie root itself.
      if (parent) node = depth === 0 ? parent : newNode(element);
      if (shape === 'object') this.walkObject(l, r, schema, key, depth, node);
      else this.walkList(l, r, schema, key, depth, node);
      if (this.markContainers && depth > 0) {
        if (l === undefined) member = this.record(this.out.added, key, depth);
        else if (r === undefined) this.record(this.out.removed, key, depth);
      }
    }
    // List items are members of the set whether or not containers are marked (set items are leaves anyway).
    if (mapItem) {
      if (l === undefined) member = this.record(this.out.added, key, depth) || member;
      else if (r === undefined) this.record(this.out.removed, key, depth);
    }
    if (parent && depth > 0 && (member || node?.children)) {
      node ??= newNode(element);
      node.member = member;
      if (element.includes(SEPARATOR)) this.trieIsExact = false;
      (parent.children ??= []).push(node);
    }
  }

  private walkObject(l: unknown, r: unknown, schema: SchemaNode | undefined, key: string, depth: number, node: FieldTrie | undefined): void {
    const lm = isPlainObject(l) ? l : undefined;
    const rm = isPlainObject(r) ? r : undefined;
    const ignored = depth === 0 ? this.filter.ignoredTopLevel : undefined;
    // Left members first, then right-only ones; values are read with plain indexing, as typed.Compare's port always did.
    if (lm) {
      for (const name of Object.keys(lm)) {
        const element = fieldElement(name);
        if (ignored !== undefined && isUnder(element, ignored)) continue;
        this.walk(lm[name], rm ? ownValue(rm, name) : undefined, fieldSchema(schema, name), childKey(key, element), element, depth + 1, node, false);
      }
    }
    if (rm) {
      for (const name of Object.keys(rm)) {
        if (lm && Object.hasOwn(lm, name)) continue;
        const element = fieldElement(name);
        if (ignored !== undefined && isUnder(element, ignored)) continue;
        this.walk(undefined, rm[name], fieldSchema(schema, name), childKey(key, element), element, depth + 1, node, false);
      }
    }
  }

  private walkList(l: unknown, r: unknown, schema: SchemaNode | undefined, key: string, depth: number, node: FieldTrie | undefined): void {
    const semantics = listSemantics(schema);
    const items = itemSchema(schema);
    const mapItems = !this.markContainers && semantics.kind === 'map';
    const lItems = indexItems(Array.isArray(l) ? l : [], semantics, schema);
    const rItems = indexItems(Array.isArray(r) ? r : [], semantics, schema);
    for (const [element, lItem] of lItems) {
      this.walk(lItem, rItems.get(element), items, childKey(key, element), element, depth + 1, node, mapItems);
    }
    for (const [element, rItem] of rItems) {
      if (!lItems.has(element)) this.walk(undefined, rItem, items, childKey(key, element), element, depth + 1, node, mapItems);
    }
  }
}

/** RecursiveDifference's test: the path is `prefix` or below it (a field name may hold the separator). */
export function isUnder(key: string, prefix: string): boolean {
  return key === prefix || key.startsWith(prefix + SEPARATOR);
}

const NO_ITEMS: ReadonlyMap<string, unknown> = new Map();

function indexItems(list: unknown[], semantics: ListSemantics, schema: SchemaNode | undefined): ReadonlyMap<string, unknown> {
  if (list.length === 0) return NO_ITEMS;
  const index = new Map<string, unknown>();
  for (const item of list) {
    const element = itemElement(item, semantics, schema);
    if (element !== undefined && !index.has(element)) index.set(element, item);
  }
  return index;
}
