// The ServiceAccount admission plugin (plugin/pkg/admission/serviceaccount) for pod creation:
// default spec.serviceAccountName to `default`, refuse a pod naming a service account that does not
// exist (upstream's wording), and, unless the pod or its service account opts out with
// automountServiceAccountToken: false, add the projected `kube-api-access-xxxxx` volume (a bound
// token, the cluster CA from the kube-root-ca.crt ConfigMap, the namespace) mounted read-only at
// /var/run/secrets/kubernetes.io/serviceaccount in every container; a pod without imagePullSecrets takes its
// service account's. The `default` account of a new namespace is waited for (ten lookups 100–200 ms apart, as
// upstream's getServiceAccount does, since the controller creates it right after the namespace); past that the pod
// is refused like any pod naming a missing account, and its creator retries (controllers requeue, as upstream's do).

import { randomInt } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { AdmissionAttributes, MutatingAdmission } from '../admission.ts';
import { forbidden } from '../errors.ts';
import { isPlainObject, type KubeObject } from '../object.ts';

export const SERVICE_ACCOUNT_PLUGIN_NAME = 'ServiceAccount';
export const DEFAULT_SERVICE_ACCOUNT = 'default';
export const SERVICE_ACCOUNT_MOUNT_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';
export const ROOT_CA_CONFIGMAP = 'kube-root-ca.crt';
const MIRROR_POD_ANNOTATION = 'kubernetes.io/config.mirror';
const VOLUME_PREFIX = 'kube-api-access-';
// utilrand.String's alphabet: no vowels (no words), no confusable characters.
const ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
/** Upstream's projected token lifetime: an hour plus 7 s, so kubelets can tell it from a user's. */
const TOKEN_EXPIRATION_SECONDS = 3607;

type Json = Record<string, unknown>;

/** Lookups of the `default` account before a pod is refused (upstream: 10, 100–200 ms apart). */
const DEFAULT_ACCOUNT_ATTEMPTS = 10;

/** Reads a service account; undefined when it does not exist. */
export type ServiceAccountGetter = (namespace: string, name: string) => Promise<KubeObject | undefined>;

function containersOf(spec: Json): Json[] {
  const out: Json[] = [];
  for (const key of ['initContainers', 'containers', 'ephemeralContainers']) {
    if (Array.isArray(spec[key])) for (const c of spec[key] as unknown[]) if (isPlainObject(c)) out.push(c);
  }
  return out;
}

export function tokenVolume(name: string): Json {
  return {
    name,
    projected: {
      defaultMode: 420,
      sources: [
        { serviceAccountToken: { expirationSeconds: TOKEN_EXPIRATION_SECONDS, path: 'token' } },
        { configMap: { name: ROOT_CA_CONFIGMAP, items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
      ],
    },
  };
}

function randomSuffix(): string {
  let out = '';
  for (let i = 0; i < 5; i++) out += ALPHABET[randomInt(ALPHABET.length)];
  return out;
}

export class ServiceAccountAdmission implements MutatingAdmission {
  constructor(private readonly getServiceAccount: ServiceAccountGetter, private readonly retryIntervalMs: () => number = () => 100 + randomInt(100)) {}

  private async lookUp(namespace: string, name: string): Promise<KubeObject | undefined> {
    const attempts = name === DEFAULT_SERVICE_ACCOUNT ? DEFAULT_ACCOUNT_ATTEMPTS : 1;
    const interval = this.retryIntervalMs();
    for (let attempt = 0; attempt < attempts; attempt++) {
      if (attempt !== 0) await delay(interval);
      const account = await this.getServiceAccount(namespace, name);
      if (account) return account;
    }
    return undefined;
  }

  async admit(attributes: AdmissionAttributes): Promise<void> {
    if (attributes.operation !== 'CREATE' || attributes.group !== '' || attributes.resource !== 'pods' || attributes.subresource !== '') return;
    const pod = attributes.object;
    if (!pod || !isPlainObject(pod.spec)) return;
    if (pod.metadata.annotations?.[MIRROR_POD_ANNOTATION] !== undefined) return;
    const spec = pod.spec;
    if (typeof spec.serviceAccountName !== 'string' || spec.serviceAccountName === '') spec.serviceAccountName = DEFAULT_SERVICE_ACCOUNT;
    spec.serviceAccount = spec.serviceAccountName;
    const accountName = spec.serviceAccountName as string;
    const account = await this.lookUp(attributes.namespace, accountName);
    if (!account) {
      throw forbidden(`pods "${attributes.name}" is forbidden: error looking up service account ${attributes.namespace}/${accountName}: serviceaccount "${accountName}" not found`,
        { group: '', resource: 'pods' }, attributes.name);
    }
    const automount = typeof spec.automountServiceAccountToken === 'boolean' ? spec.automountServiceAccountToken : account.automountServiceAccountToken !== false;
    if (automount) mountToken(spec);
    const pullSecrets = Array.isArray(spec.imagePullSecrets) ? spec.imagePullSecrets : [];
    if (pullSecrets.length === 0 && Array.isArray(account.imagePullSecrets) && account.imagePullSecrets.length > 0) {
      spec.imagePullSecrets = (account.imagePullSecrets as unknown[]).filter(isPlainObject).map((ref) => ({ name: ref.name }));
    }
  }
}

function mountToken(spec: Json): void {
  const containers = containersOf(spec);
  // A pod that mounts something at the token path itself keeps it.
  const mountsTokenPath = containers.some((c) => Array.isArray(c.volumeMounts)
    && c.volumeMounts.some((m) => isPlainObject(m) && m.mountPath === SERVICE_ACCOUNT_MOUNT_PATH));
  if (mountsTokenPath) return;
  const volumes = Array.isArray(spec.volumes) ? spec.volumes as unknown[] : [];
  const taken = new Set(volumes.filter(isPlainObject).map((v) => v.name));
  let name = `${VOLUME_PREFIX}${randomSuffix()}`;
  while (taken.has(name)) name = `${VOLUME_PREFIX}${randomSuffix()}`;
  spec.volumes = [...volumes, tokenVolume(name)];
  for (const container of containers) {
    const mounts = Array.isArray(container.volumeMounts) ? container.volumeMounts as unknown[] : [];
    container.volumeMounts = [...mounts, { name, readOnly: true, mountPath: SERVICE_ACCOUNT_MOUNT_PATH }];
  }
}
