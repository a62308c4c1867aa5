// Runs the endpoints, EndpointSlice and EndpointSlice mirroring controllers over one shared set of Service and Pod
// informers, as kube-controller-manager's shared informer factory feeds them.

import { loadKubeConfig } from '../clients/keep-alive-kubeconfig.ts';
import { JsonApiClient } from '../clients/json-api-client.ts';
import { componentUserAgent } from '../clients/user-agent.ts';
import { EndpointsController } from './endpoints.ts';
import { EndpointSliceController, MAX_ENDPOINTS_PER_SLICE } from './endpointslices.ts';
import { EndpointSliceMirroringController } from './endpointslice-mirroring.ts';
import type { ControllerLogger } from './node-lifecycle.ts';
import { ServiceEndpointSources } from './service-endpoint-sources.ts';

export interface ServiceEndpointControllersOptions {
  kubeconfigPath: string;
  /** --max-endpoints-per-slice (100). */
  maxEndpointsPerSlice?: number;
  /** --concurrent-service-endpoint-syncs / --concurrent-service-endpointslice-syncs (5). */
  workers?: number;
  /** Which run (kube-controller-manager's `endpoint`, `endpointslice`, `endpointslicemirroring`); all by default. */
  endpoints?: boolean;
  slices?: boolean;
  mirroring?: boolean;
  logger?: ControllerLogger;
}

export interface RunningServiceEndpointControllers {
  /** Resolves when both queues are empty (tests, benchmarks). */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

export async function runServiceEndpointControllers(options: ServiceEndpointControllersOptions): Promise<RunningServiceEndpointControllers> {
  const logger = options.logger ?? { info: console.error, warn: console.error };
  const client = new JsonApiClient(loadKubeConfig(options.kubeconfigPath), componentUserAgent('kube-controller-manager'));
  const sources = new ServiceEndpointSources(client, logger);
  const endpoints = options.endpoints === false ? undefined : new EndpointsController(client, sources, logger, options.workers);
  const slices = options.slices === false
    ? undefined
    : new EndpointSliceController(client, sources, logger, options.workers, options.maxEndpointsPerSlice ?? MAX_ENDPOINTS_PER_SLICE);
  const mirroring = options.mirroring === false ? undefined : new EndpointSliceMirroringController(client, sources, logger, options.workers);
  await Promise.all([sources.start(), mirroring?.start()]);
  return {
    async idle() {
      await Promise.all([endpoints?.idle(), slices?.idle(), mirroring?.idle()]);
    },
    async stop() {
      endpoints?.stop();
      slices?.stop();
      await mirroring?.stop();
      await sources.stop();
      client.close();
    },
  };
}
