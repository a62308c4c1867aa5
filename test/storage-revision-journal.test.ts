// The LevelDB backend's in-memory journal of which key each recent revision wrote: the unit
// itself, and continue pages at an old revision read the same whether the changed keys come from
// the journal (revisions this process wrote) or from the change log (revisions written before a
// restart, or partly both).

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeObject } from '../api/object.ts';
import { LevelDbStorage } from '../storage/leveldb.ts';
import { RevisionJournal } from '../storage/leveldb-revision-journal.ts';

describe('revision journal', () => {
  test('holds one key per revision from its start, forgets a prefix, and restarts after a gap', () => {
    const journal = new RevisionJournal(11);
    for (let revision = 11; revision <= 3_000; revision++) journal.append(revision, `k${revision}`);
    assert.deepEqual([journal.firstRevision, journal.lastRevision, journal.keyAt(11), journal.keyAt(3_000)], [11, 3_000, 'k11', 'k3000']);
    journal.forgetThrough(2_500); // past the copy-down threshold
    assert.deepEqual([journal.firstRevision, journal.lastRevision, journal.keyAt(2_501), journal.keyAt(3_000)], [2_501, 3_000, 'k2501', 'k3000']);
    journal.append(3_001, 'k3001');
    assert.equal(journal.keyAt(3_001), 'k3001');
    journal.forgetThrough(10_000);
    assert.ok(journal.lastRevision < journal.firstRevision, 'empty after forgetting past its end');
    journal.append(3_002, 'k3002');
    assert.deepEqual([journal.firstRevision, journal.lastRevision, journal.keyAt(3_002)], [3_002, 3_002, 'k3002']);
    journal.append(3_010, 'k3010'); // a gap: the entries before it can no longer be placed
    assert.deepEqual([journal.firstRevision, journal.lastRevision, journal.keyAt(3_010)], [3_010, 3_010, 'k3010']);
  });
});

describe('continue pages at an old revision, with and without the journal', () => {
  const pod = (name: string, version: number): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'ns' }, spec: { version } } as KubeObject);
  const key = (i: number) => `/registry/pods/ns/p${String(i).padStart(3, '0')}`;

  /** Random creates, updates and deletes of 60 keys; other keys (events) written in between. */
  async function churn(storage: LevelDbStorage, model: Map<string, number>, writes: number, seed: { value: number }): Promise<void> {
    const random = () => (seed.value = (seed.value * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648;
    for (let n = 0; n < writes; n++) {
      const k = key(Math.floor(random() * 60));
      const current = model.get(k);
      const roll = random();
      if (current === undefined) {
        await storage.create(k, pod(k, 0));
        model.set(k, 0);
      } else if (roll < 0.15) {
        await storage.delete(k);
        model.delete(k);
      } else {
        await storage.guaranteedUpdate(k, (object) => ({ ...object, spec: { version: current + 1 } } as KubeObject));
        model.set(k, current + 1);
      }
      if (roll > 0.8) await storage.create(`/registry/events/ns/e${seed.value}`, { apiVersion: 'v1', kind: 'Event', metadata: { name: `e${seed.value}`, namespace: 'ns' } } as KubeObject);
    }
  }

  async function pagesAt(storage: LevelDbStorage, revision: number, startAfterKey: string | undefined): Promise<[string, number][]> {
    const seen: [string, number][] = [];
    let after = startAfterKey;
    do {
      const page = await storage.list('/registry/pods/', { limit: 7, startAfterKey: after, revision });
      page.items.forEach((item, i) => seen.push([(page.keys as string[])[i], (item.spec as { version: number }).version]));
      after = page.lastKey;
    } while (after !== undefined);
    return seen;
  }

  for (const restart of ['no restart: keys from the journal', 'restart before the next page: keys from the log', 'restart in between: log, then journal'] as const) {
    test(restart, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'kubefacade-journal-'));
      const options = { historyMs: 0, historyRevisions: 1_000_000 };
      let storage = await LevelDbStorage.open(dir, options);
      try {
        const model = new Map<string, number>();
        const seed = { value: 42 };
        await churn(storage, model, 200, seed);
        const first = await storage.list('/registry/pods/', { limit: 7 });
        const expected = [...model.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).filter(([k]) => k > (first.lastKey as string));
        if (restart === 'restart in between: log, then journal') {
          await churn(storage, model, 150, seed);
          await storage.close();
          storage = await LevelDbStorage.open(dir, options);
          await churn(storage, model, 150, seed);
        } else {
          await churn(storage, model, 300, seed);
          if (restart === 'restart before the next page: keys from the log') {
            await storage.close();
            storage = await LevelDbStorage.open(dir, options);
          }
        }
        assert.deepEqual(await pagesAt(storage, first.revision, first.lastKey), expected);
      } finally {
        await storage.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
