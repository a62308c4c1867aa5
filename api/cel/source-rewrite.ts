// Two places where @marcbachmann/cel-js differs from cel-go as Kubernetes uses it, bridged by
// rewriting the expression text before it is parsed (string literals are left alone):
//  - has() on a selection whose base is not a plain identifier chain (`has(self[0].matches)`,
//    `has(f(x).y)`), which cel-go accepts and the library rejects: rewritten to
//    `__hasField(<base>, '<field>')`;
//  - regular expressions are RE2 in Kubernetes (`(?i)` flags, `\z`, `(?P<name>...)`), JavaScript
//    RegExp in the library: `x.matches(re)` and `matches(x, re)` are rewritten to
//    `re2Matches`, which translates the pattern (kubernetes-library.ts).

const IDENT = /[A-Za-z_][A-Za-z0-9_]*/y;

/** Index just past the string literal starting at `i` (CEL quotes, triple quotes, raw/bytes prefixes). */
function skipString(source: string, i: number): number {
  let start = i;
  while (/[rRbB]/.test(source[start])) start++;
  const quote = source[start];
  const triple = source.startsWith(quote.repeat(3), start);
  const raw = /[rR]/.test(source.slice(i, start));
  let j = start + (triple ? 3 : 1);
  while (j < source.length) {
    if (!raw && source[j] === '\\') { j += 2; continue; }
    if (triple ? source.startsWith(quote.repeat(3), j) : source[j] === quote) return j + (triple ? 3 : 1);
    j++;
  }
  return j;
}

function isStringStart(source: string, i: number): boolean {
  const c = source[i];
  if (c === '"' || c === "'") return true;
  if (/[rRbB]/.test(c) && (i === 0 || !/[A-Za-z0-9_]/.test(source[i - 1]))) {
    let j = i;
    while (/[rRbB]/.test(source[j]) && j - i < 2) j++;
    return source[j] === '"' || source[j] === "'";
  }
  return false;
}

/** The index of the parenthesis closing the one at `open`. */
function closing(source: string, open: number): number {
  let depth = 0;
  for (let i = open; i < source.length; i++) {
    if (isStringStart(source, i)) { i = skipString(source, i) - 1; continue; }
    const c = source[i];
    if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

/** `base.field` at the top level of `argument` → [base, field] when base is not an identifier chain. */
function splitSelection(argument: string): [string, string] | undefined {
  const text = argument.trim();
  const match = /\.\s*([A-Za-z_][A-Za-z0-9_]*)\s*$/.exec(text);
  if (!match) return undefined;
  const base = text.slice(0, match.index).trim();
  if (/^[A-Za-z_][A-Za-z0-9_]*(\s*\.\s*[A-Za-z_][A-Za-z0-9_]*)*$/.test(base)) return undefined;
  // The final dot must be at depth 0 of the argument.
  let depth = 0;
  for (let i = 0; i < match.index; i++) {
    if (isStringStart(text, i)) { i = skipString(text, i) - 1; continue; }
    if ('([{'.includes(text[i])) depth++;
    else if (')]}'.includes(text[i])) depth--;
  }
  return depth === 0 ? [base, match[1]] : undefined;
}

export function rewriteKubernetesCel(source: string): string {
  let out = '';
  let i = 0;
  while (i < source.length) {
    if (isStringStart(source, i)) {
      const end = skipString(source, i);
      out += source.slice(i, end);
      i = end;
      continue;
    }
    IDENT.lastIndex = i;
    const ident = IDENT.exec(source);
    if (!ident || (i > 0 && /[A-Za-z0-9_]/.test(source[i - 1]))) {
      out += source[i++];
      continue;
    }
    const word = ident[0];
    let after = i + word.length;
    while (source[after] === ' ') after++;
    if (word === 'has' && source[after] === '(' && !out.trimEnd().endsWith('.')) {
      const close = closing(source, after);
      const argument = close > 0 ? source.slice(after + 1, close) : '';
      const split = close > 0 ? splitSelection(argument) : undefined;
      if (split) {
        out += `__hasField(${rewriteKubernetesCel(split[0])}, '${split[1]}')`;
        i = close + 1;
        continue;
      }
    }
    if (word === 'matches' && source[after] === '(') {
      out += 're2Matches';
      i += word.length;
      continue;
    }
    out += word;
    i += word.length;
  }
  return out;
}

/**
 * For type checking only: every `has(` call renamed to `name(` (three characters, so positions in
 * issues stay those of the original text). The library's has() macro checks only the root of its
 * argument; as a plain function the whole selection is checked, so `has(object.spec.typo)` on a
 * declared type is the "undefined field" cel-go reports.
 */
export function renameHasMacro(source: string, name: string): string {
  if (name.length !== 3) throw new Error('the replacement must keep positions');
  let out = '';
  let i = 0;
  while (i < source.length) {
    if (isStringStart(source, i)) {
      const end = skipString(source, i);
      out += source.slice(i, end);
      i = end;
      continue;
    }
    IDENT.lastIndex = i;
    const ident = IDENT.exec(source);
    if (!ident || (i > 0 && /[A-Za-z0-9_]/.test(source[i - 1]))) {
      out += source[i++];
      continue;
    }
    const word = ident[0];
    let after = i + word.length;
    while (source[after] === ' ') after++;
    out += word === 'has' && source[after] === '(' && !out.trimEnd().endsWith('.') ? name : word;
    i += word.length;
  }
  return out;
}
