import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WriteSlots } from '../kubelet/write-slots.ts';

test('at most `limit` writes run at once; the rest run in arrival order', async () => {
  const slots = new WriteSlots(3);
  let running = 0;
  let peak = 0;
  const order: number[] = [];
  const writes = Array.from({ length: 2_000 }, (_, i) => slots.run(async () => {
    running++;
    peak = Math.max(peak, running);
    await new Promise((resolve) => setImmediate(resolve));
    order.push(i);
    running--;
    return i;
  }));
  assert.ok(slots.queued > 1_900, `queued ${slots.queued}`);
  const results = await Promise.all(writes);
  assert.equal(peak, 3);
  assert.deepEqual(results, Array.from({ length: 2_000 }, (_, i) => i));
  assert.deepEqual(order.slice(0, 3), [0, 1, 2]);
  assert.deepEqual([...order].sort((a, b) => a - b), results);
  assert.equal(slots.queued, 0);
});

test('a failed write frees its slot and its error reaches the caller', async () => {
  const slots = new WriteSlots(1);
  const failing = slots.run(async () => { throw new Error('HTTP 500'); });
  const next = slots.run(async () => 'done');
  await assert.rejects(failing, /HTTP 500/);
  assert.equal(await next, 'done');
  assert.equal(await slots.run(async () => 'again'), 'again');
});
