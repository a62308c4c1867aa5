// A create's managedFields (and the whole object returned with them) must be exactly what the
// general comparison walk produced when the fixture was recorded (see
// test/fixtures/managed-fields-create-cases.ts), whichever path computes them now.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { trackUpdateManagedFields } from '../api/patch/index.ts';
import { createCases, runCreateCase, type RecordedCreate } from './fixtures/managed-fields-create-cases.ts';

const expected = JSON.parse(readFileSync(new URL('./fixtures/managed-fields-create.json', import.meta.url), 'utf8')) as RecordedCreate[];

test('creates record the same managedFields as the recorded implementation', () => {
  const cases = createCases();
  assert.deepEqual(cases.map((c) => c.name), expected.map((e) => e.name));
  for (const [i, c] of cases.entries()) {
    const actual = runCreateCase(trackUpdateManagedFields, c);
    assert.equal(actual.json, expected[i].json, c.name);
    assert.equal(actual.sha256, expected[i].sha256, c.name);
  }
});

test('a create leaves its input alone and gives the same result again', () => {
  const [first, second] = [createCases()[0], createCases()[0]];
  const before = JSON.stringify(first.object);
  const a = JSON.parse(runCreateCase(trackUpdateManagedFields, first).json) as { metadata: { managedFields: unknown } };
  assert.equal(JSON.stringify(first.object), before);
  const b = JSON.parse(runCreateCase(trackUpdateManagedFields, second).json) as { metadata: { managedFields: unknown } };
  assert.deepEqual(a.metadata.managedFields, b.metadata.managedFields);
});

