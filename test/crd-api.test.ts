// apiextensions.k8s.io/v1 CustomResourceDefinition as a kind: defaulting, status on create, and
// upstream's validation messages for names, group, versions and structural schemas.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestServer, type TestServer } from './helpers/api-server.ts';
import { crdManifest } from './helpers/crds.ts';

const CRDS = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';

describe('CustomResourceDefinition kind', () => {
  let t: TestServer;
  before(async () => { t = await startTestServer('crd-api'); });
  after(async () => { await t.close(); });

  const rejectsWith = async (body: Record<string, unknown>, ...messages: string[]) => {
    const res = await t.call('post', CRDS).send(body);
    assert.equal(res.status, 422, JSON.stringify(res.body));
    assert.equal(res.body.reason, 'Invalid');
    for (const m of messages) assert.ok(res.body.message.includes(m), `${res.body.message}\n  lacks: ${m}`);
    return res.body;
  };

  test('create defaults names and conversion, records the storage version, and serves list/get', async () => {
    const res = await t.call('post', CRDS).send(crdManifest({ group: 'a.example.com' }));
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.spec.names.listKind, 'CronTabList');
    assert.deepEqual(res.body.spec.conversion, { strategy: 'None' });
    assert.deepEqual(res.body.status.storedVersions, ['v1']);
    assert.equal(res.body.metadata.generation, 1);
    const list = await t.call('get', CRDS);
    assert.ok(list.body.items.some((c: { metadata: { name: string } }) => c.metadata.name === 'crontabs.a.example.com'));
  });

  test('the name must be <plural>.<group>, and the group a domain with a dot', async () => {
    const bad = crdManifest({ group: 'b.example.com' });
    (bad.metadata as { name: string }).name = 'other.b.example.com';
    await rejectsWith(bad, 'metadata.name: Invalid value: "other.b.example.com": must be spec.names.plural+"."+spec.group');
    const noDot = crdManifest({ group: 'nodot' });
    await rejectsWith(noDot, 'spec.group: Invalid value: "nodot": should be a domain with at least one dot');
  });

  test('exactly one storage version, unique names, schemas required', async () => {
    const two = crdManifest({ group: 'c.example.com' });
    const spec = two.spec as { versions: Record<string, unknown>[] };
    spec.versions.push({ ...spec.versions[0], name: 'v2' });
    await rejectsWith(two, 'spec.versions: Invalid value:', 'must have exactly one version marked as storage version');
    const noSchema = crdManifest({ group: 'c.example.com', versions: [{ name: 'v1', served: true, storage: true }] });
    await rejectsWith(noSchema, 'spec.versions[0].schema.openAPIV3Schema: Required value: schemas are required');
  });

  test('names: kind and listKind may not be the same, DNS-1035 plural', async () => {
    const same = crdManifest({ group: 'd.example.com' });
    (same.spec as { names: Record<string, unknown> }).names.listKind = 'CronTab';
    await rejectsWith(same, 'spec.names.listKind: Invalid value: "CronTab": kind and listKind may not be the same');
    const upper = crdManifest({ group: 'd.example.com', plural: 'Crons' });
    await rejectsWith(upper, 'spec.names.plural: Invalid value: "Crons": a DNS-1035 label must consist of lower case alphanumeric characters');
  });

  test('non-structural schemas are rejected with the structural-schema messages', async () => {
    const body = crdManifest({ group: 'e.example.com', specSchema: { properties: { a: { type: 'string' } } } });
    await rejectsWith(body, 'spec.versions[0].schema.openAPIV3Schema.properties[spec].type: Required value: must not be empty for specified object fields');
    const array = crdManifest({ group: 'e.example.com', specSchema: { type: 'object', properties: { list: { type: 'array' } } } });
    await rejectsWith(array, 'spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[list].items: Required value: must be specified');
    const meta = crdManifest({ group: 'e.example.com' });
    const root = ((meta.spec as { versions: { schema: { openAPIV3Schema: { properties: Record<string, unknown> } } }[] }).versions[0].schema.openAPIV3Schema);
    root.properties.metadata = { type: 'object', properties: { labels: { type: 'object' } } };
    await rejectsWith(meta, 'spec.versions[0].schema.openAPIV3Schema.properties[metadata]: Forbidden: must not specify anything other than name and generateName, but metadata is implicitly specified');
    const unique = crdManifest({ group: 'e.example.com', specSchema: { type: 'object', properties: { l: { type: 'array', uniqueItems: true, items: { type: 'string' } } } } });
    await rejectsWith(unique, 'uniqueItems cannot be set to true since the runtime complexity becomes quadratic');
  });

  test('group and plural are immutable', async () => {
    await t.call('post', CRDS).send(crdManifest({ group: 'f.example.com' })).expect(201);
    const res = await t.call('patch', `${CRDS}/crontabs.f.example.com`).set('Content-Type', 'application/merge-patch+json')
      .send({ spec: { group: 'g.example.com' } });
    assert.equal(res.status, 422);
    assert.match(res.body.message, /spec\.group: Invalid value: "g\.example\.com": field is immutable/);
  });
});
