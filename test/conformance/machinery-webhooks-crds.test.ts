// Conformance entries of sig-api-machinery about admission webhooks (CONNECT on pods/attach, custom
// resources whose CRD changes its storage version), CRD schemas with x-kubernetes-preserve-unknown-fields
// as /openapi/v2, /openapi/v3 and `kubectl explain` show them, and server-side field validation of custom
// resources and typed objects. Against `up`'s cluster (one simulated node, so a pod can be attached to),
// with an HTTPS webhook served by the test under a CA of its own.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Kubectl } from '../helpers/kubectl.ts';
import { startWebhookServer, type AdmissionRequestJson, type WebhookServer } from '../helpers/webhook-server.ts';
import { startConformanceCluster, until, type ConformanceCluster, type Json } from './helpers/cluster.ts';

const CRDS = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';
const VWC = '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations';
const MWC = '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations';

let c: ConformanceCluster;
let hook: WebhookServer;
let kubectl: Kubectl;
const attachReviews: AdmissionRequestJson[] = [];

/** The e2e webhook image's handlers (agnhost webhook: denySpecificAttachment, mutateCustomResource). */
function review(request: AdmissionRequestJson, path: string): Record<string, unknown> {
  const route = path.split('?')[0];
  if (route === '/pods/attach') {
    attachReviews.push(request);
    const options = request.object as { stdin?: boolean; container?: string };
    if (request.name !== 'to-be-attached-pod' || !options.stdin || options.container !== 'container1') return { allowed: true };
    return { allowed: false, status: { message: "attaching to pod 'to-be-attached-pod' is not allowed" } };
  }
  if (route === '/mutating-custom-resource') {
    const data = (request.object as { data?: Record<string, string> }).data ?? {};
    const ops: Json[] = [];
    if (data['mutation-start'] === 'yes' && data['mutation-stage-1'] !== 'yes') ops.push({ op: 'add', path: '/data/mutation-stage-1', value: 'yes' });
    else if (data['mutation-stage-1'] === 'yes' && data['mutation-stage-2'] !== 'yes') ops.push({ op: 'add', path: '/data/mutation-stage-2', value: 'yes' });
    return ops.length ? { allowed: true, patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(ops)).toString('base64') } : { allowed: true };
  }
  return { allowed: true };
}

async function createCrd(crd: Json): Promise<void> {
  await c.api('post', CRDS, { body: crd, expect: 201 });
  await until(async () => {
    const current = await c.api('get', `${CRDS}/${crd.metadata.name}`);
    return (current.status?.conditions ?? []).some((x: Json) => x.type === 'Established' && x.status === 'True') ? true : undefined;
  }, `${crd.metadata.name} Established`);
}

function crd(group: string, kind: string, versions: Json[], scope = 'Namespaced'): Json {
  const plural = `${kind.toLowerCase()}s`;
  return {
    apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: `${plural}.${group}` },
    spec: { group, scope, names: { plural, singular: kind.toLowerCase(), kind, listKind: `${kind}List` }, versions },
  };
}

const ANY = { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };

describe('conformance: api-machinery webhooks, CRD publishing and field validation', () => {
  before(async () => {
    c = await startConformanceCluster('machinery-webhooks-crds', { nodes: 1 });
    hook = await startWebhookServer(review);
    kubectl = await Kubectl.create(c.kubeconfigPath);
  });
  after(async () => {
    await kubectl?.dispose();
    await hook?.close();
    await c?.stop();
  });

  test('Admission webhook, deny attach', async () => {
    await c.api('post', VWC, {
      body: {
        apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingWebhookConfiguration', metadata: { name: 'deny-attaching-pod' },
        webhooks: [{
          name: 'deny-attaching-pod.k8s.io', clientConfig: { url: `${hook.url}/pods/attach`, caBundle: hook.caBundle },
          rules: [{ operations: ['CONNECT'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods/attach'] }],
          sideEffects: 'None', admissionReviewVersions: ['v1', 'v1beta1'], timeoutSeconds: 10,
        }],
      },
      expect: 201,
    });
    const pod = {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'to-be-attached-pod' },
      spec: { containers: [{ name: 'container1', image: 'registry.k8s.io/pause:3.10' }] },
    };
    await c.api('post', '/api/v1/namespaces/default/pods', { body: pod, expect: 201 });
    await until(async () => ((await c.api('get', '/api/v1/namespaces/default/pods/to-be-attached-pod')).status?.phase === 'Running' ? true : undefined), 'the pod to run');
    const result = await kubectl.run(['attach', '--namespace=default', 'to-be-attached-pod', '-i', '-c=container1'], { timeoutMs: 30_000 });
    assert.notEqual(result.code, 0, result.stdout);
    assert.match(result.stderr, /admission webhook "deny-attaching-pod\.k8s\.io" denied the request: attaching to pod 'to-be-attached-pod' is not allowed/);
    // What the webhook was sent: a CONNECT of pods/attach with the PodAttachOptions as the object.
    const seen = attachReviews.find((r) => r.name === 'to-be-attached-pod');
    assert.ok(seen, 'the webhook saw the attach');
    assert.equal(seen.operation, 'CONNECT');
    assert.deepEqual(seen.resource, { group: '', version: 'v1', resource: 'pods' });
    assert.equal((seen as unknown as Json).subResource, 'attach');
    assert.deepEqual((seen as unknown as Json).kind, { group: '', version: 'v1', kind: 'PodAttachOptions' });
    assert.equal((seen.object as Json).kind, 'PodAttachOptions');
    assert.equal((seen.object as Json).container, 'container1');
    assert.equal((seen.object as Json).stdin, true);
    assert.equal(seen.oldObject, null);
    await c.api('delete', `${VWC}/deny-attaching-pod`);
  });

  test('Admission webhook, mutate custom resource with different stored version', async () => {
    const group = 'webhook-multiversion.example.com';
    const versions = (storage: 'v1' | 'v2') => ['v1', 'v2'].map((name) => ({ name, served: true, storage: name === storage, schema: { openAPIV3Schema: ANY } }));
    await createCrd(crd(group, 'E2eTestCrd', versions('v1')));
    const webhook = (stage: string) => ({
      name: `mutate-custom-resource-data-stage-${stage}.k8s.io`, clientConfig: { url: `${hook.url}/mutating-custom-resource`, caBundle: hook.caBundle },
      rules: [{ operations: ['CREATE', 'UPDATE'], apiGroups: [group], apiVersions: ['v1', 'v2'], resources: ['e2etestcrds'] }],
      sideEffects: 'None', admissionReviewVersions: ['v1', 'v1beta1'],
    });
    await c.api('post', MWC, {
      body: { apiVersion: 'admissionregistration.k8s.io/v1', kind: 'MutatingWebhookConfiguration', metadata: { name: 'mutate-multiversion-cr' }, webhooks: [webhook('1'), webhook('2')] },
      expect: 201,
    });
    const base = `/apis/${group}`;
    const created = await c.api('post', `${base}/v1/namespaces/default/e2etestcrds`, {
      body: { apiVersion: `${group}/v1`, kind: 'E2eTestCrd', metadata: { name: 'cr-instance-1' }, data: { 'mutation-start': 'yes' } }, expect: 201,
    });
    assert.deepEqual(created.data, { 'mutation-start': 'yes', 'mutation-stage-1': 'yes', 'mutation-stage-2': 'yes' });
    // v2 becomes the storage version (a strategic merge patch of the CRD, as the e2e test sends).
    await c.api('patch', `${CRDS}/e2etestcrds.${group}`, { body: { spec: { versions: versions('v2') } }, contentType: 'application/strategic-merge-patch+json' });
    await until(async () => ((await c.api('get', `${CRDS}/e2etestcrds.${group}`)).status?.storedVersions?.includes('v2') ? true : undefined), 'v2 in storedVersions');
    const mutated = await c.api('patch', `${base}/v2/namespaces/default/e2etestcrds/cr-instance-1`, {
      body: [{ op: 'add', path: '/dummy', value: 'test' }], contentType: 'application/json-patch+json',
    });
    assert.equal(mutated.apiVersion, `${group}/v2`);
    assert.deepEqual(mutated.data, { 'mutation-start': 'yes', 'mutation-stage-1': 'yes', 'mutation-stage-2': 'yes' });
    assert.equal(mutated.dummy, 'test');
    await c.api('delete', `${MWC}/mutate-multiversion-cr`);
  });

  // ---- OpenAPI publishing (crd_publish_openapi.go's schemas) ----

  const WALDO_PROPERTIES = {
    spec: { description: 'Specification of Waldo', type: 'object', properties: { dummy: { description: 'Dummy property.', type: 'object' } } },
    status: { description: 'Status of Waldo', type: 'object', properties: { bars: { description: 'List of Bars and their statuses.', type: 'array', items: { type: 'object' } } } },
  };

  /** The definition /openapi/v2 serves for a kind (upstream waits for it before using kubectl). */
  async function v2Definition(group: string, kind: string): Promise<Json> {
    const name = `${group.split('.').reverse().join('.')}.v1.${kind}`;
    return until(async () => (await c.api('get', '/openapi/v2')).definitions?.[name] as Json | undefined, `${name} in /openapi/v2`);
  }

  async function v3Schema(group: string, kind: string): Promise<Json> {
    const name = `${group.split('.').reverse().join('.')}.v1.${kind}`;
    return until(async () => (await c.api('get', `/openapi/v3/apis/${group}/v1`)).components?.schemas?.[name] as Json | undefined, `${name} in /openapi/v3`);
  }

  /** kubectl create, delete, apply, delete of a CR with unknown properties: kubectl's validation must accept it. */
  async function createAndApply(group: string, kind: string, extra: Json): Promise<void> {
    const cr = JSON.stringify({ kind, apiVersion: `${group}/v1`, metadata: { name: 'test-cr', namespace: 'default' }, ...extra });
    const plural = `${kind.toLowerCase()}s`;
    await kubectl.ok(['--namespace=default', 'create', '-f', '-'], { input: cr });
    await kubectl.ok(['--namespace=default', 'delete', plural, 'test-cr']);
    await kubectl.ok(['--namespace=default', 'apply', '-f', '-'], { input: cr });
    const stored = JSON.parse(await kubectl.ok(['--namespace=default', 'get', plural, 'test-cr', '-o', 'json'])) as Json;
    // Unknown fields are kept (kubectl's apply drops null members from what it sends, so those are not compared).
    const withoutNulls = JSON.parse(JSON.stringify(extra, (_key, value: unknown) => (value === null ? undefined : value))) as Json;
    for (const [key, value] of Object.entries(withoutNulls)) assert.deepEqual(stored[key], value, `${key} kept`);
    await kubectl.ok(['--namespace=default', 'delete', plural, 'test-cr']);
  }

  test('Custom Resource OpenAPI Publish, with x-kubernetes-preserve-unknown-fields in object', async () => {
    // setupCRD with no schema: a v1 CRD preserving unknown fields at the top level object, nothing else.
    const group = 'crd-publish-openapi-test-empty.example.com';
    await createCrd(crd(group, 'E2eTestCrdPublishOpenapiEmpty', [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: ANY } }]));
    // Published in v2 as a bare object (kubectl would otherwise forbid every unknown field).
    const v2 = await v2Definition(group, 'E2eTestCrdPublishOpenapiEmpty');
    assert.deepEqual(v2, { type: 'object', 'x-kubernetes-group-version-kind': [{ group, kind: 'E2eTestCrdPublishOpenapiEmpty', version: 'v1' }] });
    assert.equal((await v3Schema(group, 'E2eTestCrdPublishOpenapiEmpty'))['x-kubernetes-preserve-unknown-fields'], true);
    await createAndApply(group, 'E2eTestCrdPublishOpenapiEmpty', { a: { b: [{ c: 'd' }] } });
    assert.match(await kubectl.ok(['explain', 'e2etestcrdpublishopenapiemptys']), /DESCRIPTION:[\s\S]*<empty>/);
  });

  test('Custom Resource OpenAPI Publish, with x-kubernetes-preserve-unknown-fields at root', async () => {
    const group = 'crd-publish-openapi-test-unknown-at-root.example.com';
    const schema = { description: 'preserve-unknown-properties at root for Testing', 'x-kubernetes-preserve-unknown-fields': true, type: 'object', properties: WALDO_PROPERTIES };
    await createCrd(crd(group, 'E2eTestCrdPublishOpenapiAtRoot', [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: schema } }]));
    const v2 = await v2Definition(group, 'E2eTestCrdPublishOpenapiAtRoot');
    assert.equal(v2.properties, undefined, 'no properties in v2 for a schema preserving unknown fields at its root');
    const v3 = await v3Schema(group, 'E2eTestCrdPublishOpenapiAtRoot');
    assert.equal(v3.description, 'preserve-unknown-properties at root for Testing');
    assert.ok(v3.properties.spec && v3.properties.metadata);
    await createAndApply(group, 'E2eTestCrdPublishOpenapiAtRoot', { a: { b: [{ c: 'd' }] } });
    assert.match(await kubectl.ok(['explain', 'e2etestcrdpublishopenapiatroots']), /KIND:[\s\S]*E2eTestCrdPublishOpenapiAtRoot/);
  });

  test('Custom Resource OpenAPI Publish, with x-kubernetes-preserve-unknown-fields in embedded object', async () => {
    const group = 'crd-publish-openapi-test-unknown-in-nested.example.com';
    const schema = {
      description: 'preserve-unknown-properties in nested field for Testing', type: 'object',
      properties: { ...WALDO_PROPERTIES, spec: { ...WALDO_PROPERTIES.spec, 'x-kubernetes-preserve-unknown-fields': true } },
    };
    await createCrd(crd(group, 'E2eTestCrdPublishOpenapiNested', [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: schema } }]));
    const v2 = await v2Definition(group, 'E2eTestCrdPublishOpenapiNested');
    // ToStructuralOpenAPIV2: a field preserving unknown fields keeps neither properties nor type in v2.
    assert.deepEqual(v2.properties.spec, { description: 'Specification of Waldo', 'x-kubernetes-preserve-unknown-fields': true });
    assert.equal(v2.properties.status.properties.bars.type, 'array');
    assert.equal((await v3Schema(group, 'E2eTestCrdPublishOpenapiNested')).properties.spec['x-kubernetes-preserve-unknown-fields'], true);
    await createAndApply(group, 'E2eTestCrdPublishOpenapiNested', { spec: { a: null, b: [{ c: 'd' }] } });
    assert.match(await kubectl.ok(['explain', 'e2etestcrdpublishopenapinesteds']), /DESCRIPTION:[\s\S]*preserve-unknown-properties in nested field for Testing/);
  });

  // ---- Server-side field validation ----

  const PORTS = {
    type: 'array', 'x-kubernetes-list-map-keys': ['containerPort', 'protocol'], 'x-kubernetes-list-type': 'map',
    items: {
      type: 'object', required: ['containerPort', 'protocol'],
      properties: { containerPort: { format: 'int32', type: 'integer' }, hostIP: { type: 'string' }, hostPort: { format: 'int32', type: 'integer' }, name: { type: 'string' }, protocol: { type: 'string' } },
    },
  };

  test('Server side field validation, CR duplicates', async () => {
    const group = 'field-validation-dupes.example.com';
    const schema = {
      type: 'object',
      properties: {
        spec: {
          type: 'object', 'x-kubernetes-preserve-unknown-fields': true,
          properties: { foo: { type: 'string' }, cronSpec: { type: 'string', pattern: '^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$' }, ports: PORTS },
        },
      },
    };
    await createCrd(crd(group, 'Noxu', [{ name: 'v1beta1', served: true, storage: true, schema: { openAPIV3Schema: schema } }], 'Cluster'));
    const yaml = `
apiVersion: ${group}/v1beta1
kind: Noxu
metadata:
  name: mytest
  finalizers:
  - test-finalizer
spec:
  unknown: uk1
  foo: foo1
  foo: foo2
  cronSpec: "* * * * */5"
  ports:
  - name: x
    containerPort: 80
    protocol: TCP`;
    const res = await c.raw('patch', `/apis/${group}/v1beta1/noxus/mytest?fieldManager=field_validation_mgr&fieldValidation=Strict`)
      .set('Content-Type', 'application/apply-patch+yaml').send(yaml);
    assert.equal(res.status, 400, res.text);
    assert.ok(res.text.includes('line 11: key \\"foo\\" already set in map'), res.text);
    assert.equal((await c.raw('get', `/apis/${group}/v1beta1/noxus/mytest`)).status, 404, 'nothing was created');
  });

  const deployment = (spec: string, metadata = '') => `{
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": { "name": "my-dep", ${metadata} "labels": {"app": "nginx"} },
    "spec": { ${spec} "selector": { "matchLabels": { "app": "nginx" } },
      "template": { "metadata": { "labels": { "app": "nginx" } }, "spec": { "containers": [{ "name": "nginx", "image": "nginx:latest" }] } } }
  }`;

  test('Server side field validation, typed object', async () => {
    const res = await c.raw('post', '/apis/apps/v1/namespaces/default/deployments?fieldManager=field_validation_mgr&fieldValidation=Strict')
      .set('Content-Type', 'application/json').send(deployment('"unknownField": "foo", "replicas": 2, "replicas": 3,'));
    assert.equal(res.status, 400, res.text);
    assert.match(res.body.message, /strict decoding error: unknown field "spec\.unknownField", duplicate field "spec\.replicas"/);
    assert.equal((await c.raw('get', '/apis/apps/v1/namespaces/default/deployments/my-dep')).status, 404);
  });

  test('Server side field validation, typed unknown metadata', async () => {
    const res = await c.raw('post', '/apis/apps/v1/namespaces/default/deployments?fieldManager=field_validation_mgr&fieldValidation=Strict')
      .set('Content-Type', 'application/json').send(deployment('', '"unknownMeta": "foo",'));
    assert.equal(res.status, 400, res.text);
    assert.match(res.body.message, /strict decoding error: unknown field "metadata\.unknownMeta"/);
    assert.equal((await c.raw('get', '/apis/apps/v1/namespaces/default/deployments/my-dep')).status, 404);
  });
});
