// The pods/binding subresource's update of the pod, as BindingREST.setPodNodeAndMetadata
// (pkg/registry/core/pod/storage/storage.go) does it: set spec.nodeName once, merge the binding's
// annotations, and mark PodScheduled=True.

import { conflict, invalid, notSupportedField, requiredField, type FieldError } from '../errors.ts';
import { deepCopy, isPlainObject, type KubeObject } from '../object.ts';
import { list, str } from './printing.ts';

type Json = Record<string, unknown>;

const BINDING_RESOURCE = { group: '', resource: 'pods/binding' };

/** ValidatePodBinding. */
export function validateBinding(binding: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const kind = str(binding, 'target', 'kind');
  if (kind && kind !== 'Node') errs.push(notSupportedField('target.kind', kind, ['Node', '<empty>']));
  if (!str(binding, 'target', 'name')) errs.push(requiredField('target.name'));
  return errs;
}

/**
 * UpdatePodCondition: replace or append a condition; lastTransitionTime only moves when the
 * status changes. Reason and message are replaced by the new condition's (empty here).
 */
export function setPodCondition(pod: KubeObject, condition: { type: string; status: string; reason?: string; message?: string }, now: Date): void {
  const status = (isPlainObject(pod.status) ? pod.status : (pod.status = {})) as Json;
  const conditions = Array.isArray(status.conditions) ? (status.conditions as Json[]) : (status.conditions = []) as Json[];
  const index = conditions.findIndex((c) => isPlainObject(c) && c.type === condition.type);
  const old = index >= 0 ? conditions[index] : undefined;
  const transition = old && old.status === condition.status ? old.lastTransitionTime ?? null : now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const next: Json = { type: condition.type, status: condition.status, lastProbeTime: null, lastTransitionTime: transition };
  if (condition.reason) next.reason = condition.reason;
  if (condition.message) next.message = condition.message;
  if (index >= 0) conditions[index] = next;
  else conditions.push(next);
}

/**
 * Returns the bound copy of `pod`, or throws: 422 for an invalid binding, 409 Conflict on
 * pods/binding when the pod is deleting, already bound, or still gated, or when the binding's
 * uid/resourceVersion preconditions do not match.
 */
export function assignPodToNode(pod: KubeObject, binding: KubeObject, now: Date): KubeObject {
  const podName = pod.metadata.name ?? '';
  const errs = validateBinding(binding);
  if (errs.length) throw invalid('Binding', '', binding.metadata.name ?? podName, errs);
  const fail = (why: string) => conflict(BINDING_RESOURCE, podName, why);
  const wantUid = binding.metadata.uid;
  if (wantUid && wantUid !== pod.metadata.uid) {
    throw fail(`Precondition failed: UID in precondition: ${wantUid}, UID in object meta: ${pod.metadata.uid ?? ''}`);
  }
  const wantVersion = binding.metadata.resourceVersion;
  if (wantVersion && wantVersion !== pod.metadata.resourceVersion) {
    throw fail(`Precondition failed: ResourceVersion in precondition: ${wantVersion}, ResourceVersion in object meta: ${pod.metadata.resourceVersion ?? ''}`);
  }
  if (pod.metadata.deletionTimestamp) throw fail(`pod ${podName} is being deleted, cannot be assigned to a host`);
  const current = str(pod, 'spec', 'nodeName');
  if (current) throw fail(`pod ${podName} is already assigned to node "${current}"`);
  if (list(pod, 'spec', 'schedulingGates').length > 0) throw fail(`pod ${podName} has non-empty .spec.schedulingGates`);

  const bound = copyKeepingManagedFields(pod);
  const spec = (isPlainObject(bound.spec) ? bound.spec : (bound.spec = {})) as Json;
  spec.nodeName = str(binding, 'target', 'name');
  const annotations = binding.metadata.annotations;
  if (annotations && Object.keys(annotations).length > 0) {
    bound.metadata.annotations = { ...(bound.metadata.annotations ?? {}), ...annotations };
  }
  setPodCondition(bound, { type: 'PodScheduled', status: 'True' }, now);
  return bound;
}

/**
 * A deep copy whose metadata.managedFields is the stored array itself: managedFields entries are
 * never modified in place (api/patch/fields-v1.ts), so the binding need not copy every entry's
 * FieldsV1 tree, and the field sets memoised per FieldsV1 object stay valid for the pod's next
 * tracked write (the kubelet's status updates).
 */
function copyKeepingManagedFields(pod: KubeObject): KubeObject {
  if (!Object.prototype.hasOwnProperty.call(pod.metadata, 'managedFields')) return deepCopy(pod);
  const managedFields = pod.metadata.managedFields;
  // The key stays where it was: the copy's metadata keeps the stored key order.
  const bound: KubeObject = deepCopy({ ...pod, metadata: { ...pod.metadata, managedFields: undefined } });
  bound.metadata.managedFields = managedFields;
  return bound;
}
