import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  decideEviction, matchingTolerations, minTolerationMs, noExecuteTaints, toleratesTaint, type Taint, type Toleration,
} from '../controllers/taint-eviction/eviction-timing.ts';
import { TimedEvictions } from '../controllers/taint-eviction/timed-evictions.ts';

const dedicated: Taint = { key: 'dedicated', value: 'db', effect: 'NoExecute' };
const notReady: Taint = { key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' };
const NOW = 1_000_000;

describe('taint eviction timing', () => {
  test('only NoExecute taints count', () => {
    assert.deepEqual(noExecuteTaints([{ key: 'a', effect: 'NoSchedule' }, dedicated, { key: 'b', effect: 'PreferNoSchedule' }]), [dedicated]);
  });

  test('toleration matching follows ToleratesTaint (key, operator, value, effect)', () => {
    assert.equal(toleratesTaint({ key: 'dedicated', operator: 'Equal', value: 'db', effect: 'NoExecute' }, dedicated), true);
    assert.equal(toleratesTaint({ key: 'dedicated', value: 'db' }, dedicated), true, 'empty operator is Equal, empty effect matches all');
    assert.equal(toleratesTaint({ key: 'dedicated', value: 'web', effect: 'NoExecute' }, dedicated), false);
    assert.equal(toleratesTaint({ key: 'dedicated', operator: 'Exists', effect: 'NoSchedule' }, dedicated), false);
    assert.equal(toleratesTaint({ operator: 'Exists' }, dedicated), true, 'empty key with Exists tolerates everything');
    assert.equal(toleratesTaint({ key: 'dedicated', operator: 'Gt', value: 'db' }, dedicated), false);
  });

  test('matchingTolerations: the first tolerating toleration per taint, undefined when one is not tolerated', () => {
    const first: Toleration = { key: 'dedicated', operator: 'Exists', tolerationSeconds: 30 };
    const second: Toleration = { operator: 'Exists', tolerationSeconds: 5 };
    assert.deepEqual(matchingTolerations([dedicated], [first, second]), [first]);
    assert.deepEqual(matchingTolerations([dedicated, notReady], [first, second]), [first, second]);
    assert.equal(matchingTolerations([dedicated, notReady], [first]), undefined);
  });

  test('minTolerationMs: smallest tolerationSeconds, 0 for none or <= 0, Infinity when unbounded', () => {
    assert.equal(minTolerationMs([]), 0);
    assert.equal(minTolerationMs([{ tolerationSeconds: 30 }, { tolerationSeconds: 5 }, {}]), 5000);
    assert.equal(minTolerationMs([{ tolerationSeconds: 30 }, { tolerationSeconds: -1 }]), 0);
    assert.equal(minTolerationMs([{ tolerationSeconds: 0 }]), 0);
    assert.equal(minTolerationMs([{}, { operator: 'Exists' }]), Infinity);
  });

  test('an untolerated taint evicts at once', () => {
    assert.deepEqual(decideEviction([dedicated], [], NOW, undefined), { kind: 'evict-now' });
    assert.deepEqual(decideEviction([dedicated], [{ key: 'other', operator: 'Exists' }], NOW, undefined), { kind: 'evict-now' });
  });

  test('a toleration with tolerationSeconds schedules the eviction that many seconds later', () => {
    const tolerations = [{ key: 'dedicated', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 5 }];
    assert.deepEqual(decideEviction([dedicated], tolerations, NOW, undefined), { kind: 'schedule', createdAtMs: NOW, fireAtMs: NOW + 5000 });
  });

  test('with several taints the smallest tolerationSeconds among the matching tolerations wins', () => {
    const tolerations = [
      { key: 'dedicated', operator: 'Exists', tolerationSeconds: 60 },
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      { operator: 'Exists', tolerationSeconds: 1 }, // never used: each taint already matched an earlier toleration
    ];
    assert.deepEqual(decideEviction([dedicated, notReady], tolerations, NOW, undefined), { kind: 'schedule', createdAtMs: NOW, fireAtMs: NOW + 60_000 });
  });

  test('tolerating forever, or no NoExecute taint left, cancels', () => {
    assert.deepEqual(decideEviction([dedicated], [{ key: 'dedicated', operator: 'Exists' }], NOW, undefined), { kind: 'cancel' });
    assert.deepEqual(decideEviction([], [], NOW, { createdAtMs: NOW - 1000, fireAtMs: NOW + 4000 }), { kind: 'cancel' });
  });

  test('an eviction scheduled earlier stands: its deadline counts from when it was first scheduled', () => {
    const tolerations = [{ key: 'dedicated', operator: 'Exists', tolerationSeconds: 5 }];
    const scheduled = { createdAtMs: NOW - 3000, fireAtMs: NOW + 2000 };
    assert.deepEqual(decideEviction([dedicated], tolerations, NOW, scheduled), { kind: 'keep' });
  });

  test('a pod update lifting the matching toleration\'s tolerationSeconds cancels the scheduled eviction', () => {
    const scheduled = { createdAtMs: NOW - 3000, fireAtMs: NOW + 2000 };
    assert.deepEqual(decideEviction([dedicated], [{ key: 'dedicated', operator: 'Exists' }], NOW, scheduled), { kind: 'cancel' });
  });

  test('a toleration added after one that already matches changes nothing (the first match counts, as upstream)', () => {
    const scheduled = { createdAtMs: NOW - 3000, fireAtMs: NOW + 2000 };
    const tolerations = [{ key: 'dedicated', operator: 'Exists', tolerationSeconds: 5 }, { key: 'dedicated', operator: 'Exists' }];
    assert.deepEqual(decideEviction([dedicated], tolerations, NOW, scheduled), { kind: 'keep' });
  });

  test('a toleration added for a second taint that was not tolerated: evicted at once before, scheduled after', () => {
    const tolerations: Toleration[] = [{ key: 'dedicated', operator: 'Exists', tolerationSeconds: 5 }];
    assert.deepEqual(decideEviction([dedicated, notReady], tolerations, NOW, undefined), { kind: 'evict-now' });
    const added = [...tolerations, { key: notReady.key, operator: 'Exists', effect: 'NoExecute' }];
    assert.deepEqual(decideEviction([dedicated, notReady], added, NOW, undefined), { kind: 'schedule', createdAtMs: NOW, fireAtMs: NOW + 5000 });
  });
});

describe('timed evictions', () => {
  test('fire at the deadline, once; cancel before it stops them; a fired one is remembered until cancelled', async () => {
    const fired: string[] = [];
    const queue = new TimedEvictions((key) => fired.push(key), Date.now);
    const start = Date.now();
    queue.add('ns/late', start, start + 150);
    queue.add('ns/cancelled', start, start + 50);
    queue.add('ns/now', start, start);
    assert.deepEqual(fired, ['ns/now'], 'a deadline already passed fires at once');
    assert.deepEqual(queue.pending('ns/late'), { createdAtMs: start, fireAtMs: start + 150 });
    assert.equal(queue.cancel('ns/cancelled'), true);
    assert.equal(queue.cancel('ns/unknown'), false);
    await new Promise((resolve) => setTimeout(resolve, 250));
    assert.deepEqual(fired, ['ns/now', 'ns/late']);
    assert.equal(queue.firing('ns/late'), true);
    assert.equal(queue.pending('ns/late'), undefined);
    queue.add('ns/late', Date.now(), Date.now());
    assert.deepEqual(fired, ['ns/now', 'ns/late'], 'a fired eviction is not scheduled again');
    assert.equal(queue.cancel('ns/late'), true, 'cancelling a fired eviction counts (upstream emits the Cancelling event)');
    queue.stop();
  });
});
