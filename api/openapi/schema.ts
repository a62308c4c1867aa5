// Resolved schema lookup: turns the component schemas of the generated v3 documents into SchemaNode
// trees (refs followed) for the code that walks objects against their schema (strategic merge
// patch, server-side apply, unknown-field detection). Trees are built on first use and memoised;
// every named component becomes exactly one node, so recursive types share nodes.

import type { GroupVersionKind, SchemaNode } from './schema-node.ts';
import { componentSchemas, referencedName, type RawSchema } from './generated-documents.ts';

const SCHEMA_TYPES = new Set<SchemaNode['type']>(['object', 'array', 'string', 'integer', 'number', 'boolean']);
const LIST_TYPES = new Set(['atomic', 'set', 'map']);
const MAP_TYPES = new Set(['atomic', 'granular']);

const nodesByName = new Map<string, SchemaNode>();
let kindIndex: Map<string, string> | undefined;

/**
 * A property wrapper such as `{allOf: [{$ref: NodeSelector}], x-kubernetes-map-type: atomic}`
 * carries semantics of its own; its node is the referenced node plus those extensions. Such nodes
 * are filled in once the outermost build finishes, because the referenced node may still be under
 * construction when the wrapper is met (recursive types).
 */
const pendingOverlays: { node: SchemaNode; target: SchemaNode; overlay: SchemaNode }[] = [];
let buildDepth = 0;

function gvkKey(gvk: GroupVersionKind): string {
  return `${gvk.group}/${gvk.version}/${gvk.kind}`;
}

function groupVersionKinds(raw: RawSchema): GroupVersionKind[] | undefined {
  const value = raw['x-kubernetes-group-version-kind'];
  return Array.isArray(value) ? (value as GroupVersionKind[]) : undefined;
}

/** The extensions and validation keywords a schema carries itself, without following anything. */
function ownKeywords(raw: RawSchema): SchemaNode {
  const node: SchemaNode = {};
  if (raw.type !== undefined && SCHEMA_TYPES.has(raw.type as SchemaNode['type'])) node.type = raw.type as SchemaNode['type'];
  if (raw.format !== undefined) node.format = raw.format;
  if (raw.description !== undefined) node.description = raw.description;
  if (raw.required !== undefined) node.required = [...raw.required];
  if (raw.enum !== undefined) node.enum = [...raw.enum];
  if (raw.default !== undefined) node.default = structuredClone(raw.default);
  const mergeKey = raw['x-kubernetes-patch-merge-key'];
  if (typeof mergeKey === 'string') node['x-kubernetes-patch-merge-key'] = mergeKey;
  const strategy = raw['x-kubernetes-patch-strategy'];
  if (typeof strategy === 'string') node['x-kubernetes-patch-strategy'] = strategy;
  const listType = raw['x-kubernetes-list-type'];
  if (typeof listType === 'string' && LIST_TYPES.has(listType)) node['x-kubernetes-list-type'] = listType as 'atomic' | 'set' | 'map';
  const listMapKeys = raw['x-kubernetes-list-map-keys'];
  if (Array.isArray(listMapKeys)) node['x-kubernetes-list-map-keys'] = listMapKeys.map(String);
  const mapType = raw['x-kubernetes-map-type'];
  if (typeof mapType === 'string' && MAP_TYPES.has(mapType)) node['x-kubernetes-map-type'] = mapType as 'atomic' | 'granular';
  if (raw['x-kubernetes-int-or-string'] === true) node['x-kubernetes-int-or-string'] = true;
  if (raw['x-kubernetes-preserve-unknown-fields'] === true) node['x-kubernetes-preserve-unknown-fields'] = true;
  const gvks = groupVersionKinds(raw);
  if (gvks) node['x-kubernetes-group-version-kind'] = gvks.map((g) => ({ group: g.group, version: g.version, kind: g.kind }));
  return node;
}

function hasSemanticKeywords(overlay: SchemaNode): boolean {
  // A default next to a $ref is `{}` for structs: not worth a node of its own (only scalar
  // defaults, which never sit on refs, matter to server-side apply's list-map keys).
  return Object.keys(overlay).some((key) => key !== 'description' && key !== 'default');
}

function resolve(raw: RawSchema): SchemaNode {
  const name = referencedName(raw);
  if (name === undefined) {
    const node = ownKeywords(raw);
    fillChildren(node, raw);
    return node;
  }
  const target = buildNamed(name);
  if (!target) throw new Error(`OpenAPI schema ${name} is referenced but not defined`);
  const overlay = ownKeywords(raw);
  if (!hasSemanticKeywords(overlay)) return target;
  const node: SchemaNode = {};
  pendingOverlays.push({ node, target, overlay });
  return node;
}

function fillChildren(node: SchemaNode, raw: RawSchema): void {
  if (raw.properties) {
    node.properties = {};
    for (const [property, child] of Object.entries(raw.properties)) node.properties[property] = resolve(child);
  }
  if (raw.items) node.items = resolve(raw.items);
  if (typeof raw.additionalProperties === 'boolean') node.additionalProperties = raw.additionalProperties;
  else if (raw.additionalProperties) node.additionalProperties = resolve(raw.additionalProperties);
  if (raw.oneOf) node.oneOf = raw.oneOf.map(resolve);
}

function buildNamed(name: string): SchemaNode | undefined {
  const existing = nodesByName.get(name);
  if (existing) return existing;
  const raw = componentSchemas().get(name);
  if (!raw) return undefined;
  const node = ownKeywords(raw);
  // Registered before its children are built, so a recursive reference finds this same object.
  nodesByName.set(name, node);
  buildDepth++;
  try {
    fillChildren(node, raw);
  } finally {
    buildDepth--;
  }
  if (buildDepth === 0) {
    for (const { node: overlaid, target, overlay } of pendingOverlays.splice(0)) {
      Object.assign(overlaid, target, overlay);
    }
  }
  return node;
}

/** The resolved schema of a component, e.g. `io.k8s.api.core.v1.PodSpec`. */
export function schemaByName(name: string): SchemaNode | undefined {
  return buildNamed(name);
}

/** The component name whose `x-kubernetes-group-version-kind` lists the GVK. */
export function schemaNameForKind(gvk: GroupVersionKind): string | undefined {
  if (!kindIndex) {
    kindIndex = new Map();
    for (const [name, raw] of componentSchemas()) {
      for (const gvkOfSchema of groupVersionKinds(raw) ?? []) {
        const key = gvkKey(gvkOfSchema);
        if (!kindIndex.has(key)) kindIndex.set(key, name);
      }
    }
  }
  return kindIndex.get(gvkKey(gvk));
}

/** The resolved schema of a kind, e.g. `{group: '', version: 'v1', kind: 'Pod'}`. */
export function schemaForKind(gvk: GroupVersionKind): SchemaNode | undefined {
  const name = schemaNameForKind(gvk);
  return name === undefined ? undefined : buildNamed(name);
}
