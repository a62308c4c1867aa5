// Builds the publishable package into dist/ (run by `npm run build`, and by `prepare` so `npm ci` and
// `npm pack` build it): esbuild bundles the CLI, the library and the bench workers as ES modules
// sharing chunks; tsc writes the type declarations; the generated OpenAPI documents and the
// protobuf descriptors, read from disk at run time beside the code that reads them, are copied next
// to the chunks. Dependencies the package's users share (client-node, whose KubeConfig they pass
// around) or that load native or generated code (classic-level, memory-level, etcd3's gRPC) stay
// external; the rest is bundled, which measured a quarter less CPU to start than tsc's one file
// per module (bench/README.md, "Start time").

import { execFileSync } from 'node:child_process';
import { cpSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
const at = (...parts) => path.join(root, ...parts);

// Native addons (@node-rs/crc32) and the browser driver only the benchmarks use stay external too.
export const EXTERNAL = ['@kubernetes/client-node', 'classic-level', 'memory-level', 'abstract-level', 'etcd3', '@node-rs/crc32', 'playwright-core'];

rmSync(dist, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: {
    cli: 'server/cli.ts',
    index: 'lib/index.ts',
    'load-worker': 'bench/load-worker.ts',
    'watch-worker': 'bench/watch-worker.ts',
  },
  outdir: dist,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: EXTERNAL,
  chunkNames: '[name]-[hash]',
  // Bundled CommonJS dependencies call require() for Node's modules.
  banner: { js: "import { createRequire as __kubefacadeCreateRequire } from 'node:module'; const require = __kubefacadeCreateRequire(import.meta.url);" },
  logLevel: 'warning',
  legalComments: 'linked',
});
// Every entry and chunk is at dist/, so code reading files relative to import.meta.url finds them here.
cpSync(at('api', 'openapi', 'generated'), path.join(dist, 'generated'), { recursive: true });
cpSync(at('server', 'protobuf', 'proto'), path.join(dist, 'proto'), { recursive: true });
// The web view's built page (npm run build:ui runs first): served from dist/ui by the packaged server.
cpSync(at('ui', 'dist'), path.join(dist, 'ui'), { recursive: true });
execFileSync(process.execPath, [at('node_modules', 'typescript', 'bin', 'tsc'), '-p', at('tsconfig.build.json')], { stdio: 'inherit' });
// The declarations' entry point.
writeFileSync(path.join(dist, 'index.d.ts'), "export * from './types/lib/index.ts';\n");
