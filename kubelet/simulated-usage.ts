// Simulated resource usage, as metrics-server would report it from the kubelets: per container, a deterministic wave
// around a share of what the container asked for, or the value its pod's annotations set:
//   kubefacade.io/cpu-usage:    "250m"          every container uses 250m CPU
//   kubefacade.io/memory-usage: "app=300Mi"     per container: name=quantity, comma separated
// CPU: 10–50 % of the request (else the limit, else 100m), period 5 minutes, a phase per container; memory: 45–55 % of
// the request (else the limit, else 64Mi). Usage never exceeds the limit. Values change every 15 s (metrics-server's
// default resolution) and are the same for every reader in that window. A node uses the sum of its pods plus a system
// reserve (kubelet, runtime, OS). The kubelets report the same model (/metrics/resource, /stats/summary), with CPU as a
// cumulative counter: the integral of these per-window values (cpuSecondsBetween).
import { createHash } from 'node:crypto';
import { parseQuantityExact } from '../scheduler/quantity.ts';

export const CPU_USAGE_ANNOTATION = 'kubefacade.io/cpu-usage';
export const MEMORY_USAGE_ANNOTATION = 'kubefacade.io/memory-usage';
export const RESOLUTION_MS = 15_000;
/** What the node's own processes use, on top of its pods. */
export const SYSTEM_RESERVE = { cpuCores: 0.1, memoryBytes: 512 * 1024 * 1024 };

export interface Usage {
  cpuCores: number;
  memoryBytes: number;
}

export interface ContainerLike {
  name: string;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
}

function quantity(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  try {
    const { numerator, denominator } = parseQuantityExact(String(text));
    return Number(numerator) / Number(denominator);
  } catch {
    return undefined;
  }
}

/** Reads one usage annotation: a quantity for all containers, or `name=quantity,…`. Throws on a bad quantity. */
export function parseUsageAnnotation(value: string | undefined): { all?: number; byContainer: Map<string, number> } {
  const byContainer = new Map<string, number>();
  if (value === undefined || value.trim() === '') return { byContainer };
  if (!value.includes('=')) {
    const all = quantity(value.trim());
    if (all === undefined || all < 0) throw new Error(`invalid quantity "${value.trim()}"`);
    return { all, byContainer };
  }
  for (const part of value.split(',')) {
    const eq = part.indexOf('=');
    const name = part.slice(0, eq).trim();
    const parsed = quantity(part.slice(eq + 1).trim());
    if (eq <= 0 || parsed === undefined || parsed < 0) throw new Error(`invalid quantity "${part.trim()}"`);
    byContainer.set(name, parsed);
  }
  return { byContainer };
}

function phaseOf(seed: string): number {
  return (createHash('sha256').update(seed).digest().readUInt32BE(0) / 0x1_0000_0000) * 2 * Math.PI;
}

/** The start of the 15 s window `nowMs` falls in: every value is computed at that instant. */
export function windowStart(nowMs: number): number {
  return Math.floor(nowMs / RESOLUTION_MS) * RESOLUTION_MS;
}

const WAVE_PERIOD_MS = 300_000;
/** Radians per millisecond of the usage wave. */
const OMEGA = (2 * Math.PI) / WAVE_PERIOD_MS;

export function containerUsage(
  podUid: string, container: ContainerLike, atMs: number,
  overrides: { cpu?: number; memory?: number },
): Usage {
  const requests = container.resources?.requests ?? {};
  const limits = container.resources?.limits ?? {};
  const cpuLimit = quantity(limits.cpu);
  const memoryLimit = quantity(limits.memory);
  const cpuBase = quantity(requests.cpu) ?? cpuLimit ?? 0.1;
  const memoryBase = quantity(requests.memory) ?? memoryLimit ?? 64 * 1024 * 1024;
  const phase = phaseOf(`${podUid}/${container.name}`);
  const wave = Math.sin(OMEGA * atMs + phase);
  let cpuCores = overrides.cpu ?? cpuBase * (0.3 + 0.2 * wave);
  let memoryBytes = overrides.memory ?? memoryBase * (0.5 + 0.05 * wave);
  if (cpuLimit !== undefined) cpuCores = Math.min(cpuCores, cpuLimit);
  if (memoryLimit !== undefined) memoryBytes = Math.min(memoryBytes, memoryLimit);
  return { cpuCores, memoryBytes };
}

/** Quantities as metrics-server writes them: CPU in nanocores, memory in KiB. */
export function formatUsage(usage: Usage): { cpu: string; memory: string } {
  return { cpu: `${Math.round(usage.cpuCores * 1e9)}n`, memory: `${Math.round(usage.memoryBytes / 1024)}Ki` };
}

/**
 * CPU core-seconds a container uses from `fromMs` to `toMs`: the integral of containerUsage's CPU, which holds one
 * value per 15 s window. Computed in closed form (a sum of sines over consecutive windows), so a span of days costs
 * what a span of seconds does. `cpuOverride` is the usage annotation's value, if any, taken for the whole span.
 */
export function cpuSecondsBetween(podUid: string, container: ContainerLike, fromMs: number, toMs: number, cpuOverride?: number): number {
  if (!(toMs > fromMs)) return 0;
  const cpuLimit = quantity(container.resources?.limits?.cpu);
  const cpuBase = quantity(container.resources?.requests?.cpu) ?? cpuLimit ?? 0.1;
  const phase = phaseOf(`${podUid}/${container.name}`);
  const step = OMEGA * RESOLUTION_MS;
  const clip = (cores: number): number => (cpuLimit === undefined ? cores : Math.min(cores, cpuLimit));
  const constant = cpuOverride !== undefined ? clip(cpuOverride) : undefined;
  // Valid pods never reach their limit on the wave (its peak is half the request, and requests ≤ limits): the limit
  // only matters for an override, or a spec validation would refuse; that case adds the windows one by one.
  const waveClipped = constant === undefined && cpuLimit !== undefined && cpuBase * 0.5 > cpuLimit;
  const valueAt = (window: number): number => constant ?? clip(cpuBase * (0.3 + 0.2 * Math.sin(OMEGA * window * RESOLUTION_MS + phase)));
  /** Σ valueAt(k) for k in [first, end). */
  const sum = (first: number, end: number): number => {
    const count = end - first;
    if (count <= 0) return 0;
    if (constant !== undefined) return constant * count;
    if (waveClipped) {
      let total = 0;
      for (let k = first; k < end; k++) total += valueAt(k);
      return total;
    }
    const sines = (Math.sin((count * step) / 2) * Math.sin(OMEGA * first * RESOLUTION_MS + phase + ((count - 1) * step) / 2)) / Math.sin(step / 2);
    return cpuBase * (0.3 * count + 0.2 * sines);
  };
  const firstWindow = Math.floor(fromMs / RESOLUTION_MS);
  const lastWindow = Math.floor(toMs / RESOLUTION_MS);
  if (firstWindow === lastWindow) return (valueAt(firstWindow) * (toMs - fromMs)) / 1000;
  const head = valueAt(firstWindow) * ((firstWindow + 1) * RESOLUTION_MS - fromMs);
  const tail = valueAt(lastWindow) * (toMs - lastWindow * RESOLUTION_MS);
  return (head + sum(firstWindow + 1, lastWindow) * RESOLUTION_MS + tail) / 1000;
}
