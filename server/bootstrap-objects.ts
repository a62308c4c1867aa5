// The objects a kube-apiserver makes for itself at start, before it serves: the default namespaces, their
// `default` service accounts and `kube-root-ca.crt` ConfigMaps (the controller manager's work in a cluster, there
// before the first pod here), and the system priority classes (the scheduling post-start hook). Each is created only
// when missing, with the server's own constants (no decoding check), so that a warm start writes and compiles nothing.

import { StatusError } from '../api/errors.ts';
import type { KubeObject } from '../api/object.ts';
import type { ApiRegistry } from '../api/registry/registry.ts';
import type { GenericStore } from '../api/registry/store.ts';
import { ADMIN_SYSTEM_USER } from '../api/registry/system-user.ts';
import { SYSTEM_PRIORITY_CLASSES, systemPriorityClassObject } from '../api/resources/priorityclasses.ts';

export const DEFAULT_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

export async function ensureDefaultNamespaces(registry: ApiRegistry): Promise<void> {
  const namespaces = registry.lookup('', 'v1', 'namespaces');
  if (!namespaces) return;
  for (const name of DEFAULT_NAMESPACES) {
    // Looked up first: on a warm start they exist, and a create would compile the kind's validator
    // (a tenth of a second of CPU) only to be refused with AlreadyExists.
    if (await exists(namespaces, '', name)) continue;
    try {
      await namespaces.create(
        { user: ADMIN_SYSTEM_USER, namespace: '', now: new Date() },
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name } },
        { dryRun: false, fieldValidation: 'Strict', internal: true },
      );
    } catch (err) {
      if (!(err instanceof StatusError && err.reason === 'AlreadyExists')) throw err;
    }
  }
}

/**
 * system-node-critical and system-cluster-critical, as kube-apiserver's scheduling post-start hook creates
 * them (after security, so the Priority plugin's checks apply to them as to any class).
 */
export async function ensureSystemPriorityClasses(registry: ApiRegistry): Promise<void> {
  const priorityClasses = registry.lookup('scheduling.k8s.io', 'v1', 'priorityclasses');
  if (!priorityClasses) return;
  for (const pc of SYSTEM_PRIORITY_CLASSES) {
    if (await exists(priorityClasses, '', pc.name)) continue;
    try {
      await priorityClasses.create({ user: ADMIN_SYSTEM_USER, namespace: '', now: new Date() }, systemPriorityClassObject(pc),
        { dryRun: false, fieldValidation: 'Strict', internal: true });
    } catch (err) {
      if (!(err instanceof StatusError && err.reason === 'AlreadyExists')) throw err;
    }
  }
}

/**
 * The `default` service account and the `kube-root-ca.crt` ConfigMap of the built-in namespaces, there
 * before the first pod as in a cluster whose controller manager is up (the service-account controller and
 * the root CA publisher keep every namespace's, and bring back what is deleted).
 */
export async function ensureDefaultServiceAccounts(registry: ApiRegistry, caCertPem: string): Promise<void> {
  const accounts = registry.lookup('', 'v1', 'serviceaccounts');
  const configMaps = registry.lookup('', 'v1', 'configmaps');
  for (const namespace of DEFAULT_NAMESPACES) {
    const ctx = { user: ADMIN_SYSTEM_USER, namespace, now: new Date() };
    const objects: [typeof accounts, KubeObject][] = [
      [accounts, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default' } }],
      [configMaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kube-root-ca.crt' }, data: { 'ca.crt': caCertPem } }],
    ];
    for (const [store, object] of objects) {
      if (!store || await exists(store, namespace, object.metadata.name!)) continue;
      try {
        await store.create(ctx, object, { dryRun: false, fieldValidation: 'Strict', internal: true });
      } catch (err) {
        if (!(err instanceof StatusError && err.reason === 'AlreadyExists')) throw err;
      }
    }
  }
}

async function exists(store: GenericStore, namespace: string, name: string): Promise<boolean> {
  try {
    await store.get(namespace, name);
    return true;
  } catch (err) {
    if (err instanceof StatusError && err.reason === 'NotFound') return false;
    throw err;
  }
}
