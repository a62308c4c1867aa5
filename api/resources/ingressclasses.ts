// networking.k8s.io/v1 IngressClass: SetDefaults_IngressClass (parameters.scope Cluster),
// ValidateIngressClass/Update (a domain-prefixed controller of at most 250 characters, immutable;
// parameter references by scope) and printIngressClass. The class marked by the
// ingressclass.kubernetes.io/is-default-class annotation is the one the DefaultIngressClass
// admission plugin gives to new Ingresses without a class.

import { forbiddenField, invalidField, notSupportedField, requiredField, type FieldError } from '../errors.ts';
import { isPlainObject, type KubeObject } from '../object.ts';
import type { ResourceStrategy } from '../resource.ts';
import { isDNS1123Subdomain, nameIsDNSSubdomain, regexError } from '../validation/names.ts';
import { FIELD_IMMUTABLE_MESSAGE, validateNamespaceName } from '../validation/object-meta.ts';
import { validateTypedLocalObjectReference } from './ingress-validation.ts';
import { age, ageColumn, column, nameColumn, obj, str } from './printing.ts';
import { tooLongField } from './storage-validation.ts';

export const DEFAULT_INGRESS_CLASS_ANNOTATION = 'ingressclass.kubernetes.io/is-default-class';
const MAX_CONTROLLER_LENGTH = 250;
const SCOPES = ['Cluster', 'Namespace'];
const HTTP_PATH_FMT = "[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+";

/** IsDomainPrefixedPath: `acme.io/foo`. */
function validateDomainPrefixedPath(path: string, value: string): FieldError[] {
  if (value === '') return [requiredField(path)];
  const slash = value.indexOf('/');
  const host = slash < 0 ? value : value.slice(0, slash);
  const rest = slash < 0 ? '' : value.slice(slash + 1);
  if (slash < 0 || host === '' || rest === '') return [invalidField(path, value, 'must be a domain-prefixed path (such as "acme.io/foo")')];
  const errs = isDNS1123Subdomain(host).map((msg) => invalidField(path, host, msg));
  if (!new RegExp(`^${HTTP_PATH_FMT}$`).test(rest)) errs.push(invalidField(path, rest, regexError('Invalid path', HTTP_PATH_FMT)));
  return errs;
}

function validateSpec(ingressClass: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const controller = str(ingressClass, 'spec', 'controller');
  if (controller.length > MAX_CONTROLLER_LENGTH) errs.push(tooLongField('spec.controller', MAX_CONTROLLER_LENGTH));
  errs.push(...validateDomainPrefixedPath('spec.controller', controller));
  const params = obj(ingressClass, 'spec', 'parameters');
  if (params) {
    errs.push(...validateTypedLocalObjectReference(params, 'spec.parameters'));
    const scope = params.scope;
    if (scope === undefined || scope === null) {
      errs.push(requiredField('spec.parameters.scope'));
    } else if (!SCOPES.includes(String(scope))) {
      errs.push(notSupportedField('spec.parameters.scope', scope, SCOPES));
    } else if (scope === 'Namespace') {
      if (typeof params.namespace !== 'string') errs.push(requiredField('spec.parameters.namespace', "`parameters.scope` is set to 'Namespace'"));
      else errs.push(...validateNamespaceName(params.namespace).map((msg) => invalidField('spec.parameters.namespace', params.namespace, msg)));
    } else if (params.namespace !== undefined && params.namespace !== null) {
      errs.push(forbiddenField('spec.parameters.namespace', "`parameters.scope` is set to 'Cluster'"));
    }
  }
  return errs;
}

export const ingressClassStrategy: ResourceStrategy = {
  group: 'networking.k8s.io',
  version: 'v1',
  kind: 'IngressClass',
  listKind: 'IngressClassList',
  resource: 'ingressclasses',
  singular: 'ingressclass',
  shortNames: [],
  categories: [],
  namespaced: false,
  verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
  storageResource: 'ingressclasses',
  hasStatus: false,
  subresources: [],
  tracksGeneration: true,

  applyDefaults(ingressClass) {
    const params = obj(ingressClass, 'spec', 'parameters');
    if (params && (params.scope === undefined || params.scope === null)) params.scope = 'Cluster';
  },
  validateName: nameIsDNSSubdomain,
  validate: (ingressClass) => validateSpec(ingressClass),
  validateUpdate(ingressClass, old) {
    const errs: FieldError[] = [];
    const controller = str(ingressClass, 'spec', 'controller');
    if (controller !== str(old, 'spec', 'controller')) errs.push(invalidField('spec.controller', controller, FIELD_IMMUTABLE_MESSAGE));
    return [...errs, ...validateSpec(ingressClass)];
  },
  selectableFieldNames: [],
  table: {
    columns: [
      nameColumn(),
      column('Controller', 'Controller that is responsible for handling this class'),
      column('Parameters', 'A reference to a resource with additional parameters'),
      ageColumn(),
    ],
    cells: (ingressClass, now) => {
      const params = obj(ingressClass, 'spec', 'parameters');
      let parameters = '<none>';
      if (params && isPlainObject(params)) {
        parameters = str(params, 'kind');
        if (typeof params.apiGroup === 'string') parameters += `.${params.apiGroup}`;
        parameters += `/${str(params, 'name')}`;
      }
      return [ingressClass.metadata.name ?? '', str(ingressClass, 'spec', 'controller'), parameters, age(ingressClass.metadata.creationTimestamp, now)];
    },
  },
};
