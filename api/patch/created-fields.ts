// What a create's Update operation owns, built straight into FieldsV1. A create compares the new
// object with the kind's empty object (emptyObjectOf), so the general comparison walk
// (typed-compare.ts) records nearly every field of the object, building a path string and a set
// member for each, and then a trie to encode. Creates are most writes (pods, and the Events every
// pod start produces), so this walk visits the same positions in the same way but produces each
// FieldsV1 level directly: no path strings, no FieldSet, no trie.
//
// It relies on the shape of the empty object: top-level structs whose members are all null. The
// left side of any position is therefore undefined, null or such a struct, lists only ever appear
// on the right, and the right-hand values below a null or absent left side are all owned.

import { ownValue, type JsonObject, type JsonValue } from '../object.ts';
import type { SchemaNode } from '../openapi/schema-node.ts';
import { fieldElement, SEPARATOR } from './field-set.ts';
import { compareElements } from './fields-v1.ts';
import { isPlainObject, jsonEqual, type JsonMap } from './json-value.ts';
import { fieldSchema, itemSchema, listSemantics } from './schema-lookup.ts';
import { isUnder, shapeOf, type OwnershipFilter } from './typed-compare.ts';
import { itemElement } from './typed-value.ts';

export type CreatedFields =
  /** `fieldsV1` is undefined when the create owns nothing (no managedFields entry). */
  | { exact: true; fieldsV1: JsonObject | undefined }
  /**
   * A field name holds the path separator: the general walk's set then conflates paths, and its
   * encoding of that set is what a create records. The caller takes the general path.
   */
  | { exact: false };

/** A FieldsV1 level: members' children by element. */
type FieldsV1Level = { [element: string]: JsonValue };

interface Child {
  element: string;
  fields: FieldsV1Level;
}

/**
 * The FieldsV1 object of what ownedChanges(empty, object, schema, filter) finds added or changed,
 * exactly as encodeFieldsV1 would write it. `empty` must be emptyObjectOf(schema).
 */
export function createdFieldsV1(empty: Readonly<JsonMap>, object: Readonly<JsonMap>, schema: SchemaNode, filter: OwnershipFilter): CreatedFields {
  const walk = new CreateWalk(filter);
  const fieldsV1 = walk.walk(empty, object, schema, '', '', 0);
  if (!walk.exact) return { exact: false };
  if (!fieldsV1 || !hasMembers(fieldsV1)) return { exact: true, fieldsV1: undefined };
  return { exact: true, fieldsV1 };
}

function hasMembers(fields: FieldsV1Level): boolean {
  for (const _ in fields) return true;
  return false;
}

class CreateWalk {
  exact = true;

  constructor(private readonly filter: OwnershipFilter) {}

  /** Whether the walk records a position: stripped metadata (all within two levels) never is. */
  private owns(key: string, depth: number): boolean {
    return depth > 2 || !this.filter.stripped.has(key);
  }

  /**
   * The FieldsV1 level of one position, undefined when nothing at or below it is owned. `key` is the position's path key, kept only down to depth 2 where stripping applies.
   */
  walk(l: unknown, r: unknown, schema: SchemaNode | undefined, key: string, element: string, depth: number): FieldsV1Level | undefined {
    // An absent right side only removes (nothing a create owns); equal sides hold no change.
    if (r === undefined || l === r) return undefined;
    const shape = shapeOf(l, r, schema);
    if (shape === 'leaf') {
      if (depth === 0 || (l !== undefined && jsonEqual(l, r))) return undefined;
      return this.owns(key, depth) ? {} : undefined;
    }
    const children: Child[] = [];
    if (shape === 'object') this.walkObject(l, r, schema, key, depth, children);
    else this.walkList(r as unknown[], schema, key, depth, children);
    // A container the left side lacks is added itself (the Update walk marks containers).
    const member = depth > 0 && l === undefined && this.owns(key, depth);
    if (!member && children.length === 0) return undefined;
    return fieldsV1Level(member, children);
  }

  /** Either side may be null or absent (a null struct of the empty object meets `spec: null`). */
  private walkObject(l: unknown, r: unknown, schema: SchemaNode | undefined, key: string, depth: number, children: Child[]): void {
    const lm = isPlainObject(l) ? l : undefined;
    const rm = isPlainObject(r) ? r : undefined;
    const ignored = depth === 0 ? this.filter.ignoredTopLevel : undefined;
    if (lm) {
      for (const name of Object.keys(lm)) this.field(lm[name], rm ? ownValue(rm, name) : undefined, name, schema, key, depth, ignored, children);
    }
    if (!rm) return;
    for (const name of Object.keys(rm)) {
      if (lm && Object.hasOwn(lm, name)) continue;
      this.field(undefined, rm[name], name, schema, key, depth, ignored, children);
    }
  }

  private field(
    l: unknown, r: unknown, name: string, schema: SchemaNode | undefined, key: string, depth: number,
    ignored: string | undefined, children: Child[],
  ): void {
    if (r === undefined) return;
    const element = cachedFieldElement(name);
    if (ignored !== undefined && isUnder(element, ignored)) return;
    if (name.includes(SEPARATOR)) this.exact = false;
    const childKey = depth === 0 ? element : depth === 1 ? key + SEPARATOR + element : '';
    const fields = this.walk(l, r, fieldSchema(schema, name), childKey, element, depth + 1);
    if (fields) children.push({ element, fields });
  }

  /** Every item is new (the left side never holds a list): first of each key, keyless items skipped. */
  private walkList(r: unknown[], schema: SchemaNode | undefined, key: string, depth: number, children: Child[]): void {
    const semantics = listSemantics(schema);
    const items = itemSchema(schema);
    const seen = r.length > 1 ? new Set<string>() : undefined;
    for (const item of r) {
      const element = itemElement(item, semantics, schema);
      if (element === undefined) continue;
      if (seen) {
        if (seen.has(element)) continue;
        seen.add(element);
      }
      const childKey = depth === 0 ? element : depth === 1 ? key + SEPARATOR + element : '';
      const fields = this.walk(undefined, item, items, childKey, element, depth + 1);
      if (fields) children.push({ element, fields });
    }
  }
}

/**
 * `f:<name>` strings by field name. FieldsV1 levels are objects keyed by these strings; a key
 * string seen before is already internalized, so storing it is a lookup rather than hashing a
 * freshly concatenated string on every create. Field names repeat across objects of a kind; the
 * cap only guards against maps with ever-new keys (labels, annotations, data).
 */
const fieldElements = new Map<string, string>();
const MAX_CACHED_FIELD_ELEMENTS = 20_000;

function cachedFieldElement(name: string): string {
  let element = fieldElements.get(name);
  if (element === undefined) {
    if (fieldElements.size >= MAX_CACHED_FIELD_ELEMENTS) fieldElements.clear();
    element = fieldElement(name);
    fieldElements.set(name, element);
  }
  return element;
}

/** One FieldsV1 level as encodeFieldsV1 writes it: `"."` first when the position is a member with children, then children in element order. */
function fieldsV1Level(member: boolean, children: Child[]): FieldsV1Level {
  const out: FieldsV1Level = {};
  if (children.length === 0) return out;
  if (member) out['.'] = {};
  if (children.length > 1) children.sort(byElement);
  for (const child of children) out[child.element] = child.fields;
  return out;
}

function byElement(a: Child, b: Child): number {
  return compareElements(a.element, b.element);
}
