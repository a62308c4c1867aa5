// The service-account controller and the root CA publisher of kube-controller-manager
// (pkg/controller/serviceaccount, pkg/controller/certificates/rootcacertpublisher): every active
// namespace gets a `default` ServiceAccount (re-created when deleted) and the `kube-root-ca.crt`
// ConfigMap holding the cluster CA (what the projected kube-api-access volume mounts as ca.crt).
// Runs through the API like every controller: lean informers, a rate-limited work queue per kind of work.

import type { KubernetesObject } from '@kubernetes/client-node';
import { loadKubeConfig } from '../clients/keep-alive-kubeconfig.ts';
import { ApiStatusError, JsonApiClient } from '../clients/json-api-client.ts';
import { startLeanInformer, type LeanInformer } from '../clients/lean-informer.ts';
import { componentUserAgent } from '../clients/user-agent.ts';
import { SyncQueue } from './framework/sync-queue.ts';
import type { ControllerLogger, RunningController } from './node-lifecycle.ts';

export const DEFAULT_SERVICE_ACCOUNT = 'default';
export const ROOT_CA_CONFIGMAP = 'kube-root-ca.crt';
const ROOT_CA_DESCRIPTION_ANNOTATION = 'kubernetes.io/description';
const ROOT_CA_DESCRIPTION = 'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.';

export interface ServiceAccountControllerOptions {
  kubeconfigPath: string;
  /** The CA bundle to publish; default: the kubeconfig cluster's certificate authority. */
  caCertPem?: string;
  logger?: ControllerLogger;
}

interface NamespaceObject extends KubernetesObject { status?: { phase?: string } }
interface ConfigMapObject extends KubernetesObject { data?: Record<string, string> }

export interface RunningServiceAccountController extends RunningController {
  /** Resolves once the informers have listed and the queue has drained (tests, `up` start-up). */
  settled(): Promise<void>;
}

export async function runServiceAccountController(options: ServiceAccountControllerOptions): Promise<RunningServiceAccountController> {
  const logger = options.logger ?? { info: console.error, warn: console.error };
  const kubeConfig = loadKubeConfig(options.kubeconfigPath);
  const caData = kubeConfig.getCurrentCluster()?.caData;
  const caCertPem = options.caCertPem ?? (caData ? Buffer.from(caData, 'base64').toString('utf8') : undefined);
  const client = new JsonApiClient(kubeConfig, componentUserAgent('kube-controller-manager'));
  const active = new Set<string>();
  // What the informers have seen, consulted before writing (as upstream's listers are): a start finds
  // every default account and CA ConfigMap there already and sends nothing.
  const namespacesWithAccount = new Set<string>();
  const publishedCa = new Map<string, string | undefined>();
  let caches: Promise<unknown> = Promise.resolve();

  const ensure = async (path: string, body: KubernetesObject): Promise<boolean> => {
    try {
      await client.request('POST', path, body);
      return true;
    } catch (err) {
      if (err instanceof ApiStatusError && err.code === 409) return false;
      // A namespace being terminated refuses new content: nothing to do there.
      if (err instanceof ApiStatusError && (err.code === 403 || err.code === 404) && !active.has(String(body.metadata?.namespace))) return false;
      throw err;
    }
  };

  const accounts = new SyncQueue(async (namespace) => {
    await caches;
    if (!active.has(namespace) || namespacesWithAccount.has(namespace)) return;
    if (await ensure(`/api/v1/namespaces/${namespace}/serviceaccounts`, {
      apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: DEFAULT_SERVICE_ACCOUNT, namespace },
    })) logger.info(`serviceaccount-controller: created ${namespace}/${DEFAULT_SERVICE_ACCOUNT}`);
  }, { onError: (key, err) => logger.warn(`serviceaccount-controller: ${key}: ${err instanceof Error ? err.message : String(err)}`) });

  const rootCa = new SyncQueue(async (namespace) => {
    await caches;
    if (!active.has(namespace) || !caCertPem || publishedCa.get(namespace) === caCertPem) return;
    const path = `/api/v1/namespaces/${namespace}/configmaps`;
    const desired = {
      apiVersion: 'v1', kind: 'ConfigMap',
      metadata: { name: ROOT_CA_CONFIGMAP, namespace, annotations: { [ROOT_CA_DESCRIPTION_ANNOTATION]: ROOT_CA_DESCRIPTION } },
      data: { 'ca.crt': caCertPem },
    };
    if (await ensure(path, desired)) return;
    const current = await client.request<ConfigMapObject>('GET', `${path}/${ROOT_CA_CONFIGMAP}`);
    if (current.data?.['ca.crt'] === caCertPem) return;
    await client.request('PUT', `${path}/${ROOT_CA_CONFIGMAP}`, { ...current, data: { ...(current.data ?? {}), 'ca.crt': caCertPem } });
  }, { onError: (key, err) => logger.warn(`root-ca-cert-publisher: ${key}: ${err instanceof Error ? err.message : String(err)}`) });

  const informerLogger = { info: (m: string) => logger.info(m), error: (m: string) => logger.warn(m) };
  const namespaceChanged = (ns: NamespaceObject) => {
    const name = ns.metadata?.name;
    if (!name) return;
    if (ns.status?.phase === 'Terminating' || ns.metadata?.deletionTimestamp) {
      active.delete(name);
      return;
    }
    active.add(name);
    accounts.add(name);
    rootCa.add(name);
  };
  const informers: LeanInformer[] = [
    startLeanInformer<NamespaceObject>(client, '/api/v1/namespaces', undefined, {
      add: namespaceChanged, update: namespaceChanged, delete: (ns) => { if (ns.metadata?.name) active.delete(ns.metadata.name); },
    }, informerLogger),
    // A deleted default account or CA ConfigMap comes back.
    startLeanInformer<KubernetesObject>(client, '/api/v1/serviceaccounts', `metadata.name=${DEFAULT_SERVICE_ACCOUNT}`, {
      add: (sa) => { if (sa.metadata?.namespace) namespacesWithAccount.add(sa.metadata.namespace); },
      update: (sa) => { if (sa.metadata?.namespace) namespacesWithAccount.add(sa.metadata.namespace); },
      delete: (sa) => {
        if (!sa.metadata?.namespace) return;
        namespacesWithAccount.delete(sa.metadata.namespace);
        accounts.add(sa.metadata.namespace);
      },
    }, informerLogger),
    startLeanInformer<ConfigMapObject>(client, '/api/v1/configmaps', `metadata.name=${ROOT_CA_CONFIGMAP}`, {
      add: (cm) => caConfigMapSeen(cm),
      update: (cm) => caConfigMapSeen(cm),
      delete: (cm) => {
        if (!cm.metadata?.namespace) return;
        publishedCa.delete(cm.metadata.namespace);
        rootCa.add(cm.metadata.namespace);
      },
    }, informerLogger),
  ];
  // Work waits for the account and ConfigMap caches (upstream: WaitForCacheSync before the workers start).
  caches = Promise.all([informers[1].synced, informers[2].synced]);
  caches.catch(() => undefined);

  function caConfigMapSeen(cm: ConfigMapObject): void {
    const namespace = cm.metadata?.namespace;
    if (!namespace) return;
    publishedCa.set(namespace, cm.data?.['ca.crt']);
    if (cm.data?.['ca.crt'] !== caCertPem) rootCa.add(namespace);
  }

  return {
    async settled() {
      await Promise.all(informers.map((i) => i.synced));
      await Promise.all([accounts.idle(), rootCa.idle()]);
    },
    async stop() {
      accounts.stop();
      rootCa.stop();
      await Promise.all(informers.map((i) => i.stop()));
      client.close();
    },
  };
}
