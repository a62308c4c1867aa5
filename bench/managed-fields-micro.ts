// Micro-benchmark of managedFields bookkeeping (trackUpdateManagedFields and serverSideApply)
// against a baseline implementation loaded from git in the same process, so the ratio is
// measured under the same (noisy) machine conditions. The baseline is api/patch/ at a git ref
// (default HEAD; once the faster version is committed, pass the commit before it), copied to a
// temporary directory with its imports of the rest of api/ pointed back at this checkout.
//
// Run: node --import tsx bench/managed-fields-micro.ts [--baseline REF] [--rounds 15] [--ops 300] [--only CASE]
//
// Each case replays one kind of write from a pod's life. `fresh` cases hand the bookkeeping a
// freshly parsed stored object every time (a read from storage); `chained` ones hand it the object
// the previous write returned (the watch cache's case, where memoised field sets can be reused).
// Both implementations are checked to return identical JSON before anything is timed.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { KubeObject } from '../api/object.ts';
import { schemaForKind } from '../api/openapi/schema.ts';
import * as current from '../api/patch/server-side-apply.ts';
import { benchPod, type ManagedFieldsImplementation } from '../test/fixtures/managed-fields-scenario.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BASELINE_FILES = ['field-set.ts', 'typed-value.ts', 'managed-fields.ts', 'server-side-apply.ts', 'schema-lookup.ts'];

function flag(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 && process.argv[at + 1] ? process.argv[at + 1] : fallback;
}

/** api/patch at `ref`, importable: the owned files from git, everything else from this checkout. */
async function loadBaseline(ref: string): Promise<ManagedFieldsImplementation> {
  const dir = mkdtempSync(path.join(tmpdir(), 'mf-baseline-'));
  // The modules stay loaded once imported; their files are only needed until then.
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  let identical = true;
  for (const file of BASELINE_FILES) {
    const text = execFileSync('git', ['-C', repoRoot, 'show', `${ref}:api/patch/${file}`], { encoding: 'utf8' });
    if (text !== readFileSync(path.join(repoRoot, 'api/patch', file), 'utf8')) identical = false;
    const rewritten = text
      .replace(/from '\.\.\/([^']+)'/g, (_m, rest: string) => `from '${pathToFileURL(path.join(repoRoot, 'api', rest)).href}'`)
      .replace(/from '\.\/([^']+)'/g, (m, rest: string) => (BASELINE_FILES.includes(rest) ? m : `from '${pathToFileURL(path.join(repoRoot, 'api/patch', rest)).href}'`));
    writeFileSync(path.join(dir, file), rewritten);
  }
  if (identical) console.warn(`warning: api/patch at ${ref} is the working tree; pass --baseline <older commit> for a real comparison`);
  return (await import(pathToFileURL(path.join(dir, 'server-side-apply.ts')).href)) as ManagedFieldsImplementation;
}

const podSchema = schemaForKind({ group: '', version: 'v1', kind: 'Pod' })!;
const T0 = Date.parse('2025-03-01T10:00:00Z');
const at = (seconds: number) => new Date(T0 + seconds * 1000);

type Operation = (impl: ManagedFieldsImplementation, input: KubeObject | undefined) => KubeObject;

interface Case {
  name: string;
  /** The stored object the write starts from (undefined for a create). */
  stored: KubeObject | undefined;
  /** Fresh copy per operation (a storage read) or the same object (a watch-cache hit). */
  fresh: boolean;
  run: Operation;
}

function stamp(object: KubeObject): KubeObject {
  return { ...object, metadata: { ...object.metadata, uid: 'uid-1', resourceVersion: '7', creationTimestamp: '2025-03-01T10:00:00Z' } };
}

function statusOf(phase: string, heartbeat: string, restarts: number): Record<string, unknown> {
  const running = phase === 'Running';
  return {
    phase,
    conditions: ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map((type) => ({
      type, status: running || type === 'Initialized' || type === 'PodScheduled' ? 'True' : 'False', lastProbeTime: null, lastTransitionTime: heartbeat,
    })),
    hostIP: '10.0.0.11', hostIPs: [{ ip: '10.0.0.11' }], podIP: '10.244.1.17', podIPs: [{ ip: '10.244.1.17' }],
    startTime: '2025-03-01T10:00:02Z', qosClass: 'Burstable',
    containerStatuses: ['log-shipper', 'web'].map((name) => ({
      name, image: `${name}:1`, imageID: '', ready: running, restartCount: restarts, started: running,
      state: running ? { running: { startedAt: heartbeat } } : { waiting: { reason: 'ContainerCreating' } }, lastState: {},
    })),
  };
}

/** The writes of one pod's life, built once with the current implementation. */
function buildCases(): Case[] {
  const track = (old: KubeObject | undefined, updated: KubeObject, manager: string, seconds: number, subresource?: string) =>
    current.trackUpdateManagedFields({ old, updated, manager, schema: podSchema, apiVersion: 'v1', now: at(seconds), subresource });
  const created = stamp(track(undefined, benchPod(1), 'kubectl-create', 0));
  const bound = stamp(track(created, { ...created, spec: { ...(created.spec as object), nodeName: 'node-1' } }, 'kube-scheduler', 1));
  const pending = stamp(track(bound, { ...bound, status: statusOf('Pending', '2025-03-01T10:00:02Z', 0) }, 'kubelet', 2, 'status'));
  const running = stamp(track(pending, { ...pending, status: statusOf('Running', '2025-03-01T10:00:06Z', 0) }, 'kubelet', 6, 'status'));
  const nextStatus = statusOf('Running', '2025-03-01T10:00:06Z', 1);
  const relabelled = (object: KubeObject): KubeObject => ({ ...object, metadata: { ...object.metadata, labels: { ...object.metadata.labels, 'pod-template-hash': 'abc' } } });
  const applied: KubeObject = {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-1', namespace: 'bench', labels: { app: 'bench-web', owner: 'team-a' } },
    spec: { containers: [{ name: 'web', image: 'registry.k8s.io/nginx-slim:0.27' }] },
  };
  const cases: Case[] = [
    { name: 'create', stored: undefined, fresh: true, run: (impl) => impl.trackUpdateManagedFields({ old: undefined, updated: benchPod(1), manager: 'kubectl-create', schema: podSchema, apiVersion: 'v1', now: at(0) }) },
  ];
  const updates: [string, KubeObject, (old: KubeObject) => KubeObject, string, string | undefined][] = [
    ['bind', created, (old) => ({ ...old, spec: { ...(old.spec as object), nodeName: 'node-1' } }), 'kube-scheduler', undefined],
    ['kubelet status', running, (old) => ({ ...old, status: nextStatus }), 'kubelet', 'status'],
    ['label', running, relabelled, 'kubectl-label', undefined],
  ];
  for (const fresh of [true, false]) {
    for (const [name, stored, change, manager, subresource] of updates) {
      cases.push({
        name, stored, fresh,
        run: (impl, old) => impl.trackUpdateManagedFields({ old, updated: change(old!), manager, schema: podSchema, apiVersion: 'v1', now: at(20), subresource }),
      });
    }
    cases.push({
      name: 'apply', stored: running, fresh,
      run: (impl, live) => impl.serverSideApply({ live, applied, manager: 'kubectl', force: false, schema: podSchema, apiVersion: 'v1', now: at(30) }),
    });
  }
  return cases;
}

/** Inputs for `count` operations: fresh parses of the stored object, or the same one. */
function inputsFor(c: Case, count: number): (KubeObject | undefined)[] {
  if (!c.stored) return new Array<undefined>(count).fill(undefined);
  const text = JSON.stringify(c.stored);
  return Array.from({ length: count }, () => (c.fresh ? (JSON.parse(text) as KubeObject) : c.stored));
}

let gcCount = 0;
new PerformanceObserver((list) => { gcCount += list.getEntries().length; }).observe({ entryTypes: ['gc'] });

/** Nanoseconds per operation over one batch. */
function timeBatch(c: Case, impl: ManagedFieldsImplementation, inputs: (KubeObject | undefined)[]): number {
  const start = process.hrtime.bigint();
  for (const input of inputs) c.run(impl, input);
  return Number(process.hrtime.bigint() - start) / inputs.length;
}

/** Bytes allocated per operation: heap growth over small batches that saw no garbage collection. */
function bytesPerOp(c: Case, impl: ManagedFieldsImplementation, batches: number, batchSize: number): number {
  const samples: number[] = [];
  for (let b = 0; b < batches * 4 && samples.length < batches; b++) {
    const inputs = inputsFor(c, batchSize);
    const gcBefore = gcCount;
    const before = process.memoryUsage().heapUsed;
    for (const input of inputs) c.run(impl, input);
    const after = process.memoryUsage().heapUsed;
    // The observer reports asynchronously; a shrinking heap also means a collection ran.
    if (gcCount === gcBefore && after >= before) samples.push((after - before) / batchSize);
  }
  return median(samples);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length ? sorted[Math.floor(sorted.length / 2)] : Number.NaN;
}

async function main(): Promise<void> {
  const ref = flag('baseline', 'HEAD');
  const rounds = Number(flag('rounds', '15'));
  const ops = Number(flag('ops', '300'));
  const baseline = await loadBaseline(ref);
  const impls: [string, ManagedFieldsImplementation][] = [['old', baseline], ['new', current]];
  const only = flag('only', '');
  const cases = buildCases().filter((c) => !only || c.name === only);

  for (const c of cases) {
    const [input] = inputsFor(c, 1);
    const want = JSON.stringify(c.run(baseline, input));
    const got = JSON.stringify(c.run(current, c.fresh && input ? structuredClone(input) : input));
    if (want !== got) throw new Error(`${c.name}: the implementations disagree`);
  }

  console.log(`baseline: api/patch at ${ref}; ${rounds} rounds x ${ops} ops per case, medians`);
  console.log('case                     old us/op  new us/op  speedup   old KB/op  new KB/op  alloc ratio');
  let oldTotal = 0;
  let newTotal = 0;
  let oldBytes = 0;
  let newBytes = 0;
  for (const c of cases) {
    const times: Record<string, number[]> = { old: [], new: [] };
    for (let warm = 0; warm < 3; warm++) for (const [, impl] of impls) timeBatch(c, impl, inputsFor(c, ops));
    for (let round = 0; round < rounds; round++) {
      // Alternate the order so neither implementation always runs right after input preparation.
      const order = round % 2 === 0 ? impls : [...impls].reverse();
      for (const [label, impl] of order) times[label].push(timeBatch(c, impl, inputsFor(c, ops)));
    }
    const oldNs = median(times.old);
    const newNs = median(times.new);
    const oldAlloc = bytesPerOp(c, baseline, 15, 20);
    const newAlloc = bytesPerOp(c, current, 15, 20);
    oldTotal += oldNs;
    newTotal += newNs;
    oldBytes += oldAlloc;
    newBytes += newAlloc;
    const label = `${c.name}${c.stored ? (c.fresh ? ' (fresh)' : ' (chained)') : ''}`;
    console.log(
      `${label.padEnd(24)} ${(oldNs / 1000).toFixed(1).padStart(9)}  ${(newNs / 1000).toFixed(1).padStart(9)}  ${(oldNs / newNs).toFixed(2).padStart(6)}x` +
      `  ${(oldAlloc / 1024).toFixed(1).padStart(9)}  ${(newAlloc / 1024).toFixed(1).padStart(9)}  ${(oldAlloc / newAlloc).toFixed(2).padStart(10)}x`,
    );
  }
  console.log(`all cases (sum of medians): time ${(oldTotal / newTotal).toFixed(2)}x faster, allocation ${(oldBytes / newBytes).toFixed(2)}x smaller`);
}

await main();
