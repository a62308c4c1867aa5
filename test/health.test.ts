// The health checks themselves: a failing check turns /readyz into a 500 listing every check with the
// reason withheld, /readyz/<check> into a 500 with the reason, as k8s.io/apiserver's healthz does.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Response } from 'express';
import { apiServerHealthChecks, healthPath, serveHealth } from '../server/health.ts';

interface Captured { status: number; headers: Record<string, string>; body: string }

function fakeResponse(): { res: Response; captured: Captured } {
  const captured: Captured = { status: 0, headers: {}, body: '' };
  const res = {
    status(code: number) { captured.status = code; return res; },
    setHeader(name: string, value: string) { captured.headers[name.toLowerCase()] = value; return res; },
    end(body: string) { captured.body = body; return res; },
  };
  return { res: res as unknown as Response, captured };
}

const failingStorage = apiServerHealthChecks({
  storageResponds: () => Promise.reject(new Error('connection refused')),
  shuttingDown: () => true,
});

test('a failing check: 500, every line, reason withheld, "<endpoint> check failed"', async () => {
  const logged: string[] = [];
  const { res, captured } = fakeResponse();
  assert.equal(await serveHealth(res, failingStorage, 'readyz', undefined, new URLSearchParams(), (line) => logged.push(line)), true);
  assert.equal(captured.status, 500);
  assert.equal(captured.body, '[+]ping ok\n[+]log ok\n[-]etcd failed: reason withheld\n[-]etcd-readiness failed: reason withheld\n'
    + '[-]shutdown failed: reason withheld\nreadyz check failed\n');
  assert.deepEqual(logged, ['readyz: [-]etcd failed: connection refused', 'readyz: [-]etcd-readiness failed: connection refused',
    'readyz: [-]shutdown failed: process is shutting down']);
});

test('excluding the failing checks makes the answer ok again', async () => {
  const { res, captured } = fakeResponse();
  await serveHealth(res, failingStorage, 'livez', undefined, new URLSearchParams('exclude=etcd'));
  assert.deepEqual([captured.status, captured.body], [200, 'ok']);
});

test('/readyz/<check> that fails: 500 with the reason', async () => {
  const { res, captured } = fakeResponse();
  await serveHealth(res, failingStorage, 'readyz', 'shutdown', new URLSearchParams());
  assert.deepEqual([captured.status, captured.body], [500, 'internal server error: process is shutting down\n']);
  assert.equal(await serveHealth(fakeResponse().res, failingStorage, 'readyz', 'nope', new URLSearchParams()), false);
});

test('a storage that never answers fails its check after the timeout', async () => {
  const hanging = apiServerHealthChecks({ storageResponds: () => new Promise(() => undefined), shuttingDown: () => false });
  const { res, captured } = fakeResponse();
  const started = Date.now();
  await serveHealth(res, hanging, 'readyz', 'etcd', new URLSearchParams());
  assert.ok(Date.now() - started >= 1900);
  assert.deepEqual([captured.status, captured.body], [500, 'internal server error: storage did not answer within 2000ms\n']);
});

test('health paths', () => {
  assert.deepEqual(healthPath('/readyz'), { endpoint: 'readyz' });
  assert.deepEqual(healthPath('/livez/etcd'), { endpoint: 'livez', check: 'etcd' });
  assert.deepEqual(healthPath('/readyzz'), undefined);
  assert.deepEqual(healthPath('/version'), undefined);
});
