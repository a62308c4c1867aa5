// The persistentvolume controller's binding part (pkg/controller/volume/persistentvolume/pv_controller.go):
// a new volume without a claim becomes Available; a Pending claim without a volume is bound to the
// smallest Available volume that matches it (storage class, access modes, volume mode, selector,
// capacity), both sides marked as upstream marks them (claimRef and bound-by-controller on the
// volume, volumeName and bind-completed on the claim, phase Bound on both, the claim's capacity and
// access modes from the volume); a bound volume whose claim is gone becomes Released. Dynamic
// provisioning, WaitForFirstConsumer classes (left to the scheduler upstream), recycling and
// deletion of released volumes are not done: such claims stay Pending.

import type { KubernetesObject } from '@kubernetes/client-node';
import { ApiStatusError, JsonApiClient } from '../clients/json-api-client.ts';
import { loadKubeConfig } from '../clients/keep-alive-kubeconfig.ts';
import { startLeanInformer, type LeanInformer } from '../clients/lean-informer.ts';
import { componentUserAgent } from '../clients/user-agent.ts';
import { SyncQueue } from './framework/sync-queue.ts';
import { parseQuantity } from '../api/resources/quantity.ts';
import { isLabelSelector, selectorMatches } from './framework/label-selector.ts';
import type { ControllerLogger, RunningController } from './node-lifecycle.ts';

interface ClaimRef { kind?: string; namespace?: string; name?: string; uid?: string; apiVersion?: string; resourceVersion?: string }
interface Volume extends KubernetesObject {
  spec?: { capacity?: Record<string, string>; accessModes?: string[]; claimRef?: ClaimRef; storageClassName?: string; volumeMode?: string };
  status?: { phase?: string };
}
interface Claim extends KubernetesObject {
  spec?: { accessModes?: string[]; resources?: { requests?: Record<string, string> }; storageClassName?: string | null; volumeName?: string; volumeMode?: string; selector?: unknown };
  status?: { phase?: string };
}
interface StorageClass extends KubernetesObject { volumeBindingMode?: string }

const ANN_BOUND_BY_CONTROLLER = 'pv.kubernetes.io/bound-by-controller';
const ANN_BIND_COMPLETED = 'pv.kubernetes.io/bind-completed';
const PV_PATH = '/api/v1/persistentvolumes';

export interface PersistentVolumeBinderOptions {
  kubeconfigPath: string;
  logger?: ControllerLogger;
}

export interface RunningPersistentVolumeBinder extends RunningController {
  idle(): Promise<void>;
}

const claimKey = (claim: KubernetesObject) => `${claim.metadata?.namespace}/${claim.metadata?.name}`;
const storage = (quantities: Record<string, string> | undefined): number => parseQuantity(quantities?.storage) ?? 0;

/** findMatchingVolume: the smallest Available volume the claim fits, or undefined. */
export function matchingVolume(claim: Claim, volumes: Volume[]): Volume | undefined {
  const wanted = storage(claim.spec?.resources?.requests);
  const className = claim.spec?.storageClassName ?? '';
  const modes = claim.spec?.accessModes ?? [];
  const volumeMode = claim.spec?.volumeMode ?? 'Filesystem';
  const selector = isLabelSelector(claim.spec?.selector) ? claim.spec.selector : undefined;
  const fits = volumes.filter((volume) => {
    const ref = volume.spec?.claimRef;
    const free = !ref || (ref.namespace === claim.metadata?.namespace && ref.name === claim.metadata?.name && (!ref.uid || ref.uid === claim.metadata?.uid));
    return free && volume.status?.phase === 'Available' && !volume.metadata?.deletionTimestamp
      && (volume.spec?.storageClassName ?? '') === className
      && modes.every((mode) => (volume.spec?.accessModes ?? []).includes(mode))
      && (volume.spec?.volumeMode ?? 'Filesystem') === volumeMode
      && storage(volume.spec?.capacity) >= wanted
      && (!selector || selectorMatches(selector, volume.metadata?.labels));
  });
  fits.sort((a, b) => storage(a.spec?.capacity) - storage(b.spec?.capacity));
  return fits[0];
}

export async function runPersistentVolumeBinder(options: PersistentVolumeBinderOptions): Promise<RunningPersistentVolumeBinder> {
  const logger = options.logger ?? { info: console.error, warn: console.error };
  const client = new JsonApiClient(loadKubeConfig(options.kubeconfigPath), componentUserAgent('kube-controller-manager'));
  const volumes = new Map<string, Volume>();
  const claims = new Map<string, Claim>();
  const classes = new Map<string, StorageClass>();

  const setVolumePhase = async (volume: Volume, phase: string): Promise<Volume> =>
    client.request<Volume>('PUT', `${PV_PATH}/${volume.metadata?.name}/status`, { ...volume, status: { ...volume.status, phase } });

  const syncVolume = async (name: string): Promise<void> => {
    const volume = volumes.get(name);
    if (!volume || volume.metadata?.deletionTimestamp) return;
    const ref = volume.spec?.claimRef;
    if (!ref) {
      if (volume.status?.phase === 'Pending' || volume.status?.phase === undefined) await setVolumePhase(volume, 'Available');
      return;
    }
    const claim = claims.get(`${ref.namespace}/${ref.name}`);
    if (!claim || (ref.uid && claim.metadata?.uid !== ref.uid)) {
      // Only a volume that was bound is released; a pre-bound one waits for its claim.
      if (ref.uid && volume.status?.phase === 'Bound') await setVolumePhase(volume, 'Released');
      else if (!ref.uid && (volume.status?.phase === 'Pending' || volume.status?.phase === undefined)) await setVolumePhase(volume, 'Available');
      return;
    }
    if (claim.spec?.volumeName === name && volume.status?.phase !== 'Bound') await setVolumePhase(volume, 'Bound');
  };

  const bind = async (claim: Claim, volume: Volume): Promise<void> => {
    const namespace = claim.metadata?.namespace ?? '';
    const name = claim.metadata?.name ?? '';
    // 1. The volume points at the claim.
    let bound = volume;
    if (volume.spec?.claimRef?.uid !== claim.metadata?.uid) {
      bound = await client.request<Volume>('PUT', `${PV_PATH}/${volume.metadata?.name}`, {
        ...volume,
        metadata: { ...volume.metadata, annotations: { ...volume.metadata?.annotations, [ANN_BOUND_BY_CONTROLLER]: 'yes' } },
        spec: { ...volume.spec, claimRef: { kind: 'PersistentVolumeClaim', namespace, name, uid: claim.metadata?.uid, apiVersion: 'v1', resourceVersion: claim.metadata?.resourceVersion } },
      });
    }
    // 2. The volume is Bound.
    if (bound.status?.phase !== 'Bound') bound = await setVolumePhase(bound, 'Bound');
    // 3. The claim names the volume.
    let updated = claim;
    if (claim.spec?.volumeName !== volume.metadata?.name) {
      updated = await client.request<Claim>('PUT', `/api/v1/namespaces/${namespace}/persistentvolumeclaims/${name}`, {
        ...claim,
        metadata: { ...claim.metadata, annotations: { ...claim.metadata?.annotations, [ANN_BIND_COMPLETED]: 'yes', [ANN_BOUND_BY_CONTROLLER]: 'yes' } },
        spec: { ...claim.spec, volumeName: volume.metadata?.name },
      });
    }
    // 4. The claim is Bound, with the volume's capacity and access modes.
    await client.request('PUT', `/api/v1/namespaces/${namespace}/persistentvolumeclaims/${name}/status`, {
      ...updated, status: { ...updated.status, phase: 'Bound', accessModes: bound.spec?.accessModes, capacity: bound.spec?.capacity },
    });
    logger.info(`persistentvolume-binder: bound claim ${namespace}/${name} to volume ${volume.metadata?.name}`);
  };

  const syncClaim = async (key: string): Promise<void> => {
    const claim = claims.get(key);
    if (!claim || claim.metadata?.deletionTimestamp) return;
    const volumeName = claim.spec?.volumeName;
    if (volumeName) {
      const volume = volumes.get(volumeName);
      if (!volume) {
        if (claim.status?.phase === 'Bound') {
          const { namespace, name } = claim.metadata ?? {};
          await client.request('PUT', `/api/v1/namespaces/${namespace}/persistentvolumeclaims/${name}/status`, { ...claim, status: { ...claim.status, phase: 'Lost' } });
        }
        return;
      }
      const ref = volume.spec?.claimRef;
      const ours = ref && ref.namespace === claim.metadata?.namespace && ref.name === claim.metadata?.name;
      if ((!ref || ours) && claim.status?.phase !== 'Bound') await bind(claim, volume);
      return;
    }
    if (claim.status?.phase !== 'Pending') return;
    const className = claim.spec?.storageClassName ?? '';
    if (className && classes.get(className)?.volumeBindingMode === 'WaitForFirstConsumer') return;
    const volume = matchingVolume(claim, [...volumes.values()]);
    if (volume) await bind(claim, volume);
  };

  const sync = async (key: string): Promise<void> => {
    try {
      if (key.startsWith('pv:')) await syncVolume(key.slice(3));
      else await syncClaim(key.slice(4));
    } catch (err) {
      // A stale copy: the informer brings the newer one and queues the key again.
      if (err instanceof ApiStatusError && (err.code === 409 || err.code === 404)) return;
      throw err;
    }
  };
  const queue = new SyncQueue(sync, { workers: 1, onError: (key, err) => logger.warn(`persistentvolume-binder: ${key}: ${err instanceof Error ? err.message : String(err)}`) });
  const queuePendingClaims = () => {
    for (const [key, claim] of claims) if (claim.status?.phase !== 'Bound') queue.add(`pvc:${key}`);
  };
  const log = { info: (m: string) => logger.info(m), error: (m: string) => logger.warn(m) };
  const informers: LeanInformer[] = [
    startLeanInformer<StorageClass>(client, '/apis/storage.k8s.io/v1/storageclasses', undefined, {
      add: (sc) => { classes.set(sc.metadata?.name ?? '', sc); }, update: (sc) => { classes.set(sc.metadata?.name ?? '', sc); },
      delete: (sc) => { classes.delete(sc.metadata?.name ?? ''); },
    }, log),
    startLeanInformer<Volume>(client, PV_PATH, undefined, {
      add: (volume) => { volumes.set(volume.metadata?.name ?? '', volume); queue.add(`pv:${volume.metadata?.name}`); queuePendingClaims(); },
      update: (volume) => { volumes.set(volume.metadata?.name ?? '', volume); queue.add(`pv:${volume.metadata?.name}`); queuePendingClaims(); },
      delete: (volume) => { volumes.delete(volume.metadata?.name ?? ''); queuePendingClaims(); },
    }, log),
    startLeanInformer<Claim>(client, '/api/v1/persistentvolumeclaims', undefined, {
      add: (claim) => { claims.set(claimKey(claim), claim); queue.add(`pvc:${claimKey(claim)}`); },
      update: (claim) => { claims.set(claimKey(claim), claim); queue.add(`pvc:${claimKey(claim)}`); },
      delete: (claim) => {
        claims.delete(claimKey(claim));
        const volumeName = claim.spec?.volumeName;
        if (volumeName) queue.add(`pv:${volumeName}`);
      },
    }, log),
  ];
  await Promise.all(informers.map((informer) => informer.synced));
  return {
    idle: () => queue.idle(),
    async stop() {
      queue.stop();
      await Promise.all(informers.map((informer) => informer.stop()));
      client.close();
    },
  };
}
