// The clusterrole aggregation controller, run inside the API server (kube-controller-manager runs it
// upstream; here `kubefacade server` alone must already serve admin/edit/view with their rules). Any
// ClusterRole change schedules one pass over the aggregated roles; a role whose rules differ from the
// union of its selected roles is rewritten, which in turn triggers the roles aggregating it.

import { isDeepStrictEqual } from 'node:util';
import { StatusError } from '../../api/errors.ts';
import { deepCopy } from '../../api/object.ts';
import type { RequestContext } from '../../api/resource.ts';
import type { GenericStore } from '../../api/registry/store.ts';
import type { UserInfo } from '../user.ts';
import { aggregatedRules } from './aggregation.ts';
import type { PolicyCache } from './policy-cache.ts';
import { rulesOf } from './policy-rule.ts';

const FIELD_MANAGER = 'clusterrole-aggregation-controller';

export class ClusterRoleAggregationController {
  private scheduled = false;
  private running: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly cache: PolicyCache,
    private readonly clusterRoles: GenericStore,
    private readonly user: UserInfo,
    private readonly onError: (error: unknown) => void = () => undefined,
  ) {}

  start(): void {
    this.cache.onClusterRoleChange(() => this.schedule());
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
  }

  /** Runs passes until every aggregated role is up to date (used before the server starts serving). */
  async settle(): Promise<void> {
    for (let round = 0; round < 10; round++) {
      await this.running;
      if (!(await this.syncAll())) return;
    }
  }

  private schedule(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.running = this.running.then(() => this.syncAll()).then(() => undefined, (error: unknown) => this.onError(error));
    });
  }

  /** One pass; true when something was written. */
  private async syncAll(): Promise<boolean> {
    if (this.stopped) return false;
    let wrote = false;
    for (const role of this.cache.listClusterRoles()) {
      const wanted = aggregatedRules(role, this.cache.listClusterRoles());
      if (wanted === undefined || isDeepStrictEqual(wanted, rulesOf(role))) continue;
      const ctx: RequestContext = { user: this.user, namespace: '', now: new Date() };
      try {
        await this.clusterRoles.guaranteedUpdate(ctx, role.metadata.name ?? '', '', { dryRun: false, fieldValidation: 'Ignore', fieldManager: FIELD_MANAGER, internal: true }, (current) => {
          const next = deepCopy(current);
          next.rules = aggregatedRules(current, this.cache.listClusterRoles()) ?? rulesOf(current);
          return next;
        });
        wrote = true;
      } catch (err) {
        // Deleted meanwhile: nothing to aggregate into.
        if (!(err instanceof StatusError && err.reason === 'NotFound')) throw err;
      }
    }
    return wrote;
  }
}
