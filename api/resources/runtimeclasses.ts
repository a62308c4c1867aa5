// node.k8s.io/v1 RuntimeClass (cluster-scoped): the container runtime configuration a pod names in
// spec.runtimeClassName. The RuntimeClass admission plugin (api/admission-plugins/runtime-class.ts) copies
// its overhead and scheduling constraints into the pod; kubelets refuse to create a sandbox for a class
// that does not exist. Validation worded as pkg/apis/node/validation, Table as printRuntimeClass.

import { invalidField, type FieldError } from '../errors.ts';
import { displayValue, isPlainObject, type KubeObject } from '../object.ts';
import type { ResourceStrategy } from '../resource.ts';
import { FIELD_IMMUTABLE_MESSAGE, validateLabels } from '../validation/object-meta.ts';
import { nameIsDNSLabel, nameIsDNSSubdomain } from '../validation/names.ts';
import { validateTolerations } from './pod-validation.ts';
import { age, ageColumn, column, list, nameColumn, str } from './printing.ts';
import { parseQuantity } from './quantity.ts';
import { containerResourceNameErrors } from './resource-names.ts';

type Json = Record<string, unknown>;

/** validateOverhead reuses ValidateResourceRequirements with the overhead as limits, hence the `limits` path. */
function validateOverhead(overhead: Json): FieldError[] {
  const errs: FieldError[] = [];
  const podFixed = isPlainObject(overhead.podFixed) ? overhead.podFixed : {};
  for (const [name, raw] of Object.entries(podFixed)) {
    const path = `overhead.limits[${name}]`;
    for (const msg of containerResourceNameErrors(name)) errs.push(invalidField(path, name, msg));
    const quantity = parseQuantity(raw);
    if (quantity !== undefined && quantity < 0) errs.push(invalidField(path, displayValue(raw), 'must be greater than or equal to 0'));
  }
  return errs;
}

function validateRuntimeClass(rc: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const handler = typeof rc.handler === 'string' ? rc.handler : '';
  for (const msg of nameIsDNSLabel(handler, false)) errs.push(invalidField('handler', handler, msg));
  if (isPlainObject(rc.overhead)) errs.push(...validateOverhead(rc.overhead));
  if (isPlainObject(rc.scheduling)) {
    const nodeSelector = rc.scheduling.nodeSelector;
    if (isPlainObject(nodeSelector)) errs.push(...validateLabels(nodeSelector as Record<string, string>, 'scheduling.nodeSelector'));
    errs.push(...validateTolerations(list(rc, 'scheduling', 'tolerations'), 'scheduling.tolerations'));
  }
  return errs;
}

export const runtimeClassStrategy: ResourceStrategy = {
  group: 'node.k8s.io',
  version: 'v1',
  kind: 'RuntimeClass',
  listKind: 'RuntimeClassList',
  resource: 'runtimeclasses',
  singular: 'runtimeclass',
  shortNames: [],
  categories: [],
  namespaced: false,
  verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
  storageResource: 'runtimeclasses',
  hasStatus: false,
  subresources: [],
  tracksGeneration: false,

  validateName: nameIsDNSSubdomain,
  validate: (rc) => validateRuntimeClass(rc),
  validateUpdate: (rc, old) => {
    const errs = validateRuntimeClass(rc);
    if (rc.handler !== old.handler) errs.push(invalidField('handler', rc.handler, FIELD_IMMUTABLE_MESSAGE));
    return errs;
  },
  selectableFieldNames: [],
  table: {
    columns: [
      nameColumn(),
      column('Handler', 'Handler is the name of the CRI handler used by the RuntimeClass.'),
      ageColumn(),
    ],
    cells: (rc, now) => [rc.metadata.name ?? '', str(rc, 'handler'), age(rc.metadata.creationTimestamp, now)],
  },
};
