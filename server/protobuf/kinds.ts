// Which protobuf message each accepted apiVersion/kind decodes as, and which vendored .proto files hold them.

export const PROTO_FILES = [
  'k8s.io/api/core/v1/generated.proto',
  'k8s.io/api/coordination/v1/generated.proto',
  'k8s.io/api/rbac/v1/generated.proto',
  'k8s.io/api/authorization/v1/generated.proto',
  'k8s.io/api/authentication/v1/generated.proto',
  'k8s.io/api/discovery/v1/generated.proto',
  'k8s.io/api/events/v1/generated.proto',
  'k8s.io/apimachinery/pkg/apis/meta/v1/generated.proto',
  'k8s.io/api/apps/v1/generated.proto',
  'k8s.io/api/batch/v1/generated.proto',
  'k8s.io/api/policy/v1/generated.proto',
  'k8s.io/api/autoscaling/v1/generated.proto',
  'k8s.io/api/scheduling/v1/generated.proto',
  'k8s.io/api/node/v1/generated.proto',
  'k8s.io/api/storage/v1/generated.proto',
  'k8s.io/api/networking/v1/generated.proto',
  'k8s.io/api/flowcontrol/v1/generated.proto',
  'k8s.io/api/certificates/v1/generated.proto',
  'k8s.io/api/autoscaling/v2/generated.proto',
];

const CORE = 'k8s.io.api.core.v1';
const META = 'k8s.io.apimachinery.pkg.apis.meta.v1';

/** `apiVersion kind` → fully qualified message name. */
const MESSAGES_BY_KIND = new Map<string, string>([
  ['v1 Pod', `${CORE}.Pod`],
  ['v1 Node', `${CORE}.Node`],
  ['v1 Namespace', `${CORE}.Namespace`],
  ['v1 Event', `${CORE}.Event`],
  ['v1 Binding', `${CORE}.Binding`],
  ['coordination.k8s.io/v1 Lease', 'k8s.io.api.coordination.v1.Lease'],
  ...['ConfigMap', 'Secret', 'ServiceAccount', 'Service', 'Endpoints', 'PodTemplate', 'LimitRange', 'ResourceQuota',
    'PersistentVolume', 'PersistentVolumeClaim'].map(
    (kind): [string, string] => [`v1 ${kind}`, `${CORE}.${kind}`]),
  ['discovery.k8s.io/v1 EndpointSlice', 'k8s.io.api.discovery.v1.EndpointSlice'],
  ['authentication.k8s.io/v1 TokenRequest', 'k8s.io.api.authentication.v1.TokenRequest'],
  ['events.k8s.io/v1 Event', 'k8s.io.api.events.v1.Event'],
  ...['Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding'].map(
    (kind): [string, string] => [`rbac.authorization.k8s.io/v1 ${kind}`, `k8s.io.api.rbac.v1.${kind}`]),
  ...['SelfSubjectAccessReview', 'SubjectAccessReview', 'LocalSubjectAccessReview', 'SelfSubjectRulesReview'].map(
    (kind): [string, string] => [`authorization.k8s.io/v1 ${kind}`, `k8s.io.api.authorization.v1.${kind}`]),
  ...['SelfSubjectReview', 'TokenReview'].map(
    (kind): [string, string] => [`authentication.k8s.io/v1 ${kind}`, `k8s.io.api.authentication.v1.${kind}`]),
  ['v1 ReplicationController', `${CORE}.ReplicationController`],
  ...['Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet', 'ControllerRevision'].map(
    (kind): [string, string] => [`apps/v1 ${kind}`, `k8s.io.api.apps.v1.${kind}`]),
  ...['Job', 'CronJob'].map((kind): [string, string] => [`batch/v1 ${kind}`, `k8s.io.api.batch.v1.${kind}`]),
  ...['PodDisruptionBudget', 'Eviction'].map((kind): [string, string] => [`policy/v1 ${kind}`, `k8s.io.api.policy.v1.${kind}`]),
  ['autoscaling/v1 Scale', 'k8s.io.api.autoscaling.v1.Scale'],
  ['scheduling.k8s.io/v1 PriorityClass', 'k8s.io.api.scheduling.v1.PriorityClass'],
  ['node.k8s.io/v1 RuntimeClass', 'k8s.io.api.node.v1.RuntimeClass'],
  ...['StorageClass', 'CSIDriver', 'CSINode', 'CSIStorageCapacity', 'VolumeAttachment'].map(
    (kind): [string, string] => [`storage.k8s.io/v1 ${kind}`, `k8s.io.api.storage.v1.${kind}`]),
  ...['Ingress', 'IngressClass', 'NetworkPolicy'].map((kind): [string, string] => [`networking.k8s.io/v1 ${kind}`, `k8s.io.api.networking.v1.${kind}`]),
  ...['FlowSchema', 'PriorityLevelConfiguration'].map(
    (kind): [string, string] => [`flowcontrol.apiserver.k8s.io/v1 ${kind}`, `k8s.io.api.flowcontrol.v1.${kind}`]),
  ['certificates.k8s.io/v1 CertificateSigningRequest', 'k8s.io.api.certificates.v1.CertificateSigningRequest'],
  ['autoscaling/v1 HorizontalPodAutoscaler', 'k8s.io.api.autoscaling.v1.HorizontalPodAutoscaler'],
  ['autoscaling/v2 HorizontalPodAutoscaler', 'k8s.io.api.autoscaling.v2.HorizontalPodAutoscaler'],
]);

/**
 * The message for a typeMeta, or undefined when we do not accept that kind. DeleteOptions is accepted
 * under any apiVersion because clients send it in the group version of the resource being deleted.
 */
export function messageNameForKind(apiVersion: string, kind: string): string | undefined {
  if (kind === 'DeleteOptions') return `${META}.DeleteOptions`;
  return MESSAGES_BY_KIND.get(`${apiVersion} ${kind}`);
}

/** The message a reply of this apiVersion/kind encodes as (DeleteOptions and other request-only kinds excluded). */
export function replyMessageNameForKind(apiVersion: string, kind: string): string | undefined {
  return MESSAGES_BY_KIND.get(`${apiVersion} ${kind}`);
}

/** The list message for items of this apiVersion/kind (PodList for Pod), when the kind is served as a list. */
export function listMessageNameForKind(apiVersion: string, kind: string): string | undefined {
  const item = MESSAGES_BY_KIND.get(`${apiVersion} ${kind}`);
  return item && LIST_KINDS.has(kind) ? `${item}List` : undefined;
}

const LIST_KINDS = new Set([
  'Pod', 'Node', 'Namespace', 'Event', 'Lease', 'Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding',
  'ConfigMap', 'Secret', 'ServiceAccount', 'Service', 'Endpoints', 'PodTemplate', 'LimitRange', 'ResourceQuota', 'EndpointSlice',
  'ReplicationController', 'Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet', 'ControllerRevision', 'Job', 'CronJob',
  'PodDisruptionBudget', 'PriorityClass', 'RuntimeClass', 'PersistentVolume', 'PersistentVolumeClaim', 'StorageClass', 'CSIDriver', 'CSINode', 'CSIStorageCapacity',
  'VolumeAttachment', 'Ingress', 'IngressClass', 'NetworkPolicy', 'FlowSchema', 'PriorityLevelConfiguration', 'CertificateSigningRequest',
  'HorizontalPodAutoscaler',
]);

/**
 * Scalar fields that Go declares as pointers (or without omitempty), so a zero value present on the wire
 * is meaningful and must survive into JSON: `gracePeriodSeconds: 0` is a forced delete, `runAsUser: 0` is
 * root. Every other zero scalar is dropped, as Go's omitempty does for value fields, which gogo always
 * writes to the wire.
 */
export const ZERO_VALUE_FIELDS = new Set<string>([
  `${META}.DeleteOptions.gracePeriodSeconds`, `${META}.DeleteOptions.orphanDependents`,
  `${META}.DeleteOptions.ignoreStoreReadErrorWithClusterBreakingPotential`,
  `${META}.ObjectMeta.deletionGracePeriodSeconds`,
  `${META}.OwnerReference.controller`, `${META}.OwnerReference.blockOwnerDeletion`,
  `${CORE}.PodSpec.terminationGracePeriodSeconds`, `${CORE}.PodSpec.activeDeadlineSeconds`,
  `${CORE}.PodSpec.automountServiceAccountToken`, `${CORE}.PodSpec.shareProcessNamespace`,
  `${CORE}.PodSpec.priority`, `${CORE}.PodSpec.enableServiceLinks`, `${CORE}.PodSpec.setHostnameAsFQDN`,
  `${CORE}.PodSpec.hostUsers`,
  'k8s.io.api.scheduling.v1.PriorityClass.value',
  `${CORE}.PodSecurityContext.runAsUser`, `${CORE}.PodSecurityContext.runAsGroup`,
  `${CORE}.PodSecurityContext.runAsNonRoot`, `${CORE}.PodSecurityContext.fsGroup`,
  `${CORE}.SecurityContext.privileged`, `${CORE}.SecurityContext.runAsUser`, `${CORE}.SecurityContext.runAsGroup`,
  `${CORE}.SecurityContext.runAsNonRoot`, `${CORE}.SecurityContext.readOnlyRootFilesystem`,
  `${CORE}.SecurityContext.allowPrivilegeEscalation`,
  `${CORE}.Toleration.tolerationSeconds`,
  `${CORE}.ConfigMapVolumeSource.defaultMode`, `${CORE}.ConfigMapVolumeSource.optional`,
  `${CORE}.SecretVolumeSource.defaultMode`, `${CORE}.SecretVolumeSource.optional`,
  `${CORE}.ProjectedVolumeSource.defaultMode`, `${CORE}.DownwardAPIVolumeSource.defaultMode`,
  `${CORE}.KeyToPath.mode`, `${CORE}.DownwardAPIVolumeFile.mode`, `${CORE}.ConfigMapProjection.optional`,
  `${CORE}.SecretProjection.optional`, `${CORE}.ServiceAccountTokenProjection.expirationSeconds`,
  `${CORE}.ConfigMapKeySelector.optional`, `${CORE}.SecretKeySelector.optional`,
  `${CORE}.ConfigMapEnvSource.optional`, `${CORE}.SecretEnvSource.optional`,
  `${CORE}.ConfigMap.immutable`, `${CORE}.Secret.immutable`, `${CORE}.ServiceAccount.automountServiceAccountToken`,
  `${CORE}.ServiceSpec.allocateLoadBalancerNodePorts`,
  'k8s.io.api.discovery.v1.EndpointPort.port', 'k8s.io.api.discovery.v1.EndpointConditions.ready',
  'k8s.io.api.discovery.v1.EndpointConditions.serving', 'k8s.io.api.discovery.v1.EndpointConditions.terminating',
  'k8s.io.api.authentication.v1.TokenRequestSpec.expirationSeconds',
  `${CORE}.ContainerStatus.ready`, `${CORE}.ContainerStatus.restartCount`, `${CORE}.ContainerStatus.started`,
  'k8s.io.api.coordination.v1.LeaseSpec.leaseDurationSeconds', 'k8s.io.api.coordination.v1.LeaseSpec.leaseTransitions',
  'k8s.io.api.authorization.v1.SubjectAccessReviewStatus.allowed',
  'k8s.io.api.events.v1.EventSeries.count',
  'k8s.io.api.authorization.v1.SubjectRulesReviewStatus.incomplete',
  // HorizontalPodAutoscalers: pointers (minReplicas, utilizations, a 0 s stabilization window) and v1's
  // replica counts, which Go writes without omitempty.
  ...['v1', 'v2'].map((v) => `k8s.io.api.autoscaling.${v}.HorizontalPodAutoscalerSpec.minReplicas`),
  ...['v1', 'v2'].map((v) => `k8s.io.api.autoscaling.${v}.HorizontalPodAutoscalerStatus.observedGeneration`),
  'k8s.io.api.autoscaling.v1.HorizontalPodAutoscalerSpec.targetCPUUtilizationPercentage',
  'k8s.io.api.autoscaling.v1.HorizontalPodAutoscalerStatus.currentCPUUtilizationPercentage',
  'k8s.io.api.autoscaling.v1.HorizontalPodAutoscalerStatus.currentReplicas',
  ...['v1', 'v2'].map((v) => `k8s.io.api.autoscaling.${v}.HorizontalPodAutoscalerStatus.desiredReplicas`),
  'k8s.io.api.autoscaling.v2.MetricTarget.averageUtilization', 'k8s.io.api.autoscaling.v2.MetricValueStatus.averageUtilization',
  'k8s.io.api.autoscaling.v2.HPAScalingRules.stabilizationWindowSeconds',
  // Workloads: pointer fields where 0 (or false) differs from unset (replicas: 0 is not the default 1).
  `${CORE}.ReplicationControllerSpec.replicas`,
  ...['DeploymentSpec', 'ReplicaSetSpec', 'StatefulSetSpec'].map((spec) => `k8s.io.api.apps.v1.${spec}.replicas`),
  'k8s.io.api.apps.v1.DeploymentSpec.revisionHistoryLimit', 'k8s.io.api.apps.v1.DeploymentSpec.progressDeadlineSeconds',
  'k8s.io.api.apps.v1.DaemonSetSpec.revisionHistoryLimit', 'k8s.io.api.apps.v1.StatefulSetSpec.revisionHistoryLimit',
  'k8s.io.api.apps.v1.RollingUpdateStatefulSetStrategy.partition',
  ...['parallelism', 'completions', 'activeDeadlineSeconds', 'backoffLimit', 'backoffLimitPerIndex', 'maxFailedIndexes',
    'ttlSecondsAfterFinished', 'manualSelector', 'suspend'].map((name) => `k8s.io.api.batch.v1.JobSpec.${name}`),
  ...['startingDeadlineSeconds', 'suspend', 'successfulJobsHistoryLimit', 'failedJobsHistoryLimit'].map(
    (name) => `k8s.io.api.batch.v1.CronJobSpec.${name}`),
  // Storage, networking, flowcontrol and certificates: pointers (and VolumeAttachmentStatus.attached, a bool
  // without omitempty) whose false or 0 is meaningful.
  ...['attachRequired', 'podInfoOnMount', 'storageCapacity', 'requiresRepublish', 'seLinuxMount', 'nodeAllocatableUpdatePeriodSeconds'].map(
    (name) => `k8s.io.api.storage.v1.CSIDriverSpec.${name}`),
  'k8s.io.api.storage.v1.StorageClass.allowVolumeExpansion', 'k8s.io.api.storage.v1.VolumeAttachmentStatus.attached',
  'k8s.io.api.storage.v1.TokenRequest.expirationSeconds', 'k8s.io.api.storage.v1.VolumeNodeResources.count',
  'k8s.io.api.flowcontrol.v1.LimitedPriorityLevelConfiguration.nominalConcurrencyShares',
  'k8s.io.api.flowcontrol.v1.LimitedPriorityLevelConfiguration.lendablePercent',
  'k8s.io.api.flowcontrol.v1.ExemptPriorityLevelConfiguration.nominalConcurrencyShares',
  'k8s.io.api.flowcontrol.v1.ExemptPriorityLevelConfiguration.lendablePercent',
  'k8s.io.api.flowcontrol.v1.ResourcePolicyRule.clusterScope',
  'k8s.io.api.certificates.v1.CertificateSigningRequestSpec.expirationSeconds',
  // NetworkPolicyPort: protocol and endPort are pointers ("" and 0 are values validation reports).
  'k8s.io.api.networking.v1.NetworkPolicyPort.protocol', 'k8s.io.api.networking.v1.NetworkPolicyPort.endPort',
]);

/**
 * Fields that are embedded Go structs with `json:",inline"`: protobuf gives them a field of their own,
 * JSON merges their members into the parent (a Volume's `configMap` sits beside its `name`).
 */
export const INLINE_FIELDS = new Set<string>([
  `${CORE}.Volume.volumeSource`,
  `${CORE}.Probe.handler`,
  `${CORE}.EphemeralContainer.ephemeralContainerCommon`,
  `${CORE}.PersistentVolumeSpec.persistentVolumeSource`,
  ...['ConfigMapVolumeSource', 'ConfigMapKeySelector', 'ConfigMapEnvSource', 'ConfigMapProjection',
    'SecretKeySelector', 'SecretEnvSource', 'SecretProjection'].map((message) => `${CORE}.${message}.localObjectReference`),
]);
