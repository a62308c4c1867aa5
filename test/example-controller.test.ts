// The example operator (examples/crontab-controller) run against kubefacade as its authors would
// test it: the CRD applied with kubectl, the controller started with client-node, a custom object
// created and changed, and its status (written through /status) checked, also in kubectl's table.

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { startCronTabController, type RunningController } from '../examples/crontab-controller/controller.ts';
import { startTestServer, type TestServer } from './helpers/api-server.ts';
import { waitFor } from './helpers/crds.ts';
import { Kubectl } from './helpers/kubectl.ts';

describe('example CronTab controller', () => {
  let t: TestServer;
  let kubectl: Kubectl;
  let controller: RunningController | undefined;
  before(async () => {
    t = await startTestServer('example-controller');
    kubectl = await Kubectl.create(t.server.adminKubeconfigPath);
    const crd = await readFile(new URL('../examples/crontab-controller/crontab-crd.yaml', import.meta.url), 'utf8');
    await kubectl.ok(['apply', '-f', '-'], { input: crd });
    await kubectl.ok(['wait', '--for=condition=Established', 'crd/crontabs.stable.example.com', '--timeout=10s']);
  });
  after(async () => {
    await controller?.stop();
    await kubectl?.dispose();
    await t.close();
  });

  test('the controller reconciles status through the status subresource', async () => {
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(t.server.adminKubeconfigPath);
    controller = startCronTabController(kc);
    await controller.synced;
    await kubectl.ok(['apply', '-f', '-'], { input: 'apiVersion: stable.example.com/v1\nkind: CronTab\nmetadata: {name: nightly}\nspec: {cronSpec: "0 3 * * *", image: backup:1, replicas: 2}\n' });
    const ready = await waitFor('status written', async () => {
      const res = await t.call('get', '/apis/stable.example.com/v1/namespaces/default/crontabs/nightly');
      return res.body.status?.replicas === 2 ? res.body : undefined;
    }, 10_000);
    assert.equal(ready.status.observedGeneration, 1);
    assert.equal(ready.status.conditions[0].type, 'Ready');
    assert.equal(ready.status.conditions[0].status, 'True');
    await kubectl.ok(['patch', 'ct', 'nightly', '--type=merge', '-p', '{"spec":{"replicas":5}}']);
    await waitFor('status follows spec', async () => {
      const res = await t.call('get', '/apis/stable.example.com/v1/namespaces/default/crontabs/nightly');
      return res.body.status?.replicas === 5 && res.body.status.observedGeneration === 2 ? true : undefined;
    }, 10_000);
    assert.match(await kubectl.ok(['get', 'ct']), /nightly\s+5\s+True\s+\d+s/);
  });
});
