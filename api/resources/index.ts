// The built-in kinds the registry serves. Adding a kind = one strategy file + one entry here.

import type { ResourceStrategy } from '../resource.ts';
import { eventStrategy } from './events.ts';
import { eventV1Strategy } from './events-v1.ts';
import { leaseStrategy } from './leases.ts';
import { namespaceStrategy } from './namespaces.ts';
import { nodeStrategy } from './nodes.ts';
import { podStrategy } from './pods.ts';
import { clusterRoleBindingStrategy, roleBindingStrategy } from './rbac-bindings.ts';
import { clusterRoleStrategy, roleStrategy } from './rbac-roles.ts';
import { deploymentStrategy } from './deployments.ts';
import { replicaSetStrategy } from './replicasets.ts';
import { statefulSetStrategy } from './statefulsets.ts';
import { daemonSetStrategy } from './daemonsets.ts';
import { controllerRevisionStrategy } from './controllerrevisions.ts';
import { jobStrategy } from './jobs.ts';
import { cronJobStrategy } from './cronjobs.ts';
import { podDisruptionBudgetStrategy } from './poddisruptionbudgets.ts';
import { replicationControllerStrategy } from './replicationcontrollers.ts';
import { customResourceDefinitionStrategy } from './customresourcedefinitions.ts';
import { mutatingWebhookConfigurationStrategy, validatingWebhookConfigurationStrategy } from './webhook-configurations.ts';
import { validatingAdmissionPolicyBindingStrategy, validatingAdmissionPolicyStrategy } from './admission-policies.ts';
import { configMapStrategy } from './configmaps.ts';
import { secretStrategy } from './secrets.ts';
import { serviceAccountStrategy } from './serviceaccounts.ts';
import { serviceStrategy } from './services.ts';
import { endpointsStrategy } from './endpoints.ts';
import { endpointSliceStrategy } from './endpointslices.ts';
import { podTemplateStrategy } from './podtemplates.ts';
import { limitRangeStrategy } from './limitranges.ts';
import { resourceQuotaStrategy } from './resourcequotas.ts';
import { priorityClassStrategy } from './priorityclasses.ts';
import { runtimeClassStrategy } from './runtimeclasses.ts';
import { storageClassStrategy } from './storageclasses.ts';
import { csiDriverStrategy } from './csidrivers.ts';
import { csiNodeStrategy } from './csinodes.ts';
import { csiStorageCapacityStrategy } from './csistoragecapacities.ts';
import { volumeAttachmentStrategy } from './volumeattachments.ts';
import { persistentVolumeStrategy } from './persistentvolumes.ts';
import { persistentVolumeClaimStrategy } from './persistentvolumeclaims.ts';
import { ingressStrategy } from './ingresses.ts';
import { ingressClassStrategy } from './ingressclasses.ts';
import { flowSchemaStrategy } from './flowschemas.ts';
import { priorityLevelConfigurationStrategy } from './prioritylevelconfigurations.ts';
import { certificateSigningRequestStrategy } from './certificatesigningrequests.ts';
import { horizontalPodAutoscalerStrategy, horizontalPodAutoscalerV1Strategy } from './horizontalpodautoscalers.ts';
import { networkPolicyStrategy } from './networkpolicies.ts';

export const builtinResources: ResourceStrategy[] = [
  podStrategy, nodeStrategy, namespaceStrategy, eventStrategy, leaseStrategy,
  roleStrategy, clusterRoleStrategy, roleBindingStrategy, clusterRoleBindingStrategy,
  eventV1Strategy,
  deploymentStrategy,
  replicaSetStrategy,
  statefulSetStrategy,
  daemonSetStrategy,
  controllerRevisionStrategy,
  jobStrategy,
  cronJobStrategy,
  podDisruptionBudgetStrategy,
  replicationControllerStrategy,
  customResourceDefinitionStrategy,
  mutatingWebhookConfigurationStrategy, validatingWebhookConfigurationStrategy,
  validatingAdmissionPolicyStrategy, validatingAdmissionPolicyBindingStrategy,
  configMapStrategy,
  secretStrategy,
  serviceAccountStrategy,
  serviceStrategy,
  endpointsStrategy,
  endpointSliceStrategy,
  podTemplateStrategy,
  limitRangeStrategy,
  resourceQuotaStrategy,
  priorityClassStrategy,
  runtimeClassStrategy,
  storageClassStrategy, csiDriverStrategy, csiNodeStrategy, csiStorageCapacityStrategy, volumeAttachmentStrategy,
  persistentVolumeStrategy, persistentVolumeClaimStrategy,
  ingressStrategy, ingressClassStrategy,
  flowSchemaStrategy, priorityLevelConfigurationStrategy,
  certificateSigningRequestStrategy,
  // autoscaling/v2 first: discovery prefers the first version listed.
  horizontalPodAutoscalerStrategy, horizontalPodAutoscalerV1Strategy,
  networkPolicyStrategy,
];

export { bindingDiscovery, type DiscoveryEntry } from './bindings.ts';
export { eventStrategy } from './events.ts';
export { leaseStrategy } from './leases.ts';
export { FINALIZER_KUBERNETES, LABEL_METADATA_NAME, markNamespaceTerminating, namespaceStrategy } from './namespaces.ts';
export { nodeRoles, nodeStatusText, nodeStrategy } from './nodes.ts';
export { assignPodToNode, podDeletionGracePeriodSeconds, podSelectableFields, podStrategy } from './pods.ts';
export { age, humanDuration } from './printing.ts';
export { clusterRoleBindingStrategy, roleBindingStrategy } from './rbac-bindings.ts';
export { clusterRoleStrategy, roleStrategy } from './rbac-roles.ts';
export { customResourceDefinitionStrategy } from './customresourcedefinitions.ts';
export { mutatingWebhookConfigurationStrategy, validatingWebhookConfigurationStrategy } from './webhook-configurations.ts';
export { validatingAdmissionPolicyBindingStrategy, validatingAdmissionPolicyStrategy } from './admission-policies.ts';
