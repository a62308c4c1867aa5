// Crash durability of `kubefacade server` as a process: 1,000 pods created over HTTPS, then a stream of
// creates during which the server is SIGKILLed. After a restart on the same data dir, every create
// that was answered 201 is there with the resourceVersion it was answered with, nothing appears that
// was never sent, and resourceVersions keep growing past every one handed out before the crash.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiClient, runPool, type ObjectWithMeta } from './helpers/https-client.ts';
import { startServerProcess, type ServerProcess } from './helpers/server-process.ts';

const PODS = '/api/v1/namespaces/default/pods';
const BULK = 1_000;
const CONCURRENCY = 32;
/** Stream creates acknowledged before the kill; the kill lands while ~CONCURRENCY more are in flight. */
const ACKED_BEFORE_KILL = 300;
/** Upper bound on stream attempts, far more than the kill leaves time for. */
const STREAM_LIMIT = 20_000;

function pod(name: string): object {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, labels: { app: 'durability' } },
    spec: { containers: [{ name: 'c', image: 'busybox:1.36' }] },
  };
}

interface PodList {
  metadata: { resourceVersion: string };
  items: ObjectWithMeta[];
}

describe('durability across SIGKILL and restart', () => {
  let server: ServerProcess | undefined;
  let client: ApiClient | undefined;

  before(async () => {
    server = await startServerProcess('kubefacade-durability-');
  });

  after(async () => {
    client?.close();
    await server?.dispose();
  });

  test('every acknowledged create survives, and resourceVersions keep increasing', async () => {
    client = new ApiClient(server!.kubeconfigPath, CONCURRENCY);
    const acked = new Map<string, bigint>(); // name → resourceVersion from the 201
    let maxSeenRv = 0n;
    const remember = (name: string, rv: string) => {
      const value = BigInt(rv);
      acked.set(name, value);
      if (value > maxSeenRv) maxSeenRv = value;
    };

    await runPool(BULK, CONCURRENCY, async (i) => {
      const name = `bulk-${String(i).padStart(4, '0')}`;
      const res = await client!.request<ObjectWithMeta>('POST', PODS, pod(name));
      assert.equal(res.status, 201, `${name}: ${JSON.stringify(res.body)}`);
      remember(name, res.body.metadata.resourceVersion);
    });
    assert.equal(acked.size, BULK);
    const bulkRvs = new Set([...acked.values()]);
    assert.equal(bulkRvs.size, BULK, 'every create got its own resourceVersion');

    // The stream: keep creating until the kill makes requests fail. Which in-flight creates were
    // committed is unknown to the client, so those names may or may not be there afterwards.
    const attempted = new Set<string>();
    let streamAcked = 0;
    let killed: Promise<void> | undefined;
    let failures = 0;
    await runPool(STREAM_LIMIT, CONCURRENCY, async (i) => {
      if (failures > 0) return; // the server is gone: stop issuing creates
      const name = `stream-${String(i).padStart(5, '0')}`;
      attempted.add(name);
      try {
        const res = await client!.request<ObjectWithMeta>('POST', PODS, pod(name));
        if (res.status !== 201) throw new Error(`${name}: ${res.status} ${JSON.stringify(res.body)}`);
        remember(name, res.body.metadata.resourceVersion);
        streamAcked += 1;
        if (streamAcked === ACKED_BEFORE_KILL) killed = server!.kill('SIGKILL');
      } catch (err) {
        // Only the kill may break a request; anything before it is a real failure.
        if (!killed) throw err;
        failures += 1;
      }
    });
    assert.ok(killed, 'the server was killed mid-stream');
    await killed;
    assert.ok(failures > 0, 'some creates were cut off by the kill');
    client.close();

    await server!.restart();
    client = new ApiClient(server!.kubeconfigPath, CONCURRENCY);
    const listed = await client.request<PodList>('GET', PODS);
    assert.equal(listed.status, 200);
    const found = new Map(listed.body.items.map((item) => [item.metadata.name, BigInt(item.metadata.resourceVersion)]));

    const lost = [...acked.keys()].filter((name) => !found.has(name));
    assert.deepEqual(lost, [], 'acknowledged creates missing after the restart');
    for (const [name, rv] of acked) assert.equal(found.get(name), rv, `${name} has the resourceVersion its create returned`);
    const invented = [...found.keys()].filter((name) => !acked.has(name) && !attempted.has(name));
    assert.deepEqual(invented, [], 'pods that no client created');
    // In-flight creates may land either way, but at most the ones that were in flight.
    assert.ok(found.size - acked.size <= CONCURRENCY, `${found.size - acked.size} unacknowledged creates committed`);

    assert.ok(BigInt(listed.body.metadata.resourceVersion) >= maxSeenRv, 'the list is at least as new as every acknowledged write');
    const fresh = await client.request<ObjectWithMeta>('POST', PODS, pod('after-restart'));
    assert.equal(fresh.status, 201);
    const freshRv = BigInt(fresh.body.metadata.resourceVersion);
    const maxListedRv = [...found.values()].reduce((max, rv) => (rv > max ? rv : max), 0n);
    assert.ok(freshRv > maxSeenRv, `new write rv ${freshRv} > every rv handed out before the kill (${maxSeenRv})`);
    assert.ok(freshRv > maxListedRv, `new write rv ${freshRv} > every stored rv (${maxListedRv})`);

    // An update after the restart moves on too (not only creates).
    const relabel = await client.request<ObjectWithMeta>('PATCH', `${PODS}/bulk-0000`,
      { metadata: { labels: { touched: 'yes' } } }, 'application/merge-patch+json');
    assert.equal(relabel.status, 200);
    assert.ok(BigInt(relabel.body.metadata.resourceVersion) > freshRv);
  });
});
