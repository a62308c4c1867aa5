// Debian's Python (python3-kubernetes) and Ruby (ruby-kubeclient) clients against `up`'s cluster,
// written as their users write them (test/clients/*): list, create, watch until Running, strategic
// and JSON patch, logs with follow, events by field selector, delete and wait. A missing
// interpreter or library fails the suite (`.ci/run` installs both).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCluster, type RunningCluster } from '../server/up.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const STEPS = ['list', 'create', 'watch-running', 'patch', 'logs-follow', 'events-field-selector', 'delete-and-wait'];
// Debian's packages install for the system interpreter; a python3 earlier on PATH (pyenv) would not see them.
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

function requireLibrary(command: string, args: string[], what: string): void {
  const probe = spawnSync(command, args, { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new Error(`${what} is required (Debian: apt-get install python3-kubernetes ruby-kubeclient): ${probe.error?.message ?? probe.stderr}`);
  }
}

function runSuite(command: string, script: string, kubeconfig: string, namespace: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, reject) => {
    const child = spawn(command, [script], { env: { ...process.env, KUBECONFIG: kubeconfig, SUITE_NAMESPACE: namespace } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

describe('Python and Ruby clients', () => {
  let dir: string;
  let cluster: RunningCluster;
  before(async () => {
    requireLibrary(PYTHON, ['-c', 'import kubernetes'], 'python3-kubernetes');
    requireLibrary('ruby', ['-e', 'require "kubeclient"'], 'ruby-kubeclient');
    dir = await mkdtemp(join(tmpdir(), 'kubefacade-clients-'));
    cluster = await startCluster({
      dataDir: dir, bind: '127.0.0.1', port: 0, tlsSans: [], nodes: 1, nodeCpu: '4', nodeMemory: '8Gi', nodePods: 110,
      imagePullDelayMs: 100, kubeletPort: 0, nodeMonitorGracePeriodSeconds: 40, quiet: true,
    });
  });
  after(async () => {
    await cluster?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  for (const [name, command, script] of [
    ['python3-kubernetes', PYTHON, resolve(HERE, 'clients', 'python_suite.py')],
    ['ruby-kubeclient', 'ruby', resolve(HERE, 'clients', 'ruby_suite.rb')],
  ] as const) {
    test(`${name}: list, create, watch until Running, patches, logs -f, events by field selector, delete and wait`, async () => {
      const result = await runSuite(command, script, cluster.apiServer.adminKubeconfigPath, `${name.split('-')[0]}-suite`);
      assert.equal(result.code, 0, `${name} failed\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`);
      assert.deepEqual(result.stdout.trim().split('\n').map((line) => line.replace(/^ok /, '')), STEPS);
    });
  }
});
