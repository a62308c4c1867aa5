import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SERVED_GROUP_VERSIONS, isServedPath } from '../api/openapi/served.ts';
import {
  openApiV2Document, openApiV3Document, openApiV3ResponsePlan, openApiV3Root, openApiV3RootDocument,
} from '../api/openapi/documents.ts';
import { schemaByName, schemaForKind } from '../api/openapi/schema.ts';
import { validateObject } from '../api/openapi/validator.ts';

type Json = { [key: string]: any };

function readGenerated(relative: string): { text: string; json: Json } {
  const text = readFileSync(fileURLToPath(new URL(`../api/openapi/generated/${relative}`, import.meta.url)), 'utf8');
  return { text, json: JSON.parse(text) };
}

function collectRefs(value: unknown, into: Set<string>): void {
  if (Array.isArray(value)) value.forEach((v) => collectRefs(v, into));
  else if (value && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      if (key === '$ref' && typeof child === 'string') into.add(child);
      else collectRefs(child, into);
    }
  }
}

function keysSorted(value: unknown): boolean {
  if (Array.isArray(value)) return value.every(keysSorted);
  if (!value || typeof value !== 'object') return true;
  const keys = Object.keys(value);
  return keys.every((k, i) => i === 0 || keys[i - 1] < k) && Object.values(value).every(keysSorted);
}

/** Kinds that support PATCH, by generated document. Bindings and reviews are create-only. */
const PATCHABLE_KINDS: Record<string, { group: string; version: string; kind: string }[]> = {
  api__v1: ['Pod', 'Node', 'Namespace', 'Event'].map((kind) => ({ group: '', version: 'v1', kind })),
  'apis__coordination.k8s.io__v1': [{ group: 'coordination.k8s.io', version: 'v1', kind: 'Lease' }],
  'apis__rbac.authorization.k8s.io__v1': ['Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding']
    .map((kind) => ({ group: 'rbac.authorization.k8s.io', version: 'v1', kind })),
};

describe('generated OpenAPI documents', () => {
  test('every served group version has a v3 document with only served paths', () => {
    for (const gv of SERVED_GROUP_VERSIONS) {
      const { json } = readGenerated(`v3/${gv.fileStem}.json`);
      assert.equal(json.openapi, '3.0.0');
      for (const path of Object.keys(json.paths)) {
        assert.ok(isServedPath(gv, path), path);
        assert.doesNotMatch(path, /\/(watch|exec|attach|proxy|resize|finalize|portforward)(\/|$)/);
      }
    }
    const core = readGenerated('v3/api__v1.json').json;
    for (const path of ['/api/v1/namespaces/{namespace}/pods/{name}/binding', '/api/v1/namespaces/{namespace}/pods/{name}/log',
      '/api/v1/namespaces/{namespace}/pods/{name}/status', '/api/v1/nodes/{name}/status', '/api/v1/namespaces/{name}/status',
      '/api/v1/namespaces/{namespace}/bindings', '/api/v1/namespaces/{namespace}/events/{name}']) {
      assert.ok(core.paths[path], path);
    }
    const authz = readGenerated('v3/apis__authorization.k8s.io__v1.json').json;
    assert.deepEqual(Object.keys(authz.paths), [
      '/apis/authorization.k8s.io/v1/',
      '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
      '/apis/authorization.k8s.io/v1/selfsubjectrulesreviews',
      '/apis/authorization.k8s.io/v1/subjectaccessreviews',
    ]);
  });

  test('every patchable kind has a PATCH operation with fieldValidation, GVK and strategic merge patch', () => {
    for (const [stem, kinds] of Object.entries(PATCHABLE_KINDS)) {
      const { json } = readGenerated(`v3/${stem}.json`);
      for (const gvk of kinds) {
        const patches = Object.values(json.paths as Record<string, Json>).map((item) => item.patch)
          .filter((op: Json | undefined) => op && op['x-kubernetes-group-version-kind']?.kind === gvk.kind
            && op['x-kubernetes-action'] === 'patch');
        assert.ok(patches.length > 0, `${stem} ${gvk.kind}`);
        for (const op of patches) {
          assert.deepEqual(op['x-kubernetes-group-version-kind'], gvk);
          assert.ok(op.parameters.some((p: Json) => p.name === 'fieldValidation' && p.in === 'query'), `${gvk.kind} fieldValidation`);
          assert.ok(op.requestBody.content['application/strategic-merge-patch+json'], `${gvk.kind} SMP content type`);
          assert.ok(op.requestBody.content['application/apply-patch+yaml'], `${gvk.kind} apply content type`);
        }
      }
    }
  });

  test('request bodies say application/json instead of */*', () => {
    const { json } = readGenerated('v3/api__v1.json');
    const post = json.paths['/api/v1/namespaces/{namespace}/pods'].post;
    assert.deepEqual(Object.keys(post.requestBody.content), ['application/json']);
    assert.equal(post.requestBody.content['application/json'].schema.$ref, '#/components/schemas/io.k8s.api.core.v1.Pod');
    for (const gv of SERVED_GROUP_VERSIONS) assert.doesNotMatch(readGenerated(`v3/${gv.fileStem}.json`).text, /"\*\/\*"/);
    assert.doesNotMatch(readGenerated('v2/swagger.json').text, /"\*\/\*"/);
  });

  test('component schemas are closed under $ref, reachable, deterministic, and keep descriptions', () => {
    for (const gv of SERVED_GROUP_VERSIONS) {
      const { json, text } = readGenerated(`v3/${gv.fileStem}.json`);
      const refs = new Set<string>();
      collectRefs(json, refs);
      for (const ref of refs) {
        assert.ok(json.components.schemas[ref.replace('#/components/schemas/', '')], `${gv.fileStem}: ${ref}`);
      }
      // Nothing unreachable is kept.
      const referenced = new Set([...refs].map((r) => r.replace('#/components/schemas/', '')));
      for (const name of Object.keys(json.components.schemas)) assert.ok(referenced.has(name), `${gv.fileStem}: ${name} unreachable`);
      assert.ok(keysSorted(json), `${gv.fileStem} keys sorted`);
      assert.equal(text, `${JSON.stringify(json, null, 1)}\n`);
    }
    const core = readGenerated('v3/api__v1.json').json.components.schemas;
    assert.match(core['io.k8s.api.core.v1.Pod'].description, /collection of containers/);
    assert.equal(core['io.k8s.api.core.v1.PodSpec'].properties.containers['x-kubernetes-patch-merge-key'], 'name');
    assert.equal(core['io.k8s.api.core.v1.ComponentStatus'], undefined);
  });

  test('Quantity and IntOrString accept both forms', () => {
    const { json } = readGenerated('v3/api__v1.json');
    const schemas = json.components.schemas;
    assert.deepEqual(schemas['io.k8s.apimachinery.pkg.api.resource.Quantity'].oneOf, [{ type: 'string' }, { type: 'number' }]);
    assert.deepEqual(schemas['io.k8s.apimachinery.pkg.util.intstr.IntOrString'].oneOf, [{ type: 'integer' }, { type: 'string' }]);
  });

  test('the swagger 2.0 document is trimmed the same way', () => {
    const { json } = readGenerated('v2/swagger.json');
    assert.equal(json.swagger, '2.0');
    assert.ok(json.paths['/api/v1/namespaces/{namespace}/pods/{name}'].patch.parameters.some((p: Json) => p.name === 'fieldValidation'));
    assert.ok(json.paths['/apis/rbac.authorization.k8s.io/v1/clusterroles']);
    assert.equal(json.paths['/api/v1/namespaces/{namespace}/pods/{name}/proxy'], undefined);
    assert.ok(json.paths['/apis/networking.k8s.io/v1/networkpolicies']);
    assert.ok(json.paths['/apis/networking.k8s.io/v1/ingressclasses']);
    assert.ok(json.paths['/api/v1/persistentvolumes']);
    const refs = new Set<string>();
    collectRefs(json, refs);
    for (const ref of refs) {
      const [, pool, name] = ref.split('/');
      assert.ok(json[pool]?.[name], ref);
    }
    assert.ok(json.definitions['io.k8s.api.coordination.v1.Lease']);
    assert.equal(JSON.parse(openApiV2Document().body.toString()).definitions['io.k8s.api.core.v1.Pod'].type, 'object');
  });
});

describe('served OpenAPI documents', () => {
  test('the v3 root lists every group version with the SHA-512 of its document', () => {
    const root = openApiV3Root();
    assert.deepEqual(Object.keys(root.paths).sort(), [
      'api/v1', 'apis/admissionregistration.k8s.io/v1', 'apis/apiextensions.k8s.io/v1', 'apis/apps/v1', 'apis/authentication.k8s.io/v1',
      'apis/authorization.k8s.io/v1', 'apis/autoscaling/v1', 'apis/autoscaling/v2', 'apis/batch/v1', 'apis/certificates.k8s.io/v1', 'apis/coordination.k8s.io/v1', 'apis/discovery.k8s.io/v1', 'apis/events.k8s.io/v1', 'apis/flowcontrol.apiserver.k8s.io/v1', 'apis/networking.k8s.io/v1', 'apis/node.k8s.io/v1', 'apis/policy/v1',
      'apis/rbac.authorization.k8s.io/v1', 'apis/scheduling.k8s.io/v1', 'apis/storage.k8s.io/v1',
    ]);
    for (const [path, { serverRelativeURL }] of Object.entries(root.paths)) {
      const document = openApiV3Document(path);
      assert.ok(document);
      const hash = createHash('sha512').update(document.body).digest('hex').toUpperCase();
      assert.equal(serverRelativeURL, `/openapi/v3/${path}?hash=${hash}`);
      assert.equal(document.hash, hash);
      assert.equal(document.etag, `"${hash}"`);
      assert.equal(JSON.parse(document.body.toString()).openapi, '3.0.0');
    }
    assert.deepEqual(JSON.parse(openApiV3RootDocument().body.toString()), root);
    assert.equal(openApiV3Document('apis/apiregistration.k8s.io/v1'), undefined);
    assert.equal(openApiV3Document('/api/v1/'), openApiV3Document('api/v1'));
  });

  test('hash handling follows kube-apiserver: immutable on match, 301 when stale', () => {
    const document = openApiV3Document('apis/coordination.k8s.io/v1')!;
    const now = new Date('2025-01-02T03:04:05Z');
    const plain = openApiV3ResponsePlan('apis/coordination.k8s.io/v1', document, undefined, now);
    assert.equal(plain.status, 200);
    assert.equal(plain.headers.ETag, document.etag);
    assert.equal(plain.headers['Content-Type'], 'application/json');
    assert.equal(plain.headers['Cache-Control'], undefined);
    const matching = openApiV3ResponsePlan('apis/coordination.k8s.io/v1', document, document.hash, now);
    assert.equal(matching.status, 200);
    assert.equal(matching.headers['Cache-Control'], 'public, immutable');
    assert.equal(matching.headers.Expires, 'Fri, 02 Jan 2026 03:04:05 GMT');
    const stale = openApiV3ResponsePlan('apis/coordination.k8s.io/v1', document, 'AAAA', now);
    assert.equal(stale.status, 301);
    assert.equal(stale.headers.Location, `/openapi/v3/apis/coordination.k8s.io/v1?hash=${document.hash}`);
  });
});

describe('schema lookup', () => {
  const podGvk = { group: '', version: 'v1', kind: 'Pod' };

  test('Pod containers resolve with merge key name and shared nodes', () => {
    const pod = schemaForKind(podGvk)!;
    assert.deepEqual(pod['x-kubernetes-group-version-kind'], [podGvk]);
    const containers = pod.properties!.spec.properties!.containers;
    assert.equal(containers.type, 'array');
    assert.equal(containers['x-kubernetes-patch-merge-key'], 'name');
    assert.equal(containers['x-kubernetes-patch-strategy'], 'merge');
    assert.equal(containers['x-kubernetes-list-type'], 'map');
    assert.deepEqual(containers['x-kubernetes-list-map-keys'], ['name']);
    const container = containers.items!;
    assert.equal(container, schemaByName('io.k8s.api.core.v1.Container'));
    assert.deepEqual(container.required, ['name']);
    assert.equal(container.properties!.ports.items!.properties!.containerPort.type, 'integer');
    assert.deepEqual(container.properties!.ports['x-kubernetes-list-map-keys'], ['containerPort', 'protocol']);
    assert.equal(pod.properties!.metadata, schemaByName('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta'));
    assert.equal(pod.properties!.metadata.properties!.labels.additionalProperties !== undefined, true);
    assert.equal(pod, schemaForKind(podGvk));
  });

  test('Quantity and IntOrString resolve to oneOf nodes; wrapper extensions are kept', () => {
    const limits = schemaByName('io.k8s.api.core.v1.ResourceRequirements')!.properties!.limits;
    assert.deepEqual((limits.additionalProperties as { oneOf?: unknown }).oneOf, [{ type: 'string' }, { type: 'number' }]);
    const nodeAffinity = schemaByName('io.k8s.api.core.v1.NodeAffinity')!;
    const required = nodeAffinity.properties!.requiredDuringSchedulingIgnoredDuringExecution;
    assert.equal(required['x-kubernetes-map-type'], 'atomic');
    assert.equal(required.properties, schemaByName('io.k8s.api.core.v1.NodeSelector')!.properties);
  });

  test('kinds of every served group resolve, unknown kinds do not', () => {
    assert.equal(schemaForKind({ group: 'coordination.k8s.io', version: 'v1', kind: 'Lease' })!.properties!.spec.properties!.holderIdentity.type, 'string');
    const rules = schemaForKind({ group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'ClusterRole' })!.properties!.rules;
    assert.equal(rules.items!.properties!.verbs['x-kubernetes-list-type'], 'atomic');
    assert.ok(schemaForKind({ group: 'authentication.k8s.io', version: 'v1', kind: 'TokenReview' }));
    assert.ok(schemaForKind({ group: 'authorization.k8s.io', version: 'v1', kind: 'SelfSubjectAccessReview' }));
    assert.ok(schemaForKind({ group: '', version: 'v1', kind: 'Binding' }));
    assert.ok(schemaForKind({ group: 'apps', version: 'v1', kind: 'Deployment' }));
    assert.equal(schemaForKind({ group: 'apiregistration.k8s.io', version: 'v1', kind: 'APIService' }), undefined);
    assert.equal(schemaByName('io.k8s.kube-aggregator.pkg.apis.apiregistration.v1.APIService'), undefined);
  });
});

describe('request validation', () => {
  const podGvk = { group: '', version: 'v1', kind: 'Pod' };

  function twoContainerPod(): Json {
    return {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web', namespace: 'default', labels: { app: 'web', tier: 'frontend' }, annotations: { note: 'x' }, creationTimestamp: null },
      spec: {
        containers: [
          {
            name: 'nginx', image: 'nginx:1.27', imagePullPolicy: 'IfNotPresent',
            ports: [{ name: 'http', containerPort: 80, protocol: 'TCP' }],
            resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '256Mi' } },
            env: [{ name: 'MODE', value: 'prod' }, { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
            livenessProbe: { httpGet: { path: '/healthz', port: 'http' }, initialDelaySeconds: 3 },
            readinessProbe: { tcpSocket: { port: 80 } },
          },
          {
            name: 'redis', image: 'redis:7', command: ['redis-server'], args: ['--appendonly', 'yes'],
            ports: [{ containerPort: 6379 }],
            resources: { requests: { cpu: 0.1, memory: 134217728 } },
            env: [{ name: 'REDIS_PORT', value: '6379' }],
            volumeMounts: [{ name: 'data', mountPath: '/data' }],
          },
        ],
        volumes: [{ name: 'data', emptyDir: {} }],
        nodeSelector: { 'kubernetes.io/os': 'linux' },
        restartPolicy: 'Always',
        tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }],
      },
      status: { phase: 'Pending', conditions: null },
    };
  }

  test('accepts a realistic two-container pod', () => {
    assert.deepEqual(validateObject(podGvk, twoContainerPod()), { errors: [], unknownFields: [], decodeErrors: [] });
  });

  test('rejects wrong types with Kubernetes field paths and kube-openapi wording', () => {
    const pod = twoContainerPod();
    pod.spec.containers[0].ports[0].containerPort = '80';
    pod.spec.containers[1].resources.limits = { cpu: true };
    pod.metadata.labels.tier = 3;
    pod.spec.containers[1].command = 'redis-server';
    const result = validateObject(podGvk, pod);
    assert.deepEqual(result.unknownFields, []);
    const byField = new Map(result.errors.map((e) => [e.field, e]));
    assert.deepEqual(byField.get('spec.containers[0].ports[0].containerPort'), {
      type: 'FieldValueTypeInvalid',
      field: 'spec.containers[0].ports[0].containerPort',
      message: 'Invalid value: "string": spec.containers[0].ports[0].containerPort in body must be of type integer: "string"',
    });
    assert.equal(byField.get('spec.containers[1].resources.limits[cpu]')?.message,
      'Invalid value: "boolean": spec.containers[1].resources.limits[cpu] in body must be of type string or number: "boolean"');
    assert.equal(byField.get('metadata.labels[tier]')?.message,
      'Invalid value: "integer": metadata.labels[tier] in body must be of type string: "integer"');
    assert.equal(byField.get('spec.containers[1].command')?.message,
      'Invalid value: "string": spec.containers[1].command in body must be of type array: "string"');
    assert.equal(result.errors.length, 4);
  });

  test('reports missing and null required fields as Required value', () => {
    const pod = twoContainerPod();
    delete pod.spec.containers[0].name;
    pod.spec.containers[1].env[0].name = null;
    const result = validateObject(podGvk, pod);
    assert.deepEqual(result.errors.map((e) => `${e.field}: ${e.message}`).sort(), [
      'spec.containers[0].name: Required value',
      'spec.containers[1].env[0].name: Required value',
    ]);
  });

  test('reports unknown fields at nested paths, including metadata', () => {
    const pod = twoContainerPod();
    pod.spec.containers[0].imagePullPolcy = 'Always';
    pod.spec.containers[1].ports[0].hostPrt = 1;
    pod.metadata.labelz = { a: 'b' };
    pod.spek = {};
    const result = validateObject(podGvk, pod);
    assert.deepEqual(result.errors, []);
    assert.deepEqual([...result.unknownFields].sort(), [
      'metadata.labelz', 'spec.containers[0].imagePullPolcy', 'spec.containers[1].ports[0].hostPrt', 'spek',
    ]);
  });

  test('null optional fields, both Quantity forms and both IntOrString forms are accepted', () => {
    const pod = twoContainerPod();
    pod.spec.nodeName = null;
    pod.spec.containers[0].resources.limits = { cpu: 2, memory: '1Gi' };
    pod.spec.containers[0].livenessProbe.httpGet.port = 8080;
    pod.metadata.deletionTimestamp = null;
    assert.deepEqual(validateObject(podGvk, pod), { errors: [], unknownFields: [], decodeErrors: [] });
    pod.spec.containers[0].livenessProbe.httpGet.port = 80.5;
    assert.deepEqual(validateObject(podGvk, pod).errors.map((e) => e.field), ['spec.containers[0].livenessProbe.httpGet.port']);
  });

  test('validates the other served kinds; unknown kinds pass through', () => {
    const lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'n1', namespace: 'kube-node-lease' },
      spec: { holderIdentity: 'n1', leaseDurationSeconds: 40, renewTime: '2025-01-01T00:00:00.000000Z' } };
    assert.deepEqual(validateObject({ group: 'coordination.k8s.io', version: 'v1', kind: 'Lease' }, lease), { errors: [], unknownFields: [], decodeErrors: [] });
    lease.spec.leaseDurationSeconds = '40' as unknown as number;
    assert.deepEqual(validateObject({ group: 'coordination.k8s.io', version: 'v1', kind: 'Lease' }, lease).errors.map((e) => e.field), ['spec.leaseDurationSeconds']);
    const role = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'r' },
      rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'], verbz: ['list'] }] };
    const roleResult = validateObject({ group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'ClusterRole' }, role);
    assert.deepEqual(roleResult, { errors: [], unknownFields: ['rules[0].verbz'], decodeErrors: [] });
    const node = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' }, status: { capacity: { cpu: '4', memory: '8Gi', pods: 110 } } };
    assert.deepEqual(validateObject({ group: '', version: 'v1', kind: 'Node' }, node), { errors: [], unknownFields: [], decodeErrors: [] });
    assert.deepEqual(validateObject({ group: 'apiregistration.k8s.io', version: 'v1', kind: 'APIService' }, { spec: 1 }), { errors: [], unknownFields: [], decodeErrors: [] });
  });

  test('prints validation throughput', () => {
    const pod = twoContainerPod();
    validateObject(podGvk, pod);
    const iterations = 20000;
    const started = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) validateObject(podGvk, pod);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    console.log(`validateObject(Pod): ${Math.round(iterations / seconds)} validations/s`);
  });
});

describe('validator precompilation', () => {
  test('precompiled kinds validate like lazily compiled ones', async () => {
    const { precompileValidators } = await import('../api/openapi/validator.ts');
    const binding = { group: '', version: 'v1', kind: 'Binding' };
    precompileValidators([binding, { group: 'authentication.k8s.io', version: 'v1', kind: 'TokenReview' }]);
    assert.deepEqual(validateObject(binding, {
      apiVersion: 'v1', kind: 'Binding', metadata: { name: 'web' }, target: { kind: 'Node', name: 'n1', nodeName: 'x' },
    }), { errors: [], unknownFields: ['target.nodeName'], decodeErrors: [] });
    assert.deepEqual(validateObject(binding, { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'web' } }).errors,
      [{ type: 'FieldValueRequired', field: 'target', message: 'Required value' }]);
  });
});
