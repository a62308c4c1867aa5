// Scenario `endpointslices`: EndpointSlice reconciliation by the controller manager's endpoint and endpointslice
// controllers (`kubefacade controllers --controllers endpoint,endpointslice`), on a cluster of separate processes.
// S Services, then S x P pods with a readiness probe picked by their selectors; measured from two watches (pods and
// EndpointSlices) in this process: the time from the last pod seen Ready to every Service's slices holding all its
// pods ready, and, for readiness changes made afterwards (a pod's readiness probe made to fail, then to pass again,
// through the kubefacade.io/fail-probes annotation), the time from the pod's Ready condition changing to its slice
// showing the change. Also: Service creates per second in the first and second half (ClusterIP allocation stays O(1)
// per create), and the controllers' CPU and peak RSS.

import type { Agent } from 'node:https';
import type { EndpointSlicesOptions } from '../defaults.ts';
import { startBenchCluster } from '../cluster.ts';
import { BenchClient } from '../http-client.ts';
import { BENCH_NAMESPACE, podTemplate } from '../pod-template.ts';
import { cpuSeconds, sleep, spawnComponent } from '../processes.ts';
import type { JsonObject, ScenarioReport } from '../report.ts';
import { componentNodeArgs, memoryReport, mib, runScenario, stopAll, type CommonOptions } from '../scenario.ts';
import { round, summarizeLatencies } from '../stats.ts';
import { openWatch, watchAgent, type WatchEvent, type WatchStream } from '../watch-client.ts';

const SERVICES_PATH = `/api/v1/namespaces/${BENCH_NAMESPACE}/services`;
const PODS_PATH = `/api/v1/namespaces/${BENCH_NAMESPACE}/pods`;
const SLICES_PATH = `/apis/discovery.k8s.io/v1/namespaces/${BENCH_NAMESPACE}/endpointslices`;
const SERVICE_LABEL = 'bench.kubefacade.io/service';
/** The target for a readiness change to reach its slice. */
const TARGET_P99_SECONDS = 1;

interface PodShape {
  metadata?: { name?: string; labels?: Record<string, string>; resourceVersion?: string };
  status?: { conditions?: { type: string; status: string }[] };
}
interface SliceShape {
  metadata?: { name?: string; labels?: Record<string, string>; resourceVersion?: string };
  endpoints?: { conditions?: { ready?: boolean }; targetRef?: { name?: string } }[] | null;
}

function serviceName(index: number): string {
  return `bench-svc-${index}`;
}

function podBodyFor(index: number, services: number): JsonObject {
  const pod = JSON.parse(podTemplate({ namePrefix: 'ep-' }).replaceAll('__I__', String(index))) as JsonObject & {
    metadata: { labels: Record<string, string> }; spec: { containers: JsonObject[] };
  };
  pod.metadata.labels[SERVICE_LABEL] = serviceName(index % services);
  // A readiness probe the bench can make fail (failureThreshold 1: the next probe flips it).
  pod.spec.containers[0].readinessProbe = { httpGet: { path: '/ready', port: 'http' }, periodSeconds: 1, failureThreshold: 1 };
  return pod;
}

function serviceBody(index: number): JsonObject {
  return {
    apiVersion: 'v1', kind: 'Service', metadata: { name: serviceName(index), namespace: BENCH_NAMESPACE },
    spec: { selector: { [SERVICE_LABEL]: serviceName(index) }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
  };
}

/**
 * Follows pods' Ready condition and slices' endpoints through two watches, and pairs every change of a pod's
 * readiness with the moment its slice first shows it.
 */
class ReadinessObserver {
  /** pod → Ready as last seen on the pod, and when that was first seen. */
  readonly podReady = new Map<string, { ready: boolean; at: number }>();
  /** pod → ready as its slice shows it, and when that was first seen. */
  private readonly sliceReady = new Map<string, { ready: boolean; at: number }>();
  /** slice → the pods it lists (to notice a pod leaving a slice). */
  private readonly slicePods = new Map<string, Set<string>>();
  /** service → pods shown ready in its slices. */
  private readonly readyByService = new Map<string, Set<string>>();
  private readonly serviceOfPod = new Map<string, string>();
  /** Pods whose readiness changed and whose slice has not shown it yet: the change's time. */
  private readonly pending = new Map<string, { ready: boolean; at: number }>();
  /** Pod readiness changes to slice, in ms; only while `sampling`. */
  readonly samples: number[] = [];
  sampling = false;
  /** Services with at least one slice (the controller's placeholder at first). */
  readonly servicesWithSlices = new Set<string>();
  completeServices = 0;
  completeAt = 0;
  private readonly streams: WatchStream[] = [];
  private readonly agent: Agent;

  constructor(private readonly cluster: { target: Parameters<typeof watchAgent>[0] }, private readonly podsPerService: number, private readonly services: number) {
    this.agent = watchAgent(cluster.target);
  }

  async start(client: BenchClient): Promise<void> {
    for (const [path, onEvent] of [[PODS_PATH, (e: WatchEvent, at: number) => this.onPod(e, at)], [SLICES_PATH, (e: WatchEvent, at: number) => this.onSlice(e, at)]] as const) {
      const list = await client.json<{ metadata: { resourceVersion: string } }>('GET', `${path}?limit=1`);
      this.streams.push(await openWatch({
        target: this.cluster.target, agent: this.agent,
        path: `${path}?watch=1&timeoutSeconds=14400&resourceVersion=${list.metadata.resourceVersion}`, onEvent,
      }));
    }
  }

  stop(): void {
    for (const stream of this.streams) stream.close();
    this.agent.destroy();
  }

  private onPod(event: WatchEvent, at: number): void {
    const pod = event.object as PodShape;
    const name = pod.metadata?.name;
    if (!name || event.type === 'BOOKMARK') return;
    const service = pod.metadata?.labels?.[SERVICE_LABEL];
    if (service) this.serviceOfPod.set(name, service);
    if (event.type === 'DELETED') return;
    const ready = pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
    const previous = this.podReady.get(name);
    if (previous?.ready === ready || (!previous && !ready)) return;
    this.podReady.set(name, { ready, at });
    if (!this.sampling) return;
    const shown = this.sliceReady.get(name);
    // The two watches are separate streams: the slice may have shown the change before the pod's event arrived.
    if ((shown?.ready ?? false) === ready) this.samples.push(0);
    else this.pending.set(name, { ready, at });
  }

  private onSlice(event: WatchEvent, at: number): void {
    const slice = event.object as SliceShape;
    const sliceName = slice.metadata?.name;
    const service = slice.metadata?.labels?.['kubernetes.io/service-name'];
    if (!sliceName || !service || event.type === 'BOOKMARK') return;
    if (event.type !== 'DELETED') this.servicesWithSlices.add(service);
    const listed = new Map<string, boolean>();
    if (event.type !== 'DELETED') {
      for (const endpoint of slice.endpoints ?? []) {
        const pod = endpoint.targetRef?.name;
        if (pod) listed.set(pod, endpoint.conditions?.ready === true);
      }
    }
    for (const pod of this.slicePods.get(sliceName) ?? []) if (!listed.has(pod)) this.show(service, pod, false, at);
    for (const [pod, ready] of listed) this.show(service, pod, ready, at);
    this.slicePods.set(sliceName, new Set(listed.keys()));
  }

  private show(service: string, pod: string, ready: boolean, at: number): void {
    const previous = this.sliceReady.get(pod);
    if (previous?.ready !== ready) this.sliceReady.set(pod, { ready, at });
    const set = this.readyByService.get(service) ?? new Set<string>();
    this.readyByService.set(service, set);
    const wasComplete = set.size >= this.podsPerService;
    if (ready) set.add(pod);
    else set.delete(pod);
    const isComplete = set.size >= this.podsPerService;
    if (isComplete !== wasComplete) {
      this.completeServices += isComplete ? 1 : -1;
      if (this.completeServices === this.services && this.completeAt === 0) this.completeAt = at;
    }
    const waiting = this.pending.get(pod);
    if (waiting && waiting.ready === ready) {
      this.samples.push(at - waiting.at);
      this.pending.delete(pod);
    }
  }

  /** The last time a pod was first seen Ready. */
  lastReadyAt(): number {
    let last = 0;
    for (const { ready, at } of this.podReady.values()) if (ready && at > last) last = at;
    return last;
  }

  readyInSlices(pods: string[], ready: boolean): number {
    return pods.filter((pod) => (this.sliceReady.get(pod)?.ready ?? false) === ready).length;
  }

  get waiting(): number {
    return this.pending.size;
  }
}

export function runEndpointSlices(common: CommonOptions, options: EndpointSlicesOptions): Promise<ScenarioReport> {
  return runScenario('endpointslices', common, async (context) => {
    const pods = options.services * options.podsPerService;
    const timeoutMs = common.timeoutSeconds * 1000;
    const cluster = await startBenchCluster(context, { nodes: options.nodes, kubeletProcesses: 1 });
    const controllers = spawnComponent('controllers', ['controllers', '--kubeconfig', cluster.server.kubeconfigPath, '--controllers', 'endpoint,endpointslice'], {
      logDir: context.runDir, nodeArgs: componentNodeArgs(context),
    });
    const client = new BenchClient(cluster.server.target, options.concurrency);
    const observer = new ReadinessObserver({ target: cluster.server.target }, options.podsPerService, options.services);
    const waitFor = async (what: string, total: number, probe: () => number | Promise<number>): Promise<boolean> => {
      context.progress.phase(what, total);
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const done = await probe();
        context.progress.update(done);
        if (done >= total) break;
        if (controllers.exited) throw new Error(`the controller manager exited; see ${controllers.logFile}`);
        if (Date.now() > deadline) return false;
        await sleep(100);
      }
      context.progress.end();
      return true;
    };
    const inParallel = async (count: number, what: string, request: (index: number) => Promise<unknown>): Promise<number[]> => {
      context.progress.phase(what, count);
      const finishedAt: number[] = new Array<number>(count);
      let done = 0;
      await Promise.all(Array.from({ length: options.concurrency }, async (_, worker) => {
        for (let i = worker; i < count; i += options.concurrency) {
          await request(i);
          finishedAt[i] = performance.now();
          context.progress.update(++done);
        }
      }));
      context.progress.end();
      return finishedAt;
    };
    try {
      await observer.start(client);
      const cpuAtStart = cpuSeconds(controllers.pid) ?? 0;

      // Services first (each gets a ClusterIP from the allocator), then their pods.
      const servicesStart = performance.now();
      const serviceDone = await inParallel(options.services, 'services: creating', (i) => client.json('POST', SERVICES_PATH, serviceBody(i)));
      const half = Math.floor(options.services / 2);
      const halfAt = Math.max(...serviceDone.slice(0, Math.max(half, 1)));
      const lastServiceAt = Math.max(...serviceDone);
      const firstHalfRate = Math.max(half, 1) / ((halfAt - servicesStart) / 1000);
      const secondHalfRate = (options.services - half) / Math.max((lastServiceAt - halfAt) / 1000, 0.001);

      // Every service's placeholder slice: the controllers are up and have seen every service before any pod exists.
      const placeholders = await waitFor('services: placeholder slices', options.services, () => observer.servicesWithSlices.size);
      if (!placeholders) throw new Error('the endpointslice controller did not make a slice for every service in time');
      await inParallel(pods, 'pods: creating', (i) => client.json('POST', PODS_PATH, podBodyFor(i, options.services)));
      const allReady = await waitFor('pods: Ready', pods, () => [...observer.podReady.values()].filter((p) => p.ready).length);
      const slicesComplete = await waitFor('slices: every service complete', options.services, () => observer.completeServices);
      const lastReadyToCompleteSeconds = Math.max(0, (observer.completeAt - observer.lastReadyAt()) / 1000);

      // Readiness changes: a set of pods made unready, then ready again; each change timed to its slice.
      const flips = Math.min(options.readinessChanges, pods);
      const stride = Math.max(1, Math.floor(pods / flips));
      const chosen = Array.from({ length: flips }, (_, k) => `ep-${k * stride}`);
      observer.sampling = true;
      const annotate = (value: string | null) => (i: number): Promise<unknown> => client.json('PATCH', `${PODS_PATH}/${chosen[i]}`,
        { metadata: { annotations: { 'kubefacade.io/fail-probes': value } } }, { 'content-type': 'application/merge-patch+json' });
      const paced = async (what: string, request: (i: number) => Promise<unknown>): Promise<void> => {
        context.progress.phase(what, flips);
        const gapMs = 1000 / options.changeRate;
        const start = performance.now();
        const inFlight: Promise<unknown>[] = [];
        for (let i = 0; i < flips; i++) {
          const due = start + i * gapMs;
          const wait = due - performance.now();
          if (wait > 0) await sleep(wait);
          inFlight.push(request(i).then(() => context.progress.update(i + 1)));
        }
        await Promise.all(inFlight);
        context.progress.end();
      };
      await paced('readiness: failing', annotate('readiness'));
      const unreadyShown = await waitFor('readiness: unready in slices', flips, () => observer.readyInSlices(chosen, false));
      await paced('readiness: passing again', annotate(null));
      const readyShown = await waitFor('readiness: ready in slices', flips, () => observer.readyInSlices(chosen, true));
      observer.sampling = false;
      const latency = summarizeLatencies(observer.samples);
      const controllerCpuSeconds = (cpuSeconds(controllers.pid) ?? cpuAtStart) - cpuAtStart;
      const controllerMemory = controllers.memory();
      const p99Seconds = latency.p99Ms / 1000;
      return {
        params: { ...options, pods },
        results: {
          lastReadyToSlicesCompleteSeconds: round(lastReadyToCompleteSeconds),
          readinessToSliceMs: { p50: latency.p50Ms, p99: latency.p99Ms, max: latency.maxMs, samples: latency.count, unmatched: observer.waiting },
          readinessToSliceP99Seconds: round(p99Seconds, 3),
          serviceCreatesPerSecond: { firstHalf: round(firstHalfRate, 1), secondHalf: round(secondHalfRate, 1) },
          allReady, slicesComplete, unreadyShown, readyShown,
          controllers: { cpuSeconds: round(controllerCpuSeconds), peakRssMiB: mib(controllerMemory?.peakRssBytes ?? 0) },
          memory: memoryReport([...cluster.processes, controllers]),
        },
        baseline: {
          readinessToSliceP99Seconds: TARGET_P99_SECONDS,
          source: 'the issue\'s target: a readiness change reaches its slice within 1 s at p99 (1,000 Services x 10 pods)',
        },
        ratioMetric: 'readinessToSliceP99Seconds',
        targets: {
          'readiness change to slice p99 <= 1 s': allReady && readyShown && unreadyShown && p99Seconds <= TARGET_P99_SECONDS,
          // A bitmap allocator keeps the second half of the creates as fast as the first, within this machine's noise.
          'ClusterIP allocation O(1): second-half creates >= 0.5x first-half': secondHalfRate >= firstHalfRate * 0.5,
        },
      };
    } finally {
      observer.stop();
      client.close();
      await stopAll([controllers]);
      await cluster.stop();
    }
  });
}
