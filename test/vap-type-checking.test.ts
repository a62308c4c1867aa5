// ValidatingAdmissionPolicy type checking: the validatingadmissionpolicy-status-controller sets
// status.observedGeneration and status.typeChecking.expressionWarnings for expressions that do not
// type-check against the schemas (from /openapi/v3) of the kinds the policy's matchConstraints
// select, with cel-go's wording, one line per kind, at most 10 kinds.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { checkPolicy, typesToCheck, type GroupVersionKind } from '../api/cel/policy-type-check.ts';
import { runControllerManager, type RunningControllerManager } from '../controllers/manager.ts';
import { json, startTestServer, type TestServer } from './helpers/api-server.ts';
import { crdManifest, waitEstablished, waitFor } from './helpers/crds.ts';

const VAP = '/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies';
const MERGE = 'application/merge-patch+json';

let t: TestServer;
let manager: RunningControllerManager;

interface Status { observedGeneration?: number; typeChecking?: { expressionWarnings?: { fieldRef: string; warning: string }[] } }

function policy(name: string, spec: Record<string, unknown>): Record<string, unknown> {
  return { apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingAdmissionPolicy', metadata: { name }, spec };
}

const rule = (apiGroups: string[], resources: string[], apiVersions = ['v1']) => ({ operations: ['CREATE', 'UPDATE'], apiGroups, apiVersions, resources });
const deployments = { resourceRules: [rule(['apps'], ['deployments'])] };

/** Creates the policy and waits for the controller to have checked its current generation. */
async function checked(name: string, spec: Record<string, unknown>): Promise<Status> {
  const res = await json(t.call('post', VAP), policy(name, spec));
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return observed(name, res.body.metadata.generation as number);
}

async function observed(name: string, generation: number): Promise<Status> {
  return waitFor(`${name} checked at generation ${generation}`, async () => {
    const got = await t.call('get', `${VAP}/${name}`).expect(200);
    const status = got.body.status as Status | undefined;
    return status?.observedGeneration === generation ? status : undefined;
  }, 10_000);
}

describe('ValidatingAdmissionPolicy type checking', () => {
  before(async () => {
    t = await startTestServer('vap-type-checking');
    manager = await runControllerManager({
      kubeconfigPath: t.server.adminKubeconfigPath, controllers: ['validatingadmissionpolicy-status-controller'],
      logger: { info: () => undefined, warn: () => undefined },
    });
  });
  after(async () => {
    await manager.stop();
    await t.close();
  });

  test('an undefined field and a wrong-type messageExpression get warnings worded as cel-go; a valid expression none', async () => {
    const status = await checked('deployment-fields', {
      matchConstraints: deployments,
      validations: [
        { expression: "object.foo == 'bar'" },
        { expression: 'object.spec.replicas <= 5', messageExpression: "object.spec.replicas + ' replicas'" },
        { expression: "object.spec.template.spec.containers.all(c, c.image.startsWith('registry.example.com/'))" },
      ],
    });
    assert.deepEqual(status, {
      observedGeneration: 1,
      typeChecking: {
        expressionWarnings: [
          {
            fieldRef: 'spec.validations[0].expression',
            warning: "apps/v1, Kind=Deployment: ERROR: <input>:1:7: undefined field 'foo'\n | object.foo == 'bar'\n | ......^\n",
          },
          {
            fieldRef: 'spec.validations[1].messageExpression',
            warning: "apps/v1, Kind=Deployment: ERROR: <input>:1:22: found no matching overload for '_+_' applied to '(int, string)'\n | object.spec.replicas + ' replicas'\n | .....................^\n",
          },
        ],
      },
    });
  });

  test('one line per matched kind, sorted by group, version and kind; unknown resources and wildcard rules are skipped', async () => {
    const status = await checked('several-kinds', {
      matchConstraints: {
        resourceRules: [
          rule(['apps'], ['replicasets', 'deployments', 'deployments/scale', 'nosuchthings']),
          rule([''], ['pods']),
          rule(['*'], ['jobs']),
        ],
      },
      validations: [{ expression: 'object.spec.replicas > 1' }, { expression: "object.metadata.name != ''" }],
    });
    const snippet = ' | object.spec.replicas > 1\n | ...........^\n';
    assert.deepEqual(status.typeChecking?.expressionWarnings, [{
      fieldRef: 'spec.validations[0].expression',
      // Pods have no spec.replicas; Deployments and ReplicaSets do.
      warning: `/v1, Kind=Pod: ERROR: <input>:1:12: undefined field 'replicas'\n${snippet}`,
    }]);
  });

  test('a custom resource is checked against its CRD schema, params against the paramKind, variables by their own types', async () => {
    const crd = crdManifest({ group: 'typecheck.example.com' });
    await json(t.call('post', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions'), crd).expect(201);
    await waitEstablished(t, 'crontabs.typecheck.example.com');
    const status = await checked('crd-params-variables', {
      paramKind: { apiVersion: 'v1', kind: 'ConfigMap' },
      matchConstraints: { resourceRules: [rule(['typecheck.example.com'], ['crontabs'])] },
      variables: [{ name: 'replicas', expression: 'object.spec.replicas' }, { name: 'image', expression: 'object.spec.image' }],
      validations: [
        { expression: "object.spec.cronSpec.matches('^[0-9*]')" },
        { expression: 'variables.replicas <= int(params.data.maxReplicas)' },
        { expression: 'variables.image == 3' },
        { expression: 'params.data.maxReplicas == 3' },
        { expression: "object.spec.schedule == ''" },
      ],
    });
    assert.deepEqual(status.typeChecking?.expressionWarnings, [
      {
        fieldRef: 'spec.validations[2].expression',
        warning: "typecheck.example.com/v1, Kind=CronTab: ERROR: <input>:1:17: found no matching overload for '_==_' applied to '(string, int)'\n | variables.image == 3\n | ................^\n",
      },
      {
        fieldRef: 'spec.validations[3].expression',
        warning: "typecheck.example.com/v1, Kind=CronTab: ERROR: <input>:1:25: found no matching overload for '_==_' applied to '(string, int)'\n | params.data.maxReplicas == 3\n | ........................^\n",
      },
      {
        fieldRef: 'spec.validations[4].expression',
        warning: "typecheck.example.com/v1, Kind=CronTab: ERROR: <input>:1:12: undefined field 'schedule'\n | object.spec.schedule == ''\n | ...........^\n",
      },
    ]);
  });

  test('at most 10 kinds are checked; rules with only wildcards give no warnings at all', async () => {
    const resources = ['configmaps', 'endpoints', 'events', 'limitranges', 'namespaces', 'nodes', 'persistentvolumeclaims', 'persistentvolumes', 'pods', 'podtemplates', 'replicationcontrollers'];
    const capped = await checked('capped', { matchConstraints: { resourceRules: [rule([''], resources)] }, validations: [{ expression: 'object.notAField == 1' }] });
    const warnings = capped.typeChecking?.expressionWarnings ?? [];
    assert.equal(warnings.length, 1);
    const kinds = warnings[0].warning.split('\n').filter((line) => line.startsWith('/v1, Kind=')).map((line) => line.slice('/v1, Kind='.length).split(':')[0]);
    assert.deepEqual(kinds, ['ConfigMap', 'Endpoints', 'Event', 'LimitRange', 'Namespace', 'Node', 'PersistentVolume', 'PersistentVolumeClaim', 'Pod', 'PodTemplate']);

    const wildcard = await checked('wildcard', { matchConstraints: { resourceRules: [rule(['*'], ['*'], ['*'])] }, validations: [{ expression: 'object.notAField == 1' }] });
    assert.deepEqual(wildcard, { observedGeneration: 1, typeChecking: {} });
  });

  test('a spec change is checked again (the new generation observed); a fixed expression clears its warning', async () => {
    const first = await checked('fixed-later', { matchConstraints: deployments, validations: [{ expression: 'object.spec.replica > 0' }] });
    assert.equal(first.typeChecking?.expressionWarnings?.length, 1);
    const patched = await json(t.call('patch', `${VAP}/fixed-later`), { spec: { validations: [{ expression: 'object.spec.replicas > 0' }] } }, MERGE).expect(200);
    assert.equal(patched.body.metadata.generation, 2);
    assert.deepEqual(await observed('fixed-later', 2), { observedGeneration: 2, typeChecking: {} });
    // The status is the controller's: applied under its own field manager.
    const got = await t.call('get', `${VAP}/fixed-later`).expect(200);
    const managers = (got.body.metadata.managedFields as { manager: string; subresource?: string }[]).filter((f) => f.subresource === 'status').map((f) => f.manager);
    assert.deepEqual(managers, ['validatingadmissionpolicy-status-controller']);
  });

  // The two type-checking scenarios of test/e2e/apimachinery/validatingadmissionpolicy.go.
  test('e2e "should type check validation expressions"', async () => {
    const correct = await checked('e2e-correct', { matchConstraints: deployments, validations: [{ expression: 'object.spec.replicas > 1' }] });
    assert.deepEqual(correct.typeChecking, {});
    const confused = await checked('e2e-confused', {
      matchConstraints: deployments,
      validations: [{ expression: "object.spec.replicas > '1'", messageExpression: "'wants replicas > 1, got ' + object.spec.replicas" }],
    });
    const warnings = confused.typeChecking?.expressionWarnings ?? [];
    assert.deepEqual(warnings.map((w) => w.fieldRef), ['spec.validations[0].expression', 'spec.validations[0].messageExpression']);
    assert.ok(warnings[0].warning.includes("found no matching overload for '_>_' applied to '(int, string)'"), warnings[0].warning);
    assert.ok(warnings[1].warning.includes("found no matching overload for '_+_' applied to '(string, int)'"), warnings[1].warning);
  });

  test('e2e "should type check a CRD"', async () => {
    await json(t.call('post', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions'), crdManifest({ group: 'stable.e2e-typecheck.example.com' })).expect(201);
    await waitEstablished(t, 'crontabs.stable.e2e-typecheck.example.com');
    const crontabs = { resourceRules: [rule(['stable.e2e-typecheck.example.com'], ['crontabs'])] };
    const correct = await checked('e2e-crd-correct', { matchConstraints: crontabs, validations: [{ expression: 'object.spec.replicas > 1' }] });
    assert.deepEqual(correct.typeChecking, {});
    const confused = await checked('e2e-crd-confused', {
      matchConstraints: crontabs,
      validations: [{ expression: "object.spec.replicas > '1'" }, { expression: 'object.spec.maxRetries < 10' }],
    });
    const warnings = confused.typeChecking?.expressionWarnings ?? [];
    assert.deepEqual(warnings.map((w) => w.fieldRef), ['spec.validations[0].expression', 'spec.validations[1].expression']);
    assert.ok(warnings[0].warning.includes("found no matching overload for '_>_' applied to '(int, string)'"), warnings[0].warning);
    assert.ok(warnings[1].warning.includes("undefined field 'maxRetries'"), warnings[1].warning);
  });

  test('the controller manager user may read policies and write their status', async () => {
    for (const [verb, subresource] of [['watch', ''], ['patch', 'status']]) {
      const review = await json(t.call('post', '/apis/authorization.k8s.io/v1/subjectaccessreviews'), {
        apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview',
        spec: { user: 'system:kube-controller-manager', resourceAttributes: { group: 'admissionregistration.k8s.io', resource: 'validatingadmissionpolicies', verb, subresource } },
      }).expect(201);
      assert.equal(review.body.status.allowed, true, `${verb} ${subresource}`);
    }
  });
});

describe('type checker, without a server (upstream typechecking_test.go cases)', () => {
  const KINDS: Record<string, string> = { 'apps/v1/deployments': 'Deployment', '/v1/pods': 'Pod' };
  const kindsFor = async (group: string, version: string, resource: string): Promise<GroupVersionKind[]> => {
    const kind = KINDS[`${group}/${version}/${resource}`];
    return kind ? [{ group, version, kind }] : [];
  };
  const constraints = (...rules: [string[], string[], string[]][]) => ({
    matchConstraints: { resourceRules: rules.map(([apiGroups, apiVersions, resources]) => ({ apiGroups, apiVersions, resources })) },
  });

  test('typesToCheck: specific, multiple (sorted), all resources, subresources, mixtures', async () => {
    assert.deepEqual(await typesToCheck({}, kindsFor), []);
    assert.deepEqual(await typesToCheck(constraints([['apps'], ['v1'], ['deployments']]), kindsFor), [{ group: 'apps', version: 'v1', kind: 'Deployment' }]);
    assert.deepEqual(await typesToCheck(constraints([['apps'], ['v1'], ['deployments']], [[''], ['v1'], ['pods']]), kindsFor),
      [{ group: '', version: 'v1', kind: 'Pod' }, { group: 'apps', version: 'v1', kind: 'Deployment' }]);
    assert.deepEqual(await typesToCheck(constraints([['apps'], ['v1'], ['*']]), kindsFor), []);
    assert.deepEqual(await typesToCheck(constraints([['apps'], ['v1'], ['pods/*']]), kindsFor), []);
    assert.deepEqual(await typesToCheck(constraints([['apps'], ['v1'], ['deployments']], [['apps'], ['*'], ['deployments']]), kindsFor), [{ group: 'apps', version: 'v1', kind: 'Deployment' }]);
  });

  const deployment = { gvk: { group: 'apps', version: 'v1', kind: 'Deployment' } };
  const withProperties = (properties: Record<string, unknown>) => ({ ...deployment, schema: { schema: { type: 'object', properties }, components: {} } });

  test('undefined field, field type mismatch, params, authorizer, untyped schemas', () => {
    const fooIsBar = { validations: [{ expression: "object.foo == 'bar'" }] };
    assert.deepEqual(checkPolicy(fooIsBar, [withProperties({ foo: { type: 'string' } })], undefined), []);
    assert.match(checkPolicy(fooIsBar, [withProperties({ bar: { type: 'string' } })], undefined)[0].warning, /undefined field 'foo'/);
    assert.match(checkPolicy(fooIsBar, [withProperties({ foo: { type: 'integer' } })], undefined)[0].warning, /found no matching overload/);
    const params = { validations: [{ expression: 'object.foo == params.bar' }] };
    assert.match(checkPolicy(params, [withProperties({ foo: { type: 'string' } })], { schema: { type: 'object', properties: { foo: { type: 'string' } } }, components: {} })[0].warning, /undefined field 'bar'/);
    // A schema without a type makes the variable dyn: nothing to warn about.
    assert.deepEqual(checkPolicy({ validations: [{ expression: 'params != null && object.anything' }] }, [{ ...deployment, schema: { schema: {}, components: {} } }], { schema: {}, components: {} }), []);
    // An object that allows any additional property (no schema for them) is an object with no fields.
    const reproducer = withProperties({ spec: { type: 'object', properties: { text: { type: 'string' } } }, status: { type: 'object', properties: { problematicProperty: { type: 'object', additionalProperties: true } } } });
    assert.deepEqual(checkPolicy({ validations: [{ expression: 'has(object.spec.text)' }] }, [reproducer], undefined), []);
    // kind, apiVersion and metadata.name are always there at a resource root.
    assert.deepEqual(checkPolicy({ validations: [{ expression: "object.kind + object.apiVersion + object.metadata.name != ''" }] }, [withProperties({})], undefined), []);
  });

  test('the served Pod schema: quantities, int-or-string ports, timestamps and maps check as upstream types them', () => {
    const document = JSON.parse(readFileSync(new URL('../api/openapi/generated/v3/api__v1.json', import.meta.url), 'utf8')) as { components: { schemas: Record<string, Record<string, unknown>> } };
    const components = document.components.schemas;
    const pod = { gvk: { group: '', version: 'v1', kind: 'Pod' }, schema: { schema: components['io.k8s.api.core.v1.Pod'], components } };
    const valid = [
      "object.spec.containers.all(c, c.image.startsWith('registry/') && c.resources.limits['cpu'] != '')",
      "object.spec.containers[0].livenessProbe.httpGet.port == 80 || object.spec.containers[0].livenessProbe.httpGet.port == 'http'",
      "object.metadata.creationTimestamp > timestamp('2020-01-01T00:00:00Z')",
      "object.metadata.labels.app == 'web' && object.status.phase == 'Running' && object.spec.volumes.all(v, !has(v.hostPath))",
      'object.spec.containers.exists(c, c.ports.exists(p, p.containerPort == 80))',
    ];
    assert.deepEqual(checkPolicy({ validations: valid.map((expression) => ({ expression })) }, [pod], undefined), []);
    const wrong = checkPolicy({ validations: [{ expression: 'object.spec.nodeName == 1' }, { expression: "object.metadata.creationTimestamp == '2020'" }] }, [pod], undefined);
    assert.deepEqual(wrong.map((w) => w.warning.split('\n')[0]), [
      "/v1, Kind=Pod: ERROR: <input>:1:22: found no matching overload for '_==_' applied to '(string, int)'",
      "/v1, Kind=Pod: ERROR: <input>:1:35: found no matching overload for '_==_' applied to '(google.protobuf.Timestamp, string)'",
    ]);
  });

  test('has() checks its whole selection: an undeclared field is an undefined field, a map key is not', () => {
    const kinds = [withProperties({ spec: { type: 'object', properties: { items: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' } } } }, labels: { type: 'object', additionalProperties: { type: 'string' } } } } })];
    assert.deepEqual(checkPolicy({ validations: [{ expression: "has(object.spec.labels.app) && object.spec.items.all(i, has(i.name)) && has(object.spec.items)" }] }, kinds, undefined), []);
    const typo = checkPolicy({ validations: [{ expression: 'has(object.spec.item)' }, { expression: "object.spec.items.all(i, has(i.nmae) || 'has(x.y)' == '')" }] }, kinds, undefined);
    assert.deepEqual(typo.map((w) => w.warning), [
      "apps/v1, Kind=Deployment: ERROR: <input>:1:16: undefined field 'item'\n | has(object.spec.item)\n | ...............^\n",
      "apps/v1, Kind=Deployment: ERROR: <input>:1:31: undefined field 'nmae'\n | object.spec.items.all(i, has(i.nmae) || 'has(x.y)' == '')\n | ..............................^\n",
    ]);
  });

  test('variables: typed by their expressions; a missing one is an undefined field', () => {
    const kinds = [withProperties({ foo: { type: 'integer' } })];
    assert.deepEqual(checkPolicy({ variables: [{ name: 'works', expression: 'true' }], validations: [{ expression: 'variables.works' }] }, kinds, undefined), []);
    assert.match(checkPolicy({ variables: [{ name: 'works', expression: 'true' }], validations: [{ expression: 'variables.nonExisting' }] }, kinds, undefined)[0].warning, /undefined field 'nonExisting'/);
    const wrongType = checkPolicy({ variables: [{ name: 'name', expression: "'something'" }], validations: [{ expression: 'variables.name == object.foo' }] }, kinds, undefined);
    assert.deepEqual(wrongType.map((w) => w.fieldRef), ['spec.validations[0].expression']);
    assert.match(wrongType[0].warning, /found no matching overload for '_==_' applied to '\(string, int\)'/);
  });
});
