// apiextensions.k8s.io/v1 CustomResourceDefinition (cluster-scoped), after
// k8s.io/apiextensions-apiserver/pkg/registry/customresourcedefinition: status reset on create with
// the storage version recorded in status.storedVersions, new storage versions appended on update,
// v1 defaulting (singular, listKind, conversion None), and deletion held by the
// customresourcecleanup finalizer until the instances are gone (api/customresources/controller.ts).
// Serving the custom resources themselves is api/customresources/.

import { invalidField } from '../errors.ts';
import { isPlainObject, type KubeObject } from '../object.ts';
import type { ResourceStrategy } from '../resource.ts';
import { nameIsDNSSubdomain } from '../validation/names.ts';
import {
  CLEANUP_FINALIZER, CRD_GROUP, asCrd, setCondition, storageVersionOf,
} from '../customresources/types.ts';
import { validateCrdSpec, validateCrdSpecUpdate, validateCrdStatus, validateStoredVersions } from './crd-validation.ts';
import { DESCRIPTIONS, column, nameColumn, str } from './printing.ts';

function validateName(object: KubeObject) {
  const crd = asCrd(object);
  const name = object.metadata.name ?? '';
  if (name && name !== `${crd.spec.names.plural}.${crd.spec.group}`) {
    return [invalidField('metadata.name', name, 'must be spec.names.plural+"."+spec.group')];
  }
  return [];
}

export const customResourceDefinitionStrategy: ResourceStrategy = {
  group: CRD_GROUP,
  version: 'v1',
  kind: 'CustomResourceDefinition',
  listKind: 'CustomResourceDefinitionList',
  resource: 'customresourcedefinitions',
  singular: 'customresourcedefinition',
  shortNames: ['crd', 'crds'],
  categories: ['api-extensions'],
  namespaced: false,
  verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
  storageResource: `${CRD_GROUP}/customresourcedefinitions`,
  hasStatus: true,
  subresources: [],
  tracksGeneration: true,

  prepareForCreate(object) {
    const crd = asCrd(object);
    const storage = storageVersionOf(crd);
    crd.status = { acceptedNames: { plural: '', kind: '' }, storedVersions: storage ? [storage] : [] };
  },
  prepareForUpdate(object) {
    const crd = asCrd(object);
    const storage = storageVersionOf(crd);
    if (!storage) return;
    crd.status ??= {};
    const stored = crd.status.storedVersions ??= [];
    if (!stored.includes(storage)) stored.push(storage);
  },
  applyDefaults(object) {
    const crd = asCrd(object);
    const names = crd.spec.names;
    if (!names.singular && names.kind) names.singular = names.kind.toLowerCase();
    if (!names.listKind && names.kind) names.listKind = `${names.kind}List`;
    if (!isPlainObject(crd.spec.conversion)) crd.spec.conversion = { strategy: 'None' };
    const service = crd.spec.conversion.webhook?.clientConfig?.service;
    if (service && service.port === undefined) service.port = 443;
  },
  validateName: nameIsDNSSubdomain,
  validate: (object) => [...validateName(object), ...validateCrdSpec(asCrd(object)), ...validateCrdStatus(asCrd(object))],
  validateUpdate: (object, old) => [
    ...validateCrdSpecUpdate(asCrd(object), asCrd(old)), ...validateCrdStatus(asCrd(object)), ...validateStoredVersions(asCrd(object)),
  ],
  validateStatusUpdate: (object) => [...validateCrdStatus(asCrd(object)), ...validateStoredVersions(asCrd(object))],

  // The first delete adds the cleanup finalizer and the Terminating condition: the object stays
  // until the custom resources are deleted (etcd.go's REST.Delete in the upstream registry).
  pendingFinalization: (object) => !object.metadata.deletionTimestamp,
  prepareForDelete(object, ctx) {
    const finalizers = object.metadata.finalizers ??= [];
    if (!finalizers.includes(CLEANUP_FINALIZER)) finalizers.push(CLEANUP_FINALIZER);
    setCondition(asCrd(object), {
      type: 'Terminating', status: 'True', reason: 'InstanceDeletionPending',
      message: 'CustomResourceDefinition marked for deletion; CustomResource deletion will begin soon',
    }, ctx.now);
  },
  table: {
    columns: [nameColumn(), { ...column('Created At', DESCRIPTIONS.creationTimestamp), type: 'date' }],
    cells: (crd) => [crd.metadata.name ?? '', str(crd, 'metadata', 'creationTimestamp')],
  },
};
