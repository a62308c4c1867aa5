// The CEL environment Kubernetes expressions run in (CRD x-kubernetes-validations, admission
// matchConditions, ValidatingAdmissionPolicy), on @marcbachmann/cel-js. That library already has
// CEL's standard functions and the strings extension (lowerAscii, split, substring, ...); this
// file adds the Kubernetes libraries real CRDs and policies use (k8s.io/apiserver/pkg/cel/library):
// lists (isSorted, sum, min, max, indexOf, lastIndexOf), strings (charAt, replace, join),
// regex (find, findAll), url, ip and cidr, and quantity.

import { isIP } from 'node:net';
import { Environment } from '@marcbachmann/cel-js';
import { parseQuantity } from '../resources/quantity.ts';
import { rewriteKubernetesCel } from './source-rewrite.ts';

type CelValue = unknown;

function compare(a: CelValue, b: CelValue): number {
  if (typeof a === 'bigint' && typeof b === 'bigint') return a < b ? -1 : a > b ? 1 : 0;
  if ((typeof a === 'number' || typeof a === 'bigint') && (typeof b === 'number' || typeof b === 'bigint')) return Number(a) - Number(b);
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  throw new Error('no such overload');
}

function sameValue(a: CelValue, b: CelValue): boolean {
  return a === b || JSON.stringify(a, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v)) === JSON.stringify(b, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v));
}

/** A parsed URL as the url library exposes it. */
export class KubeUrl {
  constructor(readonly url: URL) {}
}

/** An IP address (ip library). */
export class KubeIp {
  constructor(readonly address: string, readonly family: 4 | 6) {}
}

/** A CIDR (cidr library). */
export class KubeCidr {
  constructor(readonly ip: KubeIp, readonly prefix: number) {}
}

/** A resource.Quantity (quantity library): text and value in base units. */
export class KubeQuantity {
  constructor(readonly text: string, readonly value: number) {}
}

function parseUrl(text: string): URL {
  if (!/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(text) && !text.startsWith('/')) throw new Error(`URL parse error during conversion from string: ${text}`);
  return new URL(text, text.startsWith('/') ? 'relative:///' : undefined);
}

function ipBytes(ip: KubeIp): number[] {
  if (ip.family === 4) return ip.address.split('.').map(Number);
  const [head, tail] = ip.address.split('::');
  const groups = (s: string | undefined) => (s ? s.split(':') : []);
  const h = groups(head);
  const t = tail === undefined ? [] : groups(tail);
  const all = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return all.flatMap((g) => { const n = parseInt(g, 16); return [n >> 8, n & 255]; });
}

function parseIp(text: string): KubeIp {
  const family = isIP(text);
  if (!family || text.includes('%')) throw new Error(`IP Address "${text}" parse error during conversion from string`);
  return new KubeIp(text, family as 4 | 6);
}

function parseCidr(text: string): KubeCidr {
  const slash = text.indexOf('/');
  const ip = slash > 0 ? isIP(text.slice(0, slash)) : 0;
  const bits = Number(text.slice(slash + 1));
  if (!ip || !/^\d+$/.test(text.slice(slash + 1)) || bits > (ip === 4 ? 32 : 128)) throw new Error(`network address parse error during conversion from string: ${text}`);
  return new KubeCidr(new KubeIp(text.slice(0, slash), ip as 4 | 6), bits);
}

function cidrContains(cidr: KubeCidr, ip: KubeIp): boolean {
  if (cidr.ip.family !== ip.family) return false;
  const a = ipBytes(cidr.ip);
  const b = ipBytes(ip);
  let bits = cidr.prefix;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 255 : (255 << (8 - bits)) & 255;
    if ((a[i] & mask) !== (b[i] & mask)) return false;
  }
  return true;
}

function toQuantity(text: string): KubeQuantity {
  const value = parseQuantity(text);
  if (value === undefined) throw new Error(`quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`);
  return new KubeQuantity(text, value);
}

const compiledPatterns = new Map<string, RegExp>();

/**
 * An RE2 pattern as a JavaScript RegExp: flag groups (`(?i)`, `(?s)`, `(?m)`; `(?U)` is not
 * supported), `\A` and `\z`, `(?P<name>` groups and the common POSIX classes are translated.
 */
export function re2(pattern: string, extraFlags = ''): RegExp {
  const key = `${extraFlags}/${pattern}`;
  let compiled = compiledPatterns.get(key);
  if (!compiled) {
    let source = pattern;
    let flags = extraFlags;
    // Flag groups apply to the rest of an RE2 pattern; they sit at (or right after ^ at) its start.
    source = source.replace(/\(\?([imsU]+)\)/g, (_group, found: string) => {
      for (const f of found) if (f !== 'U' && !flags.includes(f)) flags += f;
      return '';
    });
    source = source.replaceAll('(?P<', '(?<').replaceAll('\\A', '^').replaceAll('\\z', '$')
      .replaceAll('[:alpha:]', 'A-Za-z').replaceAll('[:digit:]', '0-9').replaceAll('[:alnum:]', 'A-Za-z0-9')
      .replaceAll('[:space:]', '\\s').replaceAll('[:upper:]', 'A-Z').replaceAll('[:lower:]', 'a-z');
    try {
      compiled = new RegExp(source, flags);
    } catch {
      throw new Error(`invalid regular expression: ${pattern}`);
    }
    if (compiledPatterns.size > 1000) compiledPatterns.clear();
    compiledPatterns.set(key, compiled);
  }
  compiled.lastIndex = 0;
  return compiled;
}

let base: Environment | undefined;
let declaredOnlyBase: Environment | undefined;

/** Parses a Kubernetes CEL expression (after the rewrites of source-rewrite.ts). */
export function parseKubernetesCel(env: Environment, expression: string): ReturnType<Environment['parse']> {
  return env.parse(rewriteKubernetesCel(expression));
}

/**
 * A new environment with the Kubernetes libraries; callers add their variables to it. With
 * `declaredVariablesOnly` an identifier that names no declared variable is an error (type checking:
 * cel-go's "undeclared reference"); otherwise it is dyn.
 */
export function kubernetesCelEnvironment(options: { declaredVariablesOnly?: boolean } = {}): Environment {
  if (options.declaredVariablesOnly) {
    declaredOnlyBase ??= withKubernetesLibraries(false);
    return declaredOnlyBase.clone();
  }
  base ??= withKubernetesLibraries(true);
  return base.clone();
}

function withKubernetesLibraries(unlistedVariablesAreDyn: boolean): Environment {
  const env = new Environment({ unlistedVariablesAreDyn, enableOptionalTypes: true, homogeneousAggregateLiterals: false, limits: { maxAstNodes: 10_000, maxDepth: 100 } });
  env.registerType('net.URL', KubeUrl).registerType('net.IP', KubeIp).registerType('net.CIDR', KubeCidr).registerType('Quantity', KubeQuantity);
  // lists
  env.registerFunction('list.isSorted(): bool', (list: CelValue[]) => list.every((v, i) => i === 0 || compare(list[i - 1], v) <= 0));
  env.registerFunction('list.sum(): dyn', (list: CelValue[]) => list.reduce((sum: CelValue, v) => (typeof sum === 'bigint' && typeof v === 'bigint' ? sum + v : Number(sum) + Number(v)), list.length && typeof list[0] === 'number' ? 0 : 0n));
  env.registerFunction('list.min(): dyn', (list: CelValue[]) => { if (!list.length) throw new Error('min called on empty list'); return list.reduce((m, v) => (compare(v, m) < 0 ? v : m)); });
  env.registerFunction('list.max(): dyn', (list: CelValue[]) => { if (!list.length) throw new Error('max called on empty list'); return list.reduce((m, v) => (compare(v, m) > 0 ? v : m)); });
  env.registerFunction('list.indexOf(dyn): int', (list: CelValue[], value: CelValue) => BigInt(list.findIndex((v) => sameValue(v, value))));
  env.registerFunction('list.lastIndexOf(dyn): int', (list: CelValue[], value: CelValue) => { for (let i = list.length - 1; i >= 0; i--) if (sameValue(list[i], value)) return BigInt(i); return -1n; });
  // strings
  env.registerFunction('string.charAt(int): string', (s: string, i: bigint) => { if (i < 0n || i > BigInt(s.length)) throw new Error(`index out of range: ${i}`); return s.charAt(Number(i)); });
  env.registerFunction('string.replace(string, string): string', (s: string, a: string, b: string) => s.split(a).join(b));
  env.registerFunction('string.replace(string, string, int): string', (s: string, a: string, b: string, n: bigint) => { let out = s; let count = 0n; let at = 0; while ((n < 0n || count < n) && a !== '' && (at = out.indexOf(a, at)) >= 0) { out = out.slice(0, at) + b + out.slice(at + a.length); at += b.length; count++; } return out; });
  env.registerFunction('list.join(): string', (l: string[]) => l.join(''));
  env.registerFunction('list.join(string): string', (l: string[], sep: string) => l.join(sep));
  env.registerFunction('string.reverse(): string', (s: string) => [...s].reverse().join(''));
  // regex: RE2 patterns (see source-rewrite.ts for why matches() is renamed)
  env.registerFunction('string.re2Matches(string): bool', (s: string, re: string) => re2(re).test(s));
  env.registerFunction('re2Matches(string, string): bool', (s: string, re: string) => re2(re).test(s));
  env.registerFunction('__hasField(dyn, string): bool', (value: CelValue, field: string) => {
    if (value instanceof Map) return value.has(field);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return Object.hasOwn(value, field) && (value as Record<string, unknown>)[field] !== undefined;
    throw new Error('invalid type for field selection.');
  });
  env.registerFunction('string.find(string): string', (s: string, re: string) => re2(re).exec(s)?.[0] ?? '');
  env.registerFunction('string.findAll(string): list<string>', (s: string, re: string) => [...s.matchAll(re2(re, 'g'))].map((m) => m[0]));
  env.registerFunction('string.findAll(string, int): list<string>', (s: string, re: string, n: bigint) => { const all = [...s.matchAll(re2(re, 'g'))].map((m) => m[0]); return n < 0n ? all : all.slice(0, Number(n)); });
  // url
  env.registerFunction('url(string): net.URL', (s: string) => new KubeUrl(parseUrl(s)));
  env.registerFunction('isURL(string): bool', (s: string) => { try { parseUrl(s); return true; } catch { return false; } });
  env.registerFunction('net.URL.getScheme(): string', (u: KubeUrl) => (u.url.protocol === 'relative:' ? '' : u.url.protocol.slice(0, -1)));
  env.registerFunction('net.URL.getHost(): string', (u: KubeUrl) => u.url.host);
  env.registerFunction('net.URL.getHostname(): string', (u: KubeUrl) => u.url.hostname.replace(/^\[|\]$/g, ''));
  env.registerFunction('net.URL.getPort(): string', (u: KubeUrl) => u.url.port);
  env.registerFunction('net.URL.getEscapedPath(): string', (u: KubeUrl) => u.url.pathname);
  env.registerFunction('net.URL.getQuery(): map', (u: KubeUrl) => { const q: Record<string, string[]> = {}; for (const [k, v] of u.url.searchParams) (q[k] ??= []).push(v); return q; });
  // ip and cidr
  env.registerFunction('isIP(string): bool', (s: string) => { try { parseIp(s); return true; } catch { return false; } });
  env.registerFunction('ip(string): net.IP', (s: string) => parseIp(s));
  env.registerFunction('net.IP.family(): int', (ip: KubeIp) => BigInt(ip.family));
  env.registerFunction('net.IP.isLoopback(): bool', (ip: KubeIp) => (ip.family === 4 ? ip.address.startsWith('127.') : ip.address === '::1'));
  env.registerFunction('net.IP.isUnspecified(): bool', (ip: KubeIp) => ip.address === '0.0.0.0' || ip.address === '::');
  env.registerFunction('string(net.IP): string', (ip: KubeIp) => ip.address);
  env.registerFunction('isCIDR(string): bool', (s: string) => { try { parseCidr(s); return true; } catch { return false; } });
  env.registerFunction('cidr(string): net.CIDR', (s: string) => parseCidr(s));
  env.registerFunction('net.CIDR.containsIP(string): bool', (c: KubeCidr, s: string) => cidrContains(c, parseIp(s)));
  env.registerFunction('net.CIDR.containsIP(net.IP): bool', (c: KubeCidr, ip: KubeIp) => cidrContains(c, ip));
  env.registerFunction('net.CIDR.containsCIDR(string): bool', (c: KubeCidr, s: string) => { const o = parseCidr(s); return o.prefix >= c.prefix && cidrContains(c, o.ip); });
  env.registerFunction('net.CIDR.prefixLength(): int', (c: KubeCidr) => BigInt(c.prefix));
  env.registerFunction('net.CIDR.ip(): net.IP', (c: KubeCidr) => c.ip);
  env.registerFunction('string(net.CIDR): string', (c: KubeCidr) => `${c.ip.address}/${c.prefix}`);
  // quantity
  env.registerFunction('isQuantity(string): bool', (s: string) => parseQuantity(s) !== undefined);
  env.registerFunction('quantity(string): Quantity', (s: string) => toQuantity(s));
  env.registerFunction('Quantity.compareTo(Quantity): int', (a: KubeQuantity, b: KubeQuantity) => BigInt(Math.sign(a.value - b.value)));
  env.registerFunction('Quantity.isLessThan(Quantity): bool', (a: KubeQuantity, b: KubeQuantity) => a.value < b.value);
  env.registerFunction('Quantity.isGreaterThan(Quantity): bool', (a: KubeQuantity, b: KubeQuantity) => a.value > b.value);
  env.registerFunction('Quantity.asInteger(): int', (q: KubeQuantity) => { if (!Number.isInteger(q.value)) throw new Error('cannot convert value to integer'); return BigInt(q.value); });
  env.registerFunction('Quantity.asApproximateFloat(): double', (q: KubeQuantity) => q.value);
  env.registerFunction('Quantity.sign(): int', (q: KubeQuantity) => BigInt(Math.sign(q.value)));
  env.registerFunction('Quantity.isInteger(): bool', (q: KubeQuantity) => Number.isInteger(q.value));
  env.registerFunction('Quantity.add(Quantity): Quantity', (a: KubeQuantity, b: KubeQuantity) => new KubeQuantity(String(a.value + b.value), a.value + b.value));
  env.registerFunction('Quantity.sub(Quantity): Quantity', (a: KubeQuantity, b: KubeQuantity) => new KubeQuantity(String(a.value - b.value), a.value - b.value));
  return env;
}
