// managedFields bookkeeping must stay byte-for-byte what it was before it was made cheaper: the
// fixture was recorded from the previous implementation over a realistic pod's life (create,
// bind, kubelet /status writes, relabelling by another manager, server-side apply with and
// without conflicts, a node heartbeat). Replaying it twice in one process also catches a memoised
// field set being mutated by a later write.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { schemaForKind } from '../api/openapi/schema.ts';
import { serverSideApply, trackUpdateManagedFields } from '../api/patch/index.ts';
import { recordStep, runManagedFieldsScenario, type RecordedStep } from './fixtures/managed-fields-scenario.ts';

const schemas = {
  pod: schemaForKind({ group: '', version: 'v1', kind: 'Pod' })!,
  node: schemaForKind({ group: '', version: 'v1', kind: 'Node' })!,
};
const expected = JSON.parse(readFileSync(new URL('./fixtures/managed-fields-scenario.json', import.meta.url), 'utf8')) as RecordedStep[];

function checkRun(run: number): void {
  const actual = runManagedFieldsScenario({ serverSideApply, trackUpdateManagedFields }, schemas).map(recordStep);
  assert.deepEqual(actual.map((s) => s.name), expected.map((s) => s.name));
  for (const [i, step] of actual.entries()) {
    const want = expected[i];
    const where = `run ${run}, step "${step.name}"`;
    if (want.error) {
      assert.deepEqual(step.error, want.error, where);
      continue;
    }
    assert.equal(step.error, undefined, where);
    // JSON text, not deepEqual: FieldsV1 key order is part of the result.
    assert.equal(JSON.stringify(step.managedFields), JSON.stringify(want.managedFields), where);
    assert.equal(step.objectSha256, want.objectSha256, where);
  }
}

test('managedFields match the recorded implementation over a pod\'s life', () => checkRun(1));

test('replaying the same writes again gives the same result (memoised sets stay unmodified)', () => {
  checkRun(2);
  checkRun(3);
});
