// Applying YAML from the page: every document is parsed first (a parse error names its line and
// column and nothing is sent), then each object is server-side applied under the field manager
// `kubefacade-ui` (created with POST when it has only a generateName). The resource each kind maps to
// comes from discovery, as kubectl's RESTMapper finds it.

import { parseAllDocuments } from 'yaml';
import { ApiError, getJson, request, type KubeObject } from './api.ts';

export interface ResourceInfo {
  /** `/api/v1` or `/apis/<group>/<version>`. */
  base: string;
  resource: string;
  namespaced: boolean;
  kind: string;
  verbs: string[];
}

interface ResourceList {
  resources: { name: string; kind: string; namespaced: boolean; verbs: string[] }[];
}

const discoveryCache = new Map<string, Promise<ResourceInfo[]>>();

export function basePath(apiVersion: string): string {
  return apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
}

export function resourcesOf(apiVersion: string): Promise<ResourceInfo[]> {
  let cached = discoveryCache.get(apiVersion);
  if (!cached) {
    const base = basePath(apiVersion);
    cached = getJson<ResourceList>(base).then((list) => list.resources
      .filter((r) => !r.name.includes('/'))
      .map((r) => ({ base, resource: r.name, namespaced: r.namespaced, kind: r.kind, verbs: r.verbs })));
    cached.catch(() => discoveryCache.delete(apiVersion));
    discoveryCache.set(apiVersion, cached);
  }
  return cached;
}

export async function resourceFor(apiVersion: string, kind: string): Promise<ResourceInfo> {
  let resources: ResourceInfo[];
  try {
    resources = await resourcesOf(apiVersion);
  } catch (err) {
    if (err instanceof ApiError && err.code === 404) throw new Error(`no matches for kind "${kind}" in version "${apiVersion}"`);
    throw err;
  }
  const found = resources.find((r) => r.kind === kind);
  if (!found) throw new Error(`no matches for kind "${kind}" in version "${apiVersion}"`);
  return found;
}

export function objectPath(info: ResourceInfo, namespace: string | undefined, name?: string): string {
  const scope = info.namespaced ? `/namespaces/${encodeURIComponent(namespace || 'default')}` : '';
  return `${info.base}${scope}/${info.resource}${name ? `/${encodeURIComponent(name)}` : ''}`;
}

export class YamlError extends Error {}

/** Parses every document, or throws a YamlError naming the first error's line and column. */
export function parseManifest(text: string): KubeObject[] {
  const objects: KubeObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    const error = doc.errors[0];
    if (error) {
      const position = error.linePos?.[0];
      throw new YamlError(position ? `YAML error at line ${position.line}, column ${position.col}: ${error.message.split('\n')[0]}` : `YAML error: ${error.message}`);
    }
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    if (typeof value !== 'object' || Array.isArray(value)) throw new YamlError('each YAML document must be an object with apiVersion, kind and metadata');
    objects.push(value as KubeObject);
  }
  if (objects.length === 0) throw new YamlError('the YAML holds no object');
  return objects;
}

export interface Applied {
  object: KubeObject;
  path: string;
}

/** Applies one object; the API server's Status message is thrown as is. */
export async function applyObject(object: KubeObject): Promise<Applied> {
  if (typeof object.apiVersion !== 'string' || typeof object.kind !== 'string') throw new Error('the object needs apiVersion and kind');
  const info = await resourceFor(object.apiVersion, object.kind);
  const metadata = object.metadata ?? {};
  const namespace = typeof metadata.namespace === 'string' ? metadata.namespace : 'default';
  if (!metadata.name) {
    const created = await request<KubeObject>('POST', `${objectPath(info, namespace)}?fieldManager=kubefacade-ui`, JSON.stringify(object));
    return { object: created, path: objectPath(info, namespace, created.metadata.name) };
  }
  const path = objectPath(info, namespace, metadata.name);
  const applied = await request<KubeObject>('PATCH', `${path}?fieldManager=kubefacade-ui`, JSON.stringify(object), 'application/apply-patch+yaml');
  return { object: applied, path };
}

export async function deleteObject(path: string): Promise<void> {
  await request<unknown>('DELETE', path);
}
