// `npm run conformance`: runs test/conformance/*.test.ts and reports, against the Kubernetes
// conformance catalogue classified in test/conformance/classification.yaml, how many entries are
// applicable, implemented (a test named exactly after the entry's testname ran) and passing,
// overall and by SIG. An entry classified not-served counts as applicable once a test for it
// exists (other kinds land with their tests). Exits 1 when a conformance test fails, an applicable
// entry has no test, or the classification does not cover the catalogue.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';

interface Classified {
  testname: string;
  codename: string;
  sig: string;
  status: 'applicable' | 'not-served' | 'not-applicable';
  kinds?: string[];
  category?: string;
  reason?: string;
}

interface TestResult { name: string; file: string; passed: boolean; skipped: boolean; suite?: boolean }

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CONFORMANCE_DIR = join(ROOT, 'test', 'conformance');
const UPSTREAM = process.env.CONFORMANCE_YAML ?? resolve(ROOT, '..', 'shared', 'k8s-conformance', 'conformance.yaml');

function loadClassification(): Classified[] {
  const entries = parseYaml(readFileSync(join(CONFORMANCE_DIR, 'classification.yaml'), 'utf8')) as Classified[];
  const problems: string[] = [];
  if (existsSync(UPSTREAM)) {
    const upstream = parseYaml(readFileSync(UPSTREAM, 'utf8')) as { testname: string; codename: string }[];
    const classified = new Map(entries.map((e) => [e.codename, e]));
    for (const entry of upstream) {
      const found = classified.get(entry.codename);
      if (!found) problems.push(`not classified: ${entry.codename}`);
      else if (found.testname !== entry.testname) problems.push(`testname differs for ${entry.codename}: ${found.testname}`);
    }
    if (upstream.length !== entries.length) problems.push(`the catalogue has ${upstream.length} entries, the classification ${entries.length}`);
  }
  for (const entry of entries) {
    if (!['applicable', 'not-served', 'not-applicable'].includes(entry.status)) problems.push(`bad status for ${entry.codename}`);
    if (entry.status === 'not-served' && !entry.kinds?.length) problems.push(`not-served without kinds: ${entry.codename}`);
    if (entry.status === 'not-applicable' && !entry.reason) problems.push(`not-applicable without a reason: ${entry.codename}`);
  }
  if (problems.length > 0) throw new Error(`test/conformance/classification.yaml:\n  ${problems.join('\n  ')}`);
  return entries;
}

async function runConformanceTests(): Promise<{ results: TestResult[]; exitCode: number }> {
  const files = readdirSync(CONFORMANCE_DIR).filter((f) => f.endsWith('.test.ts')).sort().map((f) => join('test', 'conformance', f));
  const out = mkdtempSync(join(tmpdir(), 'kubefacade-conformance-'));
  const resultsFile = join(out, 'results.jsonl');
  const args = [
    '--import', 'tsx', '--test', '--test-concurrency=2',
    '--test-reporter', join(ROOT, 'scripts', 'conformance-reporter.mjs'), '--test-reporter-destination', resultsFile,
    '--test-reporter', 'spec', '--test-reporter-destination', 'stderr',
    ...files,
  ];
  const exitCode = await new Promise<number>((done) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('close', (code) => done(code ?? 1));
  });
  const results = existsSync(resultsFile)
    ? readFileSync(resultsFile, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as TestResult)
    : [];
  rmSync(out, { recursive: true, force: true });
  return { results, exitCode };
}

interface Row { applicable: number; implemented: number; passing: number; total: number }

function pad(text: string, width: number, right = false): string {
  return right ? text.padStart(width) : text.padEnd(width);
}

async function main(): Promise<void> {
  const entries = loadClassification();
  const { results, exitCode } = await runConformanceTests();
  const byName = new Map<string, TestResult[]>();
  for (const result of results) byName.set(result.name, [...(byName.get(result.name) ?? []), result]);

  const rows = new Map<string, Row>();
  const total: Row = { applicable: 0, implemented: 0, passing: 0, total: 0 };
  const missing: Classified[] = [];
  const failing: string[] = [];
  const earlyNotServed: Classified[] = [];
  const earlyNotApplicable: Classified[] = [];
  for (const entry of entries) {
    const row = rows.get(entry.sig) ?? { applicable: 0, implemented: 0, passing: 0, total: 0 };
    rows.set(entry.sig, row);
    const tests = byName.get(entry.testname) ?? [];
    const implemented = tests.length > 0;
    const passing = implemented && tests.every((t) => t.passed);
    if (implemented && entry.status === 'not-served') earlyNotServed.push(entry);
    if (implemented && entry.status === 'not-applicable') earlyNotApplicable.push(entry);
    const applicable = entry.status === 'applicable' || (implemented && entry.status === 'not-served');
    for (const r of [row, total]) {
      r.total += 1;
      if (applicable) r.applicable += 1;
      if (applicable && implemented) r.implemented += 1;
      if (applicable && passing) r.passing += 1;
    }
    if (applicable && !implemented) missing.push(entry);
    if (implemented && !passing) failing.push(entry.testname);
  }

  const lines = ['', '| SIG | entries | applicable | implemented | passing |', '| --- | ---: | ---: | ---: | ---: |'];
  for (const [sig, row] of [...rows].sort(([a], [b]) => a.localeCompare(b))) {
    lines.push(`| ${sig} | ${row.total} | ${row.applicable} | ${row.implemented} | ${row.passing} |`);
  }
  lines.push(`| **all** | ${total.total} | ${total.applicable} | ${total.implemented} | ${total.passing} |`);
  const counts = (status: Classified['status']) => entries.filter((e) => e.status === status).length;
  lines.push('', `classified: ${counts('applicable')} applicable, ${counts('not-served')} not served yet, ${counts('not-applicable')} not applicable`);
  for (const entry of earlyNotServed) lines.push(`implemented although classified not served (${entry.kinds?.join(', ')}): ${entry.testname}`);
  for (const entry of earlyNotApplicable) lines.push(`implemented although classified not applicable: ${entry.testname}`);
  for (const entry of missing) lines.push(`${pad('NOT IMPLEMENTED', 16)} ${entry.testname}`);
  for (const name of new Set(failing)) lines.push(`${pad('FAILING', 16)} ${name}`);
  // Any test name that is not a testname is a typo to fix (describe blocks group tests and are not counted).
  const known = new Set(entries.map((e) => e.testname));
  const stray = [...new Set(results.filter((r) => !r.suite).map((r) => r.name))].filter((name) => !known.has(name) && !name.startsWith('conformance: '));
  for (const name of stray) lines.push(`${pad('UNKNOWN NAME', 16)} ${name}`);
  console.log(lines.join('\n'));
  process.exitCode = exitCode !== 0 || missing.length > 0 || failing.length > 0 || stray.length > 0 ? 1 : 0;
}

await main();
