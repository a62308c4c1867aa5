// The simulated load balancer pool: LoadBalancer services get an ingress address from the pool (shown by
// kubectl as EXTERNAL-IP), keep it, and give it back when they stop being LoadBalancers or are deleted.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAddressPool, runLoadBalancerController } from '../controllers/service-load-balancer.ts';
import { writeComponentKubeconfigs } from '../server/component-credentials.ts';
import { json, startTestServer, type TestServer } from './helpers/api-server.ts';

const SVC = '/api/v1/namespaces/default/services';
const TABLE = 'application/json;as=Table;v=v1;g=meta.k8s.io';

describe('simulated load balancer pool', () => {
  let t: TestServer;
  let dir: string;
  let controller: Awaited<ReturnType<typeof runLoadBalancerController>>;
  before(async () => {
    t = await startTestServer('service-lb');
    dir = await mkdtemp(join(tmpdir(), 'kubefacade-service-lb-'));
    const kubeconfigs = await writeComponentKubeconfigs(dir, t.url, t.server.credentials, []);
    controller = await runLoadBalancerController({ kubeconfigPath: kubeconfigs.controllerManager, pool: '172.18.255.200-172.18.255.201', logger: { info: () => undefined, warn: () => undefined } });
  });
  after(async () => {
    await controller.stop();
    await t.close();
    await rm(dir, { recursive: true, force: true });
  });

  const ingress = async (name: string) => (await t.call('get', `${SVC}/${name}`).expect(200)).body.status?.loadBalancer?.ingress;
  const until = async <T>(probe: () => Promise<T | undefined>): Promise<T> => {
    for (let i = 0; i < 200; i++) {
      const value = await probe();
      if (value !== undefined) return value;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error('condition not reached');
  };

  test('pool parsing', () => {
    assert.deepEqual(parseAddressPool('10.0.0.0/30'), { first: 167772161, last: 167772162 });
    assert.throws(() => parseAddressPool('nope'), /--load-balancer-ip-pool: nope is neither/);
  });

  test('addresses assigned, shown as EXTERNAL-IP, released, pending when exhausted', async () => {
    for (const name of ['lb-a', 'lb-b', 'lb-c']) await json(t.call('post', SVC), { metadata: { name }, spec: { type: 'LoadBalancer', ports: [{ port: 80 }] } }).expect(201);
    const a = await until(async () => (await ingress('lb-a'))?.[0]?.ip as string | undefined);
    const b = await until(async () => (await ingress('lb-b'))?.[0]?.ip as string | undefined);
    assert.deepEqual([a, b].sort(), ['172.18.255.200', '172.18.255.201']);
    assert.deepEqual((await ingress('lb-a'))[0], { ip: a, ipMode: 'VIP' });
    await controller.idle();
    assert.equal(await ingress('lb-c'), undefined);
    const row = JSON.parse((await t.call('get', `${SVC}/lb-c`).set('Accept', TABLE).expect(200)).text).rows[0].cells;
    assert.equal(row[3], '<pending>');

    await t.call('delete', `${SVC}/lb-a`).expect(200);
    assert.equal(await until(async () => (await ingress('lb-c'))?.[0]?.ip as string | undefined), a);
    await json(t.call('patch', `${SVC}/lb-b`), { spec: { type: 'ClusterIP', externalTrafficPolicy: null, allocateLoadBalancerNodePorts: null, ports: [{ port: 80, nodePort: null }] } }, 'application/merge-patch+json').expect(200);
    await until(async () => ((await ingress('lb-b')) === undefined ? true : undefined));
  });
});
