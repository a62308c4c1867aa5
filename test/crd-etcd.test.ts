// CustomResourceDefinitions and custom resources on the etcd backend: kube-apiserver's key layout
// (`/registry/apiextensions.k8s.io/customresourcedefinitions/<name>`,
// `/registry/<group>/<plural>/<namespace>/<name>`), and a second replica on the same etcd serving
// the custom resource as soon as it starts.

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Etcd3 } from 'etcd3';
import request from 'supertest';
import { startApiServer, type RunningApiServer } from '../server/start.ts';
import { crdManifest, waitFor } from './helpers/crds.ts';
import { startEtcdCluster, type EtcdCluster } from './helpers/etcd.ts';

describe('custom resources on etcd', () => {
  let etcd: EtcdCluster;
  let raw: Etcd3;
  const dirs: string[] = [];
  const servers: RunningApiServer[] = [];
  const start = async (): Promise<RunningApiServer> => {
    const dir = await mkdtemp(join(tmpdir(), 'kubefacade-crd-etcd-'));
    dirs.push(dir);
    if (dirs.length > 1) {
      // Replicas share the first one's PKI, as the README's replica set-up says.
      const { cp } = await import('node:fs/promises');
      await cp(join(dirs[0], 'pki'), join(dir, 'pki'), { recursive: true });
    }
    const server = await startApiServer({ dataDir: dir, bind: '127.0.0.1', port: 0, tlsSans: [], etcd: { kind: 'etcd', endpoints: etcd.endpoints, prefix: '/registry', compactionIntervalMs: 0 } });
    servers.push(server);
    return server;
  };
  const call = (server: RunningApiServer, method: 'get' | 'post', path: string) => request(server.url)[method](path).ca(server.caCertPem).set('Authorization', `Bearer ${server.adminToken}`);

  before(async () => {
    etcd = await startEtcdCluster(1);
    raw = new Etcd3({ hosts: etcd.endpoints });
  });
  after(async () => {
    for (const server of servers) await server.close();
    raw?.close();
    await etcd?.stop();
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  test('keys follow kube-apiserver; a second replica serves the custom resource', async () => {
    const first = await start();
    await call(first, 'post', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions').send(crdManifest()).expect(201);
    await waitFor('served', async () => ((await call(first, 'get', '/apis/stable.example.com/v1/namespaces/default/crontabs')).status === 200 ? true : undefined));
    await call(first, 'post', '/apis/stable.example.com/v1/namespaces/default/crontabs')
      .send({ apiVersion: 'stable.example.com/v1', kind: 'CronTab', metadata: { name: 'on-etcd' }, spec: { image: 'x' } }).expect(201);
    assert.ok(await raw.get('/registry/apiextensions.k8s.io/customresourcedefinitions/crontabs.stable.example.com').string());
    const stored = JSON.parse((await raw.get('/registry/stable.example.com/crontabs/default/on-etcd').string()) ?? '{}');
    assert.equal(stored.spec.image, 'x');
    const second = await start();
    const got = await call(second, 'get', '/apis/stable.example.com/v1/namespaces/default/crontabs/on-etcd');
    assert.equal(got.status, 200, JSON.stringify(got.body));
  });
});
