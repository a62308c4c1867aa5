// Protobuf replies (Accept: application/vnd.kubernetes.protobuf): every reply is decoded with protobufjs
// against the vendored upstream .proto files through the request-body decoder (server/protobuf/decode.ts),
// independently of the encoder, and compared with the JSON reply for the same object.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type request from 'supertest';
import type { Message as ProtobufMessage } from 'protobufjs';
import { json, nodeManifest, startTestServer, type TestServer } from './helpers/api-server.ts';
import { Kubectl } from './helpers/kubectl.ts';
import { decodeProtobufBody, kubernetesProtoRoot, PROTOBUF_MAGIC } from '../server/protobuf/decode.ts';
import type { KubeObject } from '../api/object.ts';

const PROTOBUF = 'application/vnd.kubernetes.protobuf';
const CLIENT_GO_ACCEPT = 'application/vnd.kubernetes.protobuf,application/json';
const META = 'k8s.io.apimachinery.pkg.apis.meta.v1';

function binary(test: request.Test): request.Test {
  return test.buffer(true).parse((res, done) => {
    const chunks: Buffer[] = [];
    res.on('data', (chunk: Buffer) => chunks.push(chunk));
    res.on('end', () => done(null, Buffer.concat(chunks)));
  });
}

type Decoded = Record<string, unknown>;

/** `k8s\0` + Unknown → {apiVersion, kind, raw}, read with protobufjs directly. */
function unwrap(body: Buffer): { apiVersion: string; kind: string; raw: Uint8Array; unknown: Decoded } {
  assert.ok(body.subarray(0, 4).equals(PROTOBUF_MAGIC), 'the reply starts with k8s\\0');
  const type = kubernetesProtoRoot().lookupType('k8s.io.apimachinery.pkg.runtime.Unknown');
  const unknown = type.toObject(type.decode(body.subarray(4)), { defaults: false }) as Decoded;
  const typeMeta = unknown.typeMeta as { apiVersion: string; kind: string };
  return { apiVersion: typeMeta.apiVersion, kind: typeMeta.kind, raw: unknown.raw as Uint8Array, unknown };
}

function envelope(apiVersion: string, kind: string, raw: Uint8Array): Buffer {
  const type = kubernetesProtoRoot().lookupType('k8s.io.apimachinery.pkg.runtime.Unknown');
  return Buffer.concat([PROTOBUF_MAGIC, type.encode({ typeMeta: { apiVersion, kind }, raw }).finish()]);
}

/** A protobuf list reply → {typeMeta, metadata, items as JSON objects (each decoded through decodeProtobufBody)}. */
function decodeList(body: Buffer, itemMessage: string, itemApiVersion: string, itemKind: string): { kind: string; metadata: Decoded; items: KubeObject[] } {
  const { kind, raw } = unwrap(body);
  const root = kubernetesProtoRoot();
  const listType = root.lookupType(`${itemMessage}List`);
  const itemType = root.lookupType(itemMessage);
  const list = listType.decode(raw) as unknown as { metadata: ProtobufMessage; items: ProtobufMessage[] };
  const metadata = root.lookupType(`${META}.ListMeta`).toObject(list.metadata, { longs: Number, defaults: false }) as Decoded;
  const items = list.items.map((item) => decodeProtobufBody(envelope(itemApiVersion, itemKind, itemType.encode(item).finish())));
  return { kind, metadata, items };
}

function decodeStatus(body: Buffer): Decoded {
  const { apiVersion, kind, raw } = unwrap(body);
  assert.equal(`${apiVersion} ${kind}`, 'v1 Status');
  const type = kubernetesProtoRoot().lookupType(`${META}.Status`);
  return type.toObject(type.decode(raw), { longs: Number, defaults: false }) as Decoded;
}

/**
 * The JSON reply as it reads after a protobuf round trip: protobuf has no empty repeated field or map, so an
 * empty array or map (ClusterRole `rules: []`) is absent, as a Go client reading protobuf gets a nil slice.
 */
function jsonObject(value: KubeObject): KubeObject {
  return JSON.parse(JSON.stringify(value), (_key, member: unknown) =>
    (Array.isArray(member) && member.length === 0 ? undefined : member)) as KubeObject;
}

const NS = '/api/v1/namespaces/pb';

const POD = {
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name: 'web', labels: { app: 'web' }, annotations: { note: 'x' } },
  spec: {
    containers: [{
      name: 'nginx', image: 'nginx:1.27',
      ports: [{ containerPort: 80, protocol: 'TCP' }],
      resources: { limits: { cpu: '500m', memory: '128Mi' }, requests: { cpu: '250m' } },
      readinessProbe: { httpGet: { path: '/', port: 80 }, periodSeconds: 5 },
      livenessProbe: { tcpSocket: { port: 'http' } },
      securityContext: { runAsUser: 0, privileged: false },
      env: [{ name: 'A', value: '1' }],
    }],
    volumes: [{ name: 'cfg', configMap: { name: 'app', defaultMode: 420 } }],
    terminationGracePeriodSeconds: 0,
    tolerations: [{ key: 'k', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 30 }],
  },
};

const OBJECTS: Array<{ path: string; collection: string; message: string; body: Record<string, unknown> }> = [
  { path: `${NS}/pods/web`, collection: `${NS}/pods`, message: 'k8s.io.api.core.v1.Pod', body: POD },
  { path: '/api/v1/nodes/pb-node', collection: '/api/v1/nodes', message: 'k8s.io.api.core.v1.Node',
    body: { ...nodeManifest('pb-node', { zone: 'a' }), spec: { taints: [{ key: 't', effect: 'NoSchedule' }] } } },
  { path: '/api/v1/namespaces/pb', collection: '/api/v1/namespaces', message: 'k8s.io.api.core.v1.Namespace', body: {} },
  { path: `${NS}/events/ev`, collection: `${NS}/events`, message: 'k8s.io.api.core.v1.Event', body: {
    apiVersion: 'v1', kind: 'Event', metadata: { name: 'ev' }, involvedObject: { kind: 'Pod', name: 'web', namespace: 'pb' },
    reason: 'Started', message: 'Started container', type: 'Normal', count: 2,
    firstTimestamp: '2026-01-02T03:04:05Z', lastTimestamp: '2026-01-02T03:04:06Z', eventTime: '2026-01-02T03:04:05.123456Z',
    reportingComponent: 'kubelet', reportingInstance: 'n1', action: 'Started', source: { component: 'kubelet' } } },
  { path: '/apis/events.k8s.io/v1/namespaces/pb/events/ev1', collection: '/apis/events.k8s.io/v1/namespaces/pb/events',
    message: 'k8s.io.api.events.v1.Event', body: {
      apiVersion: 'events.k8s.io/v1', kind: 'Event', metadata: { name: 'ev1' }, eventTime: '2026-01-02T03:04:05.000002Z',
      series: { count: 2, lastObservedTime: '2026-01-02T03:05:05.500000Z' },
      reportingController: 'example.com/ctl', reportingInstance: 'ctl-1', action: 'Sync', reason: 'Synced', note: 'n',
      regarding: { kind: 'Pod', name: 'web', namespace: 'pb' }, type: 'Normal' } },
  { path: '/apis/coordination.k8s.io/v1/namespaces/pb/leases/l', collection: '/apis/coordination.k8s.io/v1/namespaces/pb/leases',
    message: 'k8s.io.api.coordination.v1.Lease', body: {
      apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'l' },
      spec: { holderIdentity: 'me', leaseDurationSeconds: 15, renewTime: '2026-01-02T03:04:05.000001Z', leaseTransitions: 0 } } },
  { path: '/apis/rbac.authorization.k8s.io/v1/namespaces/pb/roles/r', collection: '/apis/rbac.authorization.k8s.io/v1/namespaces/pb/roles',
    message: 'k8s.io.api.rbac.v1.Role', body: {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'r' },
      rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }] } },
  { path: '/apis/rbac.authorization.k8s.io/v1/namespaces/pb/rolebindings/rb', collection: '/apis/rbac.authorization.k8s.io/v1/namespaces/pb/rolebindings',
    message: 'k8s.io.api.rbac.v1.RoleBinding', body: {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'rb' },
      subjects: [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'alice' }],
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'r' } } },
  { path: '/apis/rbac.authorization.k8s.io/v1/clusterroles/pb-cr', collection: '/apis/rbac.authorization.k8s.io/v1/clusterroles',
    message: 'k8s.io.api.rbac.v1.ClusterRole', body: {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'pb-cr' },
      rules: [{ nonResourceURLs: ['/healthz'], verbs: ['get'] }],
      aggregationRule: { clusterRoleSelectors: [{ matchLabels: { agg: 'yes' } }] } } },
  { path: '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/pb-crb', collection: '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings',
    message: 'k8s.io.api.rbac.v1.ClusterRoleBinding', body: {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'pb-crb' },
      subjects: [{ kind: 'ServiceAccount', name: 'default', namespace: 'pb' }],
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'pb-cr' } } },
];

describe('protobuf responses', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer('protobuf-responses');
    const created = await json(t.call('post', '/api/v1/namespaces'), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'pb' } });
    assert.equal(created.status, 201);
    for (const object of OBJECTS.slice(0, 2).concat(OBJECTS.slice(3))) {
      const res = await json(t.call('post', object.collection), object.body);
      assert.equal(res.status, 201, `${object.collection}: ${JSON.stringify(res.body)}`);
    }
  });
  after(async () => { await t.close(); });

  test('GET of every served kind: k8s\\0 + Unknown holding the object, equal to the JSON reply', async () => {
    for (const object of OBJECTS) {
      const expected = (await t.call('get', object.path).expect(200)).body as KubeObject;
      const res = await binary(t.call('get', object.path).set('Accept', PROTOBUF)).expect(200);
      assert.equal(res.headers['content-type'], PROTOBUF);
      const { apiVersion, kind, unknown } = unwrap(res.body as Buffer);
      assert.equal(`${apiVersion} ${kind}`, `${expected.apiVersion} ${expected.kind}`);
      assert.equal(unknown.contentEncoding, '');
      assert.equal(unknown.contentType, '');
      assert.deepEqual(decodeProtobufBody(res.body as Buffer), jsonObject(expected), object.path);
      assert.ok(Array.isArray(expected.metadata.managedFields) && expected.metadata.managedFields.length > 0 || object.path.endsWith('/pb'));
    }
  });

  test('the Pod fields with Go-specific encodings survive: Quantity, IntOrString, inline volume source, Times', async () => {
    const res = await binary(t.call('get', `${NS}/pods/web`).set('Accept', CLIENT_GO_ACCEPT)).expect(200);
    const pod = decodeProtobufBody(res.body as Buffer) as unknown as { spec: { containers: Array<Record<string, unknown>>; volumes: unknown[] }; metadata: Record<string, unknown> };
    const container = pod.spec.containers[0];
    // requests.memory defaulted from limits on create
    assert.deepEqual(container.resources, { limits: { cpu: '500m', memory: '128Mi' }, requests: { cpu: '250m', memory: '128Mi' } });
    assert.deepEqual((container.readinessProbe as { httpGet: unknown }).httpGet, { path: '/', port: 80, scheme: 'HTTP' });
    assert.deepEqual((container.livenessProbe as { tcpSocket: unknown }).tcpSocket, { port: 'http' });
    assert.deepEqual(pod.spec.volumes, [{ name: 'cfg', configMap: { name: 'app', defaultMode: 420 } }]);
    assert.match(String(pod.metadata.creationTimestamp), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  test('LIST of every served kind: the kind\'s List message, items equal to the JSON list', async () => {
    for (const object of OBJECTS) {
      const expected = (await t.call('get', object.collection).expect(200)).body as { kind: string; apiVersion: string; metadata: Decoded; items: KubeObject[] };
      const res = await binary(t.call('get', object.collection).set('Accept', CLIENT_GO_ACCEPT)).expect(200);
      assert.equal(res.headers['content-type'], PROTOBUF);
      const [apiVersion] = [expected.apiVersion];
      const list = decodeList(res.body as Buffer, object.message, apiVersion, expected.kind.replace(/List$/, ''));
      assert.equal(list.kind, expected.kind);
      assert.equal(list.metadata.resourceVersion, expected.metadata.resourceVersion);
      // List items carry no apiVersion/kind in JSON; the decoder adds them from the envelope.
      assert.deepEqual(list.items.map(({ apiVersion: _a, kind: _k, ...rest }) => rest),
        expected.items.map((item) => { const { apiVersion: _a, kind: _k, ...rest } = jsonObject(item); return rest; }), object.collection);
      assert.ok(list.items.length > 0);
    }
  });

  test('LIST with limit: continue token and remainingItemCount in ListMeta', async () => {
    const expected = (await t.call('get', '/api/v1/namespaces?limit=1').expect(200)).body as { metadata: Decoded };
    const res = await binary(t.call('get', '/api/v1/namespaces?limit=1').set('Accept', PROTOBUF)).expect(200);
    const list = decodeList(res.body as Buffer, 'k8s.io.api.core.v1.Namespace', 'v1', 'Namespace');
    assert.equal(list.items.length, 1);
    assert.ok(typeof expected.metadata.continue === 'string' && expected.metadata.continue.length > 0);
    assert.equal(list.metadata.continue, expected.metadata.continue);
    assert.equal(list.metadata.remainingItemCount, expected.metadata.remainingItemCount);
  });

  test('create, update, patch and delete reply in protobuf when asked', async () => {
    const body = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'writes' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } };
    const created = await binary(json(t.call('post', `${NS}/pods`).set('Accept', PROTOBUF), body)).expect(201);
    const pod = decodeProtobufBody(created.body as Buffer);
    assert.equal(pod.metadata.name, 'writes');
    const patched = await binary(json(t.call('patch', `${NS}/pods/writes`).set('Accept', CLIENT_GO_ACCEPT),
      { metadata: { labels: { step: 'patched' } } }, 'application/merge-patch+json')).expect(200);
    const afterPatch = decodeProtobufBody(patched.body as Buffer);
    assert.deepEqual(afterPatch.metadata.labels, { step: 'patched' });
    const updated = await binary(json(t.call('put', `${NS}/pods/writes`).set('Accept', PROTOBUF),
      { ...afterPatch, metadata: { ...afterPatch.metadata, labels: { step: 'updated' } } })).expect(200);
    assert.deepEqual(decodeProtobufBody(updated.body as Buffer).metadata.labels, { step: 'updated' });
    const deleted = await binary(t.call('delete', `${NS}/pods/writes`).set('Accept', PROTOBUF)).expect(200);
    const gone = decodeProtobufBody(deleted.body as Buffer);
    assert.equal(gone.metadata.name, 'writes');
    assert.ok(gone.metadata.deletionTimestamp !== undefined || gone.metadata.resourceVersion !== undefined);
  });

  test('a delete answered with a Success Status (ReturnDeletedObject off) is a protobuf Status', async () => {
    await json(t.call('post', '/apis/rbac.authorization.k8s.io/v1/namespaces/pb/roles'), {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'gone' }, rules: [] }).expect(201);
    const res = await binary(t.call('delete', '/apis/rbac.authorization.k8s.io/v1/namespaces/pb/roles/gone').set('Accept', PROTOBUF)).expect(200);
    const status = decodeStatus(res.body as Buffer);
    assert.equal(status.status, 'Success');
    assert.deepEqual({ ...(status.details as Decoded), uid: undefined }, { name: 'gone', group: 'rbac.authorization.k8s.io', kind: 'roles', uid: undefined });
  });

  test('errors are protobuf Status when protobuf was asked for, JSON otherwise', async () => {
    const res = await binary(t.call('get', `${NS}/pods/missing`).set('Accept', CLIENT_GO_ACCEPT)).expect(404);
    assert.equal(res.headers['content-type'], PROTOBUF);
    const status = decodeStatus(res.body as Buffer);
    const expected = (await t.call('get', `${NS}/pods/missing`).expect(404)).body as Decoded;
    assert.equal(status.status, 'Failure');
    assert.equal(status.message, expected.message);
    assert.equal(status.reason, 'NotFound');
    assert.equal(status.code, 404);
    assert.deepEqual(status.details, { name: 'missing', kind: 'pods' });
    const conflict = await binary(json(t.call('post', `${NS}/pods`).set('Accept', PROTOBUF), POD)).expect(409);
    assert.equal(decodeStatus(conflict.body as Buffer).reason, 'AlreadyExists');
  });

  test('negotiation: protobuf alone or preferred; JSON first wins; Tables stay JSON', async () => {
    const preferredJson = await t.call('get', `${NS}/pods/web`).set('Accept', 'application/json,application/vnd.kubernetes.protobuf').expect(200);
    assert.equal(preferredJson.headers['content-type'], 'application/json');
    const weighted = await binary(t.call('get', `${NS}/pods/web`).set('Accept', 'application/json;q=0.5,application/vnd.kubernetes.protobuf')).expect(200);
    assert.equal(weighted.headers['content-type'], PROTOBUF);
    const table = await t.call('get', `${NS}/pods`)
      .set('Accept', 'application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1;g=meta.k8s.io').expect(200);
    assert.equal(table.headers['content-type'], 'application/json;as=Table;v=v1;g=meta.k8s.io');
    assert.equal(table.body.kind, 'Table');
    const partial = await binary(t.call('get', `${NS}/pods`)
      .set('Accept', 'application/vnd.kubernetes.protobuf;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io')).expect(200);
    assert.equal(partial.headers['content-type'], `${PROTOBUF};as=PartialObjectMetadataList;v=v1;g=meta.k8s.io`);
    const { kind, raw } = unwrap(partial.body as Buffer);
    assert.equal(kind, 'PartialObjectMetadataList');
    const listType = kubernetesProtoRoot().lookupType(`${META}.PartialObjectMetadataList`);
    const decoded = listType.toObject(listType.decode(raw)) as { items: Array<{ metadata: { name: string } }> };
    assert.ok(decoded.items.some((item) => item.metadata.name === 'web'));
  });

  test('a kind this server does not encode as protobuf (componentstatuses): JSON when JSON is accepted too, 406 when only protobuf is', async () => {
    const path = '/api/v1/componentstatuses';
    const fallback = await t.call('get', path).set('Accept', CLIENT_GO_ACCEPT).expect(200);
    assert.match(fallback.headers['content-type'], /^application\/json/);
    assert.equal(fallback.body.kind, 'ComponentStatusList');
    const refused = await t.call('get', path).set('Accept', PROTOBUF).expect(406);
    assert.match(refused.headers['content-type'], /^application\/json/);
    assert.equal(refused.body.reason, 'NotAcceptable');
    assert.equal(refused.body.message, 'only the following media types are accepted: application/json, application/yaml');
  });

  test('access reviews: kubectl auth can-i\'s protobuf body gets a protobuf SelfSubjectAccessReview back', async () => {
    const body = readFileSync(new URL('./fixtures/protobuf/auth-can-i.bin', import.meta.url));
    const res = await binary(t.call('post', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews')
      .set('Content-Type', PROTOBUF).set('Accept', CLIENT_GO_ACCEPT).send(body)).expect(201);
    assert.equal(res.headers['content-type'], PROTOBUF);
    const review = decodeProtobufBody(res.body as Buffer) as unknown as { kind: string; spec: unknown; status: { allowed: boolean } };
    assert.equal(review.kind, 'SelfSubjectAccessReview');
    assert.deepEqual(review.spec, { resourceAttributes: { namespace: 'default', verb: 'create', resource: 'pods' } });
    assert.equal(review.status.allowed, true);
    const whoami = await binary(json(t.call('post', '/apis/authentication.k8s.io/v1/selfsubjectreviews').set('Accept', PROTOBUF),
      { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' })).expect(201);
    const expected = (await json(t.call('post', '/apis/authentication.k8s.io/v1/selfsubjectreviews'),
      { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' }).expect(201)).body as KubeObject;
    assert.deepEqual(decodeProtobufBody(whoami.body as Buffer), jsonObject(expected));
  });

  test('the real kubectl (gogo-protobuf, client-go) decodes the replies: create namespace, auth can-i, drain\'s pod LIST', async () => {
    const kubectl = await Kubectl.create(t.server.adminKubeconfigPath);
    const created = await kubectl.run(['create', 'namespace', 'pb-kubectl', '-v=8']);
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /namespace\/pb-kubectl created/);
    // kubectl asked for protobuf and got it back (the response headers it logs).
    assert.match(created.stderr, /Accept: application\/vnd\.kubernetes\.protobuf,application\/json/);
    assert.match(created.stderr, /Content-Type: application\/vnd\.kubernetes\.protobuf\n/);
    assert.equal((await kubectl.ok(['auth', 'can-i', 'create', 'pods', '-n', 'pb'])).trim(), 'yes');
    assert.match(await kubectl.ok(['auth', 'whoami']), /kubernetes-admin/);
    // drain lists the node's pods with the typed client (a protobuf PodList) and prints the one it found.
    await json(t.call('post', `${NS}/pods`), { ...POD, metadata: { name: 'on-node' }, spec: { ...POD.spec, nodeName: 'pb-node' } }).expect(201);
    const drain = await kubectl.run(['drain', 'pb-node', '--force', '--ignore-daemonsets', '--timeout=2s', '--dry-run=server']);
    assert.match(drain.stdout + drain.stderr, /evicting pod pb\/on-node|pod\/on-node/, drain.stderr);
  });

  test('watch: length-prefixed WatchEvent frames, objects equal to the JSON objects, bookmarks', async () => {
    const path = `${NS}/pods?watch=true&timeoutSeconds=2&allowWatchBookmarks=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan`;
    const res = await binary(t.call('get', path).set('Accept', CLIENT_GO_ACCEPT)).expect(200);
    assert.equal(res.headers['content-type'], `${PROTOBUF};stream=watch`);
    const body = res.body as Buffer;
    const eventType = kubernetesProtoRoot().lookupType(`${META}.WatchEvent`);
    const events: Array<{ type: string; object: KubeObject }> = [];
    for (let at = 0; at < body.length;) {
      const length = body.readUInt32BE(at);
      const event = eventType.toObject(eventType.decode(body.subarray(at + 4, at + 4 + length))) as { type: string; object: { raw: Uint8Array } };
      events.push({ type: event.type, object: decodeProtobufBody(Buffer.from(event.object.raw)) });
      at += 4 + length;
    }
    const expected = (await t.call('get', `${NS}/pods/web`).expect(200)).body as KubeObject;
    const added = events.find((event) => event.type === 'ADDED' && event.object.metadata.name === 'web');
    assert.ok(added, JSON.stringify(events.map((event) => event.type)));
    assert.deepEqual(added.object, jsonObject(expected));
    const bookmark = events.find((event) => event.type === 'BOOKMARK');
    assert.ok(bookmark);
    assert.equal(bookmark.object.kind, 'Pod');
    assert.deepEqual(bookmark.object.metadata.annotations, { 'k8s.io/initial-events-end': 'true' });
  });
});
