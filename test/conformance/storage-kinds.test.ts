// Conformance entries for the storage.k8s.io kinds, CSI inline volumes in pods, and
// PersistentVolumes/Claims, each checking what the entry's description says against a running
// API server.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startConformanceCluster, type ConformanceCluster, type Json } from './helpers/cluster.ts';

const S = '/apis/storage.k8s.io/v1';
const MERGE = 'application/merge-patch+json';
const names = (list: Json): string[] => (list.items as Json[]).map((item) => item.metadata.name as string).sort();

describe('conformance: storage kinds', () => {
  let c: ConformanceCluster;
  before(async () => { c = await startConformanceCluster('storage-kinds'); });
  after(async () => { await c.stop(); });

  const patchLabel = async (path: string, key: string, value: string): Promise<Json> =>
    c.api('patch', path, { body: { metadata: { labels: { [key]: value } } }, contentType: MERGE });
  const updateLabel = async (path: string, key: string, value: string): Promise<Json> => {
    const current = await c.api('get', path);
    return c.api('put', path, { body: { ...current, metadata: { ...current.metadata, labels: { ...current.metadata.labels, [key]: value } } } });
  };

  test('CSIDriver, lifecycle', async () => {
    const driver = (name: string) => ({ metadata: { name, labels: { 'e2e-test': 'csidriver' } }, spec: { attachRequired: true, podInfoOnMount: true } });
    await c.api('post', `${S}/csidrivers`, { body: driver('one.csi.example.com'), expect: 201 });
    await c.api('post', `${S}/csidrivers`, { body: driver('two.csi.example.com'), expect: 201 });
    const patched = await patchLabel(`${S}/csidrivers/one.csi.example.com`, 'patched', 'true');
    assert.equal(patched.metadata.labels.patched, 'true');
    const updated = await updateLabel(`${S}/csidrivers/one.csi.example.com`, 'updated', 'true');
    assert.equal(updated.metadata.labels.updated, 'true');
    const listed = await c.api('get', `${S}/csidrivers?labelSelector=e2e-test%3Dcsidriver`);
    assert.deepEqual(names(listed), ['one.csi.example.com', 'two.csi.example.com']);
    await c.api('delete', `${S}/csidrivers/one.csi.example.com`);
    await c.api('get', `${S}/csidrivers/one.csi.example.com`, { expect: 404 });
    await c.api('delete', `${S}/csidrivers?labelSelector=e2e-test%3Dcsidriver`);
    assert.deepEqual(names(await c.api('get', `${S}/csidrivers?labelSelector=e2e-test%3Dcsidriver`)), []);
  });

  test('CSIInlineVolumes should support Pods with inline volumes', async () => {
    const pods = '/api/v1/namespaces/default/pods';
    const pod = {
      metadata: { name: 'inline-csi', labels: { 'e2e-test': 'inline' } },
      spec: {
        containers: [{ name: 'app', image: 'busybox:1.36', volumeMounts: [{ name: 'inline', mountPath: '/data' }] }],
        volumes: [{ name: 'inline', csi: { driver: 'inline.storage.k8s.io', volumeAttributes: { foo: 'bar' } } }],
      },
    };
    const created = await c.api('post', pods, { body: pod, expect: 201 });
    assert.deepEqual(created.spec.volumes.find((v: Json) => v.name === 'inline').csi, { driver: 'inline.storage.k8s.io', volumeAttributes: { foo: 'bar' } });
    const got = await c.api('get', `${pods}/inline-csi`);
    assert.equal(got.spec.volumes.find((v: Json) => v.name === 'inline').csi.driver, 'inline.storage.k8s.io');
    assert.deepEqual(names(await c.api('get', `${pods}?labelSelector=e2e-test%3Dinline`)), ['inline-csi']);
    const patched = await patchLabel(`${pods}/inline-csi`, 'patched', 'true');
    assert.equal(patched.metadata.labels.patched, 'true');
    await c.api('delete', `${pods}/inline-csi?gracePeriodSeconds=0`);
    await c.api('get', `${pods}/inline-csi`, { expect: 404 });
  });

  test('CSINode, lifecycle', async () => {
    const node = (name: string) => ({ metadata: { name, labels: { 'e2e-test': 'csinode' } }, spec: { drivers: [] } });
    await c.api('post', `${S}/csinodes`, { body: node('csinode-1'), expect: 201 });
    assert.equal((await c.api('get', `${S}/csinodes/csinode-1`)).metadata.name, 'csinode-1');
    assert.equal((await patchLabel(`${S}/csinodes/csinode-1`, 'patched', 'true')).metadata.labels.patched, 'true');
    assert.deepEqual(names(await c.api('get', `${S}/csinodes?labelSelector=e2e-test%3Dcsinode`)), ['csinode-1']);
    await c.api('delete', `${S}/csinodes/csinode-1`);
    await c.api('get', `${S}/csinodes/csinode-1`, { expect: 404 });
    await c.api('post', `${S}/csinodes`, { body: node('csinode-2'), expect: 201 });
    assert.equal((await c.api('get', `${S}/csinodes/csinode-2`)).metadata.name, 'csinode-2');
    assert.equal((await updateLabel(`${S}/csinodes/csinode-2`, 'updated', 'true')).metadata.labels.updated, 'true');
    await c.api('delete', `${S}/csinodes?labelSelector=e2e-test%3Dcsinode`);
    assert.deepEqual(names(await c.api('get', `${S}/csinodes?labelSelector=e2e-test%3Dcsinode`)), []);
  });

  test('CSIStorageCapacity API', async () => {
    const groups = await c.api('get', '/apis');
    const storage = (groups.groups as Json[]).find((g) => g.name === 'storage.k8s.io');
    assert.ok(storage?.versions.some((v: Json) => v.version === 'v1'));
    const group = await c.api('get', '/apis/storage.k8s.io');
    assert.ok((group.versions as Json[]).some((v) => v.groupVersion === 'storage.k8s.io/v1'));
    const resources = await c.api('get', S);
    const capacities = (resources.resources as Json[]).find((r) => r.name === 'csistoragecapacities');
    assert.deepEqual([...capacities?.verbs].sort(), ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch']);
    const path = `${S}/namespaces/default/csistoragecapacities`;
    const capacity = (name: string) => ({ metadata: { name, labels: { 'e2e-test': 'capacity' } }, storageClassName: 'fast', capacity: '1Gi' });
    await c.api('post', path, { body: capacity('cap-1'), expect: 201 });
    await c.api('post', path, { body: capacity('cap-2'), expect: 201 });
    assert.equal((await c.api('get', `${path}/cap-1`)).capacity, '1Gi');
    assert.deepEqual(names(await c.api('get', `${path}?labelSelector=e2e-test%3Dcapacity`)), ['cap-1', 'cap-2']);
    assert.deepEqual(names(await c.api('get', `${S}/csistoragecapacities?labelSelector=e2e-test%3Dcapacity`)), ['cap-1', 'cap-2']);
    const watch = await c.raw('get', `${path}?watch=true&labelSelector=e2e-test%3Dcapacity&timeoutSeconds=1`).buffer(true)
      .parse((res, done) => {
        let text = '';
        res.on('data', (chunk: Buffer) => { text += chunk.toString(); });
        res.on('end', () => done(null, text));
      });
    assert.match(String(watch.body), /"type":"ADDED"/);
    assert.equal((await patchLabel(`${path}/cap-1`, 'patched', 'true')).metadata.labels.patched, 'true');
    assert.equal((await updateLabel(`${path}/cap-1`, 'updated', 'true')).metadata.labels.updated, 'true');
    await c.api('delete', `${path}/cap-1`);
    await c.api('get', `${path}/cap-1`, { expect: 404 });
    await c.api('delete', `${path}?labelSelector=e2e-test%3Dcapacity`);
    assert.deepEqual(names(await c.api('get', `${path}?labelSelector=e2e-test%3Dcapacity`)), []);
  });

  const pvBody = (name: string) => ({
    metadata: { name, labels: { 'e2e-test': 'pv' } },
    spec: { capacity: { storage: '3Mi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: `/tmp/${name}` }, storageClassName: 'manual' },
  });
  const pvcBody = (name: string) => ({
    metadata: { name, labels: { 'e2e-test': 'pvc' } },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Mi' } }, storageClassName: 'manual' },
  });
  const PVS = '/api/v1/persistentvolumes';
  const PVCS = '/api/v1/namespaces/default/persistentvolumeclaims';

  test('PersistentVolumes(Claims), lifecycle', async () => {
    await c.api('post', PVS, { body: pvBody('pv-life'), expect: 201 });
    await c.api('post', PVCS, { body: pvcBody('pvc-life'), expect: 201 });
    assert.deepEqual(names(await c.api('get', `${PVS}?labelSelector=e2e-test%3Dpv`)), ['pv-life']);
    assert.deepEqual(names(await c.api('get', PVCS)), ['pvc-life']);
    assert.equal((await patchLabel(`${PVS}/pv-life`, 'patched', 'true')).metadata.labels.patched, 'true');
    assert.equal((await patchLabel(`${PVCS}/pvc-life`, 'patched', 'true')).metadata.labels.patched, 'true');
    const pv = await c.api('get', `${PVS}/pv-life`);
    const pvc = await c.api('get', `${PVCS}/pvc-life`);
    assert.ok(pv.metadata.uid && pvc.metadata.uid);
    await c.api('delete', `${PVCS}/pvc-life`);
    await c.api('delete', `${PVS}/pv-life`);
    await c.api('get', `${PVCS}/pvc-life`, { expect: 404 });
    await c.api('get', `${PVS}/pv-life`, { expect: 404 });
    await c.api('post', PVS, { body: pvBody('pv-life-2'), expect: 201 });
    await c.api('post', PVCS, { body: pvcBody('pvc-life-2'), expect: 201 });
    assert.equal((await updateLabel(`${PVS}/pv-life-2`, 'updated', 'true')).metadata.labels.updated, 'true');
    assert.equal((await updateLabel(`${PVCS}/pvc-life-2`, 'updated', 'true')).metadata.labels.updated, 'true');
    await c.api('delete', `${PVCS}?labelSelector=e2e-test%3Dpvc`);
    await c.api('delete', `${PVS}?labelSelector=e2e-test%3Dpv`);
    assert.deepEqual(names(await c.api('get', `${PVCS}?labelSelector=e2e-test%3Dpvc`)), []);
    assert.deepEqual(names(await c.api('get', `${PVS}?labelSelector=e2e-test%3Dpv`)), []);
  });

  test('PersistentVolumes(Claims), apply changes to a pv/pvc status', async () => {
    await c.api('post', PVS, { body: pvBody('pv-status'), expect: 201 });
    await c.api('post', PVCS, { body: pvcBody('pvc-status'), expect: 201 });
    assert.deepEqual(names(await c.api('get', `${PVS}?labelSelector=e2e-test%3Dpv`)), ['pv-status']);
    assert.deepEqual(names(await c.api('get', PVCS)), ['pvc-status']);
    const pvcStatus = await c.api('get', `${PVCS}/pvc-status/status`);
    assert.ok(['Pending', 'Bound', 'Lost'].includes(pvcStatus.status.phase));
    const pvStatus = await c.api('get', `${PVS}/pv-status/status`);
    assert.ok(['Pending', 'Available', 'Bound', 'Released', 'Failed'].includes(pvStatus.status.phase));
    const condition = { type: 'StatusPatched', status: 'True', reason: 'E2E patchedStatus', message: 'Set from e2e test' };
    const patchedPvc = await c.api('patch', `${PVCS}/pvc-status/status`, { body: { status: { conditions: [condition] } }, contentType: MERGE });
    assert.deepEqual(patchedPvc.status.conditions.map((x: Json) => x.type), ['StatusPatched']);
    const patchedPv = await c.api('patch', `${PVS}/pv-status/status`, { body: { status: { reason: 'E2E patchStatus', message: 'Set from e2e test' } }, contentType: MERGE });
    assert.deepEqual([patchedPv.status.reason, patchedPv.status.message], ['E2E patchStatus', 'Set from e2e test']);
    const currentPvc = await c.api('get', `${PVCS}/pvc-status/status`);
    const updatedPvc = await c.api('put', `${PVCS}/pvc-status/status`, {
      body: { ...currentPvc, status: { ...currentPvc.status, conditions: [{ type: 'StatusUpdated', status: 'True', reason: 'E2E updateStatus', message: 'Set from e2e test' }] } },
    });
    assert.deepEqual(updatedPvc.status.conditions.map((x: Json) => x.type), ['StatusUpdated']);
    const currentPv = await c.api('get', `${PVS}/pv-status/status`);
    const updatedPv = await c.api('put', `${PVS}/pv-status/status`, { body: { ...currentPv, status: { ...currentPv.status, reason: 'E2E updateStatus', message: 'Set from e2e test' } } });
    assert.equal(updatedPv.status.reason, 'E2E updateStatus');
    await c.api('delete', `${PVCS}/pvc-status`);
    await c.api('delete', `${PVS}/pv-status`);
  });

  test('StorageClass, lifecycle', async () => {
    const sc = (name: string) => ({ metadata: { name, labels: { 'e2e-test': 'sc' } }, provisioner: 'e2e-fake-provisioner' });
    await c.api('post', `${S}/storageclasses`, { body: sc('sc-life'), expect: 201 });
    assert.equal((await c.api('get', `${S}/storageclasses/sc-life`)).provisioner, 'e2e-fake-provisioner');
    assert.equal((await patchLabel(`${S}/storageclasses/sc-life`, 'patched', 'true')).metadata.labels.patched, 'true');
    await c.api('delete', `${S}/storageclasses/sc-life`);
    await c.api('get', `${S}/storageclasses/sc-life`, { expect: 404 });
    await c.api('post', `${S}/storageclasses`, { body: sc('sc-life-2'), expect: 201 });
    assert.equal((await updateLabel(`${S}/storageclasses/sc-life-2`, 'updated', 'true')).metadata.labels.updated, 'true');
    await c.api('delete', `${S}/storageclasses?labelSelector=e2e-test%3Dsc`);
    assert.deepEqual(names(await c.api('get', `${S}/storageclasses?labelSelector=e2e-test%3Dsc`)), []);
  });

  const attachment = (name: string) => ({
    metadata: { name, labels: { 'e2e-test': 'va' } },
    spec: { attacher: 'e2e-test.storage.k8s.io', nodeName: 'node-1', source: { persistentVolumeName: `pv-${name}` } },
  });

  test('VolumeAttachment, lifecycle', async () => {
    const VA = `${S}/volumeattachments`;
    await c.api('post', VA, { body: attachment('va-1'), expect: 201 });
    assert.equal((await c.api('get', `${VA}/va-1`)).metadata.name, 'va-1');
    assert.equal((await patchLabel(`${VA}/va-1`, 'patched', 'true')).metadata.labels.patched, 'true');
    assert.deepEqual(names(await c.api('get', `${VA}?labelSelector=patched%3Dtrue`)), ['va-1']);
    await c.api('delete', `${VA}/va-1`);
    await c.api('get', `${VA}/va-1`, { expect: 404 });
    await c.api('post', VA, { body: attachment('va-2'), expect: 201 });
    assert.equal((await updateLabel(`${VA}/va-2`, 'updated', 'true')).metadata.labels.updated, 'true');
    await c.api('post', VA, { body: attachment('va-3'), expect: 201 });
    assert.equal((await updateLabel(`${VA}/va-3`, 'updated', 'true')).metadata.labels.updated, 'true');
    await c.api('delete', `${VA}?labelSelector=updated%3Dtrue`);
    assert.deepEqual(names(await c.api('get', `${VA}?labelSelector=e2e-test%3Dva`)), []);
  });

  test('VolumeAttachment, apply changes to a volumeattachment status', async () => {
    const VA = `${S}/volumeattachments`;
    await c.api('post', VA, { body: attachment('va-status'), expect: 201 });
    assert.equal((await patchLabel(`${VA}/va-status`, 'patched', 'true')).metadata.labels.patched, 'true');
    assert.equal((await c.api('get', `${VA}/va-status/status`)).status.attached, false);
    const patched = await c.api('patch', `${VA}/va-status/status`, { body: { status: { attached: true } }, contentType: MERGE });
    assert.equal(patched.status.attached, true);
    const current = await c.api('get', `${VA}/va-status/status`);
    const updated = await c.api('put', `${VA}/va-status/status`, { body: { ...current, status: { attached: false } } });
    assert.equal(updated.status.attached, false);
    await c.api('delete', `${VA}/va-status`);
    await c.api('get', `${VA}/va-status`, { expect: 404 });
  });
});
