// How patching and field tracking read a resolved OpenAPI schema: which node describes a child,
// how a list is merged (by key, as a set, or replaced whole) and whether a map is atomic. Both
// strategic merge patch and server-side apply go through here so they agree on list semantics.

import type { SchemaNode } from '../openapi/schema-node.ts';

/** Schema of a map or struct member; undefined when the schema says nothing (free-form data). */
export function fieldSchema(node: SchemaNode | undefined, key: string): SchemaNode | undefined {
  if (!node) return undefined;
  // Own members only: a field named `constructor` must not find Object through the prototype.
  const property = node.properties && Object.hasOwn(node.properties, key) ? node.properties[key] : undefined;
  if (property) return property;
  if (typeof node.additionalProperties === 'object') return node.additionalProperties;
  return undefined;
}

export function itemSchema(node: SchemaNode | undefined): SchemaNode | undefined {
  return node?.items;
}

/** Strategic merge patch metadata of a field: `merge` lists merge by key, everything else is replaced. */
export interface PatchMeta {
  strategies: string[];
  mergeKey: string | undefined;
}

export function patchMeta(node: SchemaNode | undefined): PatchMeta {
  const strategy = node?.['x-kubernetes-patch-strategy'];
  return {
    strategies: strategy ? strategy.split(',').map((s) => s.trim()).filter(Boolean) : [],
    mergeKey: node?.['x-kubernetes-patch-merge-key'],
  };
}

/**
 * How server-side apply treats a list, as kube-openapi's schemaconv derives it: the explicit
 * `x-kubernetes-list-type` wins; otherwise a `merge` patch strategy makes an associative list
 * (keyed by the merge key, or a set of scalars) and anything else is atomic.
 */
export type ListSemantics =
  | { kind: 'map'; keys: string[] }
  | { kind: 'set' }
  | { kind: 'atomic' };

/** Per schema node: list semantics are read on every list a write walks, and schemas never change. */
const semanticsCache = new WeakMap<SchemaNode, ListSemantics>();
const ATOMIC: ListSemantics = { kind: 'atomic' };

export function listSemantics(node: SchemaNode | undefined): ListSemantics {
  if (!node) return ATOMIC;
  let semantics = semanticsCache.get(node);
  if (!semantics) {
    semantics = deriveListSemantics(node);
    semanticsCache.set(node, semantics);
  }
  return semantics;
}

function deriveListSemantics(node: SchemaNode): ListSemantics {
  const declared = node['x-kubernetes-list-type'];
  const meta = patchMeta(node);
  if (declared === 'map') {
    const keys = node['x-kubernetes-list-map-keys'] ?? (meta.mergeKey ? [meta.mergeKey] : []);
    return keys.length > 0 ? { kind: 'map', keys } : ATOMIC;
  }
  if (declared === 'set') return { kind: 'set' };
  if (declared === 'atomic') return ATOMIC;
  if (meta.strategies.includes('merge')) {
    if (meta.mergeKey) return { kind: 'map', keys: [meta.mergeKey] };
    const items = node.items;
    if (!items || (items.type !== 'object' && !items.properties)) return { kind: 'set' };
  }
  return ATOMIC;
}

/**
 * How to spell the `k:{...}` element of an item of a list-map: the key fields in the sorted
 * order fieldpath.KeyByFields gives them, each with the `"name":` prefix JSON.stringify would
 * write and the schema default that stands in for a key the item leaves out.
 */
export interface MapKeyPlan {
  names: string[];
  prefixes: string[];
  defaults: unknown[];
  /**
   * A key named like an array index would be moved first by JS object key order, which
   * keyElement's JSON.stringify keeps; such lists take keyElement's path instead of the plan.
   */
  indexLikeName: boolean;
}

const keyPlanCache = new WeakMap<SchemaNode, MapKeyPlan>();

/** The key plan of a list node whose semantics are `map`. */
export function mapKeyPlan(node: SchemaNode | undefined, keys: string[]): MapKeyPlan {
  const cached = node && keyPlanCache.get(node);
  if (cached) return cached;
  const itemNode = itemSchema(node);
  const names = [...new Set(keys)].sort();
  const plan: MapKeyPlan = {
    names,
    prefixes: names.map((name) => `${JSON.stringify(name)}:`),
    defaults: names.map((name) => (fieldSchema(itemNode, name) as { default?: unknown } | undefined)?.default),
    indexLikeName: names.some((name) => /^(0|[1-9]\d*)$/.test(name)),
  };
  if (node) keyPlanCache.set(node, plan);
  return plan;
}

/** Maps marked atomic (e.g. a selector's matchLabels in some kinds) are owned and replaced whole. */
export function isAtomicMap(node: SchemaNode | undefined): boolean {
  return node?.['x-kubernetes-map-type'] === 'atomic';
}
