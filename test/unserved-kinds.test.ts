// What is not served answers as kube-apiserver answers it, so every kubectl prints its usual error
// for an unknown kind and applies the rest of a mixed manifest; and /openapi/v2 is served as
// gnostic protobuf, which kubectl's schema validation (all versions) and kubectl 1.27/1.28's apply,
// diff, edit and explain need. The unknown kind is an invented group, so this stays true as the
// project serves more kinds.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { startApiServer, type RunningApiServer } from '../server/start.ts';
import { Kubectl } from './helpers/kubectl.ts';
import { decodeGnosticDocument } from '../api/openapi/v2-protobuf.ts';

const KUBECTL_DIR = '/usr/lib/google-cloud-sdk/bin';
const PROTOBUF_ACCEPT = 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf';

const mixedManifest = (pod: string) => `apiVersion: v1
kind: Pod
metadata: {name: ${pod}, namespace: default}
spec:
  containers: [{name: c, image: nginx}]
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: w1, namespace: default}
spec: {size: 1}
`;

describe('unserved kinds and the OpenAPI v2 protobuf document', () => {
  let dir: string;
  let server: RunningApiServer;
  const call = (method: 'get', path: string) => request(server.url)[method](path).ca(server.caCertPem).set('Authorization', `Bearer ${server.adminToken}`);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kubefacade-unserved-'));
    server = await startApiServer({ dataDir: join(dir, 'data'), bind: '127.0.0.1', port: 0, tlsSans: [], disableAdmissionPlugins: ['ServiceAccount'] });
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('/openapi/v2 negotiates JSON and gnostic protobuf as kube-openapi; nothing acceptable is a bare 406', async () => {
    const json = await call('get', '/openapi/v2').expect(200);
    assert.equal(json.headers['content-type'], 'application/json');
    const proto = await call('get', '/openapi/v2').set('Accept', `${PROTOBUF_ACCEPT}, application/json`).buffer(true).parse((res, done) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => done(null, Buffer.concat(chunks)));
    }).expect(200);
    assert.equal(proto.headers['content-type'], 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf');
    assert.equal(proto.headers.vary, 'Accept');
    const document = decodeGnosticDocument(proto.body as Buffer) as {
      swagger: string; definitions: { additionalProperties: { name: string; value: { vendorExtension?: { name: string; value: { yaml: string } }[] } }[] };
    };
    assert.equal(document.swagger, '2.0');
    const pod = document.definitions.additionalProperties.find((d) => d.name === 'io.k8s.api.core.v1.Pod');
    assert.ok(pod, 'the Pod definition is in the protobuf document');
    const gvk = pod.value.vendorExtension?.find((e) => e.name === 'x-kubernetes-group-version-kind');
    assert.match(gvk!.value.yaml, /kind: Pod/);
    const legacy = await call('get', '/swagger-2.0.0.pb-v1').buffer(true).parse((res, done) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => done(null, Buffer.concat(chunks)));
    }).expect(200);
    assert.deepEqual(legacy.body, proto.body);
    const refused = await call('get', '/openapi/v2').set('Accept', 'text/html').expect(406);
    assert.equal(refused.text, '');
  });

  test('an unknown group-version: bare 404 from /openapi/v3, the NotFound Status from its resource paths', async () => {
    const openapi = await call('get', '/openapi/v3/apis/example.com/v1').expect(404);
    assert.equal(openapi.text, '');
    const resource = await call('get', '/apis/example.com/v1/namespaces/default/widgets').expect(404);
    assert.deepEqual(resource.body, {
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure',
      message: 'the server could not find the requested resource', reason: 'NotFound', details: {}, code: 404,
    });
  });

  for (const version of ['1.30', '1.31', '1.32', '1.33']) {
    test(`kubectl ${version} apply of a mixed manifest creates the pod and reports only the unknown kind`, async () => {
      const kubectl = await Kubectl.create(server.adminKubeconfigPath, join(KUBECTL_DIR, `kubectl.${version}`));
      try {
        const pod = `mixed-${version.replace('.', '-')}`;
        const result = await kubectl.run(['apply', '-f', '-'], { input: mixedManifest(pod) });
        assert.equal(result.code, 1);
        assert.match(result.stdout, new RegExp(`pod/${pod} created`));
        assert.match(result.stderr, /no matches for kind "Widget" in version "example.com\/v1"/);
        assert.match(result.stderr, /ensure CRDs are installed first/);
        assert.doesNotMatch(result.stderr, /unable to respond with a content type/);
        await call('get', `/api/v1/namespaces/default/pods/${pod}`).expect(200);
      } finally {
        await kubectl.dispose();
      }
    });
  }

  for (const version of ['1.27', '1.28']) {
    test(`kubectl ${version} (OpenAPI v2 protobuf only): apply, create -f, diff, edit, explain`, async () => {
      const kubectl = await Kubectl.create(server.adminKubeconfigPath, join(KUBECTL_DIR, `kubectl.${version}`));
      const name = `old-${version.replace('.', '-')}`;
      const manifest = (label: string, image: string) => `apiVersion: v1
kind: Pod
metadata: {name: ${name}, labels: {tier: ${label}}}
spec:
  containers: [{name: c, image: ${image}}]
`;
      try {
        assert.match(await kubectl.ok(['apply', '-f', '-'], { input: manifest('a', 'nginx:1.27') }), new RegExp(`pod/${name} created`));
        // A second apply computes a strategic merge patch from the v2 schema's patch metadata.
        assert.match(await kubectl.ok(['apply', '-f', '-'], { input: manifest('b', 'nginx:1.27') }), new RegExp(`pod/${name} configured`));
        const diff = await kubectl.run(['diff', '-f', '-'], { input: manifest('c', 'nginx:1.27') });
        assert.equal(diff.code, 1, diff.stderr);
        assert.match(diff.stdout, /-\s+tier: b\n\+\s+tier: c/);
        await kubectl.ok(['edit', 'pod', name], { env: { KUBE_EDITOR: 'sed -i s/tier:\\ b/tier:\\ edited/' } });
        const labels = JSON.parse(await kubectl.ok(['get', 'pod', name, '-o', 'json'])).metadata.labels;
        assert.deepEqual(labels, { tier: 'edited' });
        const created = await kubectl.ok(['create', '-f', '-'], { input: manifest('x', 'nginx').replace(name, `${name}-created`) });
        assert.match(created, new RegExp(`pod/${name}-created created`));
        const explained = await kubectl.ok(['explain', 'pod.spec.containers.image']);
        assert.match(explained, /Container image name/);
        const mixed = await kubectl.run(['apply', '-f', '-'], { input: mixedManifest(`${name}-mixed`) });
        assert.equal(mixed.code, 1);
        assert.match(mixed.stderr, /no matches for kind "Widget" in version "example.com\/v1"/);
      } finally {
        await kubectl.dispose();
      }
    });
  }
});
