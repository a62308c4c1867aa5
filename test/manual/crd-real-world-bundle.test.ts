// A real-world CRD bundle: Gateway API v1.6.1's standard channel (about 900 KB of CRDs with some
// 280 CEL rules, plus its ValidatingAdmissionPolicy) installed with `kubectl apply --server-side`,
// its published examples applied, and an example edited to break one CEL rule rejected with that
// rule's message.
//
// Run by hand, not by `npm test`: the bundle is a third party's data and is not kept in this
// repository. Put the release's `crds/` (standard-install.yaml split per CRD, and its
// ValidatingAdmissionPolicy) and `examples/` in one directory, then
//   KUBEFACADE_CRD_BUNDLE=/path/to/gateway-api-v1.6.1 node --import tsx --test test/manual/crd-real-world-bundle.test.ts
// Without the variable the run fails (it never skips).

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { startTestServer, type TestServer } from '../helpers/api-server.ts';
import { Kubectl } from '../helpers/kubectl.ts';

const BUNDLE_DIR = process.env.KUBEFACADE_CRD_BUNDLE;
if (!BUNDLE_DIR) throw new Error('KUBEFACADE_CRD_BUNDLE must name a Gateway API v1.6.1 bundle directory (crds/, examples/)');
const BUNDLE = BUNDLE_DIR.endsWith('/') ? BUNDLE_DIR : `${BUNDLE_DIR}/`;

describe('Gateway API CRD bundle', () => {
  let t: TestServer;
  let kubectl: Kubectl;
  before(async () => {
    t = await startTestServer('gateway-api');
    kubectl = await Kubectl.create(t.server.adminKubeconfigPath);
  });
  after(async () => {
    await kubectl?.dispose();
    await t.close();
  });

  test('installs with kubectl apply --server-side and every CRD becomes Established', async () => {
    const out = await kubectl.ok(['apply', '--server-side', '-f', `${BUNDLE}crds`], { timeoutMs: 120_000 });
    for (const crd of ['gatewayclasses', 'gateways', 'httproutes', 'grpcroutes', 'referencegrants', 'backendtlspolicies']) {
      assert.match(out, new RegExp(`customresourcedefinition.apiextensions.k8s.io/${crd}.gateway.networking.k8s.io serverside-applied`));
    }
    assert.match(out, /validatingadmissionpolicy.admissionregistration.k8s.io\/safe-upgrades.gateway.networking.k8s.io serverside-applied/);
    await kubectl.ok(['wait', '--for=condition=Established', 'crd', '--all', '--timeout=30s']);
    // Applying the same bundle again is a no-op that the bundle's own policy admits.
    assert.match(await kubectl.ok(['apply', '--server-side', '-f', `${BUNDLE}crds`], { timeoutMs: 120_000 }), /httproutes.gateway.networking.k8s.io serverside-applied/);
  });

  test('the published examples apply', async () => {
    const out = await kubectl.ok(['apply', '-f', `${BUNDLE}examples`], { timeoutMs: 120_000 });
    assert.match(out, /gateway.gateway.networking.k8s.io\/prod-web created/);
    assert.match(out, /httproute.gateway.networking.k8s.io\/simple-split created/);
    assert.match(out, /grpcroute.gateway.networking.k8s.io\/grpc-app-1 created/);
    const routes = await kubectl.ok(['get', 'httproutes']);
    assert.match(routes, /^NAME\s+HOSTNAMES\s+AGE/);
    // Schema defaults were applied: a backendRef's kind defaults to Service.
    assert.equal(await kubectl.ok(['get', 'httproute', 'simple-split', '-o', 'jsonpath={.spec.rules[0].backendRefs[0].kind}']), 'Service');
  });

  test('an example edited to break a CEL rule is rejected with the rule message', async () => {
    const original = await readFile(`${BUNDLE}examples/traffic-splitting_simple-split.yaml`, 'utf8');
    const broken = original.replace('name: simple-split', 'name: broken-split').replace(/\n\s+port: 8080\n(\s+weight: 90)/, '\n$1');
    assert.notEqual(broken, original);
    const res = await kubectl.run(['apply', '-f', '-'], { input: broken });
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /spec\.rules\[0\]\.backendRefs\[0\]: Invalid value: "object": Must have port for Service reference/);
  });

  test('the bundle policy refuses an experimental CRD over the standard ones', async () => {
    const crd = await kubectl.ok(['get', 'crd', 'referencegrants.gateway.networking.k8s.io', '-o', 'json']);
    const object = JSON.parse(crd) as { metadata: { annotations: Record<string, string>; managedFields?: unknown } };
    object.metadata.annotations['gateway.networking.k8s.io/channel'] = 'experimental';
    delete object.metadata.managedFields;
    const res = await kubectl.run(['replace', '-f', '-'], { input: JSON.stringify(object) });
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /Installing experimental CRDs on top of standard channel CRDs is prohibited by default/);
  });
});
