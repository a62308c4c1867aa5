// IPv6 and dual-stack Services: --service-cluster-ip-range with one or two CIDRs (upstream's flag errors, the
// IPv6 bitmap capped at 65536 addresses), ipFamilyPolicy/ipFamilies defaulted and validated as kube-apiserver's
// initIPFamilyFields and ValidateService word for word, one cluster IP per family, upgrades and downgrades,
// headless services' families, release on delete, allocations kept across a restart, and the real kubectl; in a
// dual-stack cluster (`up` with two ranges) nodes get an IPv6 pod CIDR, pods an IPv6 address, and the EndpointSlice
// controller one slice per address family of a service, the endpoints controller the service's primary family.

import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { startApiServer, type RunningApiServer } from '../server/start.ts';
import { bigIntToIPv6, clusterIPRanges, ipv6ToBigInt, nodePortRange } from '../api/registry/service-ranges.ts';
import { PersistedBitmapAllocator } from '../api/registry/range-allocator.ts';
import { SERVICES_PREFIX, ServiceAllocationRepair } from '../api/registry/service-allocation-repair.ts';
import { openStorage } from '../storage/index.ts';
import { Kubectl } from './helpers/kubectl.ts';
import { nodePodCidrV6, PodIpAllocator } from '../kubelet/node-addressing.ts';
import { createApp, startCluster, type KubefacadeCluster } from '../lib/index.ts';

const SVC = '/api/v1/namespaces/default/services';
const V4 = /^10\.0\.0\.\d+$/;
const V6 = /^fd00:10:96::[0-9a-f]{1,4}$/;

describe('--service-cluster-ip-range parsing', () => {
  test('one or two CIDRs of different families, with upstream errors', () => {
    const [v4, v6] = clusterIPRanges('10.0.0.0/24,fd00:10:96::/112');
    assert.deepEqual([v4.family, v4.description, v4.size, v4.firstAddress], ['IPv4', '10.0.0.0/24', 254, '10.0.0.1']);
    // IPv6: the network address left out, no broadcast; at most 65536 addresses are tracked.
    assert.deepEqual([v6.family, v6.description, v6.size, v6.firstAddress], ['IPv6', 'fd00:10:96::/112', 65535, 'fd00:10:96::1']);
    assert.equal(clusterIPRanges('2001:db8::/108')[0].size, 65535);
    assert.equal(clusterIPRanges('fd00::/120')[0].size, 255);
    assert.equal(v6.offsetOf('fd00:10:96::1'), 0);
    assert.equal(v6.offsetOf('FD00:10:96:0:0:0:0:ffff'), 65534);
    assert.equal(v6.offsetOf('fd00:10:97::1'), undefined);
    assert.equal(v6.offsetOf('10.0.0.5'), undefined);
    assert.equal(v6.valueAt(9), 'fd00:10:96::a');
    // Host bits are dropped as ParseCIDRSloppy does.
    assert.equal(clusterIPRanges('fd00:10:96::77/112')[0].description, 'fd00:10:96::/112');
    assert.equal(clusterIPRanges('2001:db8::/112,192.168.0.0/16').map((r) => r.family).join(), 'IPv6,IPv4');

    const refused = (flag: string, message: string) => assert.throws(() => clusterIPRanges(flag), { message });
    refused('10.0.0.0/24,10.1.0.0/24', '--service-cluster-ip-range[0] and --service-cluster-ip-range[1] must be of different IP family');
    refused('fd00::/112,fd01::/112', '--service-cluster-ip-range[0] and --service-cluster-ip-range[1] must be of different IP family');
    refused('10.0.0.0/24,fd00::/112,10.1.0.0/24', '--service-cluster-ip-range must not contain more than two entries');
    refused('10.0.0.0/24,10.2.0.0/16,fd00::/112', '--service-cluster-ip-range must not contain more than two entries; --service-cluster-ip-range[0] and --service-cluster-ip-range[1] must be of different IP family');
    refused('fd00::/64', 'specified --service-cluster-ip-range is too large; for 128-bit addresses, the mask must be >= 108');
    refused('10.0.0.0/24,fd00::/96', 'specified --service-cluster-ip-range[1] is too large; for 128-bit addresses, the mask must be >= 108');
    refused('10.0.0.0/8', 'specified --service-cluster-ip-range is too large; for 32-bit addresses, the mask must be >= 12');
    refused('bogus', 'service-cluster-ip-range[0] is not a valid cidr');
    refused('10.0.0.0/24,bogus', 'service-cluster-ip-range[1] is not an ip net');
  });

  test('a bad range stops the start before the data directory is touched', async () => {
    const dir = join(tmpdir(), `kubefacade-dual-stack-refused-${process.pid}`);
    await assert.rejects(startApiServer({ dataDir: dir, bind: '127.0.0.1', port: 0, tlsSans: [], serviceClusterIpRange: 'fd00::/112,fd01::/112' }),
      { message: '--service-cluster-ip-range[0] and --service-cluster-ip-range[1] must be of different IP family' });
    await assert.rejects(access(dir), { code: 'ENOENT' });
    // The library names the option.
    await assert.rejects(createApp({ storage: 'memory', serviceClusterIpRange: '10.0.0.0/8' }),
      (err: Error & { option?: string }) => err.name === 'KubefacadeOptionError' && err.option === 'serviceClusterIpRange'
        && err.message.includes('specified --service-cluster-ip-range is too large; for 32-bit addresses, the mask must be >= 12'));
  });

  test('dual-stack pod addresses: an IPv6 /64 per node, the pod\'s IPv6 address beside its IPv4 one', () => {
    assert.deepEqual([1, 2, 17, 300].map(nodePodCidrV6), ['fd00:10:244::/64', 'fd00:10:244:1::/64', 'fd00:10:244:10::/64', 'fd00:10:244:12b::/64']);
    const dual = new PodIpAllocator('10.244.1.0/24', 'fd00:10:244:1::/64');
    assert.deepEqual(dual.addressesOf(dual.allocate('uid-a')), ['10.244.1.2', 'fd00:10:244:1::2']);
    assert.deepEqual(dual.addressesOf('10.244.1.254'), ['10.244.1.254', 'fd00:10:244:1::fe']);
    const single = new PodIpAllocator('10.244.1.0/24');
    assert.deepEqual(single.addressesOf(single.allocate('uid-a')), ['10.244.1.2']);
    assert.throws(() => new PodIpAllocator('10.244.1.0/24', 'fd00::/56'), /IPv6 pod CIDR must be a \/64/);
  });

  test('IPv6 addresses are written as Go writes them', () => {
    assert.equal(bigIntToIPv6(ipv6ToBigInt('2001:0db8:0000:0000:0000:0000:0000:0001')), '2001:db8::1');
    assert.equal(bigIntToIPv6(ipv6ToBigInt('2001:db8:0:1:0:0:0:1')), '2001:db8:0:1::1');
    assert.equal(bigIntToIPv6(ipv6ToBigInt('2001:db8:1:1:1:1:0:1')), '2001:db8:1:1:1:1:0:1');
    assert.equal(bigIntToIPv6(ipv6ToBigInt('::')), '::');
    assert.equal(bigIntToIPv6(ipv6ToBigInt('fd00::ffff:10.0.0.1')), 'fd00::ffff:a00:1');
  });
});

describe('dual-stack services', () => {
  const dirs: string[] = [];
  const servers: RunningApiServer[] = [];
  after(async () => {
    for (const server of servers) await server.close();
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  const start = async (range: string, dataDir?: string) => {
    const dir = dataDir ?? await mkdtemp(join(tmpdir(), 'kubefacade-dual-stack-'));
    if (!dataDir) dirs.push(dir);
    const server = await startApiServer({ dataDir: dir, bind: '127.0.0.1', port: 0, tlsSans: [], disableAdmissionPlugins: ['ServiceAccount'], serviceClusterIpRange: range });
    servers.push(server);
    return { server, dir };
  };
  const client = (server: RunningApiServer) => {
    const call = (method: 'get' | 'post' | 'put' | 'delete' | 'patch', path: string) =>
      request(server.url)[method](path).ca(server.caCertPem).set('Authorization', `Bearer ${server.adminToken}`);
    return {
      call,
      create: (name: string, spec: Record<string, unknown>) =>
        call('post', SVC).set('Content-Type', 'application/json').send(JSON.stringify({ metadata: { name }, spec: { ports: [{ port: 80 }], selector: { app: name }, ...spec } })),
      patch: (name: string, spec: Record<string, unknown>) =>
        call('patch', `${SVC}/${name}`).set('Content-Type', 'application/merge-patch+json').send(JSON.stringify({ spec })),
    };
  };
  /** A deleted service's addresses go back as the store reports the deletion: a few ms later. */
  const eventually = async (attempt: () => Promise<request.Response>, status: number) => {
    for (let i = 0; ; i++) {
      const res = await attempt();
      if (res.status === status || i === 50) return res;
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  test('a dual-stack cluster: families, policies, addresses per family, upgrade, downgrade, headless, restart', async () => {
    const { server, dir } = await start('10.0.0.0/24,fd00:10:96::/112');
    const { call, create, patch } = client(server);

    // The kubernetes service stays single-stack on the primary family.
    const kubernetes = (await call('get', `${SVC}/kubernetes`).expect(200)).body;
    assert.deepEqual([kubernetes.spec.clusterIPs, kubernetes.spec.ipFamilies, kubernetes.spec.ipFamilyPolicy], [['10.0.0.1'], ['IPv4'], 'SingleStack']);

    const single = (await create('single', {}).expect(201)).body.spec;
    assert.equal(single.ipFamilyPolicy, 'SingleStack');
    assert.deepEqual(single.ipFamilies, ['IPv4']);
    assert.equal(single.clusterIPs.length, 1);
    assert.match(single.clusterIP, V4);

    const prefer = (await create('prefer', { ipFamilyPolicy: 'PreferDualStack' }).expect(201)).body.spec;
    assert.deepEqual(prefer.ipFamilies, ['IPv4', 'IPv6']);
    assert.match(prefer.clusterIPs[0], V4);
    assert.match(prefer.clusterIPs[1], V6);
    assert.equal(prefer.clusterIP, prefer.clusterIPs[0]);

    // IPv6 first: the primary address is IPv6.
    const require6 = (await create('require6', { ipFamilyPolicy: 'RequireDualStack', ipFamilies: ['IPv6'] }).expect(201)).body.spec;
    assert.deepEqual(require6.ipFamilies, ['IPv6', 'IPv4']);
    assert.match(require6.clusterIP, V6);
    assert.match(require6.clusterIPs[1], V4);

    const only6 = (await create('only6', { ipFamilies: ['IPv6'] }).expect(201)).body.spec;
    assert.deepEqual([only6.ipFamilyPolicy, only6.ipFamilies], ['SingleStack', ['IPv6']]);
    assert.match(only6.clusterIP, V6);

    // Requested addresses of both families; families inferred from them.
    const pinned = (await create('pinned', { ipFamilyPolicy: 'RequireDualStack', clusterIP: 'fd00:10:96::10', clusterIPs: ['fd00:10:96::10', '10.0.0.10'] }).expect(201)).body.spec;
    assert.deepEqual([pinned.ipFamilies, pinned.clusterIPs], [['IPv6', 'IPv4'], ['fd00:10:96::10', '10.0.0.10']]);
    const taken = await create('taken', { ipFamilyPolicy: 'PreferDualStack', clusterIP: '10.0.0.11', clusterIPs: ['10.0.0.11', 'fd00:10:96::10'] }).expect(422);
    assert.equal(taken.body.message, 'Service "taken" is invalid: spec.clusterIPs: Invalid value: []string{"10.0.0.11", "fd00:10:96::10"}: failed to allocate IP fd00:10:96::10: provided IP is already allocated');
    // The IPv4 address that request took was given back.
    await create('took-back', { clusterIP: '10.0.0.11' }).expect(201);
    const outside = await create('outside', { ipFamilies: ['IPv6'], clusterIP: 'fd00:10:97::1' }).expect(422);
    assert.equal(outside.body.message, 'Service "outside" is invalid: spec.clusterIPs: Invalid value: []string{"fd00:10:97::1"}: failed to allocate IP fd00:10:97::1: the provided IP (fd00:10:97::1) is not in the valid range. The range of valid IPs is fd00:10:96::/112');

    // Validation, word for word.
    const invalid = async (name: string, spec: Record<string, unknown>, message: string) => {
      const res = await create(name, spec).expect(422);
      assert.equal(res.body.message, `Service "${name}" is invalid: ${message}`);
      await call('get', `${SVC}/${name}`).expect(404);
    };
    await invalid('bad1', { ipFamilyPolicy: 'SingleStack', ipFamilies: ['IPv4', 'IPv6'] }, `spec.ipFamilyPolicy: Invalid value: "SingleStack": must be 'RequireDualStack' or 'PreferDualStack' when multiple IP families are specified`);
    await invalid('bad2', { clusterIP: '10.0.0.20', clusterIPs: ['10.0.0.20', '10.0.0.21'], ipFamilyPolicy: 'RequireDualStack' }, 'spec.clusterIPs: Invalid value: []string{"10.0.0.20", "10.0.0.21"}: may specify no more than one IP for each IP family');
    await invalid('bad3', { ipFamilies: ['IPv6'], clusterIP: '10.0.0.22' }, 'spec.clusterIPs[0]: Invalid value: "10.0.0.22": expected an IPv6 value as indicated by `ipFamilies[0]`');
    await invalid('bad4', { ipFamilies: ['IPv4', 'IPv4'], ipFamilyPolicy: 'PreferDualStack' }, 'spec.ipFamilies[1]: Duplicate value: "IPv4"');
    await invalid('bad5', { ipFamilies: ['IPv5'] }, 'spec.ipFamilies[0]: Unsupported value: "IPv5": supported values: "IPv4", "IPv6"');
    await invalid('bad6', { ipFamilyPolicy: 'DualStack' }, 'spec.ipFamilyPolicy: Unsupported value: "DualStack": supported values: "PreferDualStack", "RequireDualStack", "SingleStack"');
    await invalid('bad7', { clusterIP: 'None', clusterIPs: ['None', '10.0.0.23'] }, `spec.clusterIPs: Invalid value: []string{"None", "10.0.0.23"}: 'None' must be the first and only value`);
    await invalid('bad8', { type: 'ExternalName', externalName: 'db.example.com', ports: [], ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack' }, '[spec.ipFamilies: Forbidden: may not be set for ExternalName services, spec.ipFamilyPolicy: Forbidden: may not be set for ExternalName services]');

    // Upgrade: a second address of the other family.
    const upgraded = (await patch('single', { ipFamilyPolicy: 'PreferDualStack' }).expect(200)).body.spec;
    assert.deepEqual(upgraded.ipFamilies, ['IPv4', 'IPv6']);
    assert.equal(upgraded.clusterIPs[0], single.clusterIP);
    assert.match(upgraded.clusterIPs[1], V6);
    // A PreferDualStack service left as it is stays as it is.
    const same = (await patch('single', { sessionAffinity: 'ClientIP' }).expect(200)).body.spec;
    assert.deepEqual(same.clusterIPs, upgraded.clusterIPs);

    // Downgrade: only SingleStack may release the secondary address.
    const refused = await call('put', `${SVC}/single`).set('Content-Type', 'application/json')
      .send(JSON.stringify({ metadata: { name: 'single' }, spec: { ...same, clusterIPs: [same.clusterIP], ipFamilies: ['IPv4'] } })).expect(422);
    assert.equal(refused.body.message, `Service "single" is invalid: [spec.ipFamilyPolicy: Invalid value: "PreferDualStack": must be 'SingleStack' to release the secondary cluster IP, spec.ipFamilyPolicy: Invalid value: "PreferDualStack": must be 'SingleStack' to release the secondary IP family]`);
    const downgraded = (await patch('single', { ipFamilyPolicy: 'SingleStack' }).expect(200)).body.spec;
    assert.deepEqual([downgraded.clusterIPs, downgraded.ipFamilies], [[single.clusterIP], ['IPv4']]);
    // The released IPv6 address can be taken again.
    await eventually(() => create('reuse6', { ipFamilies: ['IPv6'], clusterIP: upgraded.clusterIPs[1] }), 201).then((res) => assert.equal(res.status, 201, res.text));

    // The primary address and family never change.
    const moved = await patch('prefer', { clusterIP: '10.0.0.30', clusterIPs: ['10.0.0.30', prefer.clusterIPs[1]] }).expect(422);
    assert.equal(moved.body.message, `Service "prefer" is invalid: spec.clusterIPs[0]: Invalid value: []string{"10.0.0.30", "${prefer.clusterIPs[1]}"}: may not change once set`);
    const swapped = await patch('prefer', { ipFamilies: ['IPv6', 'IPv4'] }).expect(422);
    assert.equal(swapped.body.message, `Service "prefer" is invalid: [spec.clusterIPs[0]: Invalid value: "${prefer.clusterIPs[0]}": expected an IPv6 value as indicated by \`ipFamilies[0]\`, spec.clusterIPs[1]: Invalid value: "${prefer.clusterIPs[1]}": expected an IPv4 value as indicated by \`ipFamilies[1]\`]`);
    // A headful service's family list may not be reordered even where the addresses would allow it.
    const headfulSwap = await patch('only6', { ipFamilies: ['IPv4'], clusterIP: only6.clusterIP, clusterIPs: [only6.clusterIP] }).expect(422);
    assert.match(headfulSwap.body.message, /expected an IPv4 value as indicated by `ipFamilies\[0\]`/);

    // Headless: without a selector RequireDualStack and both families; with one, the default single family.
    const headless = (await create('headless', { clusterIP: 'None', selector: undefined }).expect(201)).body.spec;
    assert.deepEqual([headless.clusterIPs, headless.ipFamilyPolicy, headless.ipFamilies], [['None'], 'RequireDualStack', ['IPv4', 'IPv6']]);
    const selected = (await create('selected', { clusterIP: 'None' }).expect(201)).body.spec;
    assert.deepEqual([selected.ipFamilyPolicy, selected.ipFamilies], ['SingleStack', ['IPv4']]);

    // To ExternalName and back: both addresses released, then allocated again.
    const external = (await patch('prefer', { type: 'ExternalName', externalName: 'db.example.com' }).expect(200)).body.spec;
    assert.deepEqual([external.clusterIPs, external.ipFamilies, external.ipFamilyPolicy], [undefined, undefined, undefined]);
    await eventually(() => create('reuse-prefer', { ipFamilyPolicy: 'RequireDualStack', clusterIP: prefer.clusterIPs[0], clusterIPs: prefer.clusterIPs }), 201)
      .then((res) => assert.equal(res.status, 201, res.text));
    const back = (await patch('prefer', { type: 'ClusterIP', externalName: null, ipFamilyPolicy: 'PreferDualStack' }).expect(200)).body.spec;
    assert.deepEqual(back.ipFamilies, ['IPv4', 'IPv6']);
    assert.match(back.clusterIPs[1], V6);

    // Deleting releases both families' addresses.
    await call('delete', `${SVC}/pinned`).expect(200);
    await eventually(() => create('pinned-again', { ipFamilyPolicy: 'RequireDualStack', clusterIP: 'fd00:10:96::10', clusterIPs: ['fd00:10:96::10', '10.0.0.10'] }), 201)
      .then((res) => assert.equal(res.status, 201, res.text));

    // A restart keeps both bitmaps.
    await server.close();
    servers.splice(servers.indexOf(server), 1);
    const again = (await start('10.0.0.0/24,fd00:10:96::/112', dir)).server;
    const after = client(again);
    const held = await after.create('held', { ipFamilyPolicy: 'RequireDualStack', clusterIP: '10.0.0.40', clusterIPs: ['10.0.0.40', require6.clusterIP] }).expect(422);
    assert.match(held.body.message, new RegExp(`failed to allocate IP ${require6.clusterIP}: provided IP is already allocated`));
    const stored = (await after.call('get', `${SVC}/require6`).expect(200)).body.spec;
    assert.deepEqual(stored.clusterIPs, require6.clusterIPs);
  });

  test('a single-stack cluster refuses what needs two families, but not headless services', async () => {
    const { server } = await start('10.0.1.0/24');
    const { create } = client(server);
    const required = await create('need-two', { ipFamilyPolicy: 'RequireDualStack' }).expect(422);
    assert.equal(required.body.message, 'Service "need-two" is invalid: spec.ipFamilyPolicy: Invalid value: "RequireDualStack": this cluster is not configured for dual-stack services');
    const v6 = await create('v6', { ipFamilies: ['IPv6'] }).expect(422);
    assert.equal(v6.body.message, 'Service "v6" is invalid: spec.ipFamilies[0]: Invalid value: "IPv6": not configured on this cluster');
    const ip6 = await create('ip6', { clusterIP: 'fd00::1' }).expect(422);
    assert.equal(ip6.body.message, 'Service "ip6" is invalid: spec.clusterIPs[0]: Invalid value: []string{"fd00::1"}: IPv6 is not configured on this cluster');
    const prefer = (await create('prefer', { ipFamilyPolicy: 'PreferDualStack' }).expect(201)).body.spec;
    assert.deepEqual([prefer.ipFamilies, prefer.clusterIPs.length], [['IPv4'], 1]);
    const headless = (await create('headless', { clusterIP: 'None', selector: undefined }).expect(201)).body.spec;
    assert.deepEqual([headless.ipFamilyPolicy, headless.ipFamilies], ['RequireDualStack', ['IPv4', 'IPv6']]);
  });

  test('an IPv6-only cluster: the kubernetes service and new services are IPv6', async () => {
    const { server } = await start('fd00:20::/112');
    const { call, create } = client(server);
    const kubernetes = (await call('get', `${SVC}/kubernetes`).expect(200)).body.spec;
    assert.deepEqual([kubernetes.clusterIP, kubernetes.ipFamilies], ['fd00:20::1', ['IPv6']]);
    const web = (await create('web', {}).expect(201)).body.spec;
    assert.deepEqual(web.ipFamilies, ['IPv6']);
    assert.match(web.clusterIP, /^fd00:20::[0-9a-f]{1,4}$/);
  });

  test('kubectl create service and get svc on a server started with two ranges', async () => {
    const { server } = await start('10.0.2.0/24,fd00:30::/112');
    const kubectl = await Kubectl.create(server.adminKubeconfigPath);
    assert.match(await kubectl.ok(['create', 'service', 'clusterip', 'web', '--tcp=80:8080']), /service\/web created/);
    await kubectl.ok(['patch', 'service', 'web', '-p', '{"spec":{"ipFamilyPolicy":"RequireDualStack"}}']);
    const ips = JSON.parse(await kubectl.ok(['get', 'svc', 'web', '-o', 'jsonpath={.spec.clusterIPs}'])) as string[];
    assert.match(ips[0], /^10\.0\.2\.\d+$/);
    assert.match(ips[1], /^fd00:30::[0-9a-f]{1,4}$/);
    const table = await kubectl.ok(['get', 'svc', 'web']);
    assert.match(table, new RegExp(`web\\s+ClusterIP\\s+${ips[0].replace(/\./g, '\\.')}\\s+<none>\\s+80/TCP`));
    const described = await kubectl.ok(['describe', 'svc', 'web']);
    assert.match(described, /IP Family Policy:\s+RequireDualStack/);
    assert.match(described, /IP Families:\s+IPv4,IPv6/);
    assert.match(described, new RegExp(`IPs:\\s+${ips[0].replace(/\./g, '\\.')},${ips[1]}`));
    const refused = await kubectl.run(['create', 'service', 'clusterip', 'bad', '--tcp=80', '--clusterip=10.0.3.5']);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /error: failed to create ClusterIP service: Service "bad" is invalid: spec.clusterIPs: Invalid value: \[\]string\{"10.0.3.5"\}: failed to allocate IP 10.0.3.5: the provided IP \(10.0.3.5\) is not in the valid range. The range of valid IPs is 10.0.2.0\/24/);
  });
});

describe('dual-stack allocation repair', () => {
  test('each family\'s bitmap is rebuilt at start, unmarked addresses marked, leaks freed after three passes', async () => {
    const storage = await openStorage({ kind: 'memory' });
    try {
      const [v4, v6] = clusterIPRanges('10.0.0.0/24,fd00:10:96::/112');
      const allocators = {
        clusterIPs: new Map([['IPv4' as const, new PersistedBitmapAllocator(storage, '/registry/ranges/serviceips', v4)], ['IPv6' as const, new PersistedBitmapAllocator(storage, '/registry/ranges/secondaryserviceips', v6)]]),
        nodePorts: new PersistedBitmapAllocator(storage, '/registry/ranges/servicenodeports', nodePortRange('30000-30009')),
      };
      const service = (name: string, clusterIPs: string[]) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default', uid: name }, spec: { clusterIP: clusterIPs[0], clusterIPs, ipFamilyPolicy: 'RequireDualStack', ports: [{ port: 80 }] } });
      await storage.create(`${SERVICES_PREFIX}default/a`, service('a', ['10.0.0.5', 'fd00:10:96::5']));
      const repair = new ServiceAllocationRepair(storage, allocators, (err) => { throw err; });
      await repair.start(3_600_000);
      try {
        // Rebuilt from the stored service, each family in its own bitmap.
        assert.deepEqual(await allocators.clusterIPs.get('IPv4')!.values(), ['10.0.0.5']);
        assert.deepEqual(await allocators.clusterIPs.get('IPv6')!.values(), ['fd00:10:96::5']);
        // A service the bits miss is marked; an address no service uses is freed on the third pass.
        await storage.create(`${SERVICES_PREFIX}default/b`, service('b', ['fd00:10:96::7', '10.0.0.7']));
        await allocators.clusterIPs.get('IPv6')!.allocate('fd00:10:96::99');
        await repair.repair();
        assert.deepEqual((await allocators.clusterIPs.get('IPv6')!.values()).sort(), ['fd00:10:96::5', 'fd00:10:96::7', 'fd00:10:96::99']);
        assert.deepEqual((await allocators.clusterIPs.get('IPv4')!.values()).sort(), ['10.0.0.5', '10.0.0.7']);
        await repair.repair();
        await repair.repair();
        assert.deepEqual((await allocators.clusterIPs.get('IPv6')!.values()).sort(), ['fd00:10:96::5', 'fd00:10:96::7']);
        // A deletion seen in the store gives both families' addresses back.
        await storage.delete(`${SERVICES_PREFIX}default/a`);
        for (let i = 0; i < 100 && (await allocators.clusterIPs.get('IPv6')!.has('fd00:10:96::5')); i++) await new Promise((r) => setTimeout(r, 20));
        assert.equal(await allocators.clusterIPs.get('IPv6')!.has('fd00:10:96::5'), false);
        assert.equal(await allocators.clusterIPs.get('IPv4')!.has('10.0.0.5'), false);
      } finally {
        repair.stop();
      }
    } finally {
      await storage.close();
    }
  });
});

describe('dual-stack pods and endpoints in a cluster started with two ranges', () => {
  let cluster: KubefacadeCluster | undefined;
  after(async () => { await cluster?.stop(); });

  test('nodes and pods get both families; EndpointSlices per family, Endpoints in the primary family', async () => {
    cluster = await startCluster({ storage: 'memory', nodes: 1, imagePullDelayMs: 0, serviceClusterIpRange: '10.0.4.0/24,fd00:40::/112' });
    const c = cluster;
    const call = (method: 'get' | 'post' | 'patch', path: string) => request(c.url)[method](path).ca(c.caCertPem).set('Authorization', `Bearer ${c.adminToken}`);
    const post = (path: string, body: unknown) => call('post', path).set('Content-Type', 'application/json').send(JSON.stringify(body));
    const until = async <T>(probe: () => Promise<T | undefined>, what: string): Promise<T> => {
      for (let i = 0; i < 300; i++) {
        const value = await probe();
        if (value !== undefined) return value;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`timed out waiting for ${what}`);
    };

    const node = (await call('get', `/api/v1/nodes/${c.nodes[0]}`).expect(200)).body;
    assert.deepEqual(node.spec.podCIDRs, [node.spec.podCIDR, 'fd00:10:244::/64']);

    for (const name of ['web-a', 'web-b']) {
      await post('/api/v1/namespaces/default/pods', { metadata: { name, labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image: 'nginx:1.27', ports: [{ containerPort: 8080, name: 'http' }] }] } }).expect(201);
    }
    const podIPs = new Map<string, string[]>();
    for (const name of ['web-a', 'web-b']) {
      const pod = await until(async () => {
        const body = (await call('get', `/api/v1/namespaces/default/pods/${name}`).expect(200)).body;
        return body.status?.conditions?.some((cond: { type: string; status: string }) => cond.type === 'Ready' && cond.status === 'True') ? body : undefined;
      }, `${name} Ready`);
      const ips = (pod.status.podIPs as { ip: string }[]).map((entry) => entry.ip);
      assert.equal(ips.length, 2);
      assert.equal(ips[0], pod.status.podIP);
      assert.match(ips[0], /^10\.\d+\.\d+\.\d+$/);
      // The IPv6 sibling has the same host number in the node's /64.
      assert.equal(ips[1], `fd00:10:244::${Number(ips[0].split('.')[3]).toString(16)}`);
      podIPs.set(name, ips);
    }

    await post('/api/v1/namespaces/default/services', { metadata: { name: 'dual' }, spec: { ipFamilyPolicy: 'RequireDualStack', selector: { app: 'web' }, ports: [{ port: 80, targetPort: 'http' }] } }).expect(201);
    await post('/api/v1/namespaces/default/services', { metadata: { name: 'six' }, spec: { ipFamilies: ['IPv6'], selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] } }).expect(201);
    await post('/api/v1/namespaces/default/services', { metadata: { name: 'four' }, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] } }).expect(201);

    const slicesOf = async (service: string) => (await call('get', `/apis/discovery.k8s.io/v1/namespaces/default/endpointslices?labelSelector=kubernetes.io/service-name=${service}`).expect(200)).body.items as { addressType: string; endpoints: { addresses: string[] }[]; ports: { port: number }[] }[];
    const addressesByType = async (service: string) => {
      const out: Record<string, string[]> = {};
      for (const slice of await slicesOf(service)) out[slice.addressType] = [...(out[slice.addressType] ?? []), ...slice.endpoints.flatMap((e) => e.addresses)].sort();
      // Families in a fixed order, whatever order the slices are listed in.
      return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
    };
    const v4 = [...podIPs.values()].map((ips) => ips[0]).sort();
    const v6 = [...podIPs.values()].map((ips) => ips[1]).sort();
    const complete = (want: Record<string, string[]>) => async (service: string) => {
      const got = await addressesByType(service);
      return JSON.stringify(got) === JSON.stringify(want) ? got : undefined;
    };
    await until(() => complete({ IPv4: v4, IPv6: v6 })('dual'), 'IPv4 and IPv6 slices of dual');
    const dualSlices = await slicesOf('dual');
    assert.equal(dualSlices.length, 2);
    for (const slice of dualSlices) assert.deepEqual(slice.ports.map((p) => p.port), [8080]);
    await until(() => complete({ IPv6: v6 })('six'), 'the IPv6 slice of six');
    await until(() => complete({ IPv4: v4 })('four'), 'the IPv4 slice of four');

    // Endpoints: the service's primary family only.
    const endpointIPs = async (service: string) => {
      const res = await call('get', `/api/v1/namespaces/default/endpoints/${service}`);
      return res.status === 200 ? ((res.body.subsets ?? []) as { addresses?: { ip: string }[] }[]).flatMap((s) => (s.addresses ?? []).map((a) => a.ip)).sort() : [];
    };
    await until(async () => (JSON.stringify(await endpointIPs('six')) === JSON.stringify(v6) ? true : undefined), 'IPv6 Endpoints of six');
    await until(async () => (JSON.stringify(await endpointIPs('dual')) === JSON.stringify(v4) ? true : undefined), 'IPv4 Endpoints of dual');

    // A downgrade to single-stack drops the IPv6 slice.
    await call('patch', '/api/v1/namespaces/default/services/dual').set('Content-Type', 'application/merge-patch+json').send(JSON.stringify({ spec: { ipFamilyPolicy: 'SingleStack' } })).expect(200);
    await until(() => complete({ IPv4: v4 })('dual'), 'dual without its IPv6 slice');
  });
});
