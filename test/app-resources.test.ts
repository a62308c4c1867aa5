// The application kinds over HTTPS: configmaps, secrets, serviceaccounts, services, endpoints,
// endpointslices, podtemplates, limitranges, resourcequotas — CRUD, defaulting, kube-apiserver's
// validation wording, Table columns and field selectors.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { json, startTestServer, type TestServer } from './helpers/api-server.ts';

const NS = '/api/v1/namespaces/default';
const TABLE = 'application/json;as=Table;v=v1;g=meta.k8s.io';
type Table = { columnDefinitions: { name: string; priority: number; type: string }[]; rows: { cells: unknown[] }[] };

describe('application resources', () => {
  let t: TestServer;
  before(async () => { t = await startTestServer('app-resources'); });
  after(async () => { await t.close(); });

  const create = (path: string, body: unknown) => json(t.call('post', path), body);
  const table = async (path: string): Promise<Table> => JSON.parse((await t.call('get', path).set('Accept', TABLE).expect(200)).text) as Table;
  const header = (result: Table) => result.columnDefinitions.map((c) => `${c.name}${c.priority ? '*' : ''}`);
  const message = async (path: string, body: unknown, status = 422): Promise<string> => {
    const res = await create(path, body);
    assert.equal(res.status, status, res.text);
    return (res.body as { message: string }).message;
  };

  test('configmaps: CRUD, table, key rules, binaryData duplicates, 1 MiB, immutable', async () => {
    const res = await create(`${NS}/configmaps`, { metadata: { name: 'app' }, data: { 'a.conf': 'x=1', B_KEY: 'y' }, binaryData: { bin: 'AAEC' } }).expect(201);
    assert.equal(res.body.kind, 'ConfigMap');
    const got = await t.call('get', `${NS}/configmaps/app`).expect(200);
    assert.deepEqual(got.body.data, { 'a.conf': 'x=1', B_KEY: 'y' });
    const rows = await table(`${NS}/configmaps`);
    assert.deepEqual(header(rows), ['Name', 'Data', 'Age']);
    assert.deepEqual(rows.rows[0].cells.slice(0, 2), ['app', 3]);

    assert.equal(await message(`${NS}/configmaps`, { metadata: { name: 'bad' }, data: { 'a b': '1', '..x': '2' } }),
      'ConfigMap "bad" is invalid: [data[a b]: Invalid value: "a b": a valid config key must consist of alphanumeric characters, \'-\', \'_\' or \'.\' (e.g. \'key.name\', or \'KEY_NAME\', or \'key-name\', regex used for validation is \'[-._a-zA-Z0-9]+\'), data[..x]: Invalid value: "..x": must not start with \'..\']');
    assert.equal(await message(`${NS}/configmaps`, { metadata: { name: 'dup' }, data: { k: '1' }, binaryData: { k: 'AA==' } }),
      'ConfigMap "dup" is invalid: binaryData[k]: Invalid value: "k": duplicate of key present in data');
    assert.equal(await message(`${NS}/configmaps`, { metadata: { name: 'big' }, data: { k: 'x'.repeat(1024 * 1024 + 1) } }),
      'ConfigMap "big" is invalid: : Too long: may not be more than 1048576 bytes');
    await t.call('get', `${NS}/configmaps/big`).expect(404);

    await create(`${NS}/configmaps`, { metadata: { name: 'frozen' }, data: { k: 'v' }, immutable: true }).expect(201);
    const patched = await json(t.call('patch', `${NS}/configmaps/frozen`), { data: { k: 'changed' } }, 'application/merge-patch+json');
    assert.equal(patched.status, 422);
    assert.equal(patched.body.message, 'ConfigMap "frozen" is invalid: data: Forbidden: field is immutable when `immutable` is set');
    await json(t.call('patch', `${NS}/configmaps/frozen`), { metadata: { labels: { a: 'b' } } }, 'application/merge-patch+json').expect(200);
    await t.call('delete', `${NS}/configmaps/app`).expect(200);
    await t.call('get', `${NS}/configmaps/app`).expect(404);
  });

  test('secrets: Opaque default, stringData merged, required keys per type, type immutable, field selector type', async () => {
    const res = await create(`${NS}/secrets`, { metadata: { name: 'db' }, data: { user: Buffer.from('old').toString('base64') }, stringData: { user: 'admin', pass: 's3cret' } }).expect(201);
    assert.equal(res.body.type, 'Opaque');
    assert.equal(res.body.stringData, undefined);
    assert.deepEqual(res.body.data, { user: Buffer.from('admin').toString('base64'), pass: Buffer.from('s3cret').toString('base64') });

    assert.equal(await message(`${NS}/secrets`, { metadata: { name: 'tls' }, type: 'kubernetes.io/tls', data: { 'tls.key': 'AA==' } }),
      'Secret "tls" is invalid: data[tls.crt]: Required value');
    assert.equal(await message(`${NS}/secrets`, { metadata: { name: 'basic' }, type: 'kubernetes.io/basic-auth', data: {} }),
      'Secret "basic" is invalid: [data[username]: Required value, data[password]: Required value]');
    assert.equal(await message(`${NS}/secrets`, { metadata: { name: 'sa' }, type: 'kubernetes.io/service-account-token' }),
      'Secret "sa" is invalid: metadata.annotations[kubernetes.io/service-account.name]: Required value');
    assert.equal(await message(`${NS}/secrets`, { metadata: { name: 'reg' }, type: 'kubernetes.io/dockerconfigjson', stringData: { '.dockerconfigjson': 'xyz' } }),
      'Secret "reg" is invalid: data[.dockerconfigjson]: Invalid value: "<secret contents redacted>": invalid character \'x\' looking for beginning of value');
    await create(`${NS}/secrets`, { metadata: { name: 'reg' }, type: 'kubernetes.io/dockerconfigjson', stringData: { '.dockerconfigjson': '{"auths":{}}' } }).expect(201);

    const typeChange = await json(t.call('patch', `${NS}/secrets/db`), { type: 'kubernetes.io/tls' }, 'application/merge-patch+json');
    assert.equal(typeChange.status, 422);
    assert.match(typeChange.body.message, /type: Invalid value: "kubernetes.io\/tls": field is immutable/);

    const selected = await t.call('get', `${NS}/secrets?fieldSelector=type=kubernetes.io/dockerconfigjson`).expect(200);
    assert.deepEqual(selected.body.items.map((s: { metadata: { name: string } }) => s.metadata.name), ['reg']);
    const bad = await t.call('get', `${NS}/secrets?fieldSelector=data=x`).expect(400);
    assert.match(bad.body.message, /field label not supported: data/);
    const rows = await table(`${NS}/secrets`);
    assert.deepEqual(header(rows), ['Name', 'Type', 'Data', 'Age']);
    assert.deepEqual(rows.rows.map((r) => r.cells.slice(0, 3)), [['db', 'Opaque', 2], ['reg', 'kubernetes.io/dockerconfigjson', 1]]);
  });

  test('serviceaccounts, podtemplates: defaults, table', async () => {
    await create(`${NS}/serviceaccounts`, { metadata: { name: 'bot' } }).expect(201);
    const sa = await table(`${NS}/serviceaccounts/bot`);
    assert.deepEqual(header(sa), ['Name', 'Secrets', 'Age']);
    assert.deepEqual(sa.rows[0].cells.slice(0, 2), ['bot', 0]);

    const res = await create(`${NS}/podtemplates`, {
      metadata: { name: 'tpl' }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.27' }] } },
    }).expect(201);
    assert.equal(res.body.template.spec.restartPolicy, 'Always');
    assert.equal(res.body.template.spec.containers[0].imagePullPolicy, 'IfNotPresent');
    assert.equal(res.body.template.spec.serviceAccountName, undefined);
    const rows = await table(`${NS}/podtemplates`);
    assert.deepEqual(header(rows), ['Name', 'Containers', 'Images', 'Pod Labels']);
    assert.deepEqual(rows.rows[0].cells, ['tpl', 'nginx', 'nginx:1.27', 'app=web']);
    assert.equal(await message(`${NS}/podtemplates`, { metadata: { name: 'empty' }, template: { spec: { containers: [] } } }),
      'PodTemplate "empty" is invalid: template.spec.containers: Required value');
  });

  test('limitranges and resourcequotas: validation wording and tables', async () => {
    assert.equal(await message(`${NS}/limitranges`, {
      metadata: { name: 'bad' }, spec: { limits: [{ type: 'Container', min: { cpu: '2' }, max: { cpu: '1' } }] },
    }), 'LimitRange "bad" is invalid: [spec.limits[0].min[cpu]: Invalid value: "2": min value 2 is greater than max value 1, '
      + 'spec.limits[0].defaultRequest[cpu]: Invalid value: "1": min value 2 is greater than default request value 1, '
      + 'spec.limits[0].default[cpu]: Invalid value: "2": min value 2 is greater than default value 1]');
    await create(`${NS}/limitranges`, { metadata: { name: 'limits' }, spec: { limits: [{ type: 'Container', default: { cpu: '500m' }, defaultRequest: { cpu: '100m' } }] } }).expect(201);
    const lr = await table(`${NS}/limitranges`);
    assert.deepEqual(header(lr), ['Name', 'Created At']);
    assert.equal(lr.columnDefinitions[1].type, 'date');
    assert.match(String(lr.rows[0].cells[1]), /^\d{4}-\d\d-\d\dT/);

    assert.equal(await message(`${NS}/resourcequotas`, { metadata: { name: 'neg' }, spec: { hard: { pods: '-1' } } }),
      'ResourceQuota "neg" is invalid: spec.hard[pods]: Invalid value: "-1": must be greater than or equal to 0');
    const quota = await create(`${NS}/resourcequotas`, { metadata: { name: 'quota' }, spec: { hard: { pods: '10', 'limits.cpu': '4' } }, status: { used: { pods: '99' } } }).expect(201);
    assert.deepEqual(quota.body.status, {});
    await json(t.call('put', `${NS}/resourcequotas/quota/status`), { ...quota.body, status: { hard: { pods: '10', 'limits.cpu': '4' }, used: { pods: '1', 'limits.cpu': '0' } } }).expect(200);
    const rows = await table(`${NS}/resourcequotas`);
    assert.deepEqual(header(rows), ['Name', 'Age', 'Request', 'Limit']);
    assert.deepEqual([rows.rows[0].cells[2], rows.rows[0].cells[3]], ['pods: 1/10', 'limits.cpu: 0/4']);
  });

  test('LimitRanger: LimitRange defaults, pod requests and limits filled, bounds enforced with upstream messages', async () => {
    await json(t.call('post', '/api/v1/namespaces'), { metadata: { name: 'limited' } }).expect(201);
    const lr = await create('/api/v1/namespaces/limited/limitranges', {
      metadata: { name: 'bounds' }, spec: { limits: [{ type: 'Container', max: { cpu: '1', memory: '512Mi' }, min: { cpu: '50m' }, defaultRequest: { memory: '64Mi' } }, { type: 'Pod', max: { cpu: '1500m' } }] },
    }).expect(201);
    assert.deepEqual(lr.body.spec.limits[0].default, { cpu: '1', memory: '512Mi' });
    assert.deepEqual(lr.body.spec.limits[0].defaultRequest, { memory: '64Mi', cpu: '1' });

    const pod = await create('/api/v1/namespaces/limited/pods', { metadata: { name: 'plain' }, spec: { containers: [{ name: 'app', image: 'nginx' }] } }).expect(201);
    assert.deepEqual(pod.body.spec.containers[0].resources, { limits: { cpu: '1', memory: '512Mi' }, requests: { memory: '64Mi', cpu: '1' } });
    assert.equal(pod.body.metadata.annotations['kubernetes.io/limit-ranger'], 'LimitRanger plugin set: cpu, memory request for container app; cpu, memory limit for container app');
    assert.equal(pod.body.status.qosClass, 'Burstable');

    assert.equal(await message('/api/v1/namespaces/limited/pods', {
      metadata: { name: 'greedy' }, spec: { containers: [{ name: 'app', image: 'nginx', resources: { limits: { cpu: '2' } } }] },
    }, 403), 'pods "greedy" is forbidden: [maximum cpu usage per Container is 1, but limit is 2, maximum cpu usage per Pod is 1500m, but limit is 2]');
    assert.equal(await message('/api/v1/namespaces/limited/pods', {
      metadata: { name: 'two' }, spec: { containers: [{ name: 'a', image: 'nginx', resources: { limits: { cpu: '1' } } }, { name: 'b', image: 'nginx', resources: { limits: { cpu: '1' } } }] },
    }, 403), 'pods "two" is forbidden: maximum cpu usage per Pod is 1500m, but limit is 2');
    await t.call('get', '/api/v1/namespaces/limited/pods/greedy').expect(404);
  });

  test('endpoints and endpointslices: defaults, validation, tables', async () => {
    const ep = await create(`${NS}/endpoints`, {
      metadata: { name: 'web' }, subsets: [{ addresses: [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }, { ip: '10.0.0.3' }, { ip: '10.0.0.4' }], ports: [{ port: 8080 }] }],
    }).expect(201);
    assert.equal(ep.body.subsets[0].ports[0].protocol, 'TCP');
    const rows = await table(`${NS}/endpoints/web`);
    assert.deepEqual(header(rows), ['Name', 'Endpoints', 'Age']);
    assert.equal(rows.rows[0].cells[1], '10.0.0.1:8080,10.0.0.2:8080,10.0.0.3:8080 + 1 more...');
    assert.equal(await message(`${NS}/endpoints`, { metadata: { name: 'lo' }, subsets: [{ addresses: [{ ip: '127.0.0.1' }], ports: [{ port: 80 }] }] }),
      'Endpoints "lo" is invalid: subsets[0].addresses[0].ip: Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)');

    const slices = '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices';
    const slice = await create(slices, {
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'web-abc', labels: { 'kubernetes.io/service-name': 'web' } },
      addressType: 'IPv4', endpoints: [{ addresses: ['10.0.0.1'], conditions: { ready: true } }], ports: [{ port: 8080 }],
    }).expect(201);
    assert.deepEqual(slice.body.ports, [{ name: '', port: 8080, protocol: 'TCP' }]);
    const sliceTable = await table(`${slices}/web-abc`);
    assert.deepEqual(header(sliceTable), ['Name', 'AddressType', 'Ports', 'Endpoints', 'Age']);
    assert.deepEqual(sliceTable.rows[0].cells.slice(0, 4), ['web-abc', 'IPv4', '8080', '10.0.0.1']);
    assert.equal(await message(slices, { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'x' }, addressType: 'IPv4', endpoints: [{ addresses: ['fe80::1'] }] }),
      'EndpointSlice.discovery.k8s.io "x" is invalid: endpoints[0].addresses[0]: Invalid value: "fe80::1": must be a valid IPv4 address');
    const changed = await json(t.call('patch', `${slices}/web-abc`), { addressType: 'IPv6' }, 'application/merge-patch+json');
    assert.equal(changed.status, 422);
    assert.match(changed.body.message, /addressType: Invalid value: "IPv6": field is immutable/);
  });

  test('services: defaults, validation wording, table, field selectors', async () => {
    const res = await create(`${NS}/services`, { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] } }).expect(201);
    const spec = res.body.spec;
    assert.equal(spec.type, 'ClusterIP');
    assert.equal(spec.sessionAffinity, 'None');
    assert.equal(spec.internalTrafficPolicy, 'Cluster');
    assert.deepEqual(spec.ports, [{ port: 80, protocol: 'TCP', targetPort: 8080 }]);
    await create(`${NS}/services`, { metadata: { name: 'ext' }, spec: { type: 'ExternalName', externalName: 'example.com' } }).expect(201);

    assert.equal(await message(`${NS}/services`, { metadata: { name: 'noports' }, spec: { selector: { a: 'b' } } }),
      'Service "noports" is invalid: spec.ports: Required value');
    assert.equal(await message(`${NS}/services`, { metadata: { name: 'two' }, spec: { ports: [{ port: 80 }, { port: 81 }] } }),
      'Service "two" is invalid: [spec.ports[0].name: Required value, spec.ports[1].name: Required value]');
    assert.equal(await message(`${NS}/services`, { metadata: { name: 'np' }, spec: { ports: [{ port: 80, nodePort: 30080 }] } }),
      'Service "np" is invalid: spec.ports[0].nodePort: Forbidden: may not be used when `type` is \'ClusterIP\'');
    assert.equal(await message(`${NS}/services`, { metadata: { name: 'Bad' }, spec: { ports: [{ port: 80 }] } }),
      'Service "Bad" is invalid: metadata.name: Invalid value: "Bad": a DNS-1035 label must consist of lower case alphanumeric characters or \'-\', start with an alphabetic character, and end with an alphanumeric character (e.g. \'my-name\', or \'abc-123\', regex used for validation is \'[a-z]([-a-z0-9]*[a-z0-9])?\')');

    const rows = await table(`${NS}/services`);
    assert.deepEqual(header(rows), ['Name', 'Type', 'Cluster-IP', 'External-IP', 'Port(s)', 'Age', 'Selector*']);
    const ext = rows.rows.find((r) => r.cells[0] === 'ext')!;
    assert.deepEqual([ext.cells[1], ext.cells[2], ext.cells[3], ext.cells[4], ext.cells[6]], ['ExternalName', '<none>', 'example.com', '<none>', '<none>']);
    const web = rows.rows.find((r) => r.cells[0] === 'web')!;
    assert.deepEqual([web.cells[4], web.cells[6]], ['80/TCP', 'app=web']);
    const selected = await t.call('get', `${NS}/services?fieldSelector=spec.type=ExternalName`).expect(200);
    assert.deepEqual(selected.body.items.map((s: { metadata: { name: string } }) => s.metadata.name), ['ext']);
  });

  test('discovery lists the kinds with their short names', async () => {
    const core = await t.call('get', '/api/v1').expect(200);
    const byName = new Map((core.body.resources as { name: string; shortNames?: string[] }[]).map((r) => [r.name, r.shortNames ?? []]));
    assert.deepEqual(byName.get('configmaps'), ['cm']);
    assert.deepEqual(byName.get('serviceaccounts'), ['sa']);
    assert.deepEqual(byName.get('services'), ['svc']);
    assert.deepEqual(byName.get('endpoints'), ['ep']);
    assert.deepEqual(byName.get('limitranges'), ['limits']);
    assert.deepEqual(byName.get('resourcequotas'), ['quota']);
    assert.ok(byName.has('serviceaccounts/token'));
    const discovery = await t.call('get', '/apis/discovery.k8s.io/v1').expect(200);
    assert.deepEqual(discovery.body.resources.map((r: { name: string }) => r.name), ['endpointslices']);
  });
});
