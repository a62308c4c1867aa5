// Latency and rate summaries for benchmark results. Percentiles use the nearest-rank method on a
// sorted copy (what load tools such as wrk and k6 report), so p99 of 100 samples is the 99th value.

export interface LatencySummary {
  count: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
}

/** Nearest-rank percentile of an ascending array; NaN for an empty one. */
export function percentile(sorted: ArrayLike<number>, fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(fraction * sorted.length)));
  return sorted[rank - 1];
}

export function summarizeLatencies(samples: ArrayLike<number>): LatencySummary {
  const sorted = Float64Array.from(samples).sort();
  let total = 0;
  for (const value of sorted) total += value;
  return {
    count: sorted.length,
    p50Ms: round(percentile(sorted, 0.5)),
    p90Ms: round(percentile(sorted, 0.9)),
    p99Ms: round(percentile(sorted, 0.99)),
    maxMs: round(sorted.length ? sorted[sorted.length - 1] : Number.NaN),
    meanMs: round(sorted.length ? total / sorted.length : Number.NaN),
  };
}

/** Two decimals: enough for milliseconds, and keeps the JSON readable. */
export function round(value: number, digits = 2): number {
  if (!Number.isFinite(value)) return value;
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/** Events per second over a span given in milliseconds (0 when the span is empty). */
export function ratePerSecond(count: number, spanMs: number): number {
  return spanMs > 0 ? round((count * 1000) / spanMs, 1) : 0;
}

/** Wall-clock milliseconds since the epoch with sub-millisecond resolution, comparable across threads and processes. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}
