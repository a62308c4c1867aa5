// Server memory per pod, in process: a WatchCache over LevelDB (wired as server/start.ts wires it)
// receives the traffic a scheduled, running pod causes — create, bind, three status updates,
// nine Events — for N pods; then, after a forced GC, heap and RSS per pod are reported, against a
// control that holds only each pod's final object and its JSON text (what any cache must keep).
// Finally continue pages at the revision of the first page (a paged LIST whose snapshot has
// since moved on: every pod changed once after it) are timed.
//
//   node --expose-gc --import tsx bench/server-memory.ts --pods 20000 [--concurrency 200]
//     [--snapshot FILE.heapsnapshot] [--settle-ms MS] [--fresh-ms MS] [--page-size N]
//
// (Re-executes itself with --expose-gc when started without it.)

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { writeHeapSnapshot } from 'node:v8';
import type { KubeObject } from '../api/object.ts';
import { LevelDbStorage } from '../storage/leveldb.ts';
import { WatchCache, type WatchCacheOptions } from '../storage/watch-cache.ts';
import { objectJson } from '../storage/object-json.ts';
import { BENCH_NAMESPACE, podTemplate } from './pod-template.ts';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  const rerun = spawnSync(process.execPath, ['--expose-gc', ...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit' });
  process.exit(rerun.status ?? 1);
}
const forceGc = gc as () => void;

const { values: flags } = parseArgs({
  options: {
    pods: { type: 'string', default: '20000' },
    concurrency: { type: 'string', default: '200' },
    snapshot: { type: 'string' },
    'settle-ms': { type: 'string', default: '0' },
    'page-size': { type: 'string', default: '500' },
    'fresh-ms': { type: 'string' },
  },
});
const podCount = Number(flags.pods);
const concurrency = Number(flags.concurrency);
const pageSize = Number(flags['page-size']);
const EVENTS_PER_POD = 9;
const NODES = Math.max(1, Math.ceil(podCount / 30));

interface MemoryFigures { heapUsed: number; rss: number; external: number }

function measure(): MemoryFigures {
  for (let i = 0; i < 3; i++) forceGc();
  const usage = process.memoryUsage();
  return { heapUsed: usage.heapUsed, rss: usage.rss, external: usage.external };
}

const podTemplateText = podTemplate({ namePrefix: 'mem-' });
function newPod(index: number): KubeObject {
  return JSON.parse(podTemplateText.replaceAll('__I__', String(index))) as KubeObject;
}

function podKey(index: number): string {
  return `/registry/pods/${BENCH_NAMESPACE}/mem-${index}`;
}

/** The pod's status as the kubelet reports it through startup: stage 0 pending … 2 running and ready. */
function podStatus(index: number, stage: number, startTime: string): Record<string, unknown> {
  const at = (offset: number): string => new Date(Date.parse(startTime) + offset * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
  const ready = stage >= 2;
  const conditionStatus = (done: boolean): string => (done ? 'True' : 'False');
  const containerStatus = (name: string, image: string) => ({
    name, image, imageID: `${image.split(':')[0]}@sha256:${'ab12'.repeat(16)}`,
    containerID: stage >= 1 ? `containerd://${(index.toString(16) + name).padEnd(64, '0')}` : undefined,
    ready, restartCount: 0, started: stage >= 1,
    state: stage >= 1 ? { running: { startedAt: at(2) } } : { waiting: { reason: 'ContainerCreating' } },
    lastState: {},
  });
  return {
    phase: stage >= 1 ? 'Running' : 'Pending',
    conditions: [
      { type: 'PodReadyToStartContainers', status: conditionStatus(stage >= 1), lastProbeTime: null, lastTransitionTime: at(1) },
      { type: 'Initialized', status: 'True', lastProbeTime: null, lastTransitionTime: at(0) },
      { type: 'Ready', status: conditionStatus(ready), lastProbeTime: null, lastTransitionTime: at(ready ? 3 : 0), ...(ready ? {} : { reason: 'ContainersNotReady', message: 'containers with unready status: [web log-shipper]' }) },
      { type: 'ContainersReady', status: conditionStatus(ready), lastProbeTime: null, lastTransitionTime: at(ready ? 3 : 0), ...(ready ? {} : { reason: 'ContainersNotReady', message: 'containers with unready status: [web log-shipper]' }) },
      { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: at(0) },
    ],
    hostIP: `10.0.${(index % NODES) >> 8}.${(index % NODES) & 255}`,
    hostIPs: [{ ip: `10.0.${(index % NODES) >> 8}.${(index % NODES) & 255}` }],
    podIP: `10.${64 + (index >> 16)}.${(index >> 8) & 255}.${index & 255}`,
    podIPs: [{ ip: `10.${64 + (index >> 16)}.${(index >> 8) & 255}.${index & 255}` }],
    startTime,
    qosClass: 'Burstable',
    containerStatuses: [containerStatus('web', 'registry.k8s.io/nginx-slim:0.27'), containerStatus('log-shipper', 'registry.k8s.io/fluent-bit:2.2.0')],
  };
}

const EVENT_REASONS: [string, string][] = [
  ['Scheduled', 'Successfully assigned bench/mem-%d to node-%n'],
  ['Pulling', 'Pulling image "registry.k8s.io/nginx-slim:0.27"'],
  ['Pulled', 'Successfully pulled image "registry.k8s.io/nginx-slim:0.27" in 1.2s'],
  ['Created', 'Created container web'],
  ['Started', 'Started container web'],
  ['Pulling', 'Pulling image "registry.k8s.io/fluent-bit:2.2.0"'],
  ['Pulled', 'Successfully pulled image "registry.k8s.io/fluent-bit:2.2.0" in 0.8s'],
  ['Created', 'Created container log-shipper'],
  ['Started', 'Started container log-shipper'],
];

function podEvent(index: number, ordinal: number, pod: KubeObject): { key: string; object: KubeObject } {
  const [reason, message] = EVENT_REASONS[ordinal];
  const name = `mem-${index}.${(0x17a0000000 + index * 16 + ordinal).toString(16)}`;
  const now = new Date().toISOString();
  return {
    key: `/registry/events/${BENCH_NAMESPACE}/${name}`,
    object: {
      apiVersion: 'v1', kind: 'Event',
      metadata: { name, namespace: BENCH_NAMESPACE, uid: crypto.randomUUID(), creationTimestamp: now },
      involvedObject: { kind: 'Pod', namespace: BENCH_NAMESPACE, name: `mem-${index}`, uid: pod.metadata.uid, apiVersion: 'v1', resourceVersion: pod.metadata.resourceVersion, ...(ordinal > 0 ? { fieldPath: `spec.containers{${ordinal < 5 ? 'web' : 'log-shipper'}}` } : {}) },
      reason, message: message.replace('%d', String(index)).replace('%n', String(index % NODES)),
      source: ordinal === 0 ? {} : { component: 'kubelet', host: `node-${index % NODES}` },
      firstTimestamp: now, lastTimestamp: now, count: 1, type: 'Normal',
      eventTime: null, reportingComponent: ordinal === 0 ? 'default-scheduler' : 'kubelet', reportingInstance: ordinal === 0 ? '' : `node-${index % NODES}`,
    } as KubeObject,
  };
}

async function podLifecycle(cache: WatchCache, index: number): Promise<void> {
  const key = podKey(index);
  const startTime = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const created = await cache.create(key, { ...newPod(index), metadata: { ...newPod(index).metadata, uid: crypto.randomUUID(), creationTimestamp: startTime } });
  const update = (change: (pod: KubeObject) => KubeObject): Promise<KubeObject> => cache.guaranteedUpdate(key, async (current) => change(current));
  const spec = (pod: KubeObject): Record<string, unknown> => pod.spec as Record<string, unknown>;
  await update((pod) => ({ ...pod, spec: { ...spec(pod), nodeName: `node-${index % NODES}` } }));
  await cache.create(podEvent(index, 0, created).key, podEvent(index, 0, created).object);
  for (let stage = 0; stage < 3; stage++) {
    await update((pod) => ({ ...pod, status: podStatus(index, stage, startTime) }));
    const firstEvent = stage === 0 ? 1 : stage === 1 ? 3 : 6;
    const lastEvent = stage === 0 ? 3 : stage === 1 ? 6 : EVENTS_PER_POD;
    for (let ordinal = firstEvent; ordinal < lastEvent; ordinal++) {
      const event = podEvent(index, ordinal, created);
      await cache.create(event.key, event.object);
    }
  }
}

function perPod(bytes: number): string {
  return `${(bytes / podCount / 1024).toFixed(2)} KiB`;
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'kubefacade-memory-'));
  const backend = await LevelDbStorage.open(dataDir, { sync: false });
  // --fresh-ms with --settle-ms shows the steady state once the history has aged out.
  const cacheOptions: WatchCacheOptions = flags['fresh-ms'] ? { eventFreshMs: Number(flags['fresh-ms']) } : {};
  const cache = await WatchCache.start(backend, cacheOptions);
  const before = measure();
  const started = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < podCount) await podLifecycle(cache, next++);
  }));
  const writeSeconds = (performance.now() - started) / 1000;
  const settleMs = Number(flags['settle-ms']);
  if (settleMs > 0) await new Promise((resolve) => setTimeout(resolve, settleMs));
  const after = measure();

  // Control: only the final pods and their texts, as held by any cache of current objects.
  const finals = (await cache.list('/registry/pods/')).items.map((pod) => JSON.stringify(pod));
  const controlBefore = measure();
  const control = finals.map((text) => { const object = JSON.parse(text) as KubeObject; objectJson(object); return object; });
  const controlFigures = measure();
  const controlHeap = controlFigures.heapUsed - controlBefore.heapUsed;
  control.length = 0;

  const heap = after.heapUsed - before.heapUsed;
  const rss = after.rss - before.rss;
  console.log(`pods ${podCount}, events ${podCount * EVENTS_PER_POD}, ${(podCount * (5 + EVENTS_PER_POD) / writeSeconds).toFixed(0)} writes/s`);
  console.log(`heap used: ${mib(heap)} (${perPod(heap)} per pod); rss: ${mib(rss)} (${perPod(rss)} per pod); external ${mib(after.external - before.external)}`);
  console.log(`control (final object + its JSON only): ${perPod(controlHeap)} per pod; beyond it: ${perPod(heap - controlHeap)} per pod`);
  const history = (cache as { historySize?: number }).historySize;
  if (history !== undefined) console.log(`history ring: ${history} events`);
  console.log(`average final pod JSON: ${(finals.reduce((sum, text) => sum + text.length, 0) / finals.length / 1024).toFixed(2)} KiB`);

  // Continue pages of a LIST whose first page was read before a burst of writes.
  const first = await cache.list('/registry/pods/', { limit: pageSize });
  // Every pod changes once after the first page, so the pages read through a full history.
  let touched = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (touched < podCount) {
      const i = touched++;
      await cache.guaranteedUpdate(podKey(i), async (pod) => ({ ...pod, metadata: { ...pod.metadata, labels: { ...pod.metadata.labels, touched: String(i) } } }));
    }
  }));
  const pageMs: number[] = [];
  let lastKey = first.lastKey;
  let listed = first.items.length;
  while (lastKey !== undefined) {
    const pageStart = performance.now();
    const page = await cache.list('/registry/pods/', { limit: pageSize, revision: first.revision, startAfterKey: lastKey });
    pageMs.push(performance.now() - pageStart);
    listed += page.items.length;
    lastKey = page.lastKey;
  }
  pageMs.sort((a, b) => a - b);
  console.log(`continue pages at an old revision: ${pageMs.length} pages of ${pageSize}, ${listed} items; p50 ${percentile(pageMs, 50).toFixed(2)} ms, p99 ${percentile(pageMs, 99).toFixed(2)} ms, max ${pageMs[pageMs.length - 1].toFixed(2)} ms`);
  if (listed !== podCount) throw new Error(`paged list returned ${listed} pods, expected ${podCount}`);

  if (flags.snapshot) console.log(`heap snapshot: ${writeHeapSnapshot(flags.snapshot)}`);
  await cache.close();
  rmSync(dataDir, { recursive: true, force: true });
}

await main();
