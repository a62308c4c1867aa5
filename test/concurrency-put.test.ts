// Optimistic concurrency through the HTTPS API: 50 clients each do read-modify-PUT on one pod's
// `counter` label, sending the resourceVersion they read and retrying on 409 Conflict. If the server
// ever accepted a PUT based on a stale read, two clients would write the same counter value and the
// final count would fall short of the number of successful PUTs.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiClient, type ObjectWithMeta } from './helpers/https-client.ts';
import { startServerProcess, type ServerProcess } from './helpers/server-process.ts';

const CLIENTS = 50;
const INCREMENTS_PER_CLIENT = 5;
const POD = '/api/v1/namespaces/default/pods/counter';

interface Status {
  kind: string;
  reason: string;
  message: string;
  code: number;
}

describe('concurrent read-modify-PUT on one pod', () => {
  let server: ServerProcess | undefined;
  let client: ApiClient | undefined;

  before(async () => {
    server = await startServerProcess('kubefacade-concurrency-');
    client = new ApiClient(server.kubeconfigPath, CLIENTS);
  });

  after(async () => {
    client?.close();
    await server?.dispose();
  });

  test('no lost update: the counter equals the number of successful PUTs', async () => {
    const created = await client!.request<ObjectWithMeta>('POST', '/api/v1/namespaces/default/pods', {
      apiVersion: 'v1', kind: 'Pod',
      metadata: { name: 'counter', labels: { counter: '0' } },
      spec: { containers: [{ name: 'c', image: 'busybox:1.36' }] },
    });
    assert.equal(created.status, 201);

    const written: { counter: number; rv: bigint }[] = [];
    const conflicts: Status[] = [];
    const runClient = async (): Promise<void> => {
      for (let done = 0; done < INCREMENTS_PER_CLIENT;) {
        const read = await client!.request<ObjectWithMeta>('GET', POD);
        assert.equal(read.status, 200);
        const next = Number(read.body.metadata.labels?.counter) + 1;
        const body = { ...read.body, metadata: { ...read.body.metadata, labels: { ...read.body.metadata.labels, counter: String(next) } } };
        const put = await client!.request<ObjectWithMeta | Status>('PUT', POD, body);
        if (put.status === 409) {
          conflicts.push(put.body as Status);
          // As client-go's retry.DefaultRetry: ~10 ms with jitter, so 50 clients do not spin in lockstep.
          await new Promise((done) => setTimeout(done, 10 + Math.random() * 5));
          continue;
        }
        assert.equal(put.status, 200, JSON.stringify(put.body));
        const updated = put.body as ObjectWithMeta;
        assert.equal(updated.metadata.labels?.counter, String(next));
        written.push({ counter: next, rv: BigInt(updated.metadata.resourceVersion) });
        done += 1;
      }
    };
    await Promise.all(Array.from({ length: CLIENTS }, runClient));

    const successes = CLIENTS * INCREMENTS_PER_CLIENT;
    assert.equal(written.length, successes);
    const final = await client!.request<ObjectWithMeta>('GET', POD);
    assert.equal(final.body.metadata.labels?.counter, String(successes));

    // Each successful PUT wrote a distinct value, 1..N, and later values got later resourceVersions.
    written.sort((a, b) => a.counter - b.counter);
    assert.deepEqual(written.map((w) => w.counter), Array.from({ length: successes }, (_, i) => i + 1));
    for (let i = 1; i < written.length; i += 1) assert.ok(written[i]!.rv > written[i - 1]!.rv, `rv order at counter ${i + 1}`);
    assert.equal(final.body.metadata.resourceVersion, String(written.at(-1)!.rv));

    // Contention really happened, and it was refused the way client-go's retry helpers expect.
    assert.ok(conflicts.length > 0, 'some PUTs were based on a stale read');
    for (const conflict of conflicts) {
      assert.deepEqual({ kind: conflict.kind, reason: conflict.reason, code: conflict.code }, { kind: 'Status', reason: 'Conflict', code: 409 });
      assert.equal(conflict.message,
        'Operation cannot be fulfilled on pods "counter": the object has been modified; please apply your changes to the latest version and try again');
    }
  });
});
