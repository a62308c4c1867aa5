// The NodeRestriction admission plugin (plugin/pkg/admission/noderestriction): what a node may write is
// checked against the objects themselves. A node may create and change only its own Node (not its
// taints, and only kubelet labels), report status only for pods bound to it, delete only pods bound to
// it, create only mirror pods bound to it, and touch only its own Lease in kube-node-lease.

import { isDeepStrictEqual } from 'node:util';
import type { AdmissionAttributes, ValidatingAdmission } from '../../api/admission.ts';
import { forbidden } from '../../api/errors.ts';
import { isPlainObject, type KubeObject } from '../../api/object.ts';
import { nodeIdentity } from './node-identity.ts';

const NODE_LEASE_NAMESPACE = 'kube-node-lease';
const MIRROR_POD_ANNOTATION = 'kubernetes.io/config.mirror';
const NODE_RESTRICTION_LABEL_NAMESPACE = 'node-restriction.kubernetes.io';

/** Labels a kubelet may set on its own Node (k8s.io/kubelet/pkg/apis IsKubeletLabel). */
const KUBELET_LABELS = new Set([
  'kubernetes.io/hostname', 'topology.kubernetes.io/zone', 'topology.kubernetes.io/region',
  'failure-domain.beta.kubernetes.io/zone', 'failure-domain.beta.kubernetes.io/region',
  'beta.kubernetes.io/instance-type', 'node.kubernetes.io/instance-type', 'kubernetes.io/os', 'kubernetes.io/arch',
  'beta.kubernetes.io/os', 'beta.kubernetes.io/arch',
]);
const KUBELET_LABEL_NAMESPACES = ['kubelet.kubernetes.io', 'node.kubernetes.io'];

export class NodeRestrictionAdmission implements ValidatingAdmission {
  validate(attributes: AdmissionAttributes): void {
    const identity = nodeIdentity(attributes.user);
    if (!identity.isNode) return;
    const refuse: (reason: string) => never = (reason) => {
      const name = attributes.name || attributes.object?.metadata.name || '';
      const groupResource = { group: attributes.group, resource: attributes.resource };
      const qualified = attributes.group ? `${attributes.resource}.${attributes.group}` : attributes.resource;
      throw forbidden(name ? `${qualified} ${JSON.stringify(name)} is forbidden: ${reason}` : `${qualified} is forbidden: ${reason}`, groupResource, name || undefined);
    };
    const nodeName = identity.nodeName;
    if (!nodeName) refuse(`could not determine node from user ${JSON.stringify(attributes.user.username)}`);
    const key = `${attributes.group}/${attributes.resource}`;
    if (key === '/pods') {
      if (attributes.subresource === '') this.pod(nodeName, attributes, refuse);
      else if (attributes.subresource === 'status') this.podStatus(nodeName, attributes, refuse);
      else refuse(`unexpected pod subresource "${attributes.subresource}", only 'status' and 'eviction' are allowed`);
    } else if (key === '/nodes') {
      this.node(nodeName, attributes, refuse);
    } else if (key === 'coordination.k8s.io/leases') {
      if (attributes.namespace !== NODE_LEASE_NAMESPACE) refuse(`can only access leases in the "${NODE_LEASE_NAMESPACE}" system namespace`);
      const leaseName = attributes.operation === 'CREATE' ? attributes.object?.metadata.name : attributes.name;
      if (leaseName !== nodeName) refuse('can only access node lease with the same name as the requesting node');
    }
  }

  private pod(nodeName: string, attributes: AdmissionAttributes, refuse: (reason: string) => never): void {
    if (attributes.operation === 'DELETE') {
      if (nodeNameOf(attributes.oldObject) !== nodeName) refuse(`node "${nodeName}" can only delete pods with spec.nodeName set to itself`);
      return;
    }
    if (attributes.operation !== 'CREATE') {
      refuse(`unexpected operation "${attributes.operation}", node "${nodeName}" can only create and delete mirror pods`);
    }
    const pod = attributes.object!;
    if (!(MIRROR_POD_ANNOTATION in (pod.metadata.annotations ?? {}))) {
      refuse(`pod does not have "${MIRROR_POD_ANNOTATION}" annotation, node "${nodeName}" can only create mirror pods`);
    }
    if (nodeNameOf(pod) !== nodeName) refuse(`node "${nodeName}" can only create pods with spec.nodeName set to itself`);
    const owners = pod.metadata.ownerReferences ?? [];
    if (owners.length > 1) refuse(`node "${nodeName}" can only create pods with a single owner reference set to itself`);
    const owner = owners[0];
    if (!owner || owner.apiVersion !== 'v1' || owner.kind !== 'Node' || owner.name !== nodeName) {
      refuse(`node "${nodeName}" can only create pods with an owner reference set to itself`);
    }
    if (owner.controller !== true) refuse(`node "${nodeName}" can only create pods with a controller owner reference set to itself`);
    if (owner.blockOwnerDeletion === true) refuse(`node "${nodeName}" must not set blockOwnerDeletion on an owner reference`);
    const spec = isPlainObject(pod.spec) ? pod.spec : {};
    if (typeof spec.serviceAccountName === 'string' && spec.serviceAccountName) {
      refuse(`node "${nodeName}" can not create pods that reference a service account`);
    }
  }

  private podStatus(nodeName: string, attributes: AdmissionAttributes, refuse: (reason: string) => never): void {
    if (attributes.operation !== 'UPDATE') refuse(`unexpected operation "${attributes.operation}"`);
    if (nodeNameOf(attributes.oldObject) !== nodeName) refuse(`node "${nodeName}" can only update pod status for pods with spec.nodeName set to itself`);
    if (!isDeepStrictEqual(attributes.oldObject?.metadata.labels ?? {}, attributes.object?.metadata.labels ?? {})) {
      refuse(`node "${nodeName}" cannot update labels through pod status`);
    }
  }

  private node(nodeName: string, attributes: AdmissionAttributes, refuse: (reason: string) => never): void {
    const requested = attributes.name;
    if (requested !== nodeName) refuse(`node "${nodeName}" is not allowed to modify node "${requested}"`);
    const node = attributes.object;
    if (attributes.operation === 'CREATE' && node) {
      const forbiddenLabels = forbiddenLabelChanges(node.metadata.labels, undefined);
      if (forbiddenLabels.length) refuse(`node "${nodeName}" is not allowed to set the following labels: ${forbiddenLabels.join(', ')}`);
    }
    if (attributes.operation === 'UPDATE' && node && attributes.oldObject) {
      if (!isDeepStrictEqual(taintsOf(node), taintsOf(attributes.oldObject))) refuse(`node "${nodeName}" is not allowed to modify taints`);
      const forbiddenLabels = forbiddenLabelChanges(node.metadata.labels, attributes.oldObject.metadata.labels);
      if (forbiddenLabels.length) refuse(`is not allowed to modify labels: ${forbiddenLabels.join(', ')}`);
    }
  }
}

function nodeNameOf(pod: KubeObject | undefined): string {
  const spec = pod && isPlainObject(pod.spec) ? pod.spec : {};
  return typeof spec.nodeName === 'string' ? spec.nodeName : '';
}

/** Taints, with a missing list and an empty one the same (apimachinery's semantic equality). */
function taintsOf(node: KubeObject): unknown[] {
  const spec = isPlainObject(node.spec) ? node.spec : {};
  return Array.isArray(spec.taints) ? spec.taints : [];
}

function labelNamespace(key: string): string {
  const slash = key.indexOf('/');
  return slash >= 0 ? key.slice(0, slash) : '';
}

function inNamespace(namespace: string, domain: string): boolean {
  return namespace === domain || namespace.endsWith(`.${domain}`);
}

function isKubeletLabel(key: string): boolean {
  if (KUBELET_LABELS.has(key)) return true;
  return KUBELET_LABEL_NAMESPACES.some((domain) => inNamespace(labelNamespace(key), domain));
}

/** Sorted label keys changed between the two sets that a node may not set (getForbiddenLabels). */
function forbiddenLabelChanges(labels: Record<string, string> | undefined, old: Record<string, string> | undefined): string[] {
  const a = labels ?? {};
  const b = old ?? {};
  const modified = new Set<string>();
  // Own members only: a label named `constructor` must not be found on Object.prototype.
  for (const key of Object.keys(a)) if (!Object.hasOwn(b, key) || a[key] !== b[key]) modified.add(key);
  for (const key of Object.keys(b)) if (!Object.hasOwn(a, key) || a[key] !== b[key]) modified.add(key);
  const refused = [...modified].filter((key) => {
    const namespace = labelNamespace(key);
    if (inNamespace(namespace, NODE_RESTRICTION_LABEL_NAMESPACE)) return true;
    const kubernetesLabel = inNamespace(namespace, 'kubernetes.io') || inNamespace(namespace, 'k8s.io');
    return kubernetesLabel && !isKubeletLabel(key);
  });
  return refused.sort();
}
