// What a scenario hands back, the JSON written for it, and the summary table printed at the end.
// Every figure is in `results`; `baseline` holds what it is compared with (a measured reference
// or the issue's target) and `ratio` = results[ratioMetric] / baseline[ratioMetric].

import { cpus, loadavg, totalmem } from 'node:os';
import { writeFile } from 'node:fs/promises';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export interface ScenarioReport {
  scenario: string;
  params: JsonObject;
  results: JsonObject;
  baseline: JsonObject;
  /** results[ratioMetric] / baseline[ratioMetric] (dotted path). */
  ratio: number;
  ratioMetric: string;
  /** Pass/miss of the issue's targets, by name. */
  targets: { [name: string]: boolean };
  machine: JsonObject;
  startedAt: string;
  durationSeconds: number;
}

/** The machine, and its 1-minute load average at the start and end (other work on the box skews the figures). */
export function machineInfo(loadAtStart: number): JsonObject {
  const list = cpus();
  return {
    cpus: list.length, cpuModel: list[0]?.model ?? 'unknown', memoryBytes: totalmem(),
    node: process.version, platform: `${process.platform}-${process.arch}`,
    loadAverageAtStart: Math.round(loadAtStart * 100) / 100, loadAverageAtEnd: Math.round(loadavg()[0] * 100) / 100,
  };
}

export function currentLoad(): number {
  return loadavg()[0];
}

/** Reads a dotted path (`create.createsPerSecond`) out of a JSON object. */
export function valueAt(object: JsonObject, dottedPath: string): number {
  let current: JsonValue | undefined = object;
  for (const part of dottedPath.split('.')) {
    if (current === null || typeof current !== 'object' || Array.isArray(current)) return Number.NaN;
    current = current[part];
  }
  return typeof current === 'number' ? current : Number.NaN;
}

export function ratioOf(results: JsonObject, baseline: JsonObject, metric: string): number {
  const ours = valueAt(results, metric);
  const theirs = valueAt(baseline, metric);
  if (!Number.isFinite(ours) || !Number.isFinite(theirs) || theirs === 0) return Number.NaN;
  return Math.round((ours / theirs) * 1000) / 1000;
}

export async function writeJson(file: string, reports: ScenarioReport[]): Promise<void> {
  // One scenario: the object itself; several (`all`): an array of them.
  const body = reports.length === 1 ? reports[0] : reports;
  await writeFile(file, `${JSON.stringify(body, null, 2)}\n`);
}

function flatten(value: JsonValue, prefix: string, rows: [string, string][]): void {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [key, child] of Object.entries(value)) flatten(child, prefix ? `${prefix}.${key}` : key, rows);
    return;
  }
  rows.push([prefix, Array.isArray(value) ? value.map((v) => JSON.stringify(v)).join('; ') : formatScalar(value)]);
}

function formatScalar(value: JsonValue): string {
  if (typeof value === 'number') return Number.isInteger(value) && Math.abs(value) >= 10_000 ? value.toLocaleString('en-US') : String(value);
  return String(value);
}

/** A plain two-column table per scenario, for a terminal or a log. */
export function renderSummary(reports: ScenarioReport[]): string {
  const out: string[] = [];
  for (const report of reports) {
    const rows: [string, string][] = [];
    flatten(report.results, '', rows);
    const baselineRows: [string, string][] = [];
    flatten(report.baseline, '', baselineRows);
    const width = Math.max(20, ...rows.map(([k]) => k.length), ...baselineRows.map(([k]) => k.length + 9));
    out.push(`== ${report.scenario} (${report.durationSeconds.toFixed(1)} s) ${JSON.stringify(report.params)}`);
    for (const [key, value] of rows) out.push(`  ${key.padEnd(width)}  ${value}`);
    for (const [key, value] of baselineRows) out.push(`  ${`baseline.${key}`.padEnd(width)}  ${value}`);
    out.push(`  ${'ratio'.padEnd(width)}  ${report.ratio} (${report.ratioMetric}: ours / baseline)`);
    for (const [name, met] of Object.entries(report.targets)) out.push(`  ${`target ${name}`.padEnd(width)}  ${met ? 'met' : 'MISSED'}`);
    out.push('');
  }
  return out.join('\n');
}
