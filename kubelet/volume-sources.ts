// The volumes the kubelet must set up before a pod's containers start (pkg/kubelet/volumemanager):
// configMap, secret and projected sources are read from the API; a missing non-optional one keeps the pod
// in ContainerCreating with the kubelet's `FailedMount` events (`MountVolume.SetUp failed for volume "cfg"
// : configmap "app" not found`) until it appears. emptyDir, downwardAPI and the other sources need nothing
// from the API here. imagePullSecrets that do not exist only warn, as the kubelet does.

import type { V1Pod } from '@kubernetes/client-node';
import { sleep } from './abortable-sleep.ts';
import type { ConfigKind, ConfigSource } from './container-config.ts';
import type { EventText } from './event-text.ts';

export interface VolumeReference {
  volume: string;
  kind: ConfigKind;
  name: string;
  optional: boolean;
  /** Keys the volume maps (items[].key): each must exist unless optional. */
  keys: string[];
}

export function podVolumeReferences(pod: V1Pod): VolumeReference[] {
  const refs: VolumeReference[] = [];
  for (const volume of pod.spec?.volumes ?? []) {
    if (volume.configMap?.name) refs.push({ volume: volume.name, kind: 'configmap', name: volume.configMap.name, optional: volume.configMap.optional === true, keys: (volume.configMap.items ?? []).map((i) => i.key) });
    if (volume.secret?.secretName) refs.push({ volume: volume.name, kind: 'secret', name: volume.secret.secretName, optional: volume.secret.optional === true, keys: (volume.secret.items ?? []).map((i) => i.key) });
    for (const source of volume.projected?.sources ?? []) {
      if (source.configMap?.name) refs.push({ volume: volume.name, kind: 'configmap', name: source.configMap.name, optional: source.configMap.optional === true, keys: (source.configMap.items ?? []).map((i) => i.key) });
      if (source.secret?.name) refs.push({ volume: volume.name, kind: 'secret', name: source.secret.name, optional: source.secret.optional === true, keys: (source.secret.items ?? []).map((i) => i.key) });
    }
  }
  return refs;
}

async function volumeProblems(source: ConfigSource, namespace: string, refs: VolumeReference[]): Promise<string[]> {
  const problems: string[] = [];
  for (const ref of refs) {
    const keys = await source.keys(ref.kind, namespace, ref.name);
    if (!keys) {
      if (!ref.optional) problems.push(`MountVolume.SetUp failed for volume "${ref.volume}" : ${ref.kind} "${ref.name}" not found`);
      continue;
    }
    const missing = ref.keys.find((key) => !keys.has(key));
    if (missing !== undefined && !ref.optional) {
      problems.push(`MountVolume.SetUp failed for volume "${ref.volume}" : configmap references non-existent config key: ${missing}`);
    }
  }
  return problems;
}

/** Waits until every volume can be set up, with a FailedMount event per problem and attempt. */
export async function waitForVolumes(source: ConfigSource, namespace: string, refs: VolumeReference[], emit: (text: EventText) => void, signal: AbortSignal): Promise<void> {
  let delayMs = 1_000;
  for (;;) {
    let problems: string[];
    try {
      problems = await volumeProblems(source, namespace, refs);
    } catch (error) {
      problems = [`MountVolume.SetUp failed: ${String(error)}`];
    }
    if (problems.length === 0) return;
    for (const message of problems) emit({ type: 'Warning', reason: 'FailedMount', message });
    await sleep(delayMs, signal);
    delayMs = Math.min(delayMs * 2, 10_000);
  }
}

/** kubelet's warning for pull secrets it cannot find (the pull is still attempted). */
export async function missingPullSecrets(source: ConfigSource, pod: V1Pod): Promise<string[]> {
  const missing: string[] = [];
  for (const ref of pod.spec?.imagePullSecrets ?? []) {
    if (ref.name && !(await source.keys('secret', pod.metadata?.namespace ?? 'default', ref.name))) missing.push(ref.name);
  }
  return missing;
}
