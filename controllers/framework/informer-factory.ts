// One cached informer per collection path, shared by every controller that asks for it (client-go's
// SharedInformerFactory). The first registration's transform wins, so the pod informer is registered
// with the trimmed PodView before anything asks for pods' metadata only.

import type { KubernetesObject } from '@kubernetes/client-node';
import type { JsonApiClient } from '../../clients/json-api-client.ts';
import type { InformerLogger } from '../../clients/lean-informer.ts';
import { CachedInformer, type CachedObject } from './cached-informer.ts';

export class InformerFactory {
  private readonly informers = new Map<string, CachedInformer<CachedObject>>();

  constructor(private readonly client: JsonApiClient, private readonly logger: InformerLogger) {}

  informer<T extends CachedObject>(path: string, transform: (raw: KubernetesObject) => T): CachedInformer<T> {
    let informer = this.informers.get(path);
    if (!informer) {
      informer = new CachedInformer<T>(path, transform) as unknown as CachedInformer<CachedObject>;
      this.informers.set(path, informer);
    }
    return informer as unknown as CachedInformer<T>;
  }

  /**
   * Starts every informer not yet running (call again after adding informers later); resolves when
   * all have listed once (WaitForCacheSync). Handlers must be added before.
   */
  async start(): Promise<void> {
    await Promise.all([...this.informers.values()].map((informer) => informer.start(this.client, this.logger)));
  }

  async stop(): Promise<void> {
    await Promise.all([...this.informers.values()].map((informer) => informer.stop()));
  }
}
