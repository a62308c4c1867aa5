// The StatefulSet controller's PersistentVolumeClaims (volumeClaimTemplates) against a real API server
// with the statefulset, persistentvolume-binder and garbage collector controllers; the test plays the
// kubelet (pod phase and readiness through pods/status).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { runControllerManager, type RunningControllerManager } from '../controllers/manager.ts';
import { claimOwnersUpToDate, updatedClaimOwners } from '../controllers/statefulset/statefulset-claims.ts';
import type { WorkloadObject } from '../controllers/framework/object-views.ts';
import { eventually } from './helpers/cluster-processes.ts';
import { json, startTestServer, type TestServer } from './helpers/api-server.ts';

const APPS = '/apis/apps/v1/namespaces/default';
const CORE = '/api/v1/namespaces/default';

interface Meta { name: string; uid: string; labels?: Record<string, string>; ownerReferences?: { kind: string; name: string; uid: string; controller?: boolean }[]; deletionTimestamp?: string }

function statefulSet(name: string, replicas: number, retention?: Record<string, string>): Record<string, unknown> {
  return {
    apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name },
    spec: {
      replicas, serviceName: name, selector: { matchLabels: { app: name } },
      ...(retention ? { persistentVolumeClaimRetentionPolicy: retention } : {}),
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'c', image: 'nginx', volumeMounts: [{ name: 'data', mountPath: '/data' }] }] },
      },
      volumeClaimTemplates: [{
        metadata: { name: 'data', labels: { tier: 'storage' } },
        spec: { accessModes: ['ReadWriteOnce'], storageClassName: '', resources: { requests: { storage: '1Gi' } } },
      }],
    },
  };
}

describe('StatefulSet volumeClaimTemplates', () => {
  let t: TestServer;
  let manager: RunningControllerManager;

  before(async () => {
    t = await startTestServer('sts-claims');
    manager = await runControllerManager({
      kubeconfigPath: t.server.adminKubeconfigPath, controllers: ['statefulset', 'garbagecollector', 'persistentvolume-binder'],
      logger: { info: () => undefined, warn: () => undefined },
    });
  });

  after(async () => {
    await manager?.stop();
    await t?.close();
  });

  const getClaim = async (name: string): Promise<{ metadata: Meta; spec: Record<string, unknown>; status?: { phase?: string } } | undefined> => {
    const res = await t.call('get', `${CORE}/persistentvolumeclaims/${name}`);
    return res.status === 200 ? res.body : undefined;
  };
  const getPod = async (name: string): Promise<{ metadata: Meta; spec: { volumes?: { name: string; persistentVolumeClaim?: { claimName: string } }[] } } | undefined> => {
    const res = await t.call('get', `${CORE}/pods/${name}`);
    return res.status === 200 ? res.body : undefined;
  };
  const makeReady = async (name: string): Promise<void> => {
    await json(t.call('patch', `${CORE}/pods/${name}/status`), {
      status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') }] },
    }, 'application/merge-patch+json').expect(200);
  };
  const events = async (involved: string): Promise<{ reason: string; message: string; type: string }[]> =>
    (await t.call('get', `${CORE}/events?fieldSelector=${encodeURIComponent(`involvedObject.name=${involved}`)}`).expect(200)).body.items;
  const volume = async (name: string): Promise<void> => {
    await json(t.call('post', '/api/v1/persistentvolumes'), {
      apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name },
      spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: `/tmp/${name}` } },
    }).expect(201);
  };

  test('claims are created before their pods, labelled, mounted, bound by the binder and reused', async () => {
    await volume('pv-a');
    await volume('pv-b');
    await json(t.call('post', `${APPS}/statefulsets`), statefulSet('web', 2)).expect(201);
    const pod0 = await eventually('web-0', () => getPod('web-0'));
    const claim0 = await getClaim('data-web-0');
    assert.ok(claim0, 'data-web-0 exists once web-0 does');
    assert.deepEqual(claim0.metadata.labels, { tier: 'storage', app: 'web' }, 'template labels plus the selector labels');
    assert.equal(claim0.metadata.ownerReferences, undefined, 'Retain/Retain: no owner');
    assert.deepEqual(pod0.spec.volumes?.find((v) => v.name === 'data')?.persistentVolumeClaim, { claimName: 'data-web-0' });
    assert.equal(await getClaim('data-web-1'), undefined, 'OrderedReady: web-1 and its claim wait for web-0');
    await makeReady('web-0');
    await eventually('web-1', () => getPod('web-1'));
    await eventually('both claims Bound', async () => {
      const [a, b] = [await getClaim('data-web-0'), await getClaim('data-web-1')];
      return a?.status?.phase === 'Bound' && b?.status?.phase === 'Bound' ? true : undefined;
    });
    const messages = (await events('web')).filter((e) => e.reason === 'SuccessfulCreate').map((e) => e.message);
    assert.ok(messages.includes('create Claim data-web-0 Pod web-0 in StatefulSet web success'), messages.join('\n'));
    assert.ok(messages.includes('create Pod web-0 in StatefulSet web successful'), messages.join('\n'));
    assert.ok(messages.includes('create Claim data-web-1 Pod web-1 in StatefulSet web success'), messages.join('\n'));

    // A deleted pod comes back with the same claim.
    await t.call('delete', `${CORE}/pods/web-0?gracePeriodSeconds=0`).expect(200);
    await eventually('web-0 recreated', async () => { const pod = await getPod('web-0'); return pod && pod.metadata.uid !== pod0.metadata.uid ? pod : undefined; });
    assert.equal((await getClaim('data-web-0'))?.metadata.uid, claim0.metadata.uid, 'the claim is reused');

    // Retain on scale down: the claim stays.
    await makeReady('web-0');
    await makeReady('web-1');
    await json(t.call('patch', `${APPS}/statefulsets/web`), { spec: { replicas: 1 } }, 'application/merge-patch+json').expect(200);
    await eventually('web-1 gone', async () => ((await getPod('web-1')) ? undefined : true));
    assert.ok(await getClaim('data-web-1'), 'whenScaled Retain keeps data-web-1');
    // Retain on deletion: the claims outlive the set.
    await t.call('delete', `${APPS}/statefulsets/web`).expect(200);
    await eventually('web-0 gone', async () => ((await getPod('web-0')) ? undefined : true));
    assert.ok(await getClaim('data-web-0'), 'whenDeleted Retain keeps data-web-0');
  });

  test('whenScaled Delete: a condemned pod becomes its claim\'s owner and takes it with it', async () => {
    await json(t.call('post', `${APPS}/statefulsets`), statefulSet('scaled', 2, { whenScaled: 'Delete', whenDeleted: 'Retain' })).expect(201);
    await eventually('scaled-0', () => getPod('scaled-0'));
    await makeReady('scaled-0');
    await eventually('scaled-1', () => getPod('scaled-1'));
    await makeReady('scaled-1');
    assert.equal((await getClaim('data-scaled-1'))?.metadata.ownerReferences, undefined, 'in range: no owner with whenDeleted Retain');
    await json(t.call('patch', `${APPS}/statefulsets/scaled`), { spec: { replicas: 1 } }, 'application/merge-patch+json').expect(200);
    await eventually('data-scaled-1 deleted with scaled-1', async () => ((await getClaim('data-scaled-1')) ? undefined : true));
    assert.ok(await getClaim('data-scaled-0'), 'the remaining ordinal keeps its claim');
    // Scaling up again makes a new claim for the new pod.
    await json(t.call('patch', `${APPS}/statefulsets/scaled`), { spec: { replicas: 2 } }, 'application/merge-patch+json').expect(200);
    await eventually('data-scaled-1 again', () => getClaim('data-scaled-1'));
  });

  test('whenDeleted Delete: the set is the claims\' controller and the garbage collector deletes them with it', async () => {
    await json(t.call('post', `${APPS}/statefulsets`), statefulSet('gone', 1, { whenScaled: 'Retain', whenDeleted: 'Delete' })).expect(201);
    const set = (await t.call('get', `${APPS}/statefulsets/gone`).expect(200)).body as { metadata: Meta };
    const claim = await eventually('data-gone-0', () => getClaim('data-gone-0'));
    assert.deepEqual(claim.metadata.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'gone', uid: set.metadata.uid, controller: true, blockOwnerDeletion: true }]);
    await t.call('delete', `${APPS}/statefulsets/gone`).expect(200);
    await eventually('data-gone-0 deleted', async () => ((await getClaim('data-gone-0')) ? undefined : true));
  });

  test('a claim being deleted stops its pod, with upstream\'s FailedCreate event', async () => {
    await json(t.call('post', `${CORE}/persistentvolumeclaims`), {
      apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data-held-0', finalizers: ['example.com/hold'] },
      spec: { accessModes: ['ReadWriteOnce'], storageClassName: '', resources: { requests: { storage: '1Gi' } } },
    }).expect(201);
    await t.call('delete', `${CORE}/persistentvolumeclaims/data-held-0`).expect(200);
    await json(t.call('post', `${APPS}/statefulsets`), statefulSet('held', 1)).expect(201);
    const failed = await eventually('FailedCreate', async () => (await events('held')).find((e) => e.reason === 'FailedCreate'));
    assert.equal(failed.type, 'Warning');
    assert.equal(failed.message, 'create Pod held-0 in StatefulSet held failed error: pvc data-held-0 is being deleted');
    assert.equal(await getPod('held-0'), undefined);
    // Once the claim is gone, a new one and the pod are created.
    await json(t.call('patch', `${CORE}/persistentvolumeclaims/data-held-0`), { metadata: { finalizers: null } }, 'application/merge-patch+json').expect(200);
    await eventually('held-0 created', () => getPod('held-0'));
    const claim = await getClaim('data-held-0');
    assert.ok(claim && !claim.metadata.deletionTimestamp);
  });

  test('an invalid retention policy is refused with upstream\'s words and nothing is stored', async () => {
    const res = await json(t.call('post', `${APPS}/statefulsets`), statefulSet('bad', 1, { whenScaled: 'Keep', whenDeleted: 'Delete' })).expect(422);
    assert.match(res.body.message, /spec\.persistentVolumeClaimRetentionPolicy\.whenScaled: Unsupported value: "Keep": supported values: "Retain", "Delete"/);
    await t.call('get', `${APPS}/statefulsets/bad`).expect(404);
    const created = await json(t.call('post', `${APPS}/statefulsets`), statefulSet('defaulted', 0)).expect(201);
    assert.deepEqual(created.body.spec.persistentVolumeClaimRetentionPolicy, { whenDeleted: 'Retain', whenScaled: 'Retain' });
    const update = await json(t.call('patch', `${APPS}/statefulsets/defaulted`), { spec: { volumeClaimTemplates: [] } }, 'application/merge-patch+json').expect(422);
    assert.match(update.body.message, /updates to statefulset spec for fields other than/);
  });
});

describe('claim ownerReferences for the retention policy', () => {
  const set = (whenScaled: string, whenDeleted: string): WorkloadObject => ({
    metadata: { name: 's', uid: 'set-uid' }, spec: { persistentVolumeClaimRetentionPolicy: { whenScaled, whenDeleted } },
  });
  const pod = { metadata: { name: 's-1', uid: 'pod-uid' }, phase: 'Running', ready: true, restartCount: 0, exits: [], trueConditions: [] };
  const uids = (refs: { uid: string }[]) => refs.map((r) => r.uid);

  test('each policy, in range and scaled down', () => {
    assert.deepEqual(uids(updatedClaimOwners([], set('Retain', 'Retain'), 1, pod, true)), []);
    assert.deepEqual(uids(updatedClaimOwners([], set('Retain', 'Delete'), 1, pod, true)), ['set-uid']);
    assert.deepEqual(uids(updatedClaimOwners([], set('Delete', 'Retain'), 1, pod, false)), []);
    assert.deepEqual(uids(updatedClaimOwners([], set('Delete', 'Retain'), 1, pod, true)), ['pod-uid']);
    assert.deepEqual(uids(updatedClaimOwners([], set('Delete', 'Delete'), 1, pod, false)), ['set-uid']);
    const setRef = { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 's', uid: 'set-uid', controller: true, blockOwnerDeletion: true };
    assert.deepEqual(uids(updatedClaimOwners([setRef], set('Delete', 'Delete'), 1, pod, true)), ['pod-uid'], 'scaled down: the pod replaces the set');
    assert.equal(claimOwnersUpToDate([setRef], set('Delete', 'Delete'), 1, pod, false), true);
    assert.equal(claimOwnersUpToDate([setRef], set('Delete', 'Delete'), 1, pod, true), false);
  });

  test('another controller, or a ref to an earlier set of the same name, is left alone', () => {
    const other = { apiVersion: 'example.com/v1', kind: 'Thing', name: 'x', uid: 'other', controller: true };
    assert.equal(claimOwnersUpToDate([other], set('Retain', 'Delete'), 1, pod, false), true);
    assert.deepEqual(uids(updatedClaimOwners([other, { ...pod.metadata, apiVersion: 'v1', kind: 'Pod' }], set('Delete', 'Delete'), 1, pod, true)), ['other']);
    const stale = { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 's', uid: 'earlier', controller: true };
    assert.equal(claimOwnersUpToDate([stale], set('Retain', 'Retain'), 1, pod, false), true);
  });
});
