// Fault injection: the wall clock jumps (an NTP step, a VM restored from a snapshot). The process's
// Date is replaced by node:test's mock timers (timers themselves keep running), then moved a day
// back and two days forward under a running API server. Asserted: resourceVersions keep
// increasing (they come from the store's revision counter, never from the clock); timestamps
// (creationTimestamp, a Lease's renewTime as written) follow the wall clock without errors; a watch
// opened before the jumps delivers every event in order (history is bounded by count as well as
// age, so a forward jump does not expire it); after a restart under the jumped clock every
// acknowledged object is there with its resourceVersion and the next one is higher. Leader election
// measures a Lease's expiry on the candidate's monotonic clock, as client-go does: a jump neither
// makes the holder lose its Lease nor lets another candidate take it.

import { after, before, describe, mock, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { startApiServer, type RunningApiServer } from '../server/start.ts';
import { LeaderElector } from '../clients/leader-election.ts';
import { podManifest } from './helpers/api-server.ts';

const DAY_MS = 24 * 3600 * 1000;

describe('a wall-clock jump', () => {
  let dir: string;
  let server: RunningApiServer | undefined;
  const realNow = Date.now();

  const call = (method: 'get' | 'post' | 'put', path: string): request.Test =>
    request(server!.url)[method](path).ca(server!.caCertPem).set('Authorization', `Bearer ${server!.adminToken}`);
  const start = async (): Promise<void> => {
    server = await startApiServer({ dataDir: dir, bind: '127.0.0.1', port: 0, tlsSans: [], disableAdmissionPlugins: ['ServiceAccount'] });
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kubefacade-clock-'));
    mock.timers.enable({ apis: ['Date'], now: realNow });
    await start();
  });

  after(async () => {
    await server?.close();
    mock.timers.reset();
    await rm(dir, { recursive: true, force: true });
  });

  test('a leader keeps its Lease across jumps and no other candidate takes it', async () => {
    mock.timers.setTime(realNow);
    const options = { kubeconfigPath: server!.adminKubeconfigPath, leaseName: 'clock-jump', leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };
    const holder = new LeaderElector(options);
    const other = new LeaderElector(options);
    assert.equal(await holder.tryAcquireOrRenew(), true);
    assert.equal(await other.tryAcquireOrRenew(), false);
    for (const wallClock of [realNow + DAY_MS, realNow - DAY_MS, realNow + 2 * DAY_MS]) {
      mock.timers.setTime(wallClock);
      // The Lease's renewTime now looks a day old (or a day in the future) to the wall clock.
      assert.equal(await other.tryAcquireOrRenew(), false, `another candidate took the Lease after a jump to ${new Date(wallClock).toISOString()}`);
      assert.equal(await holder.tryAcquireOrRenew(), true, 'the holder renews after the jump');
    }
    mock.timers.setTime(realNow);
  });

  test('resourceVersions, timestamps, watches and restarts behave across jumps back and forward', async () => {
    const list = await call('get', '/api/v1/namespaces/default/pods').expect(200);
    const watched: { type: string; name: string; rv: number }[] = [];
    const url = new URL(`${server!.url}/api/v1/namespaces/default/pods?watch=true&resourceVersion=${list.body.metadata.resourceVersion}`);
    const watch = https.get({ host: url.hostname, port: url.port, path: url.pathname + url.search, ca: server!.caCertPem, headers: { Authorization: `Bearer ${server!.adminToken}` } }, (res) => {
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let newline: number;
        while ((newline = buffer.indexOf('\n')) >= 0) {
          const event = JSON.parse(buffer.slice(0, newline)) as { type: string; object: { metadata: { name: string; resourceVersion: string } } };
          buffer = buffer.slice(newline + 1);
          watched.push({ type: event.type, name: event.object.metadata.name, rv: Number(event.object.metadata.resourceVersion) });
        }
      });
    });
    watch.on('error', () => undefined);

    const acked = new Map<string, number>();
    let previous = 0;
    const phases: [string, number][] = [['now', realNow], ['a day back', realNow - DAY_MS], ['a day ahead', realNow + DAY_MS]];
    for (const [phase, wallClock] of phases) {
      mock.timers.setTime(wallClock);
      for (let i = 0; i < 5; i++) {
        const name = `${phase.replace(/ /g, '-')}-${i}`;
        const res = await call('post', '/api/v1/namespaces/default/pods').send(podManifest(name));
        assert.equal(res.status, 201, `${phase}: ${res.text}`);
        const rv = Number(res.body.metadata.resourceVersion);
        assert.ok(rv > previous, `${phase}: resourceVersion ${rv} after ${previous}`);
        previous = rv;
        acked.set(name, rv);
        assert.equal(res.body.metadata.creationTimestamp, new Date(Math.floor(wallClock / 1000) * 1000).toISOString().replace('.000Z', 'Z'));
      }
      const renewTime = new Date(wallClock).toISOString().replace('Z', '000Z');
      const lease = await call('post', '/apis/coordination.k8s.io/v1/namespaces/default/leases').send({
        apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: `lease-${phase.replace(/ /g, '-')}` },
        spec: { holderIdentity: 'x', leaseDurationSeconds: 40, renewTime },
      });
      assert.equal(lease.status, 201, lease.text);
      assert.equal(lease.body.spec.renewTime, renewTime);
      assert.ok(Number(lease.body.metadata.resourceVersion) > previous);
      previous = Number(lease.body.metadata.resourceVersion);
    }

    // Date is frozen by the mock: wait on timers, which keep running.
    for (let i = 0; i < 100 && watched.length < acked.size; i++) await new Promise((done) => setTimeout(done, 50));
    watch.destroy();
    assert.deepEqual(watched.map((e) => `${e.type} ${e.name} ${e.rv}`), [...acked].map(([name, rv]) => `ADDED ${name} ${rv}`), 'the watch saw every create, in order');

    await server!.close();
    server = undefined;
    await start();
    const after = await call('get', '/api/v1/namespaces/default/pods').expect(200);
    const stored = new Map<string, number>(after.body.items.map((p: { metadata: { name: string; resourceVersion: string } }) => [p.metadata.name, Number(p.metadata.resourceVersion)]));
    for (const [name, rv] of acked) assert.equal(stored.get(name), rv, `${name} survived the restart with its resourceVersion`);
    const next = await call('post', '/api/v1/namespaces/default/pods').send(podManifest('after-restart')).expect(201);
    assert.ok(Number(next.body.metadata.resourceVersion) > previous);
  });
});
