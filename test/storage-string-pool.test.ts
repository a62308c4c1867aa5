import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StringPool } from '../storage/string-pool.ts';

const podJson = JSON.stringify({
  metadata: { name: 'web-1', namespace: 'default', labels: { app: 'web' }, managedFields: [{ manager: 'kubectl', fieldsV1: { 'f:spec': {} } }] },
  spec: { containers: [{ name: 'web', image: 'nginx:1.27', args: ['--port=80', '--port=80'], ports: [{ containerPort: 80 }] }] },
  status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
});

test('interning keeps every value, nested in objects and arrays', () => {
  const pool = new StringPool();
  const pod = JSON.parse(podJson);
  pool.internValues(pod);
  assert.equal(JSON.stringify(pod), podJson);
  assert.ok(pool.size > 5, 'the pod\'s short strings are pooled');
});

test('frozen subtrees, long strings and an own __proto__ key are left alone', () => {
  const pool = new StringPool(1_000, 8);
  const shared = Object.freeze({ image: 'nginx' });
  const object = JSON.parse('{"__proto__":"x","long":"a-value-longer-than-eight"}') as Record<string, unknown>;
  object.shared = shared;
  pool.internValues(object);
  assert.equal(Object.getPrototypeOf(object), Object.prototype);
  assert.equal(Object.getOwnPropertyDescriptor(object, '__proto__')?.value, 'x');
  assert.equal(object.long, 'a-value-longer-than-eight');
  assert.equal(pool.size, 0, 'nothing short enough outside the frozen value');
});

test('the pool never holds more than its capacity', () => {
  const pool = new StringPool(100);
  for (let i = 0; i < 1_000; i++) pool.internValues({ uid: `uid-${i}`, phase: 'Running' });
  assert.ok(pool.size <= 100, `size ${pool.size}`);
  const after = { phase: 'Running' };
  pool.internValues(after);
  assert.deepEqual(after, { phase: 'Running' });
});
