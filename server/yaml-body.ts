// YAML request bodies (application/yaml, application/apply-patch+yaml), decoded with bounded work.
//
// kube-apiserver reads YAML with sigs.k8s.io/yaml (go-yaml v2), whose limits are: nesting beyond
// 10,000 levels fails "yaml: exceeded max depth of 10000"; a document whose decoding is mostly
// alias expansion fails "yaml: document contains excessive aliasing" (allowedAliasRatio); the
// 3 MiB body limit bounds everything else, because go-yaml is linear in the size of its input.
// The `yaml` package kube-facade used before was not: its duplicate-key check compares every pair
// of keys of a mapping (230 KiB of keys froze the server 3.3 s, 3 MiB for over 15 minutes), and its
// composer took ~10 s on 3 MiB even without that check. js-yaml parses the same 3 MiB in well
// under a second, checks duplicate keys with a hash lookup, stops at a configured depth, and never
// copies an alias (it hands back the anchored value itself) - so expansion happens here, counted
// as go-yaml counts it.
//
// Nesting is limited to 1,000 levels rather than go-yaml's 10,000 (see MAX_YAML_DEPTH).
//
// The CORE schema: YAML 1.2 scalars (null, booleans, ints, floats) and nothing else; no
// timestamps turned into Date objects, no !!binary buffers, no merge keys.

import jsYaml from 'js-yaml';

const { CORE_SCHEMA, YAMLException, load } = jsYaml;

/**
 * go-yaml allows 10,000 levels; js-yaml descends recursively and a document a few thousand levels
 * deep exhausts the stack, so the limit here is the depth the rest of the server processes too
 * (server/json-body-scan.ts: PROCESSED_JSON_DEPTH). No served schema nests anywhere near it.
 */
export const MAX_YAML_DEPTH = 1_000;

/** js-yaml 4.2+ takes `maxDepth` (default 100); its type definitions predate it. */
const LOAD_OPTIONS: jsYaml.LoadOptions & { maxDepth: number } = { schema: CORE_SCHEMA, maxDepth: MAX_YAML_DEPTH };

/** A YAML body that is not a valid or acceptable document; the message is go-yaml's. */
export class YamlBodyError extends Error {}

export function decodeYamlBody(text: string): unknown {
  let value: unknown;
  try {
    value = load(text, LOAD_OPTIONS);
  } catch (err) {
    throw new YamlBodyError(yamlErrorMessage(err));
  }
  return expandAliases(value);
}

function yamlErrorMessage(err: unknown): string {
  // Should js-yaml exhaust the stack before its own depth check, the answer is the same.
  if (err instanceof RangeError) return `yaml: exceeded max depth of ${MAX_YAML_DEPTH}`;
  if (!(err instanceof YAMLException)) return `yaml: ${err instanceof Error ? err.message : String(err)}`;
  const reason = err.reason ?? err.message;
  if (/maxDepth/.test(reason)) return `yaml: exceeded max depth of ${MAX_YAML_DEPTH}`;
  const line = err.mark ? err.mark.line + 1 : undefined;
  const duplicate = /^duplicated mapping key$/.test(reason);
  if (duplicate && line !== undefined) {
    const key = keyAt(err.mark.buffer, err.mark.position);
    return `yaml: unmarshal errors:\n  line ${line}: key ${JSON.stringify(key)} already set in map`;
  }
  return line === undefined ? `yaml: ${reason}` : `yaml: line ${line}: ${reason}`;
}

/** The mapping key written at `position` (up to its colon), for the duplicate-key message. */
function keyAt(buffer: string, position: number): string {
  const rest = buffer.slice(position, position + 256);
  const match = /^\s*("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^:\n]*?)\s*:/.exec(rest);
  if (!match) return rest.split('\n')[0];
  const key = match[1];
  if (key.startsWith('"')) {
    try {
      return JSON.parse(key) as string;
    } catch {
      return key;
    }
  }
  return key.startsWith("'") ? key.slice(1, -1).replace(/''/g, "'") : key;
}

// go-yaml's allowedAliasRatio: small documents may be 99% alias expansion; from 400,000 decoded
// nodes the allowance falls to 10% at 4,000,000.
const ALIAS_RATIO_RANGE_LOW = 400_000;
const ALIAS_RATIO_RANGE_HIGH = 4_000_000;

function allowedAliasRatio(decodeCount: number): number {
  if (decodeCount <= ALIAS_RATIO_RANGE_LOW) return 0.99;
  if (decodeCount >= ALIAS_RATIO_RANGE_HIGH) return 0.10;
  return 0.99 - 0.89 * ((decodeCount - ALIAS_RATIO_RANGE_LOW) / (ALIAS_RATIO_RANGE_HIGH - ALIAS_RATIO_RANGE_LOW));
}

/**
 * A copy of the loaded value in which every alias is its own copy (later code edits values in
 * place), failing as go-yaml does once expansion dominates. A value met a second time is an
 * alias: js-yaml shares nothing else.
 */
function expandAliases(root: unknown): unknown {
  const seen = new WeakSet<object>();
  let decodeCount = 0;
  let aliasCount = 0;
  let aliasDepth = 0;
  const visit = (value: unknown): unknown => {
    decodeCount++;
    if (aliasDepth > 0) aliasCount++;
    if (aliasCount > 100 && decodeCount > 1000 && aliasCount / decodeCount > allowedAliasRatio(decodeCount)) {
      throw new YamlBodyError('yaml: document contains excessive aliasing');
    }
    if (value === null || typeof value !== 'object') return value;
    const alias = seen.has(value);
    if (alias) aliasDepth++;
    else seen.add(value);
    try {
      if (Array.isArray(value)) return value.map(visit);
      const copy: Record<string, unknown> = {};
      for (const key of Object.keys(value)) {
        const member = visit((value as Record<string, unknown>)[key]);
        // js-yaml defines a `__proto__` key as an own member; so must the copy.
        if (key === '__proto__') Object.defineProperty(copy, key, { value: member, enumerable: true, writable: true, configurable: true });
        else copy[key] = member;
      }
      return copy;
    } finally {
      if (alias) aliasDepth--;
    }
  };
  try {
    return visit(root);
  } catch (err) {
    if (err instanceof RangeError) throw new YamlBodyError(`yaml: exceeded max depth of ${MAX_YAML_DEPTH}`);
    throw err;
  }
}
