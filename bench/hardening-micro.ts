// Micro-benchmarks for issue 13's defences:
//  - the cost of freezing the built-in prototypes (server/harden-intrinsics.ts) on the work one
//    write does: decode, strategic merge patch, schema validation, copy, encode. Freezing is
//    process-wide and cannot be undone, so each side runs in its own child process, alternating,
//    and the medians are compared under the same (noisy) machine conditions;
//  - strategic merge patch over large lists (linear since issue 13, item 10).
//
// Run: node --import tsx bench/hardening-micro.ts [--rounds 6] [--ops 20000] [--containers 20000]

import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { KubeObject } from '../api/object.ts';
import { deepCopy } from '../api/object.ts';
import { schemaForKind } from '../api/openapi/schema.ts';
import { validateObject } from '../api/openapi/validator.ts';
import { applyStrategicMergePatch } from '../api/patch/strategic-merge.ts';
import { hardenIntrinsics } from '../server/harden-intrinsics.ts';

function flag(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 && process.argv[at + 1] ? Number(process.argv[at + 1]) : fallback;
}

const gvk = { group: '', version: 'v1', kind: 'Pod' };
const schema = schemaForKind(gvk)!;

/** One write's worth of request-data handling, `ops` times; returns µs per op. */
function writePipeline(ops: number): number {
  const pod = {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'd', labels: { app: 'x', tier: 'web' }, annotations: { a: 'b' } },
    spec: { containers: Array.from({ length: 3 }, (_, i) => ({ name: `c${i}`, image: 'nginx', ports: [{ containerPort: 80 + i }], env: [{ name: 'A', value: 'b' }], resources: { limits: { cpu: '1' } } })) },
  };
  const text = JSON.stringify(pod);
  const patch = JSON.stringify({ metadata: { labels: { x: 'y' } }, spec: { containers: [{ name: 'c1', image: 'nginx:2' }] } });
  let checksum = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < ops; i++) {
    const patched = applyStrategicMergePatch(JSON.parse(text) as KubeObject, JSON.parse(patch), schema);
    validateObject(gvk, patched);
    checksum += JSON.stringify(deepCopy(patched)).length;
  }
  const micros = Number(process.hrtime.bigint() - start) / 1e3 / ops;
  if (checksum === 0) throw new Error('nothing was encoded');
  return micros;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const mode = process.argv[2];
if (mode === 'child-plain' || mode === 'child-hardened') {
  // As the server does: freeze once the modules are loaded, before any request is served.
  if (mode === 'child-hardened') hardenIntrinsics();
  writePipeline(2000); // warm-up: compile the validator, tier up the hot functions
  process.stdout.write(String(writePipeline(flag('ops', 20000))));
} else {
  const rounds = flag('rounds', 6);
  const ops = flag('ops', 20000);
  const self = fileURLToPath(import.meta.url);
  const results: Record<string, number[]> = { plain: [], hardened: [] };
  for (let round = 0; round < rounds; round++) {
    for (const side of round % 2 === 0 ? ['plain', 'hardened'] : ['hardened', 'plain']) {
      const out = execFileSync(process.execPath, ['--import', 'tsx', self, `child-${side}`, '--ops', String(ops)], { encoding: 'utf8' });
      results[side].push(Number(out));
    }
  }
  const plain = median(results.plain);
  const hardened = median(results.hardened);
  console.log(`write pipeline (decode, strategic merge, validate, copy, encode), median of ${rounds} rounds x ${ops} ops:`);
  console.log(`  not frozen ${plain.toFixed(1)} µs/op, frozen ${hardened.toFixed(1)} µs/op (${(((hardened / plain) - 1) * 100).toFixed(1)}%)`);

  const n = flag('containers', 20000);
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: Array.from({ length: n }, (_, i) => ({ name: `c${i}`, image: 'nginx' })) } } as KubeObject;
  const timed = (label: string, patchBody: unknown) => {
    const start = performance.now();
    applyStrategicMergePatch(pod, patchBody, schema);
    console.log(`  ${label}: ${(performance.now() - start).toFixed(0)} ms`);
  };
  console.log(`strategic merge patch over ${n} containers:`);
  timed('merge every container', { spec: { containers: Array.from({ length: n }, (_, i) => ({ name: `c${i}`, image: 'nginx:2' })) } });
  timed('$setElementOrder reversing the list', { spec: { '$setElementOrder/containers': Array.from({ length: n }, (_, i) => ({ name: `c${n - 1 - i}` })), containers: [{ name: 'c5', image: 'x' }] } });
}
