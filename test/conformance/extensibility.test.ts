// Conformance catalogue: CustomResourceDefinitions, admission webhooks and ValidatingAdmissionPolicy.
// Each test is named exactly after its `testname` in ../shared/k8s-conformance/conformance.yaml and
// checks what the entry's description says against a running server. Where the upstream test uses
// ConfigMaps (not served here), pods or custom resources stand in; entries that need what this
// server lacks (pod attach, Deployments) are not listed here.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { podManifest, startTestServer, type TestServer } from '../helpers/api-server.ts';
import { crdManifest, waitEstablished, waitFor } from '../helpers/crds.ts';
import { openWatch } from '../helpers/watch-client.ts';
import { Kubectl } from '../helpers/kubectl.ts';
import { addLabelPatch, startWebhookServer, type WebhookServer } from '../helpers/webhook-server.ts';

const CRDS = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';
const VWC = '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations';
const MWC = '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations';
const VAP = '/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies';
const VAPB = '/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings';
const PODS = '/api/v1/namespaces/default/pods';
const MERGE = 'application/merge-patch+json';

let t: TestServer;
let hook: WebhookServer;
let counter = 0;
const unique = (prefix: string): string => `${prefix}${++counter}`;

async function createCrd(options: Parameters<typeof crdManifest>[0]): Promise<Record<string, unknown>> {
  const manifest = crdManifest(options);
  const res = await t.call('post', CRDS).send(manifest);
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return waitEstablished(t, (manifest.metadata as { name: string }).name);
}

function webhook(name: string, path: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name, clientConfig: { url: `${hook.url}${path}`, caBundle: hook.caBundle },
    rules: [{ operations: ['CREATE', 'UPDATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }],
    sideEffects: 'None', admissionReviewVersions: ['v1'], ...extra,
  };
}

function config(kind: 'ValidatingWebhookConfiguration' | 'MutatingWebhookConfiguration', name: string, webhooks: Record<string, unknown>[], labels?: Record<string, string>): Record<string, unknown> {
  return { apiVersion: 'admissionregistration.k8s.io/v1', kind, metadata: { name, ...(labels ? { labels } : {}) }, webhooks };
}

const label = (name: string, labels: Record<string, string>) => podManifest(name, { labels });

interface ConversionRequestJson { desiredAPIVersion: string; objects: { apiVersion: string; spec?: Record<string, unknown> }[] }

describe('extensibility conformance', () => {
  before(async () => {
    t = await startTestServer('conformance-extensibility');
    hook = await startWebhookServer(async (request, path) => {
      const labels = request.object?.metadata?.labels;
      const route = path.split('?')[0];
      switch (route) {
        case '/deny-noncompliant':
          return labels?.compliant === 'false' ? { allowed: false, status: { message: 'the pod is not compliant' } } : { allowed: true };
        case '/deny-all': return { allowed: false, status: { message: 'denied by deny-all' } };
        case '/hang': await new Promise((r) => setTimeout(r, 2000)); return { allowed: true };
        case '/add-first': return labels?.start ? addLabelPatch(labels, 'first', 'yes') : { allowed: true };
        case '/add-second': return labels?.first ? addLabelPatch(labels, 'second', 'yes') : { allowed: true };
        case '/mutate-label': return addLabelPatch(labels, 'mutated', 'yes');
        case '/mutate-cr': {
          const ops = [{ op: 'add', path: '/spec/mutatedField', value: 'set-by-webhook' }, { op: 'add', path: '/spec/prunedField', value: 'pruned' }];
          return { allowed: true, patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(ops)).toString('base64') };
        }
        case '/convert': {
          const review = request as unknown as ConversionRequestJson;
          const convertedObjects = review.objects.map((object) => {
            const spec = object.spec ?? {};
            const converted = review.desiredAPIVersion.endsWith('/v2')
              ? { host: String(spec.hostPort ?? '').split(':')[0], port: String(spec.hostPort ?? '').split(':')[1] }
              : { hostPort: `${String(spec.host)}:${String(spec.port)}` };
            return { ...object, apiVersion: review.desiredAPIVersion, spec: converted };
          });
          return { convertedObjects, result: { status: 'Success' } };
        }
        case '/add-init-container': {
          const ops = [{ op: 'add', path: '/spec/initContainers', value: [{ name: 'webhook-added', image: 'busybox' }] }];
          return { allowed: true, patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(ops)).toString('base64') };
        }
        default: return { allowed: true };
      }
    });
  });
  after(async () => {
    await t.close();
    await hook.close();
  });

  // ---- CustomResourceDefinition ----

  test('Custom Resource Definition, create', async () => {
    const group = `${unique('create')}.example.com`;
    await createCrd({ group });
    await t.call('delete', `${CRDS}/crontabs.${group}`).expect(200);
    await waitFor('CRD removed', async () => ((await t.call('get', `${CRDS}/crontabs.${group}`)).status === 404 ? true : undefined));
  });

  test('Custom Resource Definition, list', async () => {
    const run = unique('run');
    for (let i = 0; i < 10; i++) {
      const manifest = crdManifest({ group: `l${i}.${run}.example.com` });
      (manifest.metadata as Record<string, unknown>).labels = { 'e2e-list-test': run };
      await t.call('post', CRDS).send(manifest).expect(201);
    }
    await t.call('post', CRDS).send(crdManifest({ group: `unlabelled.${run}.example.com` })).expect(201);
    const listed = await t.call('get', `${CRDS}?labelSelector=e2e-list-test%3D${run}`).expect(200);
    assert.equal(listed.body.items.length, 10);
    await t.call('delete', `${CRDS}?labelSelector=e2e-list-test%3D${run}`).expect(200);
    await waitFor('labelled CRDs deleted', async () => ((await t.call('get', `${CRDS}?labelSelector=e2e-list-test%3D${run}`)).body.items.length === 0 ? true : undefined));
    await t.call('get', `${CRDS}/crontabs.unlabelled.${run}.example.com`).expect(200);
  });

  test('Custom Resource Definition, status sub-resource', async () => {
    const group = `${unique('status')}.example.com`;
    await createCrd({ group });
    const name = `${CRDS}/crontabs.${group}`;
    const got = await t.call('get', `${name}/status`).expect(200);
    got.body.status.conditions.push({ type: 'StatusUpdated', status: 'True', reason: 'E2E', message: 'Set from e2e test', lastTransitionTime: new Date().toISOString().replace(/\.\d+Z/, 'Z') });
    await t.call('put', `${name}/status`).send(got.body).expect(200);
    const afterUpdate = await t.call('get', name).expect(200);
    assert.ok(afterUpdate.body.status.conditions.some((c: { type: string }) => c.type === 'StatusUpdated'));
    await t.call('patch', `${name}/status`).set('Content-Type', 'application/json-patch+json')
      .send([{ op: 'add', path: '/status/conditions/-', value: { type: 'StatusPatched', status: 'True', reason: 'E2E', message: 'patched', lastTransitionTime: new Date().toISOString().replace(/\.\d+Z/, 'Z') } }]).expect(200);
    const afterPatch = await t.call('get', name).expect(200);
    assert.ok(afterPatch.body.status.conditions.some((c: { type: string }) => c.type === 'StatusPatched'));
  });

  test('Custom Resource Definition, watch', async () => {
    const group = `${unique('watch')}.example.com`;
    await createCrd({ group, scope: 'Cluster' });
    const url = `/apis/${group}/v1/crontabs`;
    const watch = await openWatch(t, `${url}?watch=true`);
    try {
      await t.call('post', url).send({ apiVersion: `${group}/v1`, kind: 'CronTab', metadata: { name: 'w' }, spec: { image: 'a' } }).expect(201);
      await t.call('patch', `${url}/w`).set('Content-Type', MERGE).send({ spec: { image: 'b' } }).expect(200);
      await t.call('delete', `${url}/w`).expect(200);
      const events = await watch.take(3);
      assert.deepEqual(events.map((e) => e.type), ['ADDED', 'MODIFIED', 'DELETED']);
    } finally {
      watch.close();
    }
  });

  test('Custom Resource Definition, defaulting', async () => {
    const group = `${unique('default')}.example.com`;
    await createCrd({ group, specSchema: { type: 'object', properties: { a: { type: 'string' }, b: { type: 'string' } } } });
    const url = `/apis/${group}/v1/namespaces/default/crontabs`;
    await t.call('post', url).send({ apiVersion: `${group}/v1`, kind: 'CronTab', metadata: { name: 'first' }, spec: {} }).expect(201);
    const setDefault = async (field: string | undefined, other: string | undefined) => {
      const crd = await t.call('get', `${CRDS}/crontabs.${group}`).expect(200);
      const props = crd.body.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties;
      if (field) props[field].default = 'A';
      if (other) delete props[other].default;
      await t.call('put', `${CRDS}/crontabs.${group}`).send(crd.body).expect(200);
    };
    await setDefault('a', undefined);
    await waitFor('default read from storage', async () => ((await t.call('get', `${url}/first`)).body.spec?.a === 'A' ? true : undefined));
    const second = await t.call('post', url).send({ apiVersion: `${group}/v1`, kind: 'CronTab', metadata: { name: 'second' }, spec: {} }).expect(201);
    assert.equal(second.body.spec.a, 'A');
    await setDefault('b', 'a');
    const read = await waitFor('new default', async () => {
      const res = await t.call('get', `${url}/second`);
      return res.body.spec?.b === 'A' ? res.body : undefined;
    });
    assert.equal(read.spec.a, 'A', 'the persisted default stays');
  });

  test('Custom Resource Definition, discovery', async () => {
    const apis = await t.call('get', '/apis').expect(200);
    const group = apis.body.groups.find((g: { name: string }) => g.name === 'apiextensions.k8s.io');
    assert.equal(group.preferredVersion.groupVersion, 'apiextensions.k8s.io/v1');
    const groupDoc = await t.call('get', '/apis/apiextensions.k8s.io').expect(200);
    assert.ok(groupDoc.body.versions.some((v: { groupVersion: string }) => v.groupVersion === 'apiextensions.k8s.io/v1'));
    const resources = await t.call('get', '/apis/apiextensions.k8s.io/v1').expect(200);
    assert.ok(resources.body.resources.some((r: { name: string; kind: string }) => r.name === 'customresourcedefinitions' && r.kind === 'CustomResourceDefinition'));
  });

  test('Aggregated Discovery Interface CRDs', async () => {
    const group = `${unique('aggregated')}.example.com`;
    await createCrd({ group });
    const res = await t.call('get', '/apis').set('Accept', 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList').expect(200);
    const item = res.body.items.find((g: { metadata: { name: string } }) => g.metadata.name === group);
    assert.equal(item.versions[0].resources[0].resource, 'crontabs');
  });

  test('Aggregated Discovery Endpoint Accept Headers CRDs', async () => {
    const group = `${unique('accept')}.example.com`;
    await createCrd({ group });
    for (const accept of ['application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList', 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json']) {
      const res = await t.call('get', '/apis').set('Accept', accept).expect(200);
      assert.match(String(res.headers['content-type']), /as=APIGroupDiscoveryList/);
      assert.ok(res.body.items.some((g: { metadata: { name: string } }) => g.metadata.name === group));
    }
  });

  const openApiHas = async (gv: string, definition: string): Promise<boolean> => {
    const root = await t.call('get', '/openapi/v3').expect(200);
    const entry = root.body.paths[`apis/${gv}`];
    if (!entry) return false;
    const doc = await t.call('get', entry.serverRelativeURL).expect(200);
    return Boolean(doc.body.components.schemas[definition]);
  };

  test('Custom Resource OpenAPI Publish, varying groups', async () => {
    const a = `${unique('groupa')}.example.com`;
    const b = `${unique('groupb')}.example.com`;
    await createCrd({ group: a });
    await createCrd({ group: b });
    assert.ok(await openApiHas(`${a}/v1`, `com.example.${a.split('.')[0]}.v1.CronTab`));
    assert.ok(await openApiHas(`${b}/v1`, `com.example.${b.split('.')[0]}.v1.CronTab`));
  });

  test('Custom Resource OpenAPI Publish, varying kinds', async () => {
    const group = `${unique('kinds')}.example.com`;
    await createCrd({ group, plural: 'foos', kind: 'Foo' });
    await createCrd({ group, plural: 'bars', kind: 'Bar' });
    const prefix = `com.example.${group.split('.')[0]}.v1`;
    assert.ok(await openApiHas(`${group}/v1`, `${prefix}.Foo`));
    assert.ok(await openApiHas(`${group}/v1`, `${prefix}.Bar`));
  });

  const twoVersions = (group: string): Record<string, unknown>[] => {
    const version = (crdManifest({ group }).spec as { versions: Record<string, unknown>[] }).versions[0];
    return [{ ...structuredClone(version), name: 'v2', storage: false }, version];
  };

  test('Custom Resource OpenAPI Publish, varying versions', async () => {
    const group = `${unique('versions')}.example.com`;
    await createCrd({ group, versions: twoVersions(group) });
    const prefix = `com.example.${group.split('.')[0]}`;
    assert.ok(await openApiHas(`${group}/v1`, `${prefix}.v1.CronTab`));
    assert.ok(await openApiHas(`${group}/v2`, `${prefix}.v2.CronTab`));
  });

  test('Custom Resource OpenAPI Publish, stop serving version', async () => {
    const group = `${unique('stop')}.example.com`;
    await createCrd({ group, versions: twoVersions(group) });
    const prefix = `com.example.${group.split('.')[0]}`;
    await t.call('patch', `${CRDS}/crontabs.${group}`).set('Content-Type', 'application/json-patch+json').send([{ op: 'replace', path: '/spec/versions/0/served', value: false }]).expect(200);
    await waitFor('v2 unpublished', async () => (!(await openApiHas(`${group}/v2`, `${prefix}.v2.CronTab`)) ? true : undefined));
    assert.ok(await openApiHas(`${group}/v1`, `${prefix}.v1.CronTab`));
  });

  test('Custom Resource OpenAPI Publish, version rename', async () => {
    const group = `${unique('rename')}.example.com`;
    await createCrd({ group, versions: twoVersions(group) });
    const prefix = `com.example.${group.split('.')[0]}`;
    await t.call('patch', `${CRDS}/crontabs.${group}`).set('Content-Type', 'application/json-patch+json').send([{ op: 'replace', path: '/spec/versions/0/name', value: 'v3' }]).expect(200);
    await waitFor('v3 published', async () => ((await openApiHas(`${group}/v3`, `${prefix}.v3.CronTab`)) ? true : undefined));
    assert.equal(await openApiHas(`${group}/v2`, `${prefix}.v2.CronTab`), false);
    assert.ok(await openApiHas(`${group}/v1`, `${prefix}.v1.CronTab`));
  });

  test('Server side field validation, unknown fields CR no validation schema', async () => {
    const group = `${unique('noschema')}.example.com`;
    await createCrd({ group, versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }] });
    const res = await t.call('patch', `/apis/${group}/v1/namespaces/default/crontabs/x?fieldManager=e2e&fieldValidation=Strict`).set('Content-Type', 'application/apply-patch+yaml')
      .send(JSON.stringify({ apiVersion: `${group}/v1`, kind: 'CronTab', metadata: { name: 'x' }, spec: { anything: { nested: 1 } } }));
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.spec.anything.nested, 1);
  });

  test('Server side field validation, valid CR with validation schema', async () => {
    const group = `${unique('valid')}.example.com`;
    await createCrd({ group });
    const res = await t.call('patch', `/apis/${group}/v1/namespaces/default/crontabs/x?fieldManager=e2e&fieldValidation=Strict`).set('Content-Type', 'application/apply-patch+yaml')
      .send(JSON.stringify({ apiVersion: `${group}/v1`, kind: 'CronTab', metadata: { name: 'x' }, spec: { image: 'i', replicas: 2 } }));
    assert.equal(res.status, 201, JSON.stringify(res.body));
  });

  test('Server side field validation, unknown fields CR fails validation', async () => {
    const group = `${unique('unknown')}.example.com`;
    await createCrd({ group });
    const res = await t.call('post', `/apis/${group}/v1/namespaces/default/crontabs?fieldValidation=Strict`)
      .send({ apiVersion: `${group}/v1`, kind: 'CronTab', metadata: { name: 'x' }, spec: { image: 'i', unknownA: 1, unknownB: 2 } });
    assert.equal(res.status, 400);
    assert.match(res.body.message, /strict decoding error: unknown field "spec\.unknownA", unknown field "spec\.unknownB"/);
  });

  test('Server side field validation, unknown metadata', async () => {
    const group = `${unique('meta')}.example.com`;
    await createCrd({
      group,
      specSchema: { type: 'object', properties: { template: { type: 'object', 'x-kubernetes-embedded-resource': true, 'x-kubernetes-preserve-unknown-fields': true } } },
    });
    const res = await t.call('post', `/apis/${group}/v1/namespaces/default/crontabs?fieldValidation=Strict`).send({
      apiVersion: `${group}/v1`, kind: 'CronTab', metadata: { name: 'x', unknownMeta: 'a' },
      spec: { template: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', unknownSubMeta: 'b' } } },
    });
    assert.equal(res.status, 400);
    assert.match(res.body.message, /unknown field "metadata\.unknownMeta"/);
    assert.match(res.body.message, /unknown field "spec\.template\.metadata\.unknownSubMeta"/);
  });

  // ---- OpenAPI publishing seen by kubectl (validation and explain) ----

  async function publishCrd(group: string, kind: string, schema: Record<string, unknown>): Promise<Kubectl> {
    const plural = `${kind.toLowerCase()}s`;
    const manifest = crdManifest({ group, plural, kind, versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: schema } }] });
    await t.call('post', CRDS).send(manifest).expect(201);
    await waitEstablished(t, `${plural}.${group}`);
    return Kubectl.create(t.server.adminKubeconfigPath);
  }

  const object = (group: string, kind: string, name: string, body: Record<string, unknown>): string =>
    JSON.stringify({ apiVersion: `${group}/v1`, kind, metadata: { name }, ...body });

  test('Custom Resource OpenAPI Publish, with validation schema', async () => {
    const group = `${unique('publish')}.example.com`;
    const kubectl = await publishCrd(group, 'Waldo', {
      type: 'object', description: 'Waldo is hiding somewhere',
      properties: {
        spec: {
          type: 'object', description: 'Specification of Waldo',
          properties: { bars: { type: 'array', description: 'List of Bars and their specs.', items: { type: 'object', required: ['name'], properties: { name: { type: 'string', description: 'Name of Bar.' }, age: { type: 'string', description: 'Age of Bar.' } } } } },
        },
      },
    });
    try {
      await kubectl.ok(['apply', '-f', '-'], { input: object(group, 'Waldo', 'valid', { spec: { bars: [{ name: 'test-bar' }] } }) });
      const unknown = await kubectl.run(['apply', '-f', '-'], { input: object(group, 'Waldo', 'unknown', { spec: { bars: [{ name: 'x', unknown: 1 }] } }) });
      assert.notEqual(unknown.code, 0);
      assert.match(unknown.stderr, /unknown field "spec\.bars\[0\]\.unknown"/);
      const missing = await kubectl.run(['apply', '-f', '-'], { input: object(group, 'Waldo', 'missing', { spec: { bars: [{ age: '10' }] } }) });
      assert.notEqual(missing.code, 0);
      assert.match(missing.stderr, /spec\.bars\[0\]\.name: Required value/);
      assert.match(await kubectl.ok(['explain', 'waldos']), /Waldo is hiding somewhere/);
      assert.match(await kubectl.ok(['explain', 'waldos.spec.bars']), /List of Bars and their specs\.[\s\S]*name\s+<string> -required-/);
    } finally {
      await kubectl.dispose();
    }
  });

  for (const [where, schema, body, explainPath, expected] of [
    ['at root', { type: 'object', 'x-kubernetes-preserve-unknown-fields': true }, { a: { b: 1 }, spec: { anything: true } }, 'rootpreserves', /KIND:\s+RootPreserve/],
    ['in object', { type: 'object', properties: { spec: { type: 'object', description: 'Specification of anything', 'x-kubernetes-preserve-unknown-fields': true } } }, { spec: { anything: { nested: true } } }, 'objectpreserves.spec', /Specification of anything/],
    ['in embedded object', {
      type: 'object',
      properties: { spec: { type: 'object', properties: { template: { type: 'object', description: 'An embedded resource that keeps unknown fields', 'x-kubernetes-embedded-resource': true, 'x-kubernetes-preserve-unknown-fields': true } } } },
    }, { spec: { template: { apiVersion: 'v1', kind: 'Whatever', metadata: { name: 'inner' }, extra: { x: 1 } } } }, 'embeddedpreserves.spec.template', /An embedded resource that keeps unknown fields/],
  ] as const) {
    test(`Custom Resource OpenAPI Publish, with x-kubernetes-preserve-unknown-fields ${where}`, async () => {
      const group = `${unique('preserve')}.example.com`;
      const kind = where === 'at root' ? 'RootPreserve' : where === 'in object' ? 'ObjectPreserve' : 'EmbeddedPreserve';
      const kubectl = await publishCrd(group, kind, schema as Record<string, unknown>);
      try {
        await kubectl.ok(['apply', '-f', '-'], { input: object(group, kind, 'one', body as Record<string, unknown>) });
        const changed = JSON.parse(object(group, kind, 'one', body as Record<string, unknown>)) as Record<string, unknown>;
        changed.metadata = { name: 'one', labels: { changed: 'yes' } };
        await kubectl.ok(['apply', '-f', '-'], { input: JSON.stringify(changed) });
        const stored = JSON.parse(await kubectl.ok(['get', `${kind.toLowerCase()}s`, 'one', '-o', 'json'])) as Record<string, unknown>;
        for (const key of Object.keys(body)) assert.deepEqual(stored[key], (body as Record<string, unknown>)[key], `${key} kept`);
        assert.match(await kubectl.ok(['explain', explainPath]), expected);
      } finally {
        await kubectl.dispose();
      }
    });
  }

  // ---- Conversion webhooks ----

  /** A CRD with v1 (spec.hostPort "host:port") and v2 (spec.host, spec.port), converted by the test's webhook. */
  async function conversionCrd(group: string, storage: 'v1' | 'v2'): Promise<void> {
    const schema = (properties: Record<string, unknown>) => ({ openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties } } } });
    const manifest = crdManifest({
      group,
      versions: [
        { name: 'v1', served: true, storage: storage === 'v1', schema: schema({ hostPort: { type: 'string' } }) },
        { name: 'v2', served: true, storage: storage === 'v2', schema: schema({ host: { type: 'string' }, port: { type: 'string' } }) },
      ],
    });
    (manifest.spec as Record<string, unknown>).conversion = {
      strategy: 'Webhook',
      webhook: { conversionReviewVersions: ['v1'], clientConfig: { url: `${hook.url}/convert`, caBundle: hook.caBundle } },
    };
    const existing = await t.call('get', `${CRDS}/crontabs.${group}`);
    if (existing.status === 200) {
      await t.call('put', `${CRDS}/crontabs.${group}`).send({ ...manifest, metadata: existing.body.metadata, status: existing.body.status }).expect(200);
      await new Promise((r) => setTimeout(r, 100));
    } else {
      await t.call('post', CRDS).send(manifest).expect(201);
      await waitEstablished(t, `crontabs.${group}`);
    }
  }

  test('Custom Resource Definition Conversion Webhook, conversion custom resource', async () => {
    const group = `${unique('convert')}.example.com`;
    await conversionCrd(group, 'v1');
    await t.call('post', `/apis/${group}/v1/namespaces/default/crontabs`).send({ apiVersion: `${group}/v1`, kind: 'CronTab', metadata: { name: 'c1' }, spec: { hostPort: 'localhost:8080' } }).expect(201);
    const v2 = await t.call('get', `/apis/${group}/v2/namespaces/default/crontabs/c1`);
    assert.equal(v2.status, 200, JSON.stringify(v2.body));
    assert.equal(v2.body.apiVersion, `${group}/v2`);
    assert.deepEqual(v2.body.spec, { host: 'localhost', port: '8080' });
  });

  test('Custom Resource Definition Conversion Webhook, convert mixed version list', async () => {
    const group = `${unique('mixed')}.example.com`;
    await conversionCrd(group, 'v1');
    await t.call('post', `/apis/${group}/v1/namespaces/default/crontabs`).send({ apiVersion: `${group}/v1`, kind: 'CronTab', metadata: { name: 'stored-v1' }, spec: { hostPort: 'a:1' } }).expect(201);
    await conversionCrd(group, 'v2');
    await t.call('post', `/apis/${group}/v2/namespaces/default/crontabs`).send({ apiVersion: `${group}/v2`, kind: 'CronTab', metadata: { name: 'stored-v2' }, spec: { host: 'b', port: '2' } }).expect(201);
    const list = await t.call('get', `/apis/${group}/v2/namespaces/default/crontabs`).expect(200);
    assert.deepEqual(list.body.items.map((i: { apiVersion: string; spec: unknown }) => [i.apiVersion, i.spec]), [
      [`${group}/v2`, { host: 'a', port: '1' }], [`${group}/v2`, { host: 'b', port: '2' }],
    ]);
    const v1 = await t.call('get', `/apis/${group}/v1/namespaces/default/crontabs/stored-v2`).expect(200);
    assert.deepEqual(v1.body.spec, { hostPort: 'b:2' });
  });

  // ---- Admission webhooks ----

  test('Admission webhook, discovery document', async () => {
    const apis = await t.call('get', '/apis').expect(200);
    const group = apis.body.groups.find((g: { name: string }) => g.name === 'admissionregistration.k8s.io');
    assert.ok(group.versions.some((v: { groupVersion: string }) => v.groupVersion === 'admissionregistration.k8s.io/v1'));
    const resources = await t.call('get', '/apis/admissionregistration.k8s.io/v1').expect(200);
    const names = resources.body.resources.map((r: { name: string }) => r.name);
    assert.ok(names.includes('mutatingwebhookconfigurations'));
    assert.ok(names.includes('validatingwebhookconfigurations'));
  });

  test('Admission webhook, deny create', async () => {
    await t.call('post', '/api/v1/namespaces').send({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'exempt', labels: { 'skip-webhook': 'yes' } } }).expect(201);
    await t.call('post', VWC).send(config('ValidatingWebhookConfiguration', 'deny-create', [
      webhook('deny-noncompliant.example.com', '/deny-noncompliant', { namespaceSelector: { matchExpressions: [{ key: 'skip-webhook', operator: 'DoesNotExist' }] } }),
      webhook('hang.example.com', '/hang', { timeoutSeconds: 1, objectSelector: { matchLabels: { hang: 'yes' } } }),
    ])).expect(201);
    const denied = await t.call('post', PODS).send(label('noncompliant', { compliant: 'false' }));
    assert.equal(denied.status, 400);
    assert.equal(denied.body.message, 'admission webhook "deny-noncompliant.example.com" denied the request: the pod is not compliant');
    await t.call('post', PODS).send(label('compliant', { compliant: 'true' })).expect(201);
    const patched = await t.call('patch', `${PODS}/compliant`).set('Content-Type', MERGE).send({ metadata: { labels: { compliant: 'false' } } });
    assert.equal(patched.status, 400);
    const hung = await t.call('post', PODS).send(label('hung', { hang: 'yes' }));
    assert.equal(hung.status, 500);
    assert.match(hung.body.message, /failed calling webhook "hang\.example\.com": failed to call webhook: Post ".*": context deadline exceeded/);
    await t.call('post', '/api/v1/namespaces/exempt/pods').send(label('noncompliant', { compliant: 'false' })).expect(201);
    await t.call('delete', `${VWC}/deny-create`).expect(200);
  });

  test('Admission webhook, honor timeout', async () => {
    const cases: [number, string, number][] = [[1, 'Fail', 500], [1, 'Ignore', 201], [10, 'Fail', 201]];
    for (const [timeoutSeconds, failurePolicy, expected] of cases) {
      await t.call('post', VWC).send(config('ValidatingWebhookConfiguration', 'slow', [webhook('slow.example.com', '/hang', { timeoutSeconds, failurePolicy, objectSelector: { matchLabels: { slow: 'yes' } } })])).expect(201);
      const res = await t.call('post', PODS).send(label(unique('slow-'), { slow: 'yes' }));
      assert.equal(res.status, expected, `timeout ${timeoutSeconds}s, ${failurePolicy}: ${JSON.stringify(res.body)}`);
      if (expected === 500) assert.match(res.body.message, /context deadline exceeded/);
      await t.call('delete', `${VWC}/slow`).expect(200);
    }
  });

  test('Admission webhook, list validating webhooks', async () => {
    const run = unique('vlist');
    for (let i = 0; i < 10; i++) {
      await t.call('post', VWC).send(config('ValidatingWebhookConfiguration', `${run}-${i}`, [webhook(`deny-${i}.${run}.example.com`, '/deny-all', { objectSelector: { matchLabels: { list: run } } })], { 'e2e-list': run })).expect(201);
    }
    const listed = await t.call('get', `${VWC}?labelSelector=e2e-list%3D${run}`).expect(200);
    assert.equal(listed.body.items.length, 10);
    assert.equal((await t.call('post', PODS).send(label(`${run}-a`, { list: run }))).status, 400);
    await t.call('delete', `${VWC}?labelSelector=e2e-list%3D${run}`).expect(200);
    assert.equal((await t.call('get', `${VWC}?labelSelector=e2e-list%3D${run}`)).body.items.length, 0);
    await t.call('post', PODS).send(label(`${run}-b`, { list: run })).expect(201);
  });

  test('Admission webhook, list mutating webhooks', async () => {
    const run = unique('mlist');
    for (let i = 0; i < 10; i++) {
      await t.call('post', MWC).send(config('MutatingWebhookConfiguration', `${run}-${i}`, [webhook(`mutate-${i}.${run}.example.com`, '/mutate-label', { objectSelector: { matchLabels: { list: run } } })], { 'e2e-list': run })).expect(201);
    }
    assert.equal((await t.call('get', `${MWC}?labelSelector=e2e-list%3D${run}`).expect(200)).body.items.length, 10);
    const mutated = await t.call('post', PODS).send(label(`${run}-a`, { list: run })).expect(201);
    assert.equal(mutated.body.metadata.labels.mutated, 'yes');
    await t.call('delete', `${MWC}?labelSelector=e2e-list%3D${run}`).expect(200);
    const plain = await t.call('post', PODS).send(label(`${run}-b`, { list: run })).expect(201);
    assert.equal(plain.body.metadata.labels.mutated, undefined);
  });

  test('Admission webhook, update validating webhook', async () => {
    await t.call('post', VWC).send(config('ValidatingWebhookConfiguration', 'updatable', [webhook('updatable.example.com', '/deny-all', { objectSelector: { matchLabels: { update: 'v' } } })])).expect(201);
    await t.call('patch', `${VWC}/updatable`).set('Content-Type', 'application/json-patch+json').send([{ op: 'replace', path: '/webhooks/0/rules/0/operations', value: ['UPDATE'] }]).expect(200);
    await t.call('post', PODS).send(label('uv-1', { update: 'v' })).expect(201);
    await t.call('patch', `${VWC}/updatable`).set('Content-Type', 'application/json-patch+json').send([{ op: 'replace', path: '/webhooks/0/rules/0/operations', value: ['CREATE'] }]).expect(200);
    assert.equal((await t.call('post', PODS).send(label('uv-2', { update: 'v' }))).status, 400);
    await t.call('delete', `${VWC}/updatable`).expect(200);
  });

  test('Admission webhook, update mutating webhook', async () => {
    await t.call('post', MWC).send(config('MutatingWebhookConfiguration', 'updatable', [webhook('updatable.example.com', '/mutate-label', { objectSelector: { matchLabels: { update: 'm' } } })])).expect(201);
    await t.call('patch', `${MWC}/updatable`).set('Content-Type', 'application/json-patch+json').send([{ op: 'replace', path: '/webhooks/0/rules/0/operations', value: ['UPDATE'] }]).expect(200);
    assert.equal((await t.call('post', PODS).send(label('um-1', { update: 'm' })).expect(201)).body.metadata.labels.mutated, undefined);
    await t.call('patch', `${MWC}/updatable`).set('Content-Type', 'application/json-patch+json').send([{ op: 'replace', path: '/webhooks/0/rules/0/operations', value: ['CREATE'] }]).expect(200);
    assert.equal((await t.call('post', PODS).send(label('um-2', { update: 'm' })).expect(201)).body.metadata.labels.mutated, 'yes');
    await t.call('delete', `${MWC}/updatable`).expect(200);
  });

  test('Admission webhook, ordered mutation', async () => {
    await t.call('post', MWC).send(config('MutatingWebhookConfiguration', 'ordered', [
      webhook('first.example.com', '/add-first', { objectSelector: { matchLabels: { start: 'yes' } } }),
      webhook('second.example.com', '/add-second', { objectSelector: { matchLabels: { start: 'yes' } } }),
    ])).expect(201);
    const pod = await t.call('post', PODS).send(label('ordered', { start: 'yes' })).expect(201);
    assert.equal(pod.body.metadata.labels.first, 'yes');
    assert.equal(pod.body.metadata.labels.second, 'yes');
    await t.call('delete', `${MWC}/ordered`).expect(200);
  });

  test('Mutating Admission webhook, mutating webhook excluding object with specific name', async () => {
    await t.call('post', MWC).send(config('MutatingWebhookConfiguration', 'skip-me', [
      webhook('skip-me.example.com', '/mutate-label', { objectSelector: { matchLabels: { skip: 'test' } }, matchConditions: [{ name: 'skip-me', expression: "object.metadata.name != 'skip-me'" }] }),
    ])).expect(201);
    assert.equal((await t.call('post', PODS).send(label('skip-me', { skip: 'test' })).expect(201)).body.metadata.labels.mutated, undefined);
    assert.equal((await t.call('post', PODS).send(label('do-not-skip', { skip: 'test' })).expect(201)).body.metadata.labels.mutated, 'yes');
    await t.call('delete', `${MWC}/skip-me`).expect(200);
  });

  test('Admission webhook, mutation with defaulting', async () => {
    await t.call('post', MWC).send(config('MutatingWebhookConfiguration', 'init', [webhook('init.example.com', '/add-init-container', { objectSelector: { matchLabels: { init: 'yes' } } })])).expect(201);
    const pod = await t.call('post', PODS).send(label('with-init', { init: 'yes' })).expect(201);
    assert.equal(pod.body.spec.initContainers[0].name, 'webhook-added');
    assert.equal(pod.body.spec.initContainers[0].terminationMessagePolicy, 'File');
    await t.call('delete', `${MWC}/init`).expect(200);
  });

  test('Admission webhook, mutate custom resource', async () => {
    const group = `${unique('mutatecr')}.example.com`;
    await createCrd({ group, specSchema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } });
    await t.call('post', MWC).send(config('MutatingWebhookConfiguration', 'mutate-cr', [webhook('mutate-cr.example.com', '/mutate-cr', { rules: [{ operations: ['CREATE'], apiGroups: [group], apiVersions: ['v1'], resources: ['crontabs'] }] })])).expect(201);
    const cr = await t.call('post', `/apis/${group}/v1/namespaces/default/crontabs`).send({ apiVersion: `${group}/v1`, kind: 'CronTab', metadata: { name: 'm' }, spec: {} }).expect(201);
    assert.equal(cr.body.spec.mutatedField, 'set-by-webhook');
    await t.call('delete', `${MWC}/mutate-cr`).expect(200);
  });

  test('Admission webhook, mutate custom resource with pruning', async () => {
    const group = `${unique('prunecr')}.example.com`;
    await createCrd({ group, specSchema: { type: 'object', properties: { mutatedField: { type: 'string' } } } });
    await t.call('post', MWC).send(config('MutatingWebhookConfiguration', 'prune-cr', [webhook('prune-cr.example.com', '/mutate-cr', { rules: [{ operations: ['CREATE'], apiGroups: [group], apiVersions: ['v1'], resources: ['crontabs'] }] })])).expect(201);
    const cr = await t.call('post', `/apis/${group}/v1/namespaces/default/crontabs`).send({ apiVersion: `${group}/v1`, kind: 'CronTab', metadata: { name: 'p' }, spec: {} }).expect(201);
    assert.equal(cr.body.spec.mutatedField, 'set-by-webhook');
    assert.equal(cr.body.spec.prunedField, undefined);
    await t.call('delete', `${MWC}/prune-cr`).expect(200);
  });

  test('Admission webhook, deny custom resource create and delete', async () => {
    const group = `${unique('denycr')}.example.com`;
    await createCrd({ group });
    const url = `/apis/${group}/v1/namespaces/default/crontabs`;
    await t.call('post', url).send({ apiVersion: `${group}/v1`, kind: 'CronTab', metadata: { name: 'existing' }, spec: {} }).expect(201);
    await t.call('post', VWC).send(config('ValidatingWebhookConfiguration', 'deny-cr', [webhook('deny-cr.example.com', '/deny-all', { rules: [{ operations: ['CREATE', 'UPDATE', 'DELETE'], apiGroups: [group], apiVersions: ['v1'], resources: ['crontabs'] }] })])).expect(201);
    assert.equal((await t.call('post', url).send({ apiVersion: `${group}/v1`, kind: 'CronTab', metadata: { name: 'new' }, spec: {} })).status, 400);
    assert.equal((await t.call('patch', `${url}/existing`).set('Content-Type', MERGE).send({ spec: { image: 'x' } })).status, 400);
    assert.equal((await t.call('delete', `${url}/existing`)).status, 400);
    await t.call('get', `${url}/existing`).expect(200);
    await t.call('delete', `${VWC}/deny-cr`).expect(200);
  });

  test('Admission webhook, deny custom resource definition', async () => {
    await t.call('post', VWC).send(config('ValidatingWebhookConfiguration', 'deny-crd', [webhook('deny-crd.example.com', '/deny-all', {
      rules: [{ operations: ['CREATE'], apiGroups: ['apiextensions.k8s.io'], apiVersions: ['*'], resources: ['customresourcedefinitions'] }],
    })])).expect(201);
    const res = await t.call('post', CRDS).send(crdManifest({ group: `${unique('denied')}.example.com` }));
    assert.equal(res.status, 400);
    assert.match(res.body.message, /admission webhook "deny-crd\.example\.com" denied the request/);
    await t.call('delete', `${VWC}/deny-crd`).expect(200);
  });

  test('Admission webhook, admission control not allowed on webhook configuration objects', async () => {
    const all = [{ operations: ['*'], apiGroups: ['admissionregistration.k8s.io'], apiVersions: ['*'], resources: ['*'] }];
    await t.call('post', VWC).send(config('ValidatingWebhookConfiguration', 'protect', [webhook('protect.example.com', '/deny-all', { rules: all })])).expect(201);
    await t.call('post', MWC).send(config('MutatingWebhookConfiguration', 'meddle', [webhook('meddle.example.com', '/mutate-label', { rules: all })])).expect(201);
    const created = await t.call('post', VWC).send(config('ValidatingWebhookConfiguration', 'dummy', [webhook('dummy.example.com', '/deny-all', { objectSelector: { matchLabels: { never: 'x' } } })])).expect(201);
    assert.equal(created.body.metadata.labels, undefined, 'not mutated by the webhook');
    await t.call('delete', `${VWC}/dummy`).expect(200);
    await t.call('delete', `${VWC}/protect`).expect(200);
    await t.call('delete', `${MWC}/meddle`).expect(200);
  });

  test('Admission webhook, fail closed', async () => {
    await t.call('post', VWC).send(config('ValidatingWebhookConfiguration', 'fail-closed', [{
      ...webhook('fail-closed.example.com', '/deny-noncompliant', { objectSelector: { matchLabels: { closed: 'yes' } } }),
      clientConfig: { url: `${hook.url}/deny-noncompliant` },
    }])).expect(201);
    const res = await t.call('post', PODS).send(label('closed', { closed: 'yes' }));
    assert.equal(res.status, 500);
    assert.match(res.body.message, /failed calling webhook "fail-closed\.example\.com": failed to call webhook: .*x509: certificate signed by unknown authority/);
    await t.call('delete', `${VWC}/fail-closed`).expect(200);
  });

  test('Mutating Admission webhook, reject mutating webhook configurations with invalid matchConditions', async () => {
    const res = await t.call('post', MWC).send(config('MutatingWebhookConfiguration', 'invalid-mc', [webhook('invalid.example.com', '/x', { matchConditions: [{ name: 'bad', expression: 'object.x.' }] })]));
    assert.equal(res.status, 422);
    assert.match(res.body.message, /compilation failed/);
  });

  test('Validating Admission webhook, reject validating webhook configurations with invalid matchConditions', async () => {
    const res = await t.call('post', VWC).send(config('ValidatingWebhookConfiguration', 'invalid-mc', [webhook('invalid.example.com', '/x', { matchConditions: [{ name: 'bad', expression: 'object.x.' }] })]));
    assert.equal(res.status, 422);
    assert.match(res.body.message, /compilation failed/);
  });

  for (const [kind, url, testName] of [
    ['MutatingWebhookConfiguration', MWC, 'Mutating Admission webhook, create and update mutating webhook configuration with matchConditions'],
    ['ValidatingWebhookConfiguration', VWC, 'Validating Admission webhook, create and update validating webhook configuration with matchConditions'],
  ] as const) {
    test(testName, async () => {
      const name = unique('mc');
      const created = await t.call('post', url).send(config(kind, name, [webhook(`${name}.mc.example.com`, '/x', { objectSelector: { matchLabels: { never: 'x' } }, matchConditions: [{ name: 'first', expression: 'true' }] })])).expect(201);
      assert.deepEqual(created.body.webhooks[0].matchConditions, [{ name: 'first', expression: 'true' }]);
      await t.call('patch', `${url}/${name}`).set('Content-Type', 'application/json-patch+json').send([{ op: 'replace', path: '/webhooks/0/matchConditions', value: [{ name: 'second', expression: "object.metadata.name != 'x'" }] }]).expect(200);
      const read = await t.call('get', `${url}/${name}`).expect(200);
      assert.deepEqual(read.body.webhooks[0].matchConditions, [{ name: 'second', expression: "object.metadata.name != 'x'" }]);
      await t.call('delete', `${url}/${name}`).expect(200);
    });
  }

  // ---- ValidatingAdmissionPolicy ----

  const apiOperations = async (url: string, body: Record<string, unknown>, resource: string, statusSubresource: boolean) => {
    const resources = await t.call('get', '/apis/admissionregistration.k8s.io/v1').expect(200);
    const entry = resources.body.resources.find((r: { name: string }) => r.name === resource);
    assert.deepEqual(entry.verbs, ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch']);
    if (statusSubresource) assert.ok(resources.body.resources.some((r: { name: string }) => r.name === `${resource}/status`));
    const watch = await openWatch(t, `${url}?watch=true&labelSelector=api-test%3Dyes`);
    try {
      const name = (body.metadata as { name: string }).name;
      const created = await t.call('post', url).send({ ...body, metadata: { name, labels: { 'api-test': 'yes' } } }).expect(201);
      assert.equal((await t.call('get', `${url}/${name}`).expect(200)).body.metadata.uid, created.body.metadata.uid);
      assert.equal((await t.call('get', `${url}?labelSelector=api-test%3Dyes`).expect(200)).body.items.length, 1);
      await t.call('patch', `${url}/${name}`).set('Content-Type', MERGE).send({ metadata: { annotations: { patched: 'true' } } }).expect(200);
      const current = await t.call('get', `${url}/${name}`).expect(200);
      await t.call('put', `${url}/${name}`).send({ ...current.body, metadata: { ...current.body.metadata, annotations: { updated: 'true' } } }).expect(200);
      const events = await watch.take(3);
      assert.deepEqual(events.map((e) => e.type), ['ADDED', 'MODIFIED', 'MODIFIED']);
      await t.call('delete', `${url}?labelSelector=api-test%3Dyes`).expect(200);
      await t.call('get', `${url}/${name}`).expect(404);
    } finally {
      watch.close();
    }
  };

  const policyBody = (name: string, validations: Record<string, unknown>[], variables?: Record<string, unknown>[]): Record<string, unknown> => ({
    apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingAdmissionPolicy', metadata: { name },
    spec: {
      matchConstraints: { resourceRules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'] }] },
      ...(variables ? { variables } : {}), validations,
    },
  });

  test('ValidatingAdmissionPolicy API', async () => {
    await apiOperations(VAP, policyBody('api.example.com', [{ expression: 'true' }]), 'validatingadmissionpolicies', true);
  });

  test('ValidatingAdmissionPolicyBinding API', async () => {
    await apiOperations(VAPB, {
      apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingAdmissionPolicyBinding', metadata: { name: 'api-binding.example.com' },
      spec: { policyName: 'none.example.com', validationActions: ['Deny'] },
    }, 'validatingadmissionpolicybindings', false);
  });

  test('ValidatingAdmissionPolicy', async () => {
    await t.call('post', VAP).send(policyBody('variables.example.com', [
      { expression: "variables.images.all(image, image.startsWith('registry.example.com/'))", message: 'images must come from registry.example.com' },
    ], [{ name: 'images', expression: 'object.spec.containers.map(c, c.image)' }])).expect(201);
    await t.call('post', VAPB).send({
      apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingAdmissionPolicyBinding', metadata: { name: 'variables-binding.example.com' },
      spec: { policyName: 'variables.example.com', validationActions: ['Deny'], matchResources: { objectSelector: { matchLabels: { vap: 'variables' } } } },
    }).expect(201);
    const denied = await t.call('post', PODS).send(label('vap-denied', { vap: 'variables' }));
    assert.equal(denied.status, 422);
    assert.match(denied.body.message, /denied request: images must come from registry\.example\.com/);
    const ok = podManifest('vap-ok', { labels: { vap: 'variables' } }) as { spec: { containers: { image: string }[] } };
    ok.spec.containers[0].image = 'registry.example.com/nginx';
    await t.call('post', PODS).send(ok).expect(201);
  });
});
