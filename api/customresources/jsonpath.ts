// The JSONPath subset CRDs use in additionalPrinterColumns, selectableFields and the scale
// subresource: `.a.b`, `.a[0]`, `.a['k.with.dots']`, `.a[*].b` and filters `[?(@.type=="Ready")]`
// (client-go's jsonpath as kubectl and apiextensions evaluate these paths).

import { isPlainObject } from '../object.ts';

type Step =
  | { kind: 'field'; name: string }
  | { kind: 'index'; index: number }
  | { kind: 'all' }
  | { kind: 'filter'; path: string[]; op: '==' | '!='; value: string | number | boolean };

export class JsonPath {
  private readonly steps: Step[];

  constructor(readonly expression: string) {
    this.steps = parse(expression.replace(/^\{(.*)\}$/, '$1'));
  }

  /** Every value the path selects. */
  find(root: unknown): unknown[] {
    let current: unknown[] = [root];
    for (const step of this.steps) {
      const next: unknown[] = [];
      for (const value of current) {
        if (step.kind === 'field') {
          if (isPlainObject(value) && value[step.name] !== undefined) next.push(value[step.name]);
        } else if (step.kind === 'index') {
          if (Array.isArray(value)) {
            const at = step.index < 0 ? value.length + step.index : step.index;
            if (value[at] !== undefined) next.push(value[at]);
          }
        } else if (step.kind === 'all') {
          if (Array.isArray(value)) next.push(...value);
          else if (isPlainObject(value)) next.push(...Object.values(value));
        } else if (Array.isArray(value)) {
          for (const item of value) {
            let probe: unknown = item;
            for (const name of step.path) probe = isPlainObject(probe) ? probe[name] : undefined;
            const equal = probe === step.value || (probe !== undefined && String(probe) === String(step.value));
            if (step.op === '==' ? equal : !equal) next.push(item);
          }
        }
      }
      current = next;
    }
    return current;
  }

  /** The first selected value, or undefined. */
  first(root: unknown): unknown {
    return this.find(root)[0];
  }

  /** Field path segments when the path is plain fields only (for writes: the scale subresource). */
  fields(): string[] | undefined {
    return this.steps.every((s) => s.kind === 'field') ? this.steps.map((s) => (s as { name: string }).name) : undefined;
  }
}

function parse(expression: string): Step[] {
  const steps: Step[] = [];
  let i = 0;
  const text = expression.trim();
  if (text.startsWith('$')) i = 1;
  while (i < text.length) {
    const c = text[i];
    if (c === '.') {
      i++;
      const match = /^[^.[\]]+/.exec(text.slice(i));
      if (!match) {
        if (text[i] === '[') continue;
        throw new Error(`invalid JSONPath ${expression}`);
      }
      steps.push(match[0] === '*' ? { kind: 'all' } : { kind: 'field', name: match[0] });
      i += match[0].length;
    } else if (c === '[') {
      const end = findClosingBracket(text, i);
      const inner = text.slice(i + 1, end).trim();
      i = end + 1;
      if (inner === '*') steps.push({ kind: 'all' });
      else if (/^-?\d+$/.test(inner)) steps.push({ kind: 'index', index: Number(inner) });
      else if (/^'.*'$|^".*"$/.test(inner)) steps.push({ kind: 'field', name: inner.slice(1, -1) });
      else if (inner.startsWith('?(') && inner.endsWith(')')) steps.push(parseFilter(inner.slice(2, -1), expression));
      else throw new Error(`invalid JSONPath ${expression}`);
    } else {
      throw new Error(`invalid JSONPath ${expression}`);
    }
  }
  return steps;
}

function findClosingBracket(text: string, open: number): number {
  let quote: string | undefined;
  for (let j = open + 1; j < text.length; j++) {
    const c = text[j];
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === ']') return j;
  }
  throw new Error(`invalid JSONPath: unclosed [ in ${text}`);
}

function parseFilter(filter: string, expression: string): Step {
  const match = /^@((?:\.[^.=!\s]+)+)\s*(==|!=)\s*(.+)$/.exec(filter.trim());
  if (!match) throw new Error(`unsupported JSONPath filter in ${expression}`);
  const raw = match[3].trim();
  let value: string | number | boolean;
  if (/^'.*'$|^".*"$/.test(raw)) value = raw.slice(1, -1);
  else if (raw === 'true' || raw === 'false') value = raw === 'true';
  else if (/^-?\d+(\.\d+)?$/.test(raw)) value = Number(raw);
  else throw new Error(`unsupported JSONPath filter value in ${expression}`);
  return { kind: 'filter', path: match[1].slice(1).split('.'), op: match[2] as '==' | '!=', value };
}

/** How `kubectl get -o custom-columns` and the CRD table convertor print a string cell. */
export function printJsonValue(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null || value === undefined) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}
