// Leader election over a coordination.k8s.io/v1 Lease (clients/leader-election.ts) against a real
// API server: one candidate leads at a time, the Lease carries client-go's fields, a released
// lease passes on at once, and a dead holder's lease passes on once it expires.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoordinationV1Api, KubeConfig, type V1Lease } from '@kubernetes/client-node';
import { LeaderElector, runLeaderElected, type LeaderElectedComponent, type LeaderElectionOptions } from '../clients/leader-election.ts';
import { startApiServer, type RunningApiServer } from '../server/start.ts';

async function eventually<T>(what: string, probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('leader election with a Lease', () => {
  let dir: string;
  let server: RunningApiServer;
  let leases: CoordinationV1Api;
  const running: LeaderElectedComponent[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kubefacade-election-'));
    server = await startApiServer({ dataDir: dir, bind: '127.0.0.1', port: 0, tlsSans: [] });
    const config = new KubeConfig();
    config.loadFromFile(server.adminKubeconfigPath);
    leases = config.makeApiClient(CoordinationV1Api);
  });
  after(async () => {
    for (const component of running) await component.stop();
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const fast = (leaseName: string): LeaderElectionOptions => ({
    kubeconfigPath: server.adminKubeconfigPath, leaseName, leaseDurationMs: 2_000, renewDeadlineMs: 1_500, retryPeriodMs: 200,
  });
  const readLease = (name: string): Promise<V1Lease> => leases.readNamespacedLease({ name, namespace: 'kube-system' });

  /** A candidate whose "work" records when it runs. */
  function candidate(options: LeaderElectionOptions, log: string[], name: string): LeaderElectedComponent {
    const component = runLeaderElected(options, async () => {
      log.push(`${name} started`);
      return { stop: async () => { log.push(`${name} stopped`); } };
    });
    running.push(component);
    return component;
  }

  test('the lease carries client-go\'s record; defaults are 15 s lease, kube-system, <hostname>_<uuid>', async () => {
    const elector = new LeaderElector({ kubeconfigPath: server.adminKubeconfigPath, leaseName: 'defaults' });
    assert.match(elector.identity, /^[^_]+_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.equal(await elector.tryAcquireOrRenew(), true);
    const lease = await readLease('defaults');
    assert.equal(lease.spec?.holderIdentity, elector.identity);
    assert.equal(lease.spec?.leaseDurationSeconds, 15);
    assert.equal(lease.spec?.leaseTransitions, 0);
    const raw = await fetchRaw('/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/defaults');
    assert.match(String(raw.spec.acquireTime), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    assert.match(String(raw.spec.renewTime), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    assert.equal(await elector.tryAcquireOrRenew(), true);
    const renewed = await fetchRaw('/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/defaults');
    assert.equal(renewed.spec.acquireTime, raw.spec.acquireTime);
    assert.equal(renewed.spec.leaseTransitions, 0);
    // A second candidate cannot take a lease that is being renewed.
    const other = new LeaderElector({ kubeconfigPath: server.adminKubeconfigPath, leaseName: 'defaults' });
    assert.equal(await other.tryAcquireOrRenew(), false);
    assert.equal(other.isLeader(), false);
  });

  test('one leader at a time; a released lease passes on at once; a dead holder\'s after it expires', async () => {
    const log: string[] = [];
    const a = candidate(fast('work'), log, 'a');
    await eventually('a to lead', () => (log.includes('a started') ? true : undefined));
    // b will die without handing the lease back (a crash, or releaseOnCancel off).
    const b = candidate({ ...fast('work'), releaseOnCancel: false }, log, 'b');
    // While a renews, b keeps trying and fails: wait for several renewals a made after b started.
    const renewals = new Set<string>();
    await eventually('a to renew three times', async () => {
      renewals.add(String((await readLease('work')).spec?.renewTime?.valueOf()));
      return renewals.size >= 4 ? true : undefined;
    });
    assert.deepEqual(log, ['a started']);
    assert.equal(b.isLeader(), false);
    assert.equal((await readLease('work')).spec?.holderIdentity, a.identity);

    // a stops and hands the lease back: b takes over.
    await a.stop();
    await eventually('b to lead', () => (log.includes('b started') ? true : undefined));
    assert.deepEqual(log, ['a started', 'a stopped', 'b started']);
    const taken = await readLease('work');
    assert.equal(taken.spec?.holderIdentity, b.identity);
    assert.equal(taken.spec?.leaseTransitions, 1);

    // b dies without releasing: c takes the lease only once b's has expired.
    const c = candidate({ ...fast('work'), identity: 'c' }, log, 'c');
    await b.stop();
    assert.equal((await readLease('work')).spec?.holderIdentity, b.identity, 'not released');
    await eventually('c to lead', () => (log.includes('c started') ? true : undefined));
    const final = await readLease('work');
    assert.equal(final.spec?.holderIdentity, 'c');
    assert.equal(final.spec?.leaseTransitions, 2);
    assert.equal(c.isLeader(), true);
  });

  test('of five candidates started together exactly one works at any time', async () => {
    let active = 0;
    let most = 0;
    const started: number[] = [];
    const candidates = Array.from({ length: 5 }, (_, i) => runLeaderElected(fast('crowd'), async () => {
      active++;
      most = Math.max(most, active);
      started.push(i);
      return { stop: async () => { active--; } };
    }));
    running.push(...candidates);
    await eventually('a leader', () => (started.length > 0 ? true : undefined));
    const leader = candidates[started[0]];
    await leader.stop();
    await eventually('the next leader', () => (started.length > 1 ? true : undefined));
    assert.equal(most, 1);
    assert.equal(active, 1);
    assert.equal(candidates.filter((candidate) => candidate.isLeader()).length, 1);
  });

  /** The Lease as the server stores it (client-node would turn MicroTime into Date). */
  function fetchRaw(path: string): Promise<{ spec: Record<string, string | number> }> {
    return new Promise((resolve, reject) => {
      https.get(`${server.url}${path}`, { ca: server.caCertPem, headers: { authorization: `Bearer ${server.adminToken}` } }, (response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => { body += chunk.toString(); });
        response.on('end', () => resolve(JSON.parse(body) as { spec: Record<string, string | number> }));
      }).on('error', reject);
    });
  }
});
