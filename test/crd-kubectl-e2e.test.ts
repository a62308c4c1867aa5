// The real kubectl against custom resources: apply a CRD, get its objects with printer columns and
// by short name, explain, apply (client-side, with kubectl's default validation) and apply
// --server-side twice, an edit-style patch, scale through the scale subresource, and delete crd
// taking the objects with it.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestServer, type TestServer } from './helpers/api-server.ts';
import { Kubectl } from './helpers/kubectl.ts';

const CRD = `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: crontabs.stable.example.com
spec:
  group: stable.example.com
  scope: Namespaced
  names: {plural: crontabs, singular: crontab, kind: CronTab, shortNames: [ct]}
  versions:
  - name: v1
    served: true
    storage: true
    subresources:
      status: {}
      scale: {specReplicasPath: .spec.replicas, statusReplicasPath: .status.replicas}
    additionalPrinterColumns:
    - {name: Spec, type: string, jsonPath: .spec.cronSpec, description: The cron spec defining the interval a CronJob is run}
    - {name: Replicas, type: integer, jsonPath: .spec.replicas}
    - {name: Age, type: date, jsonPath: .metadata.creationTimestamp}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            description: CronTabSpec is what the user wants to run.
            properties:
              cronSpec: {type: string, description: The cron schedule.}
              image: {type: string, description: The image that runs.}
              replicas: {type: integer, minimum: 0, default: 1}
          status:
            type: object
            properties:
              replicas: {type: integer}
`;

const CRONTAB = (image: string) => `
apiVersion: stable.example.com/v1
kind: CronTab
metadata: {name: my-new-cron-object}
spec: {cronSpec: "* * * * */5", image: ${image}}
`;

describe('kubectl and custom resources', () => {
  let t: TestServer;
  let kubectl: Kubectl;
  before(async () => {
    t = await startTestServer('crd-kubectl');
    kubectl = await Kubectl.create(t.server.adminKubeconfigPath);
  });
  after(async () => {
    await kubectl?.dispose();
    await t.close();
  });

  test('apply the CRD and wait for it to be Established', async () => {
    assert.match(await kubectl.ok(['apply', '-f', '-'], { input: CRD }), /customresourcedefinition.apiextensions.k8s.io\/crontabs.stable.example.com created/);
    await kubectl.ok(['wait', '--for=condition=Established', 'crd/crontabs.stable.example.com', '--timeout=10s']);
    assert.match(await kubectl.ok(['get', 'crd']), /crontabs\.stable\.example\.com\s+\d{4}-\d\d-\d\dT/);
  });

  test('apply (client-side) a custom object twice, then get it with printer columns and by short name', async () => {
    assert.match(await kubectl.ok(['apply', '-f', '-'], { input: CRONTAB('my-awesome-cron-image') }), /crontab.stable.example.com\/my-new-cron-object created/);
    assert.match(await kubectl.ok(['apply', '-f', '-'], { input: CRONTAB('my-other-image') }), /configured/);
    const table = await kubectl.ok(['get', 'ct']);
    assert.match(table, /^NAME\s+SPEC\s+REPLICAS\s+AGE\n/);
    assert.match(table, /my-new-cron-object\s+\* \* \* \* \*\/5\s+1\s+\d+s/);
    assert.equal(await kubectl.ok(['get', 'crontab', 'my-new-cron-object', '-o', 'jsonpath={.spec.image}']), 'my-other-image');
  });

  test('kubectl apply validates against the schema (unknown field rejected by server-side strict validation)', async () => {
    const res = await kubectl.run(['apply', '-f', '-'], { input: CRONTAB('x').replace('image: x', 'image: x, colour: blue') });
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /unknown field "spec\.colour"/);
  });

  test('apply --server-side twice', async () => {
    const manifest = CRONTAB('ssa-image').replace('my-new-cron-object', 'ssa-cron');
    assert.match(await kubectl.ok(['apply', '--server-side', '-f', '-'], { input: manifest }), /crontab.stable.example.com\/ssa-cron serverside-applied/);
    assert.match(await kubectl.ok(['apply', '--server-side', '-f', '-'], { input: manifest.replace('ssa-image', 'ssa-image-2') }), /serverside-applied/);
    assert.equal(await kubectl.ok(['get', 'ct', 'ssa-cron', '-o', 'jsonpath={.spec.image}']), 'ssa-image-2');
  });

  test('explain shows the schema descriptions', async () => {
    const text = await kubectl.ok(['explain', 'crontab.spec']);
    assert.match(text, /KIND:\s+CronTab/);
    assert.match(text, /CronTabSpec is what the user wants to run\./);
    assert.match(text, /cronSpec\s+<string>/);
  });

  test('an edit-style merge patch and scale through the scale subresource', async () => {
    await kubectl.ok(['patch', 'ct', 'my-new-cron-object', '--type=merge', '-p', '{"spec":{"image":"patched"}}']);
    assert.match(await kubectl.ok(['scale', 'crontab/my-new-cron-object', '--replicas=5']), /crontab.stable.example.com\/my-new-cron-object scaled/);
    assert.equal(await kubectl.ok(['get', 'ct', 'my-new-cron-object', '-o', 'jsonpath={.spec.replicas}']), '5');
  });

  test('delete crd removes the objects and the resource', async () => {
    assert.match(await kubectl.ok(['delete', 'crd', 'crontabs.stable.example.com']), /deleted/);
    const res = await kubectl.run(['get', 'crontabs']);
    assert.notEqual(res.code, 0);
    // With its discovery cache still naming crontabs, kubectl reports the list's 404 (as against kube-apiserver).
    assert.match(res.stderr, /the server doesn't have a resource type "crontabs"|Unable to list "stable.example.com\/v1, Resource=crontabs": the server could not find the requested resource/);
    const raw = await t.call('get', '/apis/stable.example.com/v1/namespaces/default/crontabs');
    assert.equal(raw.status, 404);
  });
});
