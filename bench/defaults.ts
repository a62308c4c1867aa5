// Each scenario's options and their defaults (the full sizes), apart from the scenarios
// themselves so the CLI can show its flags without loading the benchmark machinery.

export interface CreateOptions {
  pods: number;
  concurrency: number;
  /** Also run the bare https + LevelDB baseline (needed for the ratio). */
  baseline: boolean;
  /** Also measure raw etcd puts when an etcd binary is on PATH. */
  etcd: boolean;
}

export const CREATE_DEFAULTS: CreateOptions = { pods: 20_000, concurrency: 64, baseline: true, etcd: true };

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

export interface EncodingOptions {
  /** Pods in the LISTed namespace. */
  pods: number;
  /** LISTs per encoding in the measured batch. */
  lists: number;
  concurrency: number;
}

export const ENCODING_DEFAULTS: EncodingOptions = { pods: 10_000, lists: 10, concurrency: 32 };
