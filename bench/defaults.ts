// Each scenario's options and their defaults (the full sizes), apart from the scenarios
// themselves so the CLI can show its flags without loading the benchmark machinery.

export interface CreateOptions {
  pods: number;
  concurrency: number;
  /** Also run the bare https + LevelDB baseline (needed for the ratio). */
  baseline: boolean;
  /** Also measure raw etcd puts when an etcd binary is on PATH. */
  etcd: boolean;
  /** `crd`: after the pods, the same number of custom resources of a 10-CEL-rule CRD (bench/crd-template.ts). */
  kind: 'pod' | 'crd';
}

export const CREATE_DEFAULTS: CreateOptions = { pods: 20_000, concurrency: 64, baseline: true, etcd: true, kind: 'pod' };

export interface DensityOptions {
  nodes: number;
  podsPerNode: number;
  /** Pods (of the total) created at `steadyRate` after the saturation phase. */
  steadyPods: number;
  steadyRate: number;
  concurrency: number;
}

export const DENSITY_DEFAULTS: DensityOptions = { nodes: 1000, podsPerNode: 30, steadyPods: 3000, steadyRate: 100, concurrency: 64 };

export interface ScaleOptions {
  nodes: number;
  pods: number;
  kubelets: number;
  concurrency: number;
  /** Longest wait for every pod to be Running after the creates, in seconds (0: the common --timeout). */
  runningTimeout: number;
  listSamples: number;
  getSamples: number;
}

export const SCALE_DEFAULTS: ScaleOptions = { nodes: 5000, pods: 150_000, kubelets: 1, concurrency: 64, runningTimeout: 0, listSamples: 5, getSamples: 1000 };

export interface WatchOptions {
  watchers: number;
  updates: number;
  pods: number;
  /** Updates per second; 0: as fast as accepted. */
  rate: number;
  fanout: 'node' | 'all';
}

export const WATCH_DEFAULTS: WatchOptions = { watchers: 1000, updates: 10_000, pods: 1000, rate: 200, fanout: 'node' };

export interface SchedulerBenchOptions {
  nodes: number[];
  pods: number;
  concurrency: number;
  /** The scheduler's --parallelism (bindings in flight); 0: its default. */
  parallelism: number;
}

export const SCHEDULER_DEFAULTS: SchedulerBenchOptions = { nodes: [500, 5000], pods: 10_000, concurrency: 64, parallelism: 0 };

export interface WorkloadsOptions {
  deployments: number;
  replicas: number;
  nodes: number;
  concurrency: number;
}

/** The size: 1,000 Deployments x 10 replicas on 500 nodes (10,000 pods). */
export const WORKLOADS_DEFAULTS: WorkloadsOptions = { deployments: 1000, replicas: 10, nodes: 500, concurrency: 32 };

export interface EndpointSlicesOptions {
  services: number;
  podsPerService: number;
  nodes: number;
  /** Pods whose readiness is made to fail and pass again, each change timed to its slice. */
  readinessChanges: number;
  /** Readiness changes started per second. */
  changeRate: number;
  concurrency: number;
}

/** The size: 1,000 Services x 10 pods (10,000 pods) on 200 nodes. */
export const ENDPOINTSLICES_DEFAULTS: EndpointSlicesOptions = { services: 1000, podsPerService: 10, nodes: 200, readinessChanges: 500, changeRate: 50, concurrency: 32 };

export interface UiOptions {
  nodes: number;
  pods: number;
  /** Creates per second (0: as fast as accepted). */
  rate: number;
  concurrency: number;
  /** Headless Chromium to drive (Debian's package by default). */
  chromium: string;
}

/** The size: the cluster view during a density run of 1,000 nodes and 30,000 pods. */
export const UI_DEFAULTS: UiOptions = { nodes: 1000, pods: 30000, rate: 0, concurrency: 64, chromium: '/usr/bin/chromium' };

export interface StartupOptions {
  /** Measurements of each start (server cold, server warm, startCluster) per start path. */
  runs: number;
}

export const STARTUP_DEFAULTS: StartupOptions = { runs: 20 };

export interface EncodingOptions {
  /** Pods in the LISTed namespace. */
  pods: number;
  /** LISTs per encoding in the measured batch. */
  lists: number;
  concurrency: number;
}

export const ENCODING_DEFAULTS: EncodingOptions = { pods: 10_000, lists: 10, concurrency: 32 };

export interface ExecOptions {
  /** Measured round trips (each with a GET of the pod alternated). */
  execs: number;
  /** Round trips before measuring (connections, code paths warmed). */
  warmup: number;
}

export const EXEC_DEFAULTS: ExecOptions = { execs: 1000, warmup: 20 };

export interface PortForwardOptions {
  /** MiB sent through the tunnel (and through the direct loopback copy). */
  megabytes: number;
  /** Size of each write, KiB (client-go's port-forward writes at most 32 KiB per frame). */
  chunkKib: number;
}

export const PORT_FORWARD_DEFAULTS: PortForwardOptions = { megabytes: 512, chunkKib: 32 };

export interface MetricsScrapeOptions {
  /** Pods stored before the measured scrapes. */
  pods: number;
  /** Measured scrapes of /metrics. */
  scrapes: number;
  concurrency: number;
}

/** The size: /metrics with 150,000 pods stored. */
export const METRICS_SCRAPE_DEFAULTS: MetricsScrapeOptions = { pods: 150_000, scrapes: 20, concurrency: 64 };
