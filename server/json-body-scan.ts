// One linear, non-recursive pass over a JSON request body before anything else reads it, for the two
// things JSON.parse does not tell: how deep the value nests, and which object members are given
// twice. kube-apiserver decodes with sigs.k8s.io/json (encoding/json's scanner), which refuses
// nesting beyond 10,000 levels ("exceeded max depth") and, under fieldValidation Strict or Warn,
// reports `duplicate field "<path>"` (JSON.parse silently keeps the last one).
// The scan assumes text JSON.parse has accepted (it does not validate); it only follows strings,
// brackets, colons and commas.

/** encoding/json's maxNestingDepth. */
export const MAX_JSON_DEPTH = 10_000;

export interface JsonBodyScan {
  /** Deepest nesting of arrays and objects (a scalar body is 0). */
  depth: number;
  /** Paths of members given more than once, in sigs.k8s.io/json's spelling (`metadata.name`, `spec.containers[0].name`). */
  duplicateFields: string[];
  /**
   * For each duplicate, the path of the member just before its second occurrence: where in the document
   * the decoder meets it, so strict errors can be told in document order as the decoder reports them.
   */
  duplicatesAfter: string[];
}

interface Frame {
  isObject: boolean;
  path: string;
  /** Member names seen in this object (objects only; created on the second member). */
  names: Set<string> | undefined;
  firstName: string | undefined;
  /** Index of the current element (arrays only). */
  index: number;
  /** The name of the member whose value comes next (objects only). */
  pendingName: string | undefined;
}

const QUOTE = 34;
const BACKSLASH = 92;

/**
 * Scans `text`. Stops early (depth reported as MAX_JSON_DEPTH + 1) once nesting passes the limit,
 * so a 3 MiB run of `[` costs no more than 10,001 frames.
 */
export function scanJsonBody(text: string): JsonBodyScan {
  const stack: Frame[] = [];
  const duplicateFields: string[] = [];
  const duplicatesAfter: string[] = [];
  let depth = 0;
  let expectName = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const end = stringEnd(text, i);
      const top = stack[stack.length - 1];
      if (top?.isObject && expectName) {
        const name = decodeName(text, i, end);
        notePendingName(top, name, duplicateFields, duplicatesAfter);
        expectName = false;
      }
      i = end;
      continue;
    }
    switch (c) {
      case 123: // {
      case 91: { // [
        const parent = stack[stack.length - 1];
        const path = parent ? childPath(parent) : '';
        stack.push({ isObject: c === 123, path, names: undefined, firstName: undefined, index: 0, pendingName: undefined });
        if (stack.length > depth) depth = stack.length;
        if (depth > MAX_JSON_DEPTH) return { depth, duplicateFields, duplicatesAfter };
        expectName = c === 123;
        break;
      }
      case 125: // }
      case 93: // ]
        stack.pop();
        expectName = false;
        break;
      case 44: { // ,
        const top = stack[stack.length - 1];
        if (top?.isObject) expectName = true;
        else if (top) top.index++;
        break;
      }
      default:
        break;
    }
  }
  return { depth, duplicateFields, duplicatesAfter };
}

function notePendingName(frame: Frame, name: string, duplicates: string[], after: string[]): void {
  const previous = frame.pendingName;
  frame.pendingName = name;
  if (frame.firstName === undefined) {
    frame.firstName = name;
    return;
  }
  if (!frame.names) frame.names = new Set([frame.firstName]);
  if (frame.names.has(name)) {
    duplicates.push(joinField(frame.path, name));
    after.push(joinField(frame.path, previous ?? ''));
  }
  else frame.names.add(name);
}

function childPath(parent: Frame): string {
  if (parent.isObject) return joinField(parent.path, parent.pendingName ?? '');
  return `${parent.path}[${parent.index}]`;
}

function joinField(path: string, name: string): string {
  return path === '' ? name : `${path}.${name}`;
}

/** Index of the closing quote of the string opening at `start`. */
function stringEnd(text: string, start: number): number {
  let i = start + 1;
  for (;;) {
    const quote = text.indexOf('"', i);
    if (quote < 0) return text.length;
    // Count the backslashes before the quote: an odd run escapes it.
    let backslashes = 0;
    for (let j = quote - 1; j > start && text.charCodeAt(j) === BACKSLASH; j--) backslashes++;
    if (backslashes % 2 === 0) return quote;
    i = quote + 1;
  }
}

function decodeName(text: string, start: number, end: number): string {
  const raw = text.slice(start + 1, end);
  if (!raw.includes('\\')) return raw;
  try {
    return JSON.parse(`"${raw}"`) as string;
  } catch {
    return raw;
  }
}

/**
 * Nesting the server's own code walks recursively. No served schema comes near it (a Pod's deepest
 * field is a few dozen levels down), so anything deeper is inside a field the schema does not
 * know, which validation then reports (Strict) or drops (Warn, Ignore) by its top-most name.
 */
export const PROCESSED_JSON_DEPTH = 1_000;

/**
 * Cuts containers nested deeper than `maxDepth` down to empty ones, in place and without
 * recursion, so a body between PROCESSED_JSON_DEPTH and MAX_JSON_DEPTH levels (which kube-apiserver
 * accepts, dropping the unknown field) gets the same answer instead of exhausting the stack.
 */
export function truncateDeepValues(root: unknown, maxDepth = PROCESSED_JSON_DEPTH): void {
  const pending: { container: unknown[] | Record<string, unknown>; depth: number }[] = [];
  if (root !== null && typeof root === 'object') pending.push({ container: root as Record<string, unknown>, depth: 1 });
  while (pending.length > 0) {
    const { container, depth } = pending.pop()!;
    const keys = Array.isArray(container) ? container.keys() : Object.keys(container);
    for (const key of keys) {
      const child = (container as Record<string | number, unknown>)[key];
      if (child === null || typeof child !== 'object') continue;
      if (depth >= maxDepth) {
        const emptied = Array.isArray(child) ? [] : {};
        if (key === '__proto__') Object.defineProperty(container, key, { value: emptied, enumerable: true, writable: true, configurable: true });
        else (container as Record<string | number, unknown>)[key] = emptied;
      } else {
        pending.push({ container: child as Record<string, unknown>, depth: depth + 1 });
      }
    }
  }
}
