// managedFields as kube-apiserver keeps them when they are the only thing that changes: a change to
// managedFields alone is stored with a new resourceVersion, `[{}]` clears them, an apply by a new
// manager of values already present adds its entry and shares ownership, and kubectl's
// client-side → server-side apply migration ends with the applier owning the fields.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { startApiServer, type RunningApiServer } from '../server/start.ts';
import { Kubectl } from './helpers/kubectl.ts';

interface Entry { manager: string; operation: string; fieldsV1: Record<string, unknown> }

describe('managedFields changes', () => {
  let dir: string;
  let server: RunningApiServer;
  const NS = '/api/v1/namespaces/default';
  const call = (method: 'get' | 'post' | 'patch', path: string) => request(server.url)[method](path).ca(server.caCertPem).set('Authorization', `Bearer ${server.adminToken}`);
  const apply = (name: string, manager: string, labels: Record<string, string>, force = false) =>
    call('patch', `${NS}/pods/${name}?fieldManager=${manager}${force ? '&force=true' : ''}`).set('Content-Type', 'application/apply-patch+yaml')
      .send(JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name, labels }, spec: { containers: [{ name: 'c', image: 'nginx' }] } }));
  const managers = (pod: { metadata: { managedFields?: Entry[] } }) => (pod.metadata.managedFields ?? []).map((e) => `${e.manager}/${e.operation}`).sort();

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kubefacade-managed-fields-'));
    // As the shared test helper does: the ServiceAccount plugin would add a token volume to every pod.
    server = await startApiServer({ dataDir: join(dir, 'data'), bind: '127.0.0.1', port: 0, tlsSans: [], disableAdmissionPlugins: ['ServiceAccount'] });
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('a JSON patch that only replaces managedFields is stored with a new resourceVersion; [{}] clears them', async () => {
    const created = (await apply('mf1', 'alice', { app: 'web' }).expect(201)).body;
    const entries = created.metadata.managedFields as Entry[];
    assert.deepEqual(managers(created), ['alice/Apply']);
    const renamed = entries.map((e) => ({ ...e, manager: 'renamed' }));
    const patched = await call('patch', `${NS}/pods/mf1`).set('Content-Type', 'application/json-patch+json')
      .send([{ op: 'replace', path: '/metadata/managedFields', value: renamed }]).expect(200);
    assert.notEqual(patched.body.metadata.resourceVersion, created.metadata.resourceVersion);
    assert.deepEqual(managers(patched.body), ['renamed/Apply']);
    assert.deepEqual(managers((await call('get', `${NS}/pods/mf1`).expect(200)).body), ['renamed/Apply']);

    const cleared = await call('patch', `${NS}/pods/mf1`).set('Content-Type', 'application/json-patch+json')
      .send([{ op: 'replace', path: '/metadata/managedFields', value: [{}] }]).expect(200);
    assert.equal(cleared.body.metadata.managedFields, undefined);
    assert.notEqual(cleared.body.metadata.resourceVersion, patched.body.metadata.resourceVersion);
    const stored = (await call('get', `${NS}/pods/mf1`).expect(200)).body;
    assert.equal(stored.metadata.managedFields, undefined);
    assert.deepEqual(stored.metadata.labels, { app: 'web' });
  });

  test('an apply by a new manager of equal values adds its entry and shares ownership', async () => {
    const first = (await apply('mf2', 'alice', { app: 'web' }).expect(201)).body;
    const second = (await apply('mf2', 'bob', { app: 'web' }).expect(200)).body;
    assert.notEqual(second.metadata.resourceVersion, first.metadata.resourceVersion);
    assert.deepEqual(managers(second), ['alice/Apply', 'bob/Apply']);
    for (const entry of second.metadata.managedFields as Entry[]) {
      assert.deepEqual((entry.fieldsV1['f:metadata'] as Record<string, unknown>)['f:labels'], { 'f:app': {} }, entry.manager);
    }
    // Shared: a third manager changing the value conflicts with both owners.
    const conflict = await apply('mf2', 'carol', { app: 'db' }).expect(409);
    assert.match(conflict.body.message, /conflicts with "alice"/);
    assert.match(conflict.body.message, /conflicts with "bob"/);
    // Shared: alice dropping the label leaves it, since bob still owns it.
    const dropped = (await apply('mf2', 'alice', {}).expect(200)).body;
    assert.deepEqual(dropped.metadata.labels, { app: 'web' });
    // Re-applying the same configuration again changes nothing: same resourceVersion.
    const again = (await apply('mf2', 'bob', { app: 'web' }).expect(200)).body;
    assert.equal(again.metadata.resourceVersion, dropped.metadata.resourceVersion);
  });

  test('kubectl apply, then apply --server-side: the applier owns the fields (kubectl\'s migration)', async () => {
    const kubectl = await Kubectl.create(server.adminKubeconfigPath);
    try {
      const manifest = (labels: string) => `apiVersion: v1
kind: Pod
metadata: {name: migrated, labels: {${labels}}}
spec: {containers: [{name: c, image: nginx}]}
`;
      await kubectl.ok(['apply', '-f', '-'], { input: manifest('app: web, tier: front') });
      await kubectl.ok(['apply', '--server-side', '-f', '-'], { input: manifest('app: web, tier: front') });
      const pod = JSON.parse(await kubectl.ok(['get', 'pod', 'migrated', '-o', 'json', '--show-managed-fields']));
      assert.deepEqual(managers(pod), ['kubectl-last-applied/Apply', 'kubectl/Apply']);
      const owned = (pod.metadata.managedFields as Entry[]).find((e) => e.manager === 'kubectl')!;
      assert.deepEqual((owned.fieldsV1['f:metadata'] as Record<string, unknown>)['f:labels'], { 'f:app': {}, 'f:tier': {} });
      // Owning them, the applier removes a label by leaving it out.
      await kubectl.ok(['apply', '--server-side', '-f', '-'], { input: manifest('app: web') });
      const after = JSON.parse(await kubectl.ok(['get', 'pod', 'migrated', '-o', 'json']));
      assert.deepEqual(after.metadata.labels, { app: 'web' });
    } finally {
      await kubectl.dispose();
    }
  });
});
