// SyncQueue: the controller manager's RateLimitingQueue drained by its own workers (controllers/framework/sync-queue.ts).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SyncQueue } from '../controllers/framework/sync-queue.ts';

const tick = () => new Promise((resolve) => setImmediate(resolve));

/** Retry timers do not hold the process open (a controller's sockets do), so a test holds it while it waits. */
async function heldOpen<T>(promise: Promise<T>): Promise<T> {
  const hold = setInterval(() => {}, 1000);
  try {
    return await promise;
  } finally {
    clearInterval(hold);
  }
}

test('a key queued several times while it waits is synced once; idle waits for the syncs', async () => {
  const synced: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((resolve) => { release = resolve; });
  const queue = new SyncQueue(async (key) => {
    synced.push(key);
    if (key === 'first') await gate;
  });
  queue.add('first');
  await tick();
  queue.add('a'); queue.add('a'); queue.add('b'); queue.add('a');
  release();
  await queue.idle();
  assert.deepEqual(synced, ['first', 'a', 'b']);
  queue.stop();
});

test('a key is never synced by two workers at once; queued during its sync, it is synced again after', async () => {
  let running = 0;
  let most = 0;
  let count = 0;
  let release!: () => void;
  const gate = new Promise<void>((resolve) => { release = resolve; });
  const queue = new SyncQueue(async () => {
    running++; count++;
    most = Math.max(most, running);
    if (count === 1) await gate;
    running--;
  }, { workers: 4 });
  queue.add('k');
  await tick();
  queue.add('k');
  queue.add('k');
  await tick();
  assert.equal(count, 1, 'the second add waits for the first sync');
  release();
  await queue.idle();
  assert.equal(count, 2);
  assert.equal(most, 1);
  queue.stop();
});

test('a failing sync is retried with backoff, reported each time, and idle waits for the retries', async () => {
  const errors: string[] = [];
  let attempts = 0;
  const queue = new SyncQueue(async () => {
    attempts++;
    if (attempts < 4) throw new Error(`attempt ${attempts}`);
  }, { onError: (key, error) => errors.push(`${key}: ${(error as Error).message}`) });
  queue.add('x');
  await heldOpen(queue.idle());
  assert.equal(attempts, 4);
  assert.deepEqual(errors, ['x: attempt 1', 'x: attempt 2', 'x: attempt 3']);
  queue.stop();
});

test('stop ends the workers and resolves idle even with a retry pending', async () => {
  const queue = new SyncQueue(async () => { throw new Error('always'); });
  queue.add('x');
  await tick();
  const idle = queue.idle();
  queue.stop();
  await idle;
  queue.add('y');
  await queue.idle();
});
