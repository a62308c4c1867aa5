// Label selectors: the string form parsed as k8s.io/apimachinery/pkg/labels (lexer + parser, same
// error wording), and the structured form (metav1.LabelSelector) that workloads, affinity and the
// scheduler use. Both end in the same Requirement matching, so behaviour cannot drift apart.

import { badRequest } from '../errors.ts';
import { displayValue } from '../object.ts';
import { isQualifiedName, isValidLabelValue } from '../validation/names.ts';

export type LabelOperator = 'in' | 'notin' | '=' | '==' | '!=' | 'exists' | '!' | 'gt' | 'lt';

export interface LabelRequirement {
  key: string;
  operator: LabelOperator;
  /** Sorted, de-duplicated (a Go sets.String in upstream). */
  values: string[];
}

export type Labels = Record<string, string> | undefined;

export interface LabelSelector {
  requirements: LabelRequirement[];
  /** True when the selector selects everything (empty string). */
  empty: boolean;
  matches(labels: Labels): boolean;
  toString(): string;
}

// ---- lexer ----

type TokenKind = 'error' | 'eos' | 'closedPar' | 'comma' | 'doesNotExist' | 'doubleEquals' | 'equals'
  | 'gt' | 'identifier' | 'in' | 'lt' | 'notEquals' | 'notIn' | 'openPar';

interface Token { kind: TokenKind; literal: string }

const SYMBOL_TOKENS: Record<string, TokenKind> = {
  ')': 'closedPar', ',': 'comma', '!': 'doesNotExist', '==': 'doubleEquals', '=': 'equals', '>': 'gt',
  '<': 'lt', '!=': 'notEquals', '(': 'openPar',
};
const SPECIAL_SYMBOLS = new Set(['=', '!', '(', ')', ',', '>', '<']);
const WHITESPACE = new Set([' ', '\t', '\r', '\n']);

function lex(input: string): Token[] {
  const tokens: Token[] = [];
  let pos = 0;
  while (true) {
    while (pos < input.length && WHITESPACE.has(input[pos])) pos++;
    if (pos >= input.length) {
      tokens.push({ kind: 'eos', literal: '' });
      return tokens;
    }
    const ch = input[pos];
    if (SPECIAL_SYMBOLS.has(ch)) {
      // Longest run of special characters that still forms a known symbol.
      let buffer = '';
      let last: Token | undefined;
      while (pos < input.length && SPECIAL_SYMBOLS.has(input[pos])) {
        buffer += input[pos];
        const kind = SYMBOL_TOKENS[buffer];
        if (kind) {
          last = { kind, literal: buffer };
          pos++;
        } else if (last) {
          break;
        } else {
          pos++;
        }
      }
      tokens.push(last ?? { kind: 'error', literal: `error expected: keyword found '${buffer}'` });
      continue;
    }
    let word = '';
    while (pos < input.length && !WHITESPACE.has(input[pos]) && !SPECIAL_SYMBOLS.has(input[pos])) word += input[pos++];
    tokens.push({ kind: word === 'in' ? 'in' : word === 'notin' ? 'notIn' : 'identifier', literal: word });
  }
}

// ---- parser ----

const BINARY_OPERATORS = ['in', 'notin', '=', '==', '!=', 'gt', 'lt'];

class ParseError extends Error {}

/** Go's field.Error for the parser's nil path prints as `<nil>: Invalid value: ...`. */
function invalidAt(path: string, value: unknown, detail: string): string {
  return `${path}: Invalid value: ${formatGoValue(value)}: ${detail}`;
}

function formatGoValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[]string{${value.map((v) => JSON.stringify(v)).join(', ')}}`;
  return displayValue(value);
}

function aggregate(messages: string[]): string {
  return messages.length === 1 ? messages[0] : `[${messages.join(', ')}]`;
}

function keyError(key: string, path: string): string | undefined {
  const errs = isQualifiedName(key);
  return errs.length ? invalidAt(path, key, errs.join('; ')) : undefined;
}

/** NewRequirement's checks; returns the error text or undefined. */
export function requirementError(key: string, operator: LabelOperator, values: string[], basePath = ''): string | undefined {
  const child = (name: string) => (basePath ? `${basePath}.${name}` : name);
  const errs: string[] = [];
  const keyErr = keyError(key, child('key'));
  if (keyErr) errs.push(keyErr);
  const valuesPath = child('values');
  switch (operator) {
    case 'in': case 'notin':
      if (values.length === 0) errs.push(invalidAt(valuesPath, values, "for 'in', 'notin' operators, values set can't be empty"));
      break;
    case '=': case '==': case '!=':
      if (values.length !== 1) errs.push(invalidAt(valuesPath, values, 'exact-match compatibility requires one single value'));
      break;
    case 'exists': case '!':
      if (values.length !== 0) errs.push(invalidAt(valuesPath, values, 'values set must be empty for exists and does not exist'));
      break;
    case 'gt': case 'lt':
      if (values.length !== 1) errs.push(invalidAt(valuesPath, values, "for 'Gt', 'Lt' operators, exactly one value is required"));
      values.forEach((v, i) => {
        if (!/^[+-]?\d+$/.test(v)) errs.push(invalidAt(`${valuesPath}[${i}]`, v, "for 'Gt', 'Lt' operators, the value must be an integer"));
      });
      break;
  }
  values.forEach((v, i) => {
    const msgs = isValidLabelValue(v);
    if (msgs.length) errs.push(invalidAt(`${valuesPath}[${i}][${key}]`, v, msgs.join('; ')));
  });
  return errs.length ? aggregate(errs) : undefined;
}

class Parser {
  private position = 0;
  constructor(private readonly tokens: Token[]) {}

  // In a value position the keywords `in`/`notin` are ordinary identifiers.
  private asValue(token: Token): Token {
    return token.kind === 'in' || token.kind === 'notIn' ? { kind: 'identifier', literal: token.literal } : token;
  }
  private lookahead(valueContext: boolean): Token {
    const token = this.tokens[this.position];
    return valueContext ? this.asValue(token) : token;
  }
  private consume(valueContext: boolean): Token {
    const token = this.tokens[this.position];
    if (this.position < this.tokens.length - 1) this.position++;
    return valueContext ? this.asValue(token) : token;
  }

  parse(): LabelRequirement[] {
    const requirements: LabelRequirement[] = [];
    while (true) {
      const next = this.lookahead(true);
      if (next.kind === 'identifier' || next.kind === 'doesNotExist') {
        let requirement: LabelRequirement;
        try {
          requirement = this.parseRequirement();
        } catch (err) {
          throw new ParseError(`unable to parse requirement: ${(err as Error).message}`);
        }
        requirements.push(requirement);
        const after = this.consume(true);
        if (after.kind === 'eos') return requirements;
        if (after.kind === 'comma') {
          const following = this.lookahead(true);
          if (following.kind !== 'identifier' && following.kind !== 'doesNotExist') {
            throw new ParseError(`found '${following.literal}', expected: identifier after ','`);
          }
          continue;
        }
        throw new ParseError(`found '${after.literal}', expected: ',' or 'end of string'`);
      }
      if (next.kind === 'eos') return requirements;
      throw new ParseError(`found '${next.literal}', expected: !, identifier, or 'end of string'`);
    }
  }

  private parseRequirement(): LabelRequirement {
    let token = this.consume(true);
    let operator: LabelOperator | undefined;
    if (token.kind === 'doesNotExist') {
      operator = '!';
      token = this.consume(true);
    }
    if (token.kind !== 'identifier') throw new Error(`found '${token.literal}', expected: identifier`);
    const key = token.literal;
    const keyErr = keyError(key, '<nil>');
    if (keyErr) throw new Error(keyErr);
    const next = this.lookahead(true).kind;
    if (next === 'eos' || next === 'comma') operator ??= 'exists';
    if (operator === 'exists' || operator === '!') return this.build(key, operator, []);

    const opToken = this.consume(false);
    const operators: Partial<Record<TokenKind, LabelOperator>> = {
      in: 'in', notIn: 'notin', equals: '=', doubleEquals: '==', notEquals: '!=', gt: 'gt', lt: 'lt',
    };
    const binary = operators[opToken.kind];
    if (!binary) throw new Error(`found '${opToken.literal}', expected: ${BINARY_OPERATORS.join(', ')}`);
    const values = binary === 'in' || binary === 'notin' ? this.parseValues() : this.parseExactValue();
    return this.build(key, binary, [...new Set(values)].sort());
  }

  private build(key: string, operator: LabelOperator, values: string[]): LabelRequirement {
    const err = requirementError(key, operator, values);
    if (err) throw new Error(err);
    return { key, operator, values };
  }

  private parseValues(): string[] {
    const open = this.consume(true);
    if (open.kind !== 'openPar') throw new Error(`found '${open.literal}' expected: '('`);
    const next = this.lookahead(true);
    if (next.kind === 'identifier' || next.kind === 'comma') {
      const values = this.parseIdentifiersList();
      if (this.consume(true).kind !== 'closedPar') throw new Error(`found '${next.literal}', expected: ')'`);
      return values;
    }
    if (next.kind === 'closedPar') {
      this.consume(true);
      return [''];
    }
    throw new Error(`found '${next.literal}', expected: ',', ')' or identifier`);
  }

  private parseIdentifiersList(): string[] {
    const values = new Set<string>();
    while (true) {
      const token = this.consume(true);
      if (token.kind === 'identifier') {
        values.add(token.literal);
        const next = this.lookahead(true);
        if (next.kind === 'comma') continue;
        if (next.kind === 'closedPar') return [...values];
        throw new Error(`found '${next.literal}', expected: ',' or ')'`);
      }
      if (token.kind === 'comma') {
        // Empty items around commas (`(,a)`, `(a,)`, `(a,,b)`) stand for the empty value.
        if (values.size === 0) values.add('');
        const next = this.lookahead(true);
        if (next.kind === 'closedPar') {
          values.add('');
          return [...values];
        }
        if (next.kind === 'comma') {
          this.consume(true);
          values.add('');
        }
        continue;
      }
      throw new Error(`found '${token.literal}', expected: ',', or identifier`);
    }
  }

  private parseExactValue(): string[] {
    const next = this.lookahead(true);
    if (next.kind === 'eos' || next.kind === 'comma') return [''];
    const token = this.consume(true);
    if (token.kind === 'identifier') return [token.literal];
    throw new Error(`found '${token.literal}', expected: identifier`);
  }
}

// ---- matching ----

export function matchesRequirement(requirement: LabelRequirement, labels: Labels): boolean {
  const has = labels !== undefined && Object.prototype.hasOwnProperty.call(labels, requirement.key);
  const value = has ? labels![requirement.key] : undefined;
  switch (requirement.operator) {
    case 'in': case '=': case '==':
      return has && requirement.values.includes(value!);
    case 'notin': case '!=':
      return !has || !requirement.values.includes(value!);
    case 'exists':
      return has;
    case '!':
      return !has;
    case 'gt': case 'lt': {
      if (!has || !/^[+-]?\d+$/.test(value!) || requirement.values.length !== 1) return false;
      const actual = Number(value);
      const bound = Number(requirement.values[0]);
      return requirement.operator === 'gt' ? actual > bound : actual < bound;
    }
  }
}

function requirementToString(r: LabelRequirement): string {
  switch (r.operator) {
    case 'exists': return r.key;
    case '!': return `!${r.key}`;
    case 'in': case 'notin': return `${r.key} ${r.operator} (${r.values.join(',')})`;
    case 'gt': return `${r.key}>${r.values[0]}`;
    case 'lt': return `${r.key}<${r.values[0]}`;
    default: return `${r.key}${r.operator}${r.values[0]}`;
  }
}

export function selectorFromRequirements(requirements: LabelRequirement[]): LabelSelector {
  // Upstream sorts requirements by key so that String() is canonical.
  const sorted = [...requirements].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return {
    requirements: sorted,
    empty: sorted.length === 0,
    matches: (labels) => sorted.every((r) => matchesRequirement(r, labels)),
    toString: () => sorted.map(requirementToString).join(','),
  };
}

/** Parses a `labelSelector` query value. Throws a 400 StatusError worded as kube-apiserver. */
export function parseLabelSelector(input: string): LabelSelector {
  try {
    return selectorFromRequirements(new Parser(lex(input)).parse());
  } catch (err) {
    if (err instanceof ParseError) throw badRequest(err.message);
    throw err;
  }
}

// ---- structured selectors (metav1.LabelSelector) ----

export interface LabelSelectorRequirementSpec {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist' | string;
  values?: string[];
}

export interface LabelSelectorSpec {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirementSpec[];
}

const STRUCTURED_OPERATORS: Record<string, LabelOperator> = { In: 'in', NotIn: 'notin', Exists: 'exists', DoesNotExist: '!' };

/**
 * metav1.LabelSelectorAsSelector: an empty selector `{}` matches everything; a missing (undefined/null)
 * selector matches nothing. Throws Error for an invalid operator (callers validate beforehand).
 */
export function labelSelectorFromSpec(spec: LabelSelectorSpec | null | undefined): LabelSelector {
  if (spec === null || spec === undefined) {
    return { requirements: [], empty: false, matches: () => false, toString: () => '<none>' };
  }
  const requirements: LabelRequirement[] = [];
  for (const key of Object.keys(spec.matchLabels ?? {})) {
    requirements.push({ key, operator: '=', values: [spec.matchLabels![key]] });
  }
  for (const expr of spec.matchExpressions ?? []) {
    const operator = STRUCTURED_OPERATORS[expr.operator];
    if (!operator) throw new Error(`"${expr.operator}" is not a valid label selector operator`);
    requirements.push({ key: expr.key, operator, values: [...new Set(expr.values ?? [])].sort() });
  }
  return selectorFromRequirements(requirements);
}

/** Whether `labels` satisfy a structured selector (see labelSelectorFromSpec for null/empty). */
export function matchLabelSelector(spec: LabelSelectorSpec | null | undefined, labels: Labels): boolean {
  return labelSelectorFromSpec(spec).matches(labels);
}
