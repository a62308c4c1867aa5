// Summarises a V8 .cpuprofile (node --cpu-prof): self time per function and per file, highest
// first, so a benchmark run's hot paths can be read without a profiler UI.
// Run: node --import tsx bench/profile-summary.ts FILE.cpuprofile [--top 25]

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface SelfTime {
  name: string;
  selfMs: number;
  share: number;
}

export interface ProfileSummary {
  totalMs: number;
  /** Share of samples in (idle) or (program)/(garbage collector). */
  idleShare: number;
  gcShare: number;
  functions: SelfTime[];
  files: SelfTime[];
}

function shortUrl(url: string): string {
  if (!url) return '';
  const file = url.startsWith('file://') ? fileURLToPath(url) : url;
  const nodeModules = file.lastIndexOf('node_modules/');
  if (nodeModules >= 0) return file.slice(nodeModules + 'node_modules/'.length);
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  return file.startsWith(root) ? path.relative(root, file) : file;
}

export function summarizeProfile(profile: CpuProfile, top = 25): ProfileSummary {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const functions = new Map<string, number>();
  const files = new Map<string, number>();
  let total = 0;
  let idle = 0;
  let gc = 0;
  for (const [id, us] of selfUs) {
    const frame = (byId.get(id) as ProfileNode).callFrame;
    total += us;
    if (frame.functionName === '(idle)') idle += us;
    if (frame.functionName === '(garbage collector)') gc += us;
    const file = shortUrl(frame.url);
    const name = `${frame.functionName || '(anonymous)'} ${file ? `${file}:${frame.lineNumber + 1}` : ''}`.trim();
    functions.set(name, (functions.get(name) ?? 0) + us);
    const fileKey = file || frame.functionName;
    files.set(fileKey, (files.get(fileKey) ?? 0) + us);
  }
  const rank = (map: Map<string, number>): SelfTime[] => [...map.entries()]
    .sort((a, b) => b[1] - a[1]).slice(0, top)
    .map(([name, us]) => ({ name, selfMs: Math.round(us / 1000), share: Math.round((us / total) * 1000) / 10 }));
  return { totalMs: Math.round(total / 1000), idleShare: idle / total, gcShare: gc / total, functions: rank(functions), files: rank(files) };
}

export function renderProfileSummary(summary: ProfileSummary): string {
  const lines = [
    `total ${summary.totalMs} ms, idle ${(summary.idleShare * 100).toFixed(1)}%, GC ${(summary.gcShare * 100).toFixed(1)}%`,
    'self time by function:',
    ...summary.functions.map((f) => `  ${f.share.toFixed(1).padStart(5)}%  ${String(f.selfMs).padStart(7)} ms  ${f.name}`),
    'self time by file:',
    ...summary.files.map((f) => `  ${f.share.toFixed(1).padStart(5)}%  ${String(f.selfMs).padStart(7)} ms  ${f.name}`),
  ];
  return lines.join('\n');
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: profile-summary.ts FILE.cpuprofile [--top N]');
    process.exit(2);
  }
  const topAt = process.argv.indexOf('--top');
  const top = topAt > 0 ? Number(process.argv[topAt + 1]) : 25;
  console.log(renderProfileSummary(summarizeProfile(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, top)));
}
