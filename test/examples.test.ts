// The example suites in examples/ run as a user would run them, against the built package (`kubefacade`
// resolves to dist/ through the package's own exports): node:test, vitest 3, jest 30 and supertest.

import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify, stripVTControlCharacters } from 'node:util';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const bin = (name: string) => join(ROOT, 'node_modules', name);

before(async () => {
  // `npm ci` builds dist/ (prepare); a checkout that was never built is built here.
  if (!existsSync(join(ROOT, 'dist', 'index.js'))) await run(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT });
});

async function suite(args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  // A child `node --test` that inherits this runner's NODE_TEST_CONTEXT takes itself for a nested run and runs nothing.
  // CI may force colours (FORCE_COLOR); the summaries are matched as plain text, so colours are turned off and any left are stripped.
  const { NODE_TEST_CONTEXT: _nested, FORCE_COLOR: _forced, ...inherited } = process.env;
  try {
    const { stdout, stderr } = await run(process.execPath, args, { cwd: ROOT, env: { ...inherited, NO_COLOR: '1', ...env }, timeout: 180_000, maxBuffer: 16 * 1024 * 1024 });
    return stripVTControlCharacters(stdout + stderr);
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string };
    assert.fail(`${args.join(' ')} failed:\n${failed.stdout ?? ''}${failed.stderr ?? ''}`);
  }
}

test('node:test example', async () => {
  const output = await suite(['--test', 'examples/node-test/']);
  assert.match(output, /# pass 2\n# fail 0/);
});

test('supertest example against createApp', async () => {
  const output = await suite(['--test', 'examples/supertest/']);
  assert.match(output, /# pass 3\n# fail 0/);
});

test('vitest example', async () => {
  const output = await suite([bin('vitest/vitest.mjs'), 'run', '--root', 'examples/vitest']);
  assert.match(output, /Tests\s+2 passed \(2\)/);
});

test('jest example', async () => {
  const output = await suite(['--experimental-vm-modules', bin('jest/bin/jest.js'), '--rootDir', 'examples/jest', '--ci'], { NODE_NO_WARNINGS: '1' });
  assert.match(output, /Tests:\s+1 passed, 1 total/);
});
