// The edges the Node authorizer's graph draws from a pod to what it uses (plugin/pkg/auth/authorizer/node
// graph.go AddPod): secrets (env, envFrom, volumes, projected sources, imagePullSecrets), configmaps (the
// same places) and its service account. A node may read these while a pod bound to it references them.

import { isPlainObject, type KubeObject } from '../../api/object.ts';

export type ReferencedKind = 'secret' | 'configmap' | 'serviceaccount';

type Json = Record<string, unknown>;
const objects = (value: unknown): Json[] => (Array.isArray(value) ? value.filter(isPlainObject) : []);
const name = (value: unknown): string => (isPlainObject(value) && typeof value.name === 'string' ? value.name : '');
const secretName = (value: unknown): string => (isPlainObject(value) && typeof value.secretName === 'string' ? value.secretName : '');

/** `kind/name` of everything the pod references in its own namespace. */
export function podReferences(pod: KubeObject): string[] {
  const spec = isPlainObject(pod.spec) ? pod.spec : {};
  const refs = new Set<string>();
  const add = (kind: ReferencedKind, value: string) => { if (value) refs.add(`${kind}/${value}`); };
  for (const container of [...objects(spec.initContainers), ...objects(spec.containers), ...objects(spec.ephemeralContainers)]) {
    for (const env of objects(container.env)) {
      const from = isPlainObject(env.valueFrom) ? env.valueFrom : {};
      add('secret', name(from.secretKeyRef));
      add('configmap', name(from.configMapKeyRef));
    }
    for (const source of objects(container.envFrom)) {
      add('secret', name(source.secretRef));
      add('configmap', name(source.configMapRef));
    }
  }
  for (const volume of objects(spec.volumes)) {
    add('secret', secretName(volume.secret));
    add('configmap', name(volume.configMap));
    const projected = isPlainObject(volume.projected) ? volume.projected : {};
    for (const source of objects(projected.sources)) {
      add('secret', name(source.secret));
      add('configmap', name(source.configMap));
    }
    for (const key of ['azureFile', 'cephfs', 'cinder', 'flexVolume', 'iscsi', 'rbd', 'scaleIO', 'storageos', 'csi']) {
      const plugin = isPlainObject(volume[key]) ? volume[key] as Json : undefined;
      if (plugin) add('secret', secretName(plugin) || name(plugin.secretRef) || name(plugin.nodePublishSecretRef));
    }
  }
  for (const pullSecret of objects(spec.imagePullSecrets)) add('secret', name(pullSecret));
  add('serviceaccount', typeof spec.serviceAccountName === 'string' ? spec.serviceAccountName : '');
  return [...refs];
}
