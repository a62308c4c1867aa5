// networking.k8s.io/v1 NetworkPolicy over HTTP and with the real kubectl: CRUD, watch, deletecollection,
// field selectors, defaults (port protocol, policyTypes), generation, each validation message of
// ValidateNetworkPolicySpec (selectors, ports and endPort ranges, protocols, peers, ipBlock CIDRs,
// policyTypes), the Table, protobuf, discovery, RBAC aggregation, client-node's typed API and informer,
// then the Kubernetes documentation's test-network-policy applied, listed, described and explained by kubectl.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { KubeConfig, makeInformer, NetworkingV1Api, type V1NetworkPolicy } from '@kubernetes/client-node';
import type { Message as ProtobufMessage } from 'protobufjs';
import type { KubeObject } from '../api/object.ts';
import { parseCIDR } from '../api/resources/network-policy-validation.ts';
import { decodeProtobufBody, kubernetesProtoRoot, PROTOBUF_MAGIC } from '../server/protobuf/decode.ts';
import { json, startTestServer, type TestServer } from './helpers/api-server.ts';
import { Kubectl, parseColumns } from './helpers/kubectl.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const TABLE = 'application/json;as=Table;v=v1;g=meta.k8s.io';
const PROTOBUF = 'application/vnd.kubernetes.protobuf';
const N = '/apis/networking.k8s.io/v1';
const NP = `${N}/namespaces/default/networkpolicies`;

/** The example of https://kubernetes.io/docs/concepts/services-networking/network-policies/. */
const DOCS_EXAMPLE = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: test-network-policy
  namespace: default
spec:
  podSelector:
    matchLabels:
      role: db
  policyTypes:
  - Ingress
  - Egress
  ingress:
  - from:
    - ipBlock:
        cidr: 172.17.0.0/16
        except:
        - 172.17.1.0/24
    - namespaceSelector:
        matchLabels:
          project: myproject
    - podSelector:
        matchLabels:
          role: frontend
    ports:
    - protocol: TCP
      port: 6379
  egress:
  - to:
    - ipBlock:
        cidr: 10.0.0.0/24
    ports:
    - protocol: TCP
      port: 5978
`;

function policy(name: string, spec: Json, labels?: Record<string, string>): Json {
  return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: labels ? { name, labels } : { name }, spec };
}

describe('networkpolicies', () => {
  let t: TestServer;
  let kubectl: Kubectl;
  before(async () => {
    t = await startTestServer('networkpolicy');
    kubectl = await Kubectl.create(t.server.adminKubeconfigPath);
  });
  after(async () => {
    await kubectl?.dispose();
    await t?.close();
  });

  const send = async (method: 'post' | 'put' | 'patch', path: string, body: unknown, expect: number): Promise<Json> => {
    const res = await json(t.call(method, path), body, method === 'patch' ? 'application/merge-patch+json' : 'application/json');
    assert.equal(res.status, expect, `${method} ${path}: ${res.text}`);
    return res.body as Json;
  };
  const get = async (path: string, accept = 'application/json'): Promise<Json> => {
    const res = await t.call('get', path).set('Accept', accept);
    assert.equal(res.status, 200, res.text);
    return res.body as Json;
  };
  const invalid = async (name: string, spec: Json): Promise<string> => {
    const res = await send('post', NP, policy(name, spec), 422);
    assert.equal(res.reason, 'Invalid');
    return res.message as string;
  };

  test('create defaults the port protocol to TCP and policyTypes from the rules; generation follows the spec', async () => {
    const ingressOnly = await send('post', NP, policy('ingress-only', { podSelector: { matchLabels: { app: 'db' } }, ingress: [{ ports: [{ port: 5432 }, { port: 'dns', protocol: 'UDP' }] }] }), 201);
    assert.deepEqual(ingressOnly.spec.policyTypes, ['Ingress']);
    assert.deepEqual(ingressOnly.spec.ingress[0].ports, [{ protocol: 'TCP', port: 5432 }, { port: 'dns', protocol: 'UDP' }]);
    assert.equal(ingressOnly.metadata.generation, 1);
    assert.equal(ingressOnly.status, undefined);

    const withEgress = await send('post', NP, policy('with-egress', { podSelector: {}, egress: [{ ports: [{ port: 53, endPort: 60 }] }] }), 201);
    assert.deepEqual(withEgress.spec.policyTypes, ['Ingress', 'Egress']);
    assert.deepEqual(withEgress.spec.egress[0].ports, [{ protocol: 'TCP', port: 53, endPort: 60 }]);
    const egressOnly = await send('post', NP, policy('egress-only', { podSelector: {}, policyTypes: ['Egress'], egress: [{}] }), 201);
    assert.deepEqual(egressOnly.spec.policyTypes, ['Egress']);
    const denyAll = await send('post', NP, policy('deny-all', {}), 201);
    assert.deepEqual(denyAll.spec, { podSelector: {}, policyTypes: ['Ingress'] });

    const relabelled = await send('patch', `${NP}/ingress-only`, { metadata: { labels: { team: 'a' } } }, 200);
    assert.equal(relabelled.metadata.generation, 1);
    const changed = await send('patch', `${NP}/ingress-only`, { spec: { podSelector: { matchLabels: { app: 'cache' } } } }, 200);
    assert.equal(changed.metadata.generation, 2);
    const replaced = await send('put', `${NP}/ingress-only`, { ...changed, spec: { ...changed.spec, egress: [{ to: [{ podSelector: {} }] }] } }, 200);
    assert.equal(replaced.metadata.generation, 3);
    assert.deepEqual(replaced.spec.policyTypes, ['Ingress'], 'policyTypes given stay as they are');
  });

  test('label selectors of the policy and its peers are validated', async () => {
    const message = await invalid('bad-selectors', {
      podSelector: { matchLabels: { 'a b': 'c' }, matchExpressions: [{ key: 'tier', operator: 'Equals', values: ['x'] }] },
      ingress: [{ from: [{ podSelector: { matchExpressions: [{ key: 'app', operator: 'In' }] } }, { namespaceSelector: { matchExpressions: [{ key: 'env', operator: 'Exists', values: ['x'] }, { key: 'env', operator: 'In', values: ['not ok'] }] } }] }],
    });
    assert.match(message, /^NetworkPolicy\.networking\.k8s\.io "bad-selectors" is invalid: \[/);
    assert.match(message, /spec\.podSelector\.matchLabels: Invalid value: "a b": name part must consist of alphanumeric characters/);
    assert.match(message, /spec\.podSelector\.matchExpressions\[0\]\.operator: Invalid value: "Equals": not a valid selector operator/);
    assert.match(message, /spec\.ingress\[0\]\.from\[0\]\.podSelector\.matchExpressions\[0\]\.values: Required value: must be specified when `operator` is 'In' or 'NotIn'/);
    assert.match(message, /spec\.ingress\[0\]\.from\[1\]\.namespaceSelector\.matchExpressions\[0\]\.values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'/);
    assert.match(message, /spec\.ingress\[0\]\.from\[1\]\.namespaceSelector\.matchExpressions\[1\]\.values\[0\]: Invalid value: "not ok": a valid label must be an empty string or consist of alphanumeric characters/);
  });

  test('ports: numbers, names, endPort ranges and protocols', async () => {
    const message = await invalid('bad-ports', {
      podSelector: {},
      ingress: [{ ports: [
        { port: 0 },
        { port: 80, endPort: 79 },
        { port: 80, endPort: 70000 },
        { port: 'http', endPort: 90 },
        { endPort: 90 },
        { port: 'Not_A_Name' },
        { protocol: 'ICMP', port: 1 },
      ] }],
    });
    assert.match(message, /spec\.ingress\[0\]\.ports\[0\]\.port: Invalid value: 0: must be between 1 and 65535, inclusive/);
    assert.match(message, /spec\.ingress\[0\]\.ports\[1\]\.endPort: Invalid value: 79: must be greater than or equal to `port`/);
    assert.match(message, /spec\.ingress\[0\]\.ports\[2\]\.endPort: Invalid value: 70000: must be between 1 and 65535, inclusive/);
    assert.match(message, /spec\.ingress\[0\]\.ports\[3\]\.endPort: Invalid value: 90: may not be specified when `port` is non-numeric/);
    assert.match(message, /spec\.ingress\[0\]\.ports\[4\]\.endPort: Invalid value: 90: may not be specified when `port` is not specified/);
    assert.match(message, /spec\.ingress\[0\]\.ports\[5\]\.port: Invalid value: "Not_A_Name": must contain only alpha-numeric characters \(a-z, 0-9\), and hyphens \(-\)/);
    assert.match(message, /spec\.ingress\[0\]\.ports\[6\]\.protocol: Unsupported value: "ICMP": supported values: "TCP", "UDP", "SCTP"/);
    // An explicit empty protocol is not defaulted: it is a value, and not a supported one.
    const empty = await invalid('empty-protocol', { podSelector: {}, egress: [{ ports: [{ protocol: '', port: 53 }] }] });
    assert.match(empty, /spec\.egress\[0\]\.ports\[0\]\.protocol: Unsupported value: "": supported values: "TCP", "UDP", "SCTP"/);
  });

  test('peers: at least one, and ipBlock alone; ipBlock CIDRs with except strictly inside', async () => {
    const message = await invalid('bad-peers', {
      podSelector: {},
      ingress: [{ from: [
        {},
        { ipBlock: { cidr: '10.0.0.0/8' }, podSelector: {} },
        { ipBlock: { cidr: '10.0.0.0/33' } },
        { ipBlock: { cidr: '10.0.0.0/16', except: ['10.0.0.0/8', '192.168.0.0/24', '10.0.0.0/16', '10.0.1.0/24'] } },
        { ipBlock: { cidr: '10.0.0.0/16', except: ['nope', '10.1.0.0/24'] } },
      ] }],
      egress: [{ to: [{ namespaceSelector: {}, podSelector: {} }, { ipBlock: { cidr: 'fd00::/64', except: ['fd00::/96', '10.0.0.0/24'] } }] }],
    });
    assert.match(message, /spec\.ingress\[0\]\.from\[0\]: Required value: must specify a peer/);
    assert.match(message, /spec\.ingress\[0\]\.from\[1\]: Forbidden: may not specify both ipBlock and another peer/);
    assert.match(message, /spec\.ingress\[0\]\.from\[2\]\.ipBlock\.cidr: Invalid value: "10\.0\.0\.0\/33": not a valid CIDR/);
    assert.match(message, /spec\.ingress\[0\]\.from\[3\]\.ipBlock\.except\[0\]: Invalid value: "10\.0\.0\.0\/8": must be a strict subset of `cidr`/);
    assert.match(message, /spec\.ingress\[0\]\.from\[3\]\.ipBlock\.except\[1\]: Invalid value: "192\.168\.0\.0\/24": must be a strict subset of `cidr`/);
    assert.match(message, /spec\.ingress\[0\]\.from\[3\]\.ipBlock\.except\[2\]: Invalid value: "10\.0\.0\.0\/16": must be a strict subset of `cidr`/);
    assert.doesNotMatch(message, /except\[3\]/);
    assert.match(message, /spec\.ingress\[0\]\.from\[4\]\.ipBlock\.except\[0\]: Invalid value: "nope": not a valid CIDR/);
    assert.doesNotMatch(message, /from\[4\]\.ipBlock\.except\[1\]/, 'an invalid except entry ends the block\'s check, as upstream returns there');
    assert.doesNotMatch(message, /egress\[0\]\.to\[0\]/, 'podSelector with namespaceSelector is one peer');
    assert.match(message, /spec\.egress\[0\]\.to\[1\]\.ipBlock\.except\[1\]: Invalid value: "10\.0\.0\.0\/24": must be a strict subset of `cidr`/);
    assert.doesNotMatch(message, /egress\[0\]\.to\[1\]\.ipBlock\.except\[0\]/);
    // An absent cidr decodes as "" (IPBlock.CIDR is a string): ValidateIPBlock's Required value, a 422.
    const missing = await invalid('no-cidr', { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '' } }] }], egress: [{ to: [{ ipBlock: { except: ['10.0.0.0/8'] } }] }] });
    assert.equal(missing, 'NetworkPolicy.networking.k8s.io "no-cidr" is invalid: [spec.ingress[0].from[0].ipBlock.cidr: Required value, spec.egress[0].to[0].ipBlock.cidr: Required value]');
  });

  test('policyTypes: Ingress or Egress, at most two', async () => {
    const unsupported = await invalid('bad-types', { podSelector: {}, policyTypes: ['Ingress', 'Both'] });
    assert.equal(unsupported, 'NetworkPolicy.networking.k8s.io "bad-types" is invalid: spec.policyTypes[1]: Unsupported value: "Both": supported values: "Ingress", "Egress"');
    const tooMany = await invalid('three-types', { podSelector: {}, policyTypes: ['Ingress', 'Egress', 'Ingress'] });
    assert.equal(tooMany, 'NetworkPolicy.networking.k8s.io "three-types" is invalid: spec.policyTypes: Invalid value: []networking.PolicyType{"Ingress", "Egress", "Ingress"}: may not specify more than two policyTypes');
  });

  test('an invalid update changes nothing; its message prints each error once', async () => {
    const before = await get(`${NP}/deny-all`);
    const res = await send('patch', `${NP}/deny-all`, { spec: { policyTypes: ['Sideways'] } }, 422);
    assert.equal(res.message, 'NetworkPolicy.networking.k8s.io "deny-all" is invalid: spec.policyTypes[0]: Unsupported value: "Sideways": supported values: "Ingress", "Egress"');
    assert.equal(res.details.causes.length, 2, 'ValidateNetworkPolicy and ValidateNetworkPolicyUpdate both report it');
    const afterwards = await get(`${NP}/deny-all`);
    assert.equal(afterwards.metadata.resourceVersion, before.metadata.resourceVersion);
  });

  test('objects stored with invalid selector values (older servers accepted them) can still be updated', async () => {
    const legacySelector = { matchExpressions: [{ key: 'tier', operator: 'In', values: ['not ok'] }] };
    const stored = (kind: string, apiVersion: string, name: string, spec: Json): KubeObject => ({
      apiVersion, kind, metadata: { name, namespace: 'default', uid: `${name}-uid`, generation: 1, creationTimestamp: new Date().toISOString() }, spec,
    });
    await t.server.storage.create('/registry/networkpolicies/default/legacy', stored('NetworkPolicy', 'networking.k8s.io/v1', 'legacy', { podSelector: legacySelector, policyTypes: ['Ingress'] }));
    await t.server.storage.create('/registry/poddisruptionbudgets/default/legacy', stored('PodDisruptionBudget', 'policy/v1', 'legacy', { minAvailable: 1, selector: legacySelector }));
    // ValidationOptionsForNetworking: the stored podSelector is invalid, so every selector of the update may be.
    const relabelled = await send('patch', `${NP}/legacy`, { metadata: { labels: { kept: 'yes' } }, spec: { ingress: [{ from: [{ podSelector: { matchExpressions: [{ key: 'a', operator: 'In', values: ['also not ok'] }] } }] }] } }, 200);
    assert.equal(relabelled.metadata.generation, 2);
    await send('patch', '/apis/policy/v1/namespaces/default/poddisruptionbudgets/legacy', { metadata: { labels: { kept: 'yes' } } }, 200);
    // A valid stored podSelector allows nothing of the kind.
    const strict = await send('patch', `${NP}/deny-all`, { spec: { podSelector: legacySelector } }, 422);
    assert.match(strict.message, /spec\.podSelector\.matchExpressions\[0\]\.values\[0\]: Invalid value: "not ok"/);
    await t.call('delete', `${NP}/legacy`).expect(200);
    await t.call('delete', '/apis/policy/v1/namespaces/default/poddisruptionbudgets/legacy').expect(200);
  });

  test('list, field selectors on metadata only, watch and deletecollection', async () => {
    const start = (await get(NP)).metadata.resourceVersion as string;
    await send('post', NP, policy('team-a', { podSelector: {} }, { team: 'a' }), 201);
    await send('post', NP, policy('team-b', { podSelector: {} }, { team: 'b' }), 201);
    const byName = await get(`${NP}?fieldSelector=metadata.name%3Dteam-a`);
    assert.deepEqual(byName.items.map((p: Json) => p.metadata.name), ['team-a']);
    assert.equal(byName.kind, 'NetworkPolicyList');
    const all = await get(`${N}/networkpolicies?fieldSelector=metadata.namespace%3Ddefault`);
    assert.ok(all.items.length >= 2);
    const bad = await t.call('get', `${NP}?fieldSelector=spec.podSelector%3Dx`);
    assert.equal(bad.status, 400);
    assert.equal(bad.body.message, '"spec.podSelector" is not a known field selector: only "metadata.name", "metadata.namespace"');

    const watch = await t.call('get', `${NP}?watch=true&labelSelector=team%3Db&resourceVersion=${start}&timeoutSeconds=1`).buffer(true).parse((res, done) => {
      let text = '';
      res.on('data', (chunk: Buffer) => { text += chunk.toString(); });
      res.on('end', () => done(null, text));
    });
    const events = String(watch.body).trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as Json);
    assert.ok(events.some((e) => e.type === 'ADDED' && e.object.metadata.name === 'team-b' && e.object.kind === 'NetworkPolicy'), String(watch.body));

    const deleted = await t.call('delete', `${NP}?labelSelector=team`);
    assert.equal(deleted.status, 200, deleted.text);
    const left = await get(`${NP}?labelSelector=team`);
    assert.deepEqual(left.items, []);
    const one = await t.call('delete', `${NP}/with-egress`);
    assert.equal(one.status, 200);
    assert.equal(one.body.status, 'Success');
    assert.equal((await t.call('get', `${NP}/with-egress`)).status, 404);
  });

  test('Table: NAME, POD-SELECTOR, AGE', async () => {
    await send('post', NP, policy('selectors', { podSelector: { matchLabels: { app: 'web', tier: 'front' }, matchExpressions: [{ key: 'env', operator: 'In', values: ['prod', 'dev'] }, { key: 'canary', operator: 'DoesNotExist' }] } }), 201);
    const table = await get(NP, TABLE);
    assert.deepEqual(table.columnDefinitions.map((c: Json) => c.name), ['Name', 'Pod-Selector', 'Age']);
    const rows = new Map((table.rows as Json[]).map((row) => [row.cells[0], row.cells[1]]));
    assert.equal(rows.get('selectors'), 'app=web,!canary,env in (dev,prod),tier=front');
    assert.equal(rows.get('deny-all'), '<none>');
  });

  test('protobuf: a create body and the replies', async () => {
    const root = kubernetesProtoRoot();
    const type = root.lookupType('k8s.io.api.networking.v1.NetworkPolicy');
    const raw = type.encode(type.fromObject({
      metadata: { name: 'proto' },
      spec: { podSelector: { matchLabels: { app: 'api' } }, ingress: [{ ports: [{ port: { type: 0, intVal: 8080 }, endPort: 8090 }], from: [{ ipBlock: { cidr: '192.0.2.0/24', except: ['192.0.2.128/25'] } }] }] },
    })).finish();
    const unknownType = root.lookupType('k8s.io.apimachinery.pkg.runtime.Unknown');
    const body = Buffer.concat([PROTOBUF_MAGIC, unknownType.encode(unknownType.create({ typeMeta: { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy' }, raw, contentEncoding: '', contentType: '' })).finish()]);
    const created = await t.call('post', NP).set('Content-Type', PROTOBUF).set('Accept', 'application/json').send(body);
    assert.equal(created.status, 201, created.text);
    assert.deepEqual(created.body.spec, {
      podSelector: { matchLabels: { app: 'api' } },
      ingress: [{ ports: [{ port: 8080, endPort: 8090, protocol: 'TCP' }], from: [{ ipBlock: { cidr: '192.0.2.0/24', except: ['192.0.2.128/25'] } }] }],
      policyTypes: ['Ingress'],
    });

    // protocol and endPort are pointers: "" and 0 sent in protobuf are values, which validation reports.
    const zeroes = type.encode(type.fromObject({ metadata: { name: 'zeroes' }, spec: { podSelector: {}, ingress: [{ ports: [{ protocol: '', port: { type: 0, intVal: 80 }, endPort: 0 }] }] } })).finish();
    const zeroBody = Buffer.concat([PROTOBUF_MAGIC, unknownType.encode(unknownType.create({ typeMeta: { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy' }, raw: zeroes, contentEncoding: '', contentType: '' })).finish()]);
    assert.deepEqual(decodeProtobufBody(zeroBody).spec, { podSelector: {}, ingress: [{ ports: [{ protocol: '', port: 80, endPort: 0 }] }] });
    const refused = await t.call('post', NP).set('Content-Type', PROTOBUF).set('Accept', 'application/json').send(zeroBody);
    assert.equal(refused.status, 422);
    assert.equal(refused.body.message, 'NetworkPolicy.networking.k8s.io "zeroes" is invalid: [spec.ingress[0].ports[0].protocol: Unsupported value: "": supported values: "TCP", "UDP", "SCTP", '
      + 'spec.ingress[0].ports[0].endPort: Invalid value: 0: must be greater than or equal to `port`, spec.ingress[0].ports[0].endPort: Invalid value: 0: must be between 1 and 65535, inclusive]');

    const binary = (path: string) => t.call('get', path).set('Accept', PROTOBUF).buffer(true).parse((res, done) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => done(null, Buffer.concat(chunks)));
    });
    const one = await binary(`${NP}/proto`);
    assert.equal(one.status, 200);
    assert.match(String(one.headers['content-type']), /^application\/vnd\.kubernetes\.protobuf/);
    assert.deepEqual(decodeProtobufBody(one.body as Buffer).spec, created.body.spec);
    const listReply = await binary(NP);
    const unknown = unknownType.decode((listReply.body as Buffer).subarray(4)) as ProtobufMessage & { typeMeta: { kind: string }; raw: Uint8Array };
    assert.equal(unknown.typeMeta.kind, 'NetworkPolicyList');
    const list = root.lookupType('k8s.io.api.networking.v1.NetworkPolicyList').decode(unknown.raw) as ProtobufMessage & { items: { metadata: { name: string } }[] };
    assert.ok(list.items.some((item) => item.metadata.name === 'proto'));
  });

  test('discovery and RBAC: netpol in networking.k8s.io/v1, written by edit, read by view', async () => {
    const resources = (await get(N)).resources as Json[];
    const entry = resources.find((r) => r.name === 'networkpolicies');
    assert.deepEqual(entry && { kind: entry.kind, namespaced: entry.namespaced, shortNames: entry.shortNames, singularName: entry.singularName, verbs: [...entry.verbs].sort() }, {
      kind: 'NetworkPolicy', namespaced: true, shortNames: ['netpol'], singularName: 'networkpolicy',
      verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
    });
    assert.equal(resources.find((r) => r.name === 'networkpolicies/status'), undefined);
    const review = async (role: string, verb: string): Promise<boolean> => {
      const res = await send('post', '/apis/authorization.k8s.io/v1/subjectaccessreviews', {
        spec: { user: role === 'none' ? 'nobody' : `someone-${role}`, groups: role === 'none' ? [] : [`group-${role}`], resourceAttributes: { namespace: 'default', verb, group: 'networking.k8s.io', resource: 'networkpolicies' } },
      }, 201);
      return res.status.allowed === true;
    };
    for (const role of ['edit', 'view']) {
      await send('post', '/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings', {
        metadata: { name: `np-${role}` }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
        subjects: [{ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: `group-${role}` }],
      }, 201);
    }
    assert.equal(await review('edit', 'create'), true);
    assert.equal(await review('edit', 'deletecollection'), true);
    assert.equal(await review('view', 'list'), true);
    assert.equal(await review('view', 'create'), false);
    assert.equal(await review('none', 'get'), false);
  });

  test('client-node: NetworkingV1Api and an informer', async () => {
    const config = new KubeConfig();
    config.loadFromFile(t.server.adminKubeconfigPath);
    const api = config.makeApiClient(NetworkingV1Api);
    const informer = makeInformer(config, '/apis/networking.k8s.io/v1/namespaces/default/networkpolicies',
      () => api.listNamespacedNetworkPolicy({ namespace: 'default' }));
    const seen = new Promise<V1NetworkPolicy>((resolveSeen) => {
      informer.on('add', (object) => { if (object.metadata?.name === 'typed') resolveSeen(object); });
    });
    await informer.start();
    try {
      const created = await api.createNamespacedNetworkPolicy({ namespace: 'default', body: {
        metadata: { name: 'typed' },
        spec: { podSelector: { matchLabels: { app: 'api' } }, egress: [{ to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } } }], ports: [{ port: 53, protocol: 'UDP' }, { port: 'dns-tcp' }] }] },
      } });
      assert.deepEqual(created.spec?.policyTypes, ['Ingress', 'Egress']);
      assert.deepEqual(created.spec?.egress?.[0].ports?.map((p) => ({ ...p })), [{ port: 53, protocol: 'UDP' }, { port: 'dns-tcp', protocol: 'TCP' }]);
      const fromInformer = await seen;
      assert.equal(fromInformer.metadata?.generation, 1);
      const list = await api.listNetworkPolicyForAllNamespaces({ labelSelector: '!team' });
      assert.ok(list.items.some((item) => item.metadata?.name === 'typed'));
      await api.deleteNamespacedNetworkPolicy({ name: 'typed', namespace: 'default' });
    } finally {
      await informer.stop();
    }
  });

  test('CIDR parsing follows net.ParseCIDR', () => {
    assert.deepEqual(parseCIDR('10.1.2.3/8'), { bytes: [10, 0, 0, 0], prefix: 8 });
    assert.deepEqual(parseCIDR('010.001.0.0/16')?.bytes, [10, 1, 0, 0]);
    assert.deepEqual(parseCIDR('::ffff:192.0.2.1/120')?.bytes.slice(10), [0xff, 0xff, 192, 0, 2, 0]);
    assert.deepEqual(parseCIDR('2001:db8::1/32')?.bytes.slice(0, 6), [0x20, 0x01, 0x0d, 0xb8, 0, 0]);
    for (const bad of ['10.0.0.0', '10.0.0/8', '10.0.0.256/8', '10.0.0.0/-1', '10.0.0.0/', 'fd00::/129', '1:2:3:4:5:6:7:8:9/64', 'fd00:::1/64', ' 10.0.0.0/8']) {
      assert.equal(parseCIDR(bad), undefined, bad);
    }
  });

  test('kubectl: apply the documentation example, get netpol, describe, explain', async () => {
    assert.equal(await kubectl.ok(['apply', '-f', '-'], { input: DOCS_EXAMPLE }), 'networkpolicy.networking.k8s.io/test-network-policy created\n');
    const [header, row] = parseColumns(await kubectl.ok(['get', 'netpol', 'test-network-policy']));
    assert.deepEqual([header, row.slice(0, 2)], [['NAME', 'POD-SELECTOR', 'AGE'], ['test-network-policy', 'role=db']]);
    const described = await kubectl.ok(['describe', 'networkpolicy', 'test-network-policy']);
    for (const line of [
      /^Name:\s+test-network-policy$/m,
      /^Namespace:\s+default$/m,
      /^Spec:$/m,
      /^ {2}PodSelector:\s+role=db$/m,
      /^ {2}Allowing ingress traffic:$/m,
      /^ {4}To Port: 6379\/TCP$/m,
      /^ {6}IPBlock:\n {8}CIDR: 172\.17\.0\.0\/16\n {8}Except: 172\.17\.1\.0\/24$/m,
      /^ {6}NamespaceSelector: project=myproject$/m,
      /^ {6}PodSelector: role=frontend$/m,
      /^ {2}Allowing egress traffic:$/m,
      /^ {4}To Port: 5978\/TCP$/m,
      /^ {8}CIDR: 10\.0\.0\.0\/24$/m,
      /^ {2}Policy Types: Ingress, Egress$/m,
    ]) assert.match(described, line, described);
    assert.equal(await kubectl.ok(['apply', '-f', '-'], { input: DOCS_EXAMPLE }), 'networkpolicy.networking.k8s.io/test-network-policy unchanged\n');
    const explained = await kubectl.ok(['explain', 'networkpolicy.spec.ingress']);
    assert.match(explained, /^GROUP:\s+networking\.k8s\.io$/m);
    assert.match(explained, /^KIND:\s+NetworkPolicy$/m);
    assert.match(explained, /^FIELD: ingress <\[\]NetworkPolicyIngressRule>$/m);
    assert.match(explained, /^ {2}from\s+<\[\]NetworkPolicyPeer>$/m);
    const rejected = await kubectl.run(['apply', '-f', '-'], { input: DOCS_EXAMPLE.replace('172.17.1.0/24', '172.18.1.0/24').replace('test-network-policy', 'outside') });
    assert.notEqual(rejected.code, 0);
    assert.match(rejected.stderr, /The NetworkPolicy "outside" is invalid: spec\.ingress\[0\]\.from\[0\]\.ipBlock\.except\[0\]: Invalid value: "172\.18\.1\.0\/24": must be a strict subset of `cidr`/);
    assert.equal(await kubectl.ok(['delete', 'netpol', 'test-network-policy']), 'networkpolicy.networking.k8s.io "test-network-policy" deleted\n');
  });

  test('kubectl 1.27 (OpenAPI v2 only) and 1.33 apply, get and explain NetworkPolicies', async () => {
    for (const version of ['1.27', '1.33']) {
      const versioned = await Kubectl.create(t.server.adminKubeconfigPath, `/usr/lib/google-cloud-sdk/bin/kubectl.${version}`);
      try {
        const name = `docs-${version.replace('.', '-')}`;
        assert.equal(await versioned.ok(['apply', '-f', '-'], { input: DOCS_EXAMPLE.replace('test-network-policy', name) }), `networkpolicy.networking.k8s.io/${name} created\n`, version);
        assert.deepEqual(parseColumns(await versioned.ok(['get', 'netpol', name]))[1].slice(0, 2), [name, 'role=db'], version);
        assert.match(await versioned.ok(['explain', 'networkpolicy.spec.podSelector']), /^KIND:\s+NetworkPolicy$/m, version);
        const unknown = await versioned.run(['apply', '-f', '-'], { input: DOCS_EXAMPLE.replace('test-network-policy', `${name}-typo`).replace('policyTypes:', 'policyType:') });
        assert.notEqual(unknown.code, 0, version);
        assert.match(unknown.stderr, /policyType/, version);
        await versioned.ok(['delete', 'netpol', name]);
      } finally {
        await versioned.dispose();
      }
    }
  });
});
