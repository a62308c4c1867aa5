// CustomResourceDefinitions served at run time: Established, every verb on the custom resource,
// patch formats (strategic merge is a 415), status and scale subresources, printer columns,
// discovery and OpenAPI following CRDs as they come and go, and deletion removing the instances.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestServer, type TestServer } from './helpers/api-server.ts';
import { crdManifest, waitEstablished, waitFor } from './helpers/crds.ts';

const CRDS = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';
const CRONTABS = '/apis/stable.example.com/v1/namespaces/default/crontabs';

function cronTab(name: string, spec: Record<string, unknown> = { cronSpec: '* * * * */5', image: 'my-cron-image' }): Record<string, unknown> {
  return { apiVersion: 'stable.example.com/v1', kind: 'CronTab', metadata: { name }, spec };
}

describe('custom resources served from a CRD', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer('crd-serving');
    const res = await t.call('post', CRDS).send(crdManifest({
      shortNames: ['ct'],
      subresources: { status: {}, scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas' } },
      columns: [
        { name: 'Spec', type: 'string', jsonPath: '.spec.cronSpec', description: 'the schedule' },
        { name: 'Replicas', type: 'integer', jsonPath: '.spec.replicas' },
        { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
      ],
    }));
    assert.equal(res.status, 201, JSON.stringify(res.body));
  });
  after(async () => { await t.close(); });

  test('the CRD becomes NamesAccepted and Established with acceptedNames', async () => {
    const crd = await waitEstablished(t, 'crontabs.stable.example.com') as { status: { acceptedNames: Record<string, unknown>; conditions: { type: string; reason: string; message: string }[] } };
    assert.equal(crd.status.acceptedNames.plural, 'crontabs');
    assert.deepEqual(crd.status.acceptedNames.shortNames, ['ct']);
    const names = crd.status.conditions.find((c) => c.type === 'NamesAccepted')!;
    assert.equal(names.reason, 'NoConflicts');
    assert.equal(names.message, 'no conflicts found');
    assert.equal(crd.status.conditions.find((c) => c.type === 'Established')!.reason, 'InitialNamesAccepted');
  });

  test('create, get, list, update and delete a custom resource; defaults applied, stored under /registry/<group>/<plural>', async () => {
    const created = await t.call('post', CRONTABS).send(cronTab('one'));
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.spec.replicas, 1, 'default: 1 filled in');
    assert.equal(created.body.metadata.generation, 1);
    assert.equal(created.body.status, undefined);
    const got = await t.call('get', `${CRONTABS}/one`).expect(200);
    assert.equal(got.body.kind, 'CronTab');
    const list = await t.call('get', CRONTABS).expect(200);
    assert.equal(list.body.kind, 'CronTabList');
    assert.equal(list.body.items.length, 1);
    const all = await t.call('get', '/apis/stable.example.com/v1/crontabs').expect(200);
    assert.equal(all.body.items.length, 1);
    const updated = await t.call('put', `${CRONTABS}/one`).send({ ...got.body, spec: { ...got.body.spec, image: 'v2' } });
    assert.equal(updated.status, 200, JSON.stringify(updated.body));
    assert.equal(updated.body.metadata.generation, 2);
    await t.call('delete', `${CRONTABS}/one`).expect(200);
    await t.call('get', `${CRONTABS}/one`).expect(404);
  });

  test('schema validation errors are 422 with apiextensions wording', async () => {
    const res = await t.call('post', CRONTABS).send(cronTab('bad', { cronSpec: 'often', replicas: 20, image: 3 }));
    assert.equal(res.status, 422, JSON.stringify(res.body));
    assert.match(res.body.message, /^CronTab\.stable\.example\.com "bad" is invalid: /);
    assert.ok(res.body.message.includes('spec.replicas: Invalid value: 20: spec.replicas in body should be less than or equal to 10'), res.body.message);
    assert.ok(res.body.message.includes('spec.image: Invalid value: "integer": spec.image in body must be of type string: "integer"'), res.body.message);
    assert.ok(res.body.message.includes(`spec.cronSpec: Invalid value: "often": spec.cronSpec in body should match`), res.body.message);
  });

  test('unknown fields are pruned: Strict rejects, Warn warns, Ignore drops silently', async () => {
    const body = cronTab('pruned', { cronSpec: '* * * * *', image: 'x', colour: 'blue' });
    const strict = await t.call('post', `${CRONTABS}?fieldValidation=Strict`).send(body);
    assert.equal(strict.status, 400);
    assert.match(strict.body.message, /strict decoding error: unknown field "spec\.colour"/);
    const warn = await t.call('post', CRONTABS).send(body).expect(201);
    assert.match(String(warn.headers.warning), /unknown field \\?"spec\.colour\\?"/);
    assert.equal(warn.body.spec.colour, undefined);
  });

  test('merge patch, JSON patch and apply work; strategic merge patch is a 415', async () => {
    await t.call('post', CRONTABS).send(cronTab('patched')).expect(201);
    const merge = await t.call('patch', `${CRONTABS}/patched`).set('Content-Type', 'application/merge-patch+json').send({ spec: { image: 'merged' } });
    assert.equal(merge.status, 200, JSON.stringify(merge.body));
    assert.equal(merge.body.spec.image, 'merged');
    const json = await t.call('patch', `${CRONTABS}/patched`).set('Content-Type', 'application/json-patch+json').send([{ op: 'replace', path: '/spec/replicas', value: 3 }]);
    assert.equal(json.body.spec.replicas, 3);
    const smp = await t.call('patch', `${CRONTABS}/patched`).set('Content-Type', 'application/strategic-merge-patch+json').send({ spec: { image: 'x' } });
    assert.equal(smp.status, 415);
    assert.match(smp.body.message, /application\/json-patch\+json, application\/merge-patch\+json, application\/apply-patch\+yaml/);
    const apply = await t.call('patch', `${CRONTABS}/applied?fieldManager=test`).set('Content-Type', 'application/apply-patch+yaml')
      .send(JSON.stringify(cronTab('applied')));
    assert.equal(apply.status, 201, JSON.stringify(apply.body));
    assert.equal(apply.body.metadata.managedFields[0].manager, 'test');
    assert.ok(apply.body.metadata.managedFields[0].fieldsV1['f:spec']['f:image']);
  });

  test('status subresource: the main resource ignores status, /status ignores the rest', async () => {
    await t.call('post', CRONTABS).send({ ...cronTab('stat'), status: { replicas: 9 } }).expect(201);
    const got = await t.call('get', `${CRONTABS}/stat`).expect(200);
    assert.equal(got.body.status, undefined);
    const res = await t.call('put', `${CRONTABS}/stat/status`).send({ ...got.body, spec: { ...got.body.spec, image: 'ignored' }, status: { replicas: 2 } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.status.replicas, 2);
    assert.equal(res.body.spec.image, 'my-cron-image');
  });

  test('scale subresource reads and writes spec.replicas', async () => {
    await t.call('post', CRONTABS).send(cronTab('scaled')).expect(201);
    const scale = await t.call('get', `${CRONTABS}/scaled/scale`).expect(200);
    assert.equal(scale.body.kind, 'Scale');
    assert.equal(scale.body.apiVersion, 'autoscaling/v1');
    assert.equal(scale.body.spec.replicas, 1);
    const patched = await t.call('patch', `${CRONTABS}/scaled/scale`).set('Content-Type', 'application/merge-patch+json').send({ spec: { replicas: 4 } });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    assert.equal(patched.body.spec.replicas, 4);
    const object = await t.call('get', `${CRONTABS}/scaled`).expect(200);
    assert.equal(object.body.spec.replicas, 4);
    const negative = await t.call('patch', `${CRONTABS}/scaled/scale`).set('Content-Type', 'application/merge-patch+json').send({ spec: { replicas: -1 } });
    assert.equal(negative.status, 422);
  });

  test('Table output uses additionalPrinterColumns', async () => {
    await t.call('post', CRONTABS).send(cronTab('tabled')).expect(201);
    const res = await t.call('get', `${CRONTABS}/tabled`).set('Accept', 'application/json;as=Table;v=v1;g=meta.k8s.io').expect(200);
    assert.deepEqual(res.body.columnDefinitions.map((c: { name: string }) => c.name), ['Name', 'Spec', 'Replicas', 'Age']);
    const [name, spec, replicas, age] = res.body.rows[0].cells;
    assert.equal(name, 'tabled');
    assert.equal(spec, '* * * * */5');
    assert.equal(replicas, 1);
    assert.match(age, /^\d+s$/);
  });

  test('discovery (legacy and aggregated) and OpenAPI v2/v3 list the custom resource', async () => {
    const groups = await t.call('get', '/apis').expect(200);
    assert.ok(groups.body.groups.some((g: { name: string }) => g.name === 'stable.example.com'));
    const resources = await t.call('get', '/apis/stable.example.com/v1').expect(200);
    const entry = resources.body.resources.find((r: { name: string }) => r.name === 'crontabs');
    assert.deepEqual(entry.shortNames, ['ct']);
    assert.equal(entry.kind, 'CronTab');
    assert.ok(resources.body.resources.some((r: { name: string }) => r.name === 'crontabs/status'));
    const scale = resources.body.resources.find((r: { name: string }) => r.name === 'crontabs/scale');
    assert.equal(scale.group, 'autoscaling');
    assert.equal(scale.kind, 'Scale');
    const aggregated = await t.call('get', '/apis').set('Accept', 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList').expect(200);
    const item = aggregated.body.items.find((g: { metadata: { name: string } }) => g.metadata.name === 'stable.example.com');
    assert.equal(item.versions[0].resources[0].resource, 'crontabs');
    const root = await t.call('get', '/openapi/v3').expect(200);
    const url = root.body.paths['apis/stable.example.com/v1'].serverRelativeURL as string;
    const doc = await t.call('get', url).expect(200);
    const schema = doc.body.components.schemas['com.example.stable.v1.CronTab'];
    assert.deepEqual(schema['x-kubernetes-group-version-kind'], [{ group: 'stable.example.com', kind: 'CronTab', version: 'v1' }]);
    assert.equal(schema.properties.spec.properties.image.type, 'string');
    const patchOp = doc.body.paths['/apis/stable.example.com/v1/namespaces/{namespace}/crontabs/{name}'].patch;
    assert.ok(patchOp.parameters.some((p: { name: string }) => p.name === 'fieldValidation'));
    const v2 = await t.call('get', '/openapi/v2').expect(200);
    assert.ok(v2.body.definitions['com.example.stable.v1.CronTab']);
  });

  test('deleting the CRD deletes its objects, then stops serving it', async () => {
    await t.call('post', CRDS).send(crdManifest({ group: 'gone.example.com', plural: 'widgets', kind: 'Widget' })).expect(201);
    await waitEstablished(t, 'widgets.gone.example.com');
    const widgets = '/apis/gone.example.com/v1/namespaces/default/widgets';
    for (const name of ['w1', 'w2']) {
      await t.call('post', widgets).send({ apiVersion: 'gone.example.com/v1', kind: 'Widget', metadata: { name }, spec: {} }).expect(201);
    }
    const deleting = await t.call('delete', `${CRDS}/widgets.gone.example.com`);
    assert.ok([200, 202].includes(deleting.status), JSON.stringify(deleting.body));
    await waitFor('the CRD to go', async () => ((await t.call('get', `${CRDS}/widgets.gone.example.com`)).status === 404 ? true : undefined));
    await waitFor('widgets to stop being served', async () => ((await t.call('get', widgets)).status === 404 ? true : undefined));
    const groups = await t.call('get', '/apis').expect(200);
    assert.ok(!groups.body.groups.some((g: { name: string }) => g.name === 'gone.example.com'));
    const root = await t.call('get', '/openapi/v3').expect(200);
    assert.equal(root.body.paths['apis/gone.example.com/v1'], undefined);
  });

  test('selectableFields work in field selectors; other fields are a 400', async () => {
    const manifest = crdManifest({ group: 'select.example.com', plural: 'shirts', kind: 'Shirt', specSchema: { type: 'object', properties: { color: { type: 'string' }, size: { type: 'string' } } } });
    (manifest.spec as { versions: Record<string, unknown>[] }).versions[0].selectableFields = [{ jsonPath: '.spec.color' }];
    await t.call('post', CRDS).send(manifest).expect(201);
    await waitEstablished(t, 'shirts.select.example.com');
    const url = '/apis/select.example.com/v1/namespaces/default/shirts';
    for (const [name, color] of [['s1', 'blue'], ['s2', 'red'], ['s3', 'blue']]) {
      await t.call('post', url).send({ apiVersion: 'select.example.com/v1', kind: 'Shirt', metadata: { name }, spec: { color, size: 'M' } }).expect(201);
    }
    const blue = await t.call('get', `${url}?fieldSelector=spec.color%3Dblue`).expect(200);
    assert.deepEqual(blue.body.items.map((i: { metadata: { name: string } }) => i.metadata.name), ['s1', 's3']);
    const bad = await t.call('get', `${url}?fieldSelector=spec.size%3DM`);
    assert.equal(bad.status, 400);
  });

  test('a second CRD asking for a taken name in the group is not accepted', async () => {
    const clash = crdManifest({ plural: "crontabs2", kind: "CronTab" });
    await t.call('post', CRDS).send(clash).expect(201);
    const crd = await waitFor('NamesAccepted=False', async () => {
      const res = await t.call('get', `${CRDS}/crontabs2.stable.example.com`);
      const names = (res.body.status?.conditions ?? []).find((c: { type: string }) => c.type === 'NamesAccepted');
      return names?.status === 'False' ? res.body : undefined;
    });
    const conditions = crd.status.conditions as { type: string; status: string; reason: string; message: string }[];
    assert.equal(conditions.find((c) => c.type === 'NamesAccepted')!.reason, 'ListKindConflict');
    assert.equal(conditions.find((c) => c.type === 'NamesAccepted')!.message, '"CronTabList" is already in use');
    assert.equal(conditions.find((c) => c.type === 'Established')!.status, 'False');
    await t.call('get', '/apis/stable.example.com/v1/namespaces/default/crontabs2').expect(404);
  });
});
