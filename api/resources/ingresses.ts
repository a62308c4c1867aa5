// networking.k8s.io/v1 Ingress (ing): status reset on create (loadBalancer: {}) and kept by the
// main resource, ValidateIngressCreate/Update (the defaultBackend/rules checks, the legacy
// kubernetes.io/ingress.class annotation matching ingressClassName), the load-balancer status
// check and printIngress. An ingress controller writes /status.

import { invalidField, type FieldError } from '../errors.ts';
import { isPlainObject, type KubeObject } from '../object.ts';
import type { ResourceStrategy } from '../resource.ts';
import { nameIsDNSSubdomain } from '../validation/names.ts';
import { validateIngressLoadBalancerStatus, validateIngressSpec } from './ingress-validation.ts';
import { age, ageColumn, column, list, nameColumn, str } from './printing.ts';

export const INGRESS_CLASS_ANNOTATION = 'kubernetes.io/ingress.class';

function specOf(object: KubeObject): Record<string, unknown> {
  if (!isPlainObject(object.spec)) object.spec = {};
  return object.spec as Record<string, unknown>;
}

/** formatHosts: up to three hosts, then "+ N more...", "*" when no rule names one. */
function hostsText(ingress: KubeObject): string {
  const rules = list(ingress, 'spec', 'rules');
  const hosts: string[] = [];
  let more = false;
  for (const rule of rules) {
    if (hosts.length === 3) more = true;
    if (!more && typeof rule.host === 'string' && rule.host !== '') hosts.push(rule.host);
  }
  if (hosts.length === 0) return '*';
  return more ? `${hosts.join(',')} + ${rules.length - 3} more...` : hosts.join(',');
}

/** ingressLoadBalancerStatusStringer (wide): each IP, or else hostname, once. */
function addressText(ingress: KubeObject): string {
  const seen = new Set<string>();
  for (const entry of list(ingress, 'status', 'loadBalancer', 'ingress')) {
    const value = str(entry, 'ip') || str(entry, 'hostname');
    if (value) seen.add(value);
  }
  return [...seen].join(',');
}

export const ingressStrategy: ResourceStrategy = {
  group: 'networking.k8s.io',
  version: 'v1',
  kind: 'Ingress',
  listKind: 'IngressList',
  resource: 'ingresses',
  singular: 'ingress',
  shortNames: ['ing'],
  categories: [],
  namespaced: true,
  verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
  storageResource: 'ingress',
  hasStatus: true,
  subresources: [],
  tracksGeneration: true,

  prepareForCreate(ingress) {
    ingress.status = { loadBalancer: {} };
  },
  validateName: nameIsDNSSubdomain,
  validate(ingress) {
    const errs = validateIngressSpec(specOf(ingress));
    const annotation = ingress.metadata.annotations?.[INGRESS_CLASS_ANNOTATION];
    const className = specOf(ingress).ingressClassName;
    if (annotation !== undefined && typeof className === 'string' && annotation !== className) {
      errs.push(invalidField(`annotations.${INGRESS_CLASS_ANNOTATION}`, annotation, 'must match `ingressClassName` when both are specified'));
    }
    return errs;
  },
  validateUpdate: (ingress): FieldError[] => validateIngressSpec(specOf(ingress)),
  validateStatusUpdate: (ingress) => validateIngressLoadBalancerStatus(ingress.status),
  selectableFieldNames: [],
  table: {
    columns: [
      nameColumn(),
      column('Class', 'The name of the IngressClass resource that should be used for additional configuration'),
      column('Hosts', 'Hosts that incoming requests are matched against before the ingress rule'),
      column('Address', 'Address is a list containing ingress points for the load-balancer'),
      column('Ports', 'Ports of TLS configurations that open'),
      ageColumn(),
    ],
    cells: (ingress, now) => [
      ingress.metadata.name ?? '',
      str(ingress, 'spec', 'ingressClassName') || '<none>',
      hostsText(ingress),
      addressText(ingress),
      list(ingress, 'spec', 'tls').length > 0 ? '80, 443' : '80',
      age(ingress.metadata.creationTimestamp, now),
    ],
  },
};
