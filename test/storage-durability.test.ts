// A write acknowledged by the LevelDB backend survives the process being SIGKILLed mid-stream,
// and revisions keep increasing after the restart.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LevelDbStorage } from '../storage/leveldb.ts';

const writerScript = fileURLToPath(new URL('./fixtures/storage-writer.ts', import.meta.url));

/** Runs the writer until it has acknowledged `count` creates, then SIGKILLs it; returns key → revision. */
async function writeThenKill(dataDir: string, prefix: string, count: number): Promise<Map<string, number>> {
  const child = spawn(process.execPath, ['--import', 'tsx', writerScript, dataDir, prefix], { stdio: ['ignore', 'pipe', 'pipe'] });
  const acknowledged = new Map<string, number>();
  let buffered = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        const [key, revision] = line.split(' ');
        acknowledged.set(key, Number(revision));
      }
      if (acknowledged.size >= count) {
        child.kill('SIGKILL');
        resolve();
      }
    });
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`writer exited early (${code}): ${stderr}`));
    });
  });
  await exited;
  // Lines still in the pipe when the process died were acknowledged too.
  for (const line of buffered.split('\n')) {
    const [key, revision] = line.split(' ');
    if (key && revision) acknowledged.set(key, Number(revision));
  }
  return acknowledged;
}

test('every acknowledged create survives SIGKILL and revisions continue', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kubefacade-durability-'));
  try {
    const firstRun = await writeThenKill(dataDir, 'first', 300);
    const secondRun = await writeThenKill(dataDir, 'second', 100);
    const storage = await LevelDbStorage.open(dataDir);
    try {
      const highest = Math.max(...firstRun.values(), ...secondRun.values());
      assert.ok(Math.min(...secondRun.values()) > Math.max(...firstRun.values()));
      for (const [key, revision] of [...firstRun, ...secondRun]) {
        const stored = await storage.get(key);
        assert.ok(stored, `acknowledged ${key} is missing`);
        assert.equal(Number(stored.metadata.resourceVersion), revision);
      }
      const current = await storage.currentRevision();
      assert.ok(current >= highest);
      const listed = await storage.list('/registry/pods/durable/');
      assert.equal(listed.items.length, await storage.count('/registry/pods/durable/'));
      assert.ok(listed.items.length >= firstRun.size + secondRun.size);
      const next = await storage.create('/registry/pods/durable/after', { metadata: { name: 'after' } });
      assert.equal(Number(next.metadata.resourceVersion), current + 1);
      assert.ok(Number(next.metadata.resourceVersion) > highest);
    } finally {
      await storage.close();
    }
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});
