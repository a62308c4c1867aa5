// The published package, as a user gets it: `npm pack` of the dist/ that `npm ci` built through `prepare`
// (packed with --ignore-scripts: a rebuild here would rewrite dist/ under the suites running beside this
// one that import it, such as the examples; a checkout never built is built first), the tarball installed into an empty folder, `npx kubefacade up` and kubectl against it, and the library
// imported from a plain .mjs file. The dependencies come from the local npm cache where it has them
// (--prefer-offline), pinned to this repository's lock file.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const NPM = 'npm';

interface LockEntry { dev?: boolean; link?: boolean; [field: string]: unknown }

let dir: string;
let project: string;
let tarball: string;

/** A lock file for a project depending on the tarball: this repository's runtime entries, so the versions tested here are installed. */
function consumerLock(tarballPath: string): object {
  const lock = JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as Record<string, unknown>;
  const packages: Record<string, unknown> = {
    '': { name: 'consumer', dependencies: { kubefacade: `file:${tarballPath}` } },
    'node_modules/kubefacade': {
      version: pkg.version, resolved: `file:${tarballPath}`, license: pkg.license, dependencies: pkg.dependencies, bin: pkg.bin, engines: pkg.engines,
    },
  };
  for (const [path, entry] of Object.entries(lock.packages)) if (path && !entry.dev && !entry.link) packages[path] = entry;
  return { name: 'consumer', lockfileVersion: 3, requires: true, packages };
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kubefacade-package-'));
  if (!existsSync(join(REPO_ROOT, 'dist', 'index.js'))) await run(NPM, ['run', 'build'], { cwd: REPO_ROOT, maxBuffer: 64 * 1024 * 1024 });
  const packed = await run(NPM, ['pack', '--ignore-scripts', '--pack-destination', dir, '--json'], { cwd: REPO_ROOT, maxBuffer: 64 * 1024 * 1024 });
  const [{ filename }] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as { filename: string }[];
  tarball = join(dir, filename);
  project = join(dir, 'project');
  await run('mkdir', [project]);
  await writeFile(join(project, 'package.json'), JSON.stringify({
    name: 'consumer', private: true, type: 'module', dependencies: { kubefacade: `file:${tarball}` },
    // The user's decision; declared so the install prints no install-scripts warning (prebuilt binaries need no build).
    allowScripts: { 'classic-level': false, protobufjs: false },
  }, null, 2));
  await writeFile(join(project, 'package-lock.json'), JSON.stringify(consumerLock(tarball), null, 2));
  const installed = await run(NPM, ['ci', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: project, maxBuffer: 64 * 1024 * 1024 });
  assert.doesNotMatch(installed.stderr, /npm warn/i, installed.stderr);
});

after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('the tarball holds the built code, declarations, OpenAPI documents and protobuf descriptors, not the sources', async () => {
  const { stdout } = await run('tar', ['-tzf', tarball], { maxBuffer: 16 * 1024 * 1024 });
  const files = stdout.split('\n').filter(Boolean).map((file) => file.replace(/^package\//, ''));
  for (const file of ['package.json', 'README.md', 'bin/kubefacade.js', 'dist/cli.js', 'dist/index.js', 'dist/index.d.ts', 'dist/types/lib/index.d.ts',
    'dist/generated/v2/swagger.json', 'dist/proto/k8s.io/api/core/v1/generated.proto']) {
    assert.ok(files.includes(file), `${file} in the tarball`);
  }
  assert.ok(files.some((file) => file.startsWith('dist/generated/v3/')));
  assert.equal(files.filter((file) => /\.ts$/.test(file) && !file.endsWith('.d.ts')).length, 0, 'no TypeScript sources');
  // Installed without dev dependencies: no TypeScript loader to fall back on.
  assert.equal(existsSync(join(project, 'node_modules', 'tsx')), false);
  assert.equal(existsSync(join(project, 'node_modules', 'kubefacade', 'dist', 'cli.js')), true);
});

test('npx kubefacade up, then kubectl against it', async () => {
  let child: ChildProcess | undefined;
  try {
    // Its own process group: npx runs kubefacade as its child, and the signal must reach both.
    child = spawn('npx', ['--no', 'kubefacade', 'up', '--data-dir', './data', '--port', '0', '--kubelet-port', '0', '--nodes', '2'],
      { cwd: project, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    let log = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`kubefacade up did not come up:\n${log}`)), 120_000);
      child!.stderr!.on('data', (chunk: Buffer) => {
        log += chunk.toString();
        if (log.includes('kubefacade is up')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child!.once('exit', (code) => reject(new Error(`kubefacade up exited with ${code}:\n${log}`)));
    });
    const { stdout } = await run('kubectl', ['--kubeconfig', join(project, 'data', 'admin.kubeconfig'), 'get', 'nodes',
      '-o', 'jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status} {end}'], { timeout: 60_000 });
    assert.equal(stdout.trim(), 'node01=True node02=True');
  } finally {
    if (child?.pid !== undefined && child.exitCode === null) {
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      process.kill(-child.pid, 'SIGINT');
      await exited;
    }
  }
});

test('the library from a plain .mjs file', async () => {
  await writeFile(join(project, 'cluster.mjs'), `
    import { startCluster, KubefacadeOptionError } from 'kubefacade';
    import { CoreV1Api } from '@kubernetes/client-node';
    const cluster = await startCluster({ nodes: 2, storage: 'memory' });
    const core = cluster.kubeconfig.makeApiClient(CoreV1Api);
    const nodes = (await core.listNode()).items.map((node) => node.metadata.name);
    await core.createNamespacedPod({ namespace: 'default', body: { metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } });
    await cluster.reset();
    const pods = (await core.listNamespacedPod({ namespace: 'default' })).items.length;
    await cluster.stop();
    let typed = false;
    try { await startCluster({ nodes: -1 }); } catch (error) { typed = error instanceof KubefacadeOptionError && error.option === 'nodes'; }
    console.log(JSON.stringify({ nodes, pods, typed }));
  `);
  const { stdout } = await run(process.execPath, ['cluster.mjs'], { cwd: project, timeout: 120_000 });
  assert.deepEqual(JSON.parse(stdout), { nodes: ['node01', 'node02'], pods: 0, typed: true });
  // stop() removed the temporary data dir it made; nothing else was written into the project.
  assert.deepEqual((await readdir(project)).filter((entry) => !['node_modules', 'package.json', 'package-lock.json', 'cluster.mjs', 'data'].includes(entry)), []);
});
