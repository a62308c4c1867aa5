// The VolumeBinding plugin's PreFilter (pkg/scheduler/framework/plugins/volumebinding): a pod whose
// PersistentVolumeClaims are missing, lost, being deleted, or unbound with Immediate binding cannot be
// placed on any node (UnschedulableAndUnresolvable); the persistentvolume controller binds immediate
// claims, and a claim's change puts the pod back in the active queue. Claims of WaitForFirstConsumer
// classes are not looked at (no node-local volume search or provisioning here): such pods schedule.
import type { V1PersistentVolumeClaim, V1Pod, V1StorageClass } from '@kubernetes/client-node';

/** pv.kubernetes.io/bind-completed: the persistentvolume controller finished binding the claim. */
const ANN_BIND_COMPLETED = 'pv.kubernetes.io/bind-completed';
export const REASON_UNBOUND_IMMEDIATE_CLAIMS = 'pod has unbound immediate PersistentVolumeClaims';

export interface ClaimLookup {
  claim(namespace: string, name: string): V1PersistentVolumeClaim | undefined;
  storageClass(name: string): V1StorageClass | undefined;
}

/** isPVCFullyBound, or the Bound phase the binder writes last. */
function claimBound(claim: V1PersistentVolumeClaim): boolean {
  if (claim.status?.phase === 'Bound') return true;
  return Boolean(claim.spec?.volumeName) && claim.metadata?.annotations?.[ANN_BIND_COMPLETED] !== undefined;
}

/** volume.IsDelayBindingMode: the claim's class exists and binds WaitForFirstConsumer. */
function delayBinding(claim: V1PersistentVolumeClaim, lookup: ClaimLookup): boolean {
  const className = claim.spec?.storageClassName;
  if (!className) return false;
  return lookup.storageClass(className)?.volumeBindingMode === 'WaitForFirstConsumer';
}

/** PreFilter: the reason no node can take the pod, or undefined when its claims allow scheduling. */
export function volumeBindingPreFilter(pod: V1Pod, lookup: ClaimLookup): string | undefined {
  const namespace = pod.metadata?.namespace ?? 'default';
  let unboundImmediate = false;
  for (const volume of pod.spec?.volumes ?? []) {
    let claimName: string;
    const ephemeral = volume.ephemeral !== undefined;
    if (volume.persistentVolumeClaim) claimName = volume.persistentVolumeClaim.claimName;
    else if (ephemeral) claimName = `${pod.metadata?.name ?? ''}-${volume.name}`;
    else continue;
    const claim = lookup.claim(namespace, claimName);
    // podHasPVCs: the lister's error text, or the ephemeral volume's.
    if (!claim) {
      return ephemeral ? `waiting for ephemeral volume controller to create the persistentvolumeclaim "${claimName}"`
        : `persistentvolumeclaim "${claimName}" not found`;
    }
    if (claim.status?.phase === 'Lost') {
      return `persistentvolumeclaim "${claimName}" bound to non-existent persistentvolume "${claim.spec?.volumeName ?? ''}"`;
    }
    if (claim.metadata?.deletionTimestamp) return `persistentvolumeclaim "${claimName}" is being deleted`;
    if (ephemeral && !claim.metadata?.ownerReferences?.some((ref) => ref.controller && ref.kind === 'Pod' && ref.uid === pod.metadata?.uid)) {
      return `PVC ${namespace}/${claimName} was not created for pod ${namespace}/${pod.metadata?.name ?? ''} (pod is not owner)`;
    }
    if (claimBound(claim)) continue;
    // A pre-bound claim (volumeName set) counts as immediate whatever its class.
    if (!delayBinding(claim, lookup) || claim.spec?.volumeName) unboundImmediate = true;
  }
  return unboundImmediate ? REASON_UNBOUND_IMMEDIATE_CLAIMS : undefined;
}
