// storage.k8s.io/v1 kinds and core PersistentVolumes/Claims over HTTP: defaulting, upstream
// validation messages, immutability, status subresources and the Table columns kubectl prints.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runPersistentVolumeBinder } from '../controllers/persistent-volume-binder.ts';
import { writeComponentKubeconfigs } from '../server/component-credentials.ts';
import { json, startTestServer, type TestServer } from './helpers/api-server.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const TABLE = 'application/json;as=Table;v=v1;g=meta.k8s.io';
const S = '/apis/storage.k8s.io/v1';

describe('storage kinds', () => {
  let t: TestServer;
  before(async () => { t = await startTestServer('storage-kinds'); });
  after(async () => { await t.close(); });

  const send = async (method: 'post' | 'put' | 'patch', path: string, body: unknown, expect: number): Promise<Json> => {
    const res = await json(t.call(method, path), body, method === 'patch' ? 'application/merge-patch+json' : 'application/json');
    assert.equal(res.status, expect, `${method} ${path}: ${res.text}`);
    return res.body as Json;
  };
  const get = async (path: string, accept = 'application/json'): Promise<Json> => {
    const res = await t.call('get', path).set('Accept', accept);
    assert.equal(res.status, 200, res.text);
    return res.body as Json;
  };

  test('StorageClass: defaults, validation, immutable fields and the (default) name cell', async () => {
    const created = await send('post', `${S}/storageclasses`, {
      metadata: { name: 'fast', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
      provisioner: 'example.com/fast', parameters: { type: 'ssd' },
    }, 201);
    assert.equal(created.reclaimPolicy, 'Delete');
    assert.equal(created.volumeBindingMode, 'Immediate');
    const bad = await send('post', `${S}/storageclasses`, { metadata: { name: 'bad' }, provisioner: '', reclaimPolicy: 'Recycle', volumeBindingMode: 'Later' }, 422);
    assert.equal(bad.message, 'StorageClass.storage.k8s.io "bad" is invalid: [provisioner: Required value, reclaimPolicy: Unsupported value: "Recycle": supported values: "Delete", "Retain", volumeBindingMode: Unsupported value: "Later": supported values: "Immediate", "WaitForFirstConsumer"]');
    const changed = await send('patch', `${S}/storageclasses/fast`, { provisioner: 'other.io/x', parameters: { type: 'hdd' }, reclaimPolicy: 'Retain' }, 422);
    assert.match(changed.message, /parameters: Forbidden: updates to parameters are forbidden\., provisioner: Forbidden: updates to provisioner are forbidden\., reclaimPolicy: Forbidden: updates to reclaimPolicy are forbidden\./);
    const table = await get(`${S}/storageclasses`, TABLE);
    assert.deepEqual(table.columnDefinitions.map((c: Json) => c.name), ['Name', 'Provisioner', 'ReclaimPolicy', 'VolumeBindingMode', 'AllowVolumeExpansion', 'Age']);
    assert.deepEqual(table.rows[0].cells.slice(0, 5), ['fast (default)', 'example.com/fast', 'Delete', 'Immediate', false]);
  });

  test('CSIDriver: defaults, immutable attachRequired, Table', async () => {
    const created = await send('post', `${S}/csidrivers`, { metadata: { name: 'csi.example.com' }, spec: { tokenRequests: [{ audience: 'vault' }] } }, 201);
    assert.deepEqual(created.spec, {
      attachRequired: true, podInfoOnMount: false, storageCapacity: false, fsGroupPolicy: 'ReadWriteOnceWithFSType',
      volumeLifecycleModes: ['Persistent'], requiresRepublish: false, seLinuxMount: false, tokenRequests: [{ audience: 'vault' }],
    });
    const res = await send('patch', `${S}/csidrivers/csi.example.com`, { spec: { attachRequired: false } }, 422);
    assert.equal(res.message, 'CSIDriver.storage.k8s.io "csi.example.com" is invalid: spec.attachedRequired: Invalid value: false: field is immutable');
    const dup = await send('post', `${S}/csidrivers`, { metadata: { name: 'd2' }, spec: { tokenRequests: [{ audience: 'a', expirationSeconds: 60 }, { audience: 'a' }], volumeLifecycleModes: ['Sometimes'] } }, 422);
    assert.match(dup.message, /spec\.tokenRequests\[0\]\.expirationSeconds: Invalid value: 60: may not specify a duration less than 10 minutes/);
    assert.match(dup.message, /spec\.tokenRequests\[1\]\.audience: Duplicate value: "a"/);
    assert.match(dup.message, /spec\.volumeLifecycleModes: Unsupported value: "Sometimes": supported values: "Persistent", "Ephemeral"/);
    const table = await get(`${S}/csidrivers`, TABLE);
    assert.deepEqual(table.columnDefinitions.map((c: Json) => c.name), ['Name', 'AttachRequired', 'PodInfoOnMount', 'StorageCapacity', 'TokenRequests', 'RequiresRepublish', 'Modes', 'Age']);
    assert.deepEqual(table.rows[0].cells.slice(0, 7), ['csi.example.com', true, false, false, 'vault', false, 'Persistent']);
  });

  test('CSINode: driver checks, immutable drivers, Table', async () => {
    await send('post', `${S}/csinodes`, { metadata: { name: 'node-1' }, spec: { drivers: [{ name: 'csi.example.com', nodeID: 'n1', topologyKeys: ['topology.kubernetes.io/zone'] }] } }, 201);
    const bad = await send('post', `${S}/csinodes`, { metadata: { name: 'node-2' }, spec: { drivers: [{ name: 'a.b', nodeID: '' }, { name: 'a.b', nodeID: 'x'.repeat(193) }] } }, 422);
    assert.match(bad.message, /spec\.drivers\[0\]\.nodeID: Required value/);
    assert.match(bad.message, /spec\.drivers\[1\]\.nodeID: Invalid value: "x+": must be 192 characters or less/);
    assert.match(bad.message, /spec\.drivers\[1\]\.name: Duplicate value: "a\.b"/);
    const changed = await send('put', `${S}/csinodes/node-1`, {
      ...(await get(`${S}/csinodes/node-1`)), spec: { drivers: [{ name: 'csi.example.com', nodeID: 'n2' }] },
    }, 422);
    assert.match(changed.message, /spec\.drivers: Invalid value: .*: field is immutable/);
    const table = await get(`${S}/csinodes`, TABLE);
    assert.deepEqual(table.rows[0].cells.slice(0, 2), ['node-1', 1]);
  });

  test('CSIStorageCapacity: namespaced, immutable class name, Table without Age', async () => {
    const path = `${S}/namespaces/default/csistoragecapacities`;
    await send('post', path, { metadata: { name: 'cap-1' }, storageClassName: 'fast', capacity: '10Gi' }, 201);
    const bad = await send('post', path, { metadata: { name: 'cap-2' }, storageClassName: 'Not_Valid', capacity: '-1' }, 422);
    assert.match(bad.message, /storageClassName: Invalid value: "Not_Valid": a lowercase RFC 1123 subdomain/);
    assert.match(bad.message, /capacity: Invalid value: "-1": must be greater than or equal to 0/);
    const changed = await send('patch', `${path}/cap-1`, { storageClassName: 'slow' }, 422);
    assert.match(changed.message, /storageClassName: Invalid value: "slow": field is immutable/);
    const table = await get(path, TABLE);
    assert.deepEqual(table.columnDefinitions.map((c: Json) => c.name), ['Name', 'StorageClassName', 'Capacity']);
    assert.deepEqual(table.rows[0].cells, ['cap-1', 'fast', '10Gi']);
  });

  test('VolumeAttachment: status reset, one source, immutable spec, /status, Table', async () => {
    const path = `${S}/volumeattachments`;
    const created = await send('post', path, {
      metadata: { name: 'va-1' }, spec: { attacher: 'csi.example.com', nodeName: 'node-1', source: { persistentVolumeName: 'pv-1' } }, status: { attached: true },
    }, 201);
    assert.deepEqual(created.status, { attached: false });
    const none = await send('post', path, { metadata: { name: 'va-2' }, spec: { attacher: '', nodeName: 'node-1', source: {} } }, 422);
    assert.equal(none.message, 'VolumeAttachment.storage.k8s.io "va-2" is invalid: [spec.attacher: Required value, spec.source: Required value: must specify exactly one of inlineVolumeSpec and persistentVolumeName]');
    const moved = await send('patch', `${path}/va-1`, { spec: { nodeName: 'node-2' } }, 422);
    assert.match(moved.message, /spec: Invalid value: .*: field is immutable/);
    const attached = await send('patch', `${path}/va-1/status`, { status: { attached: true, attachmentMetadata: { path: '/dev/xvdb' } } }, 200);
    assert.equal(attached.status.attached, true);
    const table = await get(path, TABLE);
    assert.deepEqual(table.columnDefinitions.map((c: Json) => c.name), ['Name', 'Attacher', 'PV', 'Node', 'Attached', 'Age']);
    assert.deepEqual(table.rows[0].cells.slice(0, 5), ['va-1', 'csi.example.com', 'pv-1', 'node-1', true]);
  });

  test('PersistentVolume: defaults, Pending phase with its transition time, source checks, immutable source, Table', async () => {
    const created = await send('post', '/api/v1/persistentvolumes', {
      metadata: { name: 'pv-a', labels: { tier: 'gold' } },
      spec: { capacity: { storage: '5Gi' }, accessModes: ['ReadWriteOnce', 'ReadOnlyMany'], hostPath: { path: '/data/a' }, storageClassName: 'fast' },
      status: { phase: 'Bound' },
    }, 201);
    assert.equal(created.spec.persistentVolumeReclaimPolicy, 'Retain');
    assert.equal(created.spec.volumeMode, 'Filesystem');
    assert.equal(created.status.phase, 'Pending');
    assert.ok(created.status.lastPhaseTransitionTime);
    const bad = await send('post', '/api/v1/persistentvolumes', {
      metadata: { name: 'pv-bad' }, spec: { capacity: { storage: '0', cpu: '1' }, accessModes: ['ReadWriteOncePod', 'ReadWriteOnce'], persistentVolumeReclaimPolicy: 'Keep' },
    }, 422);
    assert.match(bad.message, /spec\.accessModes: Forbidden: may not use ReadWriteOncePod with other access modes/);
    assert.match(bad.message, /spec\.capacity: Unsupported value: .*: supported values: "storage"/);
    assert.match(bad.message, /spec\.capacity\[storage\]: Invalid value: "0": must be greater than zero/);
    assert.match(bad.message, /spec\.persistentVolumeReclaimPolicy: Unsupported value: "Keep": supported values: "Delete", "Recycle", "Retain"/);
    assert.match(bad.message, /spec: Required value: must specify a volume type/);
    const two = await send('post', '/api/v1/persistentvolumes', {
      metadata: { name: 'pv-two' }, spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: '/a' }, nfs: { server: 'nfs', path: '/b' } },
    }, 422);
    assert.match(two.message, /spec\.nfs: Forbidden: may not specify more than 1 volume type/);
    const moved = await send('patch', '/api/v1/persistentvolumes/pv-a', { spec: { hostPath: { path: '/data/b' } } }, 422);
    assert.match(moved.message, /spec\.persistentvolumesource: Forbidden: spec\.persistentvolumesource is immutable after creation/);
    const status = await send('patch', '/api/v1/persistentvolumes/pv-a/status', { status: { phase: 'Available', reason: 'Checked', message: 'ok' } }, 200);
    assert.equal(status.status.reason, 'Checked');
    const table = await get('/api/v1/persistentvolumes', TABLE);
    assert.deepEqual(table.columnDefinitions.map((c: Json) => c.name),
      ['Name', 'Capacity', 'Access Modes', 'Reclaim Policy', 'Status', 'Claim', 'StorageClass', 'VolumeAttributesClass', 'Reason', 'Age', 'VolumeMode']);
    const row = table.rows[0].cells;
    assert.deepEqual([...row.slice(0, 9), row[10]], ['pv-a', '5Gi', 'RWO,ROX', 'Retain', 'Available', '', 'fast', '<unset>', 'Checked', 'Filesystem']);
  });

  test('PersistentVolumeClaim: Pending on create, request checks, immutable spec, /status, Table', async () => {
    const path = '/api/v1/namespaces/default/persistentvolumeclaims';
    const created = await send('post', path, {
      metadata: { name: 'claim-a' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } }, status: { phase: 'Bound' },
    }, 201);
    assert.deepEqual(created.status, { phase: 'Pending' });
    assert.equal(created.spec.volumeMode, 'Filesystem');
    const bad = await send('post', path, { metadata: { name: 'claim-bad' }, spec: { accessModes: [], resources: { requests: {} }, volumeMode: 'Raw' } }, 422);
    assert.equal(bad.message, 'PersistentVolumeClaim "claim-bad" is invalid: [spec.accessModes: Required value: at least 1 access mode is required, spec.resources[storage]: Required value, spec.volumeMode: Unsupported value: "Raw": supported values: "Block", "Filesystem"]');
    const changed = await send('patch', `${path}/claim-a`, { spec: { accessModes: ['ReadWriteMany'] } }, 422);
    assert.match(changed.message, /spec: Forbidden: spec is immutable after creation except resources\.requests and volumeAttributesClassName for bound claims/);
    await send('patch', `${path}/claim-a`, { spec: { volumeName: 'pv-a' } }, 200);
    const status = await send('patch', `${path}/claim-a/status`, {
      status: { phase: 'Bound', capacity: { storage: '5Gi' }, accessModes: ['ReadWriteOnce'], conditions: [{ type: 'Resizing', status: 'True' }] },
    }, 200);
    assert.equal(status.status.conditions[0].type, 'Resizing');
    const table = await get(path, TABLE);
    assert.deepEqual(table.columnDefinitions.map((c: Json) => c.name), ['Name', 'Status', 'Volume', 'Capacity', 'Access Modes', 'StorageClass', 'VolumeAttributesClass', 'Age', 'VolumeMode']);
    // The DefaultStorageClass plugin gave the claim the default class of the first test.
    assert.deepEqual(table.rows[0].cells.slice(0, 7), ['claim-a', 'Bound', 'pv-a', '5Gi', 'RWO', 'fast', '<unset>']);
  });

  test('the binder makes volumes Available and binds a Pending claim to the smallest matching one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kubefacade-pv-binder-'));
    const kubeconfigs = await writeComponentKubeconfigs(dir, t.url, t.server.credentials, []);
    const binder = await runPersistentVolumeBinder({ kubeconfigPath: kubeconfigs.controllerManager, logger: { info: () => undefined, warn: () => undefined } });
    try {
      const volume = (name: string, size: string, className: string) => ({
        metadata: { name }, spec: { capacity: { storage: size }, accessModes: ['ReadWriteOnce', 'ReadWriteMany'], nfs: { server: 'nfs.example.com', path: `/${name}` }, storageClassName: className },
      });
      await send('post', '/api/v1/persistentvolumes', volume('big', '10Gi', 'slow'), 201);
      await send('post', '/api/v1/persistentvolumes', volume('small', '2Gi', 'slow'), 201);
      await send('post', '/api/v1/persistentvolumes', volume('other-class', '2Gi', 'gold'), 201);
      await binder.idle();
      for (const name of ['big', 'small', 'other-class']) assert.equal((await get(`/api/v1/persistentvolumes/${name}`)).status.phase, 'Available');
      const claims = '/api/v1/namespaces/default/persistentvolumeclaims';
      await send('post', claims, { metadata: { name: 'wants-2g' }, spec: { storageClassName: 'slow', accessModes: ['ReadWriteMany'], resources: { requests: { storage: '1500Mi' } } } }, 201);
      await send('post', claims, { metadata: { name: 'too-big' }, spec: { storageClassName: 'slow', accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '50Gi' } } } }, 201);
      let claim: Json = {};
      for (let i = 0; i < 100; i++) {
        await binder.idle();
        claim = await get(`${claims}/wants-2g`);
        if (claim.status.phase === 'Bound') break;
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(claim.status.phase, 'Bound');
      assert.equal(claim.spec.volumeName, 'small');
      assert.deepEqual(claim.status.capacity, { storage: '2Gi' });
      assert.equal(claim.metadata.annotations['pv.kubernetes.io/bind-completed'], 'yes');
      const pv = await get('/api/v1/persistentvolumes/small');
      assert.equal(pv.status.phase, 'Bound');
      assert.deepEqual([pv.spec.claimRef.namespace, pv.spec.claimRef.name, pv.spec.claimRef.uid], ['default', 'wants-2g', claim.metadata.uid]);
      assert.equal((await get(`${claims}/too-big`)).status.phase, 'Pending');
      const table = await get('/api/v1/persistentvolumes/small', TABLE);
      assert.deepEqual(table.rows[0].cells.slice(4, 6), ['Bound', 'default/wants-2g']);
      const res = await t.call('delete', `${claims}/wants-2g`);
      assert.equal(res.status, 200, res.text);
      for (let i = 0; i < 100 && (await get('/api/v1/persistentvolumes/small')).status.phase !== 'Released'; i++) {
        await binder.idle();
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal((await get('/api/v1/persistentvolumes/small')).status.phase, 'Released');
    } finally {
      await binder.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('discovery lists the storage.k8s.io resources with their short names', async () => {
    const list = await get(S);
    const byName = new Map((list.resources as Json[]).map((r) => [r.name, r]));
    assert.deepEqual(byName.get('storageclasses')?.shortNames, ['sc']);
    assert.equal(byName.get('csistoragecapacities')?.namespaced, true);
    assert.ok(byName.has('volumeattachments/status'));
    const core = new Map(((await get('/api/v1')).resources as Json[]).map((r) => [r.name, r]));
    assert.deepEqual(core.get('persistentvolumes')?.shortNames, ['pv']);
    assert.deepEqual(core.get('persistentvolumeclaims')?.shortNames, ['pvc']);
    assert.ok(core.has('persistentvolumeclaims/status'));
  });
});
