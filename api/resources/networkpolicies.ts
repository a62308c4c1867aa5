// networking.k8s.io/v1 NetworkPolicy (netpol), as pkg/registry/networking/networkpolicy serves it in 1.32:
// no status, generation bumped by spec changes, SetDefaults_NetworkPolicy / SetDefaults_NetworkPolicyPort,
// ValidateNetworkPolicy on create and update, printNetworkPolicy for the Table. Policies are stored and
// served only: kubefacade carries no pod traffic, so nothing enforces them (as on a cluster whose network
// plugin does not implement NetworkPolicy).

import { isPlainObject, type KubeObject } from '../object.ts';
import type { ResourceStrategy } from '../resource.ts';
import { nameIsDNSSubdomain } from '../validation/names.ts';
import { validateNetworkPolicySpec } from './network-policy-validation.ts';
import { age, ageColumn, column, nameColumn, obj } from './printing.ts';
import { labelSelectorIsValid } from './workload-validation.ts';
import { formatLabelSelector } from './workload-printing.ts';

type Json = Record<string, unknown>;

// extensions/v1beta1 NetworkPolicySpec's SwaggerDoc for podSelector, which printers.go uses for the column.
const POD_SELECTOR_DESCRIPTION = 'Selects the pods to which this NetworkPolicy object applies. The array of ingress rules is applied to any pods selected by this field. Multiple network policies can select the same set of pods. In this case, the ingress rules for each are combined additively. This field is NOT optional and follows standard label selector semantics. An empty podSelector matches all pods in this namespace.';

function specOf(object: KubeObject): Json {
  if (!isPlainObject(object.spec)) object.spec = {};
  return object.spec as Json;
}

function rules(spec: Json, direction: 'ingress' | 'egress'): Json[] {
  const value = spec[direction];
  return Array.isArray(value) ? value.filter(isPlainObject) : [];
}

/** SetDefaults_NetworkPolicyPort (protocol TCP) and SetDefaults_NetworkPolicy (policyTypes from the rules present). */
function applyNetworkPolicyDefaults(policy: KubeObject): void {
  const spec = specOf(policy);
  for (const rule of [...rules(spec, 'ingress'), ...rules(spec, 'egress')]) {
    if (!Array.isArray(rule.ports)) continue;
    for (const port of rule.ports) {
      if (isPlainObject(port) && (port.protocol === undefined || port.protocol === null)) port.protocol = 'TCP';
    }
  }
  if (!Array.isArray(spec.policyTypes) || spec.policyTypes.length === 0) {
    // Any policy that does not specify policyTypes implies at least "Ingress".
    spec.policyTypes = Array.isArray(spec.egress) && spec.egress.length > 0 ? ['Ingress', 'Egress'] : ['Ingress'];
  }
  // The Go type's podSelector is a struct, not a pointer: it always encodes, as {} when empty.
  if (!isPlainObject(spec.podSelector)) spec.podSelector = {};
}

export const networkPolicyStrategy: ResourceStrategy = {
  group: 'networking.k8s.io',
  version: 'v1',
  kind: 'NetworkPolicy',
  listKind: 'NetworkPolicyList',
  resource: 'networkpolicies',
  singular: 'networkpolicy',
  shortNames: ['netpol'],
  categories: [],
  namespaced: true,
  verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
  storageResource: 'networkpolicies',
  hasStatus: false,
  subresources: [],
  tracksGeneration: true,
  zeroValueRequiredFields: ['spec.podSelector', 'spec.ingress[*].from[*].ipBlock.cidr', 'spec.egress[*].to[*].ipBlock.cidr'],

  applyDefaults: applyNetworkPolicyDefaults,
  validateName: nameIsDNSSubdomain,
  validate: (policy) => validateNetworkPolicySpec(specOf(policy), {}),
  validateUpdate(policy, old) {
    // ValidationOptionsForNetworking: selectors may keep invalid label values when the stored podSelector has them.
    const options = { allowInvalidLabelValueInSelector: !labelSelectorIsValid(obj(old, 'spec', 'podSelector')) };
    // The strategy runs ValidateNetworkPolicy and ValidateNetworkPolicyUpdate, which both check the spec:
    // every spec error is reported twice (the message prints it once).
    const spec = specOf(policy);
    return [...validateNetworkPolicySpec(spec, options), ...validateNetworkPolicySpec(spec, options)];
  },
  selectableFieldNames: [],
  table: {
    columns: [nameColumn(), column('Pod-Selector', POD_SELECTOR_DESCRIPTION), ageColumn()],
    cells: (policy, now) => [
      policy.metadata.name ?? '',
      formatLabelSelector(obj(policy, 'spec', 'podSelector') ?? {}),
      age(policy.metadata.creationTimestamp, now),
    ],
  },
};
