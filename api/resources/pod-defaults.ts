// Pod defaulting as a real kube-apiserver applies it on create: the v1 defaulting functions
// (pkg/apis/core/v1/defaults.go) plus the default admission plugins that touch pods
// (ServiceAccount's name, DefaultTolerationSeconds; Priority is its own plugin). Idempotent, so it is safe on updates.

import type { KubeObject } from '../object.ts';
import { isPlainObject } from '../object.ts';

type Json = Record<string, unknown>;

export const DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS = 30;
export const DEFAULT_TOLERATION_SECONDS = 300;
export const TAINT_NODE_NOT_READY = 'node.kubernetes.io/not-ready';
export const TAINT_NODE_UNREACHABLE = 'node.kubernetes.io/unreachable';

function objectAt(parent: Json, key: string): Json {
  const existing = parent[key];
  if (isPlainObject(existing)) return existing;
  const created: Json = {};
  parent[key] = created;
  return created;
}

function arrayOfObjects(value: unknown): Json[] {
  return Array.isArray(value) ? value.filter(isPlainObject) : [];
}

/** The tag of an image reference: 'latest' when neither a tag nor a digest is given (parsers.ParseImageName). */
export function imageTag(image: string): string {
  const withoutDigest = image.split('@')[0];
  const hasDigest = image.includes('@');
  const lastSegment = withoutDigest.slice(withoutDigest.lastIndexOf('/') + 1);
  const colon = lastSegment.lastIndexOf(':');
  if (colon >= 0) return lastSegment.slice(colon + 1);
  return hasDigest ? '' : 'latest';
}

function defaultProbe(probe: unknown): void {
  if (!isPlainObject(probe)) return;
  probe.timeoutSeconds ??= 1;
  probe.periodSeconds ??= 10;
  probe.successThreshold ??= 1;
  probe.failureThreshold ??= 3;
  const httpGet = probe.httpGet;
  if (isPlainObject(httpGet)) {
    httpGet.path ??= '/';
    httpGet.scheme ??= 'HTTP';
  }
  const grpc = probe.grpc;
  if (isPlainObject(grpc)) grpc.service ??= '';
}

function defaultContainer(container: Json, hostNetwork: boolean): void {
  const image = typeof container.image === 'string' ? container.image : '';
  if (container.imagePullPolicy === undefined) {
    container.imagePullPolicy = imageTag(image) === 'latest' ? 'Always' : 'IfNotPresent';
  }
  container.terminationMessagePath ??= '/dev/termination-log';
  container.terminationMessagePolicy ??= 'File';
  const resources = objectAt(container, 'resources');
  // Requests default to limits for each resource only limited (SetDefaults_Pod).
  if (isPlainObject(resources.limits)) {
    const requests = objectAt(resources, 'requests');
    for (const [name, value] of Object.entries(resources.limits)) requests[name] ??= value;
  }
  for (const port of arrayOfObjects(container.ports)) {
    port.protocol ??= 'TCP';
    if (hostNetwork && port.hostPort === undefined) port.hostPort = port.containerPort;
  }
  for (const env of arrayOfObjects(container.env)) {
    const fieldRef = isPlainObject(env.valueFrom) ? env.valueFrom.fieldRef : undefined;
    if (isPlainObject(fieldRef)) fieldRef.apiVersion ??= 'v1';
  }
  defaultProbe(container.livenessProbe);
  defaultProbe(container.readinessProbe);
  defaultProbe(container.startupProbe);
}

const VOLUME_SOURCES = ['hostPath', 'emptyDir', 'gcePersistentDisk', 'awsElasticBlockStore', 'gitRepo', 'secret', 'nfs',
  'iscsi', 'glusterfs', 'persistentVolumeClaim', 'rbd', 'flexVolume', 'cinder', 'cephfs', 'flocker', 'downwardAPI', 'fc',
  'azureFile', 'configMap', 'vsphereVolume', 'quobyte', 'azureDisk', 'photonPersistentDisk', 'projected', 'portworxVolume',
  'scaleIO', 'storageos', 'csi', 'ephemeral', 'image'];

function defaultVolume(volume: Json): void {
  if (!VOLUME_SOURCES.some((source) => volume[source] !== undefined)) volume.emptyDir = {};
  for (const source of ['secret', 'configMap', 'downwardAPI', 'projected']) {
    const value = volume[source];
    if (isPlainObject(value)) value.defaultMode ??= 420;
  }
  const hostPath = volume.hostPath;
  if (isPlainObject(hostPath)) hostPath.type ??= '';
}

function hasToleration(tolerations: Json[], key: string): boolean {
  return tolerations.some((t) => (t.key === key || !t.key) && (t.effect === 'NoExecute' || !t.effect));
}

/**
 * The v1 defaulting functions for a PodSpec alone (SetDefaults_PodSpec, containers, volumes): what a
 * pod template in a Deployment, Job, ... gets. Admission defaults (service account, priority,
 * tolerations) apply only when a pod is created from it.
 */
export function applyPodSpecDefaults(spec: Json): void {
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.restartPolicy ??= 'Always';
  spec.securityContext ??= {};
  spec.terminationGracePeriodSeconds ??= DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS;
  spec.schedulerName ??= 'default-scheduler';
  spec.enableServiceLinks ??= true;
  const hostNetwork = spec.hostNetwork === true;
  for (const container of [...arrayOfObjects(spec.containers), ...arrayOfObjects(spec.initContainers)]) {
    defaultContainer(container, hostNetwork);
  }
  for (const volume of arrayOfObjects(spec.volumes)) defaultVolume(volume);
}

/** Defaults of a pod template (`spec.template` of the workload kinds): its PodSpec only. */
export function applyPodTemplateDefaults(template: unknown): void {
  if (!isPlainObject(template)) return;
  applyPodSpecDefaults(objectAt(template, 'spec'));
}

export function applyPodDefaults(pod: KubeObject): void {
  const spec = objectAt(pod as unknown as Json, 'spec');
  applyPodSpecDefaults(spec);

  // ServiceAccount admission: the v1 `serviceAccount` field mirrors serviceAccountName. Mirror pods (the kubelet's
  // static pods) are left without one, as the plugin leaves them.
  const mirror = isPlainObject(pod.metadata?.annotations) && 'kubernetes.io/config.mirror' in pod.metadata.annotations;
  if (!spec.serviceAccountName && !mirror) spec.serviceAccountName = typeof spec.serviceAccount === 'string' && spec.serviceAccount ? spec.serviceAccount : 'default';
  if (spec.serviceAccountName) spec.serviceAccount = spec.serviceAccountName;

  // spec.priority and spec.preemptionPolicy are the Priority admission plugin's to set
  // (api/admission-plugins/priority.ts): it must see whether the client sent them.

  // DefaultTolerationSeconds admission.
  const tolerations = arrayOfObjects(spec.tolerations);
  if (!Array.isArray(spec.tolerations)) spec.tolerations = tolerations;
  const list = spec.tolerations as Json[];
  if (!hasToleration(tolerations, TAINT_NODE_NOT_READY)) {
    list.push({ key: TAINT_NODE_NOT_READY, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: DEFAULT_TOLERATION_SECONDS });
  }
  if (!hasToleration(tolerations, TAINT_NODE_UNREACHABLE)) {
    list.push({ key: TAINT_NODE_UNREACHABLE, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: DEFAULT_TOLERATION_SECONDS });
  }
}
