// The resources the garbage collector watches, found through discovery as kube-controller-manager
// finds them (GetDeletableResources): every served resource that supports list, watch and delete,
// except events. Re-run periodically so kinds served later (custom resources) are collected too.

import type { JsonApiClient } from '../../clients/json-api-client.ts';
import type { KindInfo } from '../framework/api-paths.ts';

export interface DeletableResource extends KindInfo {
  namespaced: boolean;
}

interface ResourceList {
  groupVersion: string;
  resources: { name: string; kind: string; namespaced: boolean; verbs: string[] }[];
}

interface GroupList {
  groups: { name: string; preferredVersion?: { groupVersion: string }; versions: { groupVersion: string }[] }[];
}

const IGNORED = new Set(['events', 'events.events.k8s.io']);

export async function discoverDeletableResources(client: JsonApiClient): Promise<DeletableResource[]> {
  const groupVersions = ['v1'];
  const groups = await client.request<GroupList>('GET', '/apis');
  for (const group of groups.groups ?? []) {
    const preferred = group.preferredVersion?.groupVersion ?? group.versions[0]?.groupVersion;
    if (preferred) groupVersions.push(preferred);
  }
  const found: DeletableResource[] = [];
  await Promise.all(groupVersions.map(async (groupVersion) => {
    const path = groupVersion === 'v1' ? '/api/v1' : `/apis/${groupVersion}`;
    let list: ResourceList;
    try {
      list = await client.request<ResourceList>('GET', path);
    } catch {
      return; // a group version that went away between the two requests
    }
    const [group, version] = groupVersion.includes('/') ? groupVersion.split('/') : ['', groupVersion];
    for (const resource of list.resources ?? []) {
      if (resource.name.includes('/')) continue;
      if (IGNORED.has(group ? `${resource.name}.${group}` : resource.name)) continue;
      if (!['list', 'watch', 'delete'].every((verb) => resource.verbs.includes(verb))) continue;
      found.push({ group, version, resource: resource.name, kind: resource.kind, namespaced: resource.namespaced });
    }
  }));
  return found;
}
