// core/v1 Node (cluster-scoped). Modelled on pkg/registry/core/node/strategy.go and printNode.

import { duplicateField, invalidField, notSupportedField, requiredField, type FieldError } from '../errors.ts';
import { isPlainObject, type KubeObject } from '../object.ts';
import type { ResourceStrategy, TableCell } from '../resource.ts';
import { nameIsDNSSubdomain, isQualifiedName, isValidLabelValue } from '../validation/names.ts';
import { age, ageColumn, column, list, nameColumn, str } from './printing.ts';

const LABEL_NODE_ROLE_PREFIX = 'node-role.kubernetes.io/';
const LABEL_NODE_ROLE = 'kubernetes.io/role';
const TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];

/** findNodeRoles: sorted, from `node-role.kubernetes.io/<role>` keys and the legacy `kubernetes.io/role` value. */
export function nodeRoles(node: KubeObject): string[] {
  const roles = new Set<string>();
  for (const [key, value] of Object.entries(node.metadata.labels ?? {})) {
    if (key.startsWith(LABEL_NODE_ROLE_PREFIX)) {
      const role = key.slice(LABEL_NODE_ROLE_PREFIX.length);
      if (role) roles.add(role);
    } else if (key === LABEL_NODE_ROLE && value) {
      roles.add(value);
    }
  }
  return [...roles].sort();
}

/** The STATUS column: Ready / NotReady / Unknown, plus SchedulingDisabled when cordoned. */
export function nodeStatusText(node: KubeObject): string {
  const status: string[] = [];
  const ready = list(node, 'status', 'conditions').find((c) => c.type === 'Ready');
  if (ready) status.push(ready.status === 'True' ? 'Ready' : 'NotReady');
  if (status.length === 0) status.push('Unknown');
  if (isPlainObject(node.spec) && node.spec.unschedulable === true) status.push('SchedulingDisabled');
  return status.join(',');
}

function nodeAddress(node: KubeObject, type: string): string {
  return str(list(node, 'status', 'addresses').find((a) => a.type === type), 'address') || '<none>';
}

function nodeCells(node: KubeObject, now: Date): TableCell[] {
  const info = (key: string) => str(node, 'status', 'nodeInfo', key);
  return [
    node.metadata.name ?? '', nodeStatusText(node), nodeRoles(node).join(',') || '<none>',
    age(node.metadata.creationTimestamp, now), info('kubeletVersion'),
    nodeAddress(node, 'InternalIP'), nodeAddress(node, 'ExternalIP'),
    info('osImage') || '<unknown>', info('kernelVersion') || '<unknown>', info('containerRuntimeVersion') || '<unknown>',
  ];
}

export function validateTaints(taints: Record<string, unknown>[], path: string): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  taints.forEach((taint, i) => {
    const idx = `${path}[${i}]`;
    const key = str(taint, 'key');
    for (const msg of isQualifiedName(key)) errs.push(invalidField(`${idx}.key`, key, msg));
    const value = str(taint, 'value');
    for (const msg of isValidLabelValue(value)) errs.push(invalidField(`${idx}.value`, value, msg));
    const effect = str(taint, 'effect');
    if (!effect) errs.push(requiredField(`${idx}.effect`));
    else if (!TAINT_EFFECTS.includes(effect)) errs.push(notSupportedField(`${idx}.effect`, effect, TAINT_EFFECTS));
    const id = `${key}\u0000${effect}`;
    if (seen.has(id)) errs.push(duplicateField(idx, taint));
    seen.add(id);
  });
  return errs;
}

export const nodeStrategy: ResourceStrategy = {
  group: '',
  version: 'v1',
  kind: 'Node',
  listKind: 'NodeList',
  resource: 'nodes',
  singular: 'node',
  shortNames: ['no'],
  categories: [],
  namespaced: false,
  verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
  storageResource: 'nodes',
  hasStatus: true,
  subresources: [],
  tracksGeneration: false,

  applyDefaults(node) {
    // SetDefaults_NodeStatus: allocatable defaults to capacity.
    const status = isPlainObject(node.status) ? node.status : undefined;
    if (status && isPlainObject(status.capacity) && status.allocatable === undefined) status.allocatable = { ...status.capacity };
  },
  validateName: nameIsDNSSubdomain,
  validate: (node) => validateTaints(list(node, 'spec', 'taints'), 'spec.taints'),
  validateUpdate: (node) => validateTaints(list(node, 'spec', 'taints'), 'spec.taints'),
  selectableFieldNames: ['spec.unschedulable'],
  selectableFields: (node) => ({ 'spec.unschedulable': String(isPlainObject(node.spec) && node.spec.unschedulable === true) }),
  table: {
    columns: [
      nameColumn(),
      column('Status', 'The status of the node'),
      column('Roles', 'The roles of the node'),
      ageColumn(),
      column('Version', 'Kubelet Version reported by the node.'),
      column('Internal-IP', 'List of addresses reachable to the node. Queried from cloud provider, if available. More info: https://kubernetes.io/docs/reference/node/node-status/#addresses Note: This field is declared as mergeable, but the merge key is not sufficiently unique, which can cause data corruption when it is merged. Callers should instead use a full-replacement patch. See https://pr.k8s.io/79391 for an example. Consumers should assume that addresses can change during the lifetime of a Node. However, there are some exceptions where this may not be possible, such as Pods that inherit a Node\'s address in its own status or consumers of the downward API (status.hostIP).', 1),
      column('External-IP', 'List of addresses reachable to the node. Queried from cloud provider, if available. More info: https://kubernetes.io/docs/reference/node/node-status/#addresses Note: This field is declared as mergeable, but the merge key is not sufficiently unique, which can cause data corruption when it is merged. Callers should instead use a full-replacement patch. See https://pr.k8s.io/79391 for an example. Consumers should assume that addresses can change during the lifetime of a Node. However, there are some exceptions where this may not be possible, such as Pods that inherit a Node\'s address in its own status or consumers of the downward API (status.hostIP).', 1),
      column('OS-Image', 'OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).', 1),
      column('Kernel-Version', "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).", 1),
      column('Container-Runtime', 'ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).', 1),
    ],
    cells: nodeCells,
  },
};
