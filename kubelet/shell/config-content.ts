// What a simulated container sees of the API objects its pod references, read when the container instance is made
// (the first exec or attach into a container run): the values of env[].valueFrom.configMapKeyRef/secretKeyRef and
// envFrom[] (kubelet_pods.go makeEnvironmentVariables: envFrom keys that are not valid variable names are skipped),
// and the files of configMap, secret and projected volumes (configMap, secret, serviceAccountToken sources;
// items map keys to paths, as the kubelet's volume plugins do). Reads go through the node's own credentials, so
// the Node authorizer decides as it does for a real kubelet.
import type { V1EnvFromSource, V1EnvVarSource, V1KeyToPath, V1Pod, V1Volume } from '@kubernetes/client-node';

export type ConfigObjectKind = 'configmap' | 'secret';

/** Reads what a node may read for its pods. */
export interface PodContentReader {
  /** A ConfigMap's data and binaryData or a Secret's decoded data; undefined when the object does not exist. */
  data(kind: ConfigObjectKind, namespace: string, name: string): Promise<Record<string, Buffer> | undefined>;
  /** A token for the pod's service account bound to the pod (TokenRequest); undefined when it cannot be had. */
  serviceAccountToken(pod: V1Pod, audience: string | undefined, expirationSeconds: number | undefined): Promise<string | undefined>;
}

/** An environment variable name as the kubelet accepts one from envFrom (validation.IsEnvVarName). */
const ENV_VAR_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

export async function valueFromSource(reader: PodContentReader, namespace: string, source: V1EnvVarSource): Promise<string | undefined> {
  const ref = source.configMapKeyRef ?? source.secretKeyRef;
  if (!ref?.name) return undefined;
  const data = await reader.data(source.configMapKeyRef ? 'configmap' : 'secret', namespace, ref.name);
  return data?.[ref.key]?.toString('utf8');
}

export async function envFromSource(reader: PodContentReader, namespace: string, source: V1EnvFromSource): Promise<Record<string, string> | undefined> {
  const ref = source.configMapRef ?? source.secretRef;
  if (!ref?.name) return undefined;
  const data = await reader.data(source.configMapRef ? 'configmap' : 'secret', namespace, ref.name);
  if (!data) return undefined;
  const out: Record<string, string> = {};
  for (const key of Object.keys(data).sort()) {
    if (ENV_VAR_NAME.test(`${source.prefix ?? ''}${key}`)) out[key] = data[key].toString('utf8');
  }
  return out;
}

function mapItems(data: Record<string, Buffer>, items: V1KeyToPath[] | undefined): Record<string, Buffer> {
  if (!items || items.length === 0) return { ...data };
  const out: Record<string, Buffer> = {};
  for (const item of items) if (data[item.key] !== undefined) out[item.path] = data[item.key];
  return out;
}

/** The files a configMap, secret or projected volume shows (downwardAPI items are the container's own business). */
export async function volumeContent(reader: PodContentReader, pod: V1Pod, volume: V1Volume): Promise<Record<string, Buffer>> {
  const namespace = pod.metadata?.namespace ?? 'default';
  const files: Record<string, Buffer> = {};
  const add = async (kind: ConfigObjectKind, name: string | undefined, items: V1KeyToPath[] | undefined): Promise<void> => {
    if (!name) return;
    const data = await reader.data(kind, namespace, name);
    if (data) Object.assign(files, mapItems(data, items));
  };
  if (volume.configMap) await add('configmap', volume.configMap.name, volume.configMap.items);
  if (volume.secret) await add('secret', volume.secret.secretName, volume.secret.items);
  for (const source of volume.projected?.sources ?? []) {
    if (source.configMap) await add('configmap', source.configMap.name, source.configMap.items);
    if (source.secret) await add('secret', source.secret.name, source.secret.items);
    if (source.serviceAccountToken) {
      const token = await reader.serviceAccountToken(pod, source.serviceAccountToken.audience, source.serviceAccountToken.expirationSeconds);
      if (token !== undefined) files[source.serviceAccountToken.path] = Buffer.from(token);
    }
  }
  return files;
}
