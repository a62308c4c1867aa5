// Field selectors, parsed as k8s.io/apimachinery/pkg/fields.ParseSelector: comma-separated terms
// `field=value`, `field==value`, `field!=value`, with `\,` `\=` `\\` escapes in values. Terms are
// sorted like upstream so that String() is canonical whatever order the client sent.

import { badRequest } from '../errors.ts';

export interface FieldRequirement {
  field: string;
  operator: '=' | '!=';
  value: string;
}

export interface FieldSelector {
  requirements: FieldRequirement[];
  empty: boolean;
  /** `fields` maps each selectable field to its value ('' when the object lacks it). */
  matches(fields: Record<string, string>): boolean;
  /** The value a field must equal for any match (`spec.nodeName=node01` → 'node01'): an index hint. */
  requiredValue(field: string): string | undefined;
  toString(): string;
}

const TERM_OPERATORS = ['!=', '==', '='] as const;

function splitTerms(selector: string): string[] {
  if (selector.length === 0) return [];
  const terms: string[] = [];
  let start = 0;
  let inSlash = false;
  for (let i = 0; i < selector.length; i++) {
    const c = selector[i];
    if (inSlash) inSlash = false;
    else if (c === '\\') inSlash = true;
    else if (c === ',') {
      terms.push(selector.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(selector.slice(start));
  return terms;
}

function splitTerm(term: string): { lhs: string; op: string; rhs: string } | undefined {
  for (let i = 0; i < term.length; i++) {
    const remaining = term.slice(i);
    for (const op of TERM_OPERATORS) {
      if (remaining.startsWith(op)) return { lhs: term.slice(0, i), op, rhs: term.slice(i + op.length) };
    }
  }
  return undefined;
}

function unescapeValue(value: string): string {
  if (!/[\\,=]/.test(value)) return value;
  let out = '';
  let inSlash = false;
  for (const c of value) {
    if (inSlash) {
      if (c === '\\' || c === ',' || c === '=') out += c;
      else throw badRequest(`invalid field selector: invalid escape sequence: \\${c}`);
      inSlash = false;
      continue;
    }
    if (c === '\\') inSlash = true;
    // Go prints the rune with %v, i.e. as its code point number.
    else if (c === ',' || c === '=') throw badRequest(`invalid field selector: unescaped character in value: ${c.codePointAt(0)}`);
    else out += c;
  }
  if (inSlash) throw badRequest('invalid field selector: invalid escape sequence: \\');
  return out;
}

function escapeValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/,/g, '\\,').replace(/=/g, '\\=');
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Parses a `fieldSelector` query value. Throws a 400 StatusError on syntax errors. */
export function parseFieldSelector(selector: string): FieldSelector {
  const parts = splitTerms(selector).sort(compareStrings);
  const requirements: FieldRequirement[] = [];
  for (const part of parts) {
    if (part === '') continue;
    const term = splitTerm(part);
    if (!term) throw badRequest(`invalid selector: '${selector}'; can't understand '${part}'`);
    requirements.push({ field: term.lhs, operator: term.op === '!=' ? '!=' : '=', value: unescapeValue(term.rhs) });
  }
  return {
    requirements,
    empty: requirements.length === 0,
    matches: (fields) => requirements.every((r) => (((Object.hasOwn(fields, r.field) ? fields[r.field] : undefined) ?? '') === r.value) === (r.operator === '=')),
    requiredValue: (field) => requirements.find((r) => r.field === field && r.operator === '=')?.value,
    toString: () => requirements.map((r) => `${r.field}${r.operator}${escapeValue(r.value)}`).join(','),
  };
}

/**
 * Rejects a selector naming a field the resource does not support, as the field-label conversion
 * in kube-apiserver does: 400 `field label not supported: <field>` from a kind's own conversion
 * function, or, for kinds without one (runtime.DefaultMetaV1FieldSelectorConversion),
 * `"<field>" is not a known field selector: only "metadata.name", "metadata.namespace"`.
 */
export function checkSupportedFields(selector: FieldSelector, supported: Iterable<string>, defaultConversion = false): void {
  const known = new Set(supported);
  for (const r of selector.requirements) {
    if (known.has(r.field)) continue;
    if (defaultConversion) throw badRequest(`${JSON.stringify(r.field)} is not a known field selector: only "metadata.name", "metadata.namespace"`);
    throw badRequest(`field label not supported: ${r.field}`);
  }
}
