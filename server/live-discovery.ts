// Discovery that follows the CustomResourceDefinitions: the built-in resources never change, the
// custom ones are swapped in whenever the set of served custom resources changes, and the
// documents (legacy and aggregated) are rebuilt then, once, not per request.

import { compareKubeVersions } from '../api/customresources/types.ts';
import { DiscoveryDocuments, type DiscoveryOptions, type DiscoveryResource } from './discovery.ts';

export class LiveDiscovery {
  private documents: DiscoveryDocuments | undefined;
  /**
   * Custom resources not yet built into documents: rebuilt on the next request, off the CRD's path to
   * Established. The first documents too are built on the first discovery request, not at start (a
   * tenth of a second of CPU a start need not spend: most test clients never ask).
   */
  private pending: DiscoveryResource[] | undefined = [];

  constructor(private readonly builtin: DiscoveryResource[], private readonly options: DiscoveryOptions) {}

  current(): DiscoveryDocuments {
    if (this.pending) {
      const resources = this.pending;
      this.pending = undefined;
      this.build(resources);
    }
    return this.documents!;
  }

  /**
   * Custom resources after the built-in groups, groups by name, versions by Kubernetes version
   * priority (so the preferred version is the highest); a resource clashing with a built-in one
   * is left out (the built-in keeps its path, as in kube-apiserver).
   */
  setCustomResources(resources: DiscoveryResource[]): void {
    this.pending = resources;
  }

  private build(resources: DiscoveryResource[]): void {
    const builtinKeys = new Set(this.builtin.map((r) => `${r.group}/${r.version}/${r.resource}`));
    const custom = resources
      .filter((r) => !builtinKeys.has(`${r.group}/${r.version}/${r.resource}`))
      .sort((a, b) => a.group.localeCompare(b.group) || compareKubeVersions(a.version, b.version) || a.resource.localeCompare(b.resource));
    this.documents = new DiscoveryDocuments([...this.builtin, ...custom], this.options);
  }
}
