// Discovery documents, built once from the served resources and kept serialised (they only change when
// the set of resources changes). Two forms, as kube-apiserver serves them:
//   legacy:     /api (APIVersions), /apis (APIGroupList), /apis/<g> (APIGroup), /api/v1 and /apis/<g>/<v> (APIResourceList)
//   aggregated: /api and /apis as apidiscovery.k8s.io APIGroupDiscoveryList (v2 or v2beta1), chosen by Accept.

import { createHash } from 'node:crypto';
import type { ResourceStrategy } from '../api/resource.ts';
import { parseAccept } from './negotiation.ts';

export interface DiscoverySubresource {
  /** e.g. `status`, `binding`, `log`. */
  name: string;
  /** Kind returned / accepted (e.g. Pod for status, Binding for binding). */
  kind: string;
  /** Group/version of that kind when it differs from the parent's. */
  group?: string;
  version?: string;
  verbs: string[];
}

/** One served resource as discovery describes it: stored kinds (from a strategy) and virtual ones alike. */
export interface DiscoveryResource {
  group: string;
  version: string;
  /** Plural, lower case. */
  resource: string;
  singular: string;
  kind: string;
  namespaced: boolean;
  verbs: string[];
  shortNames: string[];
  categories: string[];
  subresources: DiscoverySubresource[];
}

const STATUS_VERBS = ['get', 'patch', 'update'];

export function discoveryResourceFromStrategy(strategy: ResourceStrategy): DiscoveryResource {
  const subresources: DiscoverySubresource[] = strategy.subresources.map((sub) => ({
    name: sub.name, kind: sub.kind, group: sub.group, version: sub.version, verbs: [...sub.verbs],
  }));
  if (strategy.hasStatus) subresources.push({ name: 'status', kind: strategy.kind, verbs: STATUS_VERBS });
  return {
    group: strategy.group,
    version: strategy.version,
    resource: strategy.resource,
    singular: strategy.singular,
    kind: strategy.kind,
    namespaced: strategy.namespaced,
    verbs: [...strategy.verbs],
    shortNames: [...strategy.shortNames],
    categories: [...strategy.categories],
    subresources,
  };
}

/** core/v1 `bindings`: create-only, not stored (the binding is applied to the pod). */
export const CORE_BINDINGS_RESOURCE: DiscoveryResource = {
  group: '', version: 'v1', resource: 'bindings', singular: 'binding', kind: 'Binding',
  namespaced: true, verbs: ['create'], shortNames: [], categories: [], subresources: [],
};

export type AggregatedDiscoveryVersion = 'v2' | 'v2beta1';

export type DiscoveryForm =
  | { form: 'aggregated'; version: AggregatedDiscoveryVersion; contentType: string }
  | { form: 'legacy'; contentType: string };

const DISCOVERY_GROUP = 'apidiscovery.k8s.io';
const DISCOVERY_LIST_KIND = 'APIGroupDiscoveryList';

export function aggregatedContentType(version: AggregatedDiscoveryVersion): string {
  return `application/json;g=${DISCOVERY_GROUP};v=${version};as=${DISCOVERY_LIST_KIND}`;
}

/**
 * Which form of `/api` or `/apis` to send: the first Accept entry we can satisfy decides. An aggregated
 * request names g=apidiscovery.k8s.io, as=APIGroupDiscoveryList and v=v2|v2beta1; a plain JSON (or any)
 * entry gets the legacy document. Unknown entries are skipped; with none usable we send legacy JSON,
 * as kube-apiserver's discovery handler does.
 */
export function chooseDiscoveryForm(accept: string | undefined): DiscoveryForm {
  for (const range of parseAccept(accept)) {
    const jsonLike = (range.type === 'application' && (range.subtype === 'json' || range.subtype === '*'))
      || (range.type === '*' && range.subtype === '*');
    if (!jsonLike) continue;
    const { g, v, as } = range.params;
    if (g === undefined && v === undefined && as === undefined) return { form: 'legacy', contentType: 'application/json' };
    if (g === DISCOVERY_GROUP && as === DISCOVERY_LIST_KIND && (v === 'v2' || v === 'v2beta1')) {
      return { form: 'aggregated', version: v, contentType: aggregatedContentType(v) };
    }
  }
  return { form: 'legacy', contentType: 'application/json' };
}

/** A document ready to send. */
export interface SerialisedDocument {
  contentType: string;
  body: string;
  /** Strong ETag (quoted) of the body, for If-None-Match. */
  etag: string;
}

export interface DiscoveryOptions {
  /** host:port clients should use, for APIVersions.serverAddressByClientCIDRs. */
  serverAddress: string;
}

interface GroupVersions {
  group: string;
  /** In order of preference (first seen first). */
  versions: string[];
}

function document(contentType: string, value: unknown): SerialisedDocument {
  const body = JSON.stringify(value);
  const etag = `"${createHash('sha256').update(body).digest('hex').slice(0, 32)}"`;
  return { contentType, body, etag };
}

function sortedUnique(values: string[]): string[] {
  return [...new Set(values)].sort();
}

function groupVersionString(group: string, version: string): string {
  return group ? `${group}/${version}` : version;
}

function legacyResourceEntries(resource: DiscoveryResource): Record<string, unknown>[] {
  const main: Record<string, unknown> = {
    name: resource.resource,
    singularName: resource.singular,
    namespaced: resource.namespaced,
    kind: resource.kind,
    verbs: sortedUnique(resource.verbs),
  };
  if (resource.shortNames.length) main.shortNames = [...resource.shortNames];
  if (resource.categories.length) main.categories = [...resource.categories];
  const subs = resource.subresources.map((sub) => {
    const entry: Record<string, unknown> = {
      name: `${resource.resource}/${sub.name}`,
      singularName: '',
      namespaced: resource.namespaced,
    };
    // A subresource of another group names its group and version both (pods/eviction is policy/v1,
    // */scale autoscaling/v1, serviceaccounts/token authentication.k8s.io/v1): kubectl drain looks for
    // both before it uses the eviction API.
    if (sub.group !== undefined && sub.group !== resource.group) entry.group = sub.group;
    if (entry.group !== undefined || (sub.version !== undefined && sub.version !== resource.version)) {
      entry.group ??= resource.group;
      entry.version = sub.version ?? resource.version;
    }
    entry.kind = sub.kind;
    entry.verbs = sortedUnique(sub.verbs);
    return entry;
  });
  return [main, ...subs];
}

function aggregatedResourceEntry(resource: DiscoveryResource): Record<string, unknown> {
  const entry: Record<string, unknown> = {
    resource: resource.resource,
    responseKind: { group: resource.group, version: resource.version, kind: resource.kind },
    scope: resource.namespaced ? 'Namespaced' : 'Cluster',
    singularResource: resource.singular,
    verbs: sortedUnique(resource.verbs),
  };
  if (resource.shortNames.length) entry.shortNames = [...resource.shortNames];
  if (resource.categories.length) entry.categories = [...resource.categories];
  if (resource.subresources.length) {
    entry.subresources = [...resource.subresources]
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((sub) => ({
        subresource: sub.name,
        responseKind: { group: sub.group ?? resource.group, version: sub.version ?? resource.version, kind: sub.kind },
        verbs: sortedUnique(sub.verbs),
      }));
  }
  return entry;
}

/** All discovery documents for one set of resources. */
export class DiscoveryDocuments {
  private readonly apiVersionsDoc: SerialisedDocument;
  private readonly apiGroupListDoc: SerialisedDocument;
  private readonly apiGroupDocs = new Map<string, SerialisedDocument>();
  private readonly resourceListDocs = new Map<string, SerialisedDocument>();
  private readonly aggregatedDocs = new Map<string, SerialisedDocument>();

  constructor(resources: DiscoveryResource[], options: DiscoveryOptions) {
    const byGroupVersion = new Map<string, DiscoveryResource[]>();
    const groups: GroupVersions[] = [];
    for (const resource of resources) {
      const gv = groupVersionString(resource.group, resource.version);
      if (!byGroupVersion.has(gv)) byGroupVersion.set(gv, []);
      const list = byGroupVersion.get(gv)!;
      if (list.some((r) => r.resource === resource.resource)) {
        throw new Error(`discovery: resource ${resource.resource} listed twice in ${gv}`);
      }
      list.push(resource);
      let group = groups.find((g) => g.group === resource.group);
      if (!group) { group = { group: resource.group, versions: [] }; groups.push(group); }
      if (!group.versions.includes(resource.version)) group.versions.push(resource.version);
    }
    const byName = (a: DiscoveryResource, b: DiscoveryResource) => a.resource.localeCompare(b.resource);

    const core = groups.find((g) => g.group === '');
    this.apiVersionsDoc = document('application/json', {
      kind: 'APIVersions',
      versions: core ? core.versions : [],
      serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: options.serverAddress }],
    });

    const namedGroups = groups.filter((g) => g.group !== '');
    const apiGroup = (g: GroupVersions) => ({
      name: g.group,
      versions: g.versions.map((v) => ({ groupVersion: groupVersionString(g.group, v), version: v })),
      preferredVersion: { groupVersion: groupVersionString(g.group, g.versions[0]), version: g.versions[0] },
    });
    this.apiGroupListDoc = document('application/json', {
      kind: 'APIGroupList', apiVersion: 'v1', groups: namedGroups.map(apiGroup),
    });
    for (const g of namedGroups) {
      this.apiGroupDocs.set(g.group, document('application/json', { kind: 'APIGroup', apiVersion: 'v1', ...apiGroup(g) }));
    }

    for (const [gv, list] of byGroupVersion) {
      this.resourceListDocs.set(gv, document('application/json', {
        kind: 'APIResourceList',
        apiVersion: 'v1',
        groupVersion: gv,
        resources: [...list].sort(byName).flatMap(legacyResourceEntries),
      }));
    }

    const aggregatedItem = (g: GroupVersions) => ({
      metadata: g.group ? { name: g.group, creationTimestamp: null } : { creationTimestamp: null },
      versions: g.versions.map((version) => ({
        version,
        resources: [...byGroupVersion.get(groupVersionString(g.group, version))!].sort(byName).map(aggregatedResourceEntry),
        freshness: 'Current',
      })),
    });
    for (const version of ['v2', 'v2beta1'] as const) {
      const list = (items: GroupVersions[]) => document(aggregatedContentType(version), {
        kind: DISCOVERY_LIST_KIND,
        apiVersion: `${DISCOVERY_GROUP}/${version}`,
        metadata: {},
        items: items.map(aggregatedItem),
      });
      this.aggregatedDocs.set(`/api ${version}`, list(core ? [core] : []));
      this.aggregatedDocs.set(`/apis ${version}`, list(namedGroups));
    }
  }

  /** The documents themselves (LiveDiscovery returns whichever set is current). */
  current(): DiscoveryDocuments {
    return this;
  }

  /** `/api` or `/apis`, in the form the Accept header asks for. */
  root(path: '/api' | '/apis', accept: string | undefined): SerialisedDocument {
    const form = chooseDiscoveryForm(accept);
    if (form.form === 'aggregated') return this.aggregatedDocs.get(`${path} ${form.version}`)!;
    return path === '/api' ? this.apiVersionsDoc : this.apiGroupListDoc;
  }

  /** `/apis/<group>` (APIGroup), or undefined when the group is not served. */
  group(group: string): SerialisedDocument | undefined {
    return this.apiGroupDocs.get(group);
  }

  /** `/api/v1` (groupVersion `v1`) or `/apis/<g>/<v>` (groupVersion `<g>/<v>`): APIResourceList, or undefined. */
  resourceList(groupVersion: string): SerialisedDocument | undefined {
    return this.resourceListDocs.get(groupVersion);
  }
}
