// Fault injection: a disk that fills and empties under a running API server. As root (CI) the data
// dir is on a small tmpfs mounted for the test, filled with a file until writes fail with ENOSPC
// for real. Where mounting is impossible, LevelDB's own behaviour is emulated instead: once a write
// fails on a database handle, every later write on that handle fails too (LevelDB's sticky
// background error), so the test still fails if the store does not reopen by itself.
// Asserted: writes answer 500 while the disk is full and /readyz reports the `etcd` check failed;
// once space is freed, /readyz and writes recover without a restart; a restart afterwards works;
// no acknowledged create is lost.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import request from 'supertest';
import { ClassicLevel } from 'classic-level';
import { startApiServer, type RunningApiServer } from '../server/start.ts';
import { podManifest } from './helpers/api-server.ts';

const MOUNT_BYTES = 24 * 1024 * 1024;

interface DiskFullFault {
  /** Makes writes fail for lack of space. */
  fill(): void;
  /** Frees the space again. */
  empty(): void;
  close(): void;
}

function tmpfsFault(root: string): DiskFullFault | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${MOUNT_BYTES}`, 'tmpfs', root]);
  if (mounted.status !== 0) return undefined;
  const filler = path.join(root, 'filler');
  return {
    fill() {
      const fd = fs.openSync(filler, 'w');
      try {
        for (const chunk of [1 << 20, 1 << 16, 1 << 12, 512]) {
          const bytes = Buffer.alloc(chunk, 1);
          for (;;) {
            try {
              fs.writeSync(fd, bytes);
            } catch (error) {
              if ((error as NodeJS.ErrnoException).code === 'ENOSPC') break;
              throw error;
            }
          }
        }
      } finally {
        fs.closeSync(fd);
      }
    },
    empty() {
      fs.rmSync(filler, { force: true });
    },
    close() {
      spawnSync('umount', ['-l', root]);
    },
  };
}

/** LevelDB's sticky write error, emulated per database handle, for machines where mount is impossible. */
function injectedFault(): DiskFullFault {
  const prototype = ClassicLevel.prototype as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  const originals = { batch: prototype.batch, put: prototype.put, open: prototype.open };
  let full = false;
  const broken = new WeakSet<object>();
  const failure = (): Error => new Error('IO error: /data/db/000005.log: No space left on device');
  const guard = (name: 'batch' | 'put') => async function (this: object, ...args: unknown[]): Promise<unknown> {
    if (full) broken.add(this);
    if (broken.has(this)) throw failure();
    return originals[name].apply(this, args);
  };
  prototype.batch = guard('batch');
  prototype.put = guard('put');
  prototype.open = async function (this: object, ...args: unknown[]): Promise<unknown> {
    if (full) throw failure();
    return originals.open.apply(this, args);
  };
  return {
    fill: () => { full = true; },
    empty: () => { full = false; },
    close: () => Object.assign(prototype, originals),
  };
}

describe('a disk that fills and empties', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kubefacade-diskfull-'));
  let fault: DiskFullFault;
  let mode = '';
  let server: RunningApiServer | undefined;
  const dataDir = path.join(root, 'data');

  const call = (method: 'get' | 'post', url: string): request.Test =>
    request(server!.url)[method](url).ca(server!.caCertPem).set('Authorization', `Bearer ${server!.adminToken}`);
  const start = async (): Promise<void> => {
    server = await startApiServer({ dataDir, bind: '127.0.0.1', port: 0, tlsSans: [], disableAdmissionPlugins: ['ServiceAccount'] });
  };

  before(async () => {
    const real = tmpfsFault(root);
    fault = real ?? injectedFault();
    mode = real ? 'tmpfs' : 'injected';
    await start();
  });

  after(async () => {
    await server?.close();
    fault?.empty();
    fault?.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  test('writes fail and /readyz reports the store while full, recover without a restart once space is freed, and nothing acknowledged is lost', async (t) => {
    t.diagnostic(`disk-full fault: ${mode}`);
    const acked = new Map<string, string>();
    const create = async (name: string): Promise<request.Response> => {
      const res = await call('post', '/api/v1/namespaces/default/pods').send(podManifest(name));
      if (res.status === 201) acked.set(name, res.body.metadata.resourceVersion);
      return res;
    };
    for (let i = 0; i < 20; i++) assert.equal((await create(`before-${i}`)).status, 201);

    fault.fill();
    let failed: request.Response | undefined;
    for (let i = 0; i < 500 && !failed; i++) {
      const res = await create(`full-${i}`);
      if (res.status !== 201) failed = res;
    }
    assert.ok(failed, 'a create failed on the full disk');
    assert.equal(failed.status, 500);
    assert.match(failed.body.message, /No space left|IO error/);
    // Still failing: not a one-off.
    assert.equal((await create('still-full')).status, 500);

    const unready = await call('get', '/readyz').ok(() => true);
    assert.equal(unready.status, 500);
    assert.match(unready.text, /\[-\]etcd failed: reason withheld/);
    assert.match(unready.text, /readyz check failed/);
    const check = await call('get', '/readyz/etcd').ok(() => true);
    assert.equal(check.status, 500);
    assert.match(check.text, /internal server error: writes to the store fail: .*(No space left|IO error)/);
    assert.equal((await call('get', '/livez')).status, 200, 'liveness is not the store');

    fault.empty();
    const deadline = Date.now() + 20_000;
    let ready = 0;
    while (Date.now() < deadline) {
      ready = (await call('get', '/readyz').ok(() => true)).status;
      if (ready === 200) break;
      await new Promise((done) => setTimeout(done, 200));
    }
    assert.equal(ready, 200, '/readyz recovers by itself once space is freed');
    const verbose = await call('get', '/readyz?verbose');
    assert.match(verbose.text, /\[\+\]etcd ok\n[\s\S]*readyz check passed/);
    const highestBefore = Math.max(...[...acked.values()].map(Number));
    const recovered = await create('after-space-freed');
    assert.equal(recovered.status, 201, JSON.stringify(recovered.body));
    const highest = Number(recovered.body.metadata.resourceVersion);
    assert.ok(highest > highestBefore);

    const verifyAcknowledged = async (): Promise<void> => {
      const list = await call('get', '/api/v1/namespaces/default/pods');
      const stored = new Map<string, string>(list.body.items.map((item: { metadata: { name: string; resourceVersion: string } }) => [item.metadata.name, item.metadata.resourceVersion]));
      for (const [name, rv] of acked) assert.equal(stored.get(name), rv, `acknowledged ${name} (rv ${rv}) is there`);
    };
    await verifyAcknowledged();

    await server!.close();
    server = undefined;
    await start();
    await verifyAcknowledged();
    const afterRestart = await create('after-restart');
    assert.equal(afterRestart.status, 201);
    assert.ok(Number(afterRestart.body.metadata.resourceVersion) > highest);
  });
});
