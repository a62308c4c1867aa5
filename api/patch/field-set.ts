// Sets of field paths as structured-merge-diff keeps them for managedFields. A path is a list of
// path elements already in their FieldsV1 spelling (`f:name`, `k:{"name":"nginx"}`, `v:"x"`,
// `i:0`); a set is a JS Set of paths joined with NUL, so union/difference are plain set
// operations. The `.spec.containers[name="nginx"].image` form used in conflict messages lives
// here too; FieldsV1 (de)serialisation is in fields-v1.ts.
//
// Sets are shared, never mutated once built: decoded sets are memoised per FieldsV1 object and
// an unchanged set keeps its encoded FieldsV1 (fields-v1.ts), so the operations below return one
// of their inputs instead of a copy whenever the result equals it.

import { setOwnValue } from '../object.ts';

export const SEPARATOR = '\u0000';

export type FieldPath = string[];
export type FieldSet = Set<string>;
/** A set that is never modified; the operations below only ever read their inputs. */
export type ReadonlyFieldSet = ReadonlySet<string>;

export function pathKey(path: FieldPath): string {
  return path.join(SEPARATOR);
}

export function splitPathKey(key: string): FieldPath {
  return key === '' ? [] : key.split(SEPARATOR);
}

/** The key of `element` below the path `prefix` (`''` is the root). */
export function childKey(prefix: string, element: string): string {
  return prefix === '' ? element : prefix + SEPARATOR + element;
}

export function fieldElement(name: string): string {
  return `f:${name}`;
}

/** `k:{...}` with the key fields sorted by name, as fieldpath.KeyByFields orders them. */
export function keyElement(fields: Record<string, unknown>): string {
  const sorted: Record<string, unknown> = {};
  for (const name of Object.keys(fields).sort()) setOwnValue(sorted, name, fields[name]);
  return `k:${JSON.stringify(sorted)}`;
}

export function valueElement(value: unknown): string {
  return `v:${JSON.stringify(value)}`;
}

/** `a ∪ b`, in a's order then b's; `a` itself when b adds nothing. */
export function union(a: FieldSet, b: ReadonlyFieldSet): FieldSet {
  let result: FieldSet | undefined;
  for (const path of b) {
    if (result) result.add(path);
    else if (!a.has(path)) (result = new Set(a)).add(path);
  }
  return result ?? a;
}

/** `a − b − c`, in a's order; `a` itself when neither takes anything away. */
export function difference(a: FieldSet, b: ReadonlyFieldSet, c: ReadonlyFieldSet = EMPTY): FieldSet {
  if (!overlaps(a, b) && !overlaps(a, c)) return a;
  const result = new Set<string>();
  for (const path of a) if (!b.has(path) && !c.has(path)) result.add(path);
  return result;
}

const EMPTY: ReadonlyFieldSet = new Set<string>();

/** Whether the sets share a path; iterates the smaller one. */
export function overlaps(a: ReadonlyFieldSet, b: ReadonlyFieldSet): boolean {
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  for (const path of small) if (large.has(path)) return true;
  return false;
}

export function intersection(a: ReadonlyFieldSet, b: ReadonlyFieldSet): FieldSet {
  const result = new Set<string>();
  for (const path of a) if (b.has(path)) result.add(path);
  return result;
}

/** Whether the set holds `path` itself or anything below it. */
export function ownsPathOrBelow(set: ReadonlyFieldSet, path: string): boolean {
  if (set.has(path)) return true;
  const prefix = path + SEPARATOR;
  for (const member of set) if (member.startsWith(prefix)) return true;
  return false;
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
