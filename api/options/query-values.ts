// Query-string values converted as kube-apiserver converts them into its options structs
// (k8s.io/apimachinery/pkg/runtime/conversion.go and the generated url.Values conversions):
// a parameter given several times counts by its first value, unknown parameters are ignored,
// a boolean is false only when absent, "0" or "false" (any case), an integer is Go's
// strconv.ParseInt(s, 10, 64). A value that does not convert fails the request with 400 and
// the conversion's own error text, as the handlers' DecodeParameters → NewBadRequest does.

import { badRequest } from '../errors.ts';

/** The raw parameters of one request (a URLSearchParams, or anything that answers getAll). */
export interface RawQuery {
  getAll(name: string): string[];
  has(name: string): boolean;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Convert_Slice_string_To_string: the first value, undefined when the parameter is absent. */
export function stringParam(query: RawQuery, name: string): string | undefined {
  const values = query.getAll(name);
  return values.length > 0 ? values[0] : undefined;
}

/** Every value, in order (dryRun, command). */
export function stringsParam(query: RawQuery, name: string): string[] {
  return query.getAll(name);
}

/** Convert_Slice_string_To_Pointer_bool: undefined when absent. */
export function optionalBoolParam(query: RawQuery, name: string): boolean | undefined {
  const values = query.getAll(name);
  if (values.length === 0) return undefined;
  return parseQueryBool(values[0]);
}

/** Convert_Slice_string_To_bool: absent is false. */
export function boolParam(query: RawQuery, name: string): boolean {
  return optionalBoolParam(query, name) ?? false;
}

/** Every value except "0" and "false" (compared case-insensitively) is true, the empty string included. */
export function parseQueryBool(value: string): boolean {
  return !(value === '0' || value.toLowerCase() === 'false');
}

/** strconv.ParseInt(value, 10, 64), with Go's error text. */
export function parseGoInt64(value: string): number {
  if (!/^[+-]?[0-9]+$/.test(value)) throw badRequest(`strconv.ParseInt: parsing ${goQuote(value)}: invalid syntax`);
  const big = BigInt(value);
  if (big < INT64_MIN || big > INT64_MAX) throw badRequest(`strconv.ParseInt: parsing ${goQuote(value)}: value out of range`);
  return Number(big);
}

/** Convert_Slice_string_To_Pointer_int64 / Convert_Slice_string_To_int64: undefined when absent. */
export function int64Param(query: RawQuery, name: string): number | undefined {
  const values = query.getAll(name);
  if (values.length === 0) return undefined;
  return parseGoInt64(values[0]);
}

/**
 * Convert_Slice_string_To_Slice_int32 (port forwarding): every value, each a comma-separated list
 * of ports parsed as strconv.ParseUint(v, 10, 16).
 */
export function portsParam(query: RawQuery, name: string): number[] {
  const ports: number[] = [];
  for (const value of query.getAll(name)) {
    for (const part of value.split(',')) {
      if (!/^[0-9]+$/.test(part)) {
        throw badRequest(`cannot convert to []int32: strconv.ParseUint: parsing ${goQuote(part)}: invalid syntax`);
      }
      const port = Number(part);
      if (port > 65535) throw badRequest(`cannot convert to []int32: strconv.ParseUint: parsing ${goQuote(part)}: value out of range`);
      ports.push(port);
    }
  }
  return ports;
}

/**
 * metav1.Time.UnmarshalQueryParameter: RFC 3339; "" and "null" are the zero time
 * (0001-01-01T00:00:00Z); anything else that does not parse is a 400 with
 * Go's time.Parse error.
 */
export function timeParam(query: RawQuery, name: string): Date | undefined {
  const values = query.getAll(name);
  if (values.length === 0) return undefined;
  return parseQueryTime(values[0]);
}

/** Go's zero time.Time, 0001-01-01T00:00:00Z. */
export const ZERO_TIME = new Date('0001-01-01T00:00:00Z');

const RFC3339_LAYOUT = '2006-01-02T15:04:05Z07:00';
/** The layout's elements in order, with the pattern each must match at the start of the rest. */
const RFC3339_ELEMENTS: [string, RegExp][] = [
  ['2006', /^[0-9]{4}/], ['-', /^-/], ['01', /^[0-9]{2}/], ['-', /^-/], ['02', /^[0-9]{2}/], ['T', /^T/],
  ['15', /^[0-9]{2}/], [':', /^:/], ['04', /^[0-9]{2}/], [':', /^:/], ['05', /^[0-9]{2}(\.[0-9]+)?/],
  ['Z07:00', /^(Z|[+-][0-9]{2}:[0-9]{2})/],
];

export function parseQueryTime(value: string): Date {
  if (value === '' || value === 'null') return new Date(ZERO_TIME.getTime());
  const prefix = `parsing time ${goQuote(value)} as ${goQuote(RFC3339_LAYOUT)}`;
  let rest = value;
  for (const [element, pattern] of RFC3339_ELEMENTS) {
    const match = pattern.exec(rest);
    if (!match) throw badRequest(`${prefix}: cannot parse ${goQuote(rest)} as ${goQuote(element)}`);
    rest = rest.slice(match[0].length);
  }
  if (rest !== '') throw badRequest(`parsing time ${goQuote(value)}: extra text: ${goQuote(rest)}`);
  const [, month, day, hour, minute, second] = /^[0-9]{4}-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})/.exec(value)!.map(Number);
  const outOfRange = month < 1 || month > 12 ? 'month' : day < 1 || day > 31 ? 'day' : hour > 23 ? 'hour' : minute > 59 ? 'minute' : second > 59 ? 'second' : '';
  if (outOfRange) throw badRequest(`parsing time ${goQuote(value)}: ${outOfRange} out of range`);
  const parsed = new Date(value);
  if (Number.isNaN(parsed.getTime())) throw badRequest(`parsing time ${goQuote(value)}: day out of range`);
  return parsed;
}

/** strconv.Quote for the printable strings these messages quote. */
export function goQuote(value: string): string {
  return JSON.stringify(value);
}
