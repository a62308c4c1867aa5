// core/v1 Namespace (cluster-scoped). Modelled on pkg/registry/core/namespace/strategy.go: phase
// Active on create, the `kubernetes` finalizer, the kubernetes.io/metadata.name label.

import { isPlainObject, type KubeObject } from '../object.ts';
import type { ResourceStrategy } from '../resource.ts';
import { nameIsDNSLabel } from '../validation/names.ts';
import { age, ageColumn, column, field, nameColumn, str } from './printing.ts';

export const FINALIZER_KUBERNETES = 'kubernetes';
export const LABEL_METADATA_NAME = 'kubernetes.io/metadata.name';

function specOf(namespace: KubeObject): Record<string, unknown> {
  if (!isPlainObject(namespace.spec)) namespace.spec = {};
  return namespace.spec as Record<string, unknown>;
}

/**
 * What the store does instead of removing a namespace at once: set deletionTimestamp and phase
 * Terminating; the namespace controller (or the store, once empty) removes it when its
 * finalizers are gone. Returns a new object.
 */
export function markNamespaceTerminating(namespace: KubeObject, now: Date): KubeObject {
  const copy = structuredClone(namespace);
  copy.metadata.deletionTimestamp ??= now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  copy.metadata.deletionGracePeriodSeconds ??= 0;
  copy.status = { ...(isPlainObject(copy.status) ? copy.status : {}), phase: 'Terminating' };
  return copy;
}

export const namespaceStrategy: ResourceStrategy = {
  group: '',
  version: 'v1',
  kind: 'Namespace',
  listKind: 'NamespaceList',
  resource: 'namespaces',
  singular: 'namespace',
  shortNames: ['ns'],
  categories: [],
  namespaced: false,
  verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
  storageResource: 'namespaces',
  hasStatus: true,
  // The namespace controller's way to drop spec.finalizers (served by server/subresources.ts).
  subresources: [{ name: 'finalize', kind: 'Namespace', verbs: ['update'] }],
  tracksGeneration: false,

  prepareForCreate(namespace) {
    namespace.status = { phase: 'Active' };
    const spec = specOf(namespace);
    const finalizers = Array.isArray(spec.finalizers) ? spec.finalizers : [];
    if (!finalizers.includes(FINALIZER_KUBERNETES)) finalizers.push(FINALIZER_KUBERNETES);
    spec.finalizers = finalizers;
  },
  prepareForUpdate(namespace, old) {
    // spec.finalizers only change through the finalize subresource.
    const oldFinalizers = isPlainObject(old.spec) ? old.spec.finalizers : undefined;
    const spec = specOf(namespace);
    if (oldFinalizers === undefined) delete spec.finalizers;
    else spec.finalizers = structuredClone(oldFinalizers);
  },
  applyDefaults(namespace) {
    if (namespace.metadata.name) {
      namespace.metadata.labels = { ...(namespace.metadata.labels ?? {}), [LABEL_METADATA_NAME]: namespace.metadata.name };
    }
    if (isPlainObject(namespace.status) && !namespace.status.phase) namespace.status.phase = 'Active';
  },
  validateName: nameIsDNSLabel,
  prepareForDelete(namespace) {
    namespace.status = { ...(isPlainObject(namespace.status) ? namespace.status : {}), phase: 'Terminating' };
  },
  // The namespace stays (Terminating) until the namespace controller empties spec.finalizers.
  finalizationPendingMessage: 'The system is ensuring all content is removed from this namespace.  Upon completion, this namespace will automatically be purged by the system.',
  returnDeletedObject: true,
  pendingFinalization: (namespace) => Array.isArray(field(namespace, 'spec', 'finalizers')) && (field(namespace, 'spec', 'finalizers') as unknown[]).length > 0,
  selectableFieldNames: ['status.phase'],
  selectableFields: (namespace) => ({ 'status.phase': str(namespace, 'status', 'phase') }),
  table: {
    columns: [nameColumn(), column('Status', 'The status of the namespace'), ageColumn()],
    cells: (namespace, now) => [namespace.metadata.name ?? '', str(namespace, 'status', 'phase'), age(namespace.metadata.creationTimestamp, now)],
  },
};
