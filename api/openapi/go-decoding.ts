// What Go's JSON decoder refuses that a JSON Schema type check lets through (issue 13, item 7):
// integers outside the Go type the OpenAPI `format` names (int32, int64) and metav1.Time strings
// that are not RFC 3339. kube-apiserver never stores such objects: decoding the body into the Go
// struct fails, and the create/update handler answers 400 "<Kind> in version "v1" cannot be
// handled as a <Kind>: <decoder error>". Storing them (as kube-facade did) broke every Go client
// that read the object back (`kubectl describe`, informers).
// The checks run inside the compiled ajv validator as two keywords (ajv-schemas.ts adds them).

import type { Ajv, ErrorObject } from 'ajv';

/** Keyword on integer properties: the Go integer type and the struct the field belongs to. */
export const GO_INTEGER_KEYWORD = 'x-go-integer';
/** Keyword on metav1.Time. */
export const GO_TIME_KEYWORD = 'x-go-time';

export interface GoIntegerSchema {
  type: 'int32' | 'int64';
  /** The Go struct holding the field (PodSpec), as UnmarshalTypeError names it. */
  struct: string;
}

/**
 * Whether a decoded JSON number fits the Go type. int64's bounds are not doubles: 2^63 - 1 parses
 * to 2^63, which Go could not read back once stored, so only |n| < 2^63 (and -2^63) pass.
 */
function fits(type: GoIntegerSchema['type'], value: number): boolean {
  if (type === 'int32') return value >= -2147483648 && value <= 2147483647;
  return Math.abs(value) < 2 ** 63 || value === -(2 ** 63);
}

type KeywordValidate = ((schema: unknown, data: unknown) => boolean) & { errors?: Partial<ErrorObject>[] };

export function addGoDecodingKeywords(ajv: Ajv): void {
  const integer: KeywordValidate = (schema, data) => {
    const { type } = schema as GoIntegerSchema;
    if (typeof data !== 'number' || !Number.isInteger(data)) return true;
    if (fits(type, data)) return true;
    integer.errors = [{ keyword: GO_INTEGER_KEYWORD, params: { ...(schema as GoIntegerSchema), value: data } }];
    return false;
  };
  const time: KeywordValidate = (_schema, data) => {
    if (typeof data !== 'string') return true;
    const problem = rfc3339Problem(data);
    if (problem === undefined) return true;
    time.errors = [{ keyword: GO_TIME_KEYWORD, params: { message: problem } }];
    return false;
  };
  ajv.addKeyword({ keyword: GO_INTEGER_KEYWORD, schemaType: 'object', errors: true, validate: integer });
  ajv.addKeyword({ keyword: GO_TIME_KEYWORD, schemaType: 'boolean', errors: true, validate: time });
}

/** UnmarshalTypeError's text; `path` is the dotted JSON path without list indices, as Go records it. */
export function goIntegerMessage(params: GoIntegerSchema & { value: number }, path: string): string {
  return `json: cannot unmarshal number ${numberText(params.value)} into Go struct field ${params.struct}.${path} of type ${params.type}`;
}

function numberText(value: number): string {
  return Number.isSafeInteger(value) ? String(value) : BigInt(value).toString();
}

const RFC3339 = '2006-01-02T15:04:05Z07:00';

/**
 * time.Parse(time.RFC3339, value)'s error, or undefined when it parses. Walks the layout's
 * elements as Go does and reports the first one the value does not match
 * (`parsing time "x" as "2006-01-02T15:04:05Z07:00": cannot parse "x" as "2006"`), or a range error.
 */
export function rfc3339Problem(value: string): string | undefined {
  const quoted = JSON.stringify(value);
  const cannot = (rest: string, element: string) => `parsing time ${quoted} as "${RFC3339}": cannot parse ${JSON.stringify(rest)} as ${JSON.stringify(element)}`;
  const outOfRange = (what: string) => `parsing time ${quoted}: ${what} out of range`;
  let at = 0;
  const digits = (count: number, element: string): number | string => {
    const text = value.slice(at, at + count);
    if (text.length !== count || !/^\d+$/.test(text)) return cannot(value.slice(at), element);
    at += count;
    return Number(text);
  };
  const literal = (text: string): string | undefined => {
    if (value.slice(at, at + text.length) !== text) return cannot(value.slice(at), text);
    at += text.length;
    return undefined;
  };
  const steps: [string, number][] = [];
  for (const [element, count, sep] of [['2006', 4, '-'], ['01', 2, '-'], ['02', 2, 'T'], ['15', 2, ':'], ['04', 2, ':'], ['05', 2, '']] as const) {
    const parsed = digits(count, element);
    if (typeof parsed === 'string') return parsed;
    steps.push([element, parsed]);
    if (sep) {
      const failed = literal(sep);
      if (failed) return failed;
    }
  }
  // Fractional seconds may follow the seconds in any layout.
  if (value[at] === '.' || value[at] === ',') {
    const fraction = /^[.,]\d+/.exec(value.slice(at));
    if (!fraction) return cannot(value.slice(at), 'Z07:00');
    at += fraction[0].length;
  }
  if (value[at] === 'Z') at += 1;
  else {
    const zone = /^[+-](\d\d):(\d\d)/.exec(value.slice(at));
    if (!zone) return cannot(value.slice(at), 'Z07:00');
    if (Number(zone[1]) > 23) return outOfRange('timezone hour');
    if (Number(zone[2]) > 59) return outOfRange('timezone minute');
    at += zone[0].length;
  }
  if (at !== value.length) return `parsing time ${quoted}: extra text: ${JSON.stringify(value.slice(at))}`;
  const get = (element: string) => steps.find(([e]) => e === element)![1];
  const [year, month, day] = [get('2006'), get('01'), get('02')];
  if (month < 1 || month > 12) return outOfRange('month');
  const daysIn = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day < 1 || day > daysIn) return outOfRange('day');
  if (get('15') > 23) return outOfRange('hour');
  if (get('04') > 59) return outOfRange('minute');
  if (get('05') > 59) return outOfRange('second');
  return undefined;
}
