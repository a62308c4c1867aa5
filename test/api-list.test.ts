// LIST over HTTPS: label selectors (every operator), field selectors per kind, paging with limit
// and continue over a consistent snapshot, expired continue tokens, and the resourceVersion /
// resourceVersionMatch rules of https://kubernetes.io/docs/reference/using-api/api-concepts/.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { churn, json, nodeManifest, podManifest, startTestServer, type TestServer } from './helpers/api-server.ts';

const NS = '/api/v1/namespaces/list';
type Named = { metadata: { name: string } };
const names = (body: { items: Named[] }) => body.items.map((i) => i.metadata.name);

describe('LIST over HTTPS', () => {
  let t: TestServer;
  // A short history (50 revisions) so that old snapshots expire within the test.
  before(async () => {
    t = await startTestServer('api-list', { historyRevisions: 50 });
    await json(t.call('post', '/api/v1/namespaces'), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'list' } }).expect(201);
    const pods: [string, Record<string, string>, string][] = [
      ['p1', { app: 'web', tier: 'front', rank: '1' }, 'n1'],
      ['p2', { app: 'web', tier: 'back', rank: '5' }, 'n2'],
      ['p3', { app: 'db', rank: '10' }, ''],
      ['p4', { team: 'x' }, ''],
    ];
    for (const [name, labels, node] of pods) {
      await json(t.call('post', `${NS}/pods`), podManifest(name, { labels })).expect(201);
      if (node) await json(t.call('post', `${NS}/pods/${name}/binding`), { apiVersion: 'v1', kind: 'Binding', metadata: { name }, target: { kind: 'Node', name: node } }).expect(201);
    }
    await json(t.call('patch', `${NS}/pods/p2/status`), { status: { phase: 'Running' } }, 'application/merge-patch+json').expect(200);
  });
  after(async () => { await t.close(); });

  const list = async (query: string, path = `${NS}/pods`) => (await t.call('get', `${path}?${query}`).expect(200)).body;

  test('label selectors: =, ==, !=, in, notin, exists, !exists, gt, lt, and combinations', async () => {
    const cases: [string, string[]][] = [
      ['app=web', ['p1', 'p2']],
      ['app==web', ['p1', 'p2']],
      ['app!=web', ['p3', 'p4']],
      ['app in (web,db)', ['p1', 'p2', 'p3']],
      ['app notin (web)', ['p3', 'p4']],
      ['tier', ['p1', 'p2']],
      ['!tier', ['p3', 'p4']],
      ['rank>4', ['p2', 'p3']],
      ['rank<5', ['p1']],
      ['app=web,tier=front', ['p1']],
      ['app in (web),!tier', []],
      ['', ['p1', 'p2', 'p3', 'p4']],
    ];
    for (const [selector, expected] of cases) {
      assert.deepEqual(names(await list(`labelSelector=${encodeURIComponent(selector)}`)), expected, selector);
    }
    const bad = await t.call('get', `${NS}/pods?labelSelector=${encodeURIComponent('app in (web')}`).expect(400);
    assert.equal(bad.body.reason, 'BadRequest');
  });

  test('pod field selectors: metadata.*, spec.nodeName, status.phase, with != and empty values', async () => {
    const cases: [string, string[]][] = [
      ['metadata.name=p3', ['p3']],
      ['metadata.name!=p3', ['p1', 'p2', 'p4']],
      ['metadata.namespace=list', ['p1', 'p2', 'p3', 'p4']],
      ['spec.nodeName=n1', ['p1']],
      ['spec.nodeName=', ['p3', 'p4']],
      ['spec.nodeName!=', ['p1', 'p2']],
      ['status.phase=Running', ['p2']],
      ['status.phase!=Running,spec.nodeName!=', ['p1']],
      ['spec.nodeName==n2,status.phase=Running', ['p2']],
    ];
    for (const [selector, expected] of cases) {
      assert.deepEqual(names(await list(`fieldSelector=${encodeURIComponent(selector)}`)), expected, selector);
    }
    const all = await list(`fieldSelector=${encodeURIComponent('metadata.namespace=list,spec.nodeName=n1')}`, '/api/v1/pods');
    assert.deepEqual(names(all), ['p1']);
  });

  test('event field selectors: involvedObject.*, reason, type (and the empty namespace)', async () => {
    const event = (name: string, kind: string, objName: string, ns: string, reason: string, type: string) => ({
      apiVersion: 'v1', kind: 'Event', metadata: { name },
      involvedObject: { kind, name: objName, ...(ns ? { namespace: ns } : {}), uid: `${objName}-uid` },
      reason, type, message: reason, source: { component: 'test' },
    });
    await json(t.call('post', `${NS}/events`), event('e1', 'Pod', 'p1', 'list', 'Scheduled', 'Normal')).expect(201);
    await json(t.call('post', `${NS}/events`), event('e2', 'Pod', 'p2', 'list', 'BackOff', 'Warning')).expect(201);
    await json(t.call('post', '/api/v1/namespaces/default/events'), event('e3', 'Node', 'n1', '', 'NodeReady', 'Normal')).expect(201);
    const cases: [string, string, string[]][] = [
      [NS, 'involvedObject.name=p1,involvedObject.namespace=list,involvedObject.uid=p1-uid', ['e1']],
      [NS, 'involvedObject.kind=Pod,type!=Normal', ['e2']],
      [NS, 'reason=BackOff', ['e2']],
      ['/api/v1', 'involvedObject.kind=Node,involvedObject.namespace=', ['e3']],
      ['/api/v1', 'type=Normal', ['e1', 'e3']],
    ];
    for (const [base, selector, expected] of cases) {
      assert.deepEqual(names(await list(`fieldSelector=${encodeURIComponent(selector)}`, `${base}/events`)).sort(), expected, selector);
    }
  });

  test('an unsupported field is 400 with the conversion function\'s wording', async () => {
    const pods = await t.call('get', `${NS}/pods?fieldSelector=spec.containers%3Dx`).expect(400);
    assert.deepEqual(pods.body, {
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure',
      message: 'field label not supported: spec.containers', reason: 'BadRequest', code: 400,
    });
    const leases = await t.call('get', '/apis/coordination.k8s.io/v1/leases?fieldSelector=spec.holderIdentity%3Dx').expect(400);
    assert.equal(leases.body.message, '"spec.holderIdentity" is not a known field selector: only "metadata.name", "metadata.namespace"');
    const nodes = await t.call('get', '/api/v1/nodes?fieldSelector=spec.unschedulable%3Dfalse').expect(200);
    assert.equal(nodes.body.kind, 'NodeList');
    const watch = await t.call('get', `${NS}/pods?watch=true&fieldSelector=spec.bogus%3D1`).expect(400);
    assert.equal(watch.body.message, 'field label not supported: spec.bogus');
  });

  test('limit and continue page through one snapshot while writes happen between pages', async () => {
    await json(t.call('post', '/api/v1/namespaces'), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'pages' } }).expect(201);
    for (let i = 0; i < 7; i++) await json(t.call('post', '/api/v1/namespaces/pages/pods'), podManifest(`pg-${i}`, { labels: { v: '1' } })).expect(201);
    const first = await list('limit=3', '/api/v1/namespaces/pages/pods');
    assert.deepEqual(names(first), ['pg-0', 'pg-1', 'pg-2']);
    assert.equal(first.metadata.remainingItemCount, 4);
    assert.ok(first.metadata.continue);
    const snapshot = first.metadata.resourceVersion;

    // Between pages: one created, one deleted, one changed.
    await json(t.call('post', '/api/v1/namespaces/pages/pods'), podManifest('pg-9')).expect(201);
    await t.call('delete', '/api/v1/namespaces/pages/pods/pg-4').expect(200);
    await json(t.call('patch', '/api/v1/namespaces/pages/pods/pg-5'), { metadata: { labels: { v: '2' } } }, 'application/merge-patch+json').expect(200);

    const second = await list(`limit=3&continue=${encodeURIComponent(first.metadata.continue)}`, '/api/v1/namespaces/pages/pods');
    assert.deepEqual(names(second), ['pg-3', 'pg-4', 'pg-5']);
    assert.equal(second.metadata.resourceVersion, snapshot);
    assert.deepEqual(second.items[2].metadata.labels, { v: '1' });
    assert.equal(second.metadata.remainingItemCount, 1);
    const third = await list(`limit=3&continue=${encodeURIComponent(second.metadata.continue)}`, '/api/v1/namespaces/pages/pods');
    assert.deepEqual(names(third), ['pg-6']);
    assert.equal(third.metadata.continue, undefined);
    assert.equal(third.metadata.remainingItemCount, undefined);

    const fresh = await list('', '/api/v1/namespaces/pages/pods');
    assert.deepEqual(names(fresh), ['pg-0', 'pg-1', 'pg-2', 'pg-3', 'pg-5', 'pg-6', 'pg-9']);
  });

  test('a continue token whose snapshot was compacted is 410 with a token that resumes at the latest state', async () => {
    await json(t.call('post', '/api/v1/namespaces'), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'expire' } }).expect(201);
    for (let i = 0; i < 4; i++) await json(t.call('post', '/api/v1/namespaces/expire/pods'), podManifest(`ex-${i}`)).expect(201);
    const first = await list('limit=2', '/api/v1/namespaces/expire/pods');
    // Push the snapshot out of the 50-revision history (in another namespace: this list stays as it was).
    await json(t.call('post', '/api/v1/namespaces'), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'expire-churn' } }).expect(201);
    await churn(t, '/api/v1/namespaces/expire-churn/pods', 70);
    const expired = await t.call('get', `/api/v1/namespaces/expire/pods?limit=2&continue=${encodeURIComponent(first.metadata.continue)}`).expect(410);
    assert.equal(expired.body.reason, 'Expired');
    assert.equal(expired.body.code, 410);
    assert.equal(expired.body.message, 'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.');
    const token = expired.body.metadata.continue as string;
    assert.deepEqual(JSON.parse(Buffer.from(token, 'base64url').toString()).rv, -1);
    const rest = await list(`limit=2&continue=${encodeURIComponent(token)}`, '/api/v1/namespaces/expire/pods');
    assert.deepEqual(names(rest), ['ex-2', 'ex-3']);

    const oldExact = await t.call('get', `/api/v1/namespaces/expire/pods?resourceVersion=${first.metadata.resourceVersion}&resourceVersionMatch=Exact`).expect(410);
    assert.equal(oldExact.body.message, 'The resourceVersion for the provided list is too old.');
  });

  test('resourceVersion semantics: unset and 0 are current, NotOlderThan, Exact returns the old state', async () => {
    const before = await list('', `${NS}/pods`);
    const rv = before.metadata.resourceVersion;
    await json(t.call('patch', `${NS}/pods/p4`), { metadata: { labels: { team: 'y' } } }, 'application/merge-patch+json').expect(200);
    await t.call('delete', `${NS}/pods/p3`).expect(200);

    const latest = await list('resourceVersion=0', `${NS}/pods`);
    assert.deepEqual(names(latest), ['p1', 'p2', 'p4']);
    assert.ok(Number(latest.metadata.resourceVersion) > Number(rv));
    const notOlder = await list(`resourceVersion=${rv}&resourceVersionMatch=NotOlderThan`, `${NS}/pods`);
    assert.deepEqual(names(notOlder), ['p1', 'p2', 'p4']);
    const legacy = await list(`resourceVersion=${rv}`, `${NS}/pods`);
    assert.deepEqual(names(legacy), ['p1', 'p2', 'p4']);

    const exact = await list(`resourceVersion=${rv}&resourceVersionMatch=Exact`, `${NS}/pods`);
    assert.equal(exact.metadata.resourceVersion, rv);
    assert.deepEqual(names(exact), ['p1', 'p2', 'p3', 'p4']);
    assert.deepEqual(exact.items[3].metadata.labels, { team: 'x' });
    const exactByName = await list(`resourceVersion=${rv}&resourceVersionMatch=Exact&fieldSelector=metadata.name%3Dp3`, `${NS}/pods`);
    assert.deepEqual(names(exactByName), ['p3']);
    const exactPaged = await list(`resourceVersion=${rv}&resourceVersionMatch=Exact&limit=2`, `${NS}/pods`);
    assert.deepEqual(names(exactPaged), ['p1', 'p2']);
    assert.equal(exactPaged.metadata.resourceVersion, rv);
  });

  test('a resourceVersion the server has not reached is 504 Timeout', async () => {
    const res = await t.call('get', `${NS}/pods?resourceVersion=99999999`).expect(504);
    assert.equal(res.body.reason, 'Timeout');
    assert.match(res.body.message, /^Too large resource version: 99999999, current: \d+$/);
    assert.deepEqual(res.body.details, { causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }], retryAfterSeconds: 1 });
  });

  test('invalid option combinations are refused as kube-apiserver refuses them', async () => {
    const invalid = async (query: string, message: string) => {
      const res = await t.call('get', `${NS}/pods?${query}`).expect(422);
      assert.equal(res.body.reason, 'Invalid', query);
      assert.equal(res.body.message, message, query);
      assert.equal(res.body.details.kind, 'ListOptions');
      assert.equal(res.body.details.group, 'meta.k8s.io');
    };
    await invalid('resourceVersionMatch=Exact', 'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided');
    await invalid('resourceVersion=0&resourceVersionMatch=Exact', 'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch "exact" is forbidden for resourceVersion "0"');
    await invalid('resourceVersion=1&resourceVersionMatch=Newest', 'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Unsupported value: "Newest": supported values: "Exact", "NotOlderThan", ""');
    await invalid('resourceVersionMatch=Newest', 'ListOptions.meta.k8s.io "" is invalid: [resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided, resourceVersionMatch: Unsupported value: "Newest": supported values: "Exact", "NotOlderThan", ""]');
    await invalid('sendInitialEvents=true', 'ListOptions.meta.k8s.io "" is invalid: sendInitialEvents: Forbidden: sendInitialEvents is forbidden for list');
    await invalid('watch=true&resourceVersion=1&resourceVersionMatch=NotOlderThan', 'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided');
    await invalid('watch=true&sendInitialEvents=true', 'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan');

    const first = await list('limit=1', `${NS}/pods`);
    const withRv = await t.call('get', `${NS}/pods?limit=1&resourceVersion=5&continue=${encodeURIComponent(first.metadata.continue)}`).expect(400);
    assert.equal(withRv.body.message, 'specifying resource version is not allowed when using continue');
    const bogus = Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: 0, start: 'p1\u0000' })).toString('base64url');
    const badToken = await t.call('get', `${NS}/pods?limit=1&continue=${bogus}`).expect(400);
    assert.equal(badToken.body.message, 'invalid continue token: continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
    const traversal = Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: 5, start: '../secrets/x' })).toString('base64url');
    await t.call('get', `${NS}/pods?limit=1&continue=${traversal}`).expect(400);
  });

  test('cluster-scoped lists and list kinds', async () => {
    await json(t.call('post', '/api/v1/nodes'), nodeManifest('ln1', { pool: 'a' })).expect(201);
    await json(t.call('post', '/api/v1/nodes'), nodeManifest('ln2', { pool: 'b' })).expect(201);
    const nodes = await list('labelSelector=pool', '/api/v1/nodes');
    assert.equal(nodes.kind, 'NodeList');
    assert.deepEqual(names(nodes), ['ln1', 'ln2']);
    const namespaces = await list('fieldSelector=status.phase%3DActive', '/api/v1/namespaces');
    for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease', 'list']) assert.ok(names(namespaces).includes(ns), ns);
  });
});
