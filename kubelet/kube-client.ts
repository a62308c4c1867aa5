// The kubelet's connection to the API server: a kubeconfig file and the typed client-node APIs it needs.
import { CoordinationV1Api, CoreV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { loadKubeConfig, type AgentPool, type KeepAliveKubeConfig } from '../clients/keep-alive-kubeconfig.ts';

export interface KubeletClients {
  config: KeepAliveKubeConfig;
  core: CoreV1Api;
  coordination: CoordinationV1Api;
}

/** `pool`: share connections with other clients (per-node identities of one process). */
export function connect(kubeconfigPath: string, pool?: AgentPool): KubeletClients {
  const config = loadKubeConfig(kubeconfigPath, pool);
  return { config, core: config.makeApiClient(CoreV1Api), coordination: config.makeApiClient(CoordinationV1Api) };
}

/** client-node 1.x picks application/json-patch+json for every patch unless told otherwise. */
export const MERGE_PATCH = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** HTTP status of a client-node ApiException, if that is what was thrown. */
export function statusCodeOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'number' ? code : undefined;
}

/** MicroTime (`2024-05-01T10:00:00.123456Z`) as leases carry it. */
export function microTime(): string {
  const micros = Math.floor((performance.timeOrigin + performance.now()) * 1000);
  const iso = new Date(Math.floor(micros / 1000)).toISOString();
  return `${iso.slice(0, 19)}.${String(micros % 1_000_000).padStart(6, '0')}Z`;
}
