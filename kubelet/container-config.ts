// What a container's environment needs from the API before the kubelet can create it
// (kubelet_pods.go makeEnvironmentVariables): the ConfigMaps and Secrets named by env[].valueFrom and
// envFrom[]. A missing non-optional one fails the container with CreateContainerConfigError and the
// kubelet's message (`secret "db" not found`, as the kubelet's secret manager words its NotFound;
// `couldn't find key password in Secret default/db`); the kubelet tries again on later syncs.

import type { V1Container } from '@kubernetes/client-node';
import { sleep } from './abortable-sleep.ts';
import { podEvents, type EventText } from './event-text.ts';
import { waitingState, type ContainerRuntimeState } from './pod-runtime-state.ts';

/** Retries of a container whose ConfigMap or Secret is missing (the kubelet's pod sync back-off, shortened). */
const CONFIG_RETRY_INITIAL_MS = 1_000;
const CONFIG_RETRY_MAX_MS = 10_000;

export type ConfigKind = 'configmap' | 'secret';

export interface ConfigReference {
  kind: ConfigKind;
  name: string;
  /** The key a single variable takes; undefined for envFrom (all keys). */
  key?: string;
  optional: boolean;
}

/** Reads a ConfigMap's or Secret's keys; undefined when the object does not exist. */
export interface ConfigSource {
  keys(kind: ConfigKind, namespace: string, name: string): Promise<Set<string> | undefined>;
}

export function containerConfigReferences(container: V1Container): ConfigReference[] {
  const refs: ConfigReference[] = [];
  for (const source of container.envFrom ?? []) {
    if (source.configMapRef?.name) refs.push({ kind: 'configmap', name: source.configMapRef.name, optional: source.configMapRef.optional === true });
    if (source.secretRef?.name) refs.push({ kind: 'secret', name: source.secretRef.name, optional: source.secretRef.optional === true });
  }
  for (const env of container.env ?? []) {
    const configMap = env.valueFrom?.configMapKeyRef;
    if (configMap?.name) refs.push({ kind: 'configmap', name: configMap.name, key: configMap.key, optional: configMap.optional === true });
    const secret = env.valueFrom?.secretKeyRef;
    if (secret?.name) refs.push({ kind: 'secret', name: secret.name, key: secret.key, optional: secret.optional === true });
  }
  return refs;
}

/** The first problem that keeps the container from being created, or undefined. */
export async function containerConfigProblem(source: ConfigSource, namespace: string, refs: ConfigReference[]): Promise<string | undefined> {
  const cache = new Map<string, Set<string> | undefined>();
  for (const ref of refs) {
    const id = `${ref.kind}/${ref.name}`;
    if (!cache.has(id)) cache.set(id, await source.keys(ref.kind, namespace, ref.name));
    const keys = cache.get(id);
    if (!keys) {
      if (ref.optional) continue;
      return `${ref.kind} "${ref.name}" not found`;
    }
    if (ref.key !== undefined && !keys.has(ref.key) && !ref.optional) {
      return `couldn't find key ${ref.key} in ${ref.kind === 'secret' ? 'Secret' : 'ConfigMap'} ${namespace}/${ref.name}`;
    }
  }
  return undefined;
}

export interface ConfigWait {
  source: ConfigSource;
  namespace: string;
  refs: ConfigReference[];
  runtime: ContainerRuntimeState;
  signal: AbortSignal;
  emit(text: EventText): void;
  requestSync(): void;
}

/**
 * Waits until the container's configuration can be made: meanwhile the container is Waiting with
 * CreateContainerConfigError and the problem, and each attempt gives a Failed event.
 */
export async function waitForContainerConfig(wait: ConfigWait): Promise<void> {
  let delayMs = CONFIG_RETRY_INITIAL_MS;
  for (;;) {
    let problem: string | undefined;
    try {
      problem = await containerConfigProblem(wait.source, wait.namespace, wait.refs);
    } catch (error) {
      problem = `failed to read container configuration: ${String(error)}`;
    }
    if (problem === undefined) return;
    const state = wait.runtime.state;
    const changed = state.kind !== 'waiting' || state.message !== problem;
    wait.runtime.state = waitingState('CreateContainerConfigError', problem);
    wait.emit(podEvents.failed(problem));
    if (changed) wait.requestSync();
    await sleep(delayMs, wait.signal);
    delayMs = Math.min(delayMs * 2, CONFIG_RETRY_MAX_MS);
  }
}
