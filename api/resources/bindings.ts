// core/v1 bindings: served (create only) but never stored; the pods/binding subresource does the
// work. Only its discovery entry lives here, hence not a ResourceStrategy.

import type { ResourceStrategy } from '../resource.ts';

export type DiscoveryEntry = Pick<ResourceStrategy,
  'group' | 'version' | 'kind' | 'resource' | 'singular' | 'namespaced' | 'verbs' | 'shortNames' | 'categories'>;

export const bindingDiscovery: DiscoveryEntry = {
  group: '',
  version: 'v1',
  kind: 'Binding',
  resource: 'bindings',
  singular: 'binding',
  namespaced: true,
  verbs: ['create'],
  shortNames: [],
  categories: [],
};
